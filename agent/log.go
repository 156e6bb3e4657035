package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// parseLevel maps log_level to a slog level.
func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level: %q is not debug, info, warn or error", s)
}

// newTextLogger logs to w (stderr for interactive commands).
func newTextLogger(w io.Writer, level string) *slog.Logger {
	lv, _ := parseLevel(level)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv}))
}

// systemLogger is the part of kardianos/service's Logger the agent uses:
// syslog/journal on Unix, the Event Log on Windows.
type systemLogger interface {
	Error(v ...interface{}) error
	Warning(v ...interface{}) error
	Info(v ...interface{}) error
}

// sysHandler is a slog.Handler writing "msg key=value ..." lines to the
// system logger.
type sysHandler struct {
	mu    *sync.Mutex
	out   systemLogger
	level slog.Level
	attrs string
}

func newSystemLogger(out systemLogger, level string) *slog.Logger {
	lv, _ := parseLevel(level)
	return slog.New(&sysHandler{mu: &sync.Mutex{}, out: out, level: lv})
}

func (h *sysHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *sysHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	b.WriteString(h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		writeAttr(&b, a)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case r.Level >= slog.LevelError:
		return h.out.Error(b.String())
	case r.Level >= slog.LevelWarn:
		return h.out.Warning(b.String())
	}
	return h.out.Info(b.String())
}

func writeAttr(b *strings.Builder, a slog.Attr) {
	v := a.Value.Resolve().String()
	if strings.ContainsAny(v, " \t\n\"=") {
		v = fmt.Sprintf("%q", v)
	}
	b.WriteString(" " + a.Key + "=" + v)
}

func (h *sysHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		writeAttr(&b, a)
	}
	return &sysHandler{mu: h.mu, out: h.out, level: h.level, attrs: b.String()}
}

func (h *sysHandler) WithGroup(string) slog.Handler { return h }

package agent

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/kardianos/service"
)

// The service definitions, one source for `install` (kardianos/service's
// custom templates), `service-file` and the installers' packages.
var (
	//go:embed service/eolwatch-agent.service
	systemdUnit string
	//go:embed service/com.eolwatch.agent.plist
	launchdPlist string
)

// Service identity.
const (
	ServiceName        = "eolwatch-agent"
	launchdLabel       = "com.eolwatch.agent"
	serviceDisplayName = "eolwatch agent"
	serviceDescription = "eolwatch agent: inventories installed software and reports it to the eolwatch server"
)

// DefaultBinaryPath is where packages install the agent on Linux and macOS.
const DefaultBinaryPath = "/usr/bin/eolwatch-agent"

// serviceConfig describes the OS service; configPath, when set, is passed to
// `run` as --config.
func serviceConfig(configPath string) *service.Config {
	args := []string{"run"}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	name := ServiceName
	if isDarwin {
		name = launchdLabel
	}
	return &service.Config{
		Name:        name,
		DisplayName: serviceDisplayName,
		Description: serviceDescription,
		Arguments:   args,
		Option: service.KeyValue{
			"SystemdScript":          systemdUnit,
			"LaunchdConfig":          launchdPlist,
			"Restart":                "on-failure",
			"KeepAlive":              true,
			"RunAtLoad":              true,
			"StartType":              "automatic",
			"DelayedAutoStart":       true,
			"OnFailure":              "restart",
			"OnFailureDelayDuration": "10s",
			"OnFailureResetPeriod":   3600,
		},
	}
}

// ServiceFile renders the systemd unit or launchd plist for a binary at
// path run with args, exactly as `install` writes it.
func ServiceFile(kind, path string, args []string) (string, error) {
	data := map[string]string{"Description": serviceDescription, "Path": path, "Name": ServiceName}
	var tmpl string
	funcs := map[string]func(string) string{
		"cmd":       func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` },
		"cmdEscape": func(s string) string { return strings.ReplaceAll(s, " ", `\x20`) },
		"html":      xmlEscaper.Replace,
	}
	switch kind {
	case "systemd":
		tmpl = systemdUnit
	case "launchd":
		tmpl = launchdPlist
		data["Name"] = launchdLabel
	default:
		return "", fmt.Errorf("service-file: %q is not systemd or launchd", kind)
	}
	var err error
	out := rangeArgs.ReplaceAllStringFunc(tmpl, func(m string) string {
		body := rangeArgs.FindStringSubmatch(m)[1]
		var b strings.Builder
		for _, a := range args {
			b.WriteString(substitute(body, map[string]string{".": a}, funcs, &err))
		}
		return b.String()
	})
	out = substitute(out, data, funcs, &err)
	return out, err
}

var (
	rangeArgs   = regexp.MustCompile(`(?s)\{\{range Arguments\}\}(.*?)\{\{end\}\}`)
	placeholder = regexp.MustCompile(`\{\{\s*([.\w]+)\s*(?:\|\s*(\w+)\s*)?\}\}`)
	xmlEscaper  = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
)

// substitute fills {{Key}} and {{Key | fn}} placeholders.
func substitute(s string, data map[string]string, funcs map[string]func(string) string, errp *error) string {
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		g := placeholder.FindStringSubmatch(m)
		v, ok := data[g[1]]
		if !ok {
			*errp = fmt.Errorf("service-file: unknown template key %q", g[1])
			return m
		}
		if g[2] != "" {
			f, ok := funcs[g[2]]
			if !ok {
				*errp = fmt.Errorf("service-file: unknown template function %q", g[2])
				return m
			}
			v = f(v)
		}
		return v
	})
}

// program adapts the agent to kardianos/service.
type program struct {
	run    func(ctx context.Context) error
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

func (p *program) Start(s service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		err := p.run(ctx)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			// Exit non-zero so the service manager restarts us.
			if l, lerr := s.Logger(nil); lerr == nil {
				l.Error("eolwatch-agent: " + err.Error())
			}
			os.Exit(1)
		}
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	if p.cancel == nil {
		return nil
	}
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
	}
	return nil
}

// chooseSystem selects a kardianos service system by name (for instance
// linux-systemd) instead of the detected one.
func chooseSystem(name string) error {
	if name == "" {
		return nil
	}
	var names []string
	for _, s := range service.AvailableSystems() {
		if s.String() == name {
			service.ChooseSystem(forcedSystem{s})
			return nil
		}
		names = append(names, s.String())
	}
	return fmt.Errorf("--init: %q is not one of %s", name, strings.Join(names, ", "))
}

// forcedSystem is a service system chosen by name, used even when its
// detection says otherwise (a container without a running systemd).
type forcedSystem struct{ service.System }

func (forcedSystem) Detect() bool { return true }

// controlService runs install, uninstall, start, stop, restart or status.
func controlService(action, configPath, initSystem string, stdout io.Writer) error {
	if err := chooseSystem(initSystem); err != nil {
		return err
	}
	s, err := service.New(&program{}, serviceConfig(configPath))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if action == "status" {
		st, err := s.Status()
		switch {
		case errors.Is(err, service.ErrNotInstalled):
			fmt.Fprintln(stdout, "not installed")
			return err
		case err != nil:
			fmt.Fprintln(stdout, "unknown")
			return fmt.Errorf("status (%s; is the service installed?): %w", s.Platform(), err)
		case st == service.StatusRunning:
			fmt.Fprintln(stdout, "running")
		case st == service.StatusStopped:
			fmt.Fprintln(stdout, "stopped")
			return errors.New("service is stopped")
		default:
			fmt.Fprintln(stdout, "unknown")
		}
		return nil
	}
	if err := service.Control(s, action); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s done (%s)\n", ServiceName, action, s.Platform())
	return nil
}

// runService runs the agent under the service manager (or in the
// foreground when started from a terminal), logging to the system logger
// when not interactive.
func runService(ctx context.Context, cfg Config, configPath string, stderr io.Writer) error {
	if service.Interactive() {
		a, err := New(cfg, newTextLogger(stderr, cfg.LogLevel))
		if err != nil {
			return err
		}
		return a.Run(ctx)
	}
	p := &program{}
	s, err := service.New(p, serviceConfig(configPath))
	if err != nil {
		return err
	}
	log := newTextLogger(stderr, cfg.LogLevel)
	if sl, err := s.SystemLogger(nil); err == nil {
		log = newSystemLogger(sl, cfg.LogLevel)
	}
	a, err := New(cfg, log)
	if err != nil {
		return err
	}
	p.run = a.Run
	if err := s.Run(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

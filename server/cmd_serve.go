package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web"
)

func init() {
	register("serve", "run the server (API, ingestion, notifier, dashboard)", func(ctx context.Context, args []string, io Stdio) error {
		cfg, err := ParseServeConfig(args, os.Getenv, io.Err)
		if err != nil {
			return err
		}
		return Run(ctx, cfg, io.Err)
	})
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// loadCatalog returns the embedded default catalog with the extra files merged over it.
func loadCatalog(files []string) (*catalog.Catalog, error) {
	base, err := catalog.Default()
	if err != nil {
		return nil, fmt.Errorf("default catalog: %w", err)
	}
	if len(files) == 0 {
		return base, nil
	}
	extra, err := catalog.LoadFiles(files...)
	if err != nil {
		return nil, fmt.Errorf("catalog files: %w", err)
	}
	return catalog.Merge(base, extra), nil
}

// Run runs the server until ctx ends, then shuts down gracefully: in-flight
// requests (reports being stored) finish before the database closes.
func Run(ctx context.Context, cfg Config, logOut io.Writer) error {
	log := newLogger(cfg, logOut).With("component", "server")
	st, err := store.Open(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = scheme + "://" + ln.Addr().String()
	}
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		return fmt.Errorf("notifier tables: %w", err)
	}
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		return fmt.Errorf("catalog tables: %w", err)
	}
	var s *Server
	var nt *notifier.Service
	var feeds []string
	if cfg.CatalogFeed != "" {
		feeds = []string{cfg.CatalogFeed}
	}
	cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Files: cfg.Catalogs, FeedURLs: feeds,
		Logger: newLogger(cfg, logOut),
		OnChange: func(old, new *catalog.Catalog) {
			if s != nil {
				s.engine() // new engine; schedules the fleet re-evaluation
			}
			if nt != nil {
				nt.Kick()
			}
		}})
	if err != nil {
		return err
	}
	ncfg := notifier.Config{SMTPAddr: cfg.SMTPAddr, SMTPFrom: cfg.SMTPFrom, SMTPTLS: cfg.SMTPTLS, SMTPUsername: cfg.SMTPUsername,
		SMTPPassword: cfg.SMTPPassword, PublicURL: cfg.PublicURL, Catalog: cats.Current, Fleet: st,
		Logger: newLogger(cfg, logOut)}
	if nt, err = notifier.New(ctx, st.DB(), st.Reader(), ncfg); err != nil {
		return err
	}
	s = newServer(options{cfg: cfg, st: st, catalogs: cats, publish: cats.Publish, notifier: nt, log: log})
	s.engine()
	sessionKey, err := loadOrCreateKey(filepath.Join(cfg.DataDir, "session.key"))
	if err != nil {
		return err
	}
	backend := &web.Backend{Store: st, Catalog: cats.Current, Notifier: nt, Eligibility: s.checkEligibility,
		EnrollSecretSet: cfg.EnrollSecret != "", Documents: cats.Documents, Published: cats.Published,
		Publish: func(ctx context.Context, product, cycle, version string, date time.Time, link string) error {
			_, err := cats.Publish(ctx, catalogsvc.Release{Product: product, Cycle: cycle, Version: version,
				Date: date.Format(time.DateOnly), Link: link, By: "dashboard"})
			return err
		}}
	s.ui = web.New(web.Config{Auth: backend, Fleet: backend, Checker: backend, Notifications: backend, Settings: backend,
		SessionKey: sessionKey, SecureCookies: cfg.TLSCert != "", Logger: newLogger(cfg, logOut).With("component", "web")})
	hs := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { s.background(bg) })
	wg.Go(func() {
		if err := nt.Run(bg); err != nil {
			log.Error("notifier stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := cats.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("catalog service stopped", "err", err)
		}
	})
	serveErr := make(chan error, 1)
	go func() {
		if hs.TLSConfig != nil {
			serveErr <- hs.ServeTLS(ln, "", "")
		} else {
			serveErr <- hs.Serve(ln)
		}
	}()
	s.ready.Store(true)
	log.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(), "data_dir", cfg.DataDir,
		"catalog", s.engine().version, "enrollment", s.enrollSet, "smtp", cfg.SMTPAddr != "")
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve: %w", err)
		}
	}
	s.ready.Store(false)
	log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return runErr
}

// loadOrCreateKey returns the 32-byte key kept in path, creating it (mode
// 0600) on first use, so dashboard sessions survive a restart.
func loadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return b, nil
}

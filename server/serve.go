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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web"
	"github.com/eolwatch/eolwatch/server/webdata"
)

// Run runs the server until ctx ends, then shuts down gracefully: in-flight
// requests (reports being stored) finish before the database closes.
//
// It opens the database, listens, assembles the parts (catalog service,
// notifier, domain service, HTTP surface, dashboard), runs their background
// work and serves until ctx ends.
func Run(ctx context.Context, cfg Config, logOut io.Writer) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := newLogger(cfg, logOut)
	st, err := store.OpenDatabase(ctx, cfg.Database, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.scheme() + "://" + ln.Addr().String()
	}
	p, err := assemble(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	hs, err := newHTTPServer(ctx, cfg, p.srv)
	if err != nil {
		return err
	}
	return p.serve(ctx, hs, ln)
}

// newLogger returns the process's one logger, in the configured format and
// level; each part adds its own "component" attribute.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	lvl, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parts are the server's assembled components.
type parts struct {
	cfg  Config
	cats *catalogsvc.Service
	nt   *notifier.Service
	svc  *service.Service
	srv  *Server
}

// assemble builds the parts on an open store. The catalog service's change
// signal goes to the domain service (new engine, fleet re-evaluation,
// notifier woken) and nowhere else.
func assemble(ctx context.Context, cfg Config, st *store.Store, log *slog.Logger) (*parts, error) {
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		return nil, fmt.Errorf("notifier tables: %w", err)
	}
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		return nil, fmt.Errorf("catalog tables: %w", err)
	}
	p := &parts{cfg: cfg}
	// Several servers on one PostgreSQL database: scheduled work runs on
	// one at a time, under leases (internal/jobs). One server on SQLite
	// runs it all itself, as it always did.
	var (
		instance = instanceName()
		runner   jobs.Runner // nil: this server runs its scheduled work itself
		limits   = ratelimit.InMemory
	)
	if cfg.Database != "" {
		if err := jobs.Migrate(ctx, st.DB()); err != nil {
			return nil, fmt.Errorf("job tables: %w", err)
		}
		runner = jobs.New(st.DB(), instance, 0, log)
		// Rate limits count across servers: a guesser spread over them
		// gets one budget.
		if err := ratelimit.Migrate(ctx, st.DB()); err != nil {
			return nil, fmt.Errorf("rate limit tables: %w", err)
		}
		limits = ratelimit.InDatabase(st.DB())
	}
	// The feed sync is the job "catalog-feeds": at start-up, then every
	// --catalog-feed-interval, under catJobs' lease when servers share a
	// database. Turned off, the last snapshot synced stays in force.
	var feeds []string
	if cfg.CatalogFeed != "" && cfg.CatalogFeedSync {
		feeds = []string{cfg.CatalogFeed}
	}
	var err error
	p.cats, err = catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Files: cfg.Catalogs, FeedURLs: feeds,
		FeedInterval: cfg.CatalogFeedInterval, Logger: log, Jobs: runner, OnChange: func(_, _ *catalog.Catalog) { p.catalogChanged() }})
	if err != nil {
		return nil, err
	}
	p.nt, err = notifier.New(ctx, st.DB(), st.Reader(), notifierHTTP(cfg, notifier.Config{SMTPAddr: cfg.SMTPAddr, SMTPFrom: cfg.SMTPFrom,
		SMTPTLS: cfg.SMTPTLS, SMTPUsername: cfg.SMTPUsername, SMTPPassword: cfg.SMTPPassword, PublicURL: cfg.PublicURL,
		Catalog: p.cats.Current, Fleet: st, SMTPTimeout: cfg.SMTPTimeout, LeaseDuration: cfg.OutboxLease,
		Jobs: runner, Limits: limits, InstanceID: instance, Logger: log}))
	if err != nil {
		return nil, err
	}
	m := newMetrics(st, p.cats.Current)
	leads, err := claimJudging(ctx, st, judgingKey(p.cats.BaseVersion(), cfg.Policy()), time.Now, log)
	if err != nil {
		return nil, err
	}
	p.svc, err = service.New(service.Config{Store: st, Customers: st, Mailer: p.nt, AdminEmails: cfg.AdminEmails, Catalog: p.cats.Current, Policy: cfg.Policy(), Notify: p.nt.Kick,
		ObserveReEval: func(d time.Duration) { m.reevalSeconds.Observe(d.Seconds()) }, Jobs: runner, Refresh: p.cats.Refresh, Leads: leads, Logger: log})
	if err != nil {
		return nil, err
	}
	p.srv = newServer(options{cfg: cfg, st: st, limits: limits, svc: p.svc, publish: p.cats.Publish, notifier: p.nt, metrics: m, log: log})
	sessionKey, err := sessionKey(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	backend := &webdata.Backend{Store: st, Catalog: p.cats.Current, Notifier: p.nt, Domain: p.svc,
		EnrollSecretSet: cfg.EnrollSecret != "", Documents: p.cats.Documents, Published: p.cats.Published,
		Publish: func(ctx context.Context, product, cycle, version string, date time.Time, link string) error {
			_, err := p.cats.Publish(ctx, catalogsvc.Release{Product: product, Cycle: cycle, Version: version,
				Date: date.Format(time.DateOnly), Link: link, By: "dashboard"})
			return err
		}}
	p.srv.ui = web.New(web.Config{Auth: backend, Fleet: backend, CustomerFleet: backend.ForCustomer, Checker: backend, Customers: backend, Notifications: backend, Settings: backend,
		Sessions: backend, Hosts: backend, CatalogDate: backend.CatalogDate,
		SessionKey: sessionKey, SecureCookies: cfg.TLSCert != "" || cfg.httpsPublic(), Scheme: p.srv.proxies.scheme, Logger: log})
	return p, nil
}

// catalogChanged is the catalog service's change signal. The domain
// service does not exist yet while the catalog service starts.
func (p *parts) catalogChanged() {
	if p.svc != nil {
		p.svc.CatalogChanged()
	}
}

// newHTTPServer returns the HTTP(S) server for the handler, with timeouts
// and, when configured, TLS.
func newHTTPServer(ctx context.Context, cfg Config, s *Server) (*http.Server, error) {
	hs := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		hs.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return hs, nil
}

// serve runs the background work (fleet re-evaluation, notifier, catalog
// feeds and milestones) and the HTTP server until ctx ends or serving
// fails, then shuts down: requests in flight first, background work next.
func (p *parts) serve(ctx context.Context, hs *http.Server, ln net.Listener) error {
	log := p.srv.log
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { p.svc.Run(bg) })
	wg.Go(func() {
		if err := p.nt.Run(bg); err != nil {
			log.Error("notifier stopped", "err", err)
		}
	})
	wg.Go(func() {
		if err := p.cats.Run(bg); err != nil && !errors.Is(err, context.Canceled) {
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
	p.srv.ready.Store(true)
	where := []any{"data_dir", p.cfg.DataDir}
	if p.cfg.Database != "" {
		where = []any{"database", sqldb.Redact(p.cfg.Database)}
	}
	attrs := append([]any{"addr", ln.Addr().String(), "url", p.cfg.scheme() + "://" + ln.Addr().String()}, where...)
	log.Info("listening", append(attrs, "catalog", p.svc.CatalogVersion(), "enrollment", p.srv.enrollSet, "smtp", p.cfg.SMTPAddr != "")...)
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve: %w", err)
		}
	}
	p.srv.ready.Store(false)
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

// instanceName names this server process in job leases and outbox claims:
// host name, process id and a random suffix.
func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// The dashboard's session key: with SQLite, the file SessionKeyFile in the
// data directory; with PostgreSQL, the shared key SessionKeyName in the
// database (store.Store.SharedKey).
const (
	SessionKeyFile = "session.key"
	SessionKeyName = "session_key"
)

// metaFleetJudging is the store's meta key naming the judging settings
// (judgingKey) of the server started last: the fleet is re-evaluated with
// those (service.Config.Leads).
const metaFleetJudging = "fleet_judging"

// metaFleetJudgingSeen is when a server with the leading settings last
// checked that it leads (RFC 3339).
const metaFleetJudgingSeen = "fleet_judging_seen"

// judgingKey names what a server judges with beyond the shared database:
// its own catalog (build and --catalog files) and its policy.
func judgingKey(baseCatalog string, p catalog.Policy) string {
	keys := make([]string, 0, len(p.ExtendedSupportFor))
	for k, v := range p.ExtendedSupportFor {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return fmt.Sprintf("catalog %s, policy warn %d grace %d extended %q %s", baseCatalog, p.WarnDays, p.GraceDays, p.ExtendedSupport,
		strings.Join(keys, ","))
}

// claimJudging records at start that the fleet is from now on re-evaluated
// with this server's judging settings, and returns the service's Leads:
// whether they are still the ones recorded. Servers that differ (during a
// rolling upgrade, or one with a --catalog file the others lack) then do
// not re-evaluate the whole fleet back and forth; the one started last
// leads. A leading server notes the time whenever it is asked; when no
// server with the leading settings was heard of for judgingTimeout (they
// were stopped, or died), the next server asked takes the lead with its
// own, so the fleet is never left without re-evaluation.
func claimJudging(ctx context.Context, st *store.Store, key string, now func() time.Time, log *slog.Logger) (func(context.Context) (bool, string, error), error) {
	prev, err := st.GetMeta(ctx, metaFleetJudging)
	if err != nil {
		return nil, fmt.Errorf("fleet judging settings: %w", err)
	}
	claim := func(ctx context.Context) error {
		if err := st.SetMeta(ctx, metaFleetJudging, key); err != nil {
			return fmt.Errorf("fleet judging settings: %w", err)
		}
		if err := st.SetMeta(ctx, metaFleetJudgingSeen, now().UTC().Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("fleet judging settings: %w", err)
		}
		return nil
	}
	if err := claim(ctx); err != nil {
		return nil, err
	}
	if prev != "" && prev != key {
		log.Info("the fleet is now judged with this server's settings", "settings", key, "before", prev)
	}
	return func(ctx context.Context) (bool, string, error) {
		cur, err := st.GetMeta(ctx, metaFleetJudging)
		if err != nil {
			return false, "", err
		}
		if cur == key {
			return true, cur, st.SetMeta(ctx, metaFleetJudgingSeen, now().UTC().Format(time.RFC3339Nano))
		}
		seen, err := st.GetMeta(ctx, metaFleetJudgingSeen)
		if err != nil {
			return false, cur, err
		}
		if at, err := time.Parse(time.RFC3339Nano, seen); err == nil && now().Sub(at) < judgingTimeout {
			return false, cur, nil
		}
		if err := claim(ctx); err != nil {
			return false, cur, err
		}
		log.Warn("no server with the leading judging settings was heard of lately: the fleet is now judged with this server's", "settings", key, "before", cur, "last_seen", seen)
		return true, key, nil
	}, nil
}

// judgingTimeout is how long servers with the leading judging settings may
// go unheard of (they note the time every fleet re-evaluation round, 30 s)
// before another server takes the lead.
const judgingTimeout = 5 * time.Minute

// sessionKey returns the key dashboard session cookies are sealed with:
// kept in the data directory with SQLite, in the database with PostgreSQL
// (every server behind the load balancer opens every other's cookies).
func sessionKey(ctx context.Context, cfg Config, st *store.Store) ([]byte, error) {
	if cfg.Database != "" {
		k, err := st.SharedKey(ctx, SessionKeyName, 32)
		if err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
		return k, nil
	}
	return loadOrCreateKey(filepath.Join(cfg.DataDir, SessionKeyFile))
}

// loadOrCreateKey returns the 32-byte key kept in path, creating it (mode
// 0600) on first use, so dashboard sessions survive a restart. An existing
// key file is made 0600 too (an older version, or a copy, may have left it
// readable).
func loadOrCreateKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	tmp := path + ".new"
	os.Remove(tmp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("session key: %w", err)
	}
	return b, nil
}

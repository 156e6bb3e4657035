package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

// CatalogSource provides the current catalog; the catalog manager swaps it
// when a release is published or a feed syncs. Safe for concurrent use.
type CatalogSource interface {
	Current() *catalog.Catalog
}

// publishFunc publishes one release into the catalog (POST
// /api/v1/catalog/releases); catalogsvc.(*Service).Publish.
type publishFunc func(ctx context.Context, r catalogsvc.Release) (catalogsvc.Published, error)

// fleetStore is what the server needs from its database. store.Store (SQLite)
// implements it; a PostgreSQL backend is another implementation. Methods are
// safe for concurrent use; writes commit before they return.
type fleetStore interface {
	// Agents.
	Enroll(ctx context.Context, h api.HostInfo) (hostID, nodeKey string, err error)
	HostByNodeKey(ctx context.Context, nodeKey string) (store.HostRef, error)
	ReportSeen(ctx context.Context, hostID int64, reportID string) (bool, error)
	ApplyReport(ctx context.Context, in store.ReportInput) (store.ReportResult, error)
	RevokeHost(ctx context.Context, uid string) error
	// People.
	Authenticate(ctx context.Context, token string) (role string, err error)
	ListHosts(ctx context.Context, f store.HostFilter) (api.HostList, error)
	HostDetail(ctx context.Context, ref string) (api.HostDetail, error)
	FindHost(ctx context.Context, ref string) (api.Host, int64, error)
	HostInstalls(ctx context.Context, hostID int64, product string) ([]store.Install, error)
	Products(ctx context.Context) ([]api.FleetProduct, error)
	Compliance(ctx context.Context) (api.Compliance, error)
	EachNonCompliant(ctx context.Context, fn func(store.NonCompliantInstall) error) error
	HostsByStatus(ctx context.Context) (map[string]int, error)
	Unmatched(ctx context.Context, limit int) ([]store.UnmatchedItem, error)
	// Background work.
	FleetState(ctx context.Context) (store.FleetState, error)
	ReEvaluate(ctx context.Context, in store.ReEvalInput) (store.ReEvalResult, error)
	PruneReports(ctx context.Context, cutoff time.Time) (int64, error)
	Optimize(ctx context.Context) error
	Ping(ctx context.Context) error
}

var _ fleetStore = (*store.Store)(nil)

// staticCatalog is a CatalogSource that never changes.
type staticCatalog struct{ c *catalog.Catalog }

func (s staticCatalog) Current() *catalog.Catalog { return s.c }

// httpUI is the dashboard as the server sees it.
type httpUI interface {
	Register(mux *http.ServeMux)
}

// Server is the eolwatch HTTP server and its background work.
type Server struct {
	cfg      Config
	st       fleetStore
	log      *slog.Logger
	catalogs CatalogSource
	publish  publishFunc // nil: publishing is unavailable
	notifier *notifier.Service
	ui       httpUI
	metrics  *metrics
	now      func() time.Time

	enrollHash  [sha256.Size]byte
	enrollSet   bool
	enrollFails *failLimiter // wrong enroll secrets per client address

	eng    atomic.Pointer[engine]
	engMu  sync.Mutex
	reeval chan struct{}
	ready  atomic.Bool
}

// options assembles a Server (tests build one directly).
type options struct {
	cfg      Config
	st       fleetStore
	catalogs CatalogSource
	publish  publishFunc
	notifier *notifier.Service
	ui       httpUI
	log      *slog.Logger
	now      func() time.Time
}

func newServer(o options) *Server {
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	s := &Server{cfg: o.cfg, st: o.st, log: o.log, catalogs: o.catalogs, publish: o.publish, notifier: o.notifier,
		ui: o.ui, now: o.now, reeval: make(chan struct{}, 1), enrollFails: newFailLimiter(20, 10*time.Minute)}
	if o.cfg.EnrollSecret != "" {
		s.enrollHash = sha256.Sum256([]byte(o.cfg.EnrollSecret))
		s.enrollSet = true
	}
	s.metrics = newMetrics(s)
	return s
}

// checkEnrollSecret compares a presented secret with the configured one in
// constant time (both hashed first, so lengths do not leak either).
func (s *Server) checkEnrollSecret(given string) bool {
	if !s.enrollSet {
		return false
	}
	h := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(h[:], s.enrollHash[:]) == 1
}

// engine returns the engine of the current catalog, building a new one
// (and asking for a fleet re-evaluation) when the catalog changed.
func (s *Server) engine() *engine {
	cat := s.catalogs.Current()
	if e := s.eng.Load(); e != nil && e.cat == cat {
		return e
	}
	s.engMu.Lock()
	defer s.engMu.Unlock()
	if e := s.eng.Load(); e != nil && e.cat == cat {
		return e
	}
	e := newEngine(cat, s.cfg.Policy())
	s.eng.Store(e)
	s.log.Info("catalog loaded", "version", e.version, "products", cat.Info().Products)
	s.kickReEval()
	return e
}

// today is the day verdicts are computed for (UTC).
func (s *Server) today() string { return s.now().UTC().Format(time.DateOnly) }

func (s *Server) kickReEval() {
	select {
	case s.reeval <- struct{}{}:
	default:
	}
}

// reEvaluateIfStale re-evaluates the fleet when the catalog or the day
// changed since the last full evaluation.
func (s *Server) reEvaluateIfStale(ctx context.Context) error {
	e := s.engine()
	day := s.today()
	st, err := s.st.FleetState(ctx)
	if err != nil {
		return err
	}
	if st.CatalogVersion == e.version && st.AsOf == day {
		return nil
	}
	start := time.Now()
	in := store.ReEvalInput{CatalogVersion: e.version, AsOf: day,
		Evaluate: func(p, v string) catalog.Verdict { return e.evaluate(p, v, day) }}
	if st.CatalogVersion != e.version {
		in.Match = e.match
	}
	res, err := s.st.ReEvaluate(ctx, in)
	if err != nil {
		return fmt.Errorf("re-evaluate fleet: %w", err)
	}
	s.metrics.reevalSeconds.Observe(time.Since(start).Seconds())
	s.log.Info("fleet re-evaluated", "catalog", e.version, "as_of", day, "pairs", res.Pairs, "rows", res.Rows,
		"events", res.Events, "rematched_hosts", res.RematchHosts, "dur", time.Since(start).Round(time.Millisecond))
	if res.Events > 0 && s.notifier != nil {
		s.notifier.Kick()
	}
	return nil
}

// background runs periodic work until ctx ends: fleet re-evaluation when the
// catalog or the day changes, and pruning of old report ids.
func (s *Server) background(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		if err := s.reEvaluateIfStale(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("re-evaluation failed", "err", err)
		}
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			// Agents retry a report for at most a few days; 14 days of ids is ample.
			if n, err := s.st.PruneReports(ctx, s.now().Add(-14*24*time.Hour)); err != nil {
				s.log.Error("prune reports failed", "err", err)
			} else if n > 0 {
				s.log.Info("pruned old report ids", "n", n)
			}
			if err := s.st.Optimize(ctx); err != nil {
				s.log.Warn("optimize failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.engine() // notices a swapped catalog
		case <-s.reeval:
		}
	}
}

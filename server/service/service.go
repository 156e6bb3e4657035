// Package service is eolwatch's domain: it ingests agent reports (match the
// inventory to catalog products, judge each matched version, store the diff),
// answers the support-eligibility question, and re-evaluates the fleet when
// the catalog or the day changes. The HTTP API, the dashboard and the command
// line all call it; it knows nothing of HTTP or flags.
//
// Storage sits behind the small Store interface declared here (server/store
// implements it on SQLite); the catalog comes from a function, so the caller
// decides where it lives (server/catalogsvc, or a file loaded once).
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// Store is what the domain needs from storage. Methods are safe for
// concurrent use; writes commit before they return. server/store.Store
// implements it; a second database engine implements the same methods.
type Store interface {
	// FindHost finds a host by id or hostname (store.ErrNotFound,
	// store.ErrAmbiguous) and returns its row id.
	FindHost(ctx context.Context, ref string) (api.Host, int64, error)
	// HostInstalls lists a product's versions installed on a host.
	HostInstalls(ctx context.Context, hostID int64, product string) ([]store.Install, error)
	// Candidates lists a host's packages whose candidate is newer than the
	// installed version, with when the server first saw each candidate.
	Candidates(ctx context.Context, hostID int64) ([]store.Candidate, error)
	// ReportSeen reports whether a host already sent a report id.
	ReportSeen(ctx context.Context, hostID int64, reportID string) (bool, error)
	// ApplyReport stores a matched and judged report in one transaction,
	// with the fleet events of the verdicts it changed.
	ApplyReport(ctx context.Context, in store.ReportInput) (store.ReportResult, error)
	// ApplyAsset stores a matched and judged SBOM upload as an asset in one
	// transaction (creating the asset, or replacing its inventory), with the
	// fleet events of the verdicts it changed and a history row.
	ApplyAsset(ctx context.Context, in store.AssetInput) (store.AssetResult, error)
	// FleetState says which catalog and day the stored verdicts are for.
	FleetState(ctx context.Context) (store.FleetState, error)
	// ReEvaluate judges every stored install again (and re-matches the
	// inventory when in.Match is set), with the events of what changed.
	ReEvaluate(ctx context.Context, in store.ReEvalInput) (store.ReEvalResult, error)
	// PruneReports forgets report ids received before cutoff.
	PruneReports(ctx context.Context, cutoff time.Time) (int64, error)
	// PruneSoftware deletes the software rows no host or asset links any
	// more, safely beside ingestion, and says how many.
	PruneSoftware(ctx context.Context) (int64, error)
	// DeleteAsset deletes an asset by id or name (a host is a conflict)
	// with its inventory, verdicts and upload history.
	DeleteAsset(ctx context.Context, ref string) (api.Host, error)
	// Optimize lets the database refresh its statistics.
	Optimize(ctx context.Context) error
	// RejudgeHosts matches and judges the stored inventory of the given
	// hosts again with in's catalog (re-matching their items when in.Match
	// is set), with the events of what changed.
	RejudgeHosts(ctx context.Context, ids []int64, in store.ReEvalInput) error
}

// Config is what a Service is built from.
type Config struct {
	// Store is the fleet database. Nil serves only bare product + version
	// questions (the command line without a database).
	Store Store
	// Catalog returns the catalog in force. Required. When it starts
	// returning another catalog, call CatalogChanged.
	Catalog func() *catalog.Catalog
	// Customers stores customers and their contracts. Nil: customer
	// routes and the ticket check answer fault.Unavailable.
	Customers CustomerStore
	// Mailer queues the contract and risk mail (the notifier). Nil: none
	// is sent.
	Mailer Mailer
	// AdminEmails receive every customer's contract and risk mail, with the
	// customer's contacts.
	AdminEmails []string
	// RiskWeekday and RiskHour (UTC) are when each week's risk digests
	// become due (default Monday, 7).
	RiskWeekday time.Weekday
	RiskHour    int
	// Policy is the support policy (warning window, patch grace period,
	// which extended-support programmes count, globally and per product),
	// applied to every evaluation: ingest, fleet re-evaluation, eligibility.
	Policy catalog.Policy
	// Notify is called after a committed change queued notifier events (a
	// report or a re-evaluation changed verdicts, the catalog changed); the
	// notifier's Kick. Optional.
	Notify func()
	// ObserveReEval receives the duration of each fleet re-evaluation (for
	// metrics). Optional.
	ObserveReEval func(time.Duration)
	// Jobs runs the fleet re-evaluation and the hourly maintenance on one
	// server at a time when several share the database; nil runs them here.
	Jobs jobs.Runner
	// Refresh brings the catalog in force up to date with what the other
	// servers sharing the database changed (catalogsvc.Service.Refresh,
	// which calls CatalogChanged); run before every fleet re-evaluation,
	// so no server re-evaluates with a catalog older than the stored one.
	// Optional.
	Refresh func(ctx context.Context) (bool, error)
	// Leads reports whether this server's judging settings (its catalog
	// files and build's catalog, its policy) are the ones the fleet is
	// re-evaluated with, when servers sharing the database differ in them
	// (a rolling upgrade, a --catalog file or a policy flag on one server
	// only): the server started last with its settings leads (see
	// server's claimJudging). A server that does not lead leaves the fleet
	// re-evaluation to those that do, and says so once per leading
	// setting; otherwise two builds would re-evaluate the whole fleet
	// back and forth, each undoing the other's verdicts and sending their
	// fleet mail. It still judges the reports it receives with its own.
	// Optional (nil: always leads).
	Leads func(ctx context.Context) (lead bool, leader string, err error)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the service's logs (default slog.Default()).
	Logger *slog.Logger
}

// Service is the domain service. Create it with New; call Run to keep the
// fleet's verdicts current. Safe for concurrent use.
type Service struct {
	cfg Config
	st  Store
	log *slog.Logger

	eng    atomic.Pointer[engine]
	engMu  sync.Mutex
	reeval chan struct{}

	// Hosts judged here lately, for when the catalog turns out to have
	// changed (on another server) while they were judged: see rejudge.
	judgedMu sync.Mutex
	judged   map[int64]time.Time // host row id -> when its inventory was last judged here
	pending  map[int64]bool      // hosts to judge again with the new catalog

	// notLeading is the leading settings last warned about (Config.Leads).
	notLeading string
}

// rejudgeWindow is how long after judging a host's inventory this server
// judges it again if its catalog changes: comfortably longer than it
// takes a server to notice another's change (catalogsvc's refresh
// interval) plus a report's transaction.
const rejudgeWindow = 2 * time.Minute

// New returns a service over cfg's store and catalog.
func New(cfg Config) (*Service, error) {
	if cfg.Catalog == nil || cfg.Catalog() == nil {
		return nil, errors.New("service: no catalog")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Notify == nil {
		cfg.Notify = func() {}
	}
	if cfg.RiskWeekday == time.Sunday {
		cfg.RiskWeekday = time.Monday // the zero value; Sunday is not offered
	}
	if cfg.RiskHour <= 0 || cfg.RiskHour > 23 {
		cfg.RiskHour = 7
	}
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "service"), reeval: make(chan struct{}, 1),
		judged: map[int64]time.Time{}, pending: map[int64]bool{}}
	s.CatalogChanged()
	return s, nil
}

// CatalogChanged is the one signal that the catalog changed (a release
// published, a feed synced, a file imported): it builds the new matching
// and evaluation engine, schedules a fleet re-evaluation and wakes the
// notifier for the release events the change queued. Cheap when the
// catalog is the one in force already.
func (s *Service) CatalogChanged() {
	cat := s.cfg.Catalog()
	s.engMu.Lock()
	if e := s.eng.Load(); e != nil && e.cat == cat {
		s.engMu.Unlock()
		return
	}
	e := newEngine(cat, s.cfg.Policy)
	s.eng.Store(e)
	s.engMu.Unlock()
	s.log.Info("catalog loaded", "version", e.version, "products", cat.Info().Products)
	// Inventories judged here in the last moments may have been judged
	// with the old catalog after the new one was stored (by another
	// server) and after the fleet re-evaluation read them: judge them again.
	now := time.Now()
	s.judgedMu.Lock()
	for id, at := range s.judged {
		if now.Sub(at) < rejudgeWindow {
			s.pending[id] = true
		} else {
			delete(s.judged, id)
		}
	}
	s.judgedMu.Unlock()
	s.kickReEval()
	s.cfg.Notify()
}

// engine returns the engine of the catalog in force.
func (s *Service) engine() *engine { return s.eng.Load() }

// Catalog returns the catalog in force.
func (s *Service) Catalog() *catalog.Catalog { return s.engine().cat }

// CatalogVersion returns the version of the catalog in force.
func (s *Service) CatalogVersion() string { return s.engine().version }

// Policy returns the support policy.
func (s *Service) Policy() catalog.Policy { return s.cfg.Policy }

// Today is the day verdicts are computed for (UTC, YYYY-MM-DD).
func (s *Service) Today() string { return s.cfg.Now().UTC().Format(time.DateOnly) }

// Ingest stores an agent's report for the host its node key belongs to: a
// full report's inventory is matched and judged, then the inventory diff,
// the verdicts and the fleet events of changed verdicts are stored in one
// transaction; a check-in only records the host's visit. A report id the
// host already sent is acknowledged as a duplicate without matching
// anything. rep must have passed CheckReport.
func (s *Service) Ingest(ctx context.Context, host store.HostRef, rep api.Report) (store.ReportResult, error) {
	if err := SameHost(host, rep.Host); err != nil {
		return store.ReportResult{}, err
	}
	in := store.ReportInput{Host: host, Report: rep}
	if rep.Kind == api.ReportFull {
		seen, err := s.st.ReportSeen(ctx, host.ID, rep.ReportID)
		if err != nil {
			return store.ReportResult{}, err
		}
		if seen { // a repeat: acknowledge without matching anything
			return store.ReportResult{Duplicate: true}, nil
		}
		old, err := s.st.Candidates(ctx, host.ID)
		if err != nil {
			return store.ReportResult{}, err
		}
		known := make(map[candidateKey]store.Candidate, len(old))
		for _, c := range old {
			known[candidateKey{c.Source, c.Name, c.Arch}] = c
		}
		e := s.engine()
		in.AsOf = s.Today()
		in.CatalogVersion = e.version
		in.Items, in.Verdicts, in.Candidates = e.prepare(&rep, api.KindHost, in.AsOf, known, s.cfg.Now())
	}
	res, err := s.st.ApplyReport(ctx, in) // re-checks the report id in its transaction
	if err != nil {
		return res, err
	}
	if rep.Kind == api.ReportFull && !res.Duplicate {
		s.noteJudged(ctx, host.ID, in.CatalogVersion)
	}
	if res.Changes > 0 {
		s.cfg.Notify()
	}
	s.log.Debug("report", "host_id", host.UID, "report_id", rep.ReportID, "kind", rep.Kind, "items", len(rep.Items),
		"added", res.Added, "removed", res.Removed, "changes", res.Changes, "duplicate", res.Duplicate)
	return res, nil
}

// SameHost checks that a report's host block is the host its node key
// belongs to (a fault.Forbidden on host.install_id otherwise).
func SameHost(host store.HostRef, h api.HostInfo) error {
	if h.InstallID != host.InstallID {
		return fault.New(fault.Forbidden, "host.install_id", "host.install_id %q is not the host this node key was issued to", h.InstallID)
	}
	return nil
}

// ReEvaluateIfStale re-evaluates the fleet when the catalog or the day
// changed since the last full evaluation.
func (s *Service) ReEvaluateIfStale(ctx context.Context) error {
	e := s.engine()
	day := s.Today()
	st, err := s.st.FleetState(ctx)
	if err != nil {
		return err
	}
	if st.CatalogVersion == e.version && st.AsOf == day {
		return nil
	}
	start := time.Now()
	in := store.ReEvalInput{CatalogVersion: e.version, AsOf: day,
		Evaluate: func(p, v, c string) catalog.Verdict { return e.evaluate(p, v, c, day) },
		Rejudge: func(h store.HostInventory) []store.Verdict {
			return e.judge(h, day)
		}}
	if st.CatalogVersion != e.version {
		in.Match = e.match
	}
	res, err := s.st.ReEvaluate(ctx, in)
	if err != nil {
		return fmt.Errorf("re-evaluate fleet: %w", err)
	}
	if s.cfg.ObserveReEval != nil {
		s.cfg.ObserveReEval(time.Since(start))
	}
	s.log.Info("fleet re-evaluated", "catalog", e.version, "as_of", day, "pairs", res.Pairs, "rows", res.Rows,
		"events", res.Events, "rematched_hosts", res.RematchHosts, "dur", time.Since(start).Round(time.Millisecond))
	if res.Events > 0 {
		s.cfg.Notify()
	}
	return nil
}

// noteJudged records that a host's inventory was just judged with catalog
// version, and judges it again at once when the catalog changed meanwhile
// (CatalogChanged may have run between the judging and the commit).
func (s *Service) noteJudged(ctx context.Context, hostID int64, version string) {
	s.judgedMu.Lock()
	s.judged[hostID] = time.Now()
	s.judgedMu.Unlock()
	if s.engine().version == version {
		return
	}
	if err := s.rejudge(ctx, []int64{hostID}); err != nil {
		s.log.Error("judging a host again with the new catalog", "host", hostID, "err", err)
	}
}

// rejudge judges the stored inventories of hosts again with the catalog in
// force, re-matching their items.
func (s *Service) rejudge(ctx context.Context, ids []int64) error {
	e := s.engine()
	day := s.Today()
	return s.st.RejudgeHosts(ctx, ids, store.ReEvalInput{CatalogVersion: e.version, AsOf: day,
		Evaluate: func(p, v, c string) catalog.Verdict { return e.evaluate(p, v, c, day) }, Match: e.match,
		Rejudge: func(h store.HostInventory) []store.Verdict { return e.judge(h, day) }})
}

// rejudgePending judges again the hosts CatalogChanged queued.
func (s *Service) rejudgePending(ctx context.Context) {
	s.judgedMu.Lock()
	ids := make([]int64, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	clear(s.pending)
	s.judgedMu.Unlock()
	if len(ids) == 0 {
		return
	}
	if err := s.rejudge(ctx, ids); err != nil {
		s.log.Error("judging recent hosts again with the new catalog", "hosts", len(ids), "err", err)
		return
	}
	s.log.Info("recently reported hosts judged again with the new catalog", "hosts", len(ids))
}

func (s *Service) kickReEval() {
	select {
	case s.reeval <- struct{}{}:
	default:
	}
}

// Run keeps the fleet current until ctx ends: it re-evaluates the fleet when
// the catalog changed (CatalogChanged) or the day did (checked every 30
// seconds), queues the contract and risk mail that is due (every 10
// minutes), and once an hour forgets old report ids and lets the database
// refresh its statistics. With Jobs, each is done by one server at a time
// (and the hourly work once an hour among all).
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	lastPrune, lastMail := time.Time{}, time.Time{}
	for {
		s.rejudgePending(ctx)
		s.job(ctx, "fleet-reevaluation", 0, func(ctx context.Context) error {
			if s.cfg.Refresh != nil {
				if _, err := s.cfg.Refresh(ctx); err != nil {
					return err
				}
			}
			if lead, err := s.leads(ctx); err != nil || !lead {
				return err
			}
			return s.ReEvaluateIfStale(ctx)
		})
		if time.Since(lastMail) > 10*time.Minute {
			lastMail = time.Now()
			s.job(ctx, "contract-mail", 10*time.Minute, func(ctx context.Context) error { _, err := s.ContractMail(ctx); return err })
		}
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			s.job(ctx, "maintenance", time.Hour, func(ctx context.Context) error { s.maintain(ctx); return nil })
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.reeval:
		}
	}
}

// leads reports whether this server re-evaluates the fleet (Config.Leads),
// warning once per leading setting when it does not.
func (s *Service) leads(ctx context.Context) (bool, error) {
	if s.cfg.Leads == nil {
		return true, nil
	}
	lead, leader, err := s.cfg.Leads(ctx)
	if err != nil {
		return false, fmt.Errorf("fleet judging settings: %w", err)
	}
	if !lead && leader != s.notLeading {
		s.notLeading = leader
		s.log.Warn("not re-evaluating the fleet: a server started later judges it with other settings (another build's catalog, --catalog files or policy); this server judges only the reports it receives",
			"leading", leader, "catalog", s.CatalogVersion())
	}
	if lead {
		s.notLeading = ""
	}
	return lead, nil
}

// job runs fn as the scheduled job name (jobs.Run: through Config.Jobs
// when servers share the database), logging its failure.
func (s *Service) job(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) {
	jobs.Run(ctx, s.cfg.Jobs, s.log, name, every, fn)
}

// DeleteAsset deletes an asset (by id or name) with its inventory,
// verdicts and upload history, then prunes the software nothing links any
// more, its components no other host or asset has. A failed prune is
// logged, not returned: the asset is gone, and the hourly maintenance
// prunes again.
func (s *Service) DeleteAsset(ctx context.Context, ref string) (api.Host, error) {
	h, err := s.st.DeleteAsset(ctx, ref)
	if err != nil {
		return h, err
	}
	if n, err := s.st.PruneSoftware(ctx); err != nil {
		s.log.Warn("pruning software after deleting an asset failed; the maintenance prunes it later", "asset_id", h.ID, "err", err)
	} else if n > 0 {
		s.log.Info("pruned software no host or asset has any more", "n", n, "after", "asset deleted", "asset_id", h.ID)
	}
	return h, nil
}

// maintain prunes old report ids and software nothing links any more (a
// package upgraded away on every host), and optimizes the database.
func (s *Service) maintain(ctx context.Context) {
	// Agents retry a report for at most a few days; 14 days of ids is ample.
	if n, err := s.st.PruneReports(ctx, s.cfg.Now().Add(-14*24*time.Hour)); err != nil {
		s.log.Error("prune reports failed", "err", err)
	} else if n > 0 {
		s.log.Info("pruned old report ids", "n", n)
	}
	if n, err := s.st.PruneSoftware(ctx); err != nil {
		s.log.Error("prune software failed", "err", err)
	} else if n > 0 {
		s.log.Info("pruned software no host or asset has any more", "n", n)
	}
	if err := s.st.Optimize(ctx); err != nil {
		s.log.Warn("optimize failed", "err", err)
	}
}

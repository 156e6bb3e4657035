// Package catalogsvc holds the server's current catalog and runs the
// release flow of the design: the catalog changes (a file imported, an
// endoflife.date-format feed synced, a release published by an admin), the
// service diffs the old and new catalogs, turns the differences into
// notifier events stored in the same transaction as the change, swaps the
// catalog atomically and tells the server (OnChange) so it re-evaluates the
// fleet. It also lists the time-based end-of-life milestones (a cycle is 90,
// 30 or 7 days from its eol, or reached it) with stable keys so a periodic
// tick emits each exactly once.
package catalogsvc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// MaxDocumentBytes bounds an imported file or a feed response.
const MaxDocumentBytes = 64 << 20

// Config configures a Service. Only Store is required.
type Config struct {
	// Store persists published releases, documents and milestones, and
	// enqueues events with them. Required.
	Store ReleaseStore
	// Base is the catalog everything else applies to; nil means
	// catalog.Default() merged with Files.
	Base *catalog.Catalog
	// Files are extra catalog files (--catalog) merged over the default
	// catalog at start-up. They are configuration, not news: no events.
	Files []string
	// FeedURLs are endoflife.date-format feeds (--catalog-feed): the
	// extract's products.json format or an API v1 product response.
	FeedURLs []string
	// FeedInterval is how often Run polls the feeds (default 24h).
	FeedInterval time.Duration
	// MilestoneInterval is how often Run checks for due eol milestones
	// (default 1h; each milestone is still sent once).
	MilestoneInterval time.Duration
	// MilestoneWindow: see Milestones (default DefaultMilestoneWindow).
	MilestoneWindow time.Duration
	// RefreshInterval is how often Run checks whether another server
	// sharing the store changed the catalog, and reloads it (default 2s).
	RefreshInterval time.Duration
	// Jobs runs the feed sync and the milestone tick on one server at a
	// time when several share the store (internal/jobs); nil runs them here.
	Jobs jobs.Runner
	// OnChange is called after every catalog change, with the catalog
	// before and after, once the change is committed. The server
	// re-evaluates the fleet there. It runs on the goroutine that made the
	// change, while further changes wait.
	OnChange func(old, new *catalog.Catalog)
	// HTTPClient fetches the feeds (default: a client with a 60 s timeout).
	HTTPClient *http.Client
	// Now returns the current time (default time.Now); tests set it.
	Now func() time.Time
	// Logger receives the service's logs (default slog.Default()).
	Logger *slog.Logger
}

// Service holds the current catalog. Safe for concurrent use: Current is
// a lock-free atomic load; changes are serialised.
type Service struct {
	cfg  Config
	base *catalog.Catalog
	cur  atomic.Pointer[catalog.Catalog]
	log  *slog.Logger

	mu       sync.Mutex // serialises changes
	gen      int64      // the stored generation docs and releases are from
	docs     []Document
	releases []Published
}

// New builds the current catalog from the base, the stored documents (in
// the order they were stored) and the published releases, without
// emitting events: what was stored was announced when it happened.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("catalogsvc: no store")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.FeedInterval <= 0 {
		cfg.FeedInterval = 24 * time.Hour
	}
	if cfg.MilestoneInterval <= 0 {
		cfg.MilestoneInterval = time.Hour
	}
	if cfg.MilestoneWindow <= 0 {
		cfg.MilestoneWindow = DefaultMilestoneWindow
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 2 * time.Second
	}
	s := &Service{cfg: cfg, log: cfg.Logger.With("component", "catalog")}
	base := cfg.Base
	if base == nil {
		def, err := catalog.Default()
		if err != nil {
			return nil, fmt.Errorf("default catalog: %w", err)
		}
		base = def
		if len(cfg.Files) > 0 {
			extra, err := catalog.LoadFiles(cfg.Files...)
			if err != nil {
				return nil, fmt.Errorf("catalog files: %w", err)
			}
			base = catalog.Merge(def, extra)
		}
	}
	s.base = base
	gen, docs, rels, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.gen, s.docs, s.releases = gen, docs, rels
	cat, err := s.build(docs, rels)
	if err != nil {
		return nil, err
	}
	s.cur.Store(cat)
	return s, nil
}

// BaseVersion is the version of this server's own catalog: the build's
// embedded default merged with its --catalog files, before anything
// stored in the database. Servers sharing a database differ in it when
// they run different builds or files.
func (s *Service) BaseVersion() string { return s.base.Info().Version }

// load reads the stored generation, then the documents and releases (in
// that order: what is read is at least as new as the generation says, so
// a change missed here shows as a newer generation later).
func (s *Service) load(ctx context.Context) (int64, []Document, []Published, error) {
	gen, err := s.cfg.Store.Generation(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("catalogsvc: %w", err)
	}
	docs, err := s.cfg.Store.Documents(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("catalogsvc: %w", err)
	}
	rels, err := s.cfg.Store.Releases(ctx)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("catalogsvc: %w", err)
	}
	return gen, docs, rels, nil
}

// Refresh reloads the catalog when the store's generation is not the one
// in force (another server published a release, imported a file or synced
// a feed), and calls OnChange as for a change made here, without events:
// the server that made the change emitted them. It reports whether it
// reloaded.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	gen, err := s.cfg.Store.Generation(ctx)
	if err != nil {
		return false, fmt.Errorf("catalogsvc: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen == s.gen {
		return false, nil
	}
	return true, s.reload(ctx)
}

// reload rebuilds the catalog from the store. s.mu is held.
func (s *Service) reload(ctx context.Context) error {
	gen, docs, rels, err := s.load(ctx)
	if err != nil {
		return err
	}
	next, err := s.build(docs, rels)
	if err != nil {
		return err
	}
	old := s.Current()
	s.gen, s.docs, s.releases = gen, docs, rels
	s.log.Info("catalog reloaded: changed by another server", "generation", gen, "version", next.Info().Version)
	s.commit(old, next)
	return nil
}

// maxStale bounds how often a change is recomputed after another server
// changed the catalog first.
const maxStale = 5

// change computes a change on the catalog in force with compute and saves
// it with save under the generation it was computed on; when another
// server changed the stored catalog first (ErrStale) it reloads and
// computes again. s.mu is held.
func (s *Service) change(ctx context.Context, compute func(old *catalog.Catalog) (next *catalog.Catalog, save func(gen int64) error, err error)) (old, next *catalog.Catalog, err error) {
	for attempt := 1; ; attempt++ {
		old = s.Current()
		next, save, err := compute(old)
		if err != nil {
			return old, nil, err
		}
		err = save(s.gen)
		if err == nil {
			s.gen++
			return old, next, nil
		}
		if !errors.Is(err, ErrStale) || attempt >= maxStale {
			return old, nil, err
		}
		if err := s.reload(ctx); err != nil {
			return old, nil, err
		}
	}
}

// Current returns the catalog in force. It never returns nil after New.
func (s *Service) Current() *catalog.Catalog { return s.cur.Load() }

// Documents returns the stored documents (imports and feed snapshots), oldest first.
func (s *Service) Documents() []Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Document(nil), s.docs...)
}

// Published returns the releases published through Publish, oldest first.
func (s *Service) Published() []Published {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Published(nil), s.releases...)
}

// build applies docs, then releases, to the base catalog. A stored document
// that no longer parses (a newer server with stricter rules) is skipped
// with a log line rather than keeping the server down.
func (s *Service) build(docs []Document, rels []Published) (*catalog.Catalog, error) {
	cat := s.base
	for _, d := range docs {
		c, err := catalog.Parse(d.Name, d.Data)
		if err != nil {
			s.log.Error("stored catalog document does not load; skipped", "name", d.Name, "kind", d.Kind, "err", err)
			continue
		}
		cat = catalog.Merge(cat, c)
	}
	for _, r := range rels {
		next, err := applyRelease(cat, r)
		if err != nil {
			s.log.Warn("published release no longer applies; skipped", "product", r.Product, "cycle", r.Cycle, "version", r.Version, "err", err)
			continue
		}
		cat = next
	}
	return cat, nil
}

// applyRelease applies a published release unless the catalog already has
// that version in that cycle (a later feed or import may carry it).
func applyRelease(cat *catalog.Catalog, r Published) (*catalog.Catalog, error) {
	if hasRelease(cat, r.Product, r.Cycle, r.Version) {
		return cat, nil
	}
	d, err := time.Parse(time.DateOnly, r.Date)
	if err != nil {
		return nil, fmt.Errorf("date %q: %w", r.Date, err)
	}
	return cat.WithRelease(r.Product, r.Cycle, r.Version, d)
}

// hasRelease reports whether product's cycle already lists version.
func hasRelease(cat *catalog.Catalog, product, cycle, version string) bool {
	p := cat.Product(product)
	if p == nil {
		return false
	}
	for _, c := range p.Cycles {
		if c.Name != cycle {
			continue
		}
		if c.Latest == version {
			return true
		}
		for _, r := range c.Releases {
			if r.Version == version {
				return true
			}
		}
	}
	return false
}

// commit swaps in next after save succeeded and calls OnChange. s.mu is held.
func (s *Service) commit(old, next *catalog.Catalog) {
	s.cur.Store(next)
	// The content hash tells whether anything a verdict could see changed.
	if s.cfg.OnChange != nil && old != next && old.Info().Version != next.Info().Version {
		s.cfg.OnChange(old, next)
	}
}

// Import reads catalog files (the project's own format or the
// endoflife.date extract / API v1 formats) and applies each over the
// current catalog, one change per file: diff, events, store, swap. A file
// that does not load changes nothing; the error names it. Importing a file
// again under the same name replaces the earlier import.
func (s *Service) Import(ctx context.Context, files ...string) ([]events.Event, error) {
	var all []events.Event
	for _, f := range files {
		data, err := readFileLimited(f)
		if err != nil {
			return all, err
		}
		evs, err := s.ImportData(ctx, f, data)
		if err != nil {
			return all, err
		}
		all = append(all, evs...)
	}
	return all, nil
}

func readFileLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	if len(data) > MaxDocumentBytes {
		return nil, fmt.Errorf("import %s: larger than %d bytes", path, MaxDocumentBytes)
	}
	return data, nil
}

// ImportData is Import for a document already in memory (an upload); name
// identifies it (a later import with the same name replaces it).
func (s *Service) ImportData(ctx context.Context, name string, data []byte) ([]events.Event, error) {
	if _, err := catalog.Parse(name, data); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return s.applyDocument(ctx, Document{Name: name, Kind: DocImport, Data: data})
}

// applyDocument stores d (replacing a document of the same name), rebuilds
// the catalog, and emits the diff's events. s.mu must not be held.
func (s *Service) applyDocument(ctx context.Context, d Document) ([]events.Event, error) {
	sum := sha256.Sum256(d.Data)
	d.Hash = hex.EncodeToString(sum[:])
	d.Created = s.cfg.Now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	var docs []Document
	var evs []events.Event
	old, next, err := s.change(ctx, func(old *catalog.Catalog) (*catalog.Catalog, func(int64) error, error) {
		docs = make([]Document, 0, len(s.docs)+1)
		for _, x := range s.docs {
			if x.Name != d.Name {
				docs = append(docs, x)
			}
		}
		docs = append(docs, d)
		next, err := s.build(docs, s.releases)
		if err != nil {
			return nil, nil, err
		}
		evs = EventsFor(catalog.Diff(old, next), next, "", s.cfg.Now())
		return next, func(gen int64) error { return s.cfg.Store.SaveDocument(ctx, d, evs, gen) }, nil
	})
	if err != nil {
		return nil, err
	}
	s.docs = docs
	s.log.Info("catalog document applied", "name", d.Name, "kind", d.Kind, "events", len(evs), "version", next.Info().Version)
	s.commit(old, next)
	return evs, nil
}

// Run polls the feeds and emits due milestones until ctx ends: once at
// start, then every FeedInterval and MilestoneInterval (each on one server
// at a time when Jobs is set); and every RefreshInterval it reloads the
// catalog if another server changed it. Errors are logged and retried at
// the next tick.
func (s *Service) Run(ctx context.Context) error {
	feed := time.NewTicker(s.cfg.FeedInterval)
	defer feed.Stop()
	ms := time.NewTicker(s.cfg.MilestoneInterval)
	defer ms.Stop()
	refresh := time.NewTicker(s.cfg.RefreshInterval)
	defer refresh.Stop()
	s.job(ctx, "catalog-feeds", s.syncAll)
	s.job(ctx, "catalog-milestones", s.tick)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-feed.C:
			s.job(ctx, "catalog-feeds", s.syncAll)
		case <-ms.C:
			s.job(ctx, "catalog-milestones", s.tick)
		case <-refresh.C:
			if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("catalog refresh failed", "err", err)
			}
		}
	}
}

// job runs fn as the scheduled job name (jobs.Run: through Config.Jobs
// on one server at a time when servers share the database).
func (s *Service) job(ctx context.Context, name string, fn func(context.Context) error) {
	jobs.Run(ctx, s.cfg.Jobs, s.log, name, 0, fn)
}

func (s *Service) syncAll(ctx context.Context) error {
	// A feed's last snapshot may come from another server: start from the
	// stored catalog.
	if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("catalog refresh failed", "err", err)
	}
	for _, u := range s.cfg.FeedURLs {
		if _, err := s.SyncFeed(ctx, u); err != nil && ctx.Err() == nil {
			s.log.Error("catalog feed sync failed", "url", u, "err", err)
		}
	}
	return nil
}

func (s *Service) tick(ctx context.Context) error {
	fresh, err := s.TickMilestones(ctx, s.cfg.Now())
	if err != nil && ctx.Err() == nil {
		s.log.Error("eol milestones", "err", err)
		return nil
	}
	if len(fresh) > 0 {
		s.log.Info("eol milestones emitted", "count", len(fresh))
	}
	return nil
}

// Milestones lists the milestones due on asOf in the current catalog (see
// the package function Milestones).
func (s *Service) Milestones(asOf time.Time) []Milestone {
	return Milestones(s.Current(), asOf, s.cfg.MilestoneWindow)
}

// TickMilestones emits, through the store, the milestones due on asOf that
// were never emitted, and returns them. Calling it again emits nothing new.
func (s *Service) TickMilestones(ctx context.Context, asOf time.Time) ([]Milestone, error) {
	ms := s.Milestones(asOf)
	if len(ms) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Store.MarkMilestones(ctx, ms)
}

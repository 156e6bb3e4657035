package catalogsvc

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// ErrStale is returned by a ReleaseStore's Save methods when the stored
// catalog changed since the generation the change was computed on.
var ErrStale = errors.New("the stored catalog changed meanwhile")

// Published is a release an admin published through the API or the CLI.
type Published struct {
	Product string    `json:"product"`
	Cycle   string    `json:"cycle"`
	Version string    `json:"version"`
	Date    string    `json:"date"` // YYYY-MM-DD
	Link    string    `json:"link,omitempty"`
	By      string    `json:"by,omitempty"` // who published it (token name or "cli")
	Created time.Time `json:"created"`
}

// Document kinds.
const (
	DocImport = "import" // a catalog file an admin imported
	DocFeed   = "feed"   // the last snapshot of the --catalog-feed URL
)

// Document is a catalog document the service keeps across restarts: an
// imported file or the feed's last snapshot. Documents with the same Name
// replace each other.
type Document struct {
	Name    string    `json:"name"` // file name or feed URL
	Kind    string    `json:"kind"` // DocImport or DocFeed
	Data    []byte    `json:"-"`
	ETag    string    `json:"etag,omitempty"` // feed: ETag of the response, for If-None-Match
	Hash    string    `json:"hash"`           // sha256 of Data
	Created time.Time `json:"created"`
}

// ReleaseStore persists what changes the catalog and enqueues the events
// of each change in the same transaction (events.Enqueue), so an event
// exists exactly when its change was committed.
//
// The stored catalog has a generation, a counter every change increments.
// Several servers may share one store: a change names the generation it
// was computed on and is refused with ErrStale when another server changed
// the catalog since, so the service reloads, recomputes and tries again;
// and a server that sees a newer generation (Generation) reloads.
//
// Lifecycle: the service reads Generation, Releases and Documents in New
// (and again to reload), then calls the Save/Mark methods one at a time
// (it serialises its changes). Implementations must be safe for
// concurrent use anyway.
type ReleaseStore interface {
	// Generation returns the stored catalog's generation (0 before any change).
	Generation(ctx context.Context) (int64, error)
	// SaveRelease stores a published release and enqueues events,
	// atomically, when the stored generation is gen (then it is gen+1);
	// otherwise it stores nothing and returns ErrStale.
	SaveRelease(ctx context.Context, r Published, evs []events.Event, gen int64) error
	// Releases returns every published release, oldest first.
	Releases(ctx context.Context) ([]Published, error)
	// SaveDocument stores (or replaces, by Name) a catalog document and
	// enqueues events, atomically, when the stored generation is gen (then
	// it is gen+1); otherwise it stores nothing and returns ErrStale.
	SaveDocument(ctx context.Context, d Document, evs []events.Event, gen int64) error
	// Documents returns the stored documents, oldest first.
	Documents(ctx context.Context) ([]Document, error)
	// MarkMilestones records the milestones whose Key was never recorded
	// and enqueues their events (Milestone.Event), atomically; it returns
	// the newly recorded ones. A key is recorded at most once, ever.
	MarkMilestones(ctx context.Context, ms []Milestone) ([]Milestone, error)
}

// MemStore is an in-memory ReleaseStore for tests and for running without
// a database. Its Events field collects what would have been enqueued.
type MemStore struct {
	mu       sync.Mutex
	gen      int64
	releases []Published
	docs     []Document
	marks    map[string]bool
	events   []events.Event
	// Fail, when set, makes every Save/Mark call fail with it (nothing is stored).
	Fail error
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{marks: map[string]bool{}} }

// Generation implements ReleaseStore.
func (m *MemStore) Generation(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gen, nil
}

// SaveRelease implements ReleaseStore.
func (m *MemStore) SaveRelease(_ context.Context, r Published, evs []events.Event, gen int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	if gen != m.gen {
		return ErrStale
	}
	m.gen++
	m.releases = append(m.releases, r)
	m.events = append(m.events, evs...)
	return nil
}

// Releases implements ReleaseStore.
func (m *MemStore) Releases(context.Context) ([]Published, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Published(nil), m.releases...), nil
}

// SaveDocument implements ReleaseStore.
func (m *MemStore) SaveDocument(_ context.Context, d Document, evs []events.Event, gen int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	if gen != m.gen {
		return ErrStale
	}
	m.gen++
	for i := range m.docs {
		if m.docs[i].Name == d.Name {
			m.docs = append(m.docs[:i], m.docs[i+1:]...)
			break
		}
	}
	m.docs = append(m.docs, d)
	m.events = append(m.events, evs...)
	return nil
}

// Documents implements ReleaseStore.
func (m *MemStore) Documents(context.Context) ([]Document, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Document(nil), m.docs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// MarkMilestones implements ReleaseStore.
func (m *MemStore) MarkMilestones(_ context.Context, ms []Milestone) ([]Milestone, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return nil, m.Fail
	}
	var fresh []Milestone
	for _, x := range ms {
		if m.marks[x.Key] {
			continue
		}
		m.marks[x.Key] = true
		fresh = append(fresh, x)
		m.events = append(m.events, x.Event())
	}
	return fresh, nil
}

// Events returns every event enqueued so far, in order.
func (m *MemStore) Events() []events.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]events.Event(nil), m.events...)
}

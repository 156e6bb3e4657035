package catalogsvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

// feedServer serves an endoflife.date-format document with an ETag and
// answers If-None-Match, like a static file server would.
type feedServer struct {
	mu       sync.Mutex
	body     []byte
	status   int
	requests int
	inm      []string // If-None-Match headers received
}

func (f *feedServer) set(body []byte, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.body, f.status = body, status
}

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	f.inm = append(f.inm, r.Header.Get("If-None-Match"))
	if f.status != http.StatusOK {
		http.Error(w, "feed down", f.status)
		return
	}
	etag := fmt.Sprintf(`"%x"`, len(f.body)*31+int(f.body[len(f.body)/2]))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json")
	w.Write(f.body)
}

// fixture returns the small extract and a modified copy: python 3.13 gets a
// new patch, debian 12's end of life moves, nginx gets a new cycle.
func fixture(t *testing.T) (v1, v2 []byte) {
	t.Helper()
	v1, err := os.ReadFile("testdata/products-small.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(v1, &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc["products"].([]any) {
		pm := p.(map[string]any)
		rels := pm["releases"].([]any)
		switch pm["name"] {
		case "python":
			for _, r := range rels {
				rm := r.(map[string]any)
				if rm["name"] == "3.13" {
					rm["latest"], rm["latestReleaseDate"] = "3.13.16", "2026-11-20"
				}
			}
		case "debian":
			for _, r := range rels {
				rm := r.(map[string]any)
				if rm["name"] == "12" {
					rm["eol"] = "2026-12-31"
				}
			}
		case "nginx":
			pm["releases"] = append([]any{map[string]any{"name": "1.32", "releaseDate": "2026-11-25", "eol": false,
				"lts": false, "latest": "1.32.0", "latestReleaseDate": "2026-11-25"}}, rels...)
		}
	}
	v2, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return v1, v2
}

func TestFeedSync(t *testing.T) {
	ctx := context.Background()
	v1, v2 := fixture(t)
	fs := &feedServer{}
	fs.set(v1, http.StatusOK)
	srv := httptest.NewServer(fs)
	defer srv.Close()
	url := srv.URL + "/products.json"

	base := mustParse(t, "base.json", string(v1))
	st := NewMemStore()
	var cl changeLog
	cfg := Config{Store: st, Base: base, FeedURLs: []string{url}, Now: func() time.Time { return testNow }, Logger: quietLogger(), OnChange: cl.on}
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// First sync: same data as the base, so no news (but the snapshot is kept).
	evs, err := s.SyncFeed(ctx, url)
	if err != nil || len(evs) != 0 {
		t.Fatalf("first SyncFeed = %+v, %v; want no events", evs, err)
	}
	if docs := s.Documents(); len(docs) != 1 || docs[0].Kind != DocFeed || docs[0].ETag == "" {
		t.Fatalf("documents = %+v, want the feed snapshot with its ETag", docs)
	}
	// Unchanged feed: a conditional GET answered 304, nothing happens.
	if evs, err := s.SyncFeed(ctx, url); err != nil || len(evs) != 0 {
		t.Fatalf("unchanged SyncFeed = %+v, %v", evs, err)
	}
	if last := fs.inm[len(fs.inm)-1]; last == "" {
		t.Error("the second request had no If-None-Match")
	}

	// The feed changes: one event per new release and per eol change.
	fs.set(v2, http.StatusOK)
	evs, err = s.SyncFeed(ctx, url)
	if err != nil {
		t.Fatalf("SyncFeed(v2): %v", err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", e.Kind, e.Product, e.Cycle, e.Version, e.Date))
		if err := e.Validate(); err != nil {
			t.Errorf("event %+v: %v", e, err)
		}
	}
	want := []string{
		"eol debian 12  2026-12-31",
		"release nginx 1.32 1.32.0 2026-11-25",
		"release python 3.13 3.13.16 2026-11-20",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SyncFeed(v2) events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(st.Events()) != 3 {
		t.Errorf("stored events = %d, want 3", len(st.Events()))
	}
	if v := s.Current().Evaluate("python", "3.13.15", testNow, catalog.DefaultPolicy()); v.Latest != "3.13.16" {
		t.Errorf("after sync, python 3.13 latest = %q, want 3.13.16", v.Latest)
	}
	if len(cl.calls) != 1 {
		t.Errorf("OnChange calls = %d, want 1 (the first sync changed nothing)", len(cl.calls))
	}

	// A restart keeps the snapshot: the same feed is not news again.
	s2, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v := s2.Current().Evaluate("python", "3.13.15", testNow, catalog.DefaultPolicy()); v.Latest != "3.13.16" {
		t.Errorf("after restart, python 3.13 latest = %q, want 3.13.16", v.Latest)
	}
	if evs, err := s2.SyncFeed(ctx, url); err != nil || len(evs) != 0 {
		t.Errorf("SyncFeed after restart = %+v, %v; want no events", evs, err)
	}

	// A broken or failing feed changes nothing.
	cur := s2.Current()
	fs.set([]byte(`{"products": [{"name": "python", "releases": [{"name": "3.13", "eol": "soon"}]}]}`), http.StatusOK)
	if _, err := s2.SyncFeed(ctx, url); err == nil {
		t.Error("SyncFeed(broken document) succeeded")
	}
	fs.set(v2, http.StatusInternalServerError)
	if _, err := s2.SyncFeed(ctx, url); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("SyncFeed(HTTP 500) = %v, want an error naming the status", err)
	}
	if s2.Current() != cur {
		t.Error("a failed sync changed the catalog")
	}
}

func TestFeedAPIv1(t *testing.T) {
	ctx := context.Background()
	body, err := os.ReadFile("testdata/api-v1-python.json")
	if err != nil {
		t.Fatal(err)
	}
	v1, _ := fixture(t)
	fs := &feedServer{}
	fs.set(body, http.StatusOK)
	srv := httptest.NewServer(fs)
	defer srv.Close()
	st := NewMemStore()
	s, err := New(ctx, Config{Store: st, Base: mustParse(t, "base.json", string(v1)), Now: func() time.Time { return testNow }, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.SyncFeed(ctx, srv.URL+"/api/v1/products/python")
	if err != nil {
		t.Fatalf("SyncFeed(API v1): %v", err)
	}
	if len(evs) != 1 || evs[0].Product != "python" || evs[0].Version != "3.13.16" || evs[0].Date != "2026-08-20" {
		t.Errorf("SyncFeed(API v1) events = %+v, want python 3.13.16", evs)
	}
	// The other products of the base are untouched.
	if s.Current().Product("nginx") == nil {
		t.Error("an API v1 feed of one product dropped the others")
	}
}

// runFeedService makes a service of cfg fed from fs over loopback HTTP
// (with the test's clock and quiet logs, each catalog change signalled on
// changed) and runs it until stop, which returns Run's result; the test's
// cleanup stops it if the test did not.
func runFeedService(t *testing.T, fs *feedServer, cfg Config) (s *Service, changed <-chan struct{}, stop func() error) {
	t.Helper()
	srv := httptest.NewServer(fs)
	t.Cleanup(srv.Close)
	ch := make(chan struct{}, 8)
	cfg.FeedURLs, cfg.Now, cfg.Logger = []string{srv.URL}, func() time.Time { return testNow }, quietLogger()
	cfg.OnChange = func(_, _ *catalog.Catalog) { ch <- struct{}{} }
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() { stop() })
	return s, ch, stop
}

func TestRunSyncsAndTicks(t *testing.T) {
	v1, v2 := fixture(t)
	fs := &feedServer{}
	fs.set(v2, http.StatusOK)
	st := NewMemStore()
	_, changed, stop := runFeedService(t, fs, Config{Store: st, Base: mustParse(t, "base.json", string(v1)), FeedInterval: time.Hour})
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not sync the feed at start")
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if n := len(st.Events()); n < 3 {
		t.Errorf("events after Run = %d, want the feed's 3 and any due milestones", n)
	}
}

// jobCounter is a JobRunner that runs every job here and counts them by
// name, as a lease holder that always wins would.
type jobCounter struct {
	mu   sync.Mutex
	runs map[string]int
}

func (j *jobCounter) Do(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	j.mu.Lock()
	j.runs[name]++
	j.mu.Unlock()
	return true, fn(ctx)
}

func (j *jobCounter) DoEvery(ctx context.Context, name string, _ time.Duration, fn func(context.Context) error) (bool, error) {
	return j.Do(ctx, name, fn)
}

func (j *jobCounter) count(name string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.runs[name]
}

// TestRunSyncsOnSchedule keeps a running service fresh from a feed served
// over loopback HTTP: the feed is fetched at start and again every
// FeedInterval through the Jobs hook ("catalog-feeds"), so a change
// published after start reaches the catalog without a restart.
func TestRunSyncsOnSchedule(t *testing.T) {
	v1, v2 := fixture(t)
	fs := &feedServer{}
	fs.set(v1, http.StatusOK)
	jobs := &jobCounter{runs: map[string]int{}}
	s, changed, _ := runFeedService(t, fs, Config{Store: NewMemStore(), Base: mustParse(t, "base.json", string(v1)),
		FeedInterval: 50 * time.Millisecond, Jobs: jobs})
	requests := func() int {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return fs.requests
	}
	deadline := time.Now().Add(time.Minute) // twice in 50 ms, normally; generous for a loaded machine
	for requests() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if requests() < 2 {
		t.Fatalf("feed fetched %d times in a minute with a 50 ms interval", requests())
	}
	if s.Current().Product("nginx").Cycles[0].Name == "1.32" {
		t.Fatal("the catalog has nginx 1.32 before the feed published it")
	}
	fs.set(v2, http.StatusOK) // published after start
	select {
	case <-changed:
	case <-time.After(time.Minute):
		t.Fatal("a scheduled sync did not bring the feed's change in a minute")
	}
	if c := s.Current().Product("nginx").Cycles[0].Name; c != "1.32" {
		t.Errorf("nginx's newest cycle after the scheduled sync = %s, want 1.32", c)
	}
	if n := jobs.count("catalog-feeds"); n < 2 {
		t.Errorf("the feed sync ran %d times through the Jobs hook, want at start and on schedule", n)
	}
}

// FuzzPublish checks that no request makes Publish panic, and that what
// it accepts yields valid events.
func FuzzPublish(f *testing.F) {
	f.Add("acme", "2.1", "2.1.3", "2026-11-29", "https://acme.example/n", false, false)
	f.Add("acme", "", "2.0.6", "", "", false, false)
	f.Add("acme", "9.9", "9.9.0", "2026-01-01", "", true, true)
	f.Add("nope", "\x00", "1:2-3", "2026-02-30", "http://", true, false)
	base, err := catalog.Parse("acme.json", []byte(acmeCatalog))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, product, cycle, version, date, link string, older, newCycle bool) {
		st := NewMemStore()
		s, err := New(context.Background(), Config{Store: st, Base: base, Now: func() time.Time { return testNow }, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Publish(context.Background(), Release{Product: product, Cycle: cycle, Version: version, Date: date,
			Link: link, AllowOlder: older, NewCycle: newCycle}); err != nil {
			return
		}
		for _, e := range st.Events() {
			if err := e.Validate(); err != nil {
				t.Fatalf("accepted release made an invalid event %+v: %v", e, err)
			}
		}
	})
}

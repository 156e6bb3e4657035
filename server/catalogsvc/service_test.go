package catalogsvc

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// acmeCatalog is a small base catalog in the project's own format with
// dated releases, so "older than the latest" has room to be tested.
const acmeCatalog = `{"format": "eolwatch-catalog/v1", "source": "test", "products": [
 {"id": "acme", "label": "Acme Server", "category": "server-app", "aliases": ["acme-server"],
  "cycles": [
   {"name": "2.1", "release": "2026-03-01", "eol": "2027-03-01", "latest": "2.1.2", "latest_date": "2026-06-01",
    "releases": [{"version": "2.1.2", "date": "2026-06-01"}, {"version": "2.1.0", "date": "2026-03-01"}]},
   {"name": "2.0", "release": "2025-03-01", "eol": "2026-12-31", "latest": "2.0.5", "latest_date": "2026-05-01",
    "releases": [{"version": "2.0.5", "date": "2026-05-01"}, {"version": "2.0.3", "date": "2026-01-10"}]},
   {"name": "1.0", "release": "2024-01-01", "eol": "2025-06-30", "latest": "1.0.9", "latest_date": "2025-06-01"}]}]}`

var testNow = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func mustParse(t *testing.T, name, data string) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse(name, []byte(data))
	if err != nil {
		t.Fatalf("catalog.Parse(%s): %v", name, err)
	}
	return c
}

type changeLog struct{ calls [][2]*catalog.Catalog }

func (c *changeLog) on(old, new *catalog.Catalog) {
	c.calls = append(c.calls, [2]*catalog.Catalog{old, new})
}

func newAcme(t *testing.T, st ReleaseStore, cl *changeLog) *Service {
	t.Helper()
	cfg := Config{Store: st, Base: mustParse(t, "acme.json", acmeCatalog), Now: func() time.Time { return testNow }, Logger: quietLogger()}
	if cl != nil {
		cfg.OnChange = cl.on
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestPublish(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	var cl changeLog
	s := newAcme(t, st, &cl)
	before := s.Current()

	pub, err := s.Publish(ctx, Release{Product: "acme-server", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-29",
		Link: "https://acme.example/notes/2.1.3", By: "admin-token"})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if pub.Product != "acme" || pub.Cycle != "2.1" || pub.Date != "2026-11-29" || pub.By != "admin-token" {
		t.Errorf("Publish = %+v, want the canonical product acme, cycle 2.1, the date and who", pub)
	}
	evs := st.Events()
	if len(evs) != 1 {
		t.Fatalf("events = %+v, want exactly one", evs)
	}
	want := events.Event{Kind: events.KindRelease, Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-29", Link: "https://acme.example/notes/2.1.3"}
	if got := evs[0]; got.Kind != want.Kind || got.Product != want.Product || got.Cycle != want.Cycle || got.Version != want.Version || got.Date != want.Date || got.Link != want.Link {
		t.Errorf("event = %+v, want %+v", got, want)
	}
	if err := evs[0].Validate(); err != nil {
		t.Errorf("event does not validate: %v", err)
	}
	v := s.Current().Evaluate("acme", "2.1.2", testNow, catalog.DefaultPolicy())
	if v.Latest != "2.1.3" || v.Patch != catalog.PatchAvailable {
		t.Errorf("after publishing, Evaluate(acme 2.1.2) = latest %q patch %q, want 2.1.3 available", v.Latest, v.Patch)
	}
	if len(cl.calls) != 1 || cl.calls[0][0] != before || cl.calls[0][1] != s.Current() {
		t.Errorf("OnChange calls = %d, want one with (old, new)", len(cl.calls))
	}
	if before.Evaluate("acme", "2.1.2", testNow, catalog.DefaultPolicy()).Latest != "2.1.2" {
		t.Error("the old catalog changed: catalogs must be immutable")
	}

	// The cycle can be left out: it is the one the version belongs to.
	if pub, err := s.Publish(ctx, Release{Product: "acme", Version: "2.0.6", Date: "2026-11-30"}); err != nil || pub.Cycle != "2.0" {
		t.Errorf("Publish without cycle = %+v, %v; want cycle 2.0", pub, err)
	}

	// A restart rebuilds the same catalog from the store, without new events.
	n := len(st.Events())
	s2 := newAcme(t, st, nil)
	if got := s2.Current().Evaluate("acme", "2.1.3", testNow, catalog.DefaultPolicy()); got.Patch != catalog.PatchCurrent {
		t.Errorf("after restart, Evaluate(acme 2.1.3) = %+v, want current", got)
	}
	if len(st.Events()) != n {
		t.Errorf("restart emitted %d events, want none", len(st.Events())-n)
	}
	if got := s2.Published(); len(got) != 2 {
		t.Errorf("Published() after restart = %d releases, want 2", len(got))
	}
}

func TestPublishRejects(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		r     Release
		field string // "" = conflict
	}{
		{"unknown product", Release{Product: "nope", Cycle: "1", Version: "1.0", Date: "2026-11-01"}, "product"},
		{"no product", Release{Version: "1.0"}, "product"},
		{"no version", Release{Product: "acme", Cycle: "2.1"}, "version"},
		{"bad date", Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "29/11/2026"}, "date"},
		{"future date", Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2027-01-01"}, "date"},
		{"older than latest", Release{Product: "acme", Cycle: "2.0", Version: "2.0.4", Date: "2026-11-01"}, "version"},
		{"wrong cycle", Release{Product: "acme", Cycle: "2.0", Version: "2.1.9", Date: "2026-11-01"}, "version"},
		{"unknown cycle", Release{Product: "acme", Cycle: "3.0", Version: "3.0.0", Date: "2026-11-01"}, "cycle"},
		{"no cycle fits", Release{Product: "acme", Version: "7.7.7", Date: "2026-11-01"}, "cycle"},
		{"bad link", Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-01", Link: "javascript:alert(1)"}, "link"},
		{"control character", Release{Product: "acme", Cycle: "2.1", Version: "2.1.3\r\nBcc: x", Date: "2026-11-01"}, "version"},
		{"too long", Release{Product: "acme", Cycle: "2.1", Version: strings.Repeat("9", 300), Date: "2026-11-01"}, "version"},
		{"already latest", Release{Product: "acme", Cycle: "2.1", Version: "2.1.2", Date: "2026-11-01"}, ""},
		{"already released", Release{Product: "acme", Cycle: "2.0", Version: "2.0.3", Date: "2026-11-01", AllowOlder: true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := NewMemStore()
			var cl changeLog
			s := newAcme(t, st, &cl)
			before := s.Current()
			_, err := s.Publish(ctx, tt.r)
			var fe *fault.Error
			switch {
			case err == nil:
				t.Errorf("%s: Publish(%+v) succeeded, want an error", tt.name, tt.r)
			case tt.field == "" && !errors.Is(err, ErrConflict):
				t.Errorf("%s: Publish error = %v, want ErrConflict", tt.name, err)
			case tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field):
				t.Errorf("%s: Publish error = %v, want a FieldError on %q", tt.name, err, tt.field)
			}
			if s.Current() != before || len(st.Events()) != 0 || len(cl.calls) != 0 {
				t.Errorf("%s: a rejected release changed the catalog or emitted events", tt.name)
			}
		})
	}
}

func TestPublishFlags(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	s := newAcme(t, st, nil)
	if _, err := s.Publish(ctx, Release{Product: "acme", Cycle: "2.0", Version: "2.0.4", Date: "2026-01-20", AllowOlder: true}); err != nil {
		t.Errorf("Publish(older, allow_older) = %v, want success", err)
	}
	if _, err := s.Publish(ctx, Release{Product: "acme", Cycle: "3.0", Version: "3.0.0", Date: "2026-11-01", NewCycle: true}); err != nil {
		t.Errorf("Publish(new cycle) = %v, want success", err)
	}
	evs := st.Events()
	if len(evs) != 2 || evs[0].Version != "2.0.4" || evs[1].Version != "3.0.0" || evs[1].Cycle != "3.0" {
		t.Errorf("events = %+v, want releases 2.0.4 and 3.0.0", evs)
	}
	if v := s.Current().Evaluate("acme", "3.0.0", testNow, catalog.DefaultPolicy()); v.Cycle != "3.0" {
		t.Errorf("Evaluate(acme 3.0.0).Cycle = %q, want 3.0", v.Cycle)
	}
}

func TestStoreFailureChangesNothing(t *testing.T) {
	st := NewMemStore()
	var cl changeLog
	s := newAcme(t, st, &cl)
	before := s.Current()
	st.Fail = errors.New("disk full")
	if _, err := s.Publish(context.Background(), Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-29"}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Publish with a failing store = %v, want the store's error", err)
	}
	if s.Current() != before || len(cl.calls) != 0 || len(s.Published()) != 0 {
		t.Error("a release the store did not keep was applied anyway")
	}
	st.Fail = nil
	if _, err := s.Publish(context.Background(), Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-29"}); err != nil {
		t.Errorf("Publish after the store recovered = %v", err)
	}
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	var cl changeLog
	s := newAcme(t, st, &cl)
	newer := strings.Replace(acmeCatalog, `"eol": "2026-12-31", "latest": "2.0.5"`, `"eol": "2027-06-30", "latest": "2.0.7"`, 1)
	evs, err := s.ImportData(ctx, "acme-update.json", []byte(newer))
	if err != nil {
		t.Fatalf("ImportData: %v", err)
	}
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind+" "+e.Cycle+" "+e.Version+e.Date)
	}
	got := strings.Join(kinds, ", ")
	if !strings.Contains(got, "eol 2.0 2027-06-30") || !strings.Contains(got, "release 2.0 2.0.7") || len(evs) != 2 {
		t.Errorf("ImportData events = %s, want the eol move of 2.0 and the release 2.0.7", got)
	}
	if len(cl.calls) != 1 {
		t.Errorf("OnChange calls = %d, want 1", len(cl.calls))
	}
	// The same import again changes nothing and says so.
	if evs, err := s.ImportData(ctx, "acme-update.json", []byte(newer)); err != nil || len(evs) != 0 {
		t.Errorf("re-import = %v, %v; want no events", evs, err)
	}
	// A broken file is refused and changes nothing.
	cur := s.Current()
	if _, err := s.ImportData(ctx, "broken.json", []byte(`{"format": "eolwatch-catalog/v1", "products": [{"id": ""}]}`)); err == nil || !strings.Contains(err.Error(), "broken.json") {
		t.Errorf("ImportData(broken) error = %v, want one naming the file", err)
	}
	if s.Current() != cur {
		t.Error("a broken import changed the catalog")
	}
	// Restart: the import is part of the catalog again, with no new events.
	n := len(st.Events())
	s2 := newAcme(t, st, nil)
	if v := s2.Current().Evaluate("acme", "2.0.7", testNow, catalog.DefaultPolicy()); v.Patch != catalog.PatchCurrent {
		t.Errorf("after restart Evaluate(acme 2.0.7) = %+v, want current", v)
	}
	if len(st.Events()) != n {
		t.Error("restart emitted events")
	}
}

func TestEventsForEOL(t *testing.T) {
	base := mustParse(t, "acme.json", acmeCatalog)
	moved := mustParse(t, "acme2.json", strings.NewReplacer(
		`"eol": "2027-03-01"`, `"eol": "2026-11-01"`, // 2.1 ended early: reached
		`"eol": "2026-12-31"`, `"eol": "2027-12-31"`, // 2.0 extended
		`"eol": "2025-06-30"`, `"eol": false`, // 1.0's end withdrawn: no event (nothing ends)
	).Replace(acmeCatalog))
	evs := EventsFor(catalog.Diff(base, moved), moved, "", testNow)
	if len(evs) != 2 {
		t.Fatalf("EventsFor = %+v, want two eol events", evs)
	}
	for _, e := range evs {
		if e.Kind != events.KindEOL {
			t.Errorf("event %+v: kind %q, want eol", e, e.Kind)
		}
		switch e.Cycle {
		case "2.1":
			if e.Days != 0 || e.Date != "2026-11-01" || !strings.Contains(e.Reason, "reached") {
				t.Errorf("2.1 event = %+v, want reached on 2026-11-01", e)
			}
		case "2.0":
			if e.Days != 396 || e.Date != "2027-12-31" {
				t.Errorf("2.0 event = %+v, want 396 days to 2027-12-31", e)
			}
		}
	}
}

package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// fakeStore is an in-memory Store: hosts by hostname, each with its
// installs by product.
type fakeStore struct {
	mu          sync.Mutex
	hosts       map[string]map[string][]store.Install
	applied     []store.ReportInput
	assets      []store.AssetInput
	state       store.FleetState
	reevals     []store.ReEvalInput
	changes     int
	failFind    error
	ids         []string // hostnames by row id - 1
	onApply     func()   // runs inside ApplyReport (a catalog change mid-report)
	rejudged    []store.ReEvalInput
	rejudgedIDs [][]int64
	cands       []store.Candidate
}

func (f *fakeStore) FindHost(_ context.Context, ref string) (api.Host, int64, error) {
	if f.failFind != nil {
		return api.Host{}, 0, f.failFind
	}
	if _, ok := f.hosts[ref]; !ok {
		return api.Host{}, 0, fmt.Errorf("host %q: %w", ref, store.ErrNotFound)
	}
	f.ids = append(f.ids, ref)
	return api.Host{ID: "id-" + ref, Hostname: ref}, int64(len(f.ids)), nil
}

func (f *fakeStore) HostInstalls(_ context.Context, hostID int64, product string) ([]store.Install, error) {
	return f.hosts[f.ids[hostID-1]][product], nil
}

func (f *fakeStore) ReportSeen(context.Context, int64, string) (bool, error) { return false, nil }

func (f *fakeStore) Candidates(context.Context, int64) ([]store.Candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cands, nil
}

func (f *fakeStore) ApplyReport(_ context.Context, in store.ReportInput) (store.ReportResult, error) {
	if f.onApply != nil {
		f.onApply()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, in)
	return store.ReportResult{Changes: f.changes}, nil
}

func (f *fakeStore) ApplyAsset(_ context.Context, in store.AssetInput) (store.AssetResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assets = append(f.assets, in)
	up := in.Upload
	up.Added = len(in.Items)
	return store.AssetResult{Ref: store.HostRef{ID: 1, UID: "asset-1", Hostname: in.Name}, Created: len(f.assets) == 1,
		Upload: up, Changes: f.changes}, nil
}

func (f *fakeStore) FleetState(context.Context) (store.FleetState, error) { return f.state, nil }

func (f *fakeStore) ReEvaluate(_ context.Context, in store.ReEvalInput) (store.ReEvalResult, error) {
	f.reevals = append(f.reevals, in)
	f.state = store.FleetState{CatalogVersion: in.CatalogVersion, AsOf: in.AsOf}
	return store.ReEvalResult{Events: 1}, nil
}

func (f *fakeStore) RejudgeHosts(_ context.Context, ids []int64, in store.ReEvalInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rejudged = append(f.rejudged, in)
	f.rejudgedIDs = append(f.rejudgedIDs, slices.Sorted(slices.Values(ids)))
	return nil
}

func (f *fakeStore) PruneReports(context.Context, time.Time) (int64, error) { return 0, nil }
func (f *fakeStore) PruneSoftware(context.Context) (int64, error)           { return 0, nil }
func (f *fakeStore) DeleteAsset(context.Context, string) (api.Host, error)  { return api.Host{}, nil }
func (f *fakeStore) Optimize(context.Context) error                         { return nil }

var (
	catOnce sync.Once
	cat     *catalog.Catalog
	catErr  error
)

func newTestService(t *testing.T, st Store, notify func()) *Service {
	t.Helper()
	catOnce.Do(func() { cat, catErr = catalog.Default() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	s, err := New(Config{Store: st, Catalog: func() *catalog.Catalog { return cat }, Policy: catalog.DefaultPolicy(), Notify: notify,
		Now: func() time.Time { return time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestEligibility(t *testing.T) {
	st := &fakeStore{hosts: map[string]map[string][]store.Install{"web1": {"python": {{Version: "3.8.10", Installed: "3.8.10-1"}}}}}
	s := newTestService(t, st, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name, product, version, host string
		code                         fault.Code
		field                        string
		status                       string
	}{
		{"bare version", "python", "3.8.10", "", "", "", catalog.StatusEOL},
		{"on a host", "python", "", "web1", "", "", catalog.StatusEOL},
		{"not installed", "nginx", "", "web1", fault.NotFound, "", ""},
		{"unknown host", "python", "", "web9", fault.NotFound, "", ""},
		{"no product", "", "3.8", "", fault.Invalid, "product", ""},
		{"both", "python", "3.8", "web1", fault.Invalid, "host", ""},
		{"neither", "python", "", "", fault.Invalid, "version", ""},
		{"control character", "python", "3.8\n", "", fault.Invalid, "version", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := s.Eligibility(ctx, tc.product, tc.version, tc.host)
			fe, _ := fault.As(err)
			switch {
			case tc.code == "" && (err != nil || e.Status != tc.status || e.Reason == ""):
				t.Errorf("Eligibility = %+v, %v; want status %s", e, err, tc.status)
			case tc.code != "" && (fault.CodeOf(err) != tc.code || fe.Field != tc.field):
				t.Errorf("Eligibility error = %v, want code %s naming %q", err, tc.code, tc.field)
			}
		})
	}
	st.failFind = fmt.Errorf("%w: hostname shared", store.ErrAmbiguous)
	if _, err := s.Eligibility(ctx, "python", "", "web1"); !errors.Is(err, store.ErrAmbiguous) {
		t.Errorf("ambiguous host: %v", err)
	}
	// Without a database only bare versions can be judged.
	noDB := newTestService(t, nil, nil)
	if _, err := noDB.Eligibility(ctx, "python", "", "web1"); fault.CodeOf(err) != fault.Unavailable {
		t.Errorf("host question without a store: %v, want unavailable", err)
	}
}

func TestIngest(t *testing.T) {
	kicks := 0
	st := &fakeStore{changes: 1}
	s := newTestService(t, st, func() { kicks++ })
	kicks = 0 // New announces the first catalog
	ctx := context.Background()
	host := store.HostRef{ID: 1, UID: "h1", InstallID: "install-1"}
	rep := api.Report{ReportID: "r1", Kind: api.ReportFull, Host: api.HostInfo{InstallID: "install-1", Hostname: "web1", OSID: "debian", OSVersion: "12"},
		Items: []api.Item{{Source: "dpkg", Name: "python3.8", Version: "3.8.10-1"}, {Source: "dpkg", Name: "python3.8", Version: "3.8.10-1"}}}
	if _, err := s.Ingest(ctx, host, rep); err != nil {
		t.Fatal(err)
	}
	in := st.applied[0]
	if len(in.Items) != 2 || len(in.Verdicts) != 2 || in.AsOf != "2026-01-15" || in.CatalogVersion == "" {
		t.Errorf("stored %d items (OS + one python), %d verdicts as of %s: %+v", len(in.Items), len(in.Verdicts), in.AsOf, in)
	}
	if kicks != 1 {
		t.Errorf("notifier woken %d times after a report that changed verdicts, want 1", kicks)
	}
	rep.Host.InstallID = "install-2"
	if _, err := s.Ingest(ctx, host, rep); fault.CodeOf(err) != fault.Forbidden {
		t.Errorf("another host's install id: %v, want forbidden", err)
	}
}

func TestCatalogChangedReEvaluates(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	ctx := context.Background()
	if err := s.ReEvaluateIfStale(ctx); err != nil || len(st.reevals) != 1 || st.reevals[0].Match == nil {
		t.Fatalf("first evaluation: %v, %d runs (a new catalog re-matches)", err, len(st.reevals))
	}
	if err := s.ReEvaluateIfStale(ctx); err != nil || len(st.reevals) != 1 {
		t.Errorf("nothing changed, yet %d runs (%v)", len(st.reevals), err)
	}
	next, err := cat.WithRelease("python", "3.13", "3.13.99", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Catalog = func() *catalog.Catalog { return next }
	select {
	case <-s.reeval:
	default:
	}
	s.CatalogChanged()
	select {
	case <-s.reeval:
	default:
		t.Error("CatalogChanged did not schedule a re-evaluation")
	}
	if s.CatalogVersion() != next.Info().Version {
		t.Errorf("catalog version %s, want %s", s.CatalogVersion(), next.Info().Version)
	}
	if err := s.ReEvaluateIfStale(ctx); err != nil || len(st.reevals) != 2 {
		t.Errorf("after a catalog change: %d runs (%v), want 2", len(st.reevals), err)
	}
}

// TestRejudgeAfterCatalogChange: a report judged with a catalog that was
// replaced before it committed (another server published a release) is
// judged again with the new one; and a catalog change judges again the
// hosts judged here in the moments before it.
func TestRejudgeAfterCatalogChange(t *testing.T) {
	st := &fakeStore{}
	s := newTestService(t, st, nil)
	ctx := context.Background()
	cur := cat
	s.cfg.Catalog = func() *catalog.Catalog { return cur }
	next, err := cat.WithRelease("python", "3.13", "3.13.98", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	report := func(t *testing.T, id int64, rid string) {
		t.Helper()
		host := store.HostRef{ID: id, UID: fmt.Sprint("h", id), InstallID: fmt.Sprint("install-", id)}
		rep := api.Report{ReportID: rid, Kind: api.ReportFull, Host: api.HostInfo{InstallID: host.InstallID, Hostname: host.UID},
			Items: []api.Item{{Source: "dpkg", Name: "python3.13", Version: "3.13.1-1"}}}
		if _, err := s.Ingest(ctx, host, rep); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("changed while judging", func(t *testing.T) {
		st.onApply = func() { cur = next; s.CatalogChanged() }
		report(t, 1, "r1")
		st.onApply = nil
		if len(st.rejudged) != 1 || !slices.Equal(st.rejudgedIDs[0], []int64{1}) || st.rejudged[0].CatalogVersion != next.Info().Version || st.rejudged[0].Match == nil {
			t.Fatalf("rejudged %v with %+v, want host 1 with the new catalog, re-matched", st.rejudgedIDs, st.rejudged)
		}
	})
	t.Run("recent hosts after a change", func(t *testing.T) {
		report(t, 2, "r2")
		if len(st.rejudged) != 1 {
			t.Fatalf("a report judged with the catalog in force was judged again: %v", st.rejudgedIDs)
		}
		third, err := next.WithRelease("python", "3.13", "3.13.99", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		cur = third
		s.CatalogChanged()
		s.rejudgePending(ctx)
		if len(st.rejudged) != 2 || !slices.Equal(st.rejudgedIDs[1], []int64{1, 2}) || st.rejudged[1].CatalogVersion != third.Info().Version {
			t.Errorf("after the change: rejudged %v, want hosts 1 and 2 with the third catalog", st.rejudgedIDs)
		}
		s.rejudgePending(ctx)
		if len(st.rejudged) != 2 {
			t.Errorf("pending hosts judged twice: %v", st.rejudgedIDs)
		}
	})
}

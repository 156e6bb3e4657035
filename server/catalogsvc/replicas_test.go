package catalogsvc

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
)

// twoServers are two catalog services on one database, as two servers
// behind a load balancer are.
func twoServers(t *testing.T) (a, b *Service, cla, clb *changeLog, path string) {
	t.Helper()
	path = testDBPath(t, t.TempDir())
	cla, clb = &changeLog{}, &changeLog{}
	a = newAcme(t, NewSQLStore(openDB(t, path)), cla)
	b = newAcme(t, NewSQLStore(openDB(t, path)), clb)
	return a, b, cla, clb, path
}

func hasVersion(cat *catalog.Catalog, cycle, version string) bool {
	return hasRelease(cat, "acme", cycle, version)
}

// TestReplicasSeeEachOthersReleases: a release published through one
// server reaches the other's catalog by Refresh (no events there), and a
// change computed on a stale catalog is recomputed, not lost.
func TestReplicasSeeEachOthersReleases(t *testing.T) {
	ctx := context.Background()
	a, b, _, clb, path := twoServers(t)
	db := openDB(t, path)
	if _, err := a.Publish(ctx, Release{Product: "acme", Cycle: "2.1", Version: "2.1.3", Date: "2026-11-29"}); err != nil {
		t.Fatalf("Publish on a: %v", err)
	}
	events := countRows(t, db, "notifier_events")
	t.Run("refresh", func(t *testing.T) {
		if hasVersion(b.Current(), "2.1", "2.1.3") {
			t.Fatal("b has a's release before refreshing")
		}
		reloaded, err := b.Refresh(ctx)
		if err != nil || !reloaded {
			t.Fatalf("b.Refresh = %v, %v; want a reload", reloaded, err)
		}
		if !hasVersion(b.Current(), "2.1", "2.1.3") {
			t.Error("b's catalog lacks a's release after Refresh")
		}
		if len(clb.calls) != 1 {
			t.Errorf("b's OnChange ran %d times, want once (the fleet is re-evaluated on every server's signal)", len(clb.calls))
		}
		if again, err := b.Refresh(ctx); err != nil || again {
			t.Errorf("second Refresh = %v, %v; want nothing to do", again, err)
		}
		if n := countRows(t, db, "notifier_events"); n != events {
			t.Errorf("Refresh wrote %d events, want none (a announced its release)", n-events)
		}
	})
	t.Run("a change on a stale catalog is recomputed", func(t *testing.T) {
		if _, err := a.Publish(ctx, Release{Product: "acme", Cycle: "2.1", Version: "2.1.4", Date: "2026-11-29"}); err != nil {
			t.Fatal(err)
		}
		// b has not refreshed: its Publish is computed on a stale catalog, refused
		// by the store, reloaded and recomputed.
		if _, err := b.Publish(ctx, Release{Product: "acme", Cycle: "2.0", Version: "2.0.6", Date: "2026-11-29"}); err != nil {
			t.Fatalf("Publish on b: %v", err)
		}
		for _, v := range []string{"2.1.3", "2.1.4"} {
			if !hasVersion(b.Current(), "2.1", v) {
				t.Errorf("b's catalog lacks %s", v)
			}
		}
		if !hasVersion(b.Current(), "2.0", "2.0.6") {
			t.Error("b's catalog lacks its own release")
		}
		if _, err := a.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if !hasVersion(a.Current(), "2.0", "2.0.6") {
			t.Error("a's catalog lacks b's release after Refresh")
		}
		if got := countRows(t, db, "catalog_releases"); got != 3 {
			t.Errorf("catalog_releases = %d rows, want 3", got)
		}
	})
	t.Run("the same release from both at once is stored once", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*Service{a, b} {
			wg.Go(func() {
				_, errs[i] = s.Publish(ctx, Release{Product: "acme", Cycle: "2.1", Version: "2.1.5", Date: "2026-11-29"})
			})
		}
		wg.Wait()
		ok, conflict := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrConflict):
				conflict++
			default:
				t.Errorf("Publish: %v", err)
			}
		}
		if ok != 1 || conflict != 1 {
			t.Errorf("%d published, %d conflicts; want one of each (%v)", ok, conflict, errs)
		}
		if got := countRows(t, db, "catalog_releases"); got != 4 {
			t.Errorf("catalog_releases = %d rows, want 4", got)
		}
	})
}

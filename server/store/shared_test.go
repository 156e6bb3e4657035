package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
)

// The store methods the server's maintenance, metrics and the notifier
// call, on both engines, and what servers sharing one database (two Stores
// on one database here) rely on.

// TestReportIDsSeenAndPruned: a report id is remembered for idempotency
// until the maintenance prunes the ids received before a cutoff.
func TestReportIDsSeenAndPruned(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "i1", "web1")
	if _, err := st.ApplyReport(ctx, full(h, "r1", item("bash", "5", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyReport(ctx, ReportInput{Host: h, Report: api.Report{ReportID: "c1", Kind: api.ReportCheckin, InventoryHash: "h-r1"}}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"r1": true, "c1": true, "r2": false} {
		if got, err := st.ReportSeen(ctx, h.ID, id); err != nil || got != want {
			t.Errorf("ReportSeen(%s) = %t, %v; want %t", id, got, err, want)
		}
	}
	if n, err := st.PruneReports(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Errorf("PruneReports an hour ago = %d, %v; want 0 (both are newer)", n, err)
	}
	if n, err := st.PruneReports(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
		t.Errorf("PruneReports now = %d, %v; want 2", n, err)
	}
	if got, _ := st.ReportSeen(ctx, h.ID, "r1"); got {
		t.Error("r1 is still seen after pruning")
	}
	// The inventory stays: only the idempotency record went.
	if d, err := st.HostDetail(ctx, Scope{}, h.UID); err != nil || len(d.Inventory) != 1 {
		t.Errorf("HostDetail after pruning: %d items, %v; want the stored inventory", len(d.Inventory), err)
	}
}

// TestHostStatusReads: the counts behind the metrics, a host's verdict for
// one product, and the notifier's question "does the fleet run this?".
func TestHostStatusReads(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	a := enroll(t, st, "i1", "a")
	b := enroll(t, st, "i2", "b")
	enroll(t, st, "i3", "c") // never reported
	if _, err := st.ApplyReport(ctx, full(a, "r", item("python3", "old3", "python"), item("python3.12", "3.12.1", "python"))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyReport(ctx, full(b, "r", item("nginx", "1.25", "nginx"))); err != nil {
		t.Fatal(err)
	}
	counts, err := st.HostsByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[catalog.StatusEOL] != 1 || counts[catalog.StatusCurrent] != 1 || sum(counts) != 3 {
		t.Errorf("HostsByStatus = %v; want 1 eol, 1 current, 3 hosts in all", counts)
	}
	worst, all, ok, err := st.HostVerdictFor(ctx, a.ID, "python")
	if err != nil || !ok || len(all) != 2 || worst.Status != catalog.StatusEOL || worst.Version != "old3" {
		t.Errorf("HostVerdictFor(a, python) = %+v, %d verdicts, %t, %v; want the eol old3 first of 2", worst, len(all), ok, err)
	}
	if _, _, ok, err := st.HostVerdictFor(ctx, b.ID, "python"); ok || err != nil {
		t.Errorf("HostVerdictFor(b, python) ok = %t, %v; want not installed", ok, err)
	}
	for _, tc := range []struct {
		product, cycle string
		want           bool
	}{{"python", "", true}, {"python", "1", true}, {"python", "2", false}, {"nginx", "", true}, {"perl", "", false}} {
		t.Run(tc.product+"/"+tc.cycle, func(t *testing.T) {
			if got, err := st.FleetRuns(ctx, tc.product, tc.cycle); err != nil || got != tc.want {
				t.Errorf("FleetRuns(%q, %q) = %t, %v; want %t", tc.product, tc.cycle, got, err, tc.want)
			}
		})
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// openSecond opens another Store on the database of st, as a second server
// sharing it would (SQLite: the same file).
func openSecond(t *testing.T, database, dir string) *Store {
	t.Helper()
	st, err := OpenDatabase(context.Background(), database, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// twoServers opens two Stores on one fresh database, as two servers
// sharing it have, and enrolls n hosts (install id i<i>, hostname h<i>),
// host i through stores[via(i)].
func twoServers(t *testing.T, n int, via func(i int) int) (stores []*Store, refs []HostRef) {
	t.Helper()
	database, dir := testLocation(t)
	stores = []*Store{openSecond(t, database, dir), openSecond(t, database, dir)}
	refs = make([]HostRef, n)
	for i := range refs {
		refs[i] = enroll(t, stores[via(i)], fmt.Sprint("i", i), fmt.Sprint("h", i))
	}
	return stores, refs
}

// TestSharedKeyOnePerDatabase: servers starting at once on one database
// get one and the same key per name (the dashboard's session key).
func TestSharedKeyOnePerDatabase(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	stores := []*Store{openSecond(t, database, dir), openSecond(t, database, dir)}
	keys := make([][]byte, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = stores[i%2].SharedKey(ctx, "session_key", 32) })
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil || len(keys[i]) != 32 || !slices.Equal(keys[i], keys[0]) {
			t.Errorf("SharedKey #%d = %x, %v; want the one 32-byte key %x", i, keys[i], errs[i], keys[0])
		}
	}
	other, err := stores[1].SharedKey(ctx, "other", 32)
	if err != nil || slices.Equal(other, keys[0]) {
		t.Errorf("SharedKey(other) = %x, %v; want a key of its own", other, err)
	}
	if err := stores[0].SetMeta(ctx, "key:bad", "zz"); err != nil {
		t.Fatal(err)
	}
	if _, err := stores[1].SharedKey(ctx, "bad", 32); err == nil {
		t.Error("SharedKey of a stored value that is not 32 hex bytes: no error")
	}
}

// TestReportsThroughTwoServers: agents report through two servers (two
// Stores on one database) at once, some hosts through both, with the same
// new software rows: every report applies (none lost to a deadlock or a
// duplicate software row), and each host ends with the inventory of the
// last report it sent.
func TestReportsThroughTwoServers(t *testing.T) {
	ctx := context.Background()
	const hosts, reports = 6, 12
	stores, refs := twoServers(t, hosts, func(i int) int { return i % 2 })
	inv := func(host, seq int) []MatchedItem {
		items := []MatchedItem{item("python3", fmt.Sprintf("3.%d.0", seq%4), "python")}
		for p := range 40 {
			// Shared names and versions: every host inserts the same new
			// software rows in the same moments.
			items = append(items, item(fmt.Sprint("pkg", p), fmt.Sprintf("1.%d", (p+seq)%5), ""))
		}
		return items
	}
	var wg sync.WaitGroup
	errs := make(chan error, hosts*reports)
	for i := range refs {
		// Two goroutines per host (one per server) take turns by sequence
		// number, so a host's reports go through both servers in order.
		turn := make(chan int, 1)
		turn <- 0
		for srv := range stores {
			wg.Go(func() {
				for {
					seq := <-turn
					if seq >= reports {
						turn <- seq
						return
					}
					if seq%2 != srv {
						turn <- seq
						continue
					}
					if _, err := stores[srv].ApplyReport(ctx, full(refs[i], fmt.Sprint("r", seq), inv(i, seq)...)); err != nil {
						errs <- fmt.Errorf("host %d report %d through store %d: %w", i, seq, srv, err)
					}
					turn <- seq + 1
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, h := range refs {
		d, err := stores[(i+1)%2].HostDetail(ctx, Scope{}, h.UID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, it := range inv(i, reports-1) {
			want[it.Item.Name] = it.Item.Version
		}
		got := map[string]string{}
		for _, it := range d.Inventory {
			got[it.Name] = it.Version
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("host %d inventory %v, want the last report's %v", i, got, want)
		}
		if len(d.Verdicts) != 1 || d.Verdicts[0].Version != fmt.Sprintf("3.%d.0", (reports-1)%4) {
			t.Errorf("host %d verdicts %+v, want python 3.%d.0 alone", i, d.Verdicts, (reports-1)%4)
		}
	}
	var dup int
	if err := stores[0].r.QueryRow(`SELECT COUNT(*) FROM (SELECT source, name, version FROM software GROUP BY source, name, version HAVING COUNT(*) > 1) d`).Scan(&dup); err != nil || dup != 0 {
		t.Errorf("%d duplicated software rows (%v)", dup, err)
	}
}

// TestOneHostThroughTwoServersAtOnce: one host's reports reach two servers
// at the same moments (an agent retrying through a load balancer): they
// apply one after the other, so the host ends with exactly one report's
// inventory and its verdicts, never a mix of two.
func TestOneHostThroughTwoServersAtOnce(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	stores := []*Store{openSecond(t, database, dir), openSecond(t, database, dir)}
	h := enroll(t, stores[0], "i1", "web1")
	inv := func(srv, seq int) []MatchedItem {
		v := fmt.Sprintf("3.%d.%d", 10+srv, seq)
		items := []MatchedItem{item("python3", v, "python")}
		for p := range 30 {
			items = append(items, item(fmt.Sprintf("s%d-pkg%d", srv, (p+seq)%35), "1.0", ""))
		}
		return items
	}
	const reports, senders = 10, 3
	var wg sync.WaitGroup
	errs := make(chan error, 2*reports*senders)
	for sender := range 2 * senders {
		srv := sender % 2
		wg.Go(func() {
			for seq := range reports {
				if _, err := stores[srv].ApplyReport(ctx, full(h, fmt.Sprintf("s%d-%d-r%d", srv, sender, seq), inv(srv, seq)...)); err != nil {
					errs <- fmt.Errorf("report %d through store %d: %w", seq, srv, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	d, err := stores[1].HostDetail(ctx, Scope{}, h.UID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, it := range d.Inventory {
		got[it.Name+"="+it.Version] = true
	}
	match := false
	for srv := range stores {
		for seq := range reports {
			want := map[string]bool{}
			for _, it := range inv(srv, seq) {
				want[it.Item.Name+"="+it.Item.Version] = true
			}
			if fmt.Sprint(want) == fmt.Sprint(got) {
				match = true
				if len(d.Verdicts) != 1 || d.Verdicts[0].Version != fmt.Sprintf("3.%d.%d", 10+srv, seq) {
					t.Errorf("the inventory is report %d of store %d but the verdicts are %+v", seq, srv, d.Verdicts)
				}
			}
		}
	}
	if !match {
		t.Errorf("the host's inventory (%d items) is no report's: %v", len(got), got)
	}
	if d.Items != len(d.Inventory) {
		t.Errorf("host item count %d, inventory %d", d.Items, len(d.Inventory))
	}
}

// TestSoftwareIDCacheAcrossServers: a server's cache of software row ids
// stays right whatever another server sharing the database deletes or
// prunes (an asset with its rows, old report ids, the software rows no
// host has any more): an id it holds names the same row or a deleted one,
// never another (ids are never given twice), and a report through it of
// the deleted asset's items stores them as they are (a link to a deleted
// row fails and the report runs again without the cache).
func TestSoftwareIDCacheAcrossServers(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	a, b := openSecond(t, database, dir), openSecond(t, database, dir)
	if err := notifier.Migrate(ctx, a.DB()); err != nil {
		t.Fatal(err)
	}
	items := []MatchedItem{item("python3.7", "old3.7", "python"), item("libc6", "2.36", ""), item("zlib1g", "1.2.13", "")}
	first, err := a.ApplyAsset(ctx, asset("registry.example/app:1.4", nil, items...))
	if err != nil {
		t.Fatal(err)
	}
	var before int
	a.r.QueryRow(`SELECT COUNT(*) FROM software`).Scan(&before)
	if _, err := b.DeleteAsset(ctx, first.Ref.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PruneReports(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PruneSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	var after int
	b.r.QueryRow(`SELECT COUNT(*) FROM software`).Scan(&after)
	if after >= before {
		t.Fatalf("software rows %d after another server deleted an asset and pruned its software, %d before: want fewer", after, before)
	}
	// Through a, whose cache holds the ids: a host and an asset with the
	// same items.
	h := enroll(t, a, "install-9", "web9")
	if _, err := a.ApplyReport(ctx, full(h, "r9", items...)); err != nil {
		t.Fatalf("report through the server with the cached ids: %v", err)
	}
	second, err := a.ApplyAsset(ctx, asset("registry.example/app:1.5", nil, items...))
	if err != nil {
		t.Fatalf("asset through the server with the cached ids: %v", err)
	}
	for _, uid := range []string{h.UID, second.Ref.UID} {
		d, err := b.HostDetail(ctx, Scope{}, uid)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range d.Inventory {
			got = append(got, it.Name+" "+it.Version)
		}
		slices.Sort(got)
		if want := []string{"libc6 2.36", "python3.7 old3.7", "zlib1g 1.2.13"}; !slices.Equal(got, want) {
			t.Errorf("%s read through the other server: inventory %v, want %v", uid, got, want)
		}
	}
}

package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// softwareID is the id of st's software row named name (of one row only).
func softwareID(t testing.TB, st *Store, name string) int64 {
	t.Helper()
	var id int64
	if err := st.Reader().QueryRowContext(context.Background(), `SELECT id FROM software WHERE name = ?`, name).Scan(&id); err != nil {
		t.Fatalf("software %s: %v", name, err)
	}
	return id
}

// softwareRows lists the software table's rows as "name version", sorted.
func softwareRows(t testing.TB, st *Store) []string {
	t.Helper()
	rows, err := st.r.Query(`SELECT name, version FROM software`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n, v string
		if err := rows.Scan(&n, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, n+" "+v)
	}
	slices.Sort(out)
	return out
}

// TestPruneSoftware (both engines): software no host and no asset links
// any more is deleted by PruneSoftware; what a host or an asset still has
// stays, and so does a deleted asset's software until the next prune; a
// pruned package reported again is stored anew.
func TestPruneSoftware(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	a := enroll(t, st, "i1", "a")
	b := enroll(t, st, "i2", "b")
	if _, err := st.ApplyReport(ctx, full(a, "a1", item("bash", "5", ""), item("curl", "1", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyReport(ctx, full(b, "b1", item("bash", "5", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyAsset(ctx, asset("app:1", nil, item("lib-a", "1", ""), item("bash", "5", ""))); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneSoftware(ctx); err != nil || n != 0 {
		t.Fatalf("PruneSoftware with everything linked = %d, %v; want 0", n, err)
	}
	// a upgrades bash and drops curl: curl 1 is nobody's, bash 5 is b's
	// and the asset's still.
	if _, err := st.ApplyReport(ctx, full(a, "a2", item("bash", "6", ""))); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneSoftware(ctx); err != nil || n != 1 {
		t.Fatalf("PruneSoftware = %d, %v; want 1 (curl 1)", n, err)
	}
	if got, want := softwareRows(t, st), []string{"bash 5", "bash 6", "lib-a 1"}; !slices.Equal(got, want) {
		t.Errorf("software after pruning = %q, want %q", got, want)
	}
	// b upgrades too; the deleted asset's lib-a 1 and bash 5 are pruned.
	if _, err := st.ApplyReport(ctx, full(b, "b2", item("bash", "6", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteAsset(ctx, "app:1"); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneSoftware(ctx); err != nil || n != 2 {
		t.Fatalf("PruneSoftware after deleting the asset = %d, %v; want 2", n, err)
	}
	if got, want := softwareRows(t, st), []string{"bash 6"}; !slices.Equal(got, want) {
		t.Errorf("software after deleting the asset = %q, want %q", got, want)
	}
	// Reported again, pruned software comes back (its cached id was
	// forgotten: no foreign-key failure).
	if _, err := st.ApplyReport(ctx, full(a, "a3", item("bash", "6", ""), item("curl", "1", ""))); err != nil {
		t.Fatalf("a pruned package reported again: %v", err)
	}
	if d, err := st.HostDetail(ctx, Scope{}, a.UID); err != nil || len(d.Inventory) != 2 {
		t.Errorf("a's inventory = %+v, %v; want bash 6 and curl 1", d.Inventory, err)
	}
	if n, err := st.PruneSoftware(ctx); err != nil || n != 0 {
		t.Errorf("PruneSoftware at the end = %d, %v; want 0", n, err)
	}
	// The writer checks foreign keys again after a prune (SQLite turns
	// them off for it): a link to no software row is refused.
	if _, err := st.w.ExecContext(ctx, `INSERT INTO host_software (host_id, software_id) VALUES (?, ?)`, a.ID, 1<<40); err == nil {
		t.Error("a link to a software row that does not exist was stored after a prune: foreign keys are off")
	}
}

// TestPruneSoftwareManyBatches: a walk over more rows than one batch
// deletes every unlinked row and keeps every linked one.
func TestPruneSoftwareManyBatches(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "i1", "a")
	var before, after []MatchedItem
	for i := range 2*pruneBatch + 10 {
		before = append(before, item(fmt.Sprintf("pkg%05d", i), "1", ""))
		if i%3 == 0 || i == 2*pruneBatch+9 { // the newest row stays linked (SQLite keeps the newest)
			after = append(after, before[i])
		}
	}
	if _, err := st.ApplyReport(ctx, full(h, "r1", before...)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyReport(ctx, full(h, "r2", after...)); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneSoftware(ctx); err != nil || n != int64(len(before)-len(after)) {
		t.Fatalf("PruneSoftware = %d, %v; want %d", n, err, len(before)-len(after))
	}
	if got := len(softwareRows(t, st)); got != len(after) {
		t.Errorf("%d software rows left, want %d", got, len(after))
	}
}

// TestPruneBesideAnotherServersCache (both engines): a server whose cache
// still holds the id of a row another server pruned links the package
// again without failing: the report runs again and stores the row anew.
func TestPruneBesideAnotherServersCache(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	one := openSecond(t, database, dir)
	two := openSecond(t, database, dir)
	h := enroll(t, two, "i1", "a")
	if _, err := two.ApplyReport(ctx, full(h, "r1", item("bash", "5", ""), item("curl", "1", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := two.ApplyReport(ctx, full(h, "r2", item("bash", "5", ""), item("zsh", "1", ""))); err != nil {
		t.Fatal(err)
	}
	if n, err := one.PruneSoftware(ctx); err != nil || n != 1 {
		t.Fatalf("PruneSoftware on the other server = %d, %v; want 1", n, err)
	}
	// two's cache still maps curl 1 to the deleted row's id.
	res, err := two.ApplyReport(ctx, full(h, "r3", item("bash", "5", ""), item("zsh", "1", ""), item("curl", "1", "")))
	if err != nil || res.Added != 1 {
		t.Fatalf("report linking the pruned package through a stale cache = %+v, %v; want curl added", res, err)
	}
	if got, want := softwareRows(t, one), []string{"bash 5", "curl 1", "zsh 1"}; !slices.Equal(got, want) {
		t.Errorf("software = %q, want %q", got, want)
	}
}

// TestPruneDuringIngest (both engines): reports that keep adding and
// dropping packages on several hosts, through two servers, while both
// prune over and over: no report fails (no foreign-key error), every host
// ends with its last report's inventory, and a last prune leaves exactly
// the software some host has.
func TestPruneDuringIngest(t *testing.T) {
	ctx := context.Background()
	const hosts, reports = 4, 25
	stores, refs := twoServers(t, hosts, func(int) int { return 0 })
	// Report r of host i: a common package, the shared packages
	// shared-(r%3) and shared-((r+1)%3), and the host's own flip package at
	// version r%2, so rows are dropped (and pruned) and linked again over
	// and over, by ids the servers' caches still hold.
	items := func(i, r int) []MatchedItem {
		return []MatchedItem{item("base", "1", ""), item(fmt.Sprintf("shared-%d", r%3), "1", ""),
			item(fmt.Sprintf("shared-%d", (r+1)%3), "1", ""), item(fmt.Sprintf("flip-%d", i), strconv.Itoa(r%2), "")}
	}
	stop := make(chan struct{})
	var mu sync.Mutex
	var pruneErr error
	var pruned int64
	var pwg sync.WaitGroup
	for _, st := range stores {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := st.PruneSoftware(ctx)
				mu.Lock()
				pruned += n
				if err != nil {
					pruneErr = err
				}
				mu.Unlock()
				if err != nil {
					return
				}
				time.Sleep(time.Millisecond) // pacing, not waiting: prunes run over and over but leave the writers room
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, hosts*reports)
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range reports {
				if _, err := stores[(i+r)%2].ApplyReport(ctx, full(refs[i], fmt.Sprintf("r%d", r), items(i, i+r)...)); err != nil {
					errs <- fmt.Errorf("host %d report %d: %w", i, r, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	pwg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if pruneErr != nil {
		t.Errorf("PruneSoftware: %v", pruneErr)
	}
	t.Logf("%d rows pruned while reports were applied", pruned)
	want := map[string]bool{}
	for i, h := range refs {
		d, err := stores[0].HostDetail(ctx, Scope{}, h.UID)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp []string
		for _, it := range d.Inventory {
			got = append(got, it.Name)
		}
		for _, it := range items(i, i+reports-1) {
			exp = append(exp, it.Item.Name)
			want[it.Item.Name+" "+it.Item.Version] = true
		}
		slices.Sort(got)
		slices.Sort(exp)
		if !slices.Equal(got, exp) {
			t.Errorf("host %d inventory = %q, want its last report's %q", i, got, exp)
		}
	}
	// The newest row (which SQLite keeps) is linked once a last report
	// adds a package no host had.
	if _, err := stores[1].ApplyReport(ctx, full(refs[0], "last", append(items(0, reports-1), item("newest", "1", ""))...)); err != nil {
		t.Fatal(err)
	}
	want["newest 1"] = true
	if _, err := stores[1].PruneSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	var exp []string
	for k := range want {
		exp = append(exp, k)
	}
	slices.Sort(exp)
	if got := softwareRows(t, stores[0]); !slices.Equal(got, exp) {
		t.Errorf("software after the last prune = %q, want what the hosts have, %q", got, exp)
	}
}

// TestPrunedIDsNeverReused (both engines): a pruned row's id is never
// given to a new row, so an id a cache still holds for it can only fail
// its link, never name another package: the report runs again and the
// host gets what it reported.
func TestPrunedIDsNeverReused(t *testing.T) {
	ctx := context.Background()
	database, dir := testLocation(t)
	one := openSecond(t, database, dir)
	two := openSecond(t, database, dir)
	a := enroll(t, two, "i1", "a")
	b := enroll(t, one, "i2", "b")
	if _, err := two.ApplyReport(ctx, full(a, "r1", item("old", "1", ""))); err != nil {
		t.Fatal(err)
	}
	if _, err := two.ApplyReport(ctx, full(a, "r2", item("keep", "1", ""))); err != nil {
		t.Fatal(err)
	}
	oldID := softwareID(t, one, "old")
	// a drops keep too: old and keep (the newest) are both unlinked.
	if _, err := two.ApplyReport(ctx, full(a, "r3")); err != nil {
		t.Fatal(err)
	}
	if _, err := one.PruneSoftware(ctx); err != nil {
		t.Fatal(err)
	}
	// A new package on b: its row must not take old's id, which two's
	// cache still holds.
	if _, err := one.ApplyReport(ctx, full(b, "r1", item("new", "1", ""))); err != nil {
		t.Fatal(err)
	}
	newID := softwareID(t, one, "new")
	if newID == oldID {
		t.Fatalf("the new row took the pruned row's id %d", oldID)
	}
	if _, err := two.ApplyReport(ctx, full(a, "r4", item("old", "1", ""))); err != nil {
		t.Fatalf("a reports the pruned package again through a stale cache: %v", err)
	}
	for h, want := range map[HostRef]string{a: "old", b: "new"} {
		d, err := one.HostDetail(ctx, Scope{}, h.UID)
		if err != nil || len(d.Inventory) != 1 || d.Inventory[0].Name != want {
			t.Errorf("host %s inventory = %+v, %v; want only %s", h.Hostname, d.Inventory, err, want)
		}
	}
}

package service

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// pruneFixture is the prune tests' setup (both engines): a fresh store
// with the notifier's tables, a service at a fixed time and one enrolled
// Debian host, its info and its reference.
func pruneFixture(t *testing.T) (*store.Store, *Service, api.HostInfo, store.HostRef) {
	t.Helper()
	ctx := context.Background()
	database, dir := storeLocation(t)
	st := openStore(t, database, dir)
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	h := debianHost()
	_, key, err := st.Enroll(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := st.HostByNodeKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	return st, s, h, ref
}

// TestMaintainPrunesSoftware (both engines): the hourly maintenance job
// deletes the software rows no host has any more (a package upgraded on
// every host that had it) and keeps the rest.
func TestMaintainPrunesSoftware(t *testing.T) {
	ctx := context.Background()
	st, s, h, ref := pruneFixture(t)
	count := func() (n int) {
		t.Helper()
		if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM software`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old := []api.Item{{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u8", Arch: "amd64"}, {Source: "dpkg", Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64"}}
	upgraded := []api.Item{{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12", Arch: "amd64"}, old[1]}
	for i, items := range [][]api.Item{old, upgraded} {
		if _, err := s.Ingest(ctx, ref, api.Report{ReportID: fmt.Sprintf("r%d", i), Kind: api.ReportFull, Host: h, Items: items, InventoryHash: fmt.Sprintf("h%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := st.HostDetail(ctx, store.Scope{}, ref.UID)
	if err != nil {
		t.Fatal(err)
	}
	// The host's items (with its OS), and the curl it had before.
	before := count()
	if before != len(d.Inventory)+1 {
		t.Fatalf("%d software rows before maintenance, want the host's %d and the old curl", before, len(d.Inventory))
	}
	s.maintain(ctx)
	if n := count(); n != before-1 {
		t.Errorf("%d software rows after maintenance, want %d (the old curl pruned)", n, before-1)
	}
	if d2, err := st.HostDetail(ctx, store.Scope{}, ref.UID); err != nil || len(d2.Inventory) != len(d.Inventory) {
		t.Errorf("inventory after maintenance = %d items, %v; want %d", len(d2.Inventory), err, len(d.Inventory))
	}
}

// TestDeleteAssetPrunesSoftware (both engines): deleting an asset prunes
// at once the components no other host or asset has; one a host still
// runs stays.
func TestDeleteAssetPrunesSoftware(t *testing.T) {
	ctx := context.Background()
	st, s, h, ref := pruneFixture(t)
	shared := api.Item{Source: "dpkg", Name: "bash", Version: "5.2.15-2+b7", Arch: "amd64"}
	if _, err := s.Ingest(ctx, ref, api.Report{ReportID: "r1", Kind: api.ReportFull, Host: h, Items: []api.Item{shared}, InventoryHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	mine := store.MatchedItem{Item: api.Item{Source: "npm", Name: "left-pad", Version: "1.3.0"}}
	if _, err := st.ApplyAsset(ctx, store.AssetInput{Name: "app:1", Items: []store.MatchedItem{mine, {Item: shared}}, AsOf: "2026-12-01"}); err != nil {
		t.Fatal(err)
	}
	// A host reports a package after the upload: on SQLite the newest
	// software row is kept by a prune (its id must not be given again).
	if _, err := s.Ingest(ctx, ref, api.Report{ReportID: "r2", Kind: api.ReportFull, Host: h, InventoryHash: "h2",
		Items: []api.Item{shared, {Source: "dpkg", Name: "zsh", Version: "5.9-4+b5", Arch: "amd64"}}}); err != nil {
		t.Fatal(err)
	}
	names := func() (out []string) {
		t.Helper()
		rows, err := st.DB().QueryContext(ctx, `SELECT name FROM software ORDER BY name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			rows.Scan(&n)
			out = append(out, n)
		}
		return out
	}
	if got := names(); !slices.Contains(got, "left-pad") || !slices.Contains(got, "bash") {
		t.Fatalf("software before = %q", got)
	}
	if _, err := s.DeleteAsset(ctx, "app:1"); err != nil {
		t.Fatal(err)
	}
	if got := names(); slices.Contains(got, "left-pad") || !slices.Contains(got, "bash") {
		t.Errorf("software after deleting the asset = %q, want left-pad gone and bash kept", got)
	}
}

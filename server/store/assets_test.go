package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

// asset is an SBOM upload of items for the asset named name.
func asset(name string, labels map[string]string, items ...MatchedItem) AssetInput {
	in := full(HostRef{}, "sbom", items...)
	return AssetInput{Name: name, Labels: labels, Info: api.HostInfo{OSID: "debian", OSVersion: "12", OSName: "debian"},
		Items: in.Items, Verdicts: in.Verdicts, CatalogVersion: in.CatalogVersion, AsOf: in.AsOf,
		Upload: api.SBOMUpload{UploadedBy: "api:ci", Format: "cyclonedx", SpecVersion: "1.6", SHA256: "abc", Components: len(items)}}
}

// TestApplyAsset: the first upload creates the asset, a later one replaces
// its inventory and verdicts (with fleet events) and both stay in its
// history; the asset is a host of kind asset for listing, finding,
// compliance and staleness.
func TestApplyAsset(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "install-1", "web1")
	if _, err := st.ApplyReport(ctx, full(h, "r1", item("python3.11", "3.11.2", "python"))); err != nil {
		t.Fatal(err)
	}
	first, err := st.ApplyAsset(ctx, asset("registry.example/app:1.4", map[string]string{"team": "payments"},
		item("python3.7", "old3.7", "python"), item("libc6", "2.36", "")))
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.Ref.UID == "" || first.Upload.Added != 2 || first.Upload.Status != catalog.StatusEOL {
		t.Fatalf("first upload %+v", first)
	}
	events := countEvents(t, st)
	second, err := st.ApplyAsset(ctx, asset("registry.example/app:1.4", map[string]string{"team": "core"},
		item("python3.11", "3.11.2", "python"), item("libc6", "2.36", "")))
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Ref.UID != first.Ref.UID || second.Upload.Added != 1 || second.Upload.Removed != 1 ||
		second.Changes != 1 || countEvents(t, st) != events+1 {
		t.Fatalf("second upload %+v, events %d → %d", second, events, countEvents(t, st))
	}

	d, err := st.HostDetail(ctx, Scope{}, first.Ref.UID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Kind != api.KindAsset || d.Hostname != "registry.example/app:1.4" || d.Labels["team"] != "core" || d.Items != 2 ||
		d.Status != catalog.StatusCurrent || len(d.Uploads) != 2 || d.Uploads[0].Added != 1 || d.Uploads[1].Added != 2 ||
		d.Uploads[1].Status != catalog.StatusEOL || d.Info.OSID != "debian" {
		t.Fatalf("asset detail %+v", d)
	}
	if h, _, err := st.FindHost(ctx, "asset:registry.example/app:1.4"); err != nil || h.ID != first.Ref.UID {
		t.Fatalf("FindHost(asset:NAME) = %+v, %v", h, err)
	}
	if _, _, err := st.FindHost(ctx, "asset:web1"); err == nil {
		t.Fatal("FindHost(asset:web1) found a host that is no asset")
	}

	for _, tc := range []struct {
		kind  string
		names []string
	}{{"", []string{"registry.example/app:1.4", "web1"}}, {api.KindAsset, []string{"registry.example/app:1.4"}}, {api.KindHost, []string{"web1"}}} {
		t.Run("kind="+tc.kind, func(t *testing.T) {
			list, err := st.ListHosts(ctx, HostFilter{Kind: tc.kind})
			if err != nil {
				t.Fatal(err)
			}
			page, err := st.SearchHosts(ctx, HostSearch{Kind: tc.kind})
			if err != nil {
				t.Fatal(err)
			}
			if list.Total != len(tc.names) || page.Total != len(tc.names) {
				t.Errorf("kind %q: ListHosts %d, SearchHosts %d, want %d", tc.kind, list.Total, page.Total, len(tc.names))
			}
			for i, n := range tc.names {
				if list.Hosts[i].Hostname != n || page.Hosts[i].Hostname != n {
					t.Errorf("kind %q: row %d = %s / %s, want %s", tc.kind, i, list.Hosts[i].Hostname, page.Hosts[i].Hostname, n)
				}
			}
		})
	}

	c, err := st.Compliance(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Hosts != 1 || c.Assets != 1 || c.AssetsByStatus[catalog.StatusCurrent] != 1 || c.Installs != 2 {
		t.Errorf("compliance %+v", c)
	}
	hosts, _ := st.CountHosts(ctx)
	assets, _ := st.CountAssets(ctx)
	stale, _ := st.CountStaleHosts(ctx, Scope{}, time.Now().Add(time.Hour))
	page, _ := st.SearchHosts(ctx, HostSearch{StaleBefore: time.Now().Add(time.Hour)})
	if hosts != 1 || assets != 1 || stale != 1 || page.Total != 1 || page.Hosts[0].Hostname != "web1" {
		t.Errorf("hosts %d, assets %d, stale %d (%d listed); want 1, 1, 1: an asset is never stale", hosts, assets, stale, page.Total)
	}
}

// TestAssetCustomer: an upload assigns its asset to a customer (scoped
// reads then show it to that customer only) or to none; an id that names
// no customer is refused naming the field, with nothing stored.
func TestAssetCustomer(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	acme, _ := createCustomer(t, st, "Acme")
	in := asset("registry.example/app:1", nil, item("python3.11", "3.11.2", "python"))
	in.Customer = acme.ID
	res, err := st.ApplyAsset(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.HostDetail(ctx, Scope{Customer: acme.ID}, res.Ref.UID)
	if err != nil || d.CustomerID != acme.ID || d.Customer != "Acme" {
		t.Fatalf("Acme's asset in Acme's scope: %+v, %v", d.Host, err)
	}
	if c, _ := st.Customer(ctx, acme.ID); c.Hosts != 1 {
		t.Errorf("Acme counts %d hosts and assets, want 1 (its asset)", c.Hosts)
	}
	enrollFor(t, st, "i-acme", "acme-1", acme.ID)
	enroll(t, st, "i-none", "none-1")
	if per, err := st.HostsPerCustomer(ctx); err != nil || len(per) != 2 || per[acme.ID] != 1 || per[""] != 1 {
		t.Errorf("HostsPerCustomer = %v, %v; want one host of Acme's and one of no customer (assets not counted)", per, err)
	}
	bad := asset("registry.example/other:1", nil, item("python3.11", "3.11.2", "python"))
	bad.Customer = "nobody"
	if _, err := st.ApplyAsset(ctx, bad); !fault.Is(err, fault.Invalid) || func() string { fe, _ := fault.As(err); return fe.Field }() != "customer" {
		t.Errorf("ApplyAsset for an unknown customer: %v, want invalid customer", err)
	}
	if _, _, err := st.FindHost(ctx, "asset:registry.example/other:1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the refused upload stored its asset: %v", err)
	}
	in.Customer = ""
	if _, err := st.ApplyAsset(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HostDetail(ctx, Scope{Customer: acme.ID}, res.Ref.UID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the asset uploaded again without customer is still in Acme's scope: %v", err)
	}
}

// TestDeleteAsset: an asset is deleted by id or by name with everything
// that hangs off it (inventory, verdicts, upload history), so it leaves the
// lists and the compliance counts; a host enrolled by an agent is not an
// asset and is not deleted (409), an unknown one is not found.
func TestDeleteAsset(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "install-1", "web1")
	if _, err := st.ApplyReport(ctx, full(h, "r1", item("python3.11", "3.11.2", "python"))); err != nil {
		t.Fatal(err)
	}
	a, err := st.ApplyAsset(ctx, asset("registry.example/app:1.4", nil, item("python3.7", "old3.7", "python"), item("libc6", "2.36", "")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.ApplyAsset(ctx, asset("registry.example/app:1.5", nil, item("python3.11", "3.11.2", "python")))
	if err != nil {
		t.Fatal(err)
	}
	rows := func(t *testing.T, id int64) int {
		var n int
		for _, table := range []string{"hosts WHERE id = ?", "host_software WHERE host_id = ?", "verdicts WHERE host_id = ?", "sbom_uploads WHERE host_id = ?"} {
			var k int
			if err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table, id).Scan(&k); err != nil {
				t.Fatal(err)
			}
			n += k
		}
		return n
	}
	if rows(t, a.Ref.ID) == 0 {
		t.Fatal("the asset has no rows to delete")
	}
	for _, tc := range []struct {
		name, ref string
		id        int64
	}{{"by id", a.Ref.UID, a.Ref.ID}, {"by name", "registry.example/app:1.5", b.Ref.ID}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := st.DeleteAsset(ctx, tc.ref)
			if err != nil || got.Kind != api.KindAsset || got.ID == "" {
				t.Fatalf("DeleteAsset(%q) = %+v, %v", tc.ref, got, err)
			}
			if n := rows(t, tc.id); n != 0 {
				t.Errorf("%d rows of the deleted asset left", n)
			}
			if _, err := st.DeleteAsset(ctx, tc.ref); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleting it again: %v, want ErrNotFound", err)
			}
		})
	}
	if _, err := st.DeleteAsset(ctx, h.UID); !fault.Is(err, fault.Conflict) {
		t.Errorf("DeleteAsset(a host's id) = %v, want a conflict", err)
	}
	if _, err := st.DeleteAsset(ctx, "web1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("DeleteAsset(a host's name) = %v, want ErrNotFound", err)
	}
	c, err := st.Compliance(ctx, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Assets != 0 || c.Hosts != 1 || c.Installs != 1 {
		t.Errorf("compliance after deleting both assets: %+v", c)
	}
	// the name is free again: a new upload creates a new asset
	again, err := st.ApplyAsset(ctx, asset("registry.example/app:1.4", nil, item("libc6", "2.36", "")))
	if err != nil || !again.Created || again.Ref.UID == a.Ref.UID {
		t.Errorf("upload after delete: %+v, %v", again, err)
	}
}

// TestAssetFleetEventsSayAsset: an asset's fleet events carry host_kind
// "asset" (so alert emails say `asset "NAME"`, not `host`), from its
// upload, the fleet's re-evaluation and a re-judging after re-matching,
// on both engines; a host's carry none.
func TestAssetFleetEventsSayAsset(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "install-1", "web1")
	if _, err := st.ApplyReport(ctx, full(h, "r1", item("python3.11", "3.11.2", "python"))); err != nil {
		t.Fatal(err)
	}
	before := countEvents(t, st)
	res, err := st.ApplyAsset(ctx, asset("registry.example/app:1.4", nil, item("python3.7", "old3.7", "python")))
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(n int) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, ev := range lastEvents(t, st, n) {
			out[ev.Host] = ev.HostKind
		}
		return out
	}
	if n := countEvents(t, st) - before; n != 1 || kinds(1)["registry.example/app:1.4"] != "asset" {
		t.Fatalf("upload: %d events %v, want one of host_kind asset", n, kinds(n))
	}

	// the fleet's re-evaluation: python 3.11.2 and old3.7 both change
	before = countEvents(t, st)
	eval := func(p, v string) catalog.Verdict {
		vd := verdictFor(p, v)
		vd.Status = catalog.StatusEOLSoon
		return vd
	}
	if _, err := st.ReEvaluate(ctx, ReEvalInput{CatalogVersion: "c2", AsOf: "2025-01-02", Evaluate: anyContext(eval)}); err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, st) - before; n != 2 {
		t.Fatalf("re-evaluation enqueued %d events, want 2", n)
	}
	if k := kinds(2); len(k) != 2 || k["registry.example/app:1.4"] != "asset" || k["web1"] != "" {
		t.Errorf("re-evaluation events' host_kind by name %v, want the asset's asset and the host's empty", k)
	}

	// re-judging the asset's stored inventory (after a re-match)
	before = countEvents(t, st)
	err = st.RejudgeHosts(ctx, []int64{res.Ref.ID}, ReEvalInput{CatalogVersion: "c3", AsOf: "2025-01-03",
		Evaluate: anyContext(verdictFor), Match: func(it api.Item) Match { return Match{Product: "python", Version: it.Version, Rule: "again"} },
		Rejudge: func(inv HostInventory) []Verdict {
			if inv.Kind != api.KindAsset {
				t.Errorf("Rejudge got kind %q for the asset", inv.Kind)
			}
			return rejudgeWith(verdictFor)(inv)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if n := countEvents(t, st) - before; n != 1 || kinds(1)["registry.example/app:1.4"] != "asset" {
		t.Errorf("re-judging: %d events %v, want one of host_kind asset", n, kinds(n))
	}
}

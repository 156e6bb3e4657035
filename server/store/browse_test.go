package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// browseNow is the clock of the browse fixture.
var browseNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type install struct{ product, version, status string }

type browseHost struct {
	name, os string
	seen     time.Duration // before browseNow; 0: the host never reported
	installs []install
	other    []string // unmatched item names
}

// browseFleet is the fixture of the browse tests, in hostname (binary) order.
var browseFleet = []browseHost{
	{name: "Bravo", os: "Ubuntu 24.04", seen: 50 * time.Hour, installs: []install{{"python", "3.9", catalog.StatusEOLSoon}}},
	{name: "alpha", os: "Debian GNU/Linux 12", seen: time.Hour, installs: []install{
		{"python", "3.11", catalog.StatusCurrent}, {"nginx", "1.18", catalog.StatusEOL}}},
	{name: "charlie21", os: "Debian GNU/Linux 12", seen: 2 * time.Hour, installs: []install{{"python", "3.11", catalog.StatusPatchAvailable}}},
	{name: "charlie_1", os: "Debian GNU/Linux 12", seen: 30 * time.Minute, installs: []install{{"nginx", "1.24", catalog.StatusCurrent}}},
	{name: "delta"},
	{name: "echo%x", os: "Ubuntu 24.04", seen: 100 * time.Hour, other: []string{"vim"}},
}

// seedBrowse enrolls browseFleet and applies one full report per host that
// reported, and returns the public ids by hostname.
func seedBrowse(t *testing.T, st *Store) map[string]string {
	t.Helper()
	ctx := context.Background()
	ids := map[string]string{}
	for i, bh := range browseFleet {
		h := enroll(t, st, fmt.Sprintf("i%d", i), bh.name)
		ids[bh.name] = h.UID
		if bh.seen == 0 {
			continue
		}
		var items []MatchedItem
		var vs []Verdict
		for _, in := range bh.installs {
			items = append(items, item(in.product, in.version, in.product))
			vs = append(vs, Verdict{Installed: in.version, V: catalog.Verdict{Product: in.product, Version: in.version, Status: in.status, Cycle: in.version}})
		}
		for _, name := range bh.other {
			items = append(items, item(name, "1", ""))
		}
		st.now = func() time.Time { return browseNow.Add(-bh.seen) }
		_, err := st.ApplyReport(ctx, ReportInput{Host: h, Report: api.Report{ReportID: "r1", Kind: api.ReportFull, InventoryHash: "h",
			Host: api.HostInfo{InstallID: h.InstallID, Hostname: bh.name, OSName: bh.os}}, Items: items, Verdicts: vs, CatalogVersion: "c1", AsOf: "2026-03-01"})
		if err != nil {
			t.Fatalf("ApplyReport(%s): %v", bh.name, err)
		}
	}
	st.now = time.Now
	return ids
}

func hostnames(p HostSearchPage) []string {
	var out []string
	for _, h := range p.Hosts {
		out = append(out, h.Hostname)
	}
	return out
}

func TestSearchHosts(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	seedBrowse(t, st)
	all := []string{"Bravo", "alpha", "charlie21", "charlie_1", "delta", "echo%x"}
	tests := []struct {
		name  string
		q     HostSearch
		want  []string
		total int
	}{
		{"all by hostname", HostSearch{}, all, 6},
		{"descending", HostSearch{Desc: true}, []string{"echo%x", "delta", "charlie_1", "charlie21", "alpha", "Bravo"}, 6},
		{"unknown sort is hostname", HostSearch{Sort: "nope"}, all, 6},
		{"search ignores case", HostSearch{Search: "BRAVO"}, []string{"Bravo"}, 1},
		{"search substring", HostSearch{Search: "arli"}, []string{"charlie21", "charlie_1"}, 2},
		{"underscore is literal", HostSearch{Search: "e_"}, []string{"charlie_1"}, 1},
		{"percent is literal", HostSearch{Search: "%"}, []string{"echo%x"}, 1},
		{"backslash is literal", HostSearch{Search: `\`}, nil, 0},
		{"os", HostSearch{OS: "Debian GNU/Linux 12"}, []string{"alpha", "charlie21", "charlie_1"}, 3},
		{"os is exact", HostSearch{OS: "Debian"}, nil, 0},
		{"stale, never seen included", HostSearch{StaleBefore: browseNow.Add(-24 * time.Hour)}, []string{"Bravo", "delta", "echo%x"}, 3},
		{"worst status", HostSearch{Status: catalog.StatusEOL}, []string{"alpha"}, 1},
		{"status none", HostSearch{Status: StatusNone}, []string{"delta", "echo%x"}, 2},
		{"product", HostSearch{Product: "python"}, []string{"Bravo", "alpha", "charlie21"}, 3},
		{"product status", HostSearch{Product: "python", Status: catalog.StatusCurrent}, []string{"alpha"}, 1},
		{"product status is the install's", HostSearch{Product: "nginx", Status: catalog.StatusCurrent}, []string{"charlie_1"}, 1},
		{"unknown product", HostSearch{Product: "cobol"}, nil, 0},
		{"filters combine", HostSearch{OS: "Debian GNU/Linux 12", Product: "python", Search: "CHAR"}, []string{"charlie21"}, 1},
		{"sort status, worst first", HostSearch{Sort: HostSortStatus}, []string{"alpha", "Bravo", "charlie21", "charlie_1", "delta", "echo%x"}, 6},
		{"sort status desc", HostSearch{Sort: HostSortStatus, Desc: true}, []string{"echo%x", "delta", "charlie_1", "charlie21", "Bravo", "alpha"}, 6},
		{"sort product status", HostSearch{Product: "python", Sort: HostSortStatus}, []string{"Bravo", "charlie21", "alpha"}, 3},
		{"sort os, ties by hostname", HostSearch{Sort: HostSortOS}, []string{"delta", "alpha", "charlie21", "charlie_1", "Bravo", "echo%x"}, 6},
		{"sort last seen, never first", HostSearch{Sort: HostSortLastSeen}, []string{"delta", "echo%x", "Bravo", "charlie21", "alpha", "charlie_1"}, 6},
		{"page", HostSearch{Offset: 2, Limit: 2}, []string{"charlie21", "charlie_1"}, 6},
		{"last page", HostSearch{Offset: 4, Limit: 5}, []string{"delta", "echo%x"}, 6},
		{"past the end", HostSearch{Offset: 10, Limit: 5}, nil, 6},
		{"negative offset is 0", HostSearch{Offset: -3, Limit: 1}, []string{"Bravo"}, 6},
		{"limit 0 is the default", HostSearch{Limit: 0}, all, 6},
		{"page of a filter", HostSearch{Product: "python", Sort: HostSortStatus, Desc: true, Offset: 1, Limit: 1}, []string{"charlie21"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := st.SearchHosts(ctx, tt.q)
			if err != nil {
				t.Fatalf("SearchHosts(%+v): %v", tt.q, err)
			}
			if got := hostnames(p); !slices.Equal(got, tt.want) {
				t.Errorf("SearchHosts(%+v) hosts = %q, want %q", tt.q, got, tt.want)
			}
			if p.Total != tt.total {
				t.Errorf("SearchHosts(%+v) total = %d, want %d", tt.q, p.Total, tt.total)
			}
		})
	}
}

func TestSearchHostsRows(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	ids := seedBrowse(t, st)
	byName := func(p HostSearchPage) map[string]HostSummary {
		m := map[string]HostSummary{}
		for _, h := range p.Hosts {
			m[h.Hostname] = h
		}
		return m
	}
	p, err := st.SearchHosts(ctx, HostSearch{})
	if err != nil {
		t.Fatal(err)
	}
	got := byName(p)
	want := map[string]HostSummary{
		"alpha": {ID: ids["alpha"], Hostname: "alpha", Kind: api.KindHost, OSName: "Debian GNU/Linux 12", Status: catalog.StatusEOL, Installs: 2,
			LastCheckinAt: browseNow.Add(-time.Hour)},
		"delta":  {ID: ids["delta"], Hostname: "delta", Kind: api.KindHost, Status: StatusNone},
		"echo%x": {ID: ids["echo%x"], Hostname: "echo%x", Kind: api.KindHost, OSName: "Ubuntu 24.04", Status: StatusNone, LastCheckinAt: browseNow.Add(-100 * time.Hour)},
	}
	for name, w := range want {
		if g := got[name]; g != w {
			t.Errorf("SearchHosts({}) %s = %+v, want %+v", name, g, w)
		}
	}
	// With a product, a host's status and version are those of its install.
	p, err = st.SearchHosts(ctx, HostSearch{Product: "python"})
	if err != nil {
		t.Fatal(err)
	}
	got = byName(p)
	for name, w := range map[string][2]string{"alpha": {catalog.StatusCurrent, "3.11"}, "Bravo": {catalog.StatusEOLSoon, "3.9"}} {
		if g := got[name]; g.Status != w[0] || g.Version != w[1] {
			t.Errorf("SearchHosts(product python) %s status, version = %q, %q; want %q, %q", name, g.Status, g.Version, w[0], w[1])
		}
	}
}

func TestSearchHostsLimitBound(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	tx, err := st.w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1005 {
		if _, err := tx.Exec(`INSERT INTO hosts (uid, install_id, hostname, info, node_key_hash, enrolled_at) VALUES (?, ?, ?, '{}', ?, 1)`,
			fmt.Sprintf("u%04d", i), fmt.Sprintf("i%04d", i), fmt.Sprintf("h%04d", i), fmt.Sprintf("k%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {1, 1}, {1000, 1000}, {5000, 1000}} {
		t.Run(fmt.Sprint("limit=", tt.limit), func(t *testing.T) {
			p, err := st.SearchHosts(ctx, HostSearch{Limit: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Hosts) != tt.want || p.Total != 1005 {
				t.Errorf("SearchHosts(limit %d) = %d hosts of %d, want %d of 1005", tt.limit, len(p.Hosts), p.Total, tt.want)
			}
		})
	}
}

func TestHostCountsAndOSNames(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	if n, err := st.CountHosts(ctx); err != nil || n != 0 {
		t.Errorf("CountHosts(empty) = %d, %v; want 0, nil", n, err)
	}
	if names, err := st.HostOSNames(ctx, Scope{}); err != nil || names != nil {
		t.Errorf("HostOSNames(empty) = %q, %v; want nil, nil", names, err)
	}
	seedBrowse(t, st)
	if n, err := st.CountHosts(ctx); err != nil || n != 6 {
		t.Errorf("CountHosts = %d, %v; want 6, nil", n, err)
	}
	names, err := st.HostOSNames(ctx, Scope{})
	if want := []string{"Debian GNU/Linux 12", "Ubuntu 24.04"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("HostOSNames = %q, %v; want %q, nil", names, err, want)
	}
	for _, tt := range []struct {
		before time.Duration
		want   int
	}{
		{0, 6},         // every check-in was before now; delta never checked in
		{time.Hour, 4}, // strictly before: alpha's check-in is at exactly now-1h
		{24 * time.Hour, 3},
		{1000 * time.Hour, 1},
	} {
		t.Run(fmt.Sprint("before=", tt.before), func(t *testing.T) {
			before := browseNow.Add(-tt.before)
			if n, err := st.CountStaleHosts(ctx, Scope{}, before); err != nil || n != tt.want {
				t.Errorf("CountStaleHosts(now-%v) = %d, %v; want %d, nil", tt.before, n, err, tt.want)
			}
		})
	}
}

func TestInventoryPage(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	h := enroll(t, st, "i1", "web1")
	items := []MatchedItem{
		item("zlib", "1.3", ""),
		item("python3", "3.11.2", "python"),
		{Item: api.Item{Source: "pip", Name: "python3", Version: "3.11.2"}, Match: Match{}},
		item("python3", "3.9.1", "python"),
		{Item: api.Item{Source: "dpkg", Name: "libssl3", Version: "3.0.11", Arch: "amd64", SourcePkg: "openssl"},
			Match: Match{Product: "openssl", Version: "3.0.11", Rule: "source"}},
	}
	if _, err := st.ApplyReport(ctx, full(h, "r1", items...)); err != nil {
		t.Fatal(err)
	}
	// By name, version, then source.
	order := []string{"dpkg libssl3 3.0.11", "dpkg python3 3.11.2", "pip python3 3.11.2", "dpkg python3 3.9.1", "dpkg zlib 1.3"}
	tests := []struct {
		name          string
		offset, limit int
		want          []string
	}{
		{"all", 0, 10, order},
		{"first page", 0, 2, order[:2]},
		{"second page", 2, 2, order[2:4]},
		{"last page", 4, 2, order[4:]},
		{"past the end", 5, 2, nil},
		{"negative offset is 0", -1, 1, order[:1]},
		{"limit 0 is the default", 0, 0, order},
		{"limit above the bound", 1, 5000, order[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := st.InventoryPage(ctx, h.UID, tt.offset, tt.limit)
			if err != nil {
				t.Fatalf("InventoryPage(%d, %d): %v", tt.offset, tt.limit, err)
			}
			var names []string
			for _, it := range got {
				names = append(names, it.Source+" "+it.Name+" "+it.Version)
			}
			if !slices.Equal(names, tt.want) || total != len(order) {
				t.Errorf("InventoryPage(%d, %d) = %q, %d; want %q, %d", tt.offset, tt.limit, names, total, tt.want, len(order))
			}
		})
	}
	got, _, err := st.InventoryPage(ctx, h.UID, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := api.InventoryItem{Item: api.Item{Source: "dpkg", Name: "libssl3", Version: "3.0.11", Arch: "amd64", SourcePkg: "openssl"},
		MatchProduct: "openssl", MatchVersion: "3.0.11", MatchRule: "source"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("InventoryPage first item = %+v, want %+v", got, want)
	}
	if _, _, err := st.InventoryPage(ctx, "nope", 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("InventoryPage(unknown host) err = %v, want ErrNotFound", err)
	}
	// A host is looked up by id only, not by hostname.
	if _, _, err := st.InventoryPage(ctx, "web1", 0, 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("InventoryPage(hostname) err = %v, want ErrNotFound", err)
	}
	empty := enroll(t, st, "i2", "web2")
	if got, total, err := st.InventoryPage(ctx, empty.UID, 0, 10); err != nil || got != nil || total != 0 {
		t.Errorf("InventoryPage(no report) = %v, %d, %v; want nil, 0, nil", got, total, err)
	}
}

func TestInstalledProductsAndVersions(t *testing.T) {
	ctx := context.Background()
	st := openTest(t)
	if ps, err := st.InstalledProducts(ctx, Scope{}); err != nil || ps != nil {
		t.Errorf("InstalledProducts(empty) = %q, %v; want nil, nil", ps, err)
	}
	seedBrowse(t, st)
	ps, err := st.InstalledProducts(ctx, Scope{})
	if want := []string{"nginx", "python"}; err != nil || !slices.Equal(ps, want) {
		t.Errorf("InstalledProducts = %q, %v; want %q, nil", ps, err, want)
	}
	tests := []struct {
		product string
		want    []api.ProductVersion
	}{
		// 3.11's status is the worst over its hosts (patch-available on
		// charlie21, current on alpha).
		{"python", []api.ProductVersion{
			{Version: "3.11", Cycle: "3.11", Status: catalog.StatusPatchAvailable, Hosts: 2},
			{Version: "3.9", Cycle: "3.9", Status: catalog.StatusEOLSoon, Hosts: 1}}},
		{"nginx", []api.ProductVersion{
			{Version: "1.18", Cycle: "1.18", Status: catalog.StatusEOL, Hosts: 1},
			{Version: "1.24", Cycle: "1.24", Status: catalog.StatusCurrent, Hosts: 1}}},
		{"cobol", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run("product="+tt.product, func(t *testing.T) {
			got, err := st.ProductVersions(ctx, Scope{}, tt.product)
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ProductVersions(%q) = %+v, %v; want %+v, nil", tt.product, got, err, tt.want)
			}
		})
	}
}

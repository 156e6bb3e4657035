package webdata

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// benchEnv is a dashboard over a store bulk-loaded with n hosts.
type benchEnv struct {
	b       *Backend
	ui      *web.UI
	cookies []*http.Cookie
	hostID  string
}

// bulkLoad writes n hosts with five products each straight into the
// store's tables in one transaction (ApplyReport per host would take
// minutes at 100,000 hosts); the verdicts come from the real catalog.
func bulkLoad(tb testing.TB, st *store.Store, cat *catalog.Catalog, n int, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	type pv struct{ p, v string }
	var pvs []pv
	for _, p := range seedProducts {
		for k := range 12 {
			if v, ok := pickVersion(cat, p, k); ok && !slices.Contains(pvs, pv{p, v}) {
				pvs = append(pvs, pv{p, v})
			}
		}
	}
	verdicts := map[pv]catalog.Verdict{}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	swID := map[pv]int64{}
	for i, x := range pvs {
		v := cat.Evaluate(x.p, x.v, now, catalog.DefaultPolicy())
		verdicts[x] = v
		js, _ := json.Marshal(v)
		if _, err := tx.Exec(`INSERT INTO evaluations (product, version, status, verdict, catalog_version, as_of) VALUES (?, ?, ?, ?, ?, ?)`,
			x.p, x.v, v.Status, string(js), cat.Info().Version, now.Format(time.DateOnly)); err != nil {
			tb.Fatal(err)
		}
		swID[x] = int64(i + 1)
		if _, err := tx.Exec(`INSERT INTO software (id, source, name, version, arch, extra, product, match_version, rule) VALUES (?, 'dpkg', ?, ?, 'amd64', '', ?, ?, 'bench')`,
			i+1, x.p, x.v+"-1", x.p, x.v); err != nil {
			tb.Fatal(err)
		}
	}
	insHost, err := tx.Prepare(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at, last_report_at, last_checkin_at, item_count, status_rank)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	insV, err := tx.Prepare(`INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	insHS, err := tx.Prepare(`INSERT INTO host_software (host_id, software_id) VALUES (?, ?)`)
	if err != nil {
		tb.Fatal(err)
	}
	oses := []string{"Debian GNU/Linux 12 (bookworm)", "Debian GNU/Linux 13 (trixie)", "Ubuntu 24.04.1 LTS", "Windows 11 Pro", "macOS 15.1"}
	for i := range n {
		id := int64(i + 1)
		info, _ := json.Marshal(api.HostInfo{InstallID: fmt.Sprint("i", i), Hostname: fmt.Sprintf("host-%06d.example", i), OS: "linux", OSName: oses[i%len(oses)]})
		seen := now.Add(-time.Duration(i%(24*14)) * time.Hour)
		worst := len(catalog.Statuses)
		var rows []pv
		for j := range seedProducts {
			x := pvs[(i*7+j*13)%len(pvs)]
			if !slices.ContainsFunc(rows, func(r pv) bool { return r.p == x.p }) {
				rows = append(rows, x)
			}
		}
		for _, x := range rows {
			worst = min(worst, catalog.StatusRank(verdicts[x].Status))
		}
		if _, err := insHost.Exec(id, fmt.Sprintf("%016x", i), fmt.Sprint("i", i), fmt.Sprintf("host-%06d.example", i), string(info), fmt.Sprint("k", i),
			now.Add(-30*24*time.Hour).UnixNano(), seen.UnixNano(), seen.UnixNano(), len(rows), worst); err != nil {
			tb.Fatal(err)
		}
		for _, x := range rows {
			v := verdicts[x]
			if _, err := insV.Exec(id, x.p, x.v, x.v+"-1", v.Cycle, v.Status, catalog.StatusRank(v.Status), cat.Info().Version, now.UnixNano()); err != nil {
				tb.Fatal(err)
			}
			if _, err := insHS.Exec(id, swID[x]); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.DB().Exec(`ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

func newBenchEnv(tb testing.TB, n int) *benchEnv {
	tb.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	st, err := store.Open(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		tb.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		tb.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	nt, err := notifier.New(ctx, st.DB(), st.Reader(), notifier.Config{Catalog: func() *catalog.Catalog { return cat }, Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	bulkLoad(tb, st, cat, n, now)
	b := &Backend{Store: st, Catalog: func() *catalog.Catalog { return cat }, Notifier: nt, EnrollSecretSet: true, AggregateTTL: -1,
		Domain: domain(tb, st, func() *catalog.Catalog { return cat }, now)}
	if _, err := b.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2020-01-01", ContractEnd: "2099-12-31"}); err != nil {
		tb.Fatal(err)
	}
	ui := web.New(web.Config{Auth: b, Fleet: b, CustomerFleet: b.ForCustomer, Checker: b, Customers: b, Notifications: b, Settings: b, Logger: quiet})
	_, secret, err := st.CreateToken(ctx, auth.RoleAdmin, "bench")
	if err != nil {
		tb.Fatal(err)
	}
	return &benchEnv{b: b, ui: ui, cookies: webtest.LoginCookies(tb, ui.Handler(), secret), hostID: fmt.Sprintf("%016x", n/2)}
}

// get serves one page and fails unless it answers 200.
func (e *benchEnv) get(tb testing.TB, h http.Handler, path string) int {
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range e.cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		tb.Fatalf("GET %s = %d", path, rec.Code)
	}
	return rec.Body.Len()
}

// median time of reps requests for path.
func (e *benchEnv) median(tb testing.TB, h http.Handler, path string, reps int) time.Duration {
	ds := make([]time.Duration, reps)
	for i := range ds {
		start := time.Now()
		e.get(tb, h, path)
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[reps/2]
}

// BenchmarkPages serves each dashboard page from a store of 100,000 hosts
// and, as the baseline in the same process, from a store of 1,000 hosts.
// It reports ms/page at 100k and the ratio to 1k: paged pages should stay
// flat; pages that aggregate (overview, products) grow with the fleet
// inside SQLite's GROUP BY.
func BenchmarkPages(b *testing.B) {
	small, big := newBenchEnv(b, 1000), newBenchEnv(b, 100_000)
	hs, hb := small.ui.Handler(), big.ui.Handler()
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"overview-cached", "/"},
		{"hosts", "/hosts"},
		{"hosts-filtered-sorted", "/hosts?product=python&status=eol&sort=last_seen&dir=desc"},
		{"hosts-search-os", "/hosts?q=host-0099&os=Windows+11+Pro"},
		{"hosts-stale", "/hosts?stale=1&sort=status"},
		{"hosts-page-10", "/hosts?page=10"},
		{"host", "/hosts/HOST"},
		{"products", "/products"},
		{"products-cached", "/products"},
		{"product", "/products/python"},
		{"ticket-customer", "/eligibility?customer=Acme&product=python&version=3.8.10&severity=2"},
		{"ticket-host", "/eligibility?host=HOST&product=python&severity=1"},
		{"customers", "/customers"},
		{"notifications", "/notifications"},
		{"settings", "/settings"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			ps, pb := p.path, p.path
			if p.name == "host" || p.name == "ticket-host" {
				ps = replaceHost(p.path, small.hostID)
				pb = replaceHost(p.path, big.hostID)
			}
			// The aggregates are counted afresh for "overview" and
			// "products"; every other page runs as served, with the
			// default AggregateTTL (host filter values reused).
			ttl := time.Duration(0)
			if p.name == "overview" || p.name == "products" {
				ttl = -1
			}
			small.b.AggregateTTL, big.b.AggregateTTL = ttl, ttl
			// Warm caches (SQLite pages; aggregates in the -cached runs) before timing.
			small.get(b, hs, ps)
			size := big.get(b, hb, pb)
			base := small.median(b, hs, ps, 5)
			b.ResetTimer()
			for b.Loop() {
				big.get(b, hb, pb)
			}
			b.StopTimer()
			at100k := big.median(b, hb, pb, 5)
			b.ReportMetric(float64(at100k.Microseconds())/1000, "ms/page@100k")
			b.ReportMetric(float64(base.Microseconds())/1000, "ms/page@1k")
			b.ReportMetric(float64(at100k)/float64(base), "x-vs-1k")
			b.ReportMetric(float64(size)/1024, "KiB/page")
		})
	}
}

func replaceHost(path, id string) string {
	out := []byte{}
	for i := 0; i < len(path); i++ {
		if i+4 <= len(path) && path[i:i+4] == "HOST" {
			out = append(out, id...)
			i += 3
			continue
		}
		out = append(out, path[i])
	}
	return string(out)
}

package webdata

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// realEnv is the dashboard over the real parts: a store on this pass's
// engine (SQLite in a temp directory or PostgreSQL, see dbEngine), the embedded default catalog behind the catalog manager, and
// the notifier service (no SMTP server: messages stay pending).
type realEnv struct {
	st     *store.Store
	cats   *catalogsvc.Service
	nt     *notifier.Service
	b      *Backend
	srv    *httptest.Server
	tokens map[string]string
	now    time.Time
}

var seedProducts = []string{"python", "nginx", "openssl", "postgresql", "nodejs"}

// pickVersion chooses a version of product for host i: one of the four
// newest cycles, at its latest patch or, for every third host, its oldest
// known release.
func pickVersion(cat *catalog.Catalog, product string, i int) (string, bool) {
	p := cat.Product(product)
	if p == nil || len(p.Cycles) == 0 {
		return "", false
	}
	c := p.Cycles[(i/3)%min(6, len(p.Cycles))]
	v := c.Latest
	if i%3 == 0 && len(c.Releases) > 1 {
		v = c.Releases[len(c.Releases)-1].Version
	}
	return v, v != ""
}

// seedStore enrolls n hosts and stores one full report for each, matched
// and evaluated with the real catalog.
func seedStore(t testing.TB, st *store.Store, cat *catalog.Catalog, n int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	oses := []struct{ name, ver string }{{"Debian GNU/Linux 12 (bookworm)", "12"}, {"Debian GNU/Linux 13 (trixie)", "13"}, {"Debian GNU/Linux 11 (bullseye)", "11"}}
	day := now.UTC().Format(time.DateOnly)
	for i := range n {
		osv := oses[i%len(oses)]
		info := api.HostInfo{InstallID: fmt.Sprintf("install-%05d", i), Hostname: fmt.Sprintf("%s-%04d.corp.example", []string{"web", "db", "app"}[i%3], i),
			OS: "linux", Arch: "amd64", OSName: osv.name, OSID: "debian", OSVersion: osv.ver, Kernel: "6.1.0-28-amd64", AgentVersion: "0.1.0"}
		uid, key, err := st.Enroll(ctx, info)
		if err != nil {
			t.Fatalf("Enroll: %v", err)
		}
		ref, err := st.HostByNodeKey(ctx, key)
		if err != nil || ref.UID != uid {
			t.Fatalf("HostByNodeKey: %v", err)
		}
		items := []store.MatchedItem{{Item: api.Item{Source: "os", Name: osv.name, Version: osv.ver}, Match: store.Match{Product: "debian", Version: osv.ver, Rule: "os-release"}}}
		for j, p := range seedProducts {
			if (i+j)%4 == 3 {
				continue
			}
			v, ok := pickVersion(cat, p, i+j)
			if !ok {
				continue
			}
			items = append(items, store.MatchedItem{Item: api.Item{Source: "dpkg", Name: p, Version: v + "-1", Arch: "amd64"}, Match: store.Match{Product: p, Version: v, Rule: "test"}})
		}
		for k := range 30 {
			items = append(items, store.MatchedItem{Item: api.Item{Source: "dpkg", Name: fmt.Sprintf("libexample%02d", k), Version: "1.0-1", Arch: "amd64"}})
		}
		var vs []store.Verdict
		for _, it := range items {
			if it.Match.Product != "" {
				vs = append(vs, store.Verdict{Installed: it.Item.Version, V: cat.Evaluate(it.Match.Product, it.Match.Version, now, catalog.DefaultPolicy())})
			}
		}
		_, err = st.ApplyReport(ctx, store.ReportInput{Host: ref, Report: api.Report{ReportID: "r1", Kind: api.ReportFull, CollectedAt: now,
			Host: info, InventoryHash: fmt.Sprintf("hash-%d", i)}, Items: items, Verdicts: vs, CatalogVersion: cat.Info().Version, AsOf: day})
		if err != nil {
			t.Fatalf("ApplyReport: %v", err)
		}
	}
}

// domain is the domain service over st, customers included, as the server wires it.
func domain(t testing.TB, st *store.Store, cats func() *catalog.Catalog, now time.Time) *service.Service {
	t.Helper()
	svc, err := service.New(service.Config{Store: st, Customers: st, Catalog: cats, Policy: catalog.DefaultPolicy(), Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// sessionKey is the key of every UI of a realEnv: a second UI is the same
// server after a restart.
var sessionKey = []byte("0123456789abcdef0123456789abcdef")

// newUI builds the dashboard over e's backend, as the server does.
func (e *realEnv) newUI() *web.UI {
	return web.New(web.Config{Auth: e.b, Fleet: e.b, CustomerFleet: e.b.ForCustomer, Checker: e.b, Customers: e.b, Notifications: e.b,
		Settings: e.b, Sessions: e.b, Hosts: e.b, SessionKey: sessionKey, Logger: slog.New(slog.DiscardHandler)})
}

func newRealEnv(t testing.TB, hosts int) *realEnv {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	st := openStore(t)
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Logger: quiet})
	if err != nil {
		t.Fatalf("catalogsvc.New: %v", err)
	}
	nt, err := notifier.New(ctx, st.DB(), st.Reader(), notifier.Config{PublicURL: "http://127.0.0.1", Catalog: cats.Current, Fleet: st, Logger: quiet, PollInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("notifier.New: %v", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = nt.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	seedStore(t, st, cats.Current(), hosts, now)

	e := &realEnv{st: st, cats: cats, nt: nt, now: now, tokens: map[string]string{}}
	e.b = &Backend{Store: st, Catalog: cats.Current, Notifier: nt, EnrollSecretSet: true, Documents: cats.Documents, Published: cats.Published,
		Domain: domain(t, st, cats.Current, now),
		Publish: func(ctx context.Context, product, cycle, version string, date time.Time, link string) error {
			_, err := cats.Publish(ctx, catalogsvc.Release{Product: product, Cycle: cycle, Version: version, Date: date.Format(time.DateOnly), Link: link, By: "dashboard"})
			return err
		}}
	e.srv = httptest.NewServer(e.newUI().Handler())
	t.Cleanup(e.srv.Close)
	for _, r := range []string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer} {
		_, secret, err := st.CreateToken(ctx, r, r+" person")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[r] = secret
	}
	if _, err := nt.CreateGroup(ctx, notifier.Group{Name: "platform", Products: []string{"python", "debian", "openssl"}, Events: []string{events.KindRelease, events.KindEOL}}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	for _, addr := range []string{"ops@example.com", "new-hire@example.com"} {
		if err := nt.Subscribe(ctx, "platform", addr); err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
	}
	// Seed one subscriber as having clicked the confirmation link (the
	// notifier's own tests cover the double opt-in).
	if _, err := st.DB().ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'confirmed', confirmed_at = ? WHERE email = ?`,
		now.UnixMilli(), "ops@example.com"); err != nil {
		t.Fatalf("confirm subscriber: %v", err)
	}
	return e
}

func (e *realEnv) as(t *testing.T, role string) *webtest.Browser {
	b := webtest.NewBrowser(t, e.srv.URL)
	b.Login(t, e.tokens[role])
	return b
}

// TestBackendFleet checks the adapter's answers against the seeded store.
func TestBackendFleet(t *testing.T) {
	e := newRealEnv(t, 90)
	ctx := t.Context()
	b := e.b
	o, err := b.Overview(ctx, e.now, e.now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for _, n := range o.HostsByStatus {
		sum += n
	}
	if o.Hosts != 90 || sum != 90 || o.Installs == 0 || o.StaleHosts != 0 {
		t.Errorf("Overview: hosts %d (by status %d), installs %d, stale %d; want 90, 90, >0, 0", o.Hosts, sum, o.Installs, o.StaleHosts)
	}
	if len(o.TopUnsupported) == 0 {
		t.Error("Overview: no product with unsupported installs, want some (old cycles were seeded)")
	}
	if o2, _ := b.Overview(ctx, e.now, e.now.Add(time.Hour)); o2.StaleHosts != 90 {
		t.Errorf("Overview with a future stale threshold: %d stale, want 90", o2.StaleHosts)
	}

	all, err := b.Hosts(ctx, web.HostQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != 90 || len(all.Rows) != 90 || all.Rows[0].Hostname != "app-0002.corp.example" {
		t.Fatalf("Hosts: total %d, %d rows, first %q", all.Total, len(all.Rows), all.Rows[0].Hostname)
	}
	tests := []struct {
		name  string
		q     web.HostQuery
		total int
		check func(web.HostRow) bool
	}{
		{"search", web.HostQuery{Search: "WEB-00"}, 30, func(h web.HostRow) bool { return strings.HasPrefix(h.Hostname, "web-") }},
		{"os", web.HostQuery{OS: "Debian GNU/Linux 11 (bullseye)"}, 30, func(h web.HostRow) bool { return strings.Contains(h.OSName, "bullseye") }},
		{"status eol", web.HostQuery{Status: catalog.StatusEOL}, -1, func(h web.HostRow) bool { return h.Status == catalog.StatusEOL }},
		{"product", web.HostQuery{Product: "nginx"}, -1, func(h web.HostRow) bool { return h.Version != "" }},
		{"stale", web.HostQuery{Stale: true, StaleBefore: e.now.Add(-time.Hour)}, 0, nil},
		{"like is literal", web.HostQuery{Search: "%"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.q.Limit = 200
			p, err := b.Hosts(ctx, tt.q)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				return
			}
			if tt.total >= 0 && p.Total != tt.total {
				t.Errorf("%s: total %d, want %d", tt.name, p.Total, tt.total)
			}
			if len(p.Rows) != p.Total {
				t.Errorf("%s: %d rows for total %d", tt.name, len(p.Rows), p.Total)
			}
			for _, h := range p.Rows {
				if tt.check != nil && !tt.check(h) {
					t.Errorf("%s: row %+v does not match", tt.name, h)
					break
				}
			}
		})
	}
	// Paging and sorting: two pages of 25 sorted by status are the first 50 of one sorted list.
	p1, _ := b.Hosts(ctx, web.HostQuery{Sort: web.SortStatus, Limit: 25})
	p2, _ := b.Hosts(ctx, web.HostQuery{Sort: web.SortStatus, Limit: 25, Offset: 25})
	one, _ := b.Hosts(ctx, web.HostQuery{Sort: web.SortStatus, Limit: 50})
	for i, h := range append(p1.Rows, p2.Rows...) {
		if h.ID != one.Rows[i].ID {
			t.Fatalf("page row %d = %s, want %s", i, h.ID, one.Rows[i].ID)
		}
		if i > 0 && catalog.StatusRank(h.Status) < catalog.StatusRank(one.Rows[i-1].Status) {
			t.Fatalf("sort by status: row %d (%s) before a better one", i, h.Status)
		}
	}

	h, err := b.Host(ctx, all.Rows[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Verdicts) < 2 || h.Verdicts[0].Item.Name == "" || h.Info.OSName == "" {
		t.Errorf("Host: %d verdicts, first item %+v, OS %q", len(h.Verdicts), h.Verdicts[0].Item, h.Info.OSName)
	}
	items, total, err := b.Inventory(ctx, h.ID, 10, 5)
	if err != nil || len(items) != 5 || total != h.Items {
		t.Errorf("Inventory page: %d items of %d (host says %d), err %v", len(items), total, h.Items, err)
	}
	if _, err := b.Host(ctx, "no-such-host"); !fault.Is(err, fault.NotFound) {
		t.Errorf("Host(unknown) error = %v, want web.ErrNotFound", err)
	}

	ps, err := b.Products(ctx)
	if err != nil || len(ps) < 5 {
		t.Fatalf("Products: %d, %v", len(ps), err)
	}
	pd, err := b.Product(ctx, "python", 3)
	if err != nil || len(pd.Versions) != 3 || pd.Product.Label != "Python" {
		t.Errorf("Product(python, 3): %d versions, %v", len(pd.Versions), err)
	}
	if _, err := b.Product(ctx, "no-such-product", 3); !fault.Is(err, fault.NotFound) {
		t.Errorf("Product(unknown) error = %v, want web.ErrNotFound", err)
	}
	f, err := b.Facets(ctx)
	if err != nil || len(f.OSes) != 3 || len(f.Products) < 5 {
		t.Errorf("Facets: %+v, %v", f, err)
	}

	// Customers and the ticket check, through the real domain service.
	c, err := b.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2020-01-01", ContractEnd: "2099-12-31", Timezone: "Europe/Berlin"})
	if err != nil || c.EnrollSecret == "" {
		t.Fatalf("CreateCustomer = %+v, %v", c, err)
	}
	if names, err := b.CustomerNames(ctx); err != nil || len(names) != 1 || names[0] != "Acme" {
		t.Errorf("CustomerNames = %q, %v", names, err)
	}
	tier := "enterprise"
	if up, err := b.UpdateCustomer(ctx, "acme", api.CustomerPatch{Tier: &tier}); err != nil || up.Tier != "enterprise" {
		t.Errorf("UpdateCustomer = %+v, %v", up, err)
	}
	py := e.cats.Current().Product("python").Cycles[0].Latest
	a, err := b.TicketCheck(ctx, web.TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1", At: "2026-01-03T22:00:00Z"})
	if err != nil || !a.Accept || !a.PhoneNow || a.Customer.Name != "Acme" {
		t.Errorf("TicketCheck = %+v, %v", a, err)
	}
	if _, err := b.TicketCheck(ctx, web.TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "9"}); !fault.Is(err, fault.Invalid) {
		t.Errorf("TicketCheck(severity 9) = %v, want invalid", err)
	}
	a, err = b.TicketCheck(ctx, web.TicketQuery{Host: all.Rows[0].Hostname, Product: "debian", Severity: "2"})
	if err != nil || a.Accept || a.Customer != nil {
		t.Errorf("TicketCheck(a host of no customer) = %+v, %v; want refused, no customer", a, err)
	}
	if _, err := b.TicketCheck(ctx, web.TicketQuery{Host: "no-such-host", Product: "python", Severity: "1"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("TicketCheck(unknown host) = %v, want not found", err)
	}
	if n, err := b.DeleteCustomer(ctx, "acme", false); err != nil || n != 0 {
		t.Errorf("DeleteCustomer = %d, %v", n, err)
	}
	// Without a domain service the pages say so instead of failing.
	bare := &Backend{Store: e.st, Catalog: e.cats.Current}
	if _, err := bare.TicketCheck(ctx, web.TicketQuery{}); !fault.Is(err, fault.Unavailable) {
		t.Errorf("TicketCheck without a domain = %v, want unavailable", err)
	}
}

// TestCustomerFleet: the fleet view of one customer counts and lists only
// its hosts, and caches its aggregates apart from the whole fleet's.
func TestCustomerFleet(t *testing.T) {
	e := newRealEnv(t, 30)
	ctx := t.Context()
	c, err := e.b.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "standard", ContractStart: "2020-01-01", ContractEnd: "2099-12-31"})
	if err != nil {
		t.Fatal(err)
	}
	// Five more hosts enroll with Acme's secret and report.
	for i := range 5 {
		info := api.HostInfo{InstallID: fmt.Sprintf("acme-%d", i), Hostname: fmt.Sprintf("acme-%d.corp.example", i), OSName: "Debian GNU/Linux 12 (bookworm)"}
		_, key, err := e.st.EnrollCustomer(ctx, info, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := e.st.HostByNodeKey(ctx, key)
		v := e.cats.Current().Evaluate("python", "3.8.10", e.now, catalog.DefaultPolicy())
		if _, err := e.st.ApplyReport(ctx, store.ReportInput{Host: ref, Report: api.Report{ReportID: "r1", Kind: api.ReportFull, Host: info, InventoryHash: "h"},
			Items:    []store.MatchedItem{{Item: api.Item{Source: "dpkg", Name: "python3.8", Version: "3.8.10-1"}, Match: store.Match{Product: "python", Version: "3.8.10", Rule: "test"}}},
			Verdicts: []store.Verdict{{Installed: "3.8.10-1", V: v}}, CatalogVersion: e.cats.Current().Info().Version, AsOf: e.now.Format(time.DateOnly)}); err != nil {
			t.Fatal(err)
		}
	}
	whole, err := e.b.Overview(ctx, e.now, e.now.Add(-time.Hour))
	if err != nil || whole.Hosts != 35 {
		t.Fatalf("whole fleet overview: %d hosts, %v", whole.Hosts, err)
	}
	f := e.b.ForCustomer(c.ID)
	o, err := f.Overview(ctx, e.now, e.now.Add(-time.Hour))
	if err != nil || o.Hosts != 5 {
		t.Errorf("Acme's overview: %d hosts, %v; want 5", o.Hosts, err)
	}
	hosts, _ := f.Hosts(ctx, web.HostQuery{Limit: 200})
	if hosts.Total != 5 {
		t.Errorf("Acme's hosts: %d, want 5", hosts.Total)
	}
	other, _ := e.b.Hosts(ctx, web.HostQuery{Search: "0029", Limit: 1}) // a seeded host of no customer
	if _, err := f.Host(ctx, other.Rows[0].ID); !fault.Is(err, fault.NotFound) {
		t.Errorf("another host through Acme's view: %v, want not found", err)
	}
	if _, _, err := f.Inventory(ctx, other.Rows[0].ID, 0, 10); !fault.Is(err, fault.NotFound) {
		t.Errorf("another host's inventory through Acme's view: %v, want not found", err)
	}
	if again, _ := e.b.Overview(ctx, e.now, e.now.Add(-time.Hour)); again.Hosts != 35 {
		t.Errorf("the whole fleet's cached overview became %d hosts after Acme's", again.Hosts)
	}
	if ps, _ := f.Products(ctx); len(ps) == 0 {
		t.Error("Acme's products: none")
	}
	if ff := e.b.ForCustomer(""); ff == nil {
		t.Error("ForCustomer(\"\") is nil")
	} else if h, _ := ff.Hosts(ctx, web.HostQuery{Limit: 10}); h.Total != 0 {
		t.Errorf("ForCustomer(\"\") shows %d hosts, want none (never the whole fleet)", h.Total)
	}
}

// TestBackendPages drives the dashboard over the real parts: every page as
// every role, an eligibility answer, a release published into the outbox,
// a token created and used.
func TestBackendPages(t *testing.T) {
	e := newRealEnv(t, 40)
	if _, err := e.b.CreateCustomer(t.Context(), api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2020-01-01", ContractEnd: "2099-12-31"}); err != nil {
		t.Fatal(err)
	}
	hosts, _ := e.b.Hosts(t.Context(), web.HostQuery{Limit: 1})
	host := hosts.Rows[0]
	pages := []struct {
		path string
		want map[string]int
		text string
	}{
		{"/", webtest.All(200), "Compliance by status"},
		{"/hosts?status=eol&sort=last_seen&dir=desc", webtest.All(200), "hosts match the filters"},
		{"/hosts/" + host.ID, webtest.All(200), host.Hostname},
		{"/hosts/" + host.ID + "?inv=2", webtest.All(200), "No items on this page"},
		{"/hosts/" + host.ID, webtest.All(200), "libexample29"},
		{"/products", webtest.All(200), "Python"},
		{"/products/python", webtest.All(200), "Release cycles and support dates"},
		{"/eligibility?customer=Acme&product=python&version=3.8.10&severity=2", webtest.Roles(200, 200, 403), "REFUSE"},
		{"/eligibility?host=" + host.Hostname + "&product=debian&severity=1", webtest.Roles(200, 200, 403), "belongs to no customer"},
		{"/customers", webtest.Roles(200, 403, 403), "Acme"},
		{"/notifications", webtest.All(200), "platform"},
		{"/settings", webtest.All(200), "Catalog"},
	}
	for _, role := range []string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer} {
		b := e.as(t, role)
		for _, p := range pages {
			code, body := b.Get(t, p.path)
			if code != p.want[role] {
				t.Errorf("%s: GET %s = %d, want %d", role, p.path, code, p.want[role])
			} else if code == 200 && !strings.Contains(body, p.text) {
				t.Errorf("%s: GET %s lacks %q", role, p.path, p.text)
			}
		}
	}

	admin := e.as(t, auth.RoleAdmin)
	csrf := admin.CSRF(t, "/notifications")
	py := e.cats.Current().Product("python")
	cycle := py.Cycles[0]
	next := nextPatch(cycle.Latest)
	resp, body := admin.Post(t, "/notifications/releases", url.Values{"csrf": {csrf}, "product": {"python"}, "cycle": {cycle.Name}, "version": {next}, "date": {e.now.Format(time.DateOnly)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish python %s %s = %d:\n%s", cycle.Name, next, resp.StatusCode, body)
	}
	if got := e.cats.Current().Product("python").Cycles[0].Latest; got != next {
		t.Errorf("after publishing, python %s latest = %q, want %q", cycle.Name, got, next)
	}
	// The notifier fans the release out in the background: the outbox shows it soon.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body := admin.Get(t, "/notifications")
		if strings.Contains(body, next) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never listed the python %s release", next)
		}
		e.nt.Kick()
		time.Sleep(100 * time.Millisecond)
	}
	if resp, body := admin.Post(t, "/notifications/releases", url.Values{"csrf": {csrf}, "product": {"python"}, "cycle": {cycle.Name}, "version": {next}}); resp.StatusCode != 400 || !strings.Contains(body, "already in the catalog") {
		t.Errorf("publishing the same release again = %d, want 400 naming the conflict", resp.StatusCode)
	}
	if resp, body := admin.Post(t, "/notifications/releases", url.Values{"csrf": {csrf}, "product": {"no-such-product"}, "cycle": {"1"}, "version": {"1.0"}}); resp.StatusCode != 400 || !strings.Contains(body, `aria-invalid="true"`) {
		t.Errorf("publishing for an unknown product = %d, want 400 with the field marked", resp.StatusCode)
	}

	if _, body := admin.Get(t, "/settings"); !strings.Contains(body, "Releases published here") || !strings.Contains(body, next) {
		t.Errorf("settings does not list the published release python %s", next)
	}
	resp, body = admin.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"desk"}, "role": {"support"}})
	m := regexp.MustCompile(`value="(ewt_[0-9a-f]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create token = %d, secret shown: %v", resp.StatusCode, m != nil)
	}
	desk := webtest.NewBrowser(t, e.srv.URL)
	desk.Login(t, m[1])
	if code, body := desk.Get(t, "/eligibility?customer=Acme&severity=1&product=python&version="+next); code != 200 || !strings.Contains(body, "ACCEPT") {
		t.Errorf("new support token: ticket check of the new release = %d", code)
	}
}

// nextPatch returns version with its last number increased: 3.13.7 -> 3.13.8.
func nextPatch(v string) string {
	i := strings.LastIndexAny(v, ".")
	n := 0
	fmt.Sscanf(v[i+1:], "%d", &n)
	return fmt.Sprintf("%s.%d", v[:i], n+1)
}

// TestLogoutHoldsAcrossRestart: after a logout, a copy of the session
// cookie is refused by the same server and by a restarted one (the
// revocation is in the database) (issue 13, item 4).
func TestLogoutHoldsAcrossRestart(t *testing.T) {
	e := newRealEnv(t, 2)
	b := webtest.NewBrowser(t, e.srv.URL)
	b.Login(t, e.tokens[auth.RoleViewer])
	u, _ := url.Parse(e.srv.URL)
	stolen := b.Client.Jar.Cookies(u)
	if resp, _ := b.Post(t, "/logout", url.Values{"csrf": {b.CSRF(t, "/settings")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	restarted := httptest.NewServer(e.newUI().Handler())
	defer restarted.Close()
	for name, base := range map[string]string{"same server": e.srv.URL, "restarted": restarted.URL} {
		req, _ := http.NewRequest("GET", base+"/hosts", nil)
		for _, c := range stolen {
			req.AddCookie(c)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: the logged-out cookie = %d, want a redirect to the login", name, resp.StatusCode)
		}
	}
}

// TestHostActionsOverTheStore: an admin approves a pending re-enrolment
// and restores a revoked host from the dashboard, over the real store.
func TestHostActionsOverTheStore(t *testing.T) {
	e := newRealEnv(t, 3)
	ctx := context.Background()
	list, err := e.st.ListHosts(ctx, store.HostFilter{})
	if err != nil || len(list.Hosts) < 2 {
		t.Fatalf("hosts: %v", err)
	}
	h := list.Hosts[0]
	d, _ := e.st.HostDetail(ctx, store.Scope{}, h.ID)
	res, err := e.st.EnrollHost(ctx, store.EnrollInput{Host: api.HostInfo{InstallID: d.Info.InstallID, Hostname: "reinstalled"}, From: "198.51.100.4"})
	if err != nil || !res.Pending {
		t.Fatalf("pending request: %+v %v", res, err)
	}
	admin := webtest.NewBrowser(t, e.srv.URL)
	admin.Login(t, e.tokens[auth.RoleAdmin])
	if _, body := admin.Get(t, "/hosts"); !strings.Contains(body, "198.51.100.4") || !strings.Contains(body, "reinstalled") {
		t.Errorf("hosts page lacks the pending request")
	}
	later, err := e.st.EnrollHost(ctx, store.EnrollInput{Host: api.HostInfo{InstallID: d.Info.InstallID, Hostname: "reinstalled"}, From: "203.0.113.9"})
	if err != nil || !later.Pending || later.RequestID == res.RequestID {
		t.Fatalf("a later request: %+v %v", later, err)
	}
	// The form names the request: the first one is granted, not the later.
	if resp, _ := admin.Post(t, "/hosts/"+h.ID+"/approve", url.Values{"csrf": {admin.CSRF(t, "/settings")}, "request": {res.RequestID}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if _, err := e.st.HostByNodeKey(ctx, later.NodeKey); err == nil {
		t.Errorf("the later request's key works after approving the first")
	}
	if ref, err := e.st.HostByNodeKey(ctx, res.NodeKey); err != nil || ref.UID != h.ID {
		t.Errorf("the approved key: %+v %v", ref, err)
	}
	if resp, _ := admin.Post(t, "/hosts/"+h.ID+"/revoke", url.Values{"csrf": {admin.CSRF(t, "/settings")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if _, body := admin.Get(t, "/hosts/"+h.ID); !strings.Contains(body, "/restore") {
		t.Errorf("revoked host's page lacks Restore")
	}
	if resp, _ := admin.Post(t, "/hosts/"+h.ID+"/restore", url.Values{"csrf": {admin.CSRF(t, "/settings")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("restore: %d", resp.StatusCode)
	}
	if _, err := e.st.HostByNodeKey(ctx, res.NodeKey); err != nil {
		t.Errorf("the restored host's key: %v", err)
	}
	if resp, _ := admin.Post(t, "/hosts/"+h.ID+"/restore", url.Values{"csrf": {admin.CSRF(t, "/settings")}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("restore a host that is not revoked: %d, want 409", resp.StatusCode)
	}
}

// TestNotificationsPageHidesAddressesFromViewers: over the real notifier,
// only admins see subscriber addresses and the outbox (issue 13, item 6).
func TestNotificationsPageHidesAddressesFromViewers(t *testing.T) {
	e := newRealEnv(t, 1)
	for role, see := range map[string]bool{auth.RoleAdmin: true, auth.RoleSupport: false, auth.RoleViewer: false} {
		b := webtest.NewBrowser(t, e.srv.URL)
		b.Login(t, e.tokens[role])
		_, body := b.Get(t, "/notifications")
		if got := strings.Contains(body, "ops@example.com"); got != see {
			t.Errorf("%s sees subscriber addresses: %t, want %t", role, got, see)
		}
	}
}

// TestScopedDashboardRealStore: over the real store, an admin creates on
// the settings page a viewer token limited to Acme; the session it opens
// shows Acme's hosts and asset on every page it may open (the overview,
// host search and filters, host and asset pages, products and product
// pages) and nothing of Globex's or of hosts of no customer, and every
// other page refuses it.
func TestScopedDashboardRealStore(t *testing.T) {
	e := newRealEnv(t, 12) // web-0000, db-0001, app-0002, ...: hosts of no customer
	ctx := t.Context()
	cat := e.cats.Current()
	spec := func(name string) api.CustomerSpec {
		return api.CustomerSpec{Name: name, Tier: "standard", ContractStart: "2020-01-01", ContractEnd: "2099-12-31"}
	}
	acme, err := e.b.CreateCustomer(ctx, spec("Acme"))
	if err != nil {
		t.Fatal(err)
	}
	globex, err := e.b.CreateCustomer(ctx, spec("Globex"))
	if err != nil {
		t.Fatal(err)
	}
	report := func(customer, install, hostname, product, version string) string {
		info := api.HostInfo{InstallID: install, Hostname: hostname, OSName: "Debian GNU/Linux 12 (bookworm)", OSID: "debian", OSVersion: "12"}
		_, key, err := e.st.EnrollCustomer(ctx, info, customer)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := e.st.HostByNodeKey(ctx, key)
		v := cat.Evaluate(product, version, e.now, catalog.DefaultPolicy())
		if _, err := e.st.ApplyReport(ctx, store.ReportInput{Host: ref, Report: api.Report{ReportID: "r1", Kind: api.ReportFull, Host: info, InventoryHash: "h"},
			Items:    []store.MatchedItem{{Item: api.Item{Source: "dpkg", Name: product, Version: version + "-1"}, Match: store.Match{Product: product, Version: version, Rule: "test"}}},
			Verdicts: []store.Verdict{{Installed: version + "-1", V: v}}, CatalogVersion: cat.Info().Version, AsOf: e.now.Format(time.DateOnly)}); err != nil {
			t.Fatal(err)
		}
		return ref.UID
	}
	ownHost := report(acme.ID, "acme-1", "acme-1.corp.example", "python", "3.8.10")
	otherHost := report(globex.ID, "globex-1", "globex-1.corp.example", "ruby", "2.7.8")
	asset := func(customer, name string) string {
		v := cat.Evaluate("erlang", "24.3", e.now, catalog.DefaultPolicy())
		res, err := e.st.ApplyAsset(ctx, store.AssetInput{Name: name, Customer: customer, Info: api.HostInfo{OSID: "debian", OSVersion: "12"},
			Items:    []store.MatchedItem{{Item: api.Item{Source: "sbom", Name: "erlang", Version: "24.3"}, Match: store.Match{Product: "erlang", Version: "24.3", Rule: "test"}}},
			Verdicts: []store.Verdict{{Installed: "24.3", V: v}}, CatalogVersion: cat.Info().Version, AsOf: e.now.Format(time.DateOnly)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Ref.UID
	}
	ownAsset := asset(acme.ID, "registry.example/acme-shop:1")
	otherAsset := asset(globex.ID, "registry.example/globex-crm:1")

	admin := e.as(t, auth.RoleAdmin)
	resp, body := admin.Post(t, "/settings/tokens", url.Values{"csrf": {admin.CSRF(t, "/settings")}, "name": {"acme it"}, "role": {auth.RoleViewer}, "customer": {acme.ID}})
	m := regexp.MustCompile(`id="newtoken" class="secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create Acme's token on the settings page = %d", resp.StatusCode)
	}
	_, body = admin.Get(t, "/settings")
	if !strings.Contains(body, "viewer · Acme only") {
		t.Error("the settings page does not name the token's customer")
	}
	// The enroll secrets: the server's enrolled the 12 hosts of no customer, Acme's its one.
	for _, want := range []string{`--enroll-secret (server configuration): hosts of no customer</th><td>—</td><td class="n">12</td>`,
		`customer Acme&#39;s own secret</th><td>` + acme.CreatedAt.UTC().Format(time.DateOnly) + `</td><td class="n">1</td>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the settings page's enroll secrets lack %s", want)
		}
	}
	it := webtest.NewBrowser(t, e.srv.URL)
	it.Login(t, m[1])

	forbidden := []string{"globex", otherHost, otherAsset, "web-0000", "db-0001", "app-0002", "ruby", "Ruby"}
	for path, want := range map[string]int{
		"/":                   200,
		"/hosts":              200,
		"/hosts?per=200":      200,
		"/hosts?q=globex":     200,
		"/hosts?q=0000":       200,
		"/hosts?kind=asset":   200,
		"/hosts?product=ruby": 200,
		"/hosts?status=eol":   200,
		"/hosts?os=Debian+GNU%2FLinux+13+%28trixie%29": 200,
		"/hosts/" + ownHost:                            200,
		"/hosts/" + ownAsset:                           200,
		"/hosts/" + otherHost:                          404,
		"/hosts/" + otherAsset:                         404,
		"/products":                                    200,
		"/products/python":                             200,
		"/products/nginx":                              200,
		"/products/erlang":                             200,
		"/eligibility":                                 403,
		"/eligibility?host=globex-1.corp.example&product=ruby&severity=1": 403,
		"/customers":     403,
		"/notifications": 403,
		"/settings":      403,
	} {
		code, body := it.Get(t, path)
		if code != want {
			t.Errorf("GET %s as Acme's viewer = %d, want %d", path, code, want)
		}
		low := strings.ToLower(body)
		for _, f := range forbidden {
			if strings.Contains(low, strings.ToLower(f)) && !(strings.Contains(path, "globex") && f == "globex") {
				t.Errorf("GET %s as Acme's viewer shows %q", path, f)
			}
		}
	}
	_, body = it.Get(t, "/hosts?per=200")
	if n := strings.Count(body, `<th scope="row"><a href="/hosts/`); n != 2 || !strings.Contains(body, "acme-1.corp.example") || !strings.Contains(body, "registry.example/acme-shop:1") {
		t.Errorf("Acme's hosts page lists %d rows, want its host and its asset", n)
	}
	if _, body := it.Get(t, "/"); !strings.Contains(body, "viewer · Acme") {
		t.Error("the limited session does not name its customer")
	}
	if _, body := it.Get(t, "/hosts/"+ownHost); !strings.Contains(body, `<dd id="customer">Acme</dd>`) {
		t.Error("Acme's host page does not name its customer")
	}
	if _, body := admin.Get(t, "/hosts/"+otherAsset); !strings.Contains(body, `<dd id="customer"><a href="/customers/`+globex.ID+`">Globex</a></dd>`) {
		t.Error("Globex's asset page does not name its customer to the admin")
	}
}

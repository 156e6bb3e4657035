package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

type testEnv struct {
	f      *fake
	ui     *UI
	srv    *httptest.Server
	tokens map[string]string // role -> token
}

func newEnv(t *testing.T, hosts int) *testEnv {
	t.Helper()
	f := newFake(hosts)
	e := &testEnv{f: f, ui: newTestUI(f), tokens: map[string]string{}}
	for _, r := range []string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer} {
		e.tokens[r] = f.addToken(r, r+" token")
	}
	e.srv = httptest.NewServer(e.ui.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *testEnv) as(t *testing.T, role string) *webtest.Browser {
	b := webtest.NewBrowser(t, e.srv.URL)
	b.Login(t, e.tokens[role])
	return b
}

func TestLoginRequired(t *testing.T) {
	e := newEnv(t, 10)
	b := webtest.NewBrowser(t, e.srv.URL)
	for _, path := range []string{"/", "/hosts?status=eol", "/hosts/h00001", "/products", "/eligibility", "/notifications", "/settings"} {
		resp, err := b.Client.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?next=") {
			t.Errorf("GET %s without session = %d Location %q, want 303 to /login?next=", path, resp.StatusCode, loc)
		}
		if next, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/login?next=")); next != path {
			t.Errorf("GET %s: next = %q, want the page itself", path, next)
		}
	}
	resp, _ := b.Post(t, "/notifications/releases", url.Values{"product": {"python"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST without session = %d, want 401", resp.StatusCode)
	}
}

func TestLoginFlow(t *testing.T) {
	e := newEnv(t, 10)
	b := webtest.NewBrowser(t, e.srv.URL)
	code, body := b.Get(t, "/login")
	if code != http.StatusOK || !strings.Contains(body, `name="token"`) || !strings.Contains(body, `<label for="token">`) {
		t.Fatalf("GET /login = %d, want 200 with a labelled token field", code)
	}

	tests := []struct {
		name  string
		form  url.Values
		csrf  bool
		code  int
		inMsg string
	}{
		{"no csrf", url.Values{"token": {e.tokens[auth.RoleAdmin]}}, false, http.StatusForbidden, "expired"},
		{"empty token", url.Values{"token": {"  "}}, true, http.StatusBadRequest, "Enter an API token"},
		{"bad token", url.Values{"token": {"ew_nope"}}, true, http.StatusUnauthorized, "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.csrf {
				tt.form.Set("csrf", b.CSRF(t, "/login"))
			}
			resp, body := b.Post(t, "/login", tt.form)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.inMsg) {
				t.Errorf("%s: POST /login = %d, want %d with %q", tt.name, resp.StatusCode, tt.code, tt.inMsg)
			}
		})
	}

	resp, _ := b.Post(t, "/login", url.Values{"token": {e.tokens[auth.RoleViewer]}, "csrf": {b.CSRF(t, "/login?next=/hosts")}, "next": {"/hosts"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/hosts" {
		t.Fatalf("POST /login = %d to %q, want 303 to /hosts", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sc = c
		}
	}
	if sc == nil {
		t.Fatal("login set no session cookie")
	}
	if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure {
		t.Errorf("session cookie HttpOnly=%v SameSite=%v Secure=%v, want HttpOnly, Lax, not Secure over plain HTTP", sc.HttpOnly, sc.SameSite, sc.Secure)
	}
	if strings.Contains(sc.Value, e.tokens[auth.RoleViewer]) {
		t.Error("session cookie holds the token in clear")
	}
	if code, body := b.Get(t, "/"); code != http.StatusOK || !strings.Contains(body, "Fleet overview") {
		t.Errorf("GET / after login = %d, want the overview", code)
	}

	// Logout ends the session even if someone kept the cookie.
	csrf := b.CSRF(t, "/")
	if resp, _ := b.Post(t, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /logout = %d, want 303", resp.StatusCode)
	}
	replay := webtest.NewBrowser(t, e.srv.URL)
	u, _ := url.Parse(e.srv.URL)
	replay.Client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sc.Value}})
	if code, _ := replay.Get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("GET / with a logged-out cookie = %d, want 303 to login", code)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	f := newFake(1)
	tok := f.addToken(auth.RoleAdmin, "a")
	srv := httptest.NewTLSServer(newTestUI(f).Handler())
	defer srv.Close()
	b := webtest.NewBrowser(t, srv.URL)
	b.Client.Transport = srv.Client().Transport
	resp, _ := b.Post(t, "/login", url.Values{"token": {tok}, "csrf": {b.CSRF(t, "/login")}})
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && (!c.Secure || !c.HttpOnly) {
			t.Errorf("session cookie over TLS Secure=%v HttpOnly=%v, want both", c.Secure, c.HttpOnly)
		}
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("TLS login = %d, want 303", resp.StatusCode)
	}
}

func TestSessionTampering(t *testing.T) {
	e := newEnv(t, 1)
	b := e.as(t, auth.RoleAdmin)
	u, _ := url.Parse(e.srv.URL)
	var val string
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == sessionCookie {
			val = c.Value
		}
	}
	flipped := []byte(val)
	flipped[len(flipped)/2] ^= 1
	for name, v := range map[string]string{"flipped": string(flipped), "garbage": "abc", "empty": "", "truncated": val[:10]} {
		x := webtest.NewBrowser(t, e.srv.URL)
		x.Client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: v}})
		if code, _ := x.Get(t, "/"); code != http.StatusSeeOther {
			t.Errorf("%s cookie: GET / = %d, want 303 to login", name, code)
		}
	}
	// Expiry: a session from 13 hours ago is over.
	ui := e.ui
	later := fakeNow.Add(13 * time.Hour)
	ui.sessions.now = func() time.Time { return later }
	if code, _ := b.Get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("GET / after the session TTL = %d, want 303", code)
	}
}

func TestRevokedTokenEndsSession(t *testing.T) {
	e := newEnv(t, 1)
	b := e.as(t, auth.RoleSupport)
	if code, _ := b.Get(t, "/"); code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	e.f.mu.Lock()
	delete(e.f.tokens, e.tokens[auth.RoleSupport])
	e.f.mu.Unlock()
	if code, _ := b.Get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("GET / after the token was revoked = %d, want 303 to login", code)
	}
}

// TestPagesByRole opens every page as every role.
func TestPagesByRole(t *testing.T) {
	e := newEnv(t, 60)
	pages := []struct {
		path string
		want map[string]int // role -> status
		text string
	}{
		{"/", webtest.All(200), "Compliance by status"},
		{"/hosts", webtest.All(200), "Hostname contains"},
		{"/hosts?status=eol&sort=last_seen&dir=desc&per=25&page=2", webtest.All(200), "hosts match the filters"},
		{"/hosts/h00001", webtest.All(200), "Products and verdicts"},
		{"/hosts/nope", webtest.All(404), "Not found"},
		{"/hosts?status=bogus", webtest.All(400), "unknown status"},
		{"/products", webtest.All(200), "Products in the fleet"},
		{"/products/python", webtest.All(200), "Release cycles and support dates"},
		{"/products/cobol", webtest.All(404), "Not found"},
		{"/eligibility", webtest.Roles(200, 200, 403), "Ticket check"},
		{"/eligibility?customer=Webshop+AG&product=python&version=3.8.10&severity=2", webtest.Roles(200, 200, 403), "REFUSE"},
		{"/customers", webtest.Roles(200, 403, 403), "Webshop AG"},
		{"/customers/c-web", webtest.Roles(200, 403, 403), "Europe/Berlin"},
		{"/customers/nobody", webtest.Roles(404, 403, 403), "Not found"},
		{"/notifications", webtest.Roles(200, 200, 200), "Groups"},
		{"/notifications?state=failed", webtest.Roles(200, 200, 200), "platform"},
		{"/settings", webtest.All(200), "Catalog"},
		{"/static/style.css", webtest.All(200), "--st-eol"},
		{"/nope", webtest.All(404), ""},
	}
	for _, role := range []string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer} {
		b := e.as(t, role)
		for _, p := range pages {
			code, body := b.Get(t, p.path)
			if code != p.want[role] {
				t.Errorf("%s: GET %s = %d, want %d", role, p.path, code, p.want[role])
				continue
			}
			if code == 200 && !strings.Contains(body, p.text) {
				t.Errorf("%s: GET %s: body lacks %q", role, p.path, p.text)
			}
		}
	}
}

// TestFormsByRole posts every form as every role, with and without the CSRF token.
func TestFormsByRole(t *testing.T) {
	e := newEnv(t, 5)
	forms := []struct {
		path string
		form url.Values
		want map[string]int
	}{
		{"/notifications/releases", url.Values{"product": {"python"}, "cycle": {"3.12"}, "version": {"3.12.12"}, "date": {"2025-09-15"}}, webtest.Roles(303, 403, 403)},
		{"/settings/tokens", url.Values{"name": {"ci"}, "role": {"viewer"}}, webtest.Roles(200, 403, 403)},
		{"/customers", url.Values{"name": {"Newco"}, "tier": {"standard"}, "contract_start": {"2025-01-01"}, "contract_end": {"2025-12-31"},
			"days": {"mon"}, "open": {"09:00"}, "close": {"17:00"}}, webtest.Roles(200, 403, 403)},
		{"/customers/c-db", url.Values{"name": {"Databank BV"}, "tier": {"standard"}, "contract_start": {"2024-01-01"}, "contract_end": {"2024-12-31"},
			"days": {"mon"}, "open": {"09:00"}, "close": {"17:00"}, "timezone": {"Europe/Amsterdam"}}, webtest.Roles(303, 403, 403)},
	}
	for _, role := range []string{auth.RoleAdmin, auth.RoleSupport, auth.RoleViewer} {
		b := e.as(t, role)
		for _, f := range forms {
			resp, _ := b.Post(t, f.path, f.form)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: POST %s without csrf = %d, want 403", role, f.path, resp.StatusCode)
			}
			bad := cloneValues(f.form)
			bad.Set("csrf", "forged")
			if resp, _ := b.Post(t, f.path, bad); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: POST %s with a wrong csrf = %d, want 403", role, f.path, resp.StatusCode)
			}
			good := cloneValues(f.form)
			good.Set("csrf", b.CSRF(t, "/settings"))
			if resp, _ := b.Post(t, f.path, good); resp.StatusCode != f.want[role] {
				t.Errorf("%s: POST %s = %d, want %d", role, f.path, resp.StatusCode, f.want[role])
			}
		}
	}
	// Another session's CSRF token does not work either.
	a, v := e.as(t, auth.RoleAdmin), e.as(t, auth.RoleAdmin)
	form := url.Values{"name": {"x"}, "role": {"viewer"}, "csrf": {v.CSRF(t, "/settings")}}
	if resp, _ := a.Post(t, "/settings/tokens", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with another session's csrf = %d, want 403", resp.StatusCode)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t, 1)
	b := e.as(t, auth.RoleAdmin)
	form := url.Values{"name": {"x"}, "role": {"admin"}, "csrf": {b.CSRF(t, "/settings")}}
	req, _ := http.NewRequest("POST", e.srv.URL+"/settings/tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST = %d, want 403", resp.StatusCode)
	}
}

func TestPublishReleaseShowsInOutbox(t *testing.T) {
	e := newEnv(t, 5)
	b := e.as(t, auth.RoleAdmin)
	csrf := b.CSRF(t, "/notifications")
	resp, _ := b.Post(t, "/notifications/releases", url.Values{"csrf": {csrf}, "product": {"python"}, "cycle": {"3.12"}, "version": {"3.12.12"}, "date": {"2025-09-15"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish = %d, want 303", resp.StatusCode)
	}
	code, body := b.Get(t, resp.Header.Get("Location"))
	if code != 200 || !strings.Contains(body, "Release python 3.12.12 published. 1 event recorded, 2 emails queued.") || !strings.Contains(body, "Python 3.12.12 released") {
		t.Errorf("after publish: GET %s = %d, want the confirmation and the queued messages", resp.Header.Get("Location"), code)
	}

	bad := []struct {
		form  url.Values
		code  int
		field string
	}{
		{url.Values{"product": {""}, "cycle": {"3.12"}, "version": {"3.12.12"}}, 400, "Enter the product id"},
		{url.Values{"product": {"python"}, "cycle": {"3.12"}, "version": {"3.12.12"}, "date": {"15/09/2025"}}, 400, "YYYY-MM-DD"},
		{url.Values{"product": {"cobol"}, "cycle": {"1"}, "version": {"1.1"}}, 400, "no product"},
	}
	for _, tt := range bad {
		t.Run(tt.field, func(t *testing.T) {
			tt.form.Set("csrf", csrf)
			resp, body := b.Post(t, "/notifications/releases", tt.form)
			if resp.StatusCode != tt.code || !strings.Contains(body, tt.field) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("publish %v = %d, want %d with %q next to the field", tt.form, resp.StatusCode, tt.code, tt.field)
			}
		})
	}
}

func TestTokensCreateAndRevoke(t *testing.T) {
	e := newEnv(t, 1)
	b := e.as(t, auth.RoleAdmin)
	csrf := b.CSRF(t, "/settings")
	resp, body := b.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"desk"}, "role": {"support"}})
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create token = %d Cache-Control %q, want 200 no-store", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	m := regexp.MustCompile(`id="newtoken" class="secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the new token is not shown")
	}
	desk := webtest.NewBrowser(t, e.srv.URL)
	desk.Login(t, m[1])
	if code, _ := desk.Get(t, "/eligibility"); code != 200 {
		t.Errorf("new support token: GET /eligibility = %d, want 200", code)
	}
	if resp, body := b.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {""}, "role": {"root"}}); resp.StatusCode != 400 || !strings.Contains(body, "Choose admin, support or viewer") {
		t.Errorf("create token with bad input = %d, want 400 naming the role field", resp.StatusCode)
	}
	// Revoke it: the desk's session ends.
	toks, _ := e.f.Tokens(t.Context())
	var id string
	for _, tk := range toks {
		if tk.Name == "desk" {
			id = tk.ID
		}
	}
	resp, _ = b.Post(t, "/settings/tokens/"+id+"/revoke", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d, want 303", resp.StatusCode)
	}
	if code, _ := desk.Get(t, "/"); code != http.StatusSeeOther {
		t.Errorf("revoked token's session: GET / = %d, want 303 to login", code)
	}
	if resp, _ := b.Post(t, "/settings/tokens/nope/revoke", url.Values{"csrf": {csrf}}); resp.StatusCode != 404 {
		t.Errorf("revoke unknown = %d, want 404", resp.StatusCode)
	}
}

func TestHostsFilterSortPage(t *testing.T) {
	e := newEnv(t, 300)
	b := e.as(t, auth.RoleViewer)
	rowRE := regexp.MustCompile(`<th scope="row"><a href="/hosts/(h\d+)">`)
	tests := []struct {
		query string
		rows  int
		first string
		text  string
	}{
		{"", 50, "h00003", "300 hosts"}, // app-0003 sorts first by hostname
		{"per=25&page=12", 25, "", "Page 12 of 12"},
		{"per=25&page=99", 0, "", "No host matches"},
		{"q=DB-00", 25, "h00002", "25 hosts match"},
		{"sort=hostname&dir=desc", 50, "h00297", ""},
		{"product=nginx&status=eol", 50, "", "nginx version"},
		{"stale=1", 18, "", "stale"},
		{"os=Debian+GNU%2FLinux+10+%28buster%29&per=200", 20, "", "20 hosts match"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body := b.Get(t, "/hosts?"+tt.query)
			rows := rowRE.FindAllStringSubmatch(body, -1)
			if code != 200 || len(rows) != tt.rows {
				t.Errorf("GET /hosts?%s = %d with %d rows, want 200 with %d", tt.query, code, len(rows), tt.rows)
				return
			}
			if tt.first != "" && rows[0][1] != tt.first {
				t.Errorf("GET /hosts?%s: first row %s, want %s", tt.query, rows[0][1], tt.first)
			}
			if !strings.Contains(body, tt.text) {
				t.Errorf("GET /hosts?%s: body lacks %q", tt.query, tt.text)
			}
		})
	}
	for _, l := range e.f.limits {
		if l < 1 || l > MaxPerPage {
			t.Errorf("Hosts was asked for %d rows, want 1..%d", l, MaxPerPage)
		}
	}
	if _, body := b.Get(t, "/hosts?per=100000"); len(rowRE.FindAllString(body, -1)) != MaxPerPage {
		t.Errorf("per=100000 was not capped at %d rows", MaxPerPage)
	}
}

func TestEscapingAndHeaders(t *testing.T) {
	e := newEnv(t, 3)
	e.f.hosts[0].d.Info.Hostname = `<script>alert(1)</script>`
	b := e.as(t, auth.RoleViewer)
	resp, err := b.Client.Get(e.srv.URL + "/hosts/h00001")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "<script>alert(1)") {
		t.Error("hostname was not escaped")
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want self-only scripts", csp)
	}
}

func TestDataSourceErrors(t *testing.T) {
	e := newEnv(t, 3)
	b := e.as(t, auth.RoleAdmin)
	e.f.failWith = errors.New("database is locked")
	for _, p := range []string{"/", "/hosts"} {
		if code, body := b.Get(t, p); code != 500 || strings.Contains(body, "database is locked") {
			t.Errorf("GET %s with a failing store = %d, want 500 without internals", p, code)
		}
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                     "/",
		"/hosts?status=eol":    "/hosts?status=eol",
		"//evil.example":       "/",
		"/\\evil.example":      "/",
		"https://evil.example": "/",
		"/ok\r\nSet-Cookie: x": "/",
		"hosts":                "/",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAssetsOnTheDashboard: an asset registered by SBOM is listed with the
// hosts (and alone with the kind filter), shows its labels and upload
// history on its page, counts on the overview, and is never stale.
func TestAssetsOnTheDashboard(t *testing.T) {
	e := newEnv(t, 30)
	e.f.addAsset("a00001", "registry.example/app:1.4")
	b := e.as(t, auth.RoleSupport)
	for _, tc := range []struct {
		path     string
		code     int
		has, not []string
	}{
		{"/hosts?kind=asset", 200, []string{"1 asset match", "registry.example/app:1.4", `class="badge kind-asset"`, `<option value="asset" selected>`},
			[]string{"web-0001", "badge stale"}},
		{"/hosts?kind=host&per=50", 200, []string{"30 hosts match", "web-0001"}, []string{"registry.example/app:1.4"}},
		{"/hosts?per=50", 200, []string{"31 hosts", "registry.example/app:1.4", "web-0001"}, nil},
		{"/hosts?kind=asset&stale=1", 200, []string{"0 assets match"}, []string{"registry.example/app:1.4"}},
		{"/hosts?kind=vm", 400, []string{"unknown kind"}, nil},
		{"/hosts/a00001", 200, []string{"SBOM uploads", "team=payments", "api:ci", "syft 1.57.1", "cyclonedx 1.7", "5e0f4c8b2a6d", "+3 / −1",
			"Last upload", "Check this asset", `href="/hosts?kind=asset">Assets</a>`}, []string{"badge stale", "Agent</dt>"}},
		{"/hosts/h00001", 200, []string{"Agent</dt>"}, []string{"SBOM uploads"}},
		{"/", 200, []string{"assets (images and artefacts, from SBOMs)", "30 hosts, 1 asset,", `href="/hosts?kind=asset"`}, nil},
	} {
		t.Run(tc.path, func(t *testing.T) {
			code, body := b.Get(t, tc.path)
			if code != tc.code {
				t.Fatalf("GET %s = %d, want %d", tc.path, code, tc.code)
			}
			for _, s := range tc.has {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: body lacks %q", tc.path, s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(body, s) {
					t.Errorf("GET %s: body has %q", tc.path, s)
				}
			}
		})
	}
}

// TestCITokenFromSettings: an admin creates a ci token on the settings page;
// it cannot open the dashboard, and the login page says why.
func TestCITokenFromSettings(t *testing.T) {
	e := newEnv(t, 1)
	b := e.as(t, auth.RoleAdmin)
	csrf := b.CSRF(t, "/settings")
	if !strings.Contains(func() string { _, body := b.Get(t, "/settings"); return body }(), `<option value="ci"`) {
		t.Fatal("the settings page offers no ci role")
	}
	resp, body := b.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"pipeline"}, "role": {auth.RoleCI}})
	m := regexp.MustCompile(`id="newtoken" class="secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("create ci token = %d, token shown %v", resp.StatusCode, m != nil)
	}
	pipe := webtest.NewBrowser(t, e.srv.URL)
	resp, body = pipe.Post(t, "/login", url.Values{"token": {m[1]}, "csrf": {pipe.CSRF(t, "/login")}, "next": {"/"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "it may only upload SBOMs") {
		t.Fatalf("login with a ci token = %d, want 403 saying what the token may do", resp.StatusCode)
	}
}

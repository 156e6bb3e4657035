package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestSafeNextRefusesOffSite: the post-login redirect only goes to a path
// on this site (issue 13, item 3).
func TestSafeNextRefusesOffSite(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/hosts?status=eol", "/hosts?status=eol"},
		{"/hosts/h1?x=%2F%2Fevil", "/hosts/h1?x=%2F%2Fevil"},
		{"/\t/evil.example/x", "/"},
		{"/%09/evil.example/x", "/%09/evil.example/x"}, // percent-encoded: a path on this site
		{"\t//evil.example", "/"},
		{" //evil.example", "/"},
		{"/ /evil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/x\\y", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\x00/evil", "/"},
		{"/\u3000/evil", "/"},
		{"/ok\r\nSet-Cookie: x", "/"},
		{"hosts", "/"},
		{"", "/"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := safeNext(tc.in); got != tc.want {
				t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	// Through the login form: the phishing link of the report.
	e := newEnv(t, 1)
	b := webtest.NewBrowser(t, e.srv.URL)
	_, body := b.Get(t, "/login?next="+url.QueryEscape("/\t/evil.example/x"))
	if strings.Contains(body, "evil.example") {
		t.Errorf("the login form carries the off-site next")
	}
	form := url.Values{"token": {e.tokens[auth.RoleViewer]}, "next": {"/\t/evil.example/x"}, "csrf": {b.CSRF(t, "/login")}}
	resp, _ := b.Post(t, "/login", form)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/" {
		t.Errorf("login with an off-site next: %d Location %q, want 303 to /", resp.StatusCode, loc)
	}
}

// TestLogoutSurvivesRestart: a copied session cookie stops working at
// logout, also after the server restarts (the revocation is stored, not
// held in memory) (issue 13, item 4).
func TestLogoutSurvivesRestart(t *testing.T) {
	f := newFake(3)
	key := make([]byte, 32)
	mk := func() *httptest.Server {
		ui := New(Config{Auth: f, Fleet: f, Checker: f, Customers: f, Notifications: f, Settings: f, Sessions: f, SessionKey: key,
			Now: func() time.Time { return fakeNow }})
		srv := httptest.NewServer(ui.Handler())
		t.Cleanup(srv.Close)
		return srv
	}
	srv := mk()
	tok := f.addToken(auth.RoleAdmin, "admin")
	b := webtest.NewBrowser(t, srv.URL)
	b.Login(t, tok)
	u, _ := url.Parse(srv.URL)
	stolen := b.Client.Jar.Cookies(u)
	csrf := b.CSRF(t, "/settings")
	if resp, _ := b.Post(t, "/logout", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	srv2 := mk() // a restart: the same session key, a new process
	for name, s := range map[string]*httptest.Server{"same process": srv, "after a restart": srv2} {
		req, _ := http.NewRequest("GET", s.URL+"/settings", nil)
		for _, c := range stolen {
			req.AddCookie(c)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Errorf("%s: the logged-out cookie = %d, want a redirect to /login", name, resp.StatusCode)
		}
	}
}

// TestNotificationsAdminOnlyParts: subscriber addresses, the outbox and
// webhook URLs are for admins; other roles see the groups and counts only
// (issue 13, item 6).
func TestNotificationsAdminOnlyParts(t *testing.T) {
	e := newEnv(t, 3)
	e.f.groups[1].Webhook = "https://user:secret@hooks.example/x"
	for _, tc := range []struct {
		role string
		see  bool
	}{{auth.RoleAdmin, true}, {auth.RoleSupport, false}, {auth.RoleViewer, false}} {
		t.Run(tc.role, func(t *testing.T) {
			code, body := e.as(t, tc.role).Get(t, "/notifications?state=failed")
			if code != 200 || !strings.Contains(body, "platform") {
				t.Fatalf("GET /notifications = %d", code)
			}
			for _, secret := range []string{"ops@example.com", "web-team@example.com", "Recipient address rejected", "hooks.example", "secret@"} {
				if got := strings.Contains(body, secret); got != tc.see {
					t.Errorf("page shows %q: %t, want %t", secret, got, tc.see)
				}
			}
		})
	}
}

// TestPendingReEnrolmentOnTheDashboard: every request awaiting approval is
// listed for admins with its id, time and source and its own approve and
// deny buttons, which name the request: a click for one request never
// grants another (a later one for the same host). A host's page shows the
// requests; where they came from is shown to admins only, and revoked
// hosts can be restored (issue 13, item 2).
func TestPendingReEnrolmentOnTheDashboard(t *testing.T) {
	e := newEnv(t, 5)
	h := e.f.byID["h00002"]
	h.d.Pending = []api.PendingEnrollment{
		{ID: "enr_real", RequestedAt: fakeNow.Add(-2 * time.Hour), Hostname: "web2", From: "192.0.2.7"},
		{ID: "enr_later", RequestedAt: fakeNow.Add(-time.Hour), Hostname: "URGENT-login-at-evil.example", From: "203.0.113.9"},
	}
	e.f.byID["h00003"].d.Revoked = true
	admin := e.as(t, auth.RoleAdmin)
	_, body := admin.Get(t, "/hosts")
	for _, want := range []string{"Re-enrolments awaiting approval", "192.0.2.7", "203.0.113.9", "enr_real", "enr_later",
		`action="/hosts/h00002/approve"`, `action="/hosts/h00002/deny"`,
		`name="request" value="enr_real"`, `name="request" value="enr_later"`} {
		if !strings.Contains(body, want) {
			t.Errorf("admin's hosts page lacks %q", want)
		}
	}
	_, body = admin.Get(t, "/hosts/h00002")
	for _, want := range []string{"2 re-enrolments of this host are awaiting approval", `action="/hosts/h00002/approve"`,
		`name="request" value="enr_real"`, "192.0.2.7", "203.0.113.9"} {
		if !strings.Contains(body, want) {
			t.Errorf("admin's host page lacks %q", want)
		}
	}
	_, body = admin.Get(t, "/hosts/h00003")
	if !strings.Contains(body, "revoked") || !strings.Contains(body, `action="/hosts/h00003/restore"`) {
		t.Errorf("revoked host's page lacks Restore")
	}
	// A request's source is for admins: viewers and support see the
	// request but neither its address nor the buttons (issue 13, follow-up).
	for _, role := range []string{auth.RoleViewer, auth.RoleSupport} {
		_, body := e.as(t, role).Get(t, "/hosts/h00002")
		if !strings.Contains(body, "awaiting approval") || !strings.Contains(body, "enr_later") || strings.Contains(body, "/approve") {
			t.Errorf("%s's host page: the requests should show, their buttons not", role)
		}
		for _, addr := range []string{"192.0.2.7", "203.0.113.9"} {
			if strings.Contains(body, addr) {
				t.Errorf("%s's host page shows the request's source %s", role, addr)
			}
		}
		if _, body := e.as(t, role).Get(t, "/hosts"); strings.Contains(body, "203.0.113.9") || strings.Contains(body, "awaiting approval") {
			t.Errorf("%s's hosts page lists the pending requests", role)
		}
	}
	for _, tc := range []struct {
		name, role, path, request string
		code                      int
		after                     func() bool
	}{
		{"viewer", auth.RoleViewer, "/hosts/h00002/approve", "enr_real", 403, func() bool { return len(h.d.Pending) == 2 }},
		{"support", auth.RoleSupport, "/hosts/h00002/deny", "enr_real", 403, func() bool { return len(h.d.Pending) == 2 }},
		{"no request named", auth.RoleAdmin, "/hosts/h00002/approve", "", 409, func() bool { return len(h.d.Pending) == 2 }},
		{"unknown request", auth.RoleAdmin, "/hosts/h00002/approve", "enr_gone", 409, func() bool { return len(h.d.Pending) == 2 }},
		{"deny the later one", auth.RoleAdmin, "/hosts/h00002/deny", "enr_later", 303,
			func() bool { return len(h.d.Pending) == 1 && h.d.Pending[0].ID == "enr_real" }},
		{"approve the real one", auth.RoleAdmin, "/hosts/h00002/approve", "enr_real", 303,
			func() bool { return h.d.Pending == nil && e.f.actions["h00002"] == "approve" }},
		{"approve again", auth.RoleAdmin, "/hosts/h00002/approve", "enr_real", 409, func() bool { return true }},
		{"restore", auth.RoleAdmin, "/hosts/h00003/restore", "", 303, func() bool { return !e.f.byID["h00003"].d.Revoked }},
		{"revoke", auth.RoleAdmin, "/hosts/h00004/revoke", "", 303, func() bool { return e.f.byID["h00004"].d.Revoked }},
		{"unknown action", auth.RoleAdmin, "/hosts/h00004/explode", "", 404, func() bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.as(t, tc.role)
			resp, _ := b.Post(t, tc.path, url.Values{"csrf": {b.CSRF(t, "/settings")}, "request": {tc.request}})
			if resp.StatusCode != tc.code || !tc.after() {
				t.Errorf("%s: POST %s request=%q = %d, want %d (and its effect)", tc.role, tc.path, tc.request, resp.StatusCode, tc.code)
			}
		})
	}
}

// TestSecureCookieBehindTLSProxy: behind a TLS-terminating proxy the
// cookies are Secure when the proxy says the client used https (Scheme),
// or always with SecureCookies (a public URL in https) (issue 13, item 5).
func TestSecureCookieBehindTLSProxy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		secure   bool   // Config.SecureCookies
		proto    string // X-Forwarded-Proto the (trusted) proxy sends
		wantFlag bool
	}{
		{"plain http", false, "", false},
		{"proxy says https", false, "https", true},
		{"https public URL", true, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(1)
			ui := New(Config{Auth: f, Fleet: f, Checker: f, Customers: f, Notifications: f, Settings: f, SecureCookies: tc.secure,
				Scheme: func(r *http.Request) string {
					if r.Header.Get("X-Forwarded-Proto") == "https" {
						return "https"
					}
					return "http"
				}})
			req := httptest.NewRequest("GET", "/login", nil)
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			rec := httptest.NewRecorder()
			ui.Handler().ServeHTTP(rec, req)
			cs := rec.Result().Cookies()
			if len(cs) == 0 {
				t.Fatal("GET /login set no cookie")
			}
			for _, c := range cs {
				if c.Secure != tc.wantFlag {
					t.Errorf("cookie %s Secure = %t, want %t", c.Name, c.Secure, tc.wantFlag)
				}
			}
		})
	}
}

// TestDeleteAssetOnTheDashboard: an admin deletes an asset from its page
// (a confirmed form); the button is not shown to other roles nor on a
// host's page, other roles are refused, a host cannot be deleted (409), and
// the hosts page says the asset was deleted.
func TestDeleteAssetOnTheDashboard(t *testing.T) {
	e := newEnv(t, 3)
	e.f.addAsset("a00001", "registry.example/app:1.4")
	e.f.addAsset("a00002", "registry.example/app:1.5")
	admin := e.as(t, auth.RoleAdmin)
	if _, body := admin.Get(t, "/hosts/a00001"); !strings.Contains(body, `action="/hosts/a00001/delete"`) || !strings.Contains(body, `data-confirm="Delete registry.example/app:1.4?`) {
		t.Errorf("admin's asset page lacks the confirmed delete form")
	}
	if _, body := admin.Get(t, "/hosts/h00001"); strings.Contains(body, "/delete") {
		t.Errorf("a host's page offers to delete it")
	}
	for _, role := range []string{auth.RoleViewer, auth.RoleSupport} {
		if _, body := e.as(t, role).Get(t, "/hosts/a00001"); strings.Contains(body, "/delete") {
			t.Errorf("%s sees the delete form", role)
		}
	}
	gone := func(id string) func() bool { return func() bool { _, ok := e.f.byID[id]; return !ok } }
	for _, tc := range []struct {
		role, path string
		code       int
		after      func() bool
	}{
		{auth.RoleViewer, "/hosts/a00001/delete", 403, func() bool { return !gone("a00001")() }},
		{auth.RoleSupport, "/hosts/a00001/delete", 403, func() bool { return !gone("a00001")() }},
		{auth.RoleAdmin, "/hosts/h00001/delete", 409, func() bool { return !gone("h00001")() }},
		{auth.RoleAdmin, "/hosts/a00001/delete", 303, gone("a00001")},
		{auth.RoleAdmin, "/hosts/a00001/delete", 404, gone("a00001")},
	} {
		b := e.as(t, tc.role)
		resp, _ := b.Post(t, tc.path, url.Values{"csrf": {b.CSRF(t, "/settings")}})
		if resp.StatusCode != tc.code || !tc.after() {
			t.Errorf("%s: POST %s = %d, want %d (and its effect)", tc.role, tc.path, resp.StatusCode, tc.code)
		}
		if tc.code == 303 {
			if loc := resp.Header.Get("Location"); loc != "/hosts?kind=asset&done=delete" {
				t.Errorf("after deleting: redirected to %q", loc)
			}
		}
	}
	if _, body := admin.Get(t, "/hosts?kind=asset&done=delete"); !strings.Contains(body, "The asset was deleted") ||
		strings.Contains(body, "registry.example/app:1.4") || !strings.Contains(body, "registry.example/app:1.5") {
		t.Errorf("hosts page after the delete:\n%s", body)
	}
}

// Package webtest drives the dashboard from tests the way a browser does: a
// cookie jar, forms with their CSRF token, redirects not followed. It is
// for tests only (the dashboard's own, and those of the code wiring it to
// the real parts).
package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/auth"
)

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Browser is an HTTP client with a cookie jar that does not follow redirects.
// It holds no *testing.T: every method takes the test (or subtest) it
// reports to, so a browser made in a test is used safely inside its t.Run
// subtests (a failure fails the subtest, not its parent from the wrong
// goroutine).
type Browser struct {
	// Client is the browser's HTTP client (its Jar holds the cookies).
	Client *http.Client
	base   string
}

// NewBrowser returns a browser on the dashboard at base (a URL).
func NewBrowser(t testing.TB, base string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Browser{Client: c, base: base}
}

// Get returns the status and body of GET path.
func (b *Browser) Get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := b.Client.Get(b.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Post posts form to path and returns the answer and its body.
func (b *Browser) Post(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := b.Client.PostForm(b.base+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// CSRF returns the CSRF token of the form on page path.
func (b *Browser) CSRF(t testing.TB, path string) string {
	t.Helper()
	code, body := b.Get(t, path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("GET %s (%d): no csrf field in page", path, code)
	}
	return m[1]
}

// Login logs in with token and fails the test unless it works.
func (b *Browser) Login(t testing.TB, token string) {
	t.Helper()
	resp, body := b.Post(t, "/login", url.Values{"token": {token}, "csrf": {b.CSRF(t, "/login")}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login = %d, want 303; body:\n%s", resp.StatusCode, body)
	}
}

// All expects code for every role.
func All(code int) map[string]int { return Roles(code, code, code) }

// Roles expects one code per role.
func Roles(admin, support, viewer int) map[string]int {
	return map[string]int{auth.RoleAdmin: admin, auth.RoleSupport: support, auth.RoleViewer: viewer}
}

// LoginCookies logs in to the dashboard handler h with token, in process
// (no listener), and returns the cookies a browser would then send.
func LoginCookies(tb testing.TB, h http.Handler, token string) []*http.Cookie {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		tb.Fatalf("GET /login (%d): no csrf field in page", rec.Code)
	}
	form := url.Values{"token": {token}, "csrf": {m[1]}, "next": {"/"}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		tb.Fatalf("POST /login = %d, want 303; body:\n%s", rec.Code, rec.Body)
	}
	var out []*http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			out = append(out, c)
		}
	}
	return out
}

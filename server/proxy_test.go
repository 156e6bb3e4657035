package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	p, err := parseTrustedProxies([]string{"10.0.0.0/8", "192.0.2.10/32", "::1/128"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote, xff, xfp string
		ip, scheme             string
	}{
		{"direct client", "198.51.100.7:4000", "", "", "198.51.100.7", "http"},
		{"spoofed header from an untrusted peer", "198.51.100.7:4000", "203.0.113.1", "https", "198.51.100.7", "http"},
		{"one trusted proxy", "10.1.2.3:80", "203.0.113.1", "https", "203.0.113.1", "https"},
		{"a chain of trusted proxies", "10.1.2.3:80", "203.0.113.1, 192.0.2.10", "https", "203.0.113.1", "https"},
		{"a forged entry before the real client", "10.1.2.3:80", "6.6.6.6, 203.0.113.1", "", "203.0.113.1", "http"},
		{"every hop trusted", "10.1.2.3:80", "10.9.9.9", "", "10.9.9.9", "http"},
		{"garbage in the header", "10.1.2.3:80", "not-an-ip", "", "10.1.2.3", "http"},
		{"ipv6 proxy, port in the entry", "[::1]:80", "[2001:db8::5]:1234", "HTTPS", "2001:db8::5", "https"},
		{"bad proto", "10.1.2.3:80", "203.0.113.1", "gopher", "203.0.113.1", "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.xfp != "" {
				r.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			if got := p.clientIP(r); got != tc.ip {
				t.Errorf("clientIP = %q, want %q", got, tc.ip)
			}
			if got := p.scheme(r); got != tc.scheme {
				t.Errorf("scheme = %q, want %q", got, tc.scheme)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", ""} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil || !strings.Contains(err.Error(), "trusted-proxies") {
			t.Errorf("parseTrustedProxies(%q) = %v, want an error naming the setting", bad, err)
		}
	}
}

// TestEnrollLimiterBehindProxy: behind a trusted proxy the limiter counts
// the client's address from X-Forwarded-For (one attacker cannot lock
// every agent out), a peer that is not trusted cannot choose its address,
// and a correct secret is never refused by the limiter (issue 13, item 9).
func TestEnrollLimiterBehindProxy(t *testing.T) {
	e := newTestEnv(t)
	e.s.setTrustedProxies(t, "127.0.0.0/8")
	enroll := func(secret, from, install string) int {
		body := `{"enroll_secret":"` + secret + `","host":{"install_id":"` + install + `","hostname":"h"}}`
		resp, _ := e.do(t, "POST", "/api/v1/enroll", "", strings.NewReader(body), map[string]string{"X-Forwarded-For": from})
		return resp.StatusCode
	}
	for i := range 25 {
		if c := enroll("guess", "198.51.100.1", "a"); c != 401 && !(i >= 20 && c == http.StatusTooManyRequests) {
			t.Fatalf("guess %d: %d", i, c)
		}
	}
	if c := enroll("guess", "198.51.100.1", "a"); c != http.StatusTooManyRequests {
		t.Errorf("the guesser after 25 wrong secrets: %d, want 429", c)
	}
	if c := enroll(testSecret, "198.51.100.1", "a"); c != 200 {
		t.Errorf("the correct secret from the guesser's address: %d, want 200 (never blocked)", c)
	}
	if c := enroll("wrong", "198.51.100.2", "b"); c != 401 {
		t.Errorf("another client behind the same proxy: %d, want 401 (its own budget)", c)
	}
	if c := enroll(testSecret, "198.51.100.2", "b"); c != 200 {
		t.Errorf("another agent behind the same proxy: %d, want 200", c)
	}
	// Without trusted proxies the header is ignored: every request is the proxy's.
	e2 := newTestEnv(t)
	for i := range 21 {
		body := `{"enroll_secret":"guess","host":{"install_id":"a","hostname":"h"}}`
		e2.do(t, "POST", "/api/v1/enroll", "", strings.NewReader(body), map[string]string{"X-Forwarded-For": "198.51.100." + string(rune('0'+i%10))})
	}
	body := `{"enroll_secret":"guess","host":{"install_id":"a","hostname":"h"}}`
	if resp, _ := e2.do(t, "POST", "/api/v1/enroll", "", strings.NewReader(body), map[string]string{"X-Forwarded-For": "203.0.113.99"}); resp.StatusCode != 429 {
		t.Errorf("a forged X-Forwarded-For from an untrusted peer chose its own budget: %d, want 429", resp.StatusCode)
	}
}

// TestHSTSWhenPublicURLIsHTTPS: every answer carries
// Strict-Transport-Security when the public URL is https, none otherwise
// (issue 13, item 5).
func TestHSTSWhenPublicURLIsHTTPS(t *testing.T) {
	for _, tc := range []struct {
		url  string
		hsts bool
	}{{"https://eolwatch.example.com", true}, {"http://127.0.0.1:8480", false}} {
		t.Run(tc.url, func(t *testing.T) {
			e := newTestEnv(t)
			e.s.cfg.PublicURL = tc.url
			ts := httptest.NewServer(e.s.handler())
			defer ts.Close()
			for _, path := range []string{"/healthz", "/api/v1/hosts", "/api/v1/nope"} {
				resp, err := http.Get(ts.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				got := resp.Header.Get("Strict-Transport-Security")
				if (got != "") != tc.hsts || (tc.hsts && !strings.Contains(got, "max-age=")) {
					t.Errorf("public URL %s: GET %s: Strict-Transport-Security %q", tc.url, path, got)
				}
			}
		})
	}
}

// setTrustedProxies makes s honour X-Forwarded-* from cidrs.
func (s *Server) setTrustedProxies(t testing.TB, cidrs ...string) {
	t.Helper()
	p, err := parseTrustedProxies(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	s.proxies = p
}

// TestSubscribeLimiterBehindProxy: the subscription limit per address
// counts the client behind a trusted proxy, not the proxy (issue 13, item 9).
func TestSubscribeLimiterBehindProxy(t *testing.T) {
	e := newTestEnvWith(t, func(c *Config) { c.TrustedProxies = []string{"127.0.0.1/32"} })
	body := `{"name":"web","products":["nginx"],"events":["release"]}`
	if resp, b := e.do(t, "POST", "/api/v1/groups", e.tokens["admin"], strings.NewReader(body), nil); resp.StatusCode != 201 {
		t.Fatalf("group: %d %s", resp.StatusCode, b)
	}
	sub := func(from string, i int) int {
		b := `{"group":"web","email":"a` + string(rune('a'+i%26)) + `@example.com"}`
		resp, _ := e.do(t, "POST", "/api/v1/subscriptions", "", strings.NewReader(b), map[string]string{"X-Forwarded-For": from})
		return resp.StatusCode
	}
	n := 0
	for ; n < 50 && sub("198.51.100.1", n) == http.StatusAccepted; n++ {
	}
	if n == 50 || sub("198.51.100.1", 0) != http.StatusTooManyRequests {
		t.Fatalf("one client was not limited after %d requests", n)
	}
	if c := sub("198.51.100.2", 1); c != http.StatusAccepted {
		t.Errorf("another client behind the same proxy: %d, want 202", c)
	}
}

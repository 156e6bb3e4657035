package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/auth"
)

// FuzzOpenSession feeds arbitrary cookie values to the session decoder: it
// must never panic and never accept anything not sealed with its key.
func FuzzOpenSession(f *testing.F) {
	ss, err := newSessions([]byte("0123456789abcdef0123456789abcdef"), time.Hour, func() time.Time { return fakeNow }, nil)
	if err != nil {
		f.Fatal(err)
	}
	_, good := ss.create("ewt_token")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add("")
	f.Add("AAAA")
	f.Add(strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, v string) {
		// Only values sealed with this key open, and every one of them
		// was sealed by create (here or in another fuzz worker).
		s, err := ss.open(context.Background(), v)
		if err == nil && (s.Token != "ewt_token" || s.ID == "" || s.CSRF == "") {
			t.Fatalf("open(%q) accepted a value it did not seal: %+v", v, s)
		}
	})
}

// FuzzPageQuery sends arbitrary query strings to the pages that parse
// them: the answer is a page (200), a named input error (400) or not found
// (404), never a 500 or a panic, and the input never comes back unescaped.
func FuzzPageQuery(f *testing.F) {
	fk := newFake(30)
	ui := newTestUI(fk)
	h := ui.Handler()
	_, cookie := ui.sessions.create(fk.addToken(auth.RoleAdmin, "fuzz"))
	for _, s := range []string{"", "status=eol&sort=last_seen&dir=desc&page=2&per=25", "q=<script>", "page=-1&per=0", "product=python&version=3.8.10&severity=sev1",
		"host=web-0001.example.net", "state=failed&subs=9", "inv=99999999999999999999", "sort=%ff&status=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		for _, path := range []string{"/hosts", "/eligibility", "/notifications", "/hosts/h00001"} {
			req := httptest.NewRequest("GET", "/", nil)
			req.URL.Path, req.URL.RawQuery = path, q
			req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			switch rec.Code {
			case 200, 400, 404:
			default:
				t.Fatalf("GET %s?%s = %d", path, q, rec.Code)
			}
			if strings.Contains(rec.Body.String(), "<script>alert") {
				t.Fatalf("GET %s?%s echoed markup", path, q)
			}
		}
	})
}

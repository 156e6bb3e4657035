package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestCatalogAgeOnEveryPage: every page, the login page included, names
// the catalog data's date and age, in amber (class "stale") once it is
// more than 30 days old; without a date nothing is shown.
func TestCatalogAgeOnEveryPage(t *testing.T) {
	pages := []string{"/", "/hosts", "/hosts/h00001", "/products", "/products/python", "/eligibility", "/notifications", "/settings"}
	for _, tc := range []struct {
		name  string
		date  time.Time
		want  string
		stale bool
	}{
		{"fresh", fakeNow.AddDate(0, 0, -3), "3 days old", false},
		{"30 days", fakeNow.AddDate(0, 0, -30), "30 days old", false},
		{"101 days", fakeNow.AddDate(0, 0, -101), "101 days old", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(10)
			ui := New(Config{Auth: f, Fleet: f, CustomerFleet: f.forCustomer, Checker: f, Customers: f, Notifications: f, Settings: f,
				Now: func() time.Time { return fakeNow }, CatalogDate: func() time.Time { return tc.date },
				SessionKey: []byte("0123456789abcdef0123456789abcdef")})
			srv := httptest.NewServer(ui.Handler())
			defer srv.Close()
			b := webtest.NewBrowser(t, srv.URL)
			check := func(path, body string) {
				t.Helper()
				i := strings.Index(body, `id="catalog-age"`)
				if i < 0 {
					t.Errorf("%s: no catalog age", path)
					return
				}
				tag := body[strings.LastIndex(body[:i], "<"):i]
				line := body[i:min(len(body), i+300)]
				if !strings.Contains(line, tc.date.Format(time.DateOnly)) || !strings.Contains(line, tc.want) {
					t.Errorf("%s: catalog age %q, want %s and %q", path, line, tc.date.Format(time.DateOnly), tc.want)
				}
				if got := strings.Contains(tag, "stale"); got != tc.stale {
					t.Errorf("%s: %q stale = %v, want %v", path, tag, got, tc.stale)
				}
			}
			_, body := b.Get(t, "/login")
			check("/login", body)
			b.Login(t, f.addToken(auth.RoleAdmin, "admin"))
			for _, p := range pages {
				code, body := b.Get(t, p)
				if code != 200 {
					t.Errorf("GET %s = %d", p, code)
					continue
				}
				check(p, body)
			}
		})
	}
	t.Run("no date", func(t *testing.T) {
		f := newFake(1)
		srv := httptest.NewServer(newTestUI(f).Handler())
		defer srv.Close()
		if _, body := webtest.NewBrowser(t, srv.URL).Get(t, "/login"); strings.Contains(body, `id="catalog-age"`) {
			t.Error("a catalog without a date shows an age")
		}
	})
}

// TestHostPageShowsMaintainerAndWarnings: a distribution's package says who
// maintains it and shows its verdict's warnings.
func TestHostPageShowsMaintainerAndWarnings(t *testing.T) {
	e := newEnv(t, 3)
	h := e.f.byID["h00001"]
	it := api.Item{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u4", Origin: "debian"}
	h.d.Verdicts = append(h.d.Verdicts, InstallVerdict{Item: it, Verdict: catalog.Verdict{Product: "perl", Version: "5.36.0",
		Support: catalog.SupportSupported, Status: catalog.StatusCurrent, Cycle: "5.36", Maintainer: "debian", MaintainerRelease: "12",
		Installed: it.Version, Candidate: it.Version, Reason: "Perl 5.36 reached end of life upstream on 2025-06-30; Debian 12 maintains it until 2028-06-30.",
		Warnings: []string{"Repository data on this host is 45 days old (last updated 2026-10-17)."}}})
	_, body := e.as(t, auth.RoleViewer).Get(t, "/hosts/h00001")
	for _, want := range []string{"maintained by debian 12", "Debian 12 maintains it", "Repository data on this host is 45 days old", "from debian"} {
		if !strings.Contains(body, want) {
			t.Errorf("host page lacks %q", want)
		}
	}
}

package webdata

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestBrowserRealStore runs the main flows in Chromium against the
// dashboard over the real parts (the store on this pass's engine, seeded through ApplyReport,
// the embedded catalog behind the catalog manager, the notifier), and saves
// screenshots named real-*.png.
func TestBrowserRealStore(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	webtest.ChromiumPath(t)
	e := newRealEnv(t, 150)
	c := webtest.NewChrome(t, e.srv.URL)

	c.Do("open /login", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("token")))
	c.Do("type token", chromedp.SendKeys(chromedp.ID("token"), e.tokens[auth.RoleAdmin]))
	c.Submit(`.login button[type="submit"]`, "/")
	if n := c.Text(".cards .card .num"); n != "150" {
		t.Errorf("overview host count = %q, want 150", n)
	}
	c.Shot("real-01-overview")

	c.Open("/hosts")
	c.Do("product filter", chromedp.SetValue(chromedp.ID("f-product"), "python"), chromedp.SetValue(chromedp.ID("f-status"), "eol"))
	c.Submit(`.filters button[type="submit"]`, "product=python")
	if got := c.Eval(`String(document.querySelectorAll("table.hosts tbody tr").length)`); got == "0" {
		t.Error("hosts running an end-of-life python: none shown")
	}
	c.Shot("real-02-hosts-python-eol")
	c.Submit("table.hosts tbody tr th a", "/hosts/")
	c.Shot("real-03-host")

	c.Open("/products/python")
	c.Shot("real-04-product-python")

	// The ticket check over the real service: create the customer on the
	// Customers page, then ask about it.
	c.Open("/customers")
	c.Do("fill customer", chromedp.SendKeys(chromedp.ID("c-name"), "Acme"), chromedp.SetValue(chromedp.ID("c-tier"), "premium"),
		chromedp.SetValue(chromedp.ID("c-start"), "2020-01-01"), chromedp.SetValue(chromedp.ID("c-end"), "2099-12-31"),
		chromedp.SetValue(chromedp.ID("c-tz"), "Europe/Berlin"))
	c.Submit(`form[action="/customers"] button[type="submit"]`, "/customers")
	if secret := c.Eval(`document.getElementById("newsecret").value`); !strings.HasPrefix(secret, "ewe_") {
		t.Errorf("the new customer's enroll secret is not shown: %q", secret)
	}
	c.Open("/eligibility")
	c.Do("fill", chromedp.SendKeys(chromedp.ID("e-customer"), "Acme"), chromedp.SendKeys(chromedp.ID("e-product"), "python"),
		chromedp.SendKeys(chromedp.ID("e-version"), "3.8.10"), chromedp.SetValue(chromedp.ID("e-sev"), "2"))
	c.Submit(".elig button.primary", "version=3.8.10")
	if v := c.Text(".answer .verdict"); !strings.HasSuffix(v, "REFUSE") {
		t.Errorf("python 3.8.10 = %q, want REFUSE", v)
	}
	if why := c.Text("#reasons"); !strings.Contains(why, "past its end of life") || !strings.Contains(why, "must upgrade to") {
		t.Errorf("reasons for python 3.8.10:\n%s", why)
	}
	c.Shot("real-05-ticket-check")

	// By host: a host enrolled with Acme's secret reports a current python;
	// the form asked by host (no version) accepts with Acme's contract, and
	// the same host's end-of-life debian refuses.
	acme, err := e.b.Customer(t.Context(), "Acme")
	if err != nil {
		t.Fatal(err)
	}
	cat := e.cats.Current()
	newest := cat.Product("python").Cycles[0].Latest
	info := api.HostInfo{InstallID: "acme-web", Hostname: "acme-web.corp.example", OSName: "Debian GNU/Linux 10 (buster)", OSID: "debian", OSVersion: "10"}
	_, key, err := e.st.EnrollCustomer(t.Context(), info, acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := e.st.HostByNodeKey(t.Context(), key)
	var items []store.MatchedItem
	var vs []store.Verdict
	for _, pv := range [][2]string{{"python", newest}, {"debian", "10"}} {
		items = append(items, store.MatchedItem{Item: api.Item{Source: "dpkg", Name: pv[0], Version: pv[1]}, Match: store.Match{Product: pv[0], Version: pv[1], Rule: "test"}})
		vs = append(vs, store.Verdict{Installed: pv[1], V: cat.Evaluate(pv[0], pv[1], e.now, catalog.DefaultPolicy())})
	}
	if _, err := e.st.ApplyReport(t.Context(), store.ReportInput{Host: ref, Report: api.Report{ReportID: "r1", Kind: api.ReportFull, Host: info, InventoryHash: "h"},
		Items: items, Verdicts: vs, CatalogVersion: cat.Info().Version, AsOf: e.now.Format(time.DateOnly)}); err != nil {
		t.Fatal(err)
	}
	c.Open("/eligibility")
	c.Do("fill host", chromedp.SendKeys(chromedp.ID("e-host"), "acme-web.corp.example"), chromedp.SendKeys(chromedp.ID("e-product"), "python"),
		chromedp.SetValue(chromedp.ID("e-sev"), "3"))
	c.Submit(".elig button.primary", "host=acme-web")
	if v := c.Text(".answer .verdict"); !strings.HasSuffix(v, "ACCEPT") {
		t.Errorf("python %s on Acme's host = %q, want ACCEPT\n%s", newest, v, c.Text("#reasons"))
	}
	if why := c.Text("#reasons"); !strings.Contains(why, "Acme has an active Premium contract") || !strings.Contains(why, "python "+newest+" on acme-web.corp.example") {
		t.Errorf("reasons for the host's python:\n%s", why)
	}
	c.Shot("real-06-ticket-check-host-accept")
	c.Do("product debian", chromedp.SetValue(chromedp.ID("e-product"), "debian"))
	c.Submit(".elig button.primary", "product=debian")
	if v := c.Text(".answer .verdict"); !strings.HasSuffix(v, "REFUSE") {
		t.Errorf("debian 10 on Acme's host = %q, want REFUSE", v)
	}
	if why := c.Text("#reasons"); !strings.Contains(why, "debian 10 on acme-web.corp.example is past its end of life") {
		t.Errorf("reasons for the host's debian:\n%s", why)
	}
	c.Shot("real-07-ticket-check-host-refuse")

	py := e.cats.Current().Product("python").Cycles[0]
	next := nextPatch(py.Latest)
	c.Open("/notifications")
	c.Do("fill release", chromedp.SendKeys(chromedp.ID("r-product"), "python"), chromedp.SendKeys(chromedp.ID("r-cycle"), py.Name),
		chromedp.SendKeys(chromedp.ID("r-version"), next))
	c.Submit(`form[action="/notifications/releases"] button[type="submit"]`, "published=")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(c.Text("#outbox"), next) {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never showed python %s", next)
		}
		time.Sleep(200 * time.Millisecond)
		c.Open("/notifications")
	}
	c.Shot("real-06-notifications")
	c.Open("/settings")
	c.Shot("real-07-settings")

	for _, p := range c.Problems() {
		t.Errorf("browser console: %s", p)
	}
}

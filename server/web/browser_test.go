package web

import (
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestBrowser drives the dashboard in real headless Chromium: log in, read
// the overview of a seeded fleet, filter hosts, check tickets (the
// severity changes the answer), create a customer, publish a release and
// find it in the outbox, at laptop and phone sizes, with and
// without JavaScript. Screenshots go to test-artifacts/web/.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	f := newFake(400)
	admin := f.addToken(auth.RoleAdmin, "admin")
	srv := httptest.NewServer(newTestUI(f).Handler())
	defer srv.Close()
	c := webtest.NewChrome(t, srv.URL)

	// Log in: the overview is behind the login page.
	c.Do("open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	c.Shot("01-login")
	c.Do("type token", chromedp.SendKeys(chromedp.ID("token"), admin))
	c.Submit(`.login button[type="submit"]`, "/")
	if h := c.Text("main h1"); h != "Fleet overview" {
		t.Fatalf("after login the page says %q, want the overview", h)
	}

	// Overview of the seeded fleet: charts and numbers.
	if n := c.Eval(`String(document.querySelectorAll("svg.bars rect").length)`); n != "14" {
		t.Errorf("overview draws %s status bars, want 14 (7 statuses × hosts and installs)", n)
	}
	if hosts := c.Text(".cards .card .num"); hosts != "400" {
		t.Errorf("overview host count = %q, want 400", hosts)
	}
	if tl := c.Eval(`String(document.querySelectorAll("svg.timeline circle").length)`); tl == "0" {
		t.Error("overview timeline shows no upcoming end of life")
	}
	c.Shot("02-overview")
	// Keyboard: the first Tab reaches the skip link.
	c.Do("tab", chromedp.KeyEvent("\t"))
	if got := c.Eval(`document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}

	// Hosts: search, then a status filter applied by the select itself (JS).
	c.Open("/hosts")
	c.Do("search", chromedp.SendKeys(chromedp.ID("f-q"), "web"))
	c.Submit(`.filters button[type="submit"]`, "q=web")
	c.Navigating("status filter", "status=eol", chromedp.Evaluate[chromedp.Void](
		`(() => { const s = document.getElementById("f-status"); s.value = "eol"; s.dispatchEvent(new Event("change")) })()`))
	c.Do("wait hosts", chromedp.WaitVisible(chromedp.CSS("table.hosts")))
	loc := c.Eval(`location.search`)
	if !strings.Contains(loc, "status=eol") || !strings.Contains(loc, "q=web") {
		t.Errorf("filtered hosts URL = %q, want q=web and status=eol", loc)
	}
	rows := c.Eval(`JSON.stringify([...document.querySelectorAll("table.hosts tbody tr")].map(r => r.cells[0].textContent + "|" + r.cells[1].textContent))`)
	if rows == "[]" {
		t.Fatal("filtering hosts by web + eol shows no rows")
	}
	for _, r := range strings.Split(strings.Trim(rows, "[]"), ",") {
		if !strings.Contains(r, "web-") || !strings.Contains(r, "end of life") {
			t.Errorf("filtered row %s is not a web host at end of life", r)
		}
	}
	c.Shot("03-hosts-filtered")
	c.Submit("table.hosts tbody tr th a", "/hosts/h")
	if !strings.Contains(c.Text("main h1"), "web-") {
		t.Errorf("host page heading = %q", c.Text("main h1"))
	}
	c.Shot("04-host")

	c.Open("/products")
	c.Shot("05-products")
	c.Open("/products/python")
	if n := c.Eval(`String(document.querySelectorAll("svg.bars rect").length)`); n == "0" {
		t.Error("product page draws no version bars")
	}
	c.Shot("06-product-python")

	// The ticket check: a customer on Premium raises a ticket on a Saturday
	// night. Severity 1 is covered 24x7; changing only the severity to 2
	// changes the decision's timing (Monday morning, no phone callback).
	c.Open("/eligibility")
	c.Do("fill ticket",
		chromedp.SendKeys(chromedp.ID("e-customer"), "Webshop AG"),
		chromedp.SendKeys(chromedp.ID("e-version"), "3.13.7"),
		chromedp.SendKeys(chromedp.ID("e-product"), "python"),
		chromedp.SetValue(chromedp.ID("e-sev"), "1"),
		chromedp.SendKeys(chromedp.ID("e-at"), "2025-09-13T21:00:00Z"))
	c.Submit(".elig button.primary", "severity=1")
	if v := c.Text(".answer .verdict"); !strings.HasSuffix(v, "ACCEPT") {
		t.Errorf("severity 1 ticket = %q, want ACCEPT", v)
	}
	if ws, phone := c.Text("#work-starts"), c.Text("#phone-now"); ws != "now" || phone != "yes" {
		t.Errorf("severity 1 on Saturday night: work starts %q, phone %q; want now, yes", ws, phone)
	}
	if size, _ := strconv.ParseFloat(strings.TrimSuffix(c.Eval(`getComputedStyle(document.querySelector(".answer .verdict")).fontSize`), "px"), 64); size < 32 {
		t.Errorf("the verdict is not in large type: font-size %vpx", size)
	}
	c.Shot("07-ticket-accept-now")
	c.Do("severity 2", chromedp.SetValue(chromedp.ID("e-sev"), "2"))
	c.Submit(".elig button.primary", "severity=2")
	if ws, phone := c.Text("#work-starts"), c.Text("#phone-now"); !strings.HasPrefix(ws, "Monday 2025-09-15 09:00 Europe/Berlin") || phone != "no" {
		t.Errorf("severity 2 on Saturday night: work starts %q, phone %q; want Monday 09:00, no", ws, phone)
	}
	if n, _ := strconv.Atoi(c.Eval(`String(document.querySelectorAll("#reasons li").length)`)); n < 4 {
		t.Errorf("the answer gives %d reasons, want every rule that decided", n)
	}
	c.Shot("08-ticket-accept-monday")
	// An expired contract sold by a partner: REFUSE, with the end date and the partner.
	c.Do("expired customer", chromedp.SetValue(chromedp.ID("e-customer"), "Databank BV"))
	c.Submit(".elig button.primary", "Databank")
	if v := c.Text(".answer .verdict"); !strings.HasSuffix(v, "REFUSE") {
		t.Errorf("expired contract = %q, want REFUSE", v)
	}
	if why := c.Text("#reasons"); !strings.Contains(why, "ended on 2024-12-31") || !strings.Contains(why, "Contoso Ltd") {
		t.Errorf("reasons for the expired partner contract:\n%s", why)
	}
	if up := c.Text("#route"); !strings.Contains(up, "Contoso Ltd") {
		t.Errorf("route = %q, want the partner", up)
	}
	c.Shot("09-ticket-refuse")

	// Customers: create one; its enroll secret is shown once.
	c.Open("/customers")
	c.Do("fill customer",
		chromedp.SendKeys(chromedp.ID("c-name"), "Initech"),
		chromedp.SetValue(chromedp.ID("c-tier"), "enterprise"),
		chromedp.SetValue(chromedp.ID("c-start"), "2025-01-01"),
		chromedp.SetValue(chromedp.ID("c-end"), "2025-12-31"),
		chromedp.SetValue(chromedp.ID("c-tz"), "America/New_York"),
		chromedp.SendKeys(chromedp.ID("c-holidays"), "2025-07-04"),
		chromedp.SendKeys(chromedp.ID("c-contacts"), "it@initech.example"))
	c.Submit(`form[action="/customers"] button[type="submit"]`, "/customers")
	if secret := c.Eval(`document.getElementById("newsecret").value`); !strings.HasPrefix(secret, "ewe_") {
		t.Errorf("the new customer's enroll secret is not shown: %q", secret)
	}
	if rows := c.Text("table.customers"); !strings.Contains(rows, "Initech") || !strings.Contains(rows, "America/New_York") {
		t.Errorf("the customers table does not list the new customer:\n%s", rows)
	}
	c.Shot("10-customers")

	// Publish a release and see it in the outbox.
	c.Open("/notifications")
	c.Do("fill release",
		chromedp.SendKeys(chromedp.ID("r-product"), "python"),
		chromedp.SendKeys(chromedp.ID("r-cycle"), "3.12"),
		chromedp.SendKeys(chromedp.ID("r-version"), "3.12.12"))
	c.Submit(`form[action="/notifications/releases"] button[type="submit"]`, "published=")
	if msg := c.Text(".alert.good"); !strings.Contains(msg, "python 3.12.12 published") {
		t.Errorf("after publishing: %q", msg)
	}
	outbox := c.Text("table.outbox")
	if !strings.Contains(outbox, "Python 3.12.12 released") || !strings.Contains(outbox, "pending") {
		t.Errorf("the outbox does not list the new release as pending:\n%s", outbox)
	}
	c.Shot("11-notifications")

	c.Open("/settings")
	c.Shot("12-settings")

	// A phone.
	c.Do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, p := range []struct{ path, name string }{
		{"/", "13-phone-overview"}, {"/hosts?status=eol&per=25", "14-phone-hosts"},
		{"/eligibility?customer=Webshop+AG&product=python&version=3.8.10&severity=1", "15-phone-ticket"}, {"/customers", "16-phone-customers"},
	} {
		c.Open(p.path)
		if w := c.Eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)`); w == "true" {
			t.Errorf("%s scrolls sideways on a phone", p.path)
		}
		c.Shot(p.name)
	}
	c.Do("laptop", chromedp.EmulateViewport(1280, 900))

	// Reading works without JavaScript, filters included.
	if _, err := chromedp.Call(c.Ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	c.Open("/hosts")
	c.Do("no-js filter", chromedp.SetValue(chromedp.ID("f-os"), "Debian GNU/Linux 10 (buster)"))
	c.Submit(`.filters button[type="submit"]`, "buster")
	if n := c.Text("p.lede"); !strings.HasPrefix(n, "27 hosts match") {
		t.Errorf("no-JS OS filter: %q, want 27 hosts", n)
	}
	c.Shot("17-nojs-hosts")

	for _, p := range c.Problems() {
		t.Errorf("browser console: %s", p)
	}
	t.Logf("screenshots in %s", c.Dir)
}

// TestBrowserLive drives a running eolwatch-server (the full stack: real
// agent reports, the API's eligibility, the catalog manager, the notifier)
// when EOLWATCH_WEB_URL and EOLWATCH_WEB_TOKEN (an admin token) are set, and
// saves live-*.png screenshots. make run prints both.
func TestBrowserLive(t *testing.T) {
	base, token := os.Getenv("EOLWATCH_WEB_URL"), os.Getenv("EOLWATCH_WEB_TOKEN")
	if base == "" || token == "" {
		t.Skip("set EOLWATCH_WEB_URL and EOLWATCH_WEB_TOKEN (admin) to drive a running server")
	}
	c := webtest.NewChrome(t, strings.TrimSuffix(base, "/"))
	c.Do("open /login", chromedp.Navigate(c.Base+"/login"), chromedp.WaitVisible(chromedp.ID("token")))
	c.Do("type token", chromedp.SendKeys(chromedp.ID("token"), token))
	c.Submit(`.login button[type="submit"]`, "/")
	c.Shot("live-01-overview")
	c.Open("/hosts")
	c.Shot("live-02-hosts")
	if c.Eval(`String(document.querySelectorAll("table.hosts tbody tr").length)`) != "0" {
		c.Submit("table.hosts tbody tr th a", "/hosts/")
		c.Shot("live-03-host")
	}
	c.Open("/products")
	c.Shot("live-04-products")
	c.Open("/eligibility")
	c.Shot("live-05-ticket-check")
	c.Open("/notifications")
	c.Shot("live-06-notifications")
	c.Open("/settings")
	c.Shot("live-07-settings")
	for _, p := range c.Problems() {
		t.Errorf("browser console: %s", p)
	}
}

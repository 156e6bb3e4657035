package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/eolwatch/eolwatch/server/auth"
)

// chromiumPath returns the Chromium to drive, or skips the test (fails it
// when CI=true) when there is none.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI=true needs it (run `make deps`)")
	}
	t.Skip("chromium not found: run `make deps` to install it")
	return ""
}

// artifactsDir returns test-artifacts/web at the repository root.
func artifactsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("EOLWATCH_ARTIFACTS"); d != "" {
		return filepath.Join(d, "web")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "test-artifacts", "web")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "test-artifacts", "web")
		}
	}
}

// chrome drives one headless Chromium tab against base.
type chrome struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions
}

func newChrome(t *testing.T, base string) *chrome {
	t.Helper()
	exe := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	c := &chrome{t: t, ctx: ctx, base: base, dir: artifactsDir(t)}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				c.mu.Lock()
				c.problems = append(c.problems, m.String()+" at "+m.URL)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

func (c *chrome) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to path and waits for the page's heading.
func (c *chrome) open(path string) {
	c.t.Helper()
	c.do("open "+path, chromedp.Navigate(c.base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// submit clicks sel and waits for the page it leads to, whose URL
// contains want.
func (c *chrome) submit(sel, want string) {
	c.t.Helper()
	c.navigating("submit "+sel, want, chromedp.Click(chromedp.CSS(sel)))
}

// navigating runs an action that loads a new page and waits until the new
// page has loaded: its URL contains want, and it lacks the mark the old
// page carries.
func (c *chrome) navigating(what, want string, a chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	c.do(what, chromedp.Evaluate[chromedp.Void](`window.__ewOld = true`), a)
	deadline := time.Now().Add(20 * time.Second)
	check := fmt.Sprintf(`!window.__ewOld && document.readyState === "complete" && location.href.includes(%q) && !!document.querySelector("main h1")`, want)
	for {
		done, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](check))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			st, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`location.href + " old=" + window.__ewOld + " " + document.readyState`))
			c.t.Fatalf("%s: no new page loaded (last error %v; page %s)", what, err, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.do("wait after "+what, chromedp.WaitVisible(chromedp.CSS("main h1")))
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (c *chrome) eval(js string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// shot saves a full-page screenshot as name.png in the artifacts folder.
func (c *chrome) shot(name string) {
	c.t.Helper()
	buf, err := chromedp.Run(c.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, name+".png"), buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// TestBrowser drives the dashboard in real headless Chromium: log in, read
// the overview of a seeded fleet, filter hosts, check eligibility, publish a
// release and find it in the outbox, at laptop and phone sizes, with and
// without JavaScript. Screenshots go to test-artifacts/web/.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	f := newFake(400)
	admin := f.addToken(auth.RoleAdmin, "admin")
	srv := httptest.NewServer(newTestUI(f).Handler())
	defer srv.Close()
	c := newChrome(t, srv.URL)

	// Log in: the overview is behind the login page.
	c.do("open /", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	c.shot("01-login")
	c.do("type token", chromedp.SendKeys(chromedp.ID("token"), admin))
	c.submit(`.login button[type="submit"]`, "/")
	if h := c.text("main h1"); h != "Fleet overview" {
		t.Fatalf("after login the page says %q, want the overview", h)
	}

	// Overview of the seeded fleet: charts and numbers.
	if n := c.eval(`String(document.querySelectorAll("svg.bars rect").length)`); n != "14" {
		t.Errorf("overview draws %s status bars, want 14 (7 statuses × hosts and installs)", n)
	}
	if hosts := c.text(".cards .card .num"); hosts != "400" {
		t.Errorf("overview host count = %q, want 400", hosts)
	}
	if tl := c.eval(`String(document.querySelectorAll("svg.timeline circle").length)`); tl == "0" {
		t.Error("overview timeline shows no upcoming end of life")
	}
	c.shot("02-overview")
	// Keyboard: the first Tab reaches the skip link.
	c.do("tab", chromedp.KeyEvent("\t"))
	if got := c.eval(`document.activeElement.textContent`); got != "Skip to content" {
		t.Errorf("first Tab focuses %q, want the skip link", got)
	}

	// Hosts: search, then a status filter applied by the select itself (JS).
	c.open("/hosts")
	c.do("search", chromedp.SendKeys(chromedp.ID("f-q"), "web"))
	c.submit(`.filters button[type="submit"]`, "q=web")
	c.navigating("status filter", "status=eol", chromedp.Evaluate[chromedp.Void](
		`(() => { const s = document.getElementById("f-status"); s.value = "eol"; s.dispatchEvent(new Event("change")) })()`))
	c.do("wait hosts", chromedp.WaitVisible(chromedp.CSS("table.hosts")))
	loc := c.eval(`location.search`)
	if !strings.Contains(loc, "status=eol") || !strings.Contains(loc, "q=web") {
		t.Errorf("filtered hosts URL = %q, want q=web and status=eol", loc)
	}
	rows := c.eval(`JSON.stringify([...document.querySelectorAll("table.hosts tbody tr")].map(r => r.cells[0].textContent + "|" + r.cells[1].textContent))`)
	if rows == "[]" {
		t.Fatal("filtering hosts by web + eol shows no rows")
	}
	for _, r := range strings.Split(strings.Trim(rows, "[]"), ",") {
		if !strings.Contains(r, "web-") || !strings.Contains(r, "end of life") {
			t.Errorf("filtered row %s is not a web host at end of life", r)
		}
	}
	c.shot("03-hosts-filtered")
	c.submit("table.hosts tbody tr th a", "/hosts/h")
	if !strings.Contains(c.text("main h1"), "web-") {
		t.Errorf("host page heading = %q", c.text("main h1"))
	}
	c.shot("04-host")

	c.open("/products")
	c.shot("05-products")
	c.open("/products/python")
	if n := c.eval(`String(document.querySelectorAll("svg.bars rect").length)`); n == "0" {
		t.Error("product page draws no version bars")
	}
	c.shot("06-product-python")

	// Eligibility of a customer's bare product + version.
	c.open("/eligibility")
	c.do("fill eligibility",
		chromedp.SendKeys(chromedp.ID("e-product"), "python"),
		chromedp.SendKeys(chromedp.ID("e-version"), "3.8.10"),
		chromedp.SetValue(chromedp.ID("e-sev"), "sev1"))
	c.submit(".elig button.primary", "version=3.8.10")
	if v := c.text(".answer .verdict"); !strings.HasSuffix(v, "NOT ELIGIBLE") {
		t.Errorf("eligibility of python 3.8.10 = %q, want NOT ELIGIBLE", v)
	}
	if up := c.text(".answer .upgrade"); up != "3.9.23" {
		t.Errorf("upgrade_to shown = %q, want 3.9.23", up)
	}
	c.shot("07-eligibility-not-eligible")
	c.open("/eligibility?product=python&version=3.13.7")
	if v := c.text(".answer .verdict"); !strings.HasSuffix(v, "ELIGIBLE") || strings.Contains(v, "NOT") {
		t.Errorf("eligibility of python 3.13.7 = %q, want ELIGIBLE", v)
	}
	c.shot("08-eligibility-eligible")

	// Publish a release and see it in the outbox.
	c.open("/notifications")
	c.do("fill release",
		chromedp.SendKeys(chromedp.ID("r-product"), "python"),
		chromedp.SendKeys(chromedp.ID("r-cycle"), "3.12"),
		chromedp.SendKeys(chromedp.ID("r-version"), "3.12.12"))
	c.submit(`form[action="/notifications/releases"] button[type="submit"]`, "published=")
	if msg := c.text(".alert.good"); !strings.Contains(msg, "python 3.12.12 published") {
		t.Errorf("after publishing: %q", msg)
	}
	outbox := c.text("table.outbox")
	if !strings.Contains(outbox, "Python 3.12.12 released") || !strings.Contains(outbox, "pending") {
		t.Errorf("the outbox does not list the new release as pending:\n%s", outbox)
	}
	c.shot("09-notifications")

	c.open("/settings")
	c.shot("10-settings")

	// A phone.
	c.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	for _, p := range []struct{ path, name string }{
		{"/", "11-phone-overview"}, {"/hosts?status=eol&per=25", "12-phone-hosts"}, {"/eligibility?product=python&version=3.8.10", "13-phone-eligibility"},
	} {
		c.open(p.path)
		if w := c.eval(`String(document.documentElement.scrollWidth > document.documentElement.clientWidth + 1)`); w == "true" {
			t.Errorf("%s scrolls sideways on a phone", p.path)
		}
		c.shot(p.name)
	}
	c.do("laptop", chromedp.EmulateViewport(1280, 900))

	// Reading works without JavaScript, filters included.
	if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable JavaScript: %v", err)
	}
	c.open("/hosts")
	c.do("no-js filter", chromedp.SetValue(chromedp.ID("f-os"), "Debian GNU/Linux 10 (buster)"))
	c.submit(`.filters button[type="submit"]`, "buster")
	if n := c.text("p.lede"); !strings.HasPrefix(n, "27 hosts match") {
		t.Errorf("no-JS OS filter: %q, want 27 hosts", n)
	}
	c.shot("14-nojs-hosts")

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		t.Errorf("browser console: %s", p)
	}
	t.Logf("screenshots in %s", c.dir)
}

// TestBrowserRealStore runs the main flows in Chromium against the
// dashboard over the real parts (SQLite store seeded through ApplyReport,
// the embedded catalog behind the catalog manager, the notifier), and saves
// screenshots named real-*.png.
func TestBrowserRealStore(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromiumPath(t)
	e := newRealEnv(t, 150)
	c := newChrome(t, e.srv.URL)

	c.do("open /login", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("token")))
	c.do("type token", chromedp.SendKeys(chromedp.ID("token"), e.tokens[auth.RoleAdmin]))
	c.submit(`.login button[type="submit"]`, "/")
	if n := c.text(".cards .card .num"); n != "150" {
		t.Errorf("overview host count = %q, want 150", n)
	}
	c.shot("real-01-overview")

	c.open("/hosts")
	c.do("product filter", chromedp.SetValue(chromedp.ID("f-product"), "python"), chromedp.SetValue(chromedp.ID("f-status"), "eol"))
	c.submit(`.filters button[type="submit"]`, "product=python")
	if got := c.eval(`String(document.querySelectorAll("table.hosts tbody tr").length)`); got == "0" {
		t.Error("hosts running an end-of-life python: none shown")
	}
	c.shot("real-02-hosts-python-eol")
	c.submit("table.hosts tbody tr th a", "/hosts/")
	c.shot("real-03-host")

	c.open("/products/python")
	c.shot("real-04-product-python")

	c.open("/eligibility")
	c.do("fill", chromedp.SendKeys(chromedp.ID("e-product"), "python"), chromedp.SendKeys(chromedp.ID("e-version"), "3.8.10"))
	c.submit(".elig button.primary", "version=3.8.10")
	if v := c.text(".answer .verdict"); !strings.HasSuffix(v, "NOT ELIGIBLE") {
		t.Errorf("python 3.8.10 = %q, want NOT ELIGIBLE", v)
	}
	c.shot("real-05-eligibility")

	py := e.cats.Current().Product("python").Cycles[0]
	next := nextPatch(py.Latest)
	c.open("/notifications")
	c.do("fill release", chromedp.SendKeys(chromedp.ID("r-product"), "python"), chromedp.SendKeys(chromedp.ID("r-cycle"), py.Name),
		chromedp.SendKeys(chromedp.ID("r-version"), next))
	c.submit(`form[action="/notifications/releases"] button[type="submit"]`, "published=")
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(c.text("#outbox"), next) {
		if time.Now().After(deadline) {
			t.Fatalf("the outbox never showed python %s", next)
		}
		time.Sleep(200 * time.Millisecond)
		c.open("/notifications")
	}
	c.shot("real-06-notifications")
	c.open("/settings")
	c.shot("real-07-settings")

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		t.Errorf("browser console: %s", p)
	}
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
	c := newChrome(t, strings.TrimSuffix(base, "/"))
	c.do("open /login", chromedp.Navigate(c.base+"/login"), chromedp.WaitVisible(chromedp.ID("token")))
	c.do("type token", chromedp.SendKeys(chromedp.ID("token"), token))
	c.submit(`.login button[type="submit"]`, "/")
	c.shot("live-01-overview")
	c.open("/hosts")
	c.shot("live-02-hosts")
	if c.eval(`String(document.querySelectorAll("table.hosts tbody tr").length)`) != "0" {
		c.submit("table.hosts tbody tr th a", "/hosts/")
		c.shot("live-03-host")
	}
	c.open("/products")
	c.shot("live-04-products")
	c.open("/eligibility?product=python&version=3.8.10")
	if v := c.text(".answer .verdict"); !strings.HasSuffix(v, "NOT ELIGIBLE") {
		t.Errorf("python 3.8.10 = %q, want NOT ELIGIBLE", v)
	}
	c.shot("live-05-eligibility")
	c.open("/notifications")
	c.shot("live-06-notifications")
	c.open("/settings")
	c.shot("live-07-settings")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.problems {
		t.Errorf("browser console: %s", p)
	}
}

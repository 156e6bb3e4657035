package webdata

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// spoofHostname reads "web-0001.corp.example" once the right-to-left
// override has turned the rest around: it would pass for another host.
const spoofHostname = "\u202eelpmaxe.proc.1000-bew"

// addSpoofingHost enrolls a host whose agent reports a hostname, OS name,
// kernel and items laced with direction overrides and invisible
// characters, through the real store; it returns the host id.
func addSpoofingHost(t *testing.T, e *realEnv) string {
	t.Helper()
	ctx := context.Background()
	info := api.HostInfo{InstallID: "spoof-1", Hostname: spoofHostname, OS: "linux", Arch: "amd64",
		OSName: "Debian\ufeff GNU/Linux 12", OSID: "debian", OSVersion: "12", Kernel: "6.1.0\u2067-28", AgentVersion: "0.1.0"}
	uid, key, err := e.st.Enroll(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := e.st.HostByNodeKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	cat := e.cats.Current()
	items := []store.MatchedItem{
		{Item: api.Item{Source: "dpkg", Name: "open\u200bssl", Version: "3.0.\u20661-1", Arch: "amd64"}, Match: store.Match{Product: "openssl", Version: "3.0.1", Rule: "test"}},
		{Item: api.Item{Source: "dpkg", Name: "lib\u2068evil\u2069\u00ad", Version: "1.0\u200e-1", Arch: "amd64"}},
	}
	var vs []store.Verdict
	vs = append(vs, store.Verdict{Installed: items[0].Item.Version, V: cat.Evaluate("openssl", "3.0.1", e.now, catalog.DefaultPolicy())})
	if _, err := e.st.ApplyReport(ctx, store.ReportInput{Host: ref, Report: api.Report{ReportID: "spoof-r1", Kind: api.ReportFull,
		CollectedAt: e.now, Host: info, InventoryHash: "spoof"}, Items: items, Verdicts: vs, CatalogVersion: cat.Info().Version,
		AsOf: e.now.Format("2006-01-02")}); err != nil {
		t.Fatal(err)
	}
	return uid
}

// TestInvisibleCharactersShownEscaped: what an agent reports (hostname,
// OS name, kernel, package names and versions) is shown on every dashboard
// page with its direction overrides and invisible characters escaped
// (\u202e), never raw, so one host's name cannot read as another's
// (issue 13, follow-up); over the real store and dashboard handler.
func TestInvisibleCharactersShownEscaped(t *testing.T) {
	e := newRealEnv(t, 2)
	uid := addSpoofingHost(t, e)
	b := webtest.NewBrowser(t, e.srv.URL)
	b.Login(t, e.tokens[auth.RoleViewer])
	for _, tc := range []struct {
		name, path string
		want       []string
	}{
		{"host list", "/hosts", []string{`\u202eelpmaxe.proc.1000-bew`}},
		{"host list searched", "/hosts?q=bew", []string{`\u202eelpmaxe.proc.1000-bew`}},
		{"host page", "/hosts/" + uid, []string{`\u202eelpmaxe.proc.1000-bew`, `Debian\ufeff GNU/Linux 12`, `6.1.0\u2067-28`,
			`open\u200bssl`, `3.0.\u20661-1`, `lib\u2068evil\u2069\u00ad`, `1.0\u200e-1`}},
		{"hosts running a product", "/hosts?product=openssl", []string{`\u202eelpmaxe.proc.1000-bew`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := b.Get(t, tc.path)
			if code != 200 {
				t.Fatalf("GET %s = %d", tc.path, code)
			}
			for _, r := range []rune{'\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200b', '\u200e', '\ufeff', '\u00ad'} {
				if strings.ContainsRune(body, r) {
					t.Errorf("GET %s holds a raw %U", tc.path, r)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", tc.path, w)
				}
			}
		})
	}
}

// TestBrowserInvisibleCharacters: in Chromium, the spoofing host's name
// reads with its override spelled out (title, heading and the hosts
// table), not as another host's name.
func TestBrowserInvisibleCharacters(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	webtest.ChromiumPath(t)
	e := newRealEnv(t, 2)
	uid := addSpoofingHost(t, e)
	c := webtest.NewChrome(t, e.srv.URL)
	c.Do("open /login", chromedp.Navigate(e.srv.URL+"/login"), chromedp.WaitVisible(chromedp.ID("token")))
	c.Do("type token", chromedp.SendKeys(chromedp.ID("token"), e.tokens[auth.RoleViewer]))
	c.Submit(`.login button[type="submit"]`, "/")
	c.Open("/hosts/" + uid)
	for _, js := range []string{`document.title`, `document.querySelector("h1").innerText`} {
		got := c.Eval(js)
		if strings.ContainsRune(got, '\u202e') || !strings.Contains(got, `\u202eelpmaxe.proc.1000-bew`) {
			t.Errorf("%s = %q, want the override spelled out", js, got)
		}
	}
	c.Open("/hosts")
	if got := c.Eval(`document.querySelector("table.hosts tbody").innerText`); strings.ContainsRune(got, '\u202e') ||
		!strings.Contains(got, `\u202eelpmaxe.proc.1000-bew`) {
		t.Errorf("hosts table = %q, want the override spelled out", got)
	}
	c.Shot("real-spoofed-hostname")
}

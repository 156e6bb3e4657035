package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// needDebianHost skips (fails under CI=true) unless this machine has a dpkg
// database and apt lists, which `make deps` provides (it runs apt-get
// update when the lists are missing).
func needDebianHost(t *testing.T) {
	t.Helper()
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*")
	_, dpkgErr := os.Stat("/var/lib/dpkg/status")
	if dpkgErr == nil && len(lists) > 0 {
		return
	}
	msg := fmt.Sprintf("this test needs a Debian-family host with a dpkg database and apt lists (dpkg status: %v, %d Packages lists): run make deps", dpkgErr, len(lists))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// distroEnv is a real server binary with an admin token.
type distroEnv struct {
	p          *serverProc
	dir, token string
	srvBin     string
	agentBin   string
}

func startDistroEnv(t *testing.T, extra ...string) *distroEnv {
	t.Helper()
	srvBin, agentBin := buildBinaries(t)
	e := &distroEnv{dir: t.TempDir(), srvBin: srvBin, agentBin: agentBin}
	e.p = startServer(t, srvBin, e.dir, extra...)
	tok, err := exec.Command(srvBin, "token", "create", "--data-dir", e.dir, "--role", "admin").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	e.token = strings.TrimSpace(string(tok))
	return e
}

func (e *distroEnv) get(t *testing.T, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.p.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if s, ok := v.(*string); ok {
		*s = string(b)
		return
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, b)
	}
}

// agentOnce runs the real agent once against the server (args add --root...).
func (e *distroEnv) agentOnce(t *testing.T, args ...string) {
	t.Helper()
	args = append([]string{"once", "--server", e.p.url, "--enroll-secret", testSecret, "--state-dir", t.TempDir()}, args...)
	if out, err := exec.Command(e.agentBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("agent %v: %v\n%s\nserver:\n%s", args, err, out, e.p.logText())
	}
}

// hostByOS returns the detail of the one host whose os_id is osID.
func (e *distroEnv) hostByOS(t *testing.T, osID string) api.HostDetail {
	t.Helper()
	var list api.HostList
	e.get(t, "/api/v1/hosts", &list)
	for _, h := range list.Hosts {
		var d api.HostDetail
		e.get(t, "/api/v1/hosts/"+h.ID, &d)
		if d.Info.OSID == osID {
			return d
		}
	}
	t.Fatalf("no host with os_id %s among %d", osID, len(list.Hosts))
	return api.HostDetail{}
}

func verdictFor(d api.HostDetail, product string) (api.HostVerdict, bool) {
	for _, v := range d.Verdicts {
		if v.Product == product {
			return v, true
		}
	}
	return api.HostVerdict{}, false
}

func eligibleVerdict(v api.HostVerdict) bool {
	return v.Support == catalog.SupportSupported && v.Patch != catalog.PatchOverdue
}

// TestEndToEndDistroVerdictsThisMachine is issue 10's acceptance on this
// machine, through the real binaries and this machine's real dpkg database
// and apt lists: after `agent once`, no dpkg item whose installed version
// is its candidate from the distribution's archive is patch-overdue or
// eol, each is maintained by the distribution, and a Debian 12 host is
// supported (phase extended) while Debian LTS runs. Every other path (host
// eligibility by API and CLI, the dashboard, the fleet's re-evaluation
// after a catalog change, /metrics) agrees with the stored verdicts.
func TestEndToEndDistroVerdictsThisMachine(t *testing.T) {
	needDebianHost(t)
	e := startDistroEnv(t)
	e.agentOnce(t)
	var list api.HostList
	e.get(t, "/api/v1/hosts", &list)
	if len(list.Hosts) != 1 {
		t.Fatalf("hosts = %+v", list)
	}
	var d api.HostDetail
	e.get(t, "/api/v1/hosts/"+list.Hosts[0].ID, &d)
	var osItem *api.InventoryItem
	for i := range d.Inventory {
		if d.Inventory[i].Source == "os" {
			osItem = &d.Inventory[i]
		}
	}
	if osItem == nil || osItem.MatchProduct == "" {
		t.Skipf("this machine's OS (%s) matched no catalog product", d.Info.OSName)
	}
	distro := osItem.MatchProduct
	if distro != "debian" && distro != "ubuntu" {
		t.Skipf("this machine runs %s; the test knows the archives of Debian and Ubuntu", distro)
	}

	checked, nonEligible := 0, 0
	for _, it := range d.Inventory {
		if it.Source != "dpkg" || it.MatchProduct == "" || it.Candidate == "" || it.Candidate != it.Version || it.Origin != distro {
			continue
		}
		v, ok := verdictFor(d, it.MatchProduct)
		if !ok {
			t.Errorf("%s %s matched %s but has no verdict", it.Name, it.Version, it.MatchProduct)
			continue
		}
		if v.Installed != it.Version {
			continue // another package of the same (product, version) gave the verdict
		}
		checked++
		if v.Status == catalog.StatusPatchOverdue || v.Status == catalog.StatusEOL || v.Maintainer != distro {
			t.Errorf("%s %s (the candidate, from %s): %s, maintained by %s: %s", it.Name, it.Version, it.Origin, v.Status, v.Maintainer, v.Reason)
		}
		if v.CatalogDate == "" || v.Warnings == nil {
			t.Errorf("%s: catalog_date %q warnings %v, want both", it.Name, v.CatalogDate, v.Warnings)
		}
	}
	if checked == 0 {
		t.Fatalf("no dpkg item installed at its candidate from %s matched a product: nothing checked", distro)
	}
	for _, v := range d.Verdicts {
		if !eligibleVerdict(v) {
			nonEligible++
			t.Logf("not eligible: %s %s (%s) %s by %s: %s", v.Product, v.Version, v.Installed, v.Status, v.Maintainer, v.Reason)
		}
	}
	t.Logf("this machine: %d verdicts, %d not eligible; %d packages at their %s candidate checked", len(d.Verdicts), nonEligible, checked, distro)

	// The host's OS: Debian 12 is supported through Debian LTS (free) from
	// the day after its regular end of life to 2028-06-30.
	var osEl api.Eligibility
	e.get(t, "/api/v1/eligibility?host="+d.ID+"&product="+distro, &osEl)
	today := time.Now().UTC()
	if distro == "debian" && osEl.Cycle == "12" && today.After(time.Date(2026, 7, 11, 23, 59, 59, 0, time.UTC)) && today.Before(time.Date(2028, 7, 1, 0, 0, 0, 0, time.UTC)) {
		if osEl.Support != catalog.SupportSupported || osEl.Phase != catalog.PhaseExtended {
			t.Errorf("Debian 12 under the default policy: support %s phase %s, want supported, extended: %s", osEl.Support, osEl.Phase, osEl.Reason)
		}
	}

	// The host's OS follows its release package (base-files) as the
	// distribution's packages do: at its candidate the OS is current,
	// whatever point releases the catalog knows; behind it, the candidate's
	// point release is available from today (the server first saw it now).
	osV, ok := verdictFor(d, distro)
	if !ok {
		t.Fatalf("no verdict for the host's OS %s", distro)
	}
	for _, it := range d.Inventory {
		if it.Source != "dpkg" || it.Name != "base-files" || it.Candidate == "" {
			continue
		}
		fromArchive := it.Origin == distro || (it.Origin == "" && it.CandidateOrigin == distro)
		if !fromArchive {
			t.Logf("base-files %s is not from %s's archive (origin %q, candidate origin %q): the OS is judged by the catalog", it.Version, distro, it.Origin, it.CandidateOrigin)
			break
		}
		wantPatch, wantStatus := catalog.PatchCurrent, catalog.StatusCurrent
		if it.Candidate != it.Version {
			wantPatch, wantStatus = catalog.PatchAvailable, catalog.StatusPatchAvailable
		}
		if osV.Maintainer != distro || osV.Patch != wantPatch || osV.Candidate != it.Candidate || osV.Upstream == nil ||
			(osV.Support == catalog.SupportSupported && osV.Status != wantStatus && osV.Status != catalog.StatusEOLSoon) {
			t.Errorf("%s %s with base-files %s (candidate %s) = %s, patch %s, by %s, candidate %q; want patch %s (%s) by %s: %s",
				distro, osV.Version, it.Version, it.Candidate, osV.Status, osV.Patch, osV.Maintainer, osV.Candidate, wantPatch, wantStatus, distro, osV.Reason)
		}
		if m := regexp.MustCompile(`^12\.4\+deb12u(\d+)$`).FindStringSubmatch(it.Candidate); m != nil && it.Candidate != it.Version && osV.UpgradeTo != "12."+m[1] {
			t.Errorf("Debian with base-files %s as the candidate: upgrade_to %q, want 12.%s", it.Candidate, osV.UpgradeTo, m[1])
		}
		t.Logf("the OS: %s %s, base-files %s, candidate %s: %s (%s)", distro, osV.Version, it.Version, it.Candidate, osV.Status, osV.Reason)
	}

	// Every path agrees: the eligibility API and CLI, and the dashboard.
	b := webtest.NewBrowser(t, e.p.url)
	b.Login(t, e.token)
	_, page := b.Get(t, "/hosts/"+d.ID)
	if !strings.Contains(page, `id="catalog-age"`) {
		t.Error("the dashboard's host page does not show the catalog's age")
	}
	// The OS row names no package candidate beside the OS version (the
	// reason names the release package and its candidate).
	if m := regexp.MustCompile(`os: [^<]*`).FindString(page); m == "" || strings.Contains(m, "candidate") {
		t.Errorf("the host page's OS row: %q, want the OS without a package candidate", m)
	}
	for _, v := range d.Verdicts {
		var el api.Eligibility
		e.get(t, "/api/v1/eligibility?host="+d.ID+"&product="+v.Product, &el)
		if len(el.Installs) > 1 {
			continue
		}
		if el.Status != v.Status || el.Maintainer != v.Maintainer || el.Candidate != v.Candidate || el.CatalogDate != v.CatalogDate {
			t.Errorf("%s: eligibility API %s by %s (candidate %q, catalog %s), host detail %s by %s (candidate %q, catalog %s)",
				v.Product, el.Status, el.Maintainer, el.Candidate, el.CatalogDate, v.Status, v.Maintainer, v.Candidate, v.CatalogDate)
		}
		if v.Maintainer != catalog.MaintainerUpstream && !strings.Contains(page, "maintained by "+v.Maintainer) {
			t.Errorf("%s: the dashboard does not say it is maintained by %s", v.Product, v.Maintainer)
		}
	}
	if v, ok := verdictFor(d, "perl"); ok {
		var apiAns, cliAns api.Eligibility
		e.get(t, "/api/v1/eligibility?host="+d.ID+"&product=perl", &apiAns)
		out, err := exec.Command(e.srvBin, "eligibility", "--data-dir", e.dir, "--host", d.ID, "--product", "perl", "--json").Output()
		if err != nil {
			t.Fatalf("eligibility CLI: %v", err)
		}
		if err := json.Unmarshal(out, &cliAns); err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(apiAns)
		c, _ := json.Marshal(cliAns)
		if !bytes.Equal(a, c) {
			t.Errorf("perl: CLI and API answers differ:\nAPI %s\nCLI %s", a, c)
		}
		if v.Maintainer == distro && (apiAns.Upstream == nil || apiAns.Upstream.Maintainer != catalog.MaintainerUpstream) {
			t.Errorf("perl maintained by %s: the answer lacks the upstream verdict as context: %+v", distro, apiAns)
		}
	}

	// A catalog change re-evaluates the fleet: the distribution's verdicts
	// stay what ingest said.
	var before api.Compliance
	e.get(t, "/api/v1/compliance", &before)
	code, body, err := postJSON(e.p.url+api.PathCatalogReleases, e.token, api.Release{Product: "perl", Version: "5.36.99", Cycle: "5.36", Date: today.Format(time.DateOnly)})
	if err != nil || code/100 != 2 {
		t.Fatalf("publish a release: %d %s %v", code, body, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var after api.Compliance
	for {
		e.get(t, "/api/v1/compliance", &after)
		if after.CatalogVersion != before.CatalogVersion || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if after.CatalogVersion == before.CatalogVersion {
		t.Fatal("the fleet was not re-evaluated after the release")
	}
	var d2 api.HostDetail
	e.get(t, "/api/v1/hosts/"+d.ID, &d2)
	for _, v := range d.Verdicts {
		v2, _ := verdictFor(d2, v.Product)
		if v.Maintainer != catalog.MaintainerUpstream && (v2.Status != v.Status || v2.Maintainer != v.Maintainer) {
			t.Errorf("%s after the fleet's re-evaluation: %s by %s, at ingest %s by %s", v.Product, v2.Status, v2.Maintainer, v.Status, v.Maintainer)
		}
	}
	var metrics string
	e.get(t, "/metrics", &metrics)
	if !strings.Contains(metrics, "eolwatch_catalog_age_days ") || !strings.Contains(metrics, "eolwatch_catalog_date_timestamp_seconds ") {
		t.Error("/metrics lacks the catalog's age and date")
	}
}

// TestEndToEndDistroFixtures runs an rpm host (a Rocky Linux 9 report in
// the agent's format, with Vendor origins and dnf candidates) and an apk
// host (the real agent binary on the Alpine 3.20 fixture tree of the agent's
// tests, with its APKINDEX cache) through the real server: packages from
// the distribution's archive follow the distribution release, a vendor's
// repository (PGDG) and another branch (Alpine edge) stay upstream.
func TestEndToEndDistroFixtures(t *testing.T) {
	e := startDistroEnv(t)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC()

	// Rocky Linux 9, through POST /api/v1/enroll and /api/v1/report.
	raw, err := os.ReadFile("testdata/e2e/rocky9-report.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("REPO_DATE"), []byte(today.AddDate(0, 0, -1).Format(time.RFC3339)))
	var fx struct {
		Host  api.HostInfo `json:"host"`
		Items []api.Item   `json:"items"`
	}
	if err := json.Unmarshal(raw, &fx); err != nil {
		t.Fatal(err)
	}
	fx.Host.InstallID = "rocky9-e2e-install"
	code, body, err := postJSON(e.p.url+api.PathEnroll, "", api.EnrollRequest{EnrollSecret: testSecret, Host: fx.Host})
	if err != nil || code != 200 {
		t.Fatalf("enroll: %d %s %v", code, body, err)
	}
	var en api.EnrollResponse
	json.Unmarshal(body, &en)
	rep := api.Report{ReportID: "rocky-1", Kind: api.ReportFull, CollectedAt: today, Host: fx.Host, InventoryHash: "h1", Items: fx.Items}
	if code, body, err := postJSON(e.p.url+api.PathReport, en.NodeKey, rep); err != nil || code != 200 {
		t.Fatalf("report: %d %s %v", code, body, err)
	}
	rocky := e.hostByOS(t, "rocky")
	for _, tc := range []struct {
		product, maintainer string
		it                  api.Item
	}{
		{"openssl", "rocky-linux", fx.Items[1]},
		{"python", "rocky-linux", fx.Items[2]},
		{"nginx", "rocky-linux", fx.Items[3]},
		{"postgresql", catalog.MaintainerUpstream, fx.Items[4]},
		{"rocky-linux", "rocky-linux", fx.Items[7]}, // the OS, by rocky-release at its candidate
	} {
		t.Run("rocky9 "+tc.product, func(t *testing.T) {
			v, ok := verdictFor(rocky, tc.product)
			if !ok {
				t.Fatalf("no %s verdict: %+v", tc.product, rocky.Verdicts)
			}
			want := expectVerdict(cat, rocky, tc.product, tc.maintainer, "9", tc.it, today)
			if v.Maintainer != tc.maintainer || v.Status != want.Status || v.Support != want.Support {
				t.Errorf("%s %s = %s/%s by %s, want %s/%s by %s (%s)", tc.product, tc.it.Version, v.Status, v.Support, v.Maintainer,
					want.Status, want.Support, tc.maintainer, v.Reason)
			}
			if tc.maintainer != catalog.MaintainerUpstream && (v.MaintainerRelease != "9" || v.Candidate != tc.it.Candidate || v.Upstream == nil) {
				t.Errorf("%s: release %q candidate %q upstream %+v; want 9, %s and the upstream context", tc.product, v.MaintainerRelease, v.Candidate, tc.it.Candidate, v.Upstream)
			}
		})
	}
	if v, _ := verdictFor(rocky, "python"); v.Patch != catalog.PatchAvailable || v.UpgradeTo != "3.11.9-7.el9_5.2" {
		t.Errorf("python3.11 behind its candidate, first seen now: patch %s upgrade to %q, want available, 3.11.9-7.el9_5.2", v.Patch, v.UpgradeTo)
	}
	if v, _ := verdictFor(rocky, "nginx"); v.Support != catalog.SupportSupported || v.Upstream == nil || v.Upstream.Support != catalog.SupportEOL {
		t.Errorf("nginx 1.20 from Rocky 9: %s (upstream %+v), want supported by Rocky 9 while nginx 1.20 ended upstream", v.Support, v.Upstream)
	}

	// Alpine 3.20, through the real agent binary on a fixture tree.
	root, err := filepath.Abs("../agent/testdata/alpine-apk")
	if err != nil {
		t.Fatal(err)
	}
	e.agentOnce(t, "--root", root)
	alpine := e.hostByOS(t, "alpine")
	items := map[string]api.Item{}
	for _, it := range alpine.Inventory {
		items[it.Name] = it.Item
	}
	for _, tc := range []struct {
		product, maintainer, item string
	}{
		{"openssl", "alpine-linux", "openssl"}, // from v3.20/main (and libcrypto3, superseded, with it)
		{"nginx", "alpine-linux", "nginx"},
		{"nodejs", catalog.MaintainerUpstream, "nodejs"}, // pinned from edge/main: not Alpine 3.20's to maintain
		{"alpine-linux", "alpine-linux", "alpine-base"},  // the OS follows alpine-base, its candidate
	} {
		t.Run("alpine "+tc.product, func(t *testing.T) {
			v, ok := verdictFor(alpine, tc.product)
			if !ok {
				t.Fatalf("no %s verdict: %+v", tc.product, alpine.Verdicts)
			}
			it, ok := items[tc.item]
			if !ok || it.Origin != "alpine" {
				t.Fatalf("the agent reported %s as %+v, want origin alpine", tc.item, it)
			}
			want := expectVerdict(cat, alpine, tc.product, tc.maintainer, "3.20", it, today)
			if v.Maintainer != tc.maintainer || v.Status != want.Status || v.Support != want.Support {
				t.Errorf("%s %s = %s/%s by %s, want %s/%s by %s (%s)", tc.product, it.Version, v.Status, v.Support, v.Maintainer,
					want.Status, want.Support, tc.maintainer, v.Reason)
			}
		})
	}
}

// expectVerdict is what the catalog says on its own about item it of a
// host judged by maintainer (a distribution's release, or upstream), with
// the candidate first seen today.
func expectVerdict(cat *catalog.Catalog, d api.HostDetail, product, maintainer, release string, it api.Item, today time.Time) catalog.Verdict {
	version := ""
	for _, inv := range d.Inventory {
		if (inv.Name == it.Name || inv.Source == "os") && inv.MatchProduct == product {
			version = inv.MatchVersion // the OS's verdict is its OS item's, judged with its release package
		}
	}
	ctx := catalog.Context{Enrolled: d.Info.ExtendedSupport}
	if maintainer != catalog.MaintainerUpstream {
		ctx = catalog.Context{Distro: maintainer, DistroRelease: release, Installed: it.Version, Candidate: it.Candidate, Enrolled: d.Info.ExtendedSupport}
		if it.Candidate != it.Version {
			ctx.CandidateSeen = today
		}
	}
	return cat.EvaluateIn(product, version, ctx, today, catalog.DefaultPolicy())
}

// TestServeFeedSchedule runs the server (in process, real HTTP over
// loopback to a local feed) with --catalog-feed: it syncs the feed at
// start and again every --catalog-feed-interval, so a release the feed
// publishes later reaches /metrics' catalog date without a restart; with
// --catalog-feed-sync=false it never fetches the feed.
func TestServeFeedSchedule(t *testing.T) {
	body, err := os.ReadFile("catalogsvc/testdata/api-v1-python.json")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	requests := 0
	generated := "2026-10-01T00:00:00Z"
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		requests++
		w.Header().Set("Content-Type", "application/json")
		w.Write(regexp.MustCompile(`"generated_at":\s*"[^"]*"`).ReplaceAll(body, []byte(`"generated_at": "`+generated+`"`)))
	}))
	defer feed.Close()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return requests
	}
	run := func(t *testing.T, sync bool) (pythonDate func() string, stop func()) {
		cfg := inProcessConfig(t) // under Postgres, the feed sync runs under its job lease
		cfg.CatalogFeed, cfg.CatalogFeedInterval, cfg.CatalogFeedSync = feed.URL+"/api/v1/products/python", 100*time.Millisecond, sync
		url, _, cancel, done := runInProcess(t, cfg)
		e := &distroEnv{p: &serverProc{url: url}}
		st, err := store.OpenDatabase(context.Background(), cfg.Database, cfg.DataDir)
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := st.CreateToken(context.Background(), "admin", "feed test")
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		e.token = secret
		return func() string {
				var el api.Eligibility
				e.get(t, "/api/v1/eligibility?product=python&version=3.13.1", &el)
				return el.CatalogDate
			}, func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			}
	}
	t.Run("daily sync, here every 100ms", func(t *testing.T) {
		pythonDate, stop := run(t, true)
		defer stop()
		for deadline := time.Now().Add(time.Minute); count() < 2 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		if count() < 2 {
			t.Fatalf("the feed was fetched %d times", count())
		}
		mu.Lock()
		generated = "2026-11-30T00:00:00Z" // the feed publishes newer data
		mu.Unlock()
		var got string
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got = pythonDate(); got == "2026-11-30" {
				return
			}
		}
		t.Errorf("python's catalog_date after the feed published data of 2026-11-30: %q", got)
	})
	t.Run("sync off", func(t *testing.T) {
		before := count()
		_, stop := run(t, false)
		time.Sleep(500 * time.Millisecond) // time must pass: five feed intervals in which a fetch would show
		stop()
		if n := count() - before; n != 0 {
			t.Errorf("with --catalog-feed-sync=false the feed was fetched %d times", n)
		}
	})
}

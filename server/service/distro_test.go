package service

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
	"github.com/eolwatch/eolwatch/server/store"
)

func TestDistroOf(t *testing.T) {
	for _, tc := range []struct {
		name, origin, host, want string
	}{
		{"debian on debian", "debian", "debian", "debian"},
		{"debian spelled as apt prints it", " Debian ", "debian", "debian"},
		{"debian package on ubuntu", "debian", "ubuntu", ""},
		{"ubuntu ESM on ubuntu", "ubuntuesm", "ubuntu", "ubuntu"},
		{"NodeSource", ". nodistro", "debian", ""},
		{"PGDG", "apt.postgresql.org", "debian", ""},
		{"Docker", "docker", "debian", ""},
		{"no repository", "", "debian", ""},
		{"RHEL vendor", "red hat, inc.", "rhel", "rhel"},
		{"RHEL vendor on Rocky", "red hat, inc.", "rocky-linux", ""},
		{"Rocky vendor", "rocky enterprise software foundation", "rocky-linux", "rocky-linux"},
		{"SUSE vendor on openSUSE Leap", "suse llc <https://www.suse.com/>", "opensuse", "opensuse"},
		{"SUSE vendor on SLES", "suse llc <https://www.suse.com/>", "sles", "sles"},
		{"Alpine", "alpine", "alpine-linux", "alpine-linux"},
		{"unknown host OS", "debian", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := distroOf(tc.origin, tc.host); got != tc.want {
				t.Errorf("distroOf(%q, %q) = %q, want %q", tc.origin, tc.host, got, tc.want)
			}
		})
	}
}

func TestContextOf(t *testing.T) {
	seen := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	repo := time.Date(2026, 11, 30, 2, 21, 0, 0, time.UTC)
	h := &hostFacts{osProduct: "debian", osRelease: "12", codename: "bookworm", repoDate: repo}
	for _, tc := range []struct {
		name string
		it   api.Item
		want evalContext
	}{
		{"from the archive, current", api.Item{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u4", Origin: "debian", Candidate: "5.36.0-7+deb12u4"},
			evalContext{Distro: "debian", Release: "12", Installed: "5.36.0-7+deb12u4", Candidate: "5.36.0-7+deb12u4", RepoDate: "2026-11-30"}},
		{"superseded by a security update", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", Candidate: "3.11.2-6+deb12u9", CandidateOrigin: "debian"},
			evalContext{Distro: "debian", Release: "12", Installed: "3.11.2-6+deb12u6", Candidate: "3.11.2-6+deb12u9", Seen: "2026-11-02", RepoDate: "2026-11-30"}},
		{"a vendor's repository", api.Item{Source: "dpkg", Name: "nodejs", Version: "20.20.2-1nodesource1", Origin: ". nodistro", Candidate: "20.20.2-1nodesource1"},
			evalContext{}},
		{"installed by hand", api.Item{Source: "dpkg", Name: "nodejs", Version: "20.20.2-1nodesource1+repack1", Candidate: "20.20.2-1nodesource1+repack1"},
			evalContext{}},
		{"by hand, the archive offers nothing newer", api.Item{Source: "dpkg", Name: "tool", Version: "2.0-1", Candidate: "2.0-1", CandidateOrigin: "debian"},
			evalContext{}},
		{"pinned from another release", api.Item{Source: "dpkg", Name: "curl", Version: "8.14.1-2", Origin: "debian", Suite: "trixie", Candidate: "8.14.1-2"},
			evalContext{}},
		{"from the security pocket", api.Item{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u14", Origin: "debian", Suite: "bookworm-security", Candidate: "7.88.1-10+deb12u14"},
			evalContext{Distro: "debian", Release: "12", Installed: "7.88.1-10+deb12u14", Candidate: "7.88.1-10+deb12u14", RepoDate: "2026-11-30"}},
		{"superseded, the update from another release", api.Item{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12", Candidate: "8.14.1-2", CandidateOrigin: "debian", CandidateSuite: "trixie"},
			evalContext{}},
		{"a vendor's update for a distribution package", api.Item{Source: "dpkg", Name: "pg", Version: "15.18-0+deb12u1", Origin: "debian", Candidate: "15.20-1.pgdg120+1", CandidateOrigin: "apt.postgresql.org"},
			evalContext{Distro: "debian", Release: "12", Installed: "15.18-0+deb12u1", Candidate: "15.20-1.pgdg120+1", Seen: "2026-11-02", RepoDate: "2026-11-30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := contextOf(h, &tc.it, seen)
			if got.key() != tc.want.key() {
				t.Errorf("contextOf(%+v) = %s, want %s", tc.it, got.key(), tc.want.key())
			}
			if back := parseContext(got.key()); back.key() != got.key() {
				t.Errorf("parseContext(%s) = %s: the key does not read back", got.key(), back.key())
			}
		})
	}
	t.Run("enrolled host, upstream install", func(t *testing.T) {
		e := &hostFacts{osProduct: "ubuntu", osRelease: "20.04", enrolled: []string{"ubuntu-esm-apps", "ubuntu-esm-infra"}}
		got := contextOf(e, &api.Item{Source: "dpkg", Name: "x", Version: "1"}, time.Time{})
		if got.Distro != "" || !slices.Equal(got.Enrolled, e.enrolled) || got.key() == "" {
			t.Errorf("contextOf = %+v (key %q), want an upstream context with the enrolments", got, got.key())
		}
	})
	t.Run("alpine branches", func(t *testing.T) {
		a := &hostFacts{osProduct: "alpine-linux", osRelease: "3.20"}
		for _, tc := range []struct {
			suite string
			want  bool
		}{{"v3.20/main", true}, {"v3.20/community", true}, {"edge/main", false}, {"v3.21/main", false}, {"", true}} {
			it := api.Item{Source: "apk", Name: "nodejs", Version: "22.11.0-r0", Origin: "alpine", Suite: tc.suite, Candidate: "22.11.0-r0"}
			if got := contextOf(a, &it, time.Time{}).Distro != ""; got != tc.want {
				t.Errorf("suite %q on Alpine 3.20: judged by the distribution %v, want %v", tc.suite, got, tc.want)
			}
		}
	})
	t.Run("no OS release known", func(t *testing.T) {
		got := contextOf(&hostFacts{osProduct: "debian"}, &api.Item{Source: "dpkg", Name: "perl", Version: "5.36.0-7", Origin: "debian"}, time.Time{})
		if got.key() != "" {
			t.Errorf("contextOf = %s, want upstream", got.key())
		}
	})
}

// debianHost is this kind of machine: Debian 12 on 2026-12-01, with its
// repository data from the day before.
func debianHost() api.HostInfo {
	return api.HostInfo{InstallID: "i-deb", Hostname: "deb", OS: "linux", OSID: "debian", OSVersion: "12.11", OSName: "Debian GNU/Linux 12 (bookworm)",
		RepoDataDate: time.Date(2026, 11, 30, 2, 21, 41, 0, time.UTC)}
}

var debianItems = []api.Item{
	{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u4", Arch: "amd64", SourcePkg: "perl", Origin: "debian", Suite: "bookworm-security", Candidate: "5.36.0-7+deb12u4"},
	{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", Arch: "amd64", Candidate: "3.11.2-6+deb12u9", CandidateOrigin: "debian", CandidateSuite: "bookworm-security"},
	{Source: "dpkg", Name: "libpython3.11-stdlib", Version: "3.11.2-6+deb12u6", Arch: "amd64", SourcePkg: "python3.11", Candidate: "3.11.2-6+deb12u9", CandidateOrigin: "debian", CandidateSuite: "bookworm-security"},
	{Source: "dpkg", Name: "sqlite3", Version: "3.40.1-2+deb12u2", Arch: "amd64", Origin: "debian", Suite: "bookworm", Candidate: "3.40.1-2+deb12u2"},
	{Source: "dpkg", Name: "nodejs", Version: "20.20.2-1nodesource1+repack1", Arch: "amd64", Candidate: "20.20.2-1nodesource1+repack1"},
}

// newServiceAt is a test service whose clock reads now.
func newServiceAt(t *testing.T, st Store, now *time.Time, p catalog.Policy) *Service {
	t.Helper()
	catOnce.Do(func() { cat, catErr = catalog.Default() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	s, err := New(Config{Store: st, Catalog: func() *catalog.Catalog { return cat }, Policy: p, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verdictOf(t *testing.T, vs []store.Verdict, product string) store.Verdict {
	t.Helper()
	for _, v := range vs {
		if v.V.Product == product {
			return v
		}
	}
	t.Fatalf("no verdict for %s in %d verdicts", product, len(vs))
	return store.Verdict{}
}

// TestIngestDistroPackages ingests a Debian 12 host's report: packages from
// Debian's archive follow Debian 12 (supported through Debian LTS) and
// their candidate, one installed by hand is judged upstream; a newer
// candidate is available when first seen and overdue once the grace period
// has passed since then, and its first sighting is kept across reports.
func TestIngestDistroPackages(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	rep := api.Report{ReportID: "r1", Kind: api.ReportFull, Host: debianHost(), Items: debianItems}
	ref := store.HostRef{ID: 1, InstallID: "i-deb"}
	if _, err := s.Ingest(ctx, ref, rep); err != nil {
		t.Fatal(err)
	}
	in := st.applied[0]
	perl := verdictOf(t, in.Verdicts, "perl").V
	if perl.Status != catalog.StatusCurrent || perl.Support != catalog.SupportSupported || perl.Maintainer != "debian" ||
		perl.MaintainerRelease != "12" || perl.Upstream == nil || perl.Upstream.Support != catalog.SupportEOL {
		t.Errorf("perl-base 5.36.0-7+deb12u4 (the candidate, from Debian) = %s/%s by %s %s, upstream %+v; want current, supported by debian 12, eol upstream",
			perl.Status, perl.Support, perl.Maintainer, perl.MaintainerRelease, perl.Upstream)
	}
	if !strings.Contains(perl.Reason, "Debian 12") || perl.CatalogDate == "" || perl.Warnings == nil {
		t.Errorf("perl reason %q, catalog_date %q, warnings %v", perl.Reason, perl.CatalogDate, perl.Warnings)
	}
	py := verdictOf(t, in.Verdicts, "python").V
	if py.Status != catalog.StatusPatchAvailable || py.Patch != catalog.PatchAvailable || py.UpgradeTo != "3.11.2-6+deb12u9" {
		t.Errorf("python3.11 behind its candidate, first seen today = %s/%s upgrade to %q; want patch-available to 3.11.2-6+deb12u9", py.Status, py.Patch, py.UpgradeTo)
	}
	if node := verdictOf(t, in.Verdicts, "nodejs").V; node.Maintainer != catalog.MaintainerUpstream || node.Status != catalog.StatusEOL {
		t.Errorf("nodejs installed by hand = %s by %s, want eol upstream (Node.js 20 ended on 2026-04-30)", node.Status, node.Maintainer)
	}
	if len(in.Candidates) != 2 || !in.Candidates[0].FirstSeen.Equal(now) {
		t.Errorf("candidates to remember = %+v, want python3.11 and libpython3.11-stdlib first seen now", in.Candidates)
	}
	// 31 days later, the store remembers the candidates from the first report.
	st.cands = in.Candidates
	now = now.AddDate(0, 0, 31)
	rep.ReportID = "r2"
	if _, err := s.Ingest(ctx, ref, rep); err != nil {
		t.Fatal(err)
	}
	in2 := st.applied[1]
	if py := verdictOf(t, in2.Verdicts, "python").V; py.Status != catalog.StatusPatchOverdue || Eligible(py) {
		t.Errorf("python3.11 31 days after its candidate was first seen = %s, want patch-overdue (not eligible)", py.Status)
	}
	if !in2.Candidates[0].FirstSeen.Equal(in.Candidates[0].FirstSeen) {
		t.Errorf("first seen %v, want it kept at %v", in2.Candidates[0].FirstSeen, in.Candidates[0].FirstSeen)
	}
	// A new candidate restarts the grace period.
	rep.ReportID = "r3"
	rep.Items = slices.Clone(debianItems)
	rep.Items[1].Candidate, rep.Items[2].Candidate = "3.11.2-6+deb12u10", "3.11.2-6+deb12u10"
	if _, err := s.Ingest(ctx, ref, rep); err != nil {
		t.Fatal(err)
	}
	if py := verdictOf(t, st.applied[2].Verdicts, "python").V; py.Status != catalog.StatusPatchAvailable {
		t.Errorf("python3.11 with a candidate first seen today = %s, want patch-available", py.Status)
	}
	if os := verdictOf(t, in.Verdicts, "debian").V; os.Support != catalog.SupportSupported || os.Phase != catalog.PhaseExtended {
		t.Errorf("Debian 12 on 2026-12-01 = support %s phase %s, want supported, extended (Debian LTS)", os.Support, os.Phase)
	}
}

// TestPolicyChangesVerdicts shows each policy setting of the server
// changing a verdict of the same Debian 12 host on 2026-12-01.
func TestPolicyChangesVerdicts(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	judge := func(t *testing.T, p catalog.Policy, days int) map[string]catalog.Verdict {
		t.Helper()
		st := &fakeStore{}
		s := newServiceAt(t, st, &now, p)
		first := now.AddDate(0, 0, -days)
		st.cands = []store.Candidate{{Source: "dpkg", Name: "python3.11", Arch: "amd64", Candidate: "3.11.2-6+deb12u9", FirstSeen: first}}
		if _, err := s.Ingest(ctx, store.HostRef{ID: 1, InstallID: "i-deb"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: debianHost(), Items: debianItems}); err != nil {
			t.Fatal(err)
		}
		out := map[string]catalog.Verdict{}
		for _, v := range st.applied[0].Verdicts {
			out[v.V.Product] = v.V
		}
		return out
	}
	def := judge(t, catalog.DefaultPolicy(), 10)
	for _, tc := range []struct {
		name    string
		policy  catalog.Policy
		days    int
		product string
		field   func(catalog.Verdict) string
		before  string
		after   string
	}{
		{"extended support none ends Debian 12 at its regular end of life", catalog.Policy{WarnDays: 90, GraceDays: 30, ExtendedSupport: catalog.ExtendedNone},
			10, "perl", func(v catalog.Verdict) string { return v.Support }, catalog.SupportSupported, catalog.SupportEOL},
		{"extended support for debian none, per product", catalog.Policy{WarnDays: 90, GraceDays: 30, ExtendedSupportFor: map[string]string{"debian": catalog.ExtendedNone}},
			10, "debian", func(v catalog.Verdict) string { return v.Support }, catalog.SupportSupported, catalog.SupportEOL},
		{"grace days 5 makes a candidate seen 10 days ago overdue", catalog.Policy{WarnDays: 90, GraceDays: 5},
			10, "python", func(v catalog.Verdict) string { return v.Status }, catalog.StatusPatchAvailable, catalog.StatusPatchOverdue},
		{"warn days 600 brings Debian 12's end within the window", catalog.Policy{WarnDays: 600, GraceDays: 30},
			10, "perl", func(v catalog.Verdict) string { return v.Status }, catalog.StatusCurrent, catalog.StatusEOLSoon},
		{"extended support all keeps Node.js 20 supported (its paid programme)", catalog.Policy{WarnDays: 90, GraceDays: 30, ExtendedSupport: catalog.ExtendedAll},
			10, "nodejs", func(v catalog.Verdict) string { return v.Support }, catalog.SupportEOL, catalog.SupportSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.field(def[tc.product]); got != tc.before {
				t.Fatalf("%s under the default policy: %q, want %q (%s)", tc.product, got, tc.before, def[tc.product].Reason)
			}
			v := judge(t, tc.policy, tc.days)[tc.product]
			if got := tc.field(v); got != tc.after {
				t.Errorf("%s under %+v: %q, want %q (%s)", tc.product, tc.policy, got, tc.after, v.Reason)
			}
		})
	}
}

func TestRepoAgeWarning(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, repo string
		want       string
	}{
		{"fresh", "2026-11-30", ""},
		{"30 days", "2026-11-01", ""},
		{"31 days", "2026-10-31", "Repository data on this host is 31 days old (last updated 2026-10-31)"},
		{"unknown", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := repoAgeWarning(tc.repo, day)
			if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
				t.Errorf("repoAgeWarning(%q) = %q, want %q...", tc.repo, got, tc.want)
			}
		})
	}
	// Through the engine: a Debian host whose lists are 45 days old.
	st := &fakeStore{}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	h := debianHost()
	h.RepoDataDate = now.AddDate(0, 0, -45)
	if _, err := s.Ingest(context.Background(), store.HostRef{ID: 1, InstallID: "i-deb"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: h, Items: debianItems}); err != nil {
		t.Fatal(err)
	}
	vs := st.applied[0].Verdicts
	if w := verdictOf(t, vs, "perl").V.Warnings; !slices.ContainsFunc(w, func(s string) bool { return strings.HasPrefix(s, "Repository data on this host is 45 days old") }) {
		t.Errorf("perl warnings %q, want the repository data's age", w)
	}
	if w := verdictOf(t, vs, "nodejs").V.Warnings; slices.ContainsFunc(w, func(s string) bool { return strings.HasPrefix(s, "Repository data") }) {
		t.Errorf("nodejs (upstream) warnings %q name the repository data", w)
	}
}

// TestEnrolledHost judges Ubuntu 20.04 (standard support ended 2025-05-31)
// on hosts with and without Ubuntu Pro: the enrolment the agent reports
// (api.ExtUbuntuESMInfra) keeps the paid programme counting, for the OS
// and for Ubuntu's own packages.
func TestEnrolledHost(t *testing.T) {
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	items := []api.Item{{Source: "dpkg", Name: "openssl", Version: "1.1.1f-1ubuntu2.24", Arch: "amd64", Origin: "ubuntu", Candidate: "1.1.1f-1ubuntu2.24"}}
	for _, tc := range []struct {
		name     string
		enrolled []string
		want     string
	}{
		{"not enrolled", nil, catalog.SupportEOL},
		{"Ubuntu Pro esm-infra", []string{api.ExtUbuntuESMInfra}, catalog.SupportSupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
			h := api.HostInfo{InstallID: "u", Hostname: "u", OS: "linux", OSID: "ubuntu", OSVersion: "20.04", ExtendedSupport: tc.enrolled}
			if _, err := s.Ingest(context.Background(), store.HostRef{ID: 1, InstallID: "u"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: h, Items: items}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"ubuntu", "openssl"} {
				if v := verdictOf(t, st.applied[0].Verdicts, p).V; v.Support != tc.want {
					t.Errorf("%s = %s (%s), want %s", p, v.Support, v.Reason, tc.want)
				}
			}
		})
	}
}

// TestReEvaluationJudgesStoredContexts: the fleet's re-evaluation on a
// later day judges each stored context as ingest did, so a candidate first
// seen at ingest turns patch-overdue once the grace period has passed, with
// no new report; re-judging a host's stored inventory (after re-matching)
// gives ingest's verdicts.
func TestReEvaluationJudgesStoredContexts(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	rep := api.Report{ReportID: "r1", Kind: api.ReportFull, Host: debianHost(), Items: debianItems}
	if _, err := s.Ingest(ctx, store.HostRef{ID: 1, InstallID: "i-deb"}, rep); err != nil {
		t.Fatal(err)
	}
	in := st.applied[0]
	py := verdictOf(t, in.Verdicts, "python")
	for _, tc := range []struct {
		name string
		days int
		want string
	}{
		{"the same day", 0, catalog.StatusPatchAvailable},
		{"30 days later", 30, catalog.StatusPatchAvailable},
		{"31 days later", 31, catalog.StatusPatchOverdue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now = time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC).AddDate(0, 0, tc.days)
			st.state = store.FleetState{}
			if err := s.ReEvaluateIfStale(ctx); err != nil {
				t.Fatal(err)
			}
			re := st.reevals[len(st.reevals)-1]
			if v := re.Evaluate("python", py.V.Version, py.Context); v.Status != tc.want || v.Maintainer != "debian" {
				t.Errorf("python re-evaluated on %s = %s by %s, want %s by debian", re.AsOf, v.Status, v.Maintainer, tc.want)
			}
			if tc.days == 0 {
				again := re.Rejudge(store.HostInventory{Info: rep.Host, Items: in.Items, Candidates: in.Candidates})
				for _, v := range in.Verdicts {
					if w := verdictOf(t, again, v.V.Product); w.Context != v.Context || w.V.Status != v.V.Status {
						t.Errorf("%s re-judged: %s in %s, at ingest %s in %s", v.V.Product, w.V.Status, w.Context, v.V.Status, v.Context)
					}
				}
			}
		})
	}
}

// TestJudgeItemIsIngestsVerdict: JudgeItem (what `match explain --distro`
// shows) judges each item of a Debian 12 host's report exactly as
// ingesting the report does, candidates' first sightings included.
func TestJudgeItemIsIngestsVerdict(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	first := now.AddDate(0, 0, -40)
	st.cands = []store.Candidate{{Source: "dpkg", Name: "python3.11", Arch: "amd64", Candidate: "3.11.2-6+deb12u9", FirstSeen: first}}
	if _, err := s.Ingest(ctx, store.HostRef{ID: 1, InstallID: "i-deb"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: debianHost(), Items: debianItems}); err != nil {
		t.Fatal(err)
	}
	m := match.New(s.Catalog())
	for _, it := range debianItems {
		if it.Name == "libpython3.11-stdlib" {
			continue // judged with python3.11 (one verdict per product version), its candidate first seen today
		}
		t.Run(it.Name, func(t *testing.T) {
			seen := time.Time{}
			if it.Name == "python3.11" {
				seen = first
			}
			j := JudgeItem(m, catalog.DefaultPolicy(), debianHost(), it, seen, now)
			if j.Verdict == nil {
				t.Fatalf("JudgeItem(%s): no verdict", it.Name)
			}
			want := verdictOf(t, st.applied[0].Verdicts, j.Match.Product).V
			if !reflect.DeepEqual(*j.Verdict, want) {
				t.Errorf("JudgeItem(%s) = %s (%s)\nIngest judged %s (%s)", it.Name, j.Verdict.Status, j.Verdict.Reason, want.Status, want.Reason)
			}
			if j.OSProduct != "debian" || j.OSRelease != "12" || j.Why == "" {
				t.Errorf("JudgeItem(%s): host %s %s, why %q", it.Name, j.OSProduct, j.OSRelease, j.Why)
			}
		})
	}
}

package service

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// Debian's base-files as this machine has it: 12.4+deb12u11 (Debian
// 12.11), superseded in the archive by 12.4+deb12u15 (Debian 12.15).
var baseFilesBehind = api.Item{Source: "dpkg", Name: "base-files", Version: "12.4+deb12u11", Arch: "amd64", SourcePkg: "base-files",
	Candidate: "12.4+deb12u15", CandidateOrigin: "debian", CandidateSuite: "bookworm"}

// TestIngestOwnRelease: the host's OS verdict follows its release
// package's candidate, as the distribution's packages do. Debian 12.11
// with base-files 12.4+deb12u15 available is patch-available from the day
// the server first sees it and patch-overdue once the grace period has
// passed (on the fleet's re-evaluation too, with no new report), and
// current once base-files is its candidate, although the catalog's dates
// say a newer point release exists; without a base-files candidate the OS
// is judged by the catalog's point-release dates as before.
func TestIngestOwnRelease(t *testing.T) {
	ctx := context.Background()
	st := &fakeStore{}
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
	ref := store.HostRef{ID: 1, InstallID: "i-deb"}
	ingest := func(t *testing.T, id string, host api.HostInfo, items ...api.Item) catalog.Verdict {
		t.Helper()
		if _, err := s.Ingest(ctx, ref, api.Report{ReportID: id, Kind: api.ReportFull, Host: host, Items: items}); err != nil {
			t.Fatal(err)
		}
		in := st.applied[len(st.applied)-1]
		st.cands = in.Candidates
		return verdictOf(t, in.Verdicts, "debian").V
	}
	upstream := ingest(t, "r0", debianHost(), debianItems...)
	if upstream.Maintainer != catalog.MaintainerUpstream || upstream.Status != catalog.StatusPatchOverdue {
		t.Fatalf("Debian 12.11 without base-files = %s by %s, want patch-overdue by upstream (the catalog's point releases): %s", upstream.Status, upstream.Maintainer, upstream.Reason)
	}

	v := ingest(t, "r1", debianHost(), append(slices.Clone(debianItems), baseFilesBehind)...)
	if v.Status != catalog.StatusPatchAvailable || v.Support != catalog.SupportSupported || v.Phase != catalog.PhaseExtended ||
		v.Maintainer != "debian" || v.MaintainerRelease != "12" || v.UpgradeTo != "12.15" || v.Candidate != "12.4+deb12u15" || v.Upstream == nil {
		t.Errorf("Debian 12.11 with base-files 12.4+deb12u15 first seen now = %s/%s/%s by %s %s, upgrade to %q, candidate %q; want patch-available, supported, extended by debian 12, to 12.15: %s",
			v.Status, v.Support, v.Phase, v.Maintainer, v.MaintainerRelease, v.UpgradeTo, v.Candidate, v.Reason)
	}
	if !strings.Contains(v.Reason, "Debian 12.15 (base-files 12.4+deb12u15) is available to the host, install it by 2026-12-31") {
		t.Errorf("reason %q", v.Reason)
	}
	first := st.cands
	if i := slices.IndexFunc(first, func(c store.Candidate) bool { return c.Name == "base-files" }); i < 0 || !first[i].FirstSeen.Equal(now) {
		t.Errorf("candidates to remember = %+v, want base-files first seen now", first)
	}

	// The fleet's re-evaluation 31 days later judges the stored context.
	stored := verdictOf(t, st.applied[len(st.applied)-1].Verdicts, "debian")
	now = now.AddDate(0, 0, 31)
	st.state = store.FleetState{}
	if err := s.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	re := st.reevals[len(st.reevals)-1]
	if v := re.Evaluate("debian", stored.V.Version, stored.Context); v.Status != catalog.StatusPatchOverdue || v.Maintainer != "debian" {
		t.Errorf("Debian 12.11 re-evaluated 31 days after base-files 12.4+deb12u15 was first seen = %s by %s, want patch-overdue by debian: %s", v.Status, v.Maintainer, v.Reason)
	}
	if v := ingest(t, "r2", debianHost(), append(slices.Clone(debianItems), baseFilesBehind)...); v.Status != catalog.StatusPatchOverdue || Eligible(v) ||
		!strings.Contains(v.Reason, "has been available to the host since 2026-12-01, more than 30 days ago") {
		t.Errorf("Debian 12.11 reported again 31 days later = %s: %s; want patch-overdue since 2026-12-01", v.Status, v.Reason)
	}

	// Upgraded: Debian 12.15, base-files is its candidate (offered by Debian's archive).
	h := debianHost()
	h.OSVersion = "12.15"
	current := api.Item{Source: "dpkg", Name: "base-files", Version: "12.4+deb12u15", Arch: "amd64", Origin: "debian", Suite: "bookworm", Candidate: "12.4+deb12u15"}
	if v := ingest(t, "r3", h, append(slices.Clone(debianItems), current)...); v.Status != catalog.StatusCurrent || v.Maintainer != "debian" || !Eligible(v) {
		t.Errorf("Debian 12.15 with base-files at its candidate = %s by %s: %s; want current by debian", v.Status, v.Maintainer, v.Reason)
	}
	// 12.11 with base-files at its candidate (the mirror has no newer point
	// release): current, whatever the catalog's dates say.
	at := baseFilesBehind
	at.Origin, at.Suite, at.Candidate, at.CandidateOrigin, at.CandidateSuite = "debian", "bookworm", at.Version, "", ""
	if v := ingest(t, "r4", debianHost(), at); v.Status != catalog.StatusCurrent || v.Patch != catalog.PatchCurrent || v.Maintainer != "debian" {
		t.Errorf("Debian 12.11 with base-files 12.4+deb12u11 as the candidate = %s/%s by %s: %s; want current by debian", v.Status, v.Patch, v.Maintainer, v.Reason)
	}

	// Not the distribution's base-files: judged by the catalog as before.
	for _, tc := range []struct {
		name string
		edit func(*api.Item)
	}{
		{"no candidate reported", func(it *api.Item) { it.Candidate, it.CandidateOrigin, it.CandidateSuite = "", "", "" }},
		{"a candidate from another release (trixie pinned)", func(it *api.Item) { it.Candidate, it.CandidateSuite = "13.8+deb13u1", "trixie" }},
		{"a candidate from a vendor's repository", func(it *api.Item) { it.CandidateOrigin = "example vendor" }},
		{"installed by hand, no repository offers it", func(it *api.Item) {
			it.Candidate, it.CandidateOrigin, it.CandidateSuite = it.Version, "", ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := baseFilesBehind
			tc.edit(&it)
			if v := ingest(t, "r-"+tc.name, debianHost(), it); v.Maintainer != catalog.MaintainerUpstream || v.Status != upstream.Status || v.Reason != upstream.Reason {
				t.Errorf("Debian 12.11 with %+v = %s by %s: %s; want the catalog's own verdict %s", it, v.Status, v.Maintainer, v.Reason, upstream.Status)
			}
		})
	}
}

// TestOwnReleaseOtherDistributions: the release package of RHEL's
// rebuilds and of Alpine carries the OS verdict in the same way.
func TestOwnReleaseOtherDistributions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
	const rocky = "rocky enterprise software foundation"
	for _, tc := range []struct {
		name            string
		host            api.HostInfo
		item            api.Item
		product, status string
		upgrade, reason string
	}{
		{name: "Rocky 9.5 with rocky-release 9.5 as the candidate: current",
			host:    api.HostInfo{InstallID: "i", Hostname: "r", OS: "linux", OSID: "rocky", OSVersion: "9.5", OSName: "Rocky Linux 9.5 (Blue Onyx)"},
			item:    api.Item{Source: "rpm", Name: "rocky-release", Version: "9.5-1.2.el9", Arch: "noarch", Origin: rocky, Suite: "baseos", Candidate: "9.5-1.2.el9"},
			product: "rocky-linux", status: catalog.StatusCurrent, reason: "9.5 is the newest point release available to the host (its rocky-release 9.5-1.2.el9 is the candidate)"},
		{name: "Rocky 9.5 with rocky-release 9.6 available: patch-available, upgrade to 9.6",
			host:    api.HostInfo{InstallID: "i", Hostname: "r", OS: "linux", OSID: "rocky", OSVersion: "9.5", OSName: "Rocky Linux 9.5 (Blue Onyx)"},
			item:    api.Item{Source: "rpm", Name: "rocky-release", Version: "9.5-1.2.el9", Arch: "noarch", Origin: rocky, Suite: "baseos", Candidate: "9.6-1.1.el9", CandidateOrigin: rocky, CandidateSuite: "baseos"},
			product: "rocky-linux", status: catalog.StatusPatchAvailable, upgrade: "9.6", reason: "Rocky Linux 9.6 (rocky-release 9.6-1.1.el9) is available to the host"},
		{name: "Alpine 3.22.1 with alpine-base as the candidate: current",
			host:    api.HostInfo{InstallID: "i", Hostname: "a", OS: "linux", OSID: "alpine", OSVersion: "3.22.1", OSName: "Alpine Linux v3.22"},
			item:    api.Item{Source: "apk", Name: "alpine-base", Version: "3.22.1-r0", Arch: "noarch", Origin: "alpine", Suite: "v3.22/main", Candidate: "3.22.1-r0"},
			product: "alpine-linux", status: catalog.StatusCurrent, reason: "3.22.1 is the newest point release available to the host (its alpine-base 3.22.1-r0 is the candidate)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
			if _, err := s.Ingest(ctx, store.HostRef{ID: 1, InstallID: "i"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: tc.host, Items: []api.Item{tc.item}}); err != nil {
				t.Fatal(err)
			}
			v := verdictOf(t, st.applied[0].Verdicts, tc.product).V
			if v.Status != tc.status || v.Maintainer != tc.product || v.UpgradeTo != tc.upgrade || !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("%s = %s by %s, upgrade to %q: %s\nwant %s by %s, upgrade to %q, reason with %q", tc.product, v.Status, v.Maintainer, v.UpgradeTo, v.Reason,
					tc.status, tc.product, tc.upgrade, tc.reason)
			}
			// without the release package: the catalog's own verdict
			st2 := &fakeStore{}
			s2 := newServiceAt(t, st2, &now, catalog.DefaultPolicy())
			if _, err := s2.Ingest(ctx, store.HostRef{ID: 1, InstallID: "i"}, api.Report{ReportID: "r", Kind: api.ReportFull, Host: tc.host}); err != nil {
				t.Fatal(err)
			}
			if up := verdictOf(t, st2.applied[0].Verdicts, tc.product).V; up.Maintainer != catalog.MaintainerUpstream {
				t.Errorf("%s without its release package: maintainer %s, want upstream", tc.product, up.Maintainer)
			}
		})
	}
}

// TestIngestSBOMOwnRelease: an asset's OS is the point release its
// release package says (syft names the release alone: "debian" "12";
// base-files 12.4+deb12u11 is Debian 12.11, as /etc/debian_version tells
// the agent), maintained by the distribution, and an SBOM names no
// candidate, so its patch status is unknown: neither the catalog's
// point-release dates (overdue) nor the release's latest (current). The
// fleet's re-judging of the stored asset agrees with ingest, and differs
// from what the same inventory gives a host (the catalog's dates).
func TestIngestSBOMOwnRelease(t *testing.T) {
	const baseFiles = `{"bom-ref":"bf","type":"library","name":"base-files","version":"%s","purl":"pkg:deb/debian/base-files@%s?arch=amd64&distro=debian-12"}`
	doc := func(os string, comps ...string) string {
		all := append([]string{}, comps...)
		if os != "" {
			all = append(all, os)
		}
		return `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Join(all, ",") + `]}`
	}
	deb12 := `{"bom-ref":"os","type":"operating-system","name":"debian","version":"12"}`
	bf := func(v string) string { return strings.ReplaceAll(baseFiles, "%s", v) }
	for _, tc := range []struct {
		name, doc                     string
		osVersion, version, installed string
		reason                        string
	}{
		{name: "syft's order: base-files, then the OS", doc: doc(deb12, bf("12.4+deb12u11")),
			osVersion: "12.11", version: "12.11", installed: "12.4+deb12u11",
			reason: "its base-files 12.4+deb12u11 is Debian 12.11, and whether a newer point release is available to it is unknown (no candidate version was given)."},
		{name: "the OS first", doc: doc("", deb12, bf("12.4+deb12u11")),
			osVersion: "12.11", version: "12.11", installed: "12.4+deb12u11", reason: "is Debian 12.11"},
		{name: "SPDX-like: no OS component, the purls' distribution", doc: doc("", bf("12.4+deb12u11")),
			osVersion: "12.11", version: "12.11", installed: "12.4+deb12u11", reason: "is Debian 12.11"},
		{name: "no base-files: the release alone, still Debian's with patch unknown", doc: doc(deb12),
			osVersion: "12", version: "12.15", reason: "no installed version of its base-files was given"},
		{name: "a base-files of another release does not name the point release", doc: doc(deb12, strings.ReplaceAll(bf("11.1+deb11u9"), "debian-12", "debian-11")),
			osVersion: "12", version: "12.15", installed: "11.1+deb11u9", reason: "whether an update of its base-files 11.1+deb11u9 is available is unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStore{}
			now := time.Date(2026, 12, 1, 16, 0, 0, 0, time.UTC)
			s := newServiceAt(t, st, &now, catalog.DefaultPolicy())
			if _, err := s.IngestSBOM(context.Background(), SBOMInput{Name: "registry.example/app:1.4", Body: strings.NewReader(tc.doc)}); err != nil {
				t.Fatal(err)
			}
			in := st.assets[0]
			if in.Info.OSID != "debian" || in.Info.OSVersion != tc.osVersion {
				t.Errorf("asset OS %s %s, want debian %s", in.Info.OSID, in.Info.OSVersion, tc.osVersion)
			}
			v := verdictOf(t, in.Verdicts, "debian").V
			got := []string{v.Version, v.Cycle, v.Maintainer, v.MaintainerRelease, v.Patch, v.Status, v.Support, v.Installed, v.Candidate, v.UpgradeTo}
			want := []string{tc.version, "12", "debian", "12", catalog.PatchUnknown, catalog.StatusCurrent, catalog.SupportSupported, tc.installed, "", ""}
			if !slices.Equal(got, want) {
				t.Errorf("asset OS verdict version/cycle/maintainer/release/patch/status/support/installed/candidate/upgrade = %q,\nwant %q\nreason: %s", got, want, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", v.Reason, tc.reason)
			}
			// the fleet's re-judging of the stored asset (after a catalog
			// change re-matched it) judges it as ingest did; a host with the
			// same inventory and no candidates gets the catalog's own verdict
			if err := s.ReEvaluateIfStale(context.Background()); err != nil {
				t.Fatal(err)
			}
			re := st.reevals[len(st.reevals)-1]
			again := verdictOf(t, re.Rejudge(store.HostInventory{Info: in.Info, Kind: api.KindAsset, Items: in.Items}), "debian")
			if again.Context != verdictOf(t, in.Verdicts, "debian").Context || again.V.Patch != catalog.PatchUnknown {
				t.Errorf("re-judged asset OS: %s in %q, at ingest in %q", again.V.Patch, again.Context, verdictOf(t, in.Verdicts, "debian").Context)
			}
			asHost := verdictOf(t, re.Rejudge(store.HostInventory{Info: in.Info, Kind: api.KindHost, Items: in.Items}), "debian")
			if asHost.V.Maintainer != catalog.MaintainerUpstream || asHost.Context != "" {
				t.Errorf("the same inventory as a host's: OS by %s in %q, want the catalog's own verdict", asHost.V.Maintainer, asHost.Context)
			}
		})
	}
}

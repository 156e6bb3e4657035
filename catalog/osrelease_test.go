package catalog

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestEvaluateInOwnRelease checks the host OS's verdict when the host
// reports its release package's candidate (base-files on Debian): the
// release's support stays the catalog's, but the patch status follows the
// candidate as for any package of the distribution's archive, instead of
// the catalog's point-release dates.
func TestEvaluateInOwnRelease(t *testing.T) {
	cat := distroCat(t)
	asOf := day("2026-12-01")
	seen := func(daysAgo int) time.Time { return asOf.AddDate(0, 0, -daysAgo).Add(9 * time.Hour) }
	deb := func(installed, candidate string, seenDaysAgo int) Context {
		ctx := Context{Distro: "debian", DistroRelease: "12", Installed: installed, Candidate: candidate}
		if seenDaysAgo >= 0 {
			ctx.CandidateSeen = seen(seenDaysAgo)
		}
		return ctx
	}
	tests := []evalInCase{
		{name: "Debian 12.11 whose base-files is its candidate: current, although the catalog knows 12.12",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u11", -1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, latest: "12.11",
			reason: []string{"Debian 12 is supported by Debian LTS until 2028-06-30", " and 12.11 is the newest point release available to the host (its base-files 12.4+deb12u11 is the candidate)."}},
		{name: "a newer base-files seen 10 days ago: Debian 12.12 available, due at the end of the grace period",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u12", 10),
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, latest: "12.12", upgrade: "12.12",
			reason: []string{"; Debian 12.12 (base-files 12.4+deb12u12) is available to the host, install it by 2026-12-21."}},
		{name: "a newer base-files seen 40 days ago: overdue from when the server first saw it",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u15", 40),
			support: SupportSupported, phase: PhaseExtended, patch: PatchOverdue, status: StatusPatchOverdue, latest: "12.15", upgrade: "12.15",
			reason: []string{"; Debian 12.15 (base-files 12.4+deb12u15) has been available to the host since 2026-10-22, more than 30 days ago: install it."}},
		{name: "grace days 60: 40 days is still only available",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u15", 40), pol: Policy{WarnDays: 90, GraceDays: 60},
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, latest: "12.15", upgrade: "12.15",
			reason: []string{"install it by 2026-12-21"}},
		{name: "a newer base-files first seen at an unknown time: available, never overdue",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u15", -1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, latest: "12.15", upgrade: "12.15",
			reason: []string{"; Debian 12.15 (base-files 12.4+deb12u15) is available to the host, install it."}},
		{name: "the install is newer than the candidate: current",
			product: "debian", version: "12.12", ctx: deb("12.4+deb12u12", "12.4+deb12u11", 40),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, latest: "12.12"},
		{name: "extended support none: Debian 12 ended with its regular support, whatever the candidate",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u11", -1), pol: Policy{ExtendedSupport: ExtendedNone},
			support: SupportEOL, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOL, latest: "12.11", upgrade: "13.2",
			reason: []string{"Debian 12 reached end of life on 2026-06-10"}},
		{name: "Debian 10 past LTS: eol and upgrade the host, the pending point release as patch",
			product: "debian", version: "10.12", ctx: Context{Distro: "debian", DistroRelease: "10", Installed: "10.3+deb10u12", Candidate: "10.3+deb10u13"},
			support: SupportEOL, phase: PhaseEOL, patch: PatchAvailable, status: StatusEOL, latest: "10.13", upgrade: "12.12",
			reason: []string{"upgrade to 12.12 or later"}},
		{name: "the release's end within the warning window: eol-soon",
			product: "debian", version: "12.11", ctx: deb("12.4+deb12u11", "12.4+deb12u11", -1), asOf: "2028-05-01",
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOLSoon, latest: "12.11",
			reason: []string{"(in 60 days); plan an upgrade to 13.2 or later", "12.11 is the newest point release available to the host"}},
		{name: "overdue within the warning window: patch-overdue, and a warning names the end",
			product: "debian", version: "12.11", ctx: Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u11", Candidate: "12.4+deb12u15", CandidateSeen: day("2028-03-01")}, asOf: "2028-05-01",
			support: SupportSupported, phase: PhaseExtended, patch: PatchOverdue, status: StatusPatchOverdue, latest: "12.15", upgrade: "12.15",
			reason: []string{"(in 60 days); plan an upgrade to 13.2 or later"}, warning: "Debian 12 reaches end of support (Debian LTS) on 2028-06-30 (in 60 days)"},
		{name: "RHEL 9.4 with redhat-release 9.6 available for 40 days: overdue, upgrade to 9.6",
			product: "rhel", version: "9.4", ctx: Context{Distro: "rhel", DistroRelease: "9", Installed: "9.4-0.5.el9", Candidate: "9.6-0.1.el9", CandidateSeen: seen(40), Package: "redhat-release"},
			support: SupportSupported, phase: PhaseActive, patch: PatchOverdue, status: StatusPatchOverdue, latest: "9.6", upgrade: "9.6",
			reason: []string{"RHEL 9.6 (redhat-release 9.6-0.1.el9) has been available to the host since 2026-10-22"}},
		{name: "RHEL: a rebuilt release package of the same point release is no update",
			product: "rhel", version: "9.4", ctx: Context{Distro: "rhel", DistroRelease: "9", Installed: "9.4-0.5.el9", Candidate: "9.4-0.6.el9", CandidateSeen: seen(40)},
			support: SupportSupported, phase: PhaseActive, patch: PatchCurrent, status: StatusCurrent, latest: "9.4",
			reason: []string{"9.4 is the newest point release available to the host (its redhat-release 9.4-0.6.el9 is the same point release)."}},
		{name: "the release package is named by the context: Rocky's rocky-release",
			product: "rhel", version: "9.6", ctx: Context{Distro: "rhel", DistroRelease: "9", Installed: "9.6-1.2.el9", Candidate: "9.6-1.2.el9", Package: "rocky-release"},
			support: SupportSupported, phase: PhaseActive, patch: PatchCurrent, status: StatusCurrent, latest: "9.6",
			reason: []string{"(its rocky-release 9.6-1.2.el9 is the candidate)"}},
		{name: "Ubuntu: base-files carries no point release number, the package update is what is pending",
			product: "ubuntu", version: "24.04.3", ctx: Context{Distro: "ubuntu", DistroRelease: "24.04", Installed: "13ubuntu10.2", Candidate: "13ubuntu10.3", CandidateSeen: seen(5)},
			support: SupportSupported, phase: PhaseActive, patch: PatchAvailable, status: StatusPatchAvailable, latest: "13ubuntu10.3", upgrade: "13ubuntu10.3",
			reason: []string{"; base-files 13ubuntu10.3 is available to the host, install it by 2026-12-26."}},
		{name: "Alpine: alpine-base 3.22.1 available",
			product: "alpine-linux", version: "3.22.0", ctx: Context{Distro: "alpine-linux", DistroRelease: "3.22", Installed: "3.22.0-r0", Candidate: "3.22.1-r0", CandidateSeen: seen(3)},
			support: SupportSupported, phase: PhaseActive, patch: PatchAvailable, status: StatusPatchAvailable, latest: "3.22.1", upgrade: "3.22.1",
			reason: []string{"; Alpine Linux 3.22.1 (alpine-base 3.22.1-r0) is available to the host, install it by 2026-12-28."}},
		{name: "a bare release matched as the catalog's latest (12.12): the point release installed is base-files' 12.11",
			product: "debian", version: "12.12", ctx: deb("12.4+deb12u11", "12.4+deb12u11", -1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, latest: "12.11",
			reason: []string{" and 12.11 is the newest point release available to the host"}},
		{name: "Alpine: alpine-base is the candidate",
			product: "alpine-linux", version: "3.22.1", ctx: Context{Distro: "alpine-linux", DistroRelease: "3.22", Installed: "3.22.1-r0", Candidate: "3.22.1-r0"},
			support: SupportSupported, phase: PhaseActive, patch: PatchCurrent, status: StatusCurrent, latest: "3.22.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.maintainer = tt.product // the distribution maintains its own release
			v, when := tt.check(t, cat, asOf)
			up := cat.Evaluate(tt.product, tt.version, when, tt.pol)
			if v.Upstream == nil || !reflect.DeepEqual(*v.Upstream, up) {
				t.Errorf("upstream context = %+v, want the catalog's own verdict %+v", v.Upstream, up)
			}
			if v.Cycle != up.Cycle || v.Newest != up.Newest || v.EOL != up.EOL || v.Version != tt.version ||
				v.Installed != tt.ctx.Installed || v.Candidate != tt.ctx.Candidate || v.MaintainerRelease != up.Cycle {
				t.Errorf("cycle %q newest %q eol %v version %q installed %q candidate %q maintainer_release %q; upstream cycle %q newest %q eol %v",
					v.Cycle, v.Newest, v.EOL, v.Version, v.Installed, v.Candidate, v.MaintainerRelease, up.Cycle, up.Newest, up.EOL)
			}
		})
	}
}

// TestEvaluateInOwnReleaseWithoutCandidate checks the OS verdict when the
// context names the distribution itself but no usable candidate of its
// release package (an SBOM lists the packages installed, never what the
// package manager would install): maintained by the distribution, like its
// packages, with the patch status unknown and not counted: never the
// catalog's point-release dates, which would make an image built on 12.11
// overdue, nor current. The release's support still decides the status.
func TestEvaluateInOwnReleaseWithoutCandidate(t *testing.T) {
	cat := distroCat(t)
	asOf := day("2026-12-01")
	up := cat.Evaluate("debian", "12.11", asOf, Policy{})
	if up.Patch == PatchCurrent || up.Maintainer != MaintainerUpstream {
		t.Fatalf("the fixture's Debian 12.11 upstream is patch %s by %s, want a newer patch upstream (the catalog knows 12.12)", up.Patch, up.Maintainer)
	}
	for _, tc := range []struct {
		name            string
		version         string
		ctx             Context
		asOf            string
		pol             Policy
		support, status string
		upgrade         string
		reason, warning string
	}{
		{name: "no candidate: base-files says 12.11, a newer point release is unknown", version: "12.11",
			ctx:     Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u11", Package: "base-files"},
			support: SupportSupported, status: StatusCurrent,
			reason: "Debian 12 is supported by Debian LTS until 2028-06-30 (regular support ended on 2026-06-10); its base-files 12.4+deb12u11 is Debian 12.11, and whether a newer point release is available to it is unknown (no candidate version was given)."},
		{name: "no installed package", version: "12.11", ctx: Context{Distro: "debian", DistroRelease: "12", Candidate: "12.4+deb12u11"},
			support: SupportSupported, status: StatusCurrent,
			reason: "; whether a newer point release is available to it is unknown (no installed version of its base-files was given)."},
		{name: "neither: the release alone", version: "12.12", ctx: Context{Distro: "debian", DistroRelease: "12"},
			support: SupportSupported, status: StatusCurrent,
			reason: "; whether a newer point release is available to it is unknown (no installed version of its base-files was given)."},
		{name: "an unreadable candidate", version: "12.11", ctx: Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u11", Candidate: "not a version!"},
			support: SupportSupported, status: StatusCurrent, warning: `The candidate version "not a version!" could not be read`,
			reason: "(the candidate version could not be read)."},
		{name: "a release package without a point release (Ubuntu)", version: "24.04.3", ctx: Context{Distro: "ubuntu", DistroRelease: "24.04", Installed: "13ubuntu10.2"},
			support: SupportSupported, status: StatusCurrent,
			reason: "; whether an update of its base-files 13ubuntu10.2 is available is unknown (no candidate version was given)."},
		{name: "a release package of another release names no point release", version: "12.11",
			ctx:     Context{Distro: "debian", DistroRelease: "12", Installed: "11.1+deb11u9"},
			support: SupportSupported, status: StatusCurrent,
			reason: "; whether an update of its base-files 11.1+deb11u9 is available is unknown (no candidate version was given)."},
		{name: "the end within the warning window: eol-soon", version: "12.11", asOf: "2028-05-01",
			ctx:     Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u11"},
			support: SupportSupported, status: StatusEOLSoon, reason: "(in 60 days); plan an upgrade to 13.2 or later; its base-files"},
		{name: "a release past its support keeps the catalog's status, upgrade and reason", version: "12.11", pol: Policy{ExtendedSupport: ExtendedNone},
			ctx:     Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u11"},
			support: SupportEOL, status: StatusEOL, upgrade: "13.2", reason: "Debian 12 reached end of life on 2026-06-10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			when := asOf
			if tc.asOf != "" {
				when = day(tc.asOf)
			}
			product := tc.ctx.Distro
			v := cat.EvaluateIn(product, tc.version, tc.ctx, when, tc.pol)
			up := cat.Evaluate(product, tc.version, when, tc.pol)
			got := []string{v.Support, v.Phase, v.Patch, v.Status, v.UpgradeTo, v.Maintainer, v.MaintainerRelease, v.Latest, v.Cycle, v.Version}
			want := []string{tc.support, up.Phase, PatchUnknown, tc.status, tc.upgrade, product, tc.ctx.DistroRelease, up.Latest, up.Cycle, tc.version}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("EvaluateIn = support/phase/patch/status/upgrade/maintainer/release/latest/cycle/version %q,\nwant %q\nreason: %s", got, want, v.Reason)
			}
			if !strings.Contains(v.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", v.Reason, tc.reason)
			}
			checkSentence(t, v.Reason)
			if tc.warning != "" && !containsPart(v.Warnings, tc.warning) {
				t.Errorf("warnings %q lack %q", v.Warnings, tc.warning)
			}
			if v.Upstream == nil || !reflect.DeepEqual(*v.Upstream, up) {
				t.Errorf("upstream context = %+v, want the catalog's own verdict %+v", v.Upstream, up)
			}
			if v.Installed != tc.ctx.Installed || v.Candidate != tc.ctx.Candidate || v.EOL != up.EOL {
				t.Errorf("installed %q candidate %q eol %v, want %q %q %v", v.Installed, v.Candidate, v.EOL, tc.ctx.Installed, tc.ctx.Candidate, up.EOL)
			}
		})
	}
}

// TestPointReleaseOf checks the exported reading of a release package's
// point release, which must belong to the release asked about.
func TestPointReleaseOf(t *testing.T) {
	cat := distroCat(t)
	for _, tc := range []struct{ distro, release, version, want string }{
		{"debian", "12", "12.4+deb12u11", "12.11"},
		{"debian", "12.15", "12.4+deb12u11", "12.11"}, // a point release names its cycle
		{"Debian", "12", "12.4+deb12u11", "12.11"},
		{"debian", "11", "12.4+deb12u11", ""}, // another release's package
		{"debian", "12", "12.4", ""},
		{"ubuntu", "24.04", "13ubuntu10.2", ""},
		{"rhel", "9", "9.4-0.5.el9", "9.4"},
		{"alpine-linux", "3.22", "3.22.1-r0", "3.22.1"},
		{"plan9", "4", "4.1", ""},
	} {
		t.Run(tc.distro+" "+tc.release+" "+tc.version, func(t *testing.T) {
			if got := cat.PointRelease(tc.distro, tc.release, tc.version); got != tc.want {
				t.Errorf("PointRelease(%q, %q, %q) = %q, want %q", tc.distro, tc.release, tc.version, got, tc.want)
			}
		})
	}
}

// TestPointRelease checks which point release a release package's version
// stands for.
func TestPointRelease(t *testing.T) {
	for _, tc := range []struct{ distro, version, want string }{
		{"debian", "12.4+deb12u11", "12.11"},
		{"debian", "12.4+deb12u15", "12.15"},
		{"debian", "13.8+deb13u1", "13.1"},
		{"debian", "10.3+deb10u13", "10.13"},
		{"debian", "12.4", ""},              // 12.0 or a testing upload: not said
		{"debian", "12.4+deb11u3", ""},      // another release's suffix
		{"debian", "12.4+deb12u11~bpo", ""}, // not an archive build
		{"ubuntu", "13ubuntu10.3", ""},
		{"rhel", "9.4-0.5.el9", "9.4"},
		{"rocky-linux", "9.6-1.2.el9", "9.6"},
		{"almalinux", "9.6-1.el9", "9.6"},
		{"oracle-linux", "9.6-1.0.1.el9", "9.6"},
		{"rhel", "1:9.4-0.5.el9", "9.4"},
		{"rhel", "9-0.5.el9", ""},
		{"centos-stream", "9.0-26.el9", ""}, // no point releases
		{"alpine-linux", "3.22.1-r0", "3.22.1"},
		{"alpine-linux", "3.22.1_rc1-r0", ""},
		{"fedora", "40-40", ""},
		{"plan9", "4", ""},
	} {
		t.Run(tc.distro+" "+tc.version, func(t *testing.T) {
			if got := pointRelease(tc.distro, tc.version); got != tc.want {
				t.Errorf("pointRelease(%q, %q) = %q, want %q", tc.distro, tc.version, got, tc.want)
			}
		})
	}
	for _, d := range []string{"debian", "ubuntu", "rhel", "rocky-linux", "almalinux", "alpine-linux"} {
		if len(ReleasePackages(d)) == 0 {
			t.Errorf("ReleasePackages(%q) is empty", d)
		}
	}
	if got := ReleasePackages("debian"); !reflect.DeepEqual(got, []string{"base-files"}) {
		t.Errorf("ReleasePackages(debian) = %q", got)
	}
	for name, want := range map[string]bool{"base-files": true, "redhat-release": true, "rocky-release": true, "alpine-base": true, "bash": false, "": false} {
		if got := IsReleasePackage(name); got != want {
			t.Errorf("IsReleasePackage(%q) = %v, want %v", name, got, want)
		}
	}
	if got := ReleasePackages("plan9"); got != nil {
		t.Errorf("ReleasePackages(plan9) = %q, want none", got)
	}
}

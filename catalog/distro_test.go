package catalog

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// distroCatalog has distributions with regular and extended support and
// upstream products, with fixed dates so the verdicts below never move.
const distroCatalog = `
format: eolwatch-catalog/v1
date: 2026-11-20
products:
  - id: debian
    label: Debian
    category: os
    cycles:
      - {name: "13", release: 2025-08-09, eol: 2028-08-09, eoes: 2030-06-30, latest: "13.2"}
      - {name: "12", release: 2023-06-10, eol: 2026-06-10, eoes: 2028-06-30, latest: "12.12"}
      - {name: "10", release: 2019-07-06, eol: 2022-09-10, eoes: 2024-06-30, latest: "10.13"}
  - id: ubuntu
    label: Ubuntu
    category: os
    cycles:
      - {name: "24.04", release: 2024-04-25, eoas: 2029-05-31, eol: 2029-05-31, eoes: 2036-05-31, latest: "24.04.3"}
      - {name: "20.04", release: 2020-04-23, eoas: 2025-05-29, eol: 2025-05-29, eoes: 2030-04-02, latest: "20.04.6"}
  - id: rhel
    label: RHEL
    category: os
    cycles:
      - {name: "9", release: 2022-05-17, eoas: 2027-05-31, eol: 2032-05-31, eoes: 2035-05-31, latest: "9.6"}
  - id: alpine-linux
    label: Alpine Linux
    category: os
    cycles:
      - {name: "3.22", release: 2025-05-30, eol: 2027-05-01, latest: "3.22.1"}
  - id: perl
    label: Perl
    date: 2026-10-01
    cycles:
      - {name: "5.40", release: 2024-06-09, eol: 2027-06-09, latest: "5.40.2"}
      - {name: "5.36", release: 2022-05-27, eol: 2025-05-27, latest: "5.36.3"}
  - id: lang
    label: Lang
    cycles:
      - {name: "2.4", release: 2022-01-01, eol: 2030-01-01, latest: "2.4.57"}
      - {name: "1.36", release: 2021-01-01, eol: 2030-01-01, latest: "1.36.1"}
`

func distroCat(t *testing.T) *Catalog {
	t.Helper()
	c, err := Parse("distro.yaml", []byte(distroCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEvaluateIn checks the distribution rule: support follows the
// distribution release (under the policy, with the host's enrolments),
// patch follows the candidate, and the upstream verdict stays as context.
// evalInCase is a row of the EvaluateIn tables (TestEvaluateIn,
// TestEvaluateInOwnRelease): the query and the verdict it must give. check
// checks what every table checks; a table checks the rest itself.
type evalInCase struct {
	name              string
	product, version  string
	ctx               Context
	asOf              string // default: the table's day
	pol               Policy
	support, phase    string
	patch, status     string
	eol               any
	latest, upgrade   string
	maintainer        string
	reason            []string
	warning           string // a warning that must be present
	noUpstreamContext bool
}

// check evaluates the case on asOf (or its own day), checks the verdict's
// support, phase, patch, status, latest, upgrade and maintainer, that its
// reason contains each reason part and reads as a sentence, and that it
// warns the warning; it returns the verdict and the day it was made on.
func (tt evalInCase) check(t *testing.T, cat *Catalog, asOf time.Time) (Verdict, time.Time) {
	t.Helper()
	when := asOf
	if tt.asOf != "" {
		when = day(tt.asOf)
	}
	v := cat.EvaluateIn(tt.product, tt.version, tt.ctx, when, tt.pol)
	got := []string{v.Support, v.Phase, v.Patch, v.Status, v.Latest, v.UpgradeTo, v.Maintainer}
	want := []string{tt.support, tt.phase, tt.patch, tt.status, tt.latest, tt.upgrade, tt.maintainer}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EvaluateIn = support/phase/patch/status/latest/upgrade/maintainer %q, want %q\nreason: %s", got, want, v.Reason)
	}
	for _, r := range tt.reason {
		if !strings.Contains(v.Reason, r) {
			t.Errorf("reason %q does not contain %q", v.Reason, r)
		}
	}
	checkSentence(t, v.Reason)
	if tt.warning != "" && !containsPart(v.Warnings, tt.warning) {
		t.Errorf("warnings %q lack %q", v.Warnings, tt.warning)
	}
	return v, when
}

func TestEvaluateIn(t *testing.T) {
	cat := distroCat(t)
	asOf := day("2026-12-01")
	deb12 := func(installed, candidate string, seenDaysAgo int) Context {
		ctx := Context{Distro: "debian", DistroRelease: "12", Installed: installed, Candidate: candidate}
		if seenDaysAgo >= 0 {
			ctx.CandidateSeen = asOf.AddDate(0, 0, -seenDaysAgo).Add(13 * time.Hour)
		}
		return ctx
	}
	tests := []evalInCase{
		{name: "perl 5.36 from Debian 12 in Debian LTS, installed is the candidate",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u2", 3),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u2", maintainer: "debian",
			reason: []string{"Perl 5.36 reached end of life upstream on 2025-05-27; Debian 12 maintains it until 2028-06-30 (Debian LTS) and 5.36.0-7+deb12u2 is the newest package available to the host."}},
		{name: "a newer candidate seen 10 days ago: available, due at the end of the grace period",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u3", 10),
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", upgrade: "5.36.0-7+deb12u3", maintainer: "debian",
			reason: []string{"; 5.36.0-7+deb12u3 is available, install it by 2026-12-21."}},
		{name: "a newer candidate seen 40 days ago: overdue",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u3", 40),
			support: SupportSupported, phase: PhaseExtended, patch: PatchOverdue, status: StatusPatchOverdue, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", upgrade: "5.36.0-7+deb12u3", maintainer: "debian",
			reason: []string{"; 5.36.0-7+deb12u3 has been available since 2026-10-22, more than 30 days ago: install it."}},
		{name: "grace days 60: 40 days is still only available",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u3", 40), pol: Policy{WarnDays: 90, GraceDays: 60},
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", upgrade: "5.36.0-7+deb12u3", maintainer: "debian", reason: []string{"install it by 2026-12-21"}},
		{name: "a newer candidate first seen at an unknown time: available, never overdue",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u3", -1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchAvailable, status: StatusPatchAvailable, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", upgrade: "5.36.0-7+deb12u3", maintainer: "debian", reason: []string{"; 5.36.0-7+deb12u3 is available, install it."}},
		{name: "no candidate: patch unknown and no patch status (no false alarm)",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "", -1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchUnknown, status: StatusCurrent, eol: "2028-06-30",
			maintainer: "debian", reason: []string{"whether a newer package is available is unknown (the host reported no candidate version)"}},
		{name: "the install is newer than the candidate: current, latest is the install",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u3", "5.36.0-7+deb12u2", 3),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", maintainer: "debian"},
		{name: "versions compare by the Debian scheme: an epoch wins",
			product: "lang", version: "2.0", ctx: deb12("1:2.0-1", "2.1-1", 40),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "1:2.0-1", maintainer: "debian"},
		{name: "upstream supported: the reason says so",
			product: "perl", version: "5.40.1", ctx: deb12("5.40.1-1", "5.40.1-1", 1),
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "5.40.1-1", maintainer: "debian", reason: []string{"Perl 5.40 is supported upstream until 2027-06-09; Debian 12 maintains it until 2028-06-30 (Debian LTS)"}},
		{name: "before the regular end of support: security phase, the LTS end named",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7", "5.36.0-7", 1), asOf: "2026-01-15",
			support: SupportSupported, phase: PhaseActive, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "5.36.0-7", maintainer: "debian", reason: []string{"Debian 12 maintains it until 2028-06-30 (through Debian LTS after 2026-06-10)"}},
		{name: "Debian 10 after LTS: eol, upgrade the host; upgrade_to stays the candidate",
			product: "perl", version: "5.28.1", ctx: Context{Distro: "debian", DistroRelease: "10", Installed: "5.28.1-6+deb10u1", Candidate: "5.28.1-6+deb10u2"},
			support: SupportEOL, phase: PhaseEOL, patch: PatchAvailable, status: StatusEOL, eol: "2024-06-30",
			latest: "5.28.1-6+deb10u2", upgrade: "5.28.1-6+deb10u2", maintainer: "debian",
			reason: []string{"Debian 10 stopped maintaining it on 2024-06-30; upgrade the host to Debian 12.12 or later; 5.28.1-6+deb10u2 is available"}},
		{name: "extended support none: Debian LTS does not count",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u2", 3), pol: Policy{ExtendedSupport: ExtendedNone},
			support: SupportEOL, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOL, eol: "2026-06-10",
			latest: "5.36.0-7+deb12u2", maintainer: "debian",
			reason: []string{"Debian 12 stopped maintaining it on 2026-06-10 (Debian LTS runs until 2028-06-30 but the support policy does not count it); upgrade the host to Debian 13.2 or later."}},
		{name: "Ubuntu 20.04 not enrolled in Ubuntu Pro: eol",
			product: "perl", version: "5.30.0", ctx: Context{Distro: "ubuntu", DistroRelease: "20.04", Installed: "5.30.0-9ubuntu0.5", Candidate: "5.30.0-9ubuntu0.5"},
			support: SupportEOL, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOL, eol: "2025-05-29", latest: "5.30.0-9ubuntu0.5", maintainer: "ubuntu",
			reason: []string{"Ubuntu 20.04 stopped maintaining it on 2025-05-29 (Ubuntu Pro (ESM) runs until 2030-04-02, for enrolled hosts only); upgrade the host to Ubuntu 24.04.3 or later."}},
		{name: "Ubuntu 20.04 enrolled in esm-infra: supported by ESM",
			product: "perl", version: "5.30.0", ctx: Context{Distro: "ubuntu", DistroRelease: "20.04", Installed: "5.30.0-9ubuntu0.5", Candidate: "5.30.0-9ubuntu0.5", Enrolled: []string{"ESM-Infra"}},
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2030-04-02", latest: "5.30.0-9ubuntu0.5", maintainer: "ubuntu",
			reason: []string{"Ubuntu 20.04 maintains it until 2030-04-02 (Ubuntu Pro (ESM))"}},
		{name: "extended support all: Ubuntu ESM counts without enrolment",
			product: "perl", version: "5.30.0", ctx: Context{Distro: "ubuntu", DistroRelease: "20.04", Installed: "5.30.0-9ubuntu0.5", Candidate: "5.30.0-9ubuntu0.5"}, pol: Policy{ExtendedSupport: ExtendedAll},
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2030-04-02", latest: "5.30.0-9ubuntu0.5", maintainer: "ubuntu"},
		{name: "per-product override: ubuntu all while the rest is none",
			product: "perl", version: "5.30.0", ctx: Context{Distro: "ubuntu", DistroRelease: "20.04", Installed: "5.30.0-9ubuntu0.5", Candidate: "5.30.0-9ubuntu0.5"},
			pol:     Policy{ExtendedSupport: ExtendedNone, ExtendedSupportFor: map[string]string{"ubuntu": ExtendedAll}},
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2030-04-02", latest: "5.30.0-9ubuntu0.5", maintainer: "ubuntu"},
		{name: "per-product override: debian none while the rest is free",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u2", 3), pol: Policy{ExtendedSupportFor: map[string]string{"debian": ExtendedNone}},
			support: SupportEOL, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOL, eol: "2026-06-10", latest: "5.36.0-7+deb12u2", maintainer: "debian"},
		{name: "the release's end within the warning window: eol-soon, plan the host upgrade",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u2", 3), asOf: "2028-05-01",
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusEOLSoon, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u2", maintainer: "debian",
			reason: []string{"Debian 12 maintains it until 2028-06-30 (Debian LTS), in 60 days: plan to upgrade the host to Debian 13.2 or later and 5.36.0-7+deb12u2 is the newest package available to the host."}},
		{name: "warn days 30: 60 days before the end is not eol-soon",
			product: "perl", version: "5.36.0", ctx: deb12("5.36.0-7+deb12u2", "5.36.0-7+deb12u2", 3), asOf: "2028-05-01", pol: Policy{WarnDays: 30, GraceDays: 30},
			support: SupportSupported, phase: PhaseExtended, patch: PatchCurrent, status: StatusCurrent, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u2", maintainer: "debian"},
		{name: "overdue within the warning window: patch-overdue, and a warning names the end",
			product: "perl", version: "5.36.0", ctx: Context{Distro: "debian", DistroRelease: "12", Installed: "5.36.0-7+deb12u2", Candidate: "5.36.0-7+deb12u3", CandidateSeen: day("2028-03-01")}, asOf: "2028-05-01",
			support: SupportSupported, phase: PhaseExtended, patch: PatchOverdue, status: StatusPatchOverdue, eol: "2028-06-30",
			latest: "5.36.0-7+deb12u3", upgrade: "5.36.0-7+deb12u3", maintainer: "debian",
			reason: []string{"in 60 days: plan to upgrade the host"}, warning: "Debian 12 stops maintaining it on 2028-06-30 (in 60 days)."},
		{name: "RPM versions: the release decides",
			product: "lang", version: "2.4.57", ctx: Context{Distro: "rhel", DistroRelease: "9.4", Installed: "2.4.57-5.el9", Candidate: "2.4.57-10.el9"},
			support: SupportSupported, phase: PhaseActive, patch: PatchAvailable, status: StatusPatchAvailable, eol: "2032-05-31",
			latest: "2.4.57-10.el9", upgrade: "2.4.57-10.el9", maintainer: "rhel"},
		{name: "apk versions: -r30 is newer than -r29",
			product: "lang", version: "1.36.1", ctx: Context{Distro: "alpine-linux", DistroRelease: "3.22", Installed: "1.36.1-r29", Candidate: "1.36.1-r30"},
			support: SupportSupported, phase: PhaseActive, patch: PatchAvailable, status: StatusPatchAvailable, eol: "2027-05-01",
			latest: "1.36.1-r30", upgrade: "1.36.1-r30", maintainer: "alpine-linux"},
		{name: "apk versions: an _rc candidate is older than the final",
			product: "lang", version: "1.36.1", ctx: Context{Distro: "alpine-linux", DistroRelease: "3.22", Installed: "1.36.1-r0", Candidate: "1.36.1_rc2-r0"},
			support: SupportSupported, phase: PhaseActive, patch: PatchCurrent, status: StatusCurrent, eol: "2027-05-01",
			latest: "1.36.1-r0", maintainer: "alpine-linux"},
		{name: "an unknown distribution: judged upstream, with a warning",
			product: "perl", version: "5.36.0", ctx: Context{Distro: "plan9", DistroRelease: "4", Installed: "5.36.0-1"},
			support: SupportEOL, phase: PhaseEOL, patch: PatchAvailable, status: StatusEOL, eol: "2025-05-27", maintainer: MaintainerUpstream,
			latest: "5.36.3", upgrade: "5.40.2", warning: `eolwatch has no end-of-life data for the distribution "plan9"`, noUpstreamContext: true},
		{name: "an unknown release: judged upstream, with a warning",
			product: "perl", version: "5.36.0", ctx: Context{Distro: "debian", DistroRelease: "99", Installed: "5.36.0-1"},
			support: SupportEOL, phase: PhaseEOL, patch: PatchAvailable, status: StatusEOL, eol: "2025-05-27", maintainer: MaintainerUpstream,
			latest: "5.36.3", upgrade: "5.40.2", warning: `Debian has no release "99" in the catalog`, noUpstreamContext: true},
		{name: "the distribution itself without a candidate: maintained by it, patch unknown (TestEvaluateInOwnRelease* has the rest)",
			product: "debian", version: "12.12", ctx: Context{Distro: "debian", DistroRelease: "12", Installed: "12.4+deb12u12"},
			support: SupportSupported, phase: PhaseExtended, patch: PatchUnknown, status: StatusCurrent, eol: "2028-06-30", maintainer: "debian",
			latest: "12.12", reason: []string{"Debian 12 is supported by Debian LTS until 2028-06-30 (regular support ended on 2026-06-10); its base-files 12.4+deb12u12 is Debian 12.12, and whether a newer point release is available to it is unknown (no candidate version was given)."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := tt.check(t, cat, asOf)
			if v.EOL != tt.eol {
				t.Errorf("eol = %#v, want %#v", v.EOL, tt.eol)
			}
			if tt.noUpstreamContext {
				if v.Upstream != nil || v.MaintainerRelease != "" {
					t.Errorf("upstream verdict: upstream = %+v, maintainer_release %q, want none", v.Upstream, v.MaintainerRelease)
				}
				return
			}
			if v.Upstream == nil || v.Upstream.Maintainer != MaintainerUpstream || v.Upstream.Product != tt.product || v.Upstream.Cycle != v.Cycle {
				t.Errorf("upstream context = %+v, want the upstream verdict of %s %s", v.Upstream, tt.product, tt.version)
			}
			if v.MaintainerRelease == "" || v.Installed != tt.ctx.Installed || v.Candidate != tt.ctx.Candidate || v.Version != tt.version {
				t.Errorf("maintainer_release %q installed %q candidate %q version %q", v.MaintainerRelease, v.Installed, v.Candidate, v.Version)
			}
		})
	}
}

func containsPart(ws []string, part string) bool {
	for _, w := range ws {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

// TestEvaluateInZeroContext checks that the zero Context answers exactly as Evaluate.
func TestEvaluateInZeroContext(t *testing.T) {
	for _, cat := range []*Catalog{distroCat(t), rulesCat(t)} {
		for _, p := range cat.Products() {
			for _, c := range p.Cycles {
				for _, d := range []string{"2020-01-01", "2025-01-01", "2026-12-01", "2031-01-01"} {
					a := cat.Evaluate(p.ID, c.Latest, day(d), Policy{})
					b := cat.EvaluateIn(p.ID, c.Latest, Context{}, day(d), Policy{})
					if a.Warnings == nil || a.Maintainer != MaintainerUpstream {
						t.Errorf("%s %s on %s: warnings %#v maintainer %q, want a non-nil list and upstream", p.ID, c.Latest, d, a.Warnings, a.Maintainer)
					}
					if !reflect.DeepEqual(a, b) {
						t.Errorf("%s %s on %s: Evaluate = %+v, EvaluateIn(zero Context) = %+v", p.ID, c.Latest, d, a, b)
					}
				}
			}
		}
	}
}

// TestEvaluateInCatalogDate checks that a distribution verdict carries the
// older of the two products' dates and its age warning.
func TestEvaluateInCatalogDate(t *testing.T) {
	cat := distroCat(t)
	ctx := Context{Distro: "debian", DistroRelease: "12", Installed: "5.36.0-7", Candidate: "5.36.0-7"}
	v := cat.EvaluateIn("perl", "5.36.0", ctx, day("2026-12-01"), Policy{})
	if v.CatalogDate != "2026-10-01" || !containsPart(v.Warnings, "catalog data is 61 days old") {
		t.Errorf("perl on Debian: catalog_date %q warnings %q, want perl's 2026-10-01 and its age", v.CatalogDate, v.Warnings)
	}
	if v.Upstream.CatalogDate != "2026-10-01" {
		t.Errorf("upstream catalog_date %q, want 2026-10-01", v.Upstream.CatalogDate)
	}
	v = cat.EvaluateIn("lang", "2.4.57", ctx, day("2026-12-01"), Policy{})
	if v.CatalogDate != "2026-11-20" || len(v.Warnings) != 0 {
		t.Errorf("lang on Debian: catalog_date %q warnings %q, want 2026-11-20 and none", v.CatalogDate, v.Warnings)
	}
}

// TestEvaluateInJSON checks the JSON of a distribution verdict: the
// upstream verdict nested, warnings a list, the package versions present.
func TestEvaluateInJSON(t *testing.T) {
	cat := distroCat(t)
	v := cat.EvaluateIn("lang", "2.4.57", Context{Distro: "debian", DistroRelease: "12", Installed: "2.4.57-2", Candidate: "2.4.57-2"}, day("2026-11-21"), Policy{})
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	up, _ := m["upstream"].(map[string]any)
	if m["maintainer"] != "debian" || m["maintainer_release"] != "12" || m["installed"] != "2.4.57-2" || m["candidate"] != "2.4.57-2" ||
		up == nil || up["support"] != "supported" || up["maintainer"] != "upstream" || up["upstream"] != nil {
		t.Errorf("JSON = %s", b)
	}
	if w, ok := m["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("warnings = %#v in %s, want []", m["warnings"], b)
	}
	if !strings.Contains(string(b), `"warnings":[]`) {
		t.Errorf("JSON %s lacks \"warnings\":[]", b)
	}
}

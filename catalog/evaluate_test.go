package catalog

import (
	"fmt"
	"strings"
	"testing"
)

// rulesCatalog is a small catalog exercising every rule of the verdict.
const rulesCatalog = `
format: eolwatch-catalog/v1
products:
  - id: lang
    label: Lang
    cycles:
      - name: "4.0"
        release: 2025-06-01
        eol: false
        latest: "4.0.0"
        latest_date: 2025-06-01
      - name: "3.2"
        release: 2024-01-01
        eoas: 2024-06-30
        eol: 2025-03-31
        latest: "3.2.5"
        latest_date: 2025-01-10
        releases:
          - {version: "3.2.5", date: 2025-01-10}
          - {version: "3.2.4", date: 2024-11-01}
          - {version: "3.2.3", date: 2024-09-01}
          - {version: "3.2.0", date: 2024-01-01}
      - name: "3.1"
        release: 2023-01-01
        eol: 2024-12-31
        eoes: 2026-12-31
        latest: "3.1.9"
        latest_date: 2024-12-01
      - name: "3.0"
        release: 2022-01-01
        eol: true
        latest: "3.0.7"
      - name: "2.0"
        release: 2020-01-01
        eol: false
        latest: "2.0.44"
`

func rulesCat(t *testing.T) *Catalog {
	t.Helper()
	c, err := Parse("rules.yaml", []byte(rulesCatalog))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEvaluateRules checks each rule of the design's verdict table.
func TestEvaluateRules(t *testing.T) {
	cat := rulesCat(t)
	tests := []struct {
		name, version, asOf                  string
		support, phase, patch, status, cycle string
		latest, upgrade, newest              string
		eol                                  any
		days                                 *int
		reason                               string
	}{
		{"on the eol day still supported", "3.1.9", "2024-12-31", SupportSupported, PhaseActive, PatchCurrent, StatusEOLSoon, "3.1", "3.1.9", "3.1.9", "3.2.4", "2024-12-31", ip(0), "reaches end of life on 2024-12-31 (in 0 days)"},
		{"the day after eol: eol, paid extended support shown", "3.1.9", "2025-01-01", SupportEOL, PhaseExtended, PatchCurrent, StatusEOL, "3.1", "3.1.9", "3.2.4", "3.2.4", "2024-12-31", ip(-1), "Lang 3.1 reached end of life on 2024-12-31 and is only covered by paid extended support until 2026-12-31; upgrade to 3.2.4 or later."},
		{"after extended support: plain eol", "3.1.9", "2027-01-01", SupportEOL, PhaseEOL, PatchCurrent, StatusEOL, "3.1", "3.1.9", "4.0.0", "4.0.0", "2024-12-31", ip(-731), "Lang 3.1 reached end of life on 2024-12-31; upgrade to 4.0.0 or later."},
		{"eol true: ended without a date", "3.0.7", "2025-01-01", SupportEOL, PhaseEOL, PatchCurrent, StatusEOL, "3.0", "3.0.7", "3.2.4", "3.2.4", true, nil, "Lang 3.0 has reached end of life; upgrade to 3.2.4 or later."},
		{"as of a date before any dated patch: the cycle name is the target", "3.0.7", "2023-01-01", SupportEOL, PhaseEOL, PatchCurrent, StatusEOL, "3.0", "3.0.7", "3.1", "3.1", true, nil, "; upgrade to 3.1 or later."},
		{"eol false: supported, no date", "2.0.44", "2030-01-01", SupportSupported, PhaseActive, PatchCurrent, StatusCurrent, "2.0", "2.0.44", "2.0.44", "4.0.0", false, nil, "Lang 2.0 is supported with no announced end-of-life date and 2.0.44 is its latest patch."},
		{"eoas passed: security phase", "3.2.5", "2024-09-01", SupportSupported, PhaseSecurity, PatchCurrent, StatusCurrent, "3.2", "3.2.3", "3.2.5", "3.2.3", "2025-03-31", ip(211), "receives security fixes only until 2025-03-31"},
		{"newer patch inside grace: available", "3.2.3", "2024-11-20", SupportSupported, PhaseSecurity, PatchAvailable, StatusPatchAvailable, "3.2", "3.2.4", "3.2.4", "3.2.4", "2025-03-31", ip(131), "3.2.4 is available, install it by 2024-12-01."},
		{"grace exceeded: overdue", "3.2.3", "2024-12-02", SupportSupported, PhaseSecurity, PatchOverdue, StatusPatchOverdue, "3.2", "3.2.4", "3.2.4", "3.2.4", "2025-03-31", ip(119), "is missing patches released since 2024-11-01, more than 30 days ago; upgrade to 3.2.4."},
		{"grace ends exactly on day 30", "3.2.3", "2024-12-01", SupportSupported, PhaseSecurity, PatchAvailable, StatusPatchAvailable, "3.2", "3.2.4", "3.2.4", "3.2.4", "2025-03-31", ip(120), ""},
		{"latest as of a past date ignores later releases", "3.2.4", "2024-12-15", SupportSupported, PhaseSecurity, PatchCurrent, StatusCurrent, "3.2", "3.2.4", "3.2.4", "3.2.4", "2025-03-31", ip(106), ""},
		{"warn window: eol-soon beats patch-available", "3.2.4", "2025-01-20", SupportSupported, PhaseSecurity, PatchAvailable, StatusEOLSoon, "3.2", "3.2.5", "3.2.5", "3.2.5", "2025-03-31", ip(70), "plan an upgrade to a newer supported Lang release when one is published, and install 3.2.5 meanwhile."},
		{"eol-soon names the next cycle that outlives this one", "3.1.9", "2024-12-01", SupportSupported, PhaseActive, PatchCurrent, StatusEOLSoon, "3.1", "3.1.9", "3.1.9", "3.2.4", "2024-12-31", ip(30), "Lang 3.1 reaches end of life on 2024-12-31 (in 30 days); plan an upgrade to 3.2.4 or later."},
		{"overdue beats eol-soon", "3.2.0", "2025-03-01", SupportSupported, PhaseSecurity, PatchOverdue, StatusPatchOverdue, "3.2", "3.2.5", "3.2.5", "3.2.5", "2025-03-31", ip(30), ""},
		{"eol upgrade: the next newer supported line, never the older one still supported", "3.2.5", "2025-07-01", SupportEOL, PhaseEOL, PatchCurrent, StatusEOL, "3.2", "3.2.5", "4.0.0", "4.0.0", "2025-03-31", ip(-92), "Lang 3.2 reached end of life on 2025-03-31; upgrade to 4.0.0 or later."},
		{"eol with only an older line supported: no upgrade_to, the reason says so", "3.2.5", "2025-05-01", SupportEOL, PhaseEOL, PatchCurrent, StatusEOL, "3.2", "3.2.5", "", "3.2.5", "2025-03-31", ip(-31), "Lang 3.2 reached end of life on 2025-03-31; no newer Lang release line is supported, only the older 2.0 (2.0.44) still is."},
		{"unknown version newer than every line: no upgrade_to (it would be a downgrade)", "5.1.0", "2025-01-01", SupportUnknownVersion, PhaseUnknown, PatchUnknown, StatusUnknownVersion, "", "", "", "3.2.4", nil, nil, "Lang has no release cycle that contains version 5.1.0"},
		{"unparsable version: the oldest supported line", "banana", "2025-01-01", SupportUnknownVersion, PhaseUnknown, PatchUnknown, StatusUnknownVersion, "", "", "2.0.44", "3.2.4", nil, nil, `Lang version "banana" could not be read`},
		{"component match: 3.2 never claims 3.20", "3.20.1", "2025-01-01", SupportUnknownVersion, PhaseUnknown, PatchUnknown, StatusUnknownVersion, "", "", "", "3.2.4", nil, nil, ""},
		{"unknown version between lines: the next newer supported line", "3.20.1", "2025-07-01", SupportUnknownVersion, PhaseUnknown, PatchUnknown, StatusUnknownVersion, "", "", "4.0.0", "4.0.0", nil, nil, ""},
		{"older than every line but the oldest is still supported: unknown-version", "1.4.2", "2025-01-01", SupportUnknownVersion, PhaseUnknown, PatchUnknown, StatusUnknownVersion, "", "", "2.0.44", "3.2.4", nil, nil, "Lang has no release cycle that contains version 1.4.2"},
		{"installed newer than any known patch", "3.2.9", "2025-01-01", SupportSupported, PhaseSecurity, PatchCurrent, StatusEOLSoon, "3.2", "3.2.4", "3.2.9", "3.2.4", "2025-03-31", ip(89), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := cat.Evaluate("lang", tt.version, day(tt.asOf), DefaultPolicy())
			got := []string{v.Support, v.Phase, v.Patch, v.Status, v.Cycle, v.Latest, v.UpgradeTo, v.Newest}
			want := []string{tt.support, tt.phase, tt.patch, tt.status, tt.cycle, tt.latest, tt.upgrade, tt.newest}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("Evaluate(lang, %q, %s) = support/phase/patch/status/cycle/latest/upgrade/newest %q, want %q", tt.version, tt.asOf, got, want)
					break
				}
			}
			if v.EOL != tt.eol {
				t.Errorf("eol = %#v, want %#v", v.EOL, tt.eol)
			}
			if (v.DaysToEOL == nil) != (tt.days == nil) || (v.DaysToEOL != nil && *v.DaysToEOL != *tt.days) {
				t.Errorf("days_to_eol = %v, want %v", deref(v.DaysToEOL), deref(tt.days))
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", v.Reason, tt.reason)
			}
			checkSentence(t, v.Reason)
			if v.Maintainer != MaintainerUpstream || v.Warnings == nil {
				t.Errorf("maintainer %q, warnings %#v: want upstream and a non-nil list", v.Maintainer, v.Warnings)
			}
		})
	}
}

// checkSentence fails when s is not one sentence ending with a full stop.
func checkSentence(t *testing.T, s string) {
	t.Helper()
	if strings.Count(s, ". ") > 0 || !strings.HasSuffix(s, ".") {
		t.Errorf("reason %q is not one sentence", s)
	}
}

func ip(i int) *int { return &i }

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestEvaluatePolicy checks custom warning windows and grace periods.
func TestEvaluatePolicy(t *testing.T) {
	cat := rulesCat(t)
	v := cat.Evaluate("lang", "3.2.3", day("2024-11-20"), Policy{WarnDays: 200, GraceDays: 10})
	if v.Status != StatusPatchOverdue || v.Patch != PatchOverdue {
		t.Errorf("grace 10: status %s patch %s, want patch-overdue", v.Status, v.Patch)
	}
	v = cat.Evaluate("lang", "3.2.5", day("2024-11-20"), Policy{WarnDays: 200, GraceDays: 10})
	if v.Status != StatusEOLSoon {
		t.Errorf("warn 200: status %s, want eol-soon", v.Status)
	}
	v = cat.Evaluate("lang", "3.2.5", day("2025-03-01"), Policy{})
	if v.Status != StatusEOLSoon {
		t.Errorf("zero Policy must mean the default: status %s, want eol-soon", v.Status)
	}
}

// TestEvaluateUnknownProduct checks the unknown-product verdict.
func TestEvaluateUnknownProduct(t *testing.T) {
	cat := rulesCat(t)
	v := cat.Evaluate("no-such-thing", "1.0", day("2025-01-01"), Policy{})
	if v.Support != SupportUnknownProduct || v.Status != StatusUnknownProduct || v.Phase != PhaseUnknown || v.Patch != PatchUnknown || v.EOL != nil || v.Version != "1.0" {
		t.Errorf("Evaluate(unknown product) = %+v", v)
	}
}

// TestEvaluateDefault checks well-known verdicts on the embedded catalog,
// including the acceptance example and the matching rules of the design.
func TestEvaluateDefault(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		product, version, asOf string
		cycle, support, status string
		upgrade                string
	}{
		{"python", "3.8.10", "2025-01-12", "3.8", SupportEOL, StatusEOL, "3.9.21"},
		{"python", "3.10.12", "2024-01-01", "3.10", SupportSupported, StatusPatchOverdue, "3.10.13"},
		{"python", "3.1.4", "2024-01-01", "3.1", SupportEOL, StatusEOL, ""},
		{"openssl", "1.1.1w", "2023-09-12", "1.1.1", SupportEOL, StatusEOL, ""},
		{"openssl", "3.0.13", "2024-03-01", "3.0", SupportSupported, StatusCurrent, "3.0.13"},
		{"eclipse-temurin", "8u392-b08", "2024-01-12", "8", SupportSupported, StatusCurrent, "8u392-b08"},
		{"eclipse-temurin", "17.0.9+9.1", "2024-01-12", "17", SupportSupported, StatusCurrent, "17.0.9+9.1"},
		{"eclipse-temurin", "17.0.9+9", "2024-01-12", "17", SupportSupported, StatusPatchOverdue, "17.0.9+9.1"},
		{"eclipse-temurin", "jdk-21.0.1+12", "2024-01-12", "21", SupportSupported, StatusCurrent, "21.0.1+12"},
		{"ubuntu", "22.04.3 LTS", "2024-01-12", "22.04", SupportSupported, "", ""},
		{"windows", "10.0.19045.3693", "2024-01-12", "10-22h2", SupportSupported, StatusCurrent, ""},
		{"windows", "10.0.22631.2861 Enterprise", "2024-01-12", "11-23h2-e", SupportSupported, StatusCurrent, ""},
		{"windows", "10.0.17763.5329 LTSC", "2024-01-12", "10-1809-e-lts", SupportSupported, StatusCurrent, ""},
		{"windows-server", "10.0.17763.5329", "2024-01-12", "2019", SupportSupported, StatusCurrent, ""},
		{"windows-server", "6.3.9600.21620", "2024-01-12", "2012-r2", SupportEOL, StatusEOL, ""},
		{"nodejs", "nodejs-18.19.0", "2024-01-12", "", SupportUnknownVersion, StatusUnknownVersion, ""},
		{"nodejs", "v18.19.0", "2024-01-12", "18", SupportSupported, "", ""},
		{"mssqlserver", "13.0.6300.2", "2024-01-12", "13.0-sp3", "", "", ""},
		{"msexchange", "15.2.1258.28", "2024-01-12", "2019", "", "", ""},
		{"cos", "cos-105-17412-535-98", "2024-01-12", "cos-105", "", "", ""},
		{"esxi", "8.0 Update 2b", "2024-01-12", "8.0", SupportSupported, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.product+" "+tt.version+" "+tt.asOf, func(t *testing.T) {
			v := cat.Evaluate(tt.product, tt.version, day(tt.asOf), Policy{})
			if v.Cycle != tt.cycle {
				t.Errorf("Evaluate(%s, %q, %s).Cycle = %q, want %q (reason: %s)", tt.product, tt.version, tt.asOf, v.Cycle, tt.cycle, v.Reason)
			}
			if tt.support != "" && v.Support != tt.support {
				t.Errorf("Evaluate(%s, %q, %s).Support = %q, want %q", tt.product, tt.version, tt.asOf, v.Support, tt.support)
			}
			if tt.status != "" && v.Status != tt.status {
				t.Errorf("Evaluate(%s, %q, %s).Status = %q, want %q (reason: %s)", tt.product, tt.version, tt.asOf, v.Status, tt.status, v.Reason)
			}
			if tt.upgrade != "" && v.UpgradeTo != tt.upgrade {
				t.Errorf("Evaluate(%s, %q, %s).UpgradeTo = %q, want %q", tt.product, tt.version, tt.asOf, v.UpgradeTo, tt.upgrade)
			}
		})
	}
	v := cat.Evaluate("python", "3.8.10", day("2025-01-12"), Policy{})
	if want := "Python 3.8 reached end of life on 2024-10-07; upgrade to 3.9.21 or later."; v.Reason != want {
		t.Errorf("python 3.8.10 reason = %q, want %q", v.Reason, want)
	}
}

// TestEOLWords: the words tables use for an end-of-phase value.
func TestEOLWords(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{{nil, "-"}, {true, "ended"}, {false, "no date"}, {"2026-10-31", "2026-10-31"}, {3, "3"}} {
		t.Run(fmt.Sprint(tc.v), func(t *testing.T) {
			if got := EOLWords(tc.v); got != tc.want {
				t.Errorf("EOLWords(%#v) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

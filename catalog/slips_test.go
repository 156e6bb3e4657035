package catalog

import (
	"strings"
	"testing"
)

// TestIssue10Slips checks, on the embedded catalog, each verdict slip seen
// on a real Debian 12 host on 2026-12-01 (issue 10).
func TestIssue10Slips(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	const asOf = "2026-12-01"
	tests := []struct {
		name, product, version string
		status, cycle, upgrade string // upgrade "-" = must be empty
		reason                 []string
		notReason              []string
	}{
		{name: "sqlite 3.40.1: no missing-patches date taken from the latest patch of a cycle without a dated list",
			product: "sqlite", version: "3.40.1", status: StatusPatchOverdue, cycle: "3", upgrade: "3.53.4",
			reason:    []string{"3.40.1 is behind 3.53.4, released on 2026-07-24"},
			notReason: []string{"missing patches released since 2026-07-24"}},
		{name: "python 3.11.2: the date of the first newer release when the cycle has a dated list",
			product: "python", version: "3.11.2", status: StatusPatchOverdue, cycle: "3.11", upgrade: "3.11.16",
			reason: []string{"missing patches released since 2023-04-04"}},
		{name: "redis 7.0: upgrade to 7.2, not down to 6.2",
			product: "redis", version: "7.0.15", status: StatusEOL, cycle: "7.0", upgrade: "7.2.16",
			reason: []string{"Redis 7.0 reached end of life on 2024-07-29; upgrade to 7.2.16 or later."}},
		{name: "varnish 7.1: upgrade to 9.0, not down to 6.0 LTS",
			product: "varnish", version: "7.1.1", status: StatusEOL, cycle: "7.1", upgrade: "9.0.1"},
		{name: "composer 2.5: upgrade to 2.10, not down to 2.2 LTS",
			product: "composer", version: "2.5.5", status: StatusEOL, cycle: "2.5", upgrade: "2.10.2"},
		{name: "zabbix 6.0.14: patch-overdue and the coming end of 6.0 in the reason",
			product: "zabbix", version: "6.0.14", status: StatusPatchOverdue, cycle: "6.0", upgrade: "6.0.48",
			reason: []string{"Zabbix 6.0 is supported until 2027-02-28 (in 89 days; plan an upgrade to 7.0.29 or later), but 6.0.14 is behind 6.0.48"}},
		{name: "clickhouse 18.16.1 is older than every cycle, the oldest of which ended: eol",
			product: "clickhouse", version: "18.16.1", status: StatusEOL, cycle: "",
			reason: []string{"ClickHouse 18.16.1 is older than every ClickHouse release line the catalog lists"}},
		{name: "packer 1.6.6 is older than every cycle, the oldest of which ended: eol",
			product: "packer", version: "1.6.6", status: StatusEOL, cycle: "", upgrade: "1.14.3",
			reason: []string{"; upgrade to 1.14.3 or later."}},
		{name: "libreoffice 7.4 on an old snapshot: no claim that no release is supported",
			product: "libreoffice", version: "7.4.7.2", status: StatusEOL, cycle: "7.4", upgrade: "-",
			reason:    []string{"no LibreOffice release line in the catalog data is supported on 2026-12-01, but that data is 101 days old", "newer than 26.2.5"},
			notReason: []string{"no supported LibreOffice release is available"}},
		{name: "django 5.0rc1 belongs to 5.0",
			product: "django", version: "5.0rc1", cycle: "5.0"},
		{name: "go go1.21.0 belongs to 1.21",
			product: "go", version: "go1.21.0", cycle: "1.21", status: StatusEOL},
		{name: "go 1.21rc2 belongs to 1.21",
			product: "go", version: "1.21rc2", cycle: "1.21", status: StatusEOL},
		{name: "go go1.26.7 is current",
			product: "go", version: "go1.26.7", cycle: "1.26", status: StatusCurrent},
		{name: "a repacked 1.14.0.dfsg is 1.14.0",
			product: "go", version: "1.26.7.dfsg", cycle: "1.26", status: StatusCurrent},
		{name: "a ~rc pre-release is not the final: 1.26.8~rc1 is older than 1.26.7's successor",
			product: "go", version: "1.26.8~rc1", cycle: "1.26", status: StatusCurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := cat.Evaluate(tt.product, tt.version, day(asOf), Policy{})
			if tt.status != "" && v.Status != tt.status {
				t.Errorf("Evaluate(%s, %q).Status = %q, want %q (reason: %s)", tt.product, tt.version, v.Status, tt.status, v.Reason)
			}
			if v.Cycle != tt.cycle {
				t.Errorf("Evaluate(%s, %q).Cycle = %q, want %q (reason: %s)", tt.product, tt.version, v.Cycle, tt.cycle, v.Reason)
			}
			switch {
			case tt.upgrade == "-" && v.UpgradeTo != "":
				t.Errorf("Evaluate(%s, %q).UpgradeTo = %q, want none", tt.product, tt.version, v.UpgradeTo)
			case tt.upgrade != "" && tt.upgrade != "-" && v.UpgradeTo != tt.upgrade:
				t.Errorf("Evaluate(%s, %q).UpgradeTo = %q, want %q", tt.product, tt.version, v.UpgradeTo, tt.upgrade)
			}
			for _, r := range tt.reason {
				if !strings.Contains(v.Reason, r) {
					t.Errorf("reason %q does not contain %q", v.Reason, r)
				}
			}
			for _, r := range tt.notReason {
				if strings.Contains(v.Reason, r) {
					t.Errorf("reason %q contains %q", v.Reason, r)
				}
			}
			checkSentence(t, v.Reason)
		})
	}
}

// TestUpgradeNeverBelowInstall checks, for every cycle of every product on
// several days, that upgrade_to is never older than the installed version.
func TestUpgradeNeverBelowInstall(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// dce spells 3.0 and 4.0 versions as dated builds (2022.12.15.4.0.11)
	// and 5.0 ones as 5.0-20260131: by its numbers 5.0 is "older", by its
	// name (which the rule follows) it is the newer line
	exceptions := map[string]bool{"dce": true}
	n := 0
	for _, p := range cat.Products() {
		if exceptions[p.ID] {
			continue
		}
		for _, c := range p.Cycles {
			if c.Latest == "" {
				continue
			}
			for _, d := range []string{"2022-01-01", "2024-06-01", "2026-12-01"} {
				pv := cat.ParseVersion(p.ID, c.Latest)
				v := cat.EvaluateParsed(pv, day(d), Policy{})
				if v.UpgradeTo == "" || !pv.Version.Valid() {
					continue
				}
				n++
				up := cat.ParseVersion(p.ID, v.UpgradeTo)
				if up.Version.Valid() && Compare(up.Version, pv.Version) < 0 && up.Cycle() != pv.Cycle() {
					t.Errorf("Evaluate(%s, %q, %s).UpgradeTo = %q, older than the install (reason: %s)", p.ID, c.Latest, d, v.UpgradeTo, v.Reason)
				}
			}
		}
	}
	if n < 5000 {
		t.Errorf("only %d verdicts with an upgrade_to checked", n)
	}
}

// TestSemverPrecedence checks the precedence chain of semver.org §11 in the
// automatic scheme and the semver scheme, every pair both ways round:
// 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta <
// 1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0.
func TestSemverPrecedence(t *testing.T) {
	chain := []string{"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"}
	for _, s := range []Scheme{SchemeAuto, SchemeSemver, SchemeDotted} {
		for i := range chain {
			for j := range chain {
				want := 0
				switch {
				case i < j:
					want = -1
				case i > j:
					want = 1
				}
				a, b := ParseVersion(s, chain[i]), ParseVersion(s, chain[j])
				if got := Compare(a, b); got != want {
					t.Errorf("Compare[%s](%q, %q) = %d, want %d", s, chain[i], chain[j], got, want)
				}
			}
		}
	}
	// the other §11 rules: numbers compare numerically, then the version core wins
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1.0.0", "2.0.0", -1}, {"2.0.0", "2.1.0", -1}, {"2.1.0", "2.1.1", -1}, {"1.0.0-rc.1", "1.0.1-alpha", -1},
		{"3.12.0rc1", "3.12.0rc2", -1}, {"3.12.0rc1", "3.12.0", -1}, {"3.12.0rc1", "3.12.0-rc.1", 0},
	} {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := Compare(ParseVersion(SchemeAuto, tt.a), ParseVersion(SchemeAuto, tt.b)); got != tt.want {
				t.Errorf("Compare[auto](%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

// TestRepackAndTildeVersions checks Debian spellings that reach the
// catalog: repack markers are not part of the version, and "~rc" is a
// pre-release in every scheme that accepts it.
func TestRepackAndTildeVersions(t *testing.T) {
	for _, tt := range []struct {
		scheme Scheme
		a, b   string
		want   int
	}{
		{SchemeAuto, "1.14.0.dfsg", "1.14.0", 0},
		{SchemeAuto, "1.14.0+dfsg", "1.14.0", 0},
		{SchemeAuto, "1.14.0+ds1", "1.14.0", 0},
		{SchemeAuto, "1.14.0.dfsg", "1.14.1", -1},
		{SchemeSemver, "1.14.0.dfsg", "1.14.0", 0},
		{SchemeSemver, "1.14.0+ds", "1.14.0", 0},
		{SchemeAuto, "1.6.7~rc0", "1.6.7", -1},
		{SchemeAuto, "1.6.7~rc0", "1.6.6", 1},
		{SchemeSemver, "1.6.7~rc0", "1.6.7", -1},
		{SchemeSemver, "1.6.7~rc0", "1.6.6", 1},
		{SchemeSemver, "1.6.7-rc0", "1.6.7~rc0", 0},
		{SchemeSemver, "5.0rc1", "5.0.0", -1},
		{SchemeSemver, "5.0rc1", "5.0b1", 1},
		{SchemeSemver, "1.21rc2", "1.21rc10", -1},
	} {
		t.Run(string(tt.scheme)+" "+tt.a+" vs "+tt.b, func(t *testing.T) {
			a, b := ParseVersion(tt.scheme, tt.a), ParseVersion(tt.scheme, tt.b)
			if a.Err != nil || b.Err != nil {
				t.Fatalf("ParseVersion: %v / %v", a.Err, b.Err)
			}
			if got := Compare(a, b); got != tt.want {
				t.Errorf("Compare[%s](%q, %q) = %d, want %d", tt.scheme, tt.a, tt.b, got, tt.want)
			}
			if got := Compare(b, a); got != -tt.want {
				t.Errorf("Compare[%s](%q, %q) = %d, want %d (swapped)", tt.scheme, tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

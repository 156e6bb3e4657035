package catalog

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// TestCompareSchemes checks the ordering of every scheme, both ways round.
func TestCompareSchemes(t *testing.T) {
	tests := []struct {
		scheme Scheme
		a, b   string
		want   int
	}{
		// semver via Masterminds/semver/v3
		{SchemeSemver, "1.2.3", "1.2.4", -1},
		{SchemeSemver, "1.10.0", "1.9.9", 1},
		{SchemeSemver, "v3.12", "3.12.0", 0},
		{SchemeSemver, "1.0.0-rc.1", "1.0.0", -1},
		{SchemeSemver, "1.0.0-alpha", "1.0.0-beta", -1},
		{SchemeSemver, "22.11.0", "22.9.0", 1},
		// dotted, 2 and 4 parts, letter suffixes
		{SchemeDotted, "3.12", "3.12.0", 0},
		{SchemeDotted, "3.10.12", "3.9.18", 1},
		{SchemeDotted, "10.0.19045.3693", "10.0.19045.4046", -1},
		{SchemeDotted, "10.0.22631.2861", "10.0.19045.9999", 1},
		{SchemeDotted, "1.1.1w", "1.1.1v", 1},
		{SchemeDotted, "1.1.1", "1.1.1a", -1},
		{SchemeDotted, "1.1.1w", "1.1.2", -1},
		{SchemeDotted, "0.9.8za", "0.9.8z", 1},
		{SchemeDotted, "2.0.0p648", "2.0.0p647", 1},
		{SchemeDotted, "2.0.0p648", "2.0.1", -1},
		{SchemeDotted, "3.12.0rc1", "3.12.0", -1},
		{SchemeDotted, "3.12.0a7", "3.12.0b1", -1},
		{SchemeDotted, "3.12.0b4", "3.12.0rc1", -1},
		{SchemeDotted, "22.04.3 LTS", "22.04.3", 0},
		{SchemeDotted, "22.04.3 LTS", "22.04.10", -1},
		{SchemeDotted, "8.0 Update 3k", "8.0 Update 3j", 1},
		{SchemeDotted, "8.0 U3k", "8.0 Update 3k", 0},
		{SchemeDotted, "8.0 Update 2", "8.0 Update 10", -1},
		{SchemeDotted, "8.0 Update 3", "8.0", 1},
		{SchemeDotted, "2021.3.45f2", "2021.3.45f1", 1},
		// calendar versions and service updates
		{SchemeCalver, "2024.1", "2023.4", 1},
		{SchemeCalver, "2022 SU3", "2022 SU2", 1},
		{SchemeCalver, "2022 SU10", "2022 SU9", 1},
		{SchemeCalver, "2022 SU1", "2022", 1},
		{SchemeCalver, "2022 SU3", "2023", -1},
		{SchemeCalver, "2022.3.1", "2022.3", 1},
		{SchemeCalver, "2402 CU4 Update 1", "2402 CU4", 1},
		{SchemeCalver, "2402 CU4", "2402 CU3 Update 2", 1},
		// Java
		{SchemeJava, "8u392-b08", "8u391-b13", 1},
		{SchemeJava, "8u392-b08", "8u392-b07", 1},
		{SchemeJava, "8u392", "1.8.0_392-b08", -1},
		{SchemeJava, "1.8.0_392-b08", "8u392-b08", 0},
		{SchemeJava, "17.0.9+9", "17.0.9+10", -1},
		{SchemeJava, "17.0.9", "17.0.9+9", -1},
		{SchemeJava, "17.0.10+7", "17.0.9+9", 1},
		{SchemeJava, "jdk-21.0.1", "21.0.1", 0},
		{SchemeJava, "21.0.12.1+1", "21.0.12+8", 1},
		{SchemeJava, "21.0.12.1+1", "21.0.13+1", -1},
		{SchemeJava, "1.8.0.472.b08-1", "1.8.0.462.b08-1", 1},
		{SchemeJava, "11.0.21+9", "8u392-b08", 1},
		// Debian
		{SchemeDebian, "1:2.39.5-0+deb12u3", "1:2.39.5-0+deb12u2", 1},
		{SchemeDebian, "1:1.0", "2.0", 1},
		{SchemeDebian, "2.4.58-1", "2.4.58", 1},
		{SchemeDebian, "1.0~rc1-1", "1.0-1", -1},
		{SchemeDebian, "1.0~~", "1.0~", -1},
		{SchemeDebian, "1.0~", "1.0", -1},
		{SchemeDebian, "1.0a", "1.0", 1},
		{SchemeDebian, "1.0+b1", "1.0", 1},
		{SchemeDebian, "3.10.6-1~22.04.2", "3.10.6-1", -1},
		{SchemeDebian, "7.88.1-10+deb12u8", "7.88.1-10+deb12u12", -1},
		{SchemeDebian, "1.2.3-1", "1.2.3-1", 0},
		// RPM (rpmvercmp)
		{SchemeRPM, "2.4.57-5.el9", "2.4.57-8.el9", -1},
		{SchemeRPM, "1:2.4.57-5.el9", "2.4.58-1.el9", 1},
		{SchemeRPM, "1.0~rc1", "1.0", -1},
		{SchemeRPM, "1.0^git1", "1.0", 1},
		{SchemeRPM, "1.0^git1", "1.0.1", -1},
		{SchemeRPM, "1.0a", "1.0", 1},
		{SchemeRPM, "1.0.1", "1.0a", 1},
		{SchemeRPM, "1.010", "1.9", 1},
		{SchemeRPM, "5.14.0-362.8.1.el9_3", "5.14.0-362.13.1.el9_3", -1},
		// apk (Alpine, apk-tools rules)
		{SchemeAPK, "1.36.1-r29", "1.36.1-r30", -1},
		{SchemeAPK, "1.36.1-r30", "1.36.2-r0", -1},
		{SchemeAPK, "1.36.1", "1.36.1-r0", -1},
		{SchemeAPK, "1.0_rc1", "1.0", -1},
		{SchemeAPK, "1.0_alpha", "1.0_beta", -1},
		{SchemeAPK, "1.0_beta2", "1.0_pre1", -1},
		{SchemeAPK, "1.0_pre1", "1.0_rc1", -1},
		{SchemeAPK, "1.0_rc1", "1.0_rc2", -1},
		{SchemeAPK, "1.0_rc2-r5", "1.0-r0", -1},
		{SchemeAPK, "1.0", "1.0_p1", -1},
		{SchemeAPK, "1.0_p1", "1.0_p2", -1},
		{SchemeAPK, "1.0-r9", "1.0_p1", -1},
		{SchemeAPK, "1.0_p9", "1.0a", -1},
		{SchemeAPK, "1.0a", "1.0b", -1},
		{SchemeAPK, "1.0z", "1.0.1", -1},
		{SchemeAPK, "1.0_git20240101", "1.0_p1", -1},
		{SchemeAPK, "1.01", "1.1", -1},
		{SchemeAPK, "1.10", "1.9", 1},
		{SchemeAPK, "3.0.15-r0", "3.0.15~1a2b3c-r0", 0},
		{SchemeAPK, "2.4.0_rc2-r1", "2.4.0-r0", -1},
		// Windows builds
		{SchemeWindows, "10.0.26100.2314", "10.0.26100.1742", 1},
		{SchemeWindows, "10.0.22631.4460", "10.0.26100.1", -1},
		// automatic: Java recognised by shape, the rest as dotted
		{SchemeAuto, "8u392-b08", "8u382-b05", 1},
		{SchemeAuto, "3.10.12", "3.9.18", 1},
		{SchemeAuto, "1.1.1w", "1.1.1t", 1},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme)+" "+tt.a+" vs "+tt.b, func(t *testing.T) {
			a, b := ParseVersion(tt.scheme, tt.a), ParseVersion(tt.scheme, tt.b)
			if a.Err != nil || b.Err != nil {
				t.Fatalf("ParseVersion(%s, %q / %q): errors %v / %v", tt.scheme, tt.a, tt.b, a.Err, b.Err)
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

// TestComponents checks the numeric components used for cycle matching.
func TestComponents(t *testing.T) {
	tests := []struct {
		scheme Scheme
		raw    string
		want   []uint64
	}{
		{SchemeAuto, "3.10.12", []uint64{3, 10, 12}},
		{SchemeAuto, "1.1.1w", []uint64{1, 1, 1}},
		{SchemeAuto, "22.04.3 LTS", []uint64{22, 4, 3}},
		{SchemeAuto, "v1.2", []uint64{1, 2}},
		{SchemeAuto, "2022 SU3", []uint64{2022}},
		{SchemeJava, "8u392-b08", []uint64{8, 0, 392}},
		{SchemeJava, "1.8.0_392", []uint64{8, 0, 392}},
		{SchemeJava, "17.0.9+9", []uint64{17, 0, 9}},
		{SchemeJava, "jdk-21.0.1", []uint64{21, 0, 1}},
		{SchemeJava, "21.0.12.1+1", []uint64{21, 0, 12, 1}},
		{SchemeDebian, "1:2.39.5-0+deb12u3", []uint64{2, 39, 5}},
		{SchemeAPK, "1.36.1_rc2-r29", []uint64{1, 36, 1}},
		{SchemeRPM, "1:2.4.57-5.el9", []uint64{2, 4, 57}},
		{SchemeWindows, "10.0.26100.2314", []uint64{10, 0, 26100, 2314}},
		{SchemeSemver, "3.12", []uint64{3, 12, 0}},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme)+" "+tt.raw, func(t *testing.T) {
			v := ParseVersion(tt.scheme, tt.raw)
			if v.Err != nil {
				t.Fatalf("ParseVersion(%s, %q): %v", tt.scheme, tt.raw, v.Err)
			}
			if !slices.Equal(v.Components(), tt.want) {
				t.Errorf("ParseVersion(%s, %q).Components() = %v, want %v", tt.scheme, tt.raw, v.Components(), tt.want)
			}
			if v.Raw != tt.raw {
				t.Errorf("ParseVersion(%s, %q).Raw = %q, want the raw string kept", tt.scheme, tt.raw, v.Raw)
			}
		})
	}
}

// TestParseVersionErrors checks that unparsable versions keep Raw and say why.
func TestParseVersionErrors(t *testing.T) {
	tests := []struct {
		scheme Scheme
		raw    string
	}{
		{SchemeAuto, ""},
		{SchemeAuto, "   "},
		{SchemeAuto, "N/A"},
		{SchemeAuto, "unknown"},
		{SchemeSemver, "1.1.1w"},
		{SchemeSemver, "10.0.19045.3693"},
		{SchemeJava, "latest"},
		{SchemeDebian, "1:"},
		{SchemeDebian, "a:1.0"},
		{SchemeDebian, "1.0 beta"},
		{SchemeRPM, "x1.0"},
		{SchemeAPK, "x1.0"},
		{SchemeAPK, "1.0_foo1"},
		{SchemeAPK, "1.0-rx"},
		{SchemeAPK, "1.0-r"},
		{SchemeAPK, "1.0~"},
		{SchemeAPK, "1.0 r1"},
		{SchemeAPK, "1:1.0"},
		{SchemeDotted, "1.2.3$"},
		{SchemeDotted, "99999999999999999999999.1"},
		{Scheme("bogus"), "1.0"},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme)+" "+tt.raw, func(t *testing.T) {
			v := ParseVersion(tt.scheme, tt.raw)
			if v.Err == nil {
				t.Errorf("ParseVersion(%s, %q) = ok, want an error", tt.scheme, tt.raw)
			}
			if v.Raw != tt.raw {
				t.Errorf("ParseVersion(%s, %q).Raw = %q, want it kept", tt.scheme, tt.raw, v.Raw)
			}
		})
	}
}

// samples generates versions of one scheme for the order properties.
func samples(r *rand.Rand, s Scheme, n int) []Version {
	pre := []string{"", "", "", "rc1", "a2", "b1", "-beta.2", "-rc.3"}
	suf := []string{"", "", "", "a", "w", "z", "za", "p12", " Update 3", " SU2", " LTS", "+9", "-b08", "-1", "~rc1"}
	out := make([]Version, 0, n)
	for len(out) < n {
		var raw string
		parts := 1 + r.Intn(4)
		for i := 0; i < parts; i++ {
			if i > 0 {
				raw += "."
			}
			raw += fmt.Sprint(r.Intn(4))
		}
		switch s {
		case SchemeJava:
			if r.Intn(2) == 0 {
				raw = fmt.Sprintf("%du%d-b%02d", 7+r.Intn(2), r.Intn(4), r.Intn(3))
			} else {
				raw += fmt.Sprintf("+%d", r.Intn(3))
			}
		case SchemeDebian, SchemeRPM:
			if r.Intn(2) == 0 {
				raw = fmt.Sprintf("%d:%s", r.Intn(2), raw)
			}
			raw += []string{"", "~rc1", "a", "+deb12u1", "-1", "-2", "-1~bpo1", "^git1", ".el9"}[r.Intn(9)]
			if s == SchemeDebian && len(raw) > 0 && raw[len(raw)-1] == '1' && r.Intn(3) == 0 {
				raw += "-0+deb12u" + fmt.Sprint(r.Intn(3))
			}
		case SchemeSemver:
			raw = fmt.Sprintf("%d.%d.%d%s", r.Intn(3), r.Intn(3), r.Intn(3), []string{"", "", "-rc.1", "-alpha", "-alpha.2", "-beta"}[r.Intn(6)])
		case SchemeAPK:
			raw += []string{"", "", "a", "z", "_rc1", "_alpha", "_p2", "_git2024", "_beta3_p1", ".01"}[r.Intn(10)] +
				[]string{"", "-r0", "-r1", "-r12", "~ab12"}[r.Intn(5)]
		default:
			raw += pre[r.Intn(len(pre))] + suf[r.Intn(len(suf))]
		}
		v := ParseVersion(s, raw)
		if v.Err == nil {
			out = append(out, v)
		}
	}
	return out
}

// TestCompareProperties checks, on generated samples of every scheme, that
// Compare is reflexive, antisymmetric and transitive (so sorting is sound).
func TestCompareProperties(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, s := range []Scheme{SchemeAuto, SchemeDotted, SchemeCalver, SchemeSemver, SchemeJava, SchemeDebian, SchemeRPM, SchemeAPK, SchemeWindows} {
		vs := samples(r, s, 60)
		for _, a := range vs {
			if c := Compare(a, a); c != 0 {
				t.Errorf("Compare[%s](%q, %q) = %d, want 0", s, a.Raw, a.Raw, c)
			}
			for _, b := range vs {
				ab, ba := Compare(a, b), Compare(b, a)
				if ab != -ba {
					t.Errorf("Compare[%s](%q, %q) = %d but swapped = %d", s, a.Raw, b.Raw, ab, ba)
				}
				if ab > 0 {
					for _, c := range vs {
						if Compare(b, c) > 0 && Compare(a, c) <= 0 {
							t.Errorf("Compare[%s]: %q > %q > %q but %q <= %q", s, a.Raw, b.Raw, c.Raw, a.Raw, c.Raw)
						}
					}
				}
				if ab == 0 {
					for _, c := range vs {
						if Compare(a, c) != Compare(b, c) {
							t.Errorf("Compare[%s]: %q == %q but they order differently against %q", s, a.Raw, b.Raw, c.Raw)
						}
					}
				}
			}
		}
		// sorting must agree with pairwise comparison
		sorted := slices.Clone(vs)
		slices.SortFunc(sorted, Compare)
		for i := 1; i < len(sorted); i++ {
			if Compare(sorted[i-1], sorted[i]) > 0 {
				t.Errorf("[%s] sorted order broken at %q, %q", s, sorted[i-1].Raw, sorted[i].Raw)
			}
		}
	}
}

// TestSemverAgreesWithMasterminds checks that the automatic scheme orders
// plain semantic versions exactly as Masterminds/semver does.
func TestSemverAgreesWithMasterminds(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	vs := samples(r, SchemeSemver, 80)
	for _, a := range vs {
		for _, b := range vs {
			want := Compare(a, b)
			got := Compare(ParseVersion(SchemeAuto, a.Raw), ParseVersion(SchemeAuto, b.Raw))
			if got != want {
				t.Errorf("auto Compare(%q, %q) = %d, semver says %d", a.Raw, b.Raw, got, want)
			}
		}
	}
}

// FuzzParseVersion checks that parsing never panics, keeps the raw string,
// and that a parsed version compares equal to itself under every scheme.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"3.10.12", "1.1.1w", "8u392-b08", "17.0.9+9", "jdk-21.0.1", "21.0.12.1+1", "1:2.39.5-0+deb12u3",
		"3.10.6-1~22.04.2", "1:2.4.57-5.el9", "1.0^git1", "2024.1", "2022 SU3", "10.0.26100.2314", "22.04.3 LTS", "8.0 Update 3k",
		"3.12.0rc1", "1.0.0-beta.2", "", "N/A", "cos-129-19506-299-148", "99999999999999999999", "1.36.1_rc2-r29", "3.0.15~1a2b-r0"} {
		f.Add(s)
	}
	schemes := []Scheme{SchemeAuto, SchemeSemver, SchemeDotted, SchemeJava, SchemeDebian, SchemeRPM, SchemeAPK, SchemeCalver, SchemeWindows}
	f.Fuzz(func(t *testing.T, raw string) {
		var parsed []Version
		for _, s := range schemes {
			v := ParseVersion(s, raw)
			if v.Raw != raw {
				t.Fatalf("ParseVersion(%s, %q).Raw = %q", s, raw, v.Raw)
			}
			if c := Compare(v, v); c != 0 {
				t.Fatalf("Compare[%s](%q, itself) = %d", s, raw, c)
			}
			if v.Err == nil {
				parsed = append(parsed, v)
			}
		}
		// comparing with a fixed version must be antisymmetric
		for _, v := range parsed {
			o := ParseVersion(v.Scheme, "1.2.3")
			if o.Err == nil && Compare(v, o) != -Compare(o, v) {
				t.Fatalf("Compare[%s](%q, 1.2.3) not antisymmetric", v.Scheme, raw)
			}
		}
	})
}

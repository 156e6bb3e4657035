package catalog

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

// TestExtendedSupportPolicy checks each extended-support setting on the
// embedded catalog: Debian LTS (free) counts by default, Ubuntu ESM (paid)
// only for an enrolled host or under "all"; "none" counts nothing.
func TestExtendedSupportPolicy(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	asOf := day("2026-12-01")
	tests := []struct {
		name             string
		product, version string
		ctx              Context
		pol              Policy
		support, phase   string
		eol              any
		reason           string
	}{
		{"default: Debian 12 is supported by Debian LTS", "debian", "12.15", Context{}, DefaultPolicy(),
			SupportSupported, PhaseExtended, "2028-06-30", "Debian 12 (Bookworm) is supported by Debian LTS until 2028-06-30 (regular support ended on 2026-07-11)"},
		{"the zero policy is the default", "debian", "12.15", Context{}, Policy{},
			SupportSupported, PhaseExtended, "2028-06-30", ""},
		{"none: Debian 12 is past its end of life", "debian", "12.15", Context{}, Policy{ExtendedSupport: ExtendedNone},
			SupportEOL, PhaseExtended, "2026-07-11", "Debian 12 (Bookworm) reached end of life on 2026-07-11 and only Debian LTS covers it until 2028-06-30, which the support policy does not count; upgrade to 13.6 or later."},
		{"default: Ubuntu 20.04 ESM is paid and the host is not enrolled", "ubuntu", "20.04.6", Context{}, DefaultPolicy(),
			SupportEOL, PhaseExtended, "2025-05-31", "is only covered by Ubuntu Pro (ESM) until 2030-04-02, a paid programme that counts only for enrolled hosts; upgrade to 22.04.5 or later."},
		{"default: Ubuntu 20.04 on a host enrolled in Ubuntu Pro", "ubuntu", "20.04.6", Context{Enrolled: []string{"ubuntu-pro"}}, DefaultPolicy(),
			SupportSupported, PhaseExtended, "2030-04-02", "Ubuntu 20.04 'Focal Fossa' is supported by Ubuntu Pro (ESM) until 2030-04-02"},
		{"default: Ubuntu 20.04 on a host whose agent reports ubuntu-esm-infra", "ubuntu", "20.04.6", Context{Enrolled: []string{"ubuntu-esm-infra"}}, DefaultPolicy(),
			SupportSupported, PhaseExtended, "2030-04-02", ""},
		{"enrolled in another programme does not count", "ubuntu", "20.04.6", Context{Enrolled: []string{"rhel-els"}}, DefaultPolicy(),
			SupportEOL, PhaseExtended, "2025-05-31", ""},
		{"all: Ubuntu ESM counts without enrolment", "ubuntu", "20.04.6", Context{}, Policy{ExtendedSupport: ExtendedAll},
			SupportSupported, PhaseExtended, "2030-04-02", ""},
		{"none beats enrolment", "ubuntu", "20.04.6", Context{Enrolled: []string{"ubuntu-pro"}}, Policy{ExtendedSupport: ExtendedNone},
			SupportEOL, PhaseExtended, "2025-05-31", "which the support policy does not count"},
		{"per product: ubuntu all", "ubuntu", "20.04.6", Context{}, Policy{ExtendedSupportFor: map[string]string{"ubuntu": ExtendedAll}},
			SupportSupported, PhaseExtended, "2030-04-02", ""},
		{"per product: another product's override leaves debian at the default", "debian", "12.15", Context{}, Policy{ExtendedSupportFor: map[string]string{"ubuntu": ExtendedNone}},
			SupportSupported, PhaseExtended, "2028-06-30", ""},
		{"per product: debian none", "debian", "12.15", Context{}, Policy{ExtendedSupport: ExtendedAll, ExtendedSupportFor: map[string]string{"debian": ExtendedNone}},
			SupportEOL, PhaseExtended, "2026-07-11", ""},
		{"a vendor's paid extension does not count by default", "mssqlserver", "12.0.6024.0", Context{}, DefaultPolicy(),
			SupportEOL, PhaseExtended, "2024-07-09", ""},
		{"... and counts under all", "mssqlserver", "12.0.6024.0", Context{}, Policy{ExtendedSupport: ExtendedAll},
			SupportSupported, PhaseExtended, "2027-07-12", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := cat.EvaluateIn(tt.product, tt.version, tt.ctx, asOf, tt.pol)
			if v.Support != tt.support || v.Phase != tt.phase || v.EOL != tt.eol {
				t.Errorf("EvaluateIn(%s, %s) = support %s phase %s eol %v, want %s %s %v (reason: %s)", tt.product, tt.version, v.Support, v.Phase, v.EOL, tt.support, tt.phase, tt.eol, v.Reason)
			}
			if !strings.Contains(v.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", v.Reason, tt.reason)
			}
			checkSentence(t, v.Reason)
		})
	}
}

// TestExtendedSupportBeforeEOL checks that a counted extended programme
// moves the end of support (and the warning window) to its end.
func TestExtendedSupportBeforeEOL(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	v := cat.Evaluate("debian", "12.13", day("2026-05-01"), Policy{})
	if v.Status == StatusEOLSoon || v.EOL != "2028-06-30" || !strings.Contains(v.Reason, "until 2028-06-30 (through Debian LTS after 2026-07-11)") {
		t.Errorf("Debian 12 before its regular end: status %s eol %v reason %q, want not eol-soon, 2028-06-30", v.Status, v.EOL, v.Reason)
	}
	v = cat.Evaluate("debian", "12.13", day("2026-05-01"), Policy{ExtendedSupport: ExtendedNone})
	if v.Status != StatusEOLSoon || v.EOL != "2026-07-11" {
		t.Errorf("Debian 12 before its regular end, none: status %s eol %v, want eol-soon, 2026-07-11", v.Status, v.EOL)
	}
	v = cat.Evaluate("debian", "12.15", day("2028-05-01"), Policy{})
	if v.Status != StatusEOLSoon || !strings.Contains(v.Reason, "Debian 12 (Bookworm) reaches end of support (Debian LTS) on 2028-06-30 (in 60 days); plan an upgrade to") {
		t.Errorf("Debian 12 near the LTS end: status %s reason %q", v.Status, v.Reason)
	}
}

// TestProgrammeFromCatalogFile checks the `extended_support` key of the
// own format: it replaces the built-in table's entry for the product.
func TestProgrammeFromCatalogFile(t *testing.T) {
	doc := func(free string) string {
		return `format: eolwatch-catalog/v1
products:
  - id: acme
    label: Acme
    extended_support: {name: Acme Care, free: ` + free + `, enrolment: [acme-care]}
    cycles:
      - {name: "2", release: 2024-01-01, eol: false, latest: "2.0"}
      - {name: "1", release: 2020-01-01, eol: 2025-01-01, eoes: 2027-01-01, latest: "1.9"}
  - id: debian
    label: Debian
    extended_support: {name: Freexian ELTS, free: false}
    cycles:
      - {name: "12", release: 2023-06-10, eol: 2026-06-10, eoes: 2028-06-30, latest: "12.12"}
`
	}
	asOf := day("2026-01-01")
	paid, err := Parse("acme.yaml", []byte(doc("false")))
	if err != nil {
		t.Fatal(err)
	}
	free, err := Parse("acme.yaml", []byte(doc("true")))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a free programme counts", func(t *testing.T) {
		v := free.Evaluate("acme", "1.9", asOf, Policy{})
		if v.Support != SupportSupported || !strings.Contains(v.Reason, "is supported by Acme Care until 2027-01-01") {
			t.Errorf("free Acme Care: %s %q", v.Support, v.Reason)
		}
	})
	t.Run("a paid one does not", func(t *testing.T) {
		v := paid.Evaluate("acme", "1.9", asOf, Policy{})
		if v.Support != SupportEOL || !strings.Contains(v.Reason, "only covered by Acme Care until 2027-01-01, a paid programme that counts only for enrolled hosts") {
			t.Errorf("paid Acme Care: %s %q", v.Support, v.Reason)
		}
	})
	t.Run("a paid one counts for an enrolled host", func(t *testing.T) {
		v := paid.EvaluateIn("acme", "1.9", Context{Enrolled: []string{"acme-care"}}, asOf, Policy{})
		if v.Support != SupportSupported {
			t.Errorf("paid Acme Care, enrolled: %s %q", v.Support, v.Reason)
		}
	})
	t.Run("the file overrides the built-in table", func(t *testing.T) {
		v := paid.Evaluate("debian", "12.12", day("2026-12-01"), Policy{})
		if v.Support != SupportEOL || !strings.Contains(v.Reason, "Freexian ELTS") {
			t.Errorf("debian with a paid programme from the file: %s %q", v.Support, v.Reason)
		}
		if p := ProgrammeOf(paid.Product("debian")); p.Name != "Freexian ELTS" || p.Free {
			t.Errorf("ProgrammeOf(file debian) = %+v", p)
		}
		def, _ := Default()
		if p := ProgrammeOf(def.Product("debian")); p.Name != "Debian LTS" || !p.Free {
			t.Errorf("ProgrammeOf(default debian) = %+v", p)
		}
	})
	t.Run("round trips keep the programme", func(t *testing.T) {
		var js, tsv bytes.Buffer
		if err := paid.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := paid.WriteCompact(&tsv); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"json": js.Bytes(), "compact": tsv.Bytes()} {
			back, err := Parse(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if p := back.Product("acme").Extended; p == nil || p.Name != "Acme Care" || p.Free || len(p.Enrolment) != 1 || p.Enrolment[0] != "acme-care" {
				t.Errorf("%s round trip: programme %+v", name, p)
			}
			if back.Info().Version != paid.Info().Version {
				t.Errorf("%s round trip: content version %s, want %s", name, back.Info().Version, paid.Info().Version)
			}
		}
	})
	t.Run("the programme is part of the content version", func(t *testing.T) {
		if paid.Info().Version == free.Info().Version {
			t.Error("a free and a paid programme give the same content version")
		}
	})
}

// TestProgrammeErrors checks that a bad `extended_support` names the field.
func TestProgrammeErrors(t *testing.T) {
	for _, tt := range []struct{ name, spec, want string }{
		{"no name", "{free: true}", "field extended_support.name"},
		{"free not said", "{name: X}", "field extended_support.free"},
		{"empty enrolment id", `{name: X, free: false, enrolment: [""]}`, "field extended_support.enrolment"},
		{"unknown key", "{name: X, free: false, price: 3}", "price"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte("products:\n  - id: acme\n    extended_support: "+tt.spec+"\n    cycles: []\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `product "acme"`) {
				t.Errorf("Parse = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestPolicyValidate checks that every bad setting is named.
func TestPolicyValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Policy
		want string
	}{
		{"negative warn days", Policy{WarnDays: -1}, "warn days"},
		{"negative grace days", Policy{GraceDays: -1}, "grace days"},
		{"unknown extended support", Policy{ExtendedSupport: "some"}, `extended support "some"`},
		{"unknown per-product value", Policy{ExtendedSupportFor: map[string]string{"ubuntu": "paid"}}, "extended support for ubuntu"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
	if err := DefaultPolicy().Validate(); err != nil {
		t.Errorf("DefaultPolicy().Validate() = %v", err)
	}
	if !(Policy{}).IsZero() || DefaultPolicy().IsZero() || (Policy{ExtendedSupportFor: map[string]string{"x": ExtendedAll}}).IsZero() {
		t.Error("IsZero is true only for the zero Policy")
	}
}

// TestParseExtendedFor: one reading of --extended-support-for for every
// command and setting.
func TestParseExtendedFor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "ubuntu=all", want: map[string]string{"ubuntu": "all"}},
		{in: " Ubuntu = all , rhel=none,", want: map[string]string{"ubuntu": "all", "rhel": "none"}},
		{in: "ubuntu=all,ubuntu=free", want: map[string]string{"ubuntu": "free"}},
		{in: "", want: map[string]string{}},
		{in: "ubuntu", err: `want PRODUCT=free|all|none, got "ubuntu"`},
		{in: "=all", err: `want PRODUCT=free|all|none, got "=all"`},
		{in: "ubuntu=paid", err: `ubuntu: want free, all or none, got "paid"`},
		{in: "ubuntu=", err: `ubuntu: want free, all or none, got ""`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := map[string]string{}
			err := ParseExtendedFor(tc.in, got)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseExtendedFor(%q) = %v, want %q", tc.in, err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Errorf("ParseExtendedFor(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

package catalog

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d.Time
}

// TestVendorYAML loads the worked example of docs/catalog.md.
func TestVendorYAML(t *testing.T) {
	cat, err := LoadFiles("testdata/vendor-acme.yaml")
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	in := cat.Info()
	if in.Products != 2 || in.Cycles != 6 {
		t.Errorf("Info() = %d products %d cycles, want 2 and 6", in.Products, in.Cycles)
	}
	p := cat.Product("acmeerp")
	if p == nil || p.ID != "acme-erp" {
		t.Fatalf("Product(alias acmeerp) = %v, want acme-erp", p)
	}
	if p.Scheme != SchemeCalver || p.Category != "server-app" || len(p.Identifiers) != 1 {
		t.Errorf("acme-erp = scheme %q category %q identifiers %v", p.Scheme, p.Category, p.Identifiers)
	}
	c := p.Cycles[1]
	if c.Name != "2024.1" || !c.LTS || c.EOES.Date.String() != "2026-09-01" || len(c.Releases) != 5 {
		t.Errorf("cycle 2024.1 = %+v", c)
	}
	r := cat.Product("acme-reporting")
	if got := r.Cycles[1].Latest; got != "2022 SU3" {
		t.Errorf("acme-reporting 2022 latest = %q, want 2022 SU3", got)
	}
	if m := r.Cycles[0].EOL; !m.Set || m.Ended || !m.Date.IsZero() {
		t.Errorf("eol: false loaded as %+v", m)
	}
	if m := r.Cycles[2].EOL; !m.Set || !m.Ended || !m.Date.IsZero() {
		t.Errorf("eol: true loaded as %+v", m)
	}
	if v := cat.Evaluate("acme-reporting", "2022 SU2", day("2024-01-10"), DefaultPolicy()); v.Cycle != "2022" || v.Status != StatusPatchOverdue || v.UpgradeTo != "2022 SU3" {
		t.Errorf("Evaluate(acme-reporting 2022 SU2) = %+v", v)
	}
}

// TestJSONRoundTrip writes a catalog as JSON and compact form and reads it back identically.
func TestJSONRoundTrip(t *testing.T) {
	cat, err := LoadFiles("testdata/vendor-acme.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var js, cp bytes.Buffer
	if err := cat.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if err := cat.WriteCompact(&cp); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"json": js.Bytes(), "compact": cp.Bytes()} {
		back, err := Parse(name, data)
		if err != nil {
			t.Fatalf("Parse(%s): %v", name, err)
		}
		if back.Info().Version != cat.Info().Version {
			t.Errorf("%s round trip: content version %s, want %s", name, back.Info().Version, cat.Info().Version)
		}
		if d := Diff(cat, back); len(d) != 0 {
			t.Errorf("%s round trip: Diff = %v, want none", name, d)
		}
	}
}

// TestDefaultMatchesExtract checks that the embedded catalog is what the
// generator makes from the shared extract (when this machine has it).
func TestDefaultMatchesExtract(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "data", "endoflife")
	if _, err := os.Stat(filepath.Join(src, "products.json")); err != nil {
		t.Skip("the endoflife.date extract (../shared/data/endoflife) is not on this machine")
	}
	fromExtract, err := LoadFiles(filepath.Join(src, "products.json"), filepath.Join(src, "releases.json"))
	if err != nil {
		t.Fatalf("LoadFiles(extract): %v", err)
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fromExtract.Info().Version, def.Info().Version; a != b {
		t.Errorf("default catalog version %s, extract gives %s: run `make catalog`", b, a)
	}
	if in := def.Info(); in.Products != 464 || in.Cycles != 8351 || in.Commit != "a70eca337600e7d721dc48112c271f98661d208b" {
		t.Errorf("Default().Info() = %+v", in)
	}
}

// TestLoadErrors checks that every kind of bad input names file, product,
// cycle and field, and that nothing is loaded.
func TestLoadErrors(t *testing.T) {
	const head = "format: eolwatch-catalog/v1\nproducts:\n  - id: acme\n    label: Acme\n    cycles:\n"
	tests := []struct {
		name, data string
		want       []string
	}{
		{"bad-date.yaml", head + "      - {name: \"1.0\", eol: 2024-02-30}\n", []string{"bad-date.yaml", `product "acme"`, `cycle "1.0"`, "field eol", "2024-02-30"}},
		{"bad-release.yaml", head + "      - {name: \"1.0\", eol: false, release: 2024/01/01}\n", []string{`cycle "1.0"`, "field release", "2024/01/01"}},
		{"dup.yaml", head + "      - {name: \"1.0\", eol: false}\n      - {name: \"1.0\", eol: true}\n", []string{`product "acme"`, `cycle "1.0"`, "duplicate cycle"}},
		{"type.yaml", head + "      - {name: \"1.0\", eol: [1, 2]}\n", []string{`cycle "1.0"`, "field eol", "want a YYYY-MM-DD date, true or false"}},
		{"lts.yaml", head + "      - {name: \"1.0\", eol: false, lts: yes-please}\n", []string{`cycle "1.0"`, "field lts"}},
		{"no-eol.yaml", head + "      - {name: \"1.0\"}\n", []string{`cycle "1.0"`, "field eol", "missing eol"}},
		{"scheme.yaml", "format: eolwatch-catalog/v1\nproducts:\n  - id: acme\n    scheme: sevmer\n    cycles: []\n", []string{`product "acme"`, "field scheme", `unknown scheme "sevmer"`}},
		{"unknown-field.yaml", head + "      - {name: \"1.0\", eol: false, eoll: 2024-01-01}\n", []string{"unknown-field.yaml:6", `product "acme"`, `cycle "1.0"`, "eoll"}},
		{"wrong-type.yaml", head + "      - name: \"1.0\"\n        eol: false\n        releases: often\n", []string{"wrong-type.yaml:8", `product "acme"`, `cycle "1.0"`, "cannot unmarshal"}},
		{"wrong-type2.yaml", "products:\n  - id: acme\n    aliases: 7\n    cycles: []\n", []string{"wrong-type2.yaml:3", `product "acme"`}},
		{"id.yaml", "products:\n  - id: Acme Corp\n    cycles: []\n", []string{`product "Acme Corp"`, "field id"}},
		{"category.yaml", "products:\n  - id: acme\n    category: toaster\n    cycles: []\n", []string{"field category", "toaster"}},
		{"release-date.yaml", head + "      - name: \"1.0\"\n        eol: false\n        releases:\n          - {version: 1.0.1, date: tomorrow}\n", []string{`cycle "1.0"`, "releases[0].date", "tomorrow"}},
		{"format.yaml", "format: eolwatch-catalog/v9\nproducts: []\n", []string{"field format", "v9"}},
		{"bad.json", `{"format":"eolwatch-catalog/v1","products":[{"id":"acme","cycles":[{"name":"1.0","eol":"2024-13-01"}]}]}`, []string{"bad.json", `product "acme"`, `cycle "1.0"`, "field eol", "2024-13-01"}},
		{"type.json", `{"format":"eolwatch-catalog/v1","products":[{"id":"acme","cycles":[{"name":1.0,"eol":false}]}]}`, []string{"type.json", `product "acme"`, "field name", "want a string"}},
		{"unknown.json", `{"format":"eolwatch-catalog/v1","products":[{"id":"acme","colour":"red","cycles":[]}]}`, []string{`product "acme"`, "colour"}},
		{"syntax.json", "{\"format\":\"eolwatch-catalog/v1\",\n\"products\":[}", []string{"syntax.json:2", "invalid JSON"}},
		{"extract.json", `{"source":"x","products":[{"name":"acme","label":"Acme","category":"app","releases":[{"name":"1.0","releaseDate":"2020-01-01","eol":"soon"}]}]}`, []string{`product "acme"`, `cycle "1.0"`, "field eol", "soon"}},
		{"extract-rd.json", `{"source":"x","products":[{"name":"acme","label":"Acme","category":"app","releases":[{"name":"1.0","releaseDate":"01/01/2020","eol":false}]}]}`, []string{`cycle "1.0"`, "field releaseDate"}},
		{"releases.json", `{"source":"x","products":{"acme":{"versions":[["1.0.1","2020-01-01"],["1.0.0","yesterday"]]}}}`, []string{`product "acme"`, "versions[1]", "yesterday"}},
		{"api.json", `{"schema_version":"1.2.0","result":{"name":"acme","label":"Acme","category":"app","releases":[{"name":"1.0","releaseDate":"2020-01-01","isEol":true,"eolFrom":"2021-02-29"}]}}`, []string{`product "acme"`, `cycle "1.0"`, "field eolFrom", "2021-02-29"}},
		{"empty.yaml", "", []string{"empty.yaml", "empty catalog file"}},
		{"unknown-format.json", `{"hello":"world"}`, []string{"unknown catalog format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := Parse(tt.name, []byte(tt.data))
			if err == nil {
				t.Fatalf("Parse(%s) = ok, want an error", tt.name)
			}
			if cat != nil {
				t.Errorf("Parse(%s) returned a catalog with the error", tt.name)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%s) error %q does not mention %q", tt.name, err, w)
				}
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Errorf("Parse(%s) error is %T, want *LoadError", tt.name, err)
			}
		})
	}
}

// TestLoadFilesAtomic checks that one bad file among good ones loads nothing.
func TestLoadFilesAtomic(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("products:\n  - id: x\n    cycles:\n      - {name: '1', eol: 2024-99-01}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cat, err := LoadFiles("testdata/vendor-acme.yaml", bad)
	if err == nil || cat != nil {
		t.Fatalf("LoadFiles(good, bad) = %v, %v; want nil and an error", cat, err)
	}
	if !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("error %q does not name bad.yaml", err)
	}
	if _, err := LoadFiles(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadFiles(missing) = ok, want an error")
	}
}

// TestAPIv1 parses an endoflife.date API v1 product response.
func TestAPIv1(t *testing.T) {
	cat, err := LoadFiles("testdata/api-v1-python.json")
	if err != nil {
		t.Fatal(err)
	}
	p := cat.Product("python")
	if p == nil || len(p.Cycles) != 4 {
		t.Fatalf("python = %+v", p)
	}
	c := p.Cycles[0]
	if c.Name != "3.13" || c.EOL.Date.String() != "2029-10-31" || c.EOAS.Date.String() != "2026-10-01" || c.Latest != "3.13.1" || c.LatestDate.String() != "2024-12-03" {
		t.Errorf("cycle 3.13 = %+v", c)
	}
	if e := p.Cycles[3].EOL; !e.Set || e.Date.String() != "2024-10-07" {
		t.Errorf("3.8 eol = %+v", e)
	}
	v := cat.Evaluate("python", "3.8.10", day("2025-01-12"), Policy{})
	if v.Support != SupportEOL || v.Cycle != "3.8" || v.UpgradeTo != "3.9.21" {
		t.Errorf("Evaluate(python 3.8.10) = %+v", v)
	}
}

// TestExtractWithReleases loads a small extract plus releases.json: dated
// releases attach to their cycles by component matching.
func TestExtractWithReleases(t *testing.T) {
	cat, err := LoadFiles("testdata/extract-products.json", "testdata/extract-releases.json")
	if err != nil {
		t.Fatal(err)
	}
	in := cat.Info()
	if in.Commit != "a70eca337600e7d721dc48112c271f98661d208b" || !strings.Contains(in.License, "MIT") {
		t.Errorf("Info() = %+v", in)
	}
	p := cat.Product("python")
	got := map[string][]string{}
	for _, c := range p.Cycles {
		for _, r := range c.Releases {
			got[c.Name] = append(got[c.Name], r.Version)
		}
	}
	if strings.Join(got["3.1"], ",") != "3.1.5" || strings.Join(got["3.10"], ",") != "3.10.12,3.10.11" {
		t.Errorf("attached releases = %v; want 3.1.5 in 3.1 and 3.10.12,3.10.11 in 3.10", got)
	}
	if e := cat.Product("openssl").Cycles[0]; len(e.Releases) != 2 || e.Releases[0].Version != "1.1.1w" {
		t.Errorf("openssl 1.1.1 releases = %v", e.Releases)
	}
}

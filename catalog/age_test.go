package catalog

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestCatalogDate checks where catalog_date comes from: the embedded
// snapshot date, a file's `date`, a product's own `date`, an API v1
// response's generated_at; merged catalogs keep each product's date and
// date the whole catalog by its oldest.
func TestCatalogDate(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the embedded catalog is dated by the endoflife.date snapshot", func(t *testing.T) {
		if in := def.Info(); in.Date.String() != "2026-08-22" {
			t.Errorf("Default().Info().Date = %s, want 2026-08-22", in.Date)
		}
		if v := def.Evaluate("python", "3.12.1", day("2026-09-01"), Policy{}); v.CatalogDate != "2026-08-22" {
			t.Errorf("catalog_date = %q", v.CatalogDate)
		}
		if v := def.Evaluate("no-such", "1", day("2026-09-01"), Policy{}); v.CatalogDate != "2026-08-22" {
			t.Errorf("unknown product catalog_date = %q", v.CatalogDate)
		}
	})
	fileDoc := `format: eolwatch-catalog/v1
date: 2026-11-01
products:
  - id: acme
    cycles: [{name: "1", eol: false, latest: "1.0"}]
  - id: widget
    date: 2026-06-15
    cycles: [{name: "1", eol: false, latest: "1.0"}]
`
	file, err := Parse("acme.yaml", []byte(fileDoc))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("a file's date, a product's own date", func(t *testing.T) {
		if v := file.Evaluate("acme", "1.0", day("2026-11-05"), Policy{}); v.CatalogDate != "2026-11-01" || len(v.Warnings) != 0 {
			t.Errorf("acme: %q %q", v.CatalogDate, v.Warnings)
		}
		if v := file.Evaluate("widget", "1.0", day("2026-11-05"), Policy{}); v.CatalogDate != "2026-06-15" || !containsPart(v.Warnings, "catalog data is 143 days old") {
			t.Errorf("widget: %q %q", v.CatalogDate, v.Warnings)
		}
		if d := file.Info().Date.String(); d != "2026-06-15" {
			t.Errorf("Info().Date = %s, want the oldest product's 2026-06-15", d)
		}
	})
	t.Run("an undated file: no date, no age warning", func(t *testing.T) {
		c, err := Parse("nodate.yaml", []byte("products:\n  - id: acme\n    cycles: [{name: \"1\", eol: false}]\n"))
		if err != nil {
			t.Fatal(err)
		}
		if v := c.Evaluate("acme", "1.0", day("2030-01-01"), Policy{}); v.CatalogDate != "" || len(v.Warnings) != 0 || v.Warnings == nil {
			t.Errorf("undated: catalog_date %q warnings %#v", v.CatalogDate, v.Warnings)
		}
	})
	t.Run("merged: each product keeps its date, the catalog takes the oldest", func(t *testing.T) {
		m := Merge(def, file)
		if v := m.Evaluate("acme", "1.0", day("2026-11-05"), Policy{}); v.CatalogDate != "2026-11-01" {
			t.Errorf("acme in the merge: %q", v.CatalogDate)
		}
		if v := m.Evaluate("python", "3.12.1", day("2026-11-05"), Policy{}); v.CatalogDate != "2026-08-22" {
			t.Errorf("python in the merge: %q", v.CatalogDate)
		}
		if d := m.Info().Date.String(); d != "2026-06-15" {
			t.Errorf("merged Info().Date = %s, want 2026-06-15", d)
		}
	})
	t.Run("an API v1 response is dated by generated_at", func(t *testing.T) {
		data, err := os.ReadFile("testdata/api-v1-python.json")
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse("api.json", data)
		if err != nil {
			t.Fatal(err)
		}
		want := c.Info().Date.String()
		if len(want) != 10 || !strings.Contains(c.Info().Source, want) {
			t.Fatalf("API v1 Info() = %+v, want the generated_at day as date", c.Info())
		}
		if m := Merge(def, c); m.Product("python").Date.String() != want || m.Product("ruby").Date.String() != "2026-08-22" {
			t.Errorf("after a feed merge python is dated %s, ruby %s", m.Product("python").Date, m.Product("ruby").Date)
		}
	})
	t.Run("round trips keep the dates", func(t *testing.T) {
		var js, tsv bytes.Buffer
		if err := file.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := file.WriteCompact(&tsv); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{"json": js.Bytes(), "compact": tsv.Bytes()} {
			back, err := Parse(name, data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if a, w := back.Product("acme").Date.String(), back.Product("widget").Date.String(); a != "2026-11-01" || w != "2026-06-15" {
				t.Errorf("%s round trip: acme %s widget %s", name, a, w)
			}
			if back.Info().Version != file.Info().Version {
				t.Errorf("%s round trip: content version %s, want %s", name, back.Info().Version, file.Info().Version)
			}
		}
	})
	t.Run("a bad date is named", func(t *testing.T) {
		_, err := Parse("bad.yaml", []byte("date: 2026-02-30\nproducts: []\n"))
		if err == nil || !strings.Contains(err.Error(), "field date") {
			t.Errorf("Parse(bad date) = %v", err)
		}
		_, err = Parse("bad.yaml", []byte("products:\n  - id: a\n    date: soon\n    cycles: []\n"))
		if err == nil || !strings.Contains(err.Error(), "field date") || !strings.Contains(err.Error(), `product "a"`) {
			t.Errorf("Parse(bad product date) = %v", err)
		}
	})
}

// TestAgeWarning checks the catalog-age warning: none up to 30 days after
// catalog_date, then one sentence naming the age, on every kind of verdict.
func TestAgeWarning(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, product, version, asOf string
		want                         string // "" = no warning
	}{
		{"30 days old: no warning", "python", "3.12.1", "2026-09-21", ""},
		{"31 days old: a warning", "python", "3.12.1", "2026-09-22", "The catalog data is 31 days old (taken on 2026-08-22); releases and end-of-life changes since then are not known."},
		{"101 days old on 2026-12-01", "python", "3.12.1", "2026-12-01", "catalog data is 101 days old"},
		{"an eol verdict warns too", "python", "3.8.10", "2026-12-01", "catalog data is 101 days old"},
		{"an unknown version warns too", "python", "banana", "2026-12-01", "catalog data is 101 days old"},
		{"an unknown product warns too", "no-such", "1.0", "2026-12-01", "catalog data is 101 days old"},
		{"before the data was taken: no warning", "python", "3.12.1", "2025-01-01", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v := def.Evaluate(tt.product, tt.version, day(tt.asOf), Policy{})
			if tt.want == "" {
				if len(v.Warnings) != 0 {
					t.Errorf("warnings %q, want none", v.Warnings)
				}
				return
			}
			if !containsPart(v.Warnings, tt.want) || len(v.Warnings) != 1 {
				t.Errorf("warnings %q, want one containing %q", v.Warnings, tt.want)
			}
		})
	}
}

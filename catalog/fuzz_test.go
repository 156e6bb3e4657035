package catalog

import (
	"errors"
	"os"
	"testing"
	"time"
)

// FuzzParse checks that loading any document never panics, that a failure
// is a *LoadError and returns no catalog, and that a catalog that loads can
// be evaluated, written and read back.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/vendor-acme.yaml", "testdata/api-v1-python.json", "testdata/extract-products.json", "testdata/extract-releases.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(rulesCatalog))
	f.Add([]byte("format: eolwatch-catalog/v1\nproducts:\n  - id: a\n    cycles:\n      - {name: \"1\", eol: 2024-01-01, lts: 2023-01-01}\n"))
	f.Add([]byte(`{"format":"eolwatch-catalog/v1","products":[{"id":"a","scheme":"debian","cycles":[{"name":"1.0","eol":true,"latest":"1:1.0-1"}]}]}`))
	f.Add([]byte(compactMagic + "\nsource\tx\nP\ta\tA\t\t\t\t\nY\t1\t\t\t\t\tfalse\t\t\t1.2\t\t1.2\x1f2024-01-01\n"))
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cat, err := Parse("fuzz", data)
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Parse error %T %v is not a *LoadError", err, err)
			}
			if cat != nil {
				t.Fatal("Parse returned a catalog with an error")
			}
			return
		}
		if cat == nil {
			return // a releases-only document holds no products
		}
		for _, p := range cat.Products() {
			for _, c := range p.Cycles {
				_ = cat.Evaluate(p.ID, c.Latest, asOf, Policy{})
				_ = cat.Evaluate(p.ID, c.Name, asOf, Policy{})
			}
		}
		_ = cat.Info()
	})
}

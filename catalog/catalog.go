package catalog

import (
	"errors"
	"time"
)

// SKELETON: the signatures in this file are the contract other packages
// build against; the catalog work replaces the bodies.

var errTODO = errors.New("catalog: not built yet")

// Catalog is an immutable, loaded set of products. Safe for concurrent use.
type Catalog struct {
	products map[string]*Product // by id and by alias
	info     Info
}

// Info describes where a catalog came from.
type Info struct {
	Source   string    `json:"source"`   // e.g. "endoflife.date snapshot <sha> <date>"
	Commit   string    `json:"commit"`   // source commit when known
	License  string    `json:"license"`  // licence line(s)
	Version  string    `json:"version"`  // content hash of the catalog: changes whenever any data changes
	Products int       `json:"products"` // number of products
	Cycles   int       `json:"cycles"`   // number of cycles
	Loaded   time.Time `json:"loaded"`
}

// Default returns the embedded default catalog (generated from the
// endoflife.date extract). It is parsed once and cached.
func Default() (*Catalog, error) { return nil, errTODO }

// LoadFiles loads and merges catalog files: the project's own YAML/JSON
// format and the endoflife.date extract / API v1 formats, detected by content.
// A file with any error loads nothing; the error names file, product, cycle and field.
func LoadFiles(paths ...string) (*Catalog, error) { return nil, errTODO }

// Info returns the catalog's provenance and size.
func (c *Catalog) Info() Info { return c.info }

// Product returns the product with this id or alias, or nil.
func (c *Catalog) Product(id string) *Product { return c.products[id] }

// Products returns every product sorted by id.
func (c *Catalog) Products() []*Product { return nil }

// Evaluate returns the verdict for product at version on the day asOf.
// It never fails: unknown products and unparsable versions are verdicts.
func (c *Catalog) Evaluate(product, version string, asOf time.Time, p Policy) Verdict {
	return Verdict{}
}

// WithRelease returns a new catalog with one more release published in a
// product's cycle (creating the cycle if needed); the receiver is unchanged.
func (c *Catalog) WithRelease(product, cycle, version string, date time.Time) (*Catalog, error) {
	return nil, errTODO
}

// Parse loads one catalog document from memory; name is used in errors.
// The format (own YAML/JSON, endoflife.date extract, endoflife.date API v1
// product response) is detected from the content.
func Parse(name string, data []byte) (*Catalog, error) { return nil, errTODO }

// Merge returns a catalog holding base's products with each overlay's
// products added or replacing base's (later overlays win). Nil overlays are skipped.
func Merge(base *Catalog, overlays ...*Catalog) *Catalog { return base }

// Change kinds reported by Diff.
const (
	ChangeRelease = "release"     // a new version was published in a cycle (new latest or a new dated release)
	ChangeCycle   = "cycle"       // a new cycle appeared
	ChangeEOLDate = "eol-changed" // a cycle's end-of-life date or flag changed
	ChangeProduct = "product"     // a new product appeared
)

// Change is one difference between two catalogs that subscribers may hear about.
type Change struct {
	Kind    string `json:"kind"`
	Product string `json:"product"`
	Cycle   string `json:"cycle,omitempty"`
	Version string `json:"version,omitempty"`
	Date    Date   `json:"date"`
}

// Diff lists what changed from old to new, in a stable order. A nil old
// catalog yields no changes (a first load is not news).
func Diff(old, new *Catalog) []Change { return nil }

package catalog

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Catalog is an immutable, loaded set of products. Safe for concurrent use.
// The products it returns must not be modified.
type Catalog struct {
	products map[string]*Product // by id and by alias
	info     Info

	index   map[string]*lazyIndex // by id and by alias (lowercase)
	list    []*Product            // sorted by id
	hashing sync.Once

	ageMemo atomic.Pointer[warnMemo] // the catalog-age warnings of the last day asked
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
	// Date is the day the catalog data was taken: the oldest date of its
	// products' data (so the catalog's age is never understated when only
	// some products were refreshed), else the oldest date of its documents;
	// zero when none carries a date. See Product.Date for one product's.
	Date Date `json:"date"`
}

// StaleAfterDays is the catalog age, in days, past which every verdict
// warns that its data is old: a verdict for a day more than this many days
// after its catalog_date carries the warning "The catalog data is N days
// old ...".
const StaleAfterDays = 30

// lazyIndex builds a product's evaluation index on first use, so loading a
// catalog costs only decoding.
type lazyIndex struct {
	once sync.Once
	p    *Product
	ix   *prodIndex
}

func (l *lazyIndex) get() *prodIndex {
	l.once.Do(func() { l.ix = buildIndex(l.p) })
	return l.ix
}

//go:embed data/catalog.tsv.gz
var defaultData []byte

// DefaultLicense is the licence text of the endoflife.date data the default
// catalog is generated from (catalog/data/LICENSE).
//
//go:embed data/LICENSE
var DefaultLicense string

var defaultOnce struct {
	sync.Once
	cat *Catalog
	err error
}

// Default returns the embedded default catalog (generated from the
// endoflife.date extract). It is parsed once and cached.
func Default() (*Catalog, error) {
	defaultOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(defaultData))
		if err != nil {
			defaultOnce.err = fmt.Errorf("default catalog: %w", err)
			return
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			defaultOnce.err = fmt.Errorf("default catalog: %w", err)
			return
		}
		defaultOnce.cat, defaultOnce.err = parseDefault(data)
	})
	return defaultOnce.cat, defaultOnce.err
}

func parseDefault(data []byte) (*Catalog, error) {
	d, hash, err := parseCompact("default catalog", data)
	if err != nil {
		return nil, fmt.Errorf("default catalog: %w", err)
	}
	d.inheritDate()
	c := newCatalog(d.info, d.products)
	c.info.Version = hash
	c.hashing.Do(func() {})
	return c, nil
}

// LoadFiles loads and merges catalog files: the project's own YAML/JSON
// format and the endoflife.date extract / API v1 formats, detected by content.
// An endoflife.date releases.json attaches its dated releases to the products
// of the other files. A file with any error loads nothing; the error names
// file, product, cycle and field.
func LoadFiles(paths ...string) (*Catalog, error) {
	if len(paths) == 0 {
		return nil, errors.New("no catalog files given")
	}
	docs := make([]*doc, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read catalog: %w", err)
		}
		d, err := parseDoc(filepath.Base(p), data)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return fromDocs(docs)
}

// Parse loads one catalog document from memory; name is used in errors.
// The format (own YAML/JSON, endoflife.date extract, endoflife.date API v1
// product response) is detected from the content.
func Parse(name string, data []byte) (*Catalog, error) {
	d, err := parseDoc(name, data)
	if err != nil {
		return nil, err
	}
	return fromDocs([]*doc{d})
}

// fromDocs merges parsed documents: later products replace earlier ones
// with the same id; releases documents attach to the products.
func fromDocs(docs []*doc) (*Catalog, error) {
	byID := map[string]*Product{}
	var order []string
	var infos []Info
	var rels []map[string][]Release
	for _, d := range docs {
		infos = append(infos, d.info)
		d.inheritDate()
		for _, p := range d.products {
			if _, ok := byID[p.ID]; !ok {
				order = append(order, p.ID)
			} else if p.Source == byID[p.ID].Source {
				return nil, &LoadError{File: p.Source, Product: p.ID, Err: errors.New("duplicate product")}
			}
			byID[p.ID] = p
		}
		if d.releases != nil {
			rels = append(rels, d.releases)
		}
	}
	for _, r := range rels {
		ids := make([]string, 0, len(r))
		for id := range r {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			p := byID[id]
			if p == nil {
				continue // releases of a product not in this catalog
			}
			attachReleases(p, r[id])
		}
	}
	ps := make([]*Product, 0, len(order))
	for _, id := range order {
		ps = append(ps, byID[id])
	}
	return newCatalog(mergeInfo(infos), ps), nil
}

// attachReleases adds dated releases to the cycles they belong to (by the
// product's cycle matching) and returns how many matched no cycle.
func attachReleases(p *Product, rels []Release) (unattached int) {
	ix := buildIndex(p)
	touched := map[int]bool{}
	for _, r := range rels {
		i := ix.findCycle(ix.parse(r.Version))
		if i < 0 {
			unattached++
			continue
		}
		c := p.Cycles[i]
		dup := false
		for _, e := range c.Releases {
			if e.Version == r.Version {
				dup = true
				break
			}
		}
		if !dup {
			c.Releases = append(c.Releases, r)
			touched[i] = true
		}
	}
	for i := range touched {
		sortReleases(p.Scheme, p.Cycles[i].Releases)
	}
	return unattached
}

// sortReleases orders releases newest first: by date, then by version.
func sortReleases(s Scheme, rs []Release) {
	sort.SliceStable(rs, func(i, j int) bool {
		if !rs[i].Date.Equal(rs[j].Date.Time) {
			return rs[i].Date.After(rs[j].Date.Time)
		}
		return CompareStrings(s, rs[i].Version, rs[j].Version) > 0
	})
}

// inheritDate gives the document's date to its products that have none.
func (d *doc) inheritDate() {
	if d.info.Date.IsZero() {
		return
	}
	for _, p := range d.products {
		if p.Date.IsZero() {
			p.Date = d.info.Date
		}
	}
}

func mergeInfo(infos []Info) Info {
	var out Info
	var srcs, lics []string
	for _, in := range infos {
		if in.Source != "" && !contains(srcs, in.Source) {
			srcs = append(srcs, in.Source)
		}
		if in.License != "" && !contains(lics, in.License) {
			lics = append(lics, in.License)
		}
		if out.Commit == "" {
			out.Commit = in.Commit
		}
		if !in.Date.IsZero() && (out.Date.IsZero() || in.Date.Before(out.Date.Time)) {
			out.Date = in.Date
		}
	}
	out.Source = strings.Join(srcs, " + ")
	out.License = strings.Join(lics, "; ")
	return out
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// newCatalog indexes products (ids win over aliases) and fills Info's counts.
func newCatalog(info Info, ps []*Product) *Catalog {
	c := &Catalog{products: make(map[string]*Product, len(ps)), index: make(map[string]*lazyIndex, len(ps))}
	c.list = append([]*Product(nil), ps...)
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ID < c.list[j].ID })
	info.Products, info.Cycles = len(ps), 0
	var oldest Date
	for _, p := range c.list {
		c.products[p.ID] = p
		c.index[p.ID] = &lazyIndex{p: p}
		info.Cycles += len(p.Cycles)
		if !p.Date.IsZero() && (oldest.IsZero() || p.Date.Before(oldest.Time)) {
			oldest = p.Date
		}
	}
	if !oldest.IsZero() {
		info.Date = oldest
	}
	for _, p := range c.list {
		for _, a := range p.Aliases {
			if _, ok := c.products[a]; !ok {
				c.products[a] = p
				c.index[a] = c.index[p.ID]
			}
		}
	}
	info.Loaded = time.Now().UTC()
	info.Version = ""
	c.info = info
	return c
}

func (c *Catalog) lookup(id string) *prodIndex {
	if l, ok := c.index[id]; ok {
		return l.get()
	}
	if l, ok := c.index[strings.ToLower(strings.TrimSpace(id))]; ok {
		return l.get()
	}
	return nil
}

// Info returns the catalog's provenance and size.
func (c *Catalog) Info() Info {
	c.hashing.Do(func() { c.info.Version = contentHash(c.list, c.info.Date) })
	return c.info
}

// Product returns the product with this id or alias, or nil.
func (c *Catalog) Product(id string) *Product {
	if p, ok := c.products[id]; ok {
		return p
	}
	return c.products[strings.ToLower(strings.TrimSpace(id))]
}

// Products returns every product sorted by id.
func (c *Catalog) Products() []*Product { return append([]*Product(nil), c.list...) }

// ErrReleaseExists is returned by WithRelease when the version is already
// known in that cycle.
var ErrReleaseExists = errors.New("release already published")

// WithRelease returns a new catalog with one more release published in a
// product's cycle (creating the cycle if needed); the receiver is unchanged.
// The version must parse in the product's scheme and must not belong to
// another existing cycle.
func (c *Catalog) WithRelease(product, cycle, version string, date time.Time) (*Catalog, error) {
	ix := c.lookup(product)
	if ix == nil {
		return nil, fmt.Errorf("publish release: unknown product %q", product)
	}
	p := ix.p
	version = strings.TrimSpace(version)
	cycle = strings.TrimSpace(cycle)
	v := ix.parse(version)
	if !v.Valid() {
		return nil, fmt.Errorf("publish release: %s version %q: %w", p.ID, version, v.Err)
	}
	if date.IsZero() {
		return nil, fmt.Errorf("publish release: %s %s: missing date", p.ID, version)
	}
	if cycle == "" {
		i := ix.findCycle(v)
		if i < 0 {
			return nil, fmt.Errorf("publish release: %s version %q matches no cycle; name the cycle to create it", p.ID, version)
		}
		cycle = p.Cycles[i].Name
	}
	if i := ix.findCycle(v); i >= 0 && p.Cycles[i].Name != cycle {
		return nil, fmt.Errorf("publish release: %s version %q belongs to cycle %q, not %q", p.ID, version, p.Cycles[i].Name, cycle)
	}
	np := *p
	np.Cycles = make([]*Cycle, len(p.Cycles))
	copy(np.Cycles, p.Cycles)
	d := DateOf(date)
	found := false
	for i, cy := range np.Cycles {
		if cy.Name != cycle {
			continue
		}
		found = true
		nc := *cy
		if nc.Latest == version {
			return nil, fmt.Errorf("publish release: %s %s: %w", p.ID, version, ErrReleaseExists)
		}
		nc.Releases = append([]Release(nil), cy.Releases...)
		for _, r := range nc.Releases {
			if r.Version == version {
				return nil, fmt.Errorf("publish release: %s %s: %w", p.ID, version, ErrReleaseExists)
			}
		}
		if len(nc.Releases) == 0 && nc.Latest != "" {
			// keep what was known about the previous latest as a dated release
			nc.Releases = append(nc.Releases, Release{Version: nc.Latest, Date: nc.LatestDate})
		}
		nc.Releases = append(nc.Releases, Release{Version: version, Date: d})
		sortReleases(p.Scheme, nc.Releases)
		if l := ix.parse(nc.Latest); !l.Valid() || Compare(v, l) > 0 {
			nc.Latest, nc.LatestDate = version, d
		}
		np.Cycles[i] = &nc
	}
	if !found {
		nc := &Cycle{Name: cycle, ReleaseDate: d, EOL: Milestone{Set: true}, Latest: version, LatestDate: d,
			Releases: []Release{{Version: version, Date: d}}}
		np.Cycles = append([]*Cycle{nc}, np.Cycles...)
	}
	ps := make([]*Product, 0, len(c.list))
	for _, q := range c.list {
		if q.ID == p.ID {
			q = &np
		}
		ps = append(ps, q)
	}
	info := c.info
	return newCatalog(info, ps), nil
}

// Merge returns a catalog holding base's products with each overlay's
// products added or replacing base's (later overlays win). Nil overlays are skipped.
// A replacing product keeps the dated release history of the product it
// replaces for cycles where it brings none of its own (an endoflife.date API
// v1 response lists only each cycle's latest), so verdicts as of past dates
// and the patch grace period stay exact after a feed sync.
func Merge(base *Catalog, overlays ...*Catalog) *Catalog {
	var infos []Info
	byID := map[string]*Product{}
	var order []string
	for _, c := range append([]*Catalog{base}, overlays...) {
		if c == nil {
			continue
		}
		infos = append(infos, c.info)
		for _, p := range c.list {
			if old, ok := byID[p.ID]; !ok {
				order = append(order, p.ID)
			} else {
				p = keepHistory(old, p)
			}
			byID[p.ID] = p
		}
	}
	if len(infos) == 0 {
		return nil
	}
	ps := make([]*Product, 0, len(order))
	for _, id := range order {
		ps = append(ps, byID[id])
	}
	return newCatalog(mergeInfo(infos), ps)
}

// keepHistory returns p with the dated releases of old's same-named cycles
// copied into p's cycles that have none (p itself is not modified).
func keepHistory(old, p *Product) *Product {
	hist := map[string][]Release{}
	for _, c := range old.Cycles {
		if len(c.Releases) > 0 {
			hist[c.Name] = c.Releases
		}
	}
	if len(hist) == 0 {
		return p
	}
	var np *Product
	for i, c := range p.Cycles {
		h, ok := hist[c.Name]
		if !ok || len(c.Releases) > 0 {
			continue
		}
		if np == nil {
			cp := *p
			cp.Cycles = append([]*Cycle(nil), p.Cycles...)
			np = &cp
		}
		nc := *c
		nc.Releases = h
		np.Cycles[i] = &nc
	}
	if np == nil {
		return p
	}
	return np
}

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
	// From is the previous end-of-life value for eol-changed ("2025-10-31", "true", "false").
	From string `json:"from,omitempty"`
	// To is the new end-of-life value for eol-changed.
	To string `json:"to,omitempty"`
}

// Diff lists what changed from old to new, in a stable order (by product
// id, then cycles newest first, then versions newest first). A nil old
// catalog yields no changes (a first load is not news). A new product is
// reported once, without its cycles; a new cycle once, with its latest.
func Diff(old, new *Catalog) []Change {
	if old == nil || new == nil {
		return nil
	}
	var out []Change
	for _, np := range new.list {
		op := old.products[np.ID]
		if op == nil || op.ID != np.ID {
			out = append(out, Change{Kind: ChangeProduct, Product: np.ID})
			continue
		}
		oc := map[string]*Cycle{}
		for _, c := range op.Cycles {
			oc[c.Name] = c
		}
		for _, c := range np.Cycles {
			o := oc[c.Name]
			if o == nil {
				out = append(out, Change{Kind: ChangeCycle, Product: np.ID, Cycle: c.Name, Version: c.Latest, Date: c.ReleaseDate})
				continue
			}
			if o.EOL != c.EOL {
				out = append(out, Change{Kind: ChangeEOLDate, Product: np.ID, Cycle: c.Name, Date: c.EOL.Date,
					From: fmt.Sprint(o.EOL.Value()), To: fmt.Sprint(c.EOL.Value())})
			}
			known := map[string]bool{o.Latest: true}
			for _, r := range o.Releases {
				known[r.Version] = true
			}
			var added []Release
			for _, r := range c.Releases {
				if !known[r.Version] {
					added = append(added, r)
					known[r.Version] = true
				}
			}
			if c.Latest != "" && !known[c.Latest] {
				added = append(added, Release{Version: c.Latest, Date: c.LatestDate})
			}
			sortReleases(np.Scheme, added)
			for _, r := range added {
				out = append(out, Change{Kind: ChangeRelease, Product: np.ID, Cycle: c.Name, Version: r.Version, Date: r.Date})
			}
		}
	}
	return out
}

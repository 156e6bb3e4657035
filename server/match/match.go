// Package match maps inventory items (a dpkg package, a Windows program, a
// PyPI package from an SBOM, the OS itself) to catalog products and
// extracts the upstream version used for the verdict, using the catalog's
// identifiers (purl, repology) and explicit rules for what they miss.
//
// Matching is on the ingest hot path: every lookup goes through maps built
// once per catalog (rules by the leading letters of the names they match,
// identifiers by package name); no item is compared with every product.
// See docs/matching.md for the order of the steps and how to add rules.
package match

import (
	"fmt"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// Result is a successful match.
type Result struct {
	Product string // catalog product id, e.g. "python"
	Version string // upstream version for the verdict, e.g. "2.39.5" from "1:2.39.5-0+deb12u3"
	Rule    string // which rule matched, e.g. "dpkg-versioned-name python3.11"
	Why     string // one sentence for `match explain`
	// Cycle is the release cycle when the match itself decides it (Windows
	// editions share build numbers: 11-23h2-w and 11-23h2-e); empty otherwise.
	Cycle string
}

// Matcher matches items against one catalog. Safe for concurrent use: it is
// read-only after New.
type Matcher struct {
	cat *catalog.Catalog

	rules    []*Rule
	names    map[string]*keyIndex          // source → rules by the leading letters of the item name
	srcs     map[string]*keyIndex          // source → rules by the leading letters of the source package
	byBundle map[string]map[string][]*Rule // source → lowercased bundle id → rules

	ids    map[string]map[string]idHit // purl type (deb, rpm, apk) or "*" → lowercased name → product
	eco    map[string]map[string]idHit // ecosystem source → normalised package name → product
	labels map[string]idHit            // lowercased product label, id or alias → product (programs, apps)
	builds map[string]map[int][]string // windows product → build number → cycle names
}

// idHit is a product found through one of its identifiers.
type idHit struct {
	product string
	rule    string // "purl pkg:deb/debian/nginx"
	why     string
}

// New returns a matcher for cat with the built-in rules.
func New(cat *catalog.Catalog) *Matcher {
	m, err := NewWithRules(cat, nil)
	if err != nil { // the built-in table is checked by the tests
		panic(err)
	}
	return m
}

// NewWithRules returns a matcher for cat that checks the user rules (in
// order) before the built-in ones. A rule naming a product the catalog does
// not hold is kept but never matches (explain says so).
func NewWithRules(cat *catalog.Catalog, user []Rule) (*Matcher, error) {
	m := &Matcher{
		cat:      cat,
		names:    map[string]*keyIndex{},
		srcs:     map[string]*keyIndex{},
		byBundle: map[string]map[string][]*Rule{},
	}
	all := make([]Rule, 0, len(user)+len(builtinRules))
	all = append(all, user...)
	all = append(all, builtinRules...)
	for i := range all {
		r := all[i]
		if err := r.compile(); err != nil {
			if i < len(user) {
				return nil, fmt.Errorf("user rule %d: %w", i+1, err)
			}
			return nil, fmt.Errorf("built-in rule %d: %w", i-len(user)+1, err)
		}
		r.order, r.user = i, i < len(user)
		m.add(&r)
	}
	m.indexCatalog()
	return m, nil
}

// Catalog returns the catalog the matcher was built for.
func (m *Matcher) Catalog() *catalog.Catalog { return m.cat }

// Rules returns the rules the matcher checks, in order.
func (m *Matcher) Rules() []Rule {
	out := make([]Rule, len(m.rules))
	for i, r := range m.rules {
		out[i] = *r
	}
	return out
}

// tracer receives explanation steps; nil on the hot path.
type tracer func(format string, args ...any)

func (t tracer) f(format string, args ...any) {
	if t != nil {
		t(format, args...)
	}
}

// decision is what one matching step decided.
type decision uint8

const (
	undecided decision = iota // the step has no opinion: try the next one
	matched                   // the item is the product in the Result
	rejected                  // the item is known not to be a product: stop
)

// query is one item being matched, with what the steps share.
type query struct {
	it    api.Item
	lname string // the name, lowercased and trimmed
	lsrc  string // the source package, lowercased and trimmed
	// role is the package's role, decided when a claim needs it.
	role    role
	roleWhy string
	roleSet bool
}

// Match maps one inventory item to a product; ok is false when no rule applies.
func (m *Matcher) Match(it api.Item) (r Result, ok bool) { return m.match(it, nil) }

// match runs the steps in order; the first that decides wins:
//  1. an os item is matched like the host's OS;
//  2. a product hint naming a catalog product;
//  3. the rules, user rules first, in table order;
//  4. the catalog's identifiers (purls, repology, product ids and aliases);
//  5. product names, for programs, apps and named components.
func (m *Matcher) match(it api.Item, t tracer) (Result, bool) {
	if it.Source == SourceOS {
		return m.matchOSItem(it, t)
	}
	var q query
	q.init(it)
	if r, d := m.byHint(&q, t); d != undecided {
		return r, d == matched
	}
	if r, d := m.byRules(&q, t); d != undecided {
		return r, d == matched
	}
	if r, d := m.byIdentifiers(&q, t); d != undecided {
		return r, d == matched
	}
	r, d := m.byProductName(&q, t)
	return r, d == matched
}

func (q *query) init(it api.Item) {
	q.it = it
	if _, ok := ecosystems[it.Source]; ok {
		q.lname = ecoName(it.Source, it.Name) // rules see PyPI names normalised too
	} else {
		q.lname = strings.ToLower(strings.TrimSpace(it.Name))
	}
	q.lsrc = strings.ToLower(strings.TrimSpace(it.SourcePkg))
}

// packageRole returns the item's role (program, library, debug symbols...)
// from its name and, when the collector sent them, its section and summary.
func (q *query) packageRole() (role, string) {
	if !q.roleSet {
		q.role = nameRole(q.it.Source, q.lname)
		var why string
		q.role, why = metaRole(q.role, q.it.Section, q.it.Summary)
		if why == "" {
			why = "its name"
		}
		q.roleWhy, q.roleSet = why, true
	}
	return q.role, q.roleWhy
}

// isPackage reports whether the item comes from a distribution's package
// manager, where one source builds many packages with roles.
func (q *query) isPackage() bool {
	_, ok := purlTypes[q.it.Source]
	return ok
}

// upstream is the item's version as the verdict reads it.
func (q *query) upstream() string { return Upstream(q.it.Source, q.it.Version) }

// matchOSItem matches the agent's own OS item: {os, "windows",
// "10.0.22631.3296", product hint}.
func (m *Matcher) matchOSItem(it api.Item, t tracer) (Result, bool) {
	id := it.Product
	if id == "" {
		id = it.Name
	}
	t.f("an os item is matched like the host's OS (MatchOS gives the edition too)")
	return m.matchOS(api.HostInfo{OSID: id, OSVersion: it.Version, OSBuild: it.Version, OSName: it.Name}, t)
}

// byHint takes the catalog product a collector (a probe, an SBOM's CPE)
// names in the item.
func (m *Matcher) byHint(q *query, t tracer) (Result, decision) {
	if q.it.Product == "" || m.cat == nil {
		return Result{}, undecided
	}
	p := m.cat.Product(q.it.Product)
	if p == nil {
		if t != nil {
			t.f("the item names product %q, which the catalog does not hold", q.it.Product)
		}
		return Result{}, undecided
	}
	if t != nil {
		t.f("the item names catalog product %q itself", q.it.Product)
	}
	return Result{Product: p.ID, Version: q.upstream(), Rule: "product hint",
		Why: "the collector named the catalog product " + p.ID}, matched
}

// byRules tries the rules that can match the item, first match in table
// order (user rules come first in that order).
func (m *Matcher) byRules(q *query, t tracer) (Result, decision) {
	var buf [16]*Rule
	cands := m.candidates(q, buf[:0])
	for _, r := range cands {
		ver, ok := r.matches(q)
		if !ok {
			continue
		}
		var from string // how a version built from the item's version was read, for explanations
		if r.fromVersion {
			up := q.upstream()
			v, ok := r.versionFrom(up)
			if !ok {
				if t != nil {
					t.f("rule %q matches (%s) but version %q does not match its version_pattern %q; skipped", r.ID, r.describe(), up, r.VersionPattern)
				}
				continue
			}
			ver = v
			if t != nil {
				from = fmt.Sprintf(" (version %s read from %s by version_pattern %q and template %q)", v, up, r.VersionPattern, r.Version)
			}
		} else {
			if ver == "" {
				ver = q.upstream()
			}
			if r.vre != nil && !r.vre.MatchString(ver) {
				if t != nil {
					t.f("rule %q matches (%s) but version %q does not match its version_pattern %q; skipped", r.ID, r.describe(), ver, r.VersionPattern)
				}
				continue
			}
		}
		if r.Ignore {
			if t != nil {
				t.f("rule %q matches (%s) and marks the item as not a product: %s", r.ID, r.describe(), r.Why)
			}
			return Result{}, rejected
		}
		p := m.product(r.Product)
		if p == nil {
			if t != nil {
				t.f("rule %q matches (%s) but the catalog has no product %q; skipped", r.ID, r.describe(), r.Product)
			}
			continue
		}
		if q.isPackage() {
			ro, why := q.packageRole()
			if !ro.claimable() {
				if t != nil {
					t.f("rule %q matches (%s), but by %s the package is %s, which is never the product installed", r.ID, r.describe(), why, ro)
				}
				return Result{}, rejected
			}
			if !r.roles.has(ro) {
				if t != nil {
					t.f("rule %q matches (%s), but by %s the package is a %s package and the rule claims only %s", r.ID, r.describe(), why, ro, r.roles)
				}
				if r.bySource() {
					// Built from the product's source, yet not the product: a
					// later rule or identifier must not claim it either.
					return Result{}, rejected
				}
				continue
			}
		}
		if t != nil {
			t.f("rule %q matches (%s) → %s %s%s", r.ID, r.describe(), p.ID, ver, from)
		}
		return Result{Product: p.ID, Version: ver, Rule: "rule " + r.ID, Why: r.Why}, matched
	}
	if len(cands) == 0 {
		t.f("no rule is indexed under this name")
	} else if t != nil {
		if t != nil {
			t.f("%d rule(s) checked, none applies", len(cands))
		}
	}
	return Result{}, undecided
}

// candidates appends to c, in table order, the rules that can match q: by
// the leading letters of its name and of its source package, patterns
// without a literal start, and bundle-id rules.
func (m *Matcher) candidates(q *query, c []*Rule) []*Rule {
	src := q.it.Source
	if idx := m.names[src]; idx != nil {
		c = idx.lookup(q.lname, c)
	}
	if idx := m.srcs[src]; idx != nil && q.lsrc != "" {
		c = idx.lookup(q.lsrc, c)
	}
	if q.it.BundleID != "" {
		c = append(c, m.byBundle[src][strings.ToLower(q.it.BundleID)]...)
	}
	// Table order decides; the lists are short, so insertion sort.
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].order < c[j-1].order; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// byIdentifiers looks the item up among the catalog's identifiers: for a
// distribution package its own name, then its source package; for a
// language-ecosystem package its normalised name.
func (m *Matcher) byIdentifiers(q *query, t tracer) (Result, decision) {
	if typ, ok := purlTypes[q.it.Source]; ok {
		return m.byPackageIdentifiers(q, typ, t)
	}
	if _, ok := ecosystems[q.it.Source]; ok {
		return m.byEcosystemIdentifiers(q, t)
	}
	return Result{}, undecided
}

func (m *Matcher) byPackageIdentifiers(q *query, typ string, t tracer) (Result, decision) {
	if h, ok := m.lookupID(typ, q.lname); ok {
		ro, why := q.packageRole()
		if !ro.claimable() {
			if t != nil {
				t.f("identifier %s matches the package name, but by %s the package is %s, which is never the product installed", h.rule, why, ro)
			}
			return Result{}, rejected
		}
		if t != nil {
			t.f("identifier %s matches the package name", h.rule)
		}
		return Result{Product: h.product, Version: q.upstream(), Rule: h.rule, Why: h.why}, matched
	}
	if q.lsrc != "" && q.lsrc != q.lname {
		if h, ok := m.lookupID(typ, q.lsrc); ok {
			if ro, why := q.packageRole(); ro != roleProgram {
				if t != nil {
					t.f("identifier %s matches source package %q, but by %s %q is %s, not the product itself; not matched", h.rule, q.it.SourcePkg, why, q.it.Name, ro)
				}
				return Result{}, rejected
			}
			if t != nil {
				t.f("identifier %s matches source package %q", h.rule, q.it.SourcePkg)
			}
			return Result{Product: h.product, Version: q.upstream(), Rule: h.rule + " (source package)",
				Why: h.why + ", and this package is built from it"}, matched
		}
	}
	if t != nil {
		t.f("no catalog identifier (purl, repology, product id or alias) names %q or its source package", q.it.Name)
	}
	return Result{}, rejected
}

func (m *Matcher) byEcosystemIdentifiers(q *query, t tracer) (Result, decision) {
	src, name := q.it.Source, q.lname
	if h, ok := m.eco[src][name]; ok {
		if t != nil {
			t.f("identifier %s names the %s package %q", h.rule, src, name)
		}
		return Result{Product: h.product, Version: q.upstream(), Rule: h.rule, Why: h.why}, matched
	}
	if src == SourceGeneric {
		// A component known only by its name: the product ids, aliases and
		// repology names of software products, then product names.
		if h, ok := m.ids["*"][q.lname]; ok {
			if t != nil {
				t.f("identifier %s matches the component's name", h.rule)
			}
			return Result{Product: h.product, Version: q.upstream(), Rule: h.rule, Why: h.why}, matched
		}
		return Result{}, undecided
	}
	if t != nil {
		t.f("no catalog identifier names the %s package %q", src, name)
	}
	return Result{}, rejected
}

// byProductName matches a program's, app's or component's display name
// against product names: without versions, architectures and publisher
// words.
func (m *Matcher) byProductName(q *query, t tracer) (Result, decision) {
	src := q.it.Source
	if src != SourceWindows && src != SourceMacOSApp && src != SourceProbe && src != SourceGeneric {
		return Result{}, undecided
	}
	if src == SourceProbe {
		if p := m.product(q.lname); p != nil {
			if t != nil {
				t.f("the item is named like catalog product %s", p.ID)
			}
			return Result{Product: p.ID, Version: q.upstream(), Rule: "product id " + q.lname,
				Why: "the item is named like catalog product " + p.ID}, matched
		}
	}
	if h, ok := m.lookupLabel(q.lname); ok {
		if t != nil {
			t.f("%s", h.why)
		}
		return Result{Product: h.product, Version: q.upstream(), Rule: h.rule, Why: h.why}, matched
	}
	if t != nil {
		t.f("no catalog product is named %q", cleanName(q.lname))
	}
	return Result{}, rejected
}

func (m *Matcher) product(id string) *catalog.Product {
	if m.cat == nil {
		return nil
	}
	return m.cat.Product(id)
}

func (m *Matcher) lookupID(typ, name string) (idHit, bool) {
	if h, ok := m.ids[typ][name]; ok {
		return h, true
	}
	h, ok := m.ids["*"][name]
	return h, ok
}

// lookupLabel finds a product by a program's display name: the name
// without version numbers, architectures and parentheses, then the same
// without a leading vendor word ("mozilla firefox" → "firefox").
func (m *Matcher) lookupLabel(lname string) (idHit, bool) {
	c := cleanName(lname)
	if h, ok := m.labels[c]; ok && c != "" {
		return h, true
	}
	if i := strings.IndexByte(c, ' '); i > 0 {
		if h, ok := m.labels[c[i+1:]]; ok {
			return h, true
		}
	}
	return idHit{}, false
}

// cleanName drops words holding digits, parenthesised parts and
// architecture words from a lowercased program name.
func cleanName(lname string) string {
	var b strings.Builder
	depth := 0
	for _, w := range strings.Fields(lname) {
		open := strings.Count(w, "(")
		closed := strings.Count(w, ")")
		skip := depth > 0 || open > 0
		depth += open - closed
		if depth < 0 {
			depth = 0
		}
		if skip || strings.ContainsAny(w, "0123456789") || w == "x64" || w == "x86" || w == "-" || w == "arm64" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// Matched is one matched item of an inventory.
type Matched struct {
	Index int // position of the item in the inventory
	Result
	// Duplicate is true when an earlier item already matched the same
	// product at the same version (python3.11 and python3.11-minimal): the
	// server keeps one verdict per (product, version).
	Duplicate bool
}

// MatchAll matches a whole inventory and marks duplicates (same product and
// version). unmatched counts the items no rule or identifier claimed.
func (m *Matcher) MatchAll(items []api.Item) (matched []Matched, unmatched int) {
	type key struct{ product, version string }
	seen := make(map[key]bool, 32)
	for i, it := range items {
		r, ok := m.Match(it)
		if !ok {
			unmatched++
			continue
		}
		k := key{r.Product, r.Version}
		matched = append(matched, Matched{Index: i, Result: r, Duplicate: seen[k]})
		seen[k] = true
	}
	return matched, unmatched
}

// Explanation tells how an item was matched, step by step.
type Explanation struct {
	Item    api.Item `json:"item"`
	Matched bool     `json:"matched"`
	Product string   `json:"product,omitempty"`
	Version string   `json:"version,omitempty"`
	Cycle   string   `json:"cycle,omitempty"`
	Rule    string   `json:"rule,omitempty"`
	Why     string   `json:"why,omitempty"`
	Steps   []string `json:"steps"`
}

// Explain matches one item and records every step taken.
func (m *Matcher) Explain(it api.Item) Explanation {
	e := Explanation{Item: it}
	r, ok := m.match(it, func(format string, args ...any) {
		e.Steps = append(e.Steps, fmt.Sprintf(format, args...))
	})
	e.Matched, e.Product, e.Version, e.Cycle, e.Rule, e.Why = ok, r.Product, r.Version, r.Cycle, r.Rule, r.Why
	return e
}

// ExplainOS is Explain for a host's operating system.
func (m *Matcher) ExplainOS(h api.HostInfo) Explanation {
	e := Explanation{Item: api.Item{Source: SourceOS, Name: h.OSName, Version: h.OSVersion}}
	r, ok := m.matchOS(h, func(format string, args ...any) {
		e.Steps = append(e.Steps, fmt.Sprintf(format, args...))
	})
	e.Matched, e.Product, e.Version, e.Cycle, e.Rule, e.Why = ok, r.Product, r.Version, r.Cycle, r.Rule, r.Why
	return e
}

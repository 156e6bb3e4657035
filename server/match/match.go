// Package match maps inventory items (a dpkg package, a Windows program, the
// OS itself) to catalog products and extracts the upstream version used for
// the verdict, using the catalog's identifiers (purl, repology, cpe) and
// explicit rules for what they miss.
//
// Matching is on the ingest hot path: every lookup goes through maps built
// once per catalog (rules by the leading letters of the names they match,
// identifiers by package name); no item is compared with every product.
// See docs/matching.md for the order of the steps and how to add rules.
package match

import (
	"fmt"
	"net/url"
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
	byKey    map[string]map[string][]*Rule // source → leading letters → rules
	keyLens  map[string]uint64             // source → bit i set when a key of length i exists
	scan     map[string][]*Rule            // source → patterns without a literal start
	bySrcPkg map[string]map[string][]*Rule // source → source package → rules
	byBundle map[string]map[string][]*Rule // source → lowercased bundle id → rules

	ids    map[string]map[string]idHit // purl type (deb, rpm, apk) or "*" → lowercased name → product
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
		byKey:    map[string]map[string][]*Rule{},
		keyLens:  map[string]uint64{},
		scan:     map[string][]*Rule{},
		bySrcPkg: map[string]map[string][]*Rule{},
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
		r.order = i
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

func (m *Matcher) add(r *Rule) {
	m.rules = append(m.rules, r)
	for _, src := range r.sources() {
		switch {
		case r.SourcePkg != "":
			addTo(m.bySrcPkg, src, r.SourcePkg, r)
		case r.BundleID != "":
			addTo(m.byBundle, src, strings.ToLower(r.BundleID), r)
		default:
			k, ok := r.key()
			if !ok {
				m.scan[src] = append(m.scan[src], r)
				continue
			}
			addTo(m.byKey, src, k, r)
			if len(k) < 64 {
				m.keyLens[src] |= 1 << len(k)
			}
		}
	}
}

func addTo(idx map[string]map[string][]*Rule, src, key string, r *Rule) {
	if idx[src] == nil {
		idx[src] = map[string][]*Rule{}
	}
	idx[src][key] = append(idx[src][key], r)
}

// purlTypes maps item sources to the purl type of their packages.
var purlTypes = map[string]string{SourceDpkg: "deb", SourceRPM: "rpm", SourceAPK: "apk"}

// indexCatalog builds the identifier, label and Windows build indexes.
func (m *Matcher) indexCatalog() {
	m.ids = map[string]map[string]idHit{"deb": {}, "rpm": {}, "apk": {}, "*": {}}
	m.labels = map[string]idHit{}
	m.builds = map[string]map[int][]string{}
	if m.cat == nil {
		return
	}
	put := func(typ, name string, h idHit) {
		name = strings.ToLower(name)
		if name == "" {
			return
		}
		if _, dup := m.ids[typ][name]; !dup {
			m.ids[typ][name] = h
		}
	}
	for _, p := range m.cat.Products() {
		// Names alone (generic purls, repology, the id and aliases) are
		// trusted only for software: an OS, device or service named like a
		// package would be a false match.
		byName := p.Category != "os" && p.Category != "device" && p.Category != "service" && p.Category != "standard"
		for _, id := range p.Identifiers {
			switch id.Type {
			case "purl":
				typ, name, ok := parsePurl(id.ID)
				if !ok {
					continue
				}
				h := idHit{product: p.ID, rule: "purl " + id.ID,
					why: fmt.Sprintf("the catalog lists purl %s for %s", id.ID, p.ID)}
				switch {
				case typ == "deb" || typ == "rpm" || typ == "apk":
					put(typ, name, h)
				case typ == "generic" && byName:
					put("*", name, h)
				}
			case "repology":
				if byName {
					put("*", id.ID, idHit{product: p.ID, rule: "repology " + id.ID,
						why: fmt.Sprintf("the catalog lists repology project %s for %s", id.ID, p.ID)})
				}
			}
		}
		if byName {
			for _, n := range append([]string{p.ID}, p.Aliases...) {
				put("*", n, idHit{product: p.ID, rule: "product id " + n,
					why: fmt.Sprintf("the package is named like catalog product %s", p.ID)})
			}
		}
		for _, n := range []string{p.ID, p.Label} {
			n = strings.ToLower(n)
			if _, dup := m.labels[n]; !dup && n != "" && p.Category != "device" && p.Category != "service" {
				m.labels[n] = idHit{product: p.ID, rule: "product label " + n,
					why: fmt.Sprintf("the program's name is catalog product %s's name", p.ID)}
			}
		}
		if p.ID == "windows" || p.ID == "windows-server" {
			bb := map[int][]string{}
			for _, c := range p.Cycles {
				if b := buildNumber(c.Latest); b > 0 {
					bb[b] = append(bb[b], c.Name)
				}
			}
			m.builds[p.ID] = bb
		}
	}
}

// parsePurl returns the type and name of a purl ("pkg:deb/debian/nginx@1.2?x=y").
func parsePurl(s string) (typ, name string, ok bool) {
	rest, found := strings.CutPrefix(s, "pkg:")
	if !found {
		return "", "", false
	}
	if i := strings.IndexAny(rest, "?#@"); i >= 0 {
		rest = rest[:i]
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 {
		return "", "", false
	}
	name, err := url.PathUnescape(parts[len(parts)-1])
	if err != nil {
		return "", "", false
	}
	return strings.ToLower(parts[0]), name, true
}

// buildNumber returns the third component of a Windows version
// ("10.0.22631.3296" → 22631), or 0.
func buildNumber(v string) int {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 4)
	if len(parts) < 3 {
		return 0
	}
	n := 0
	for _, c := range []byte(parts[2]) {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// tracer receives explanation steps; nil on the hot path.
type tracer func(format string, args ...any)

func (t tracer) f(format string, args ...any) {
	if t != nil {
		t(format, args...)
	}
}

// Match maps one inventory item to a product; ok is false when no rule applies.
func (m *Matcher) Match(it api.Item) (r Result, ok bool) { return m.match(it, nil) }

func (m *Matcher) match(it api.Item, t tracer) (Result, bool) {
	src := it.Source
	if src == SourceOS {
		// The agent's own OS item: {os, "windows", "10.0.22631.3296", product hint}.
		id := it.Product
		if id == "" {
			id = it.Name
		}
		t.f("an os item is matched like the host's OS (MatchOS gives the edition too)")
		return m.matchOS(api.HostInfo{OSID: id, OSVersion: it.Version, OSBuild: it.Version, OSName: it.Name}, t)
	}
	if it.Product != "" && m.cat != nil {
		if p := m.cat.Product(it.Product); p != nil {
			t.f("the item names catalog product %q itself", it.Product)
			return Result{Product: p.ID, Version: Upstream(src, it.Version), Rule: "product hint",
				Why: "the collector named the catalog product " + p.ID}, true
		}
		t.f("the item names product %q, which the catalog does not hold", it.Product)
	}
	lname := strings.ToLower(strings.TrimSpace(it.Name))

	// 1. Rules, first match in table order.
	var buf [16]*Rule
	cands := buf[:0]
	if idx := m.byKey[src]; idx != nil {
		s := stem(lname)
		mask := m.keyLens[src]
		for l := 0; l <= len(s) && l < 64; l++ {
			if mask&(1<<l) != 0 {
				cands = append(cands, idx[s[:l]]...)
			}
		}
	}
	cands = append(cands, m.scan[src]...)
	if it.SourcePkg != "" {
		cands = append(cands, m.bySrcPkg[src][it.SourcePkg]...)
	}
	if it.BundleID != "" {
		cands = append(cands, m.byBundle[src][strings.ToLower(it.BundleID)]...)
	}
	// Table order decides; the lists are short, so insertion sort.
	for i := 1; i < len(cands); i++ {
		for j := i; j > 0 && cands[j].order < cands[j-1].order; j-- {
			cands[j], cands[j-1] = cands[j-1], cands[j]
		}
	}
	n := len(cands)
	for _, r := range cands {
		ver, ok := r.matches(lname, it.SourcePkg, it.Publisher, it.BundleID)
		if !ok {
			continue
		}
		if r.Ignore {
			t.f("rule %q matches (%s) and marks the item as not a product: %s", r.ID, r.describe(), r.Why)
			return Result{}, false
		}
		p := m.product(r.Product)
		if p == nil {
			t.f("rule %q matches (%s) but the catalog has no product %q; skipped", r.ID, r.describe(), r.Product)
			continue
		}
		if ver == "" {
			ver = Upstream(src, it.Version)
		}
		if r.vre != nil && !r.vre.MatchString(ver) {
			t.f("rule %q matches (%s) but version %q does not match its version_pattern %q; skipped", r.ID, r.describe(), ver, r.VersionPattern)
			continue
		}
		t.f("rule %q matches (%s) → %s %s", r.ID, r.describe(), p.ID, ver)
		return Result{Product: p.ID, Version: ver, Rule: "rule " + r.ID, Why: r.Why}, true
	}
	if n == 0 {
		t.f("no rule is indexed under this name")
	} else {
		t.f("%d rule(s) checked, none applies", n)
	}

	// 2. The catalog's identifiers, by package name, then by source package.
	if typ, isPkg := purlTypes[src]; isPkg {
		if h, ok := m.lookupID(typ, lname); ok {
			t.f("identifier %s matches the package name", h.rule)
			return Result{Product: h.product, Version: Upstream(src, it.Version), Rule: h.rule, Why: h.why}, true
		}
		if it.SourcePkg != "" && it.SourcePkg != it.Name {
			if h, ok := m.lookupID(typ, strings.ToLower(it.SourcePkg)); ok {
				if !principal(lname) {
					t.f("identifier %s matches source package %q, but %q is a library/dev/doc/data package of it; not matched", h.rule, it.SourcePkg, it.Name)
					return Result{}, false
				}
				t.f("identifier %s matches source package %q", h.rule, it.SourcePkg)
				return Result{Product: h.product, Version: Upstream(src, it.Version), Rule: h.rule + " (source package)",
					Why: h.why + ", and this package is built from it"}, true
			}
		}
		t.f("no catalog identifier (purl, repology, product id or alias) names %q or its source package", it.Name)
		return Result{}, false
	}

	// 3. Programs and apps: the name without versions, architectures and
	// publisher words, against product names.
	if src == SourceWindows || src == SourceMacOSApp || src == SourceProbe || src == SourceOS {
		if src == SourceOS || src == SourceProbe {
			if p := m.product(lname); p != nil {
				t.f("the item is named like catalog product %s", p.ID)
				return Result{Product: p.ID, Version: Upstream(src, it.Version), Rule: "product id " + lname,
					Why: "the item is named like catalog product " + p.ID}, true
			}
		}
		if h, ok := m.lookupLabel(lname); ok {
			t.f("%s", h.why)
			return Result{Product: h.product, Version: Upstream(src, it.Version), Rule: h.rule, Why: h.why}, true
		}
		t.f("no catalog product is named %q", cleanName(lname))
	}
	return Result{}, false
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

// principal reports whether a binary package built from a product's source
// package stands for the product: not a library (lib*), development,
// documentation, debug, data, translation or test package. Those share the
// product's version but would multiply every match by the number of
// packages a source builds.
func principal(name string) bool {
	if strings.HasPrefix(name, "lib") {
		return false
	}
	for _, suf := range []string{"-dev", "-doc", "-docs", "-dbg", "-dbgsym", "-debuginfo", "-data", "-common",
		"-l10n", "-locales", "-examples", "-man", "-tests", "-test", "-devel", "-java", "-perl", "-el"} {
		if strings.HasSuffix(name, suf) {
			return false
		}
	}
	return !strings.Contains(name, "-l10n-") && !strings.Contains(name, "-locale-")
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

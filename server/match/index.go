package match

import (
	"fmt"
	"net/url"
	"strings"
)

// keyIndex finds the rules that can match a name without trying them all:
// rules by the leading letters of what they match ("python3.11" →
// "python"), and patterns without a literal start, tried for every name.
type keyIndex struct {
	byKey map[string][]*Rule
	lens  uint64 // bit i set when a key of length i exists
	scan  []*Rule
}

func (x *keyIndex) add(r *Rule, keys func() ([]string, bool)) {
	ks, ok := keys()
	if !ok {
		x.scan = append(x.scan, r)
		return
	}
	if x.byKey == nil {
		x.byKey = map[string][]*Rule{}
	}
	for _, k := range ks {
		x.byKey[k] = append(x.byKey[k], r)
		if len(k) < 64 {
			x.lens |= 1 << len(k)
		}
	}
}

// lookup appends to dst the rules whose key is a prefix of the leading
// letters of name (lowercase), and the patterns without a literal start.
func (x *keyIndex) lookup(name string, dst []*Rule) []*Rule {
	s := stem(name)
	for l := 0; l <= len(s) && l < 64; l++ {
		if x.lens&(1<<l) != 0 {
			dst = append(dst, x.byKey[s[:l]]...)
		}
	}
	return append(dst, x.scan...)
}

func (m *Matcher) add(r *Rule) {
	m.rules = append(m.rules, r)
	for _, src := range r.sources() {
		switch {
		case r.BundleID != "":
			if m.byBundle[src] == nil {
				m.byBundle[src] = map[string][]*Rule{}
			}
			k := strings.ToLower(r.BundleID)
			m.byBundle[src][k] = append(m.byBundle[src][k], r)
		case r.bySource():
			indexOf(m.srcs, src).add(r, r.keys)
		default:
			indexOf(m.names, src).add(r, r.keys)
		}
	}
}

func indexOf(m map[string]*keyIndex, src string) *keyIndex {
	x := m[src]
	if x == nil {
		x = &keyIndex{}
		m[src] = x
	}
	return x
}

// purlTypes maps item sources to the purl type of their packages.
var purlTypes = map[string]string{SourceDpkg: "deb", SourceRPM: "rpm", SourceAPK: "apk"}

// indexCatalog builds the identifier, label and Windows build indexes.
func (m *Matcher) indexCatalog() {
	m.ids = map[string]map[string]idHit{"deb": {}, "rpm": {}, "apk": {}, "*": {}}
	m.eco = map[string]map[string]idHit{}
	for src := range ecosystems {
		m.eco[src] = map[string]idHit{}
	}
	m.labels = map[string]idHit{}
	m.builds = map[string]map[int][]string{}
	if m.cat == nil {
		return
	}
	put := func(idx map[string]idHit, name string, h idHit) {
		if name == "" {
			return
		}
		if _, dup := idx[name]; !dup {
			idx[name] = h
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
				h := idHit{product: p.ID, rule: "purl " + id.ID,
					why: fmt.Sprintf("the catalog lists purl %s for %s", id.ID, p.ID)}
				if typ, name, ok := parsePurl(id.ID); ok && (typ == "deb" || typ == "rpm" || typ == "apk") {
					put(m.ids[typ], strings.ToLower(name), h)
					continue
				}
				if src, name, ok := purlEcoName(id.ID); ok && (src != SourceGeneric || byName) {
					put(m.eco[src], name, h)
					if src == SourceGeneric {
						put(m.ids["*"], name, h)
					}
				}
			case "repology":
				if !byName {
					continue
				}
				h := idHit{product: p.ID, rule: "repology " + id.ID,
					why: fmt.Sprintf("the catalog lists repology project %s for %s", id.ID, p.ID)}
				put(m.ids["*"], strings.ToLower(id.ID), h)
				// "python:django" names the PyPI package django.
				if lang, name, ok := strings.Cut(id.ID, ":"); ok {
					if src, ok := repologyEcosystems[lang]; ok {
						put(m.eco[src], ecoName(src, name), h)
					}
				}
			}
		}
		if byName {
			for _, n := range append([]string{p.ID}, p.Aliases...) {
				put(m.ids["*"], strings.ToLower(n), idHit{product: p.ID, rule: "product id " + n,
					why: fmt.Sprintf("the package is named like catalog product %s", p.ID)})
			}
		}
		for _, n := range []string{p.ID, p.Label} {
			n = strings.ToLower(n)
			if p.Category != "device" && p.Category != "service" {
				put(m.labels, n, idHit{product: p.ID, rule: "product label " + n,
					why: fmt.Sprintf("the program's name is catalog product %s's name", p.ID)})
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

package match

import (
	"sort"

	"github.com/eolwatch/eolwatch/server/api"
)

// Coverage summarises how much of an inventory matched catalog products.
type Coverage struct {
	Items          int               `json:"items"`
	Matched        int               `json:"matched"`   // items that matched a product (duplicates included)
	Unmatched      int               `json:"unmatched"` // items no rule or identifier claimed
	Products       []ProductCoverage `json:"products"`  // one per distinct (product, version), sorted
	UnmatchedNames []string          `json:"unmatched_names"`
}

// ProductCoverage lists the items that matched one product version.
type ProductCoverage struct {
	Product string   `json:"product"`
	Version string   `json:"version"`
	Items   []string `json:"items"` // item names, in inventory order
}

// Percent returns the share of items that matched, 0-100.
func (c Coverage) Percent() float64 {
	if c.Items == 0 {
		return 0
	}
	return 100 * float64(c.Matched) / float64(c.Items)
}

// Cover matches every item and summarises the result.
func Cover(m *Matcher, items []api.Item) Coverage {
	c := Coverage{Items: len(items)}
	idx := map[[2]string]int{}
	for _, it := range items {
		r, ok := m.Match(it)
		if !ok {
			c.Unmatched++
			c.UnmatchedNames = append(c.UnmatchedNames, it.Name)
			continue
		}
		c.Matched++
		k := [2]string{r.Product, r.Version}
		i, seen := idx[k]
		if !seen {
			i = len(c.Products)
			idx[k] = i
			c.Products = append(c.Products, ProductCoverage{Product: r.Product, Version: r.Version})
		}
		c.Products[i].Items = append(c.Products[i].Items, it.Name)
	}
	sort.Slice(c.Products, func(i, j int) bool {
		if c.Products[i].Product != c.Products[j].Product {
			return c.Products[i].Product < c.Products[j].Product
		}
		return c.Products[i].Version < c.Products[j].Version
	})
	return c
}

// Line is one item's match, as `match coverage --format jsonl` writes it:
// one object per input item, so two matchers (or two versions of the
// rules) can be compared line by line. Product is "" when nothing claimed
// the item.
type Line struct {
	Source    string `json:"source"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	SourcePkg string `json:"source_pkg,omitempty"`
	Product   string `json:"product"`
	// ProductVersion is the version the verdict reads (the upstream version).
	ProductVersion string `json:"product_version,omitempty"`
	// Cycle is the catalog's release cycle for ProductVersion.
	Cycle string `json:"cycle,omitempty"`
	Rule  string `json:"rule,omitempty"`
}

// LineOf builds the coverage line of item it and its match r (ok false:
// unmatched); cycle is the catalog cycle of the match.
func LineOf(it api.Item, r Result, ok bool, cycle string) Line {
	l := Line{Source: it.Source, Name: it.Name, Version: it.Version, SourcePkg: it.SourcePkg}
	if ok {
		l.Product, l.ProductVersion, l.Cycle, l.Rule = r.Product, r.Version, cycle, r.Rule
	}
	return l
}

// Claims summarises coverage lines by product, for reading a whole
// archive's claims: which package names each product claimed, by which
// rule, at which versions.
type Claims struct {
	Rows     int // lines read
	Claimed  int // lines with a product
	Products []ProductClaims
}

// ProductClaims is what one product claimed.
type ProductClaims struct {
	Product  string
	Rows     int
	Names    int      // distinct package names
	Versions []string // distinct product versions, sorted
	Rules    []RuleClaims
}

// RuleClaims lists the distinct names one rule claimed for a product, sorted.
type RuleClaims struct {
	Rule  string
	Names []string
}

// Summarize groups coverage lines by product and rule.
func Summarize(lines []Line) Claims {
	c := Claims{Rows: len(lines)}
	type prod struct {
		rows     int
		names    map[string]bool
		versions map[string]bool
		rules    map[string]map[string]bool
	}
	byProduct := map[string]*prod{}
	for _, l := range lines {
		if l.Product == "" {
			continue
		}
		c.Claimed++
		p := byProduct[l.Product]
		if p == nil {
			p = &prod{names: map[string]bool{}, versions: map[string]bool{}, rules: map[string]map[string]bool{}}
			byProduct[l.Product] = p
		}
		p.rows++
		p.names[l.Name] = true
		p.versions[l.ProductVersion] = true
		if p.rules[l.Rule] == nil {
			p.rules[l.Rule] = map[string]bool{}
		}
		p.rules[l.Rule][l.Name] = true
	}
	for id, p := range byProduct {
		pc := ProductClaims{Product: id, Rows: p.rows, Names: len(p.names), Versions: sortedKeys(p.versions)}
		for rule, names := range p.rules {
			pc.Rules = append(pc.Rules, RuleClaims{Rule: rule, Names: sortedKeys(names)})
		}
		sort.Slice(pc.Rules, func(i, j int) bool { return pc.Rules[i].Rule < pc.Rules[j].Rule })
		c.Products = append(c.Products, pc)
	}
	sort.Slice(c.Products, func(i, j int) bool { return c.Products[i].Product < c.Products[j].Product })
	return c
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

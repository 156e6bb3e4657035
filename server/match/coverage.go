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

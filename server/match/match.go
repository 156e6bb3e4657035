// Package match maps inventory items (a dpkg package, a Windows program, the
// OS itself) to catalog products and extracts the upstream version used for
// the verdict, using the catalog's identifiers (purl, repology, cpe) and
// explicit rules for what they miss.
package match

import (
	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// SKELETON: the signatures are the contract the server builds against.

// Result is a successful match.
type Result struct {
	Product string // catalog product id, e.g. "python"
	Version string // upstream version for the verdict, e.g. "2.39.5" from "1:2.39.5-0+deb12u3"
	Rule    string // which rule matched, e.g. "dpkg-versioned-name python3.11"
	Why     string // one sentence for `match explain`
}

// Matcher matches items against one catalog. Safe for concurrent use.
type Matcher struct{ cat *catalog.Catalog }

// New returns a matcher for cat.
func New(cat *catalog.Catalog) *Matcher { return &Matcher{cat: cat} }

// Match maps one inventory item to a product; ok is false when no rule applies.
func (m *Matcher) Match(it api.Item) (r Result, ok bool) { return Result{}, false }

// MatchOS maps a host's operating system to a product (debian 12, ubuntu
// 22.04, windows 11 23H2, macos 14).
func (m *Matcher) MatchOS(h api.HostInfo) (r Result, ok bool) { return Result{}, false }

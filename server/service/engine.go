package service

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
	"github.com/eolwatch/eolwatch/server/sbom"
	"github.com/eolwatch/eolwatch/server/store"
)

// engine matches items and evaluates versions against one catalog, with
// caches: a fleet has far fewer distinct items and (product, version) pairs
// than installs. A new catalog gets a new engine. Safe for concurrent use.
type engine struct {
	cat     *catalog.Catalog
	m       *match.Matcher
	sm      *sbom.Matcher // SBOM components through m
	version string
	policy  catalog.Policy

	mu      sync.RWMutex
	matches map[api.Item]store.Match
	evals   map[evalKey]catalog.Verdict
}

type evalKey struct{ product, version, asOf string }

// cacheMax bounds each cache; past it the cache starts over.
const cacheMax = 1 << 18

func newEngine(cat *catalog.Catalog, policy catalog.Policy) *engine {
	m := match.New(cat)
	return &engine{cat: cat, m: m, sm: sbom.NewMatcher(m), version: cat.Info().Version, policy: policy,
		matches: map[api.Item]store.Match{}, evals: map[evalKey]catalog.Verdict{}}
}

// match matches one inventory item (an "os" item through MatchOS).
func (e *engine) match(it api.Item) store.Match {
	e.mu.RLock()
	m, ok := e.matches[it]
	e.mu.RUnlock()
	if ok {
		return m
	}
	var r match.Result
	if it.Source == osSource {
		r, ok = e.m.MatchOS(hostFromOSItem(it))
	} else {
		r, ok = e.m.Match(it)
	}
	if ok {
		m = store.Match{Product: r.Product, Version: r.Version, Rule: r.Rule}
	}
	e.mu.Lock()
	if len(e.matches) >= cacheMax {
		e.matches = map[api.Item]store.Match{}
	}
	e.matches[it] = m
	e.mu.Unlock()
	return m
}

// evaluate returns the verdict for product at version on day asOf (YYYY-MM-DD).
func (e *engine) evaluate(product, version, asOf string) catalog.Verdict {
	k := evalKey{product, version, asOf}
	e.mu.RLock()
	v, ok := e.evals[k]
	e.mu.RUnlock()
	if ok {
		return v
	}
	day, err := time.Parse(time.DateOnly, asOf)
	if err != nil {
		day = time.Now().UTC().Truncate(24 * time.Hour)
	}
	v = e.cat.Evaluate(product, version, day, e.policy)
	if v.Product == "" {
		v.Product = product
	}
	if v.Version == "" {
		v.Version = version
	}
	e.mu.Lock()
	if len(e.evals) >= cacheMax {
		e.evals = map[evalKey]catalog.Verdict{}
	}
	e.evals[k] = v
	e.mu.Unlock()
	return v
}

// osSource is the item source of a host's operating system.
const osSource = "os"

// osItem turns a host's OS into an inventory item, so the OS is matched,
// stored and judged like any other install. The identity fields travel in
// the item's Product field (a JSON object) so matching can be re-run later
// from the stored item alone.
func osItem(h api.HostInfo) (api.Item, bool) {
	if h.OSID == "" && h.OSName == "" && h.OS == "" {
		return api.Item{}, false
	}
	id := osIdentity{OS: h.OS, OSID: h.OSID, OSName: h.OSName, OSVersion: h.OSVersion, OSBuild: h.OSBuild}
	b, _ := json.Marshal(id)
	name := h.OSName
	if name == "" {
		name = strings.TrimSpace(h.OSID + " " + h.OSVersion)
	}
	if name == "" {
		name = h.OS
	}
	v := h.OSVersion
	if h.OSBuild != "" {
		v = strings.TrimSpace(v + " " + h.OSBuild)
	}
	return api.Item{Source: osSource, Name: name, Version: v, Arch: h.Arch, Product: string(b)}, true
}

type osIdentity struct {
	OS        string `json:"os,omitempty"`
	OSID      string `json:"os_id,omitempty"`
	OSName    string `json:"os_name,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	OSBuild   string `json:"os_build,omitempty"`
}

func hostFromOSItem(it api.Item) api.HostInfo {
	var id osIdentity
	_ = json.Unmarshal([]byte(it.Product), &id)
	return api.HostInfo{OS: id.OS, OSID: id.OSID, OSName: id.OSName, OSVersion: id.OSVersion, OSBuild: id.OSBuild, Arch: it.Arch}
}

// prepare matches a full report's items (plus the OS) and evaluates every
// distinct matched (product, version) once.
func (e *engine) prepare(r *api.Report, asOf string) ([]store.MatchedItem, []store.Verdict) {
	items := make([]store.MatchedItem, 0, len(r.Items)+1)
	if it, ok := osItem(r.Host); ok {
		items = append(items, store.MatchedItem{Item: it, Match: e.match(it)})
	}
	seenItem := make(map[api.Item]bool, len(r.Items))
	for _, it := range r.Items {
		if it.Source == osSource {
			continue // the OS item is built from the host block above
		}
		if seenItem[it] {
			continue // an exact duplicate line adds nothing
		}
		seenItem[it] = true
		items = append(items, store.MatchedItem{Item: it, Match: e.match(it)})
	}
	type pv struct{ p, v string }
	seen := map[pv]bool{}
	var vs []store.Verdict
	for _, mi := range items {
		if mi.Match.Product == "" {
			continue
		}
		k := pv{mi.Match.Product, mi.Match.Version}
		if seen[k] {
			continue
		}
		seen[k] = true
		vs = append(vs, store.Verdict{Installed: mi.Item.Version, V: e.evaluate(k.p, k.v, asOf)})
	}
	return items, vs
}

package service

import (
	"encoding/json"
	"slices"
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

type evalKey struct{ product, version, context, asOf string }

// cacheMax bounds each cache; past it the cache starts over.
const cacheMax = 1 << 18

func newEngine(cat *catalog.Catalog, policy catalog.Policy) *engine {
	return newEngineWith(match.New(cat), policy)
}

// newEngineWith is newEngine with the matcher m (over its catalog).
func newEngineWith(m *match.Matcher, policy catalog.Policy) *engine {
	cat := m.Catalog()
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

// evaluate returns the verdict for product at (upstream) version in the
// stored context ctxKey (see evalContext; "" judges it upstream for a host
// enrolled in nothing) on day asOf (YYYY-MM-DD), under the engine's policy.
func (e *engine) evaluate(product, version, ctxKey, asOf string) catalog.Verdict {
	k := evalKey{product, version, ctxKey, asOf}
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
	c := parseContext(ctxKey)
	v = e.cat.EvaluateIn(product, version, c.catalogContext(), day, e.policy)
	if v.Product == "" {
		v.Product = product
	}
	if v.Version == "" {
		v.Version = version
	}
	if c.Distro != "" && v.Maintainer == c.Distro {
		if w := repoAgeWarning(c.RepoDate, day); w != "" {
			v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], w)
		}
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

// prepare matches a full report's items (plus the OS, built from the host
// block) and judges them (judge) as those of a host of kind (api.KindHost,
// or api.KindAsset for an SBOM's): seen holds the first-seen time of each
// package's candidate known for the host, now is the time of a candidate
// seen for the first time. It returns the matched items, their verdicts
// and the candidates to remember for the host.
func (e *engine) prepare(r *api.Report, kind, asOf string, seen map[candidateKey]store.Candidate, now time.Time) ([]store.MatchedItem, []store.Verdict, []store.Candidate) {
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
	cands := candidates(items, seen, now)
	return items, e.judge(store.HostInventory{Info: r.Host, Kind: kind, Items: items, Candidates: cands}, asOf), cands
}

// candidates returns the packages whose candidate is newer than the
// installed version, with the time the server first saw that candidate for
// the host: kept from old while the candidate is unchanged, now when it is
// new or changed.
func candidates(items []store.MatchedItem, old map[candidateKey]store.Candidate, now time.Time) []store.Candidate {
	var out []store.Candidate
	done := map[candidateKey]bool{}
	for _, mi := range items {
		it := &mi.Item
		if it.Candidate == "" || it.Candidate == it.Version || it.Source == osSource {
			continue
		}
		k := candidateKey{it.Source, it.Name, it.Arch}
		if done[k] {
			continue
		}
		done[k] = true
		c := store.Candidate{Source: it.Source, Name: it.Name, Arch: it.Arch, Candidate: it.Candidate, FirstSeen: now.UTC()}
		if o, ok := old[k]; ok && o.Candidate == it.Candidate && !o.FirstSeen.IsZero() {
			c.FirstSeen = o.FirstSeen
		}
		out = append(out, c)
	}
	return out
}

// facts returns what the host's verdicts depend on besides each install.
// items must hold the host's OS item when it has one.
func (e *engine) facts(info api.HostInfo, items []store.MatchedItem) hostFacts {
	h := hostFacts{repoDate: info.RepoDataDate}
	if len(info.ExtendedSupport) > 0 {
		h.enrolled = slices.Clone(info.ExtendedSupport)
		slices.Sort(h.enrolled)
		h.enrolled = slices.Compact(h.enrolled)
	}
	for _, mi := range items {
		if mi.Item.Source == osSource && mi.Match.Product != "" {
			h.osProduct = mi.Match.Product
			h.osRelease = e.cat.ParseVersion(mi.Match.Product, mi.Match.Version).Cycle()
			h.codename = codenameOf(e.cat.Product(h.osProduct), h.osRelease)
			break
		}
	}
	return h
}

// codenameOf is the first word of a release's code name, lower-cased
// ("Bookworm" → "bookworm", "Jammy Jellyfish" → "jammy"), or "".
func codenameOf(p *catalog.Product, release string) string {
	if p == nil || release == "" {
		return ""
	}
	for _, c := range p.Cycles {
		if c.Name == release {
			w, _, _ := strings.Cut(strings.TrimSpace(c.Codename), " ")
			return strings.ToLower(w)
		}
	}
	return ""
}

// judge evaluates a host's matched items, each in its context
// (contextOf; for the OS osContext, or assetOSContext for an asset): one
// verdict per distinct matched (product, version). When several items
// share one (python3.11 and libpython3.11-stdlib), the verdict is the
// worst of theirs, so no item's trouble is hidden.
func (e *engine) judge(inv store.HostInventory, asOf string) []store.Verdict {
	items := inv.Items
	h := e.facts(inv.Info, items)
	seen := make(map[candidateKey]time.Time, len(inv.Candidates))
	for _, c := range inv.Candidates {
		seen[candidateKey{c.Source, c.Name, c.Arch}] = c.FirstSeen
	}
	type pv struct{ p, v string }
	at := map[pv]int{}
	var vs []store.Verdict
	for i := range items {
		mi := &items[i]
		if mi.Match.Product == "" {
			continue
		}
		var c evalContext
		switch {
		case mi.Item.Source == osSource && inv.Kind == api.KindAsset:
			c = assetOSContext(&h, items)
		case mi.Item.Source == osSource:
			c = osContext(&h, items, seen)
		default:
			c = contextOf(&h, &mi.Item, seen[candidateKey{mi.Item.Source, mi.Item.Name, mi.Item.Arch}])
		}
		key := c.key()
		v := store.Verdict{Installed: mi.Item.Version, Context: key, V: e.evaluate(mi.Match.Product, mi.Match.Version, key, asOf)}
		k := pv{mi.Match.Product, mi.Match.Version}
		j, ok := at[k]
		if !ok {
			at[k] = len(vs)
			vs = append(vs, v)
			continue
		}
		if catalog.StatusRank(v.V.Status) < catalog.StatusRank(vs[j].V.Status) {
			vs[j] = v
		}
	}
	return vs
}

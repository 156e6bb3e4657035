package sbom

import (
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// ComponentRef identifies the component a finding is about.
type ComponentRef struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	Ref     string `json:"bom_ref,omitempty"`
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
}

// Finding is the verdict for one judged component: the catalog verdict
// (product, version — the upstream version judged —, support, phase,
// patch, status, cycle, ...) plus the day it is for, the component and how
// it matched.
type Finding struct {
	catalog.Verdict
	AsOf      string       `json:"as_of"`
	Component ComponentRef `json:"component"`
	Rule      string       `json:"match_rule"`
	Distro    *Distro      `json:"distro,omitempty"`
	// Vendor names the third-party repository a distribution package's
	// version shows (then judged upstream).
	Vendor string `json:"vendor,omitempty"`
}

// Judge turns components into findings for one day and policy. Safe for
// concurrent use; it caches verdicts per product, version and context.
//
// A distribution package whose purl names the distribution and its release
// (distro=debian-12) is judged by that release's support, as
// catalog.EvaluateIn defines it, with the upstream verdict as context; an
// SBOM says nothing of the candidate version the package manager would
// install, so its patch status is unknown and not counted.
type Judge struct {
	m      *Matcher
	cat    *catalog.Catalog
	asOf   time.Time
	day    string
	policy catalog.Policy

	mu      sync.Mutex
	evals   map[evalKey]catalog.Verdict
	distros map[Distro]string // distro id and release → catalog product id
}

type evalKey struct {
	product, version string
	ctx              string // distro product, release and installed version; "" upstream
}

// evalCacheMax bounds the verdict cache; past it the cache starts over.
const evalCacheMax = 1 << 16

// NewJudge returns a judge using m's catalog on day asOf with policy p
// (zero means catalog.DefaultPolicy).
func NewJudge(m *Matcher, asOf time.Time, p catalog.Policy) *Judge {
	if p.IsZero() {
		p = catalog.DefaultPolicy()
	}
	return &Judge{m: m, cat: m.Catalog(), asOf: asOf, day: asOf.Format(catalog.DateLayout), policy: p,
		evals: map[evalKey]catalog.Verdict{}, distros: map[Distro]string{}}
}

// Judge matches component c and evaluates it. ok is false when no catalog
// product claims the component (it is then not judged). The error is a
// problem with the component (a purl that does not parse), naming its field.
func (j *Judge) Judge(c *Component) (f Finding, ok bool, err error) {
	r, err := j.m.Resolve(c)
	if err != nil || !r.Matched {
		return f, false, err
	}
	var ctx catalog.Context
	if r.Distro.ID != "" && r.Distro.Version != "" {
		ctx = catalog.Context{Distro: j.distroProduct(r.Distro), DistroRelease: r.Distro.Version, Installed: r.Item.Version}
	}
	f.Verdict = j.evaluate(r.Result.Product, r.Result.Version, ctx)
	if c.Version == "" && !r.OS {
		f.Verdict = noVersion(f.Verdict, c)
	}
	f.AsOf = j.day
	f.Component = ComponentRef{Name: c.Name, Version: c.Version, PURL: c.PURL, Ref: c.Ref, Field: c.Field, Line: c.Line, Column: c.Column}
	f.Rule = r.Result.Rule
	if r.Distro.ID != "" {
		d := r.Distro
		f.Distro = &d
	}
	f.Vendor = r.Vendor
	return f, true, nil
}

func (j *Judge) evaluate(product, version string, ctx catalog.Context) catalog.Verdict {
	k := evalKey{product: product, version: version}
	if ctx.Distro != "" {
		k.ctx = ctx.Distro + "\x00" + ctx.DistroRelease + "\x00" + ctx.Installed
	}
	j.mu.Lock()
	v, ok := j.evals[k]
	j.mu.Unlock()
	if ok {
		return v
	}
	v = j.cat.EvaluateIn(product, version, ctx, j.asOf, j.policy)
	j.mu.Lock()
	if len(j.evals) >= evalCacheMax {
		j.evals = map[evalKey]catalog.Verdict{}
	}
	j.evals[k] = v
	j.mu.Unlock()
	return v
}

// distroProduct maps a purl's distribution ("alpine" "3.19.1") to its
// catalog product ("alpine-linux") the way a host's os-release ID is
// mapped; an id the catalog does not know stays as it is (the verdict then
// warns that the package is judged upstream).
func (j *Judge) distroProduct(d Distro) string {
	j.mu.Lock()
	id, ok := j.distros[d]
	j.mu.Unlock()
	if ok {
		return id
	}
	id = d.ID
	if r, ok := j.m.m.MatchOS(api.HostInfo{OSID: d.ID, OSVersion: d.Version}); ok {
		id = r.Product
	}
	j.mu.Lock()
	j.distros[d] = id
	j.mu.Unlock()
	return id
}

// noVersion is the verdict for a component the SBOM gives no version for:
// its product is known, the version is not.
func noVersion(v catalog.Verdict, c *Component) catalog.Verdict {
	return catalog.Verdict{
		Product: v.Product, Support: catalog.SupportUnknownVersion, Phase: catalog.PhaseUnknown,
		Patch: catalog.PatchUnknown, Status: catalog.StatusUnknownVersion, Newest: v.Newest,
		UpgradeTo: v.UpgradeTo,
		Reason:    "The SBOM gives no version for this component (" + c.Field + ".version), so its support status is unknown.",
	}
}

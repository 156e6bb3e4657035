package sbom

import (
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
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
}

// Judge turns components into findings for one day and policy. Safe for
// concurrent use; it caches verdicts per (product, version).
type Judge struct {
	m      *Matcher
	cat    *catalog.Catalog
	asOf   time.Time
	day    string
	policy catalog.Policy

	mu    sync.Mutex
	evals map[[2]string]catalog.Verdict
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
		evals: map[[2]string]catalog.Verdict{}}
}

// Judge matches component c and evaluates it. ok is false when no catalog
// product claims the component (it is then not judged). The error is a
// problem with the component (a purl that does not parse), naming its field.
func (j *Judge) Judge(c *Component) (f Finding, ok bool, err error) {
	r, err := j.m.Resolve(c)
	if err != nil || !r.Matched {
		return f, false, err
	}
	f.Verdict = j.evaluate(r.Result.Product, r.Result.Version)
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
	return f, true, nil
}

func (j *Judge) evaluate(product, version string) catalog.Verdict {
	k := [2]string{product, version}
	j.mu.Lock()
	v, ok := j.evals[k]
	j.mu.Unlock()
	if ok {
		return v
	}
	v = j.cat.Evaluate(product, version, j.asOf, j.policy)
	j.mu.Lock()
	if len(j.evals) >= evalCacheMax {
		j.evals = map[[2]string]catalog.Verdict{}
	}
	j.evals[k] = v
	j.mu.Unlock()
	return v
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

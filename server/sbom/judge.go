package sbom

import (
	"slices"
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
	ctx              string // distro product, release, installed version and release package; "" upstream
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
//
// An operating-system component judged on its own has no release package
// to read its point release from (see Check and osContext): a distribution
// release is judged by the distribution with its patch status unknown.
func (j *Judge) Judge(c *Component) (f Finding, ok bool, err error) {
	f, ok, _, err = j.judge(c, nil)
	return f, ok, err
}

// judge is Judge within one document, whose release packages doc
// collects (nil: none). deferred is set for an operating-system component
// doc holds back until the document's end (doc.hold), when its release
// package may still come.
func (j *Judge) judge(c *Component, doc *docReleases) (f Finding, ok, deferred bool, err error) {
	r, err := j.m.Resolve(c)
	if err != nil {
		return f, false, false, err
	}
	if doc != nil && r.Distro.Version != "" && catalog.IsReleasePackage(r.Item.Name) {
		doc.note(j.distroProduct(r.Distro), r.Distro.Version, r.Item)
	}
	if !r.Matched {
		return f, false, false, nil
	}
	var ctx catalog.Context
	version := r.Result.Version
	switch {
	case r.OS:
		if doc.hold(c, r.Result.Product) {
			return f, false, true, nil
		}
		ctx, version = j.osContext(&r, doc)
	case r.Distro.ID != "" && r.Distro.Version != "":
		ctx = catalog.Context{Distro: j.distroProduct(r.Distro), DistroRelease: r.Distro.Version, Installed: r.Item.Version}
	}
	f.Verdict = j.evaluate(r.Result.Product, version, ctx)
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
	return f, true, false, nil
}

// osContext is how an operating-system component is judged, and the
// version judged: a distribution whose point releases ship as updates of
// a release package (catalog.ReleasePackages) is judged by the
// distribution, as a host's OS with that package is, with the release
// package the document lists for the same release as the installed
// version (base-files 12.4+deb12u11 makes syft's "debian" "12" Debian
// 12.11, as /etc/debian_version tells the agent) and no candidate, since
// an SBOM names none: the patch status is unknown, as for the
// distribution's packages. Another OS (Windows) is judged by the catalog
// alone.
func (j *Judge) osContext(r *Resolved, doc *docReleases) (catalog.Context, string) {
	product, version := r.Result.Product, r.Result.Version
	names := catalog.ReleasePackages(product)
	if len(names) == 0 {
		return catalog.Context{}, version
	}
	release := j.cat.ParseVersion(product, version).Cycle()
	if release == "" {
		return catalog.Context{}, version
	}
	ctx := catalog.Context{Distro: product, DistroRelease: release}
	for _, name := range names {
		it, ok := doc.find(j.cat, product, release, name)
		if !ok {
			continue
		}
		ctx.Installed, ctx.Package = it.Version, name
		if pr := j.cat.PointRelease(product, release, it.Version); pr != "" {
			version = pr
		}
		break
	}
	return ctx, version
}

// maxHeldOS bounds the operating-system components a document's check
// holds back until its end (syft writes one); past it they are judged at
// once, with the release packages seen before them.
const maxHeldOS = 16

// docReleases collects, over one document, the release packages its
// distribution packages include (the first of each name per distribution
// and release), and holds back the operating-system components that came
// before their release package. A nil *docReleases collects nothing.
type docReleases struct {
	mu   sync.Mutex
	pkgs map[releaseKey]api.Item
	held []Component // copies
	done bool        // the document is read: hold nothing more
}

type releaseKey struct{ distro, release, name string }

func (d *docReleases) note(distro, release string, it api.Item) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.pkgs == nil {
		d.pkgs = map[releaseKey]api.Item{}
	}
	k := releaseKey{distro, release, it.Name}
	if _, ok := d.pkgs[k]; !ok {
		d.pkgs[k] = it
	}
}

// find returns the release package name of distribution product's release
// (a cycle) the document lists, when one was seen.
func (d *docReleases) find(cat *catalog.Catalog, product, release, name string) (api.Item, bool) {
	if d == nil {
		return api.Item{}, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, it := range d.pkgs {
		if k.distro == product && k.name == name && cat.ParseVersion(product, k.release).Cycle() == release {
			return it, true
		}
	}
	return api.Item{}, false
}

// hold keeps a copy of operating-system component c (of catalog product
// product) to be judged at the document's end, unless a release package of
// its distribution was seen already, the document is read, or enough are
// held.
func (d *docReleases) hold(c *Component, product string) bool {
	if d == nil || len(catalog.ReleasePackages(product)) == 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done || len(d.held) >= maxHeldOS {
		return false
	}
	for k := range d.pkgs {
		if k.distro == product {
			return false
		}
	}
	cp := *c
	cp.CPEs = slices.Clone(c.CPEs)
	d.held = append(d.held, cp)
	return true
}

// release ends the document: it returns the components held back, to be
// judged now.
func (d *docReleases) release() []Component {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = true
	held := d.held
	d.held = nil
	return held
}

func (j *Judge) evaluate(product, version string, ctx catalog.Context) catalog.Verdict {
	k := evalKey{product: product, version: version}
	if ctx.Distro != "" {
		k.ctx = ctx.Distro + "\x00" + ctx.DistroRelease + "\x00" + ctx.Installed + "\x00" + ctx.Package
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

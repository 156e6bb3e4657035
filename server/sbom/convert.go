package sbom

import (
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/pkgver"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

// Item sources for package-ecosystem components (api.Item.Source values the
// matcher knows, next to dpkg, rpm and apk).
const (
	SourcePyPI     = "pypi"
	SourceNPM      = "npm"
	SourceMaven    = "maven" // name "group:artifact"
	SourceNuGet    = "nuget"
	SourceGolang   = "golang"
	SourceGem      = "gem"
	SourceComposer = "composer"
	SourceCargo    = "cargo"
	SourceGeneric  = "generic"
)

// purlSources maps purl types to item sources; any other type is generic.
var purlSources = map[string]string{
	"deb": match.SourceDpkg, "rpm": match.SourceRPM, "apk": match.SourceAPK,
	"pypi": SourcePyPI, "npm": SourceNPM, "maven": SourceMaven, "nuget": SourceNuGet, "golang": SourceGolang,
	"gem": SourceGem, "composer": SourceComposer, "cargo": SourceCargo, "generic": SourceGeneric,
}

// SubjectField is the Field of the component a CycloneDX document
// describes itself by (metadata.component: the scanned directory, image or
// file).
const SubjectField = "metadata.component"

// distroTypes are the purl types of distribution packages: for them the
// matcher decides alone, exactly as for an agent's inventory (its ignore
// rules and source-package logic), and no CPE or name guess is tried.
var distroTypes = map[string]bool{"deb": true, "rpm": true, "apk": true}

// Distro is the distribution a package purl says maintains the package
// (its distro= qualifier, else its namespace): "debian" "12".
type Distro struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
}

// Resolved is a component turned into what the agent path works with.
type Resolved struct {
	// Item is the inventory item that stands for the component; matching
	// it again (a catalog change re-matches stored items) gives Result
	// again: a product found through a CPE travels as Item.Product.
	Item api.Item
	// OS is set for an operating-system component: it is matched like a
	// host's OS (match.MatchOS with Host).
	OS   bool
	Host api.HostInfo
	// PURL is the parsed purl (nil when the component has none).
	PURL *PURL
	// Distro is set for distribution packages whose purl names the distro
	// and whose version carries no third-party repository's marker.
	Distro Distro
	// Vendor names the third-party repository a distribution package's
	// version shows it comes from ("nodesource", "pgdg", "docker"): such a
	// package is judged upstream, not by the distribution.
	Vendor string
	// Result is the match; Matched is false when nothing claimed the component.
	Result  match.Result
	Matched bool
}

// Matcher matches SBOM components through the agent's matcher: the purl
// first (as an inventory item of the purl's ecosystem), then the
// component's CPEs against the catalog's CPE identifiers, then the
// component's name. Safe for concurrent use.
type Matcher struct {
	m    *match.Matcher
	cpes map[string]string // "part:vendor:product" → product id
}

// NewMatcher wraps the agent's matcher m.
func NewMatcher(m *match.Matcher) *Matcher {
	sm := &Matcher{m: m, cpes: map[string]string{}}
	if cat := m.Catalog(); cat != nil {
		sm.indexCPEs(cat)
	}
	return sm
}

// Catalog returns the catalog of the underlying matcher.
func (sm *Matcher) Catalog() *catalog.Catalog { return sm.m.Catalog() }

// indexCPEs maps the catalog's CPE identifiers by part, vendor and product.
// A (vendor, product) pair two products claim is left out: ambiguous.
func (sm *Matcher) indexCPEs(cat *catalog.Catalog) {
	ambiguous := map[string]bool{}
	for _, p := range cat.Products() {
		for _, id := range p.Identifiers {
			if id.Type != "cpe" {
				continue
			}
			c, err := parseCPEPrefix(id.ID)
			if err != nil || c.Vendor == "" {
				continue
			}
			k := c.Part + ":" + c.Vendor + ":" + c.Product
			if prev, ok := sm.cpes[k]; ok && prev != p.ID {
				ambiguous[k] = true
			}
			sm.cpes[k] = p.ID
		}
	}
	for k := range ambiguous {
		delete(sm.cpes, k)
	}
}

// Resolve converts and matches one component. The error (a purl that does
// not parse) names the field.
func (sm *Matcher) Resolve(c *Component) (Resolved, error) {
	var r Resolved
	if c.PURL != "" {
		p, err := ParsePURL(c.PURL)
		if err != nil {
			return r, &Error{Field: c.Field + ".purl", Msg: err.Error(), Line: c.Line}
		}
		r.PURL = &p
		r.Item = itemFromPURL(&p, c)
		if distroTypes[p.Type] {
			r.Distro = distroOf(&p)
			if r.Vendor = vendorOf(r.Distro.ID, r.Item.Version); r.Vendor != "" {
				r.Distro = Distro{}
			} else {
				r.Item.Origin = originOf(p.Type, r.Distro.ID)
			}
			r.Result, r.Matched = sm.m.Match(r.Item)
			return r, nil
		}
		if r.Result, r.Matched = sm.m.Match(r.Item); r.Matched {
			return r, nil
		}
	} else if c.Type == "operating-system" {
		r.OS = true
		r.Host = api.HostInfo{OSID: strings.ToLower(c.Name), OSVersion: c.Version, OSName: c.Name}
		r.Item = api.Item{Source: match.SourceOS, Name: c.Name, Version: c.Version}
		r.Result, r.Matched = sm.m.MatchOS(r.Host)
		return r, nil
	} else {
		r.Item = api.Item{Source: SourceGeneric, Name: c.Name, Version: c.Version, Publisher: c.Publisher}
	}
	// The CPEs, then the name (for a component without a purl).
	for _, s := range c.CPEs {
		cp, err := ParseCPE(s)
		if err != nil {
			continue // generators write many guessed CPEs; a malformed one is no evidence
		}
		id, ok := sm.cpes[cp.Part+":"+cp.Vendor+":"+cp.Product]
		if !ok {
			continue
		}
		it := r.Item
		it.Product = id
		if it.Version == "" {
			it.Version = cp.Version
		}
		if res, ok := sm.m.Match(it); ok {
			res.Rule = "cpe " + s
			res.Why = "the component's CPE names " + cp.Vendor + ":" + cp.Product + ", which the catalog lists for " + res.Product
			r.Item, r.Result, r.Matched = it, res, true
			return r, nil
		}
	}
	if r.PURL != nil || c.Subject {
		// a purl the catalog does not know is no reason to guess by name,
		// nor is the document's subject (a directory, an image's name)
		return r, nil
	}
	r.Result, r.Matched = sm.m.Match(r.Item)
	return r, nil
}

// itemFromPURL builds the inventory item an agent would report for the
// package the purl names.
func itemFromPURL(p *PURL, c *Component) api.Item {
	src, ok := purlSources[p.Type]
	if !ok {
		src = SourceGeneric
	}
	it := api.Item{Source: src, Name: p.Name, Version: p.Version, Arch: p.Qualifier("arch")}
	if it.Version == "" {
		it.Version = c.Version
	}
	switch p.Type {
	case "deb", "apk":
		it.SourcePkg = sourceName(p.Qualifier("upstream"))
		if it.SourcePkg == "" {
			it.SourcePkg = p.Name
		}
	case "rpm":
		if e := p.Qualifier("epoch"); e != "" && e != "0" && !strings.Contains(it.Version, ":") {
			it.Version = e + ":" + it.Version
		}
		it.SourcePkg = pkgver.RPMSourceName(p.Qualifier("upstream"))
		if it.SourcePkg == "" {
			it.SourcePkg = p.Name
		}
	case "maven":
		if p.Namespace != "" {
			it.Name = p.Namespace + ":" + p.Name
		}
	case "npm", "golang", "composer":
		if p.Namespace != "" {
			it.Name = p.Namespace + "/" + p.Name
		}
	}
	if p.Type == "golang" && p.Name == "stdlib" && p.Namespace == "" {
		// the Go toolchain a binary was built with: "go1.22.1" → "1.22.1"
		it.Version = strings.TrimPrefix(it.Version, "go")
	}
	return it
}

// sourceName reads a deb/apk upstream qualifier: "glibc" or "glibc@2.36-9".
func sourceName(s string) string {
	if i := strings.IndexAny(s, "@ "); i >= 0 {
		s = s[:i]
	}
	return s
}

// rpmVendors are the Vendor tags (lower-cased, as agents report an rpm's
// origin) of the distributions a purl's distro qualifier names.
var rpmVendors = map[string]string{
	"rhel": "red hat, inc.", "rocky": "rocky enterprise software foundation", "almalinux": "almalinux",
	"centos": "centos", "fedora": "fedora project", "amzn": "amazon linux", "ol": "oracle america",
	"sles": "suse llc <https://www.suse.com/>", "sled": "suse llc <https://www.suse.com/>", "opensuse-leap": "opensuse",
}

// originOf is the origin an agent would report for a package of
// distribution distro installed from its archive: apt's Origin and
// Alpine's repository name the distribution as the purl does; an rpm's is
// the distribution's Vendor tag.
func originOf(purlType, distro string) string {
	if purlType == "rpm" {
		return rpmVendors[distro]
	}
	return distro
}

// vendorMarkers are strings in a distribution package's version that only
// third-party repositories write, with the repository they name. SBOM
// generators name the scanned system's distribution in every package's
// purl, even for a package from NodeSource or Docker's repository.
var vendorMarkers = []struct{ marker, vendor string }{
	{"nodesource", "nodesource"}, // 20.20.2-1nodesource1
	{"pgdg", "pgdg"},             // 16.4-1.pgdg120+1 (apt.postgresql.org)
	{"+maria", "mariadb"},        // 1:10.11.6+maria~deb12
	{"~ubuntu.", "docker"},       // 5:27.3.1-1~ubuntu.22.04~jammy
}

// vendorOf returns the third-party repository a package version of
// distribution distro shows it comes from, or "". Debian's own versions
// never hold the word "debian" (they write +deb12u1), so for Debian that
// word marks a vendor too (Docker's 5:27.3.1-1~debian.12~bookworm,
// MySQL's 8.0.35-1debian12).
func vendorOf(distro, version string) string {
	v := strings.ToLower(version)
	for _, m := range vendorMarkers {
		if strings.Contains(v, m.marker) {
			return m.vendor
		}
	}
	if distro == "debian" && strings.Contains(v, "debian") {
		return "vendor"
	}
	return ""
}

// distroOf reads which distribution maintains a package: the distro
// qualifier ("debian-12", "ubuntu-22.04", "rhel-9.4", "alpine-3.19.1"),
// else the namespace without a release.
func distroOf(p *PURL) Distro {
	d := strings.ToLower(p.Qualifier("distro"))
	if d == "" {
		return Distro{ID: p.Namespace}
	}
	// the release starts after the last '-' that is followed by a digit
	for i := len(d) - 1; i > 0; i-- {
		if d[i] == '-' && i+1 < len(d) && d[i+1] >= '0' && d[i+1] <= '9' {
			return Distro{ID: d[:i], Version: d[i+1:]}
		}
	}
	return Distro{ID: d}
}

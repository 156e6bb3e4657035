package service

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// distroOrigins says which distributions' own archives a package origin
// stands for: the key is an item's Origin as agents report it (apt's
// Release "Origin:" and the rpm Vendor tag, lower-cased; "alpine" for
// Alpine's repositories), the value the catalog product ids of the host
// operating systems whose archive that origin is. A package whose origin
// names the host's own distribution is judged by the distribution release
// (catalog.EvaluateIn); any other origin (a vendor's repository such as
// NodeSource, PGDG or Docker, a backports or third-party archive) and an
// empty one (installed by hand, or from a repository since removed) is
// judged upstream.
var distroOrigins = map[string][]string{
	"debian":   {"debian"},
	"raspbian": {"debian"},
	"ubuntu":   {"ubuntu"},
	// Ubuntu Pro's ESM archives rebuild Ubuntu's own packages.
	"ubuntuesm":                            {"ubuntu"},
	"ubuntuesmapps":                        {"ubuntu"},
	"red hat, inc.":                        {"rhel"},
	"rocky enterprise software foundation": {"rocky-linux"},
	"almalinux":                            {"almalinux"},
	"centos":                               {"centos", "centos-stream"},
	"fedora project":                       {"fedora"},
	"amazon linux":                         {"amazon-linux"},
	"amazon.com":                           {"amazon-linux"},
	"oracle america":                       {"oracle-linux"},
	// openSUSE Leap 15.3 and later ship SUSE's own binaries beside its own.
	"suse llc <https://www.suse.com/>": {"sles", "opensuse"},
	"opensuse":                         {"opensuse"},
	"alpine":                           {"alpine-linux"},
}

// distroOf returns the catalog product id of the host distribution whose
// own archive origin is, or "" when origin is not the archive of hostOS.
func distroOf(origin, hostOS string) string {
	if origin == "" || hostOS == "" {
		return ""
	}
	if slices.Contains(distroOrigins[strings.ToLower(strings.TrimSpace(origin))], hostOS) {
		return hostOS
	}
	return ""
}

// hostFacts is what a host's verdicts depend on besides each install:
// its operating system (as the catalog knows it), its paid
// extended-support enrolments and how fresh its repository data is.
type hostFacts struct {
	osProduct string    // catalog product id of the host's OS ("debian"), "" when unknown
	osRelease string    // the OS release as a cycle of osProduct ("12"), "" when unknown
	codename  string    // the release's code name, lower-cased first word ("bookworm"), "" when the catalog has none
	enrolled  []string  // api.HostInfo.ExtendedSupport, sorted
	repoDate  time.Time // api.HostInfo.RepoDataDate, zero when unknown
}

// evalContext is what a verdict depends on beyond (product, upstream
// version): the maintaining distribution and the package versions for a
// package from the distribution's own archive, the host's repository-data
// day (its age is a warning), and the host's paid enrolments. Its JSON
// (contextKey) is stored with each host verdict and keys the stored
// evaluations, so the fleet's re-evaluation judges each distinct context
// once; the zero value (key "") is an upstream install on a host enrolled
// in nothing.
type evalContext struct {
	Distro    string   `json:"d,omitempty"`
	Release   string   `json:"r,omitempty"`
	Installed string   `json:"i,omitempty"`
	Candidate string   `json:"c,omitempty"`
	Seen      string   `json:"s,omitempty"` // YYYY-MM-DD the candidate was first seen, when it is not the install
	Package   string   `json:"p,omitempty"` // for the host's OS: the release package Installed and Candidate are versions of
	RepoDate  string   `json:"rd,omitempty"`
	Enrolled  []string `json:"e,omitempty"`
}

// key is the context's stored form: "" for the zero context, else its JSON.
func (c evalContext) key() string {
	if c.Distro == "" && len(c.Enrolled) == 0 {
		return ""
	}
	b, _ := json.Marshal(c) // strings only: never fails
	return string(b)
}

// parseContext reads a stored context key; an unreadable one is the zero
// context (judged upstream, as before contexts existed).
func parseContext(key string) evalContext {
	var c evalContext
	if key != "" {
		_ = json.Unmarshal([]byte(key), &c)
	}
	return c
}

// catalogContext is the catalog's view of the context.
func (c evalContext) catalogContext() catalog.Context {
	cc := catalog.Context{Distro: c.Distro, DistroRelease: c.Release, Installed: c.Installed, Candidate: c.Candidate, Package: c.Package, Enrolled: c.Enrolled}
	if c.Seen != "" {
		cc.CandidateSeen, _ = time.Parse(time.DateOnly, c.Seen)
	}
	return cc
}

// candidateKey identifies a package on a host for the first-seen time of
// its candidate.
type candidateKey struct{ source, name, arch string }

// contextOf works out how an item on a host is judged: by the host's
// distribution when the installed version comes from the distribution's
// own archive, else upstream. seen is when the server first saw the
// item's candidate for the host (zero when it never has).
//
// The installed version comes from the distribution's archive when the
// item's origin is the host distribution's, or, when no configured
// repository offers the installed version any more (empty origin), when
// the candidate replacing it comes from there: the archive carries only
// the newest update, so an install it superseded lost its origin but is
// still the distribution's package (python3.11 3.11.2-6+deb12u6 with
// candidate 3.11.2-6+deb12u9 from bookworm-security).
func contextOf(h *hostFacts, it *api.Item, seen time.Time) evalContext {
	c := evalContext{Enrolled: h.enrolled}
	distro := distroOf(it.Origin, h.osProduct)
	if distro != "" && !h.suiteFits(it.Suite) {
		distro = ""
	}
	if distro == "" && it.Origin == "" && it.Candidate != "" && it.Candidate != it.Version &&
		distroOf(it.CandidateOrigin, h.osProduct) != "" && h.suiteFits(it.CandidateSuite) {
		distro = h.osProduct
	}
	if distro == "" || h.osRelease == "" {
		return c
	}
	c.Distro, c.Release, c.Installed, c.Candidate = distro, h.osRelease, it.Version, it.Candidate
	if c.Candidate != "" && c.Candidate != c.Installed && !seen.IsZero() {
		c.Seen = seen.UTC().Format(time.DateOnly)
	}
	if !h.repoDate.IsZero() {
		c.RepoDate = h.repoDate.UTC().Format(time.DateOnly)
	}
	return c
}

// osContext is the context of the host's OS item: the distribution's
// rule, as for its packages, when the host reports the release package
// (catalog.ReleasePackages: base-files on Debian and Ubuntu,
// redhat-release or rocky-release on RHEL and its rebuilds, alpine-base on
// Alpine) with a candidate and contextOf finds that package to be the
// host distribution's own; then the OS verdict's patch status follows that
// candidate (a point release ships as an update of it) from when the
// server first saw it. Otherwise the OS is judged by the catalog alone
// (its point releases' dates), with the host's enrolments.
func osContext(h *hostFacts, items []store.MatchedItem, seen map[candidateKey]time.Time) evalContext {
	it := releaseItem(h, len(items), func(i int) *api.Item { return &items[i].Item }, func(it *api.Item) bool { return it.Candidate != "" })
	if it == nil {
		return evalContext{Enrolled: h.enrolled}
	}
	c := contextOf(h, it, seen[candidateKey{it.Source, it.Name, it.Arch}])
	c.Package = it.Name
	return c
}

// assetOSContext is the context of an asset's OS item (an SBOM's): an
// SBOM lists what the image has installed, never what its package manager
// would install, so a distribution release that ships its point releases
// as updates of a release package is judged by the distribution with that
// package (the one the SBOM lists from the distribution's archive, as
// contextOf decides) as installed and no candidate: maintained by the
// distribution, its patch status unknown, as for the asset's packages
// (catalog.EvaluateIn). Without the package in the SBOM the release
// alone says so. Another OS (Windows, macOS) is judged by the catalog.
func assetOSContext(h *hostFacts, items []store.MatchedItem) evalContext {
	if h.osRelease == "" || len(catalog.ReleasePackages(h.osProduct)) == 0 {
		return evalContext{Enrolled: h.enrolled}
	}
	c := evalContext{Distro: h.osProduct, Release: h.osRelease, Enrolled: h.enrolled}
	if it := releaseItem(h, len(items), func(i int) *api.Item { return &items[i].Item }, nil); it != nil {
		c.Installed, c.Package = it.Version, it.Name
	}
	return c
}

// releaseItem returns the release package of the host's OS among n items
// (item(i) is the i-th): the first, in the order of
// catalog.ReleasePackages, that want accepts (nil: any) and contextOf
// makes the host distribution's own package (its origin the archive, of
// the host's release); nil when there is none.
func releaseItem(h *hostFacts, n int, item func(i int) *api.Item, want func(*api.Item) bool) *api.Item {
	for _, name := range catalog.ReleasePackages(h.osProduct) {
		for i := range n {
			it := item(i)
			if it.Name != name || it.Source == osSource || (want != nil && !want(it)) {
				continue
			}
			if c := contextOf(h, it, time.Time{}); c.Distro == h.osProduct && c.Distro != "" {
				return it
			}
		}
	}
	return nil
}

// assetOS is an asset's OS with the point release its release package
// carries: an SBOM names the release alone (syft's "debian" "12"), and the
// base-files it lists says which point release the image runs
// (12.4+deb12u11: Debian 12.11), as /etc/debian_version tells the agent on
// a host, so the asset's OS and an agent's on the same system are the same
// version. host is returned as it is when the SBOM lists no such package
// of the OS's release.
func (e *engine) assetOS(host api.HostInfo, items []api.Item) api.HostInfo {
	osIt, ok := osItem(host)
	if !ok {
		return host
	}
	h := e.facts(host, []store.MatchedItem{{Item: osIt, Match: e.match(osIt)}})
	if h.osRelease == "" {
		return host
	}
	if it := releaseItem(&h, len(items), func(i int) *api.Item { return &items[i] }, nil); it != nil {
		if pr := e.cat.PointRelease(h.osProduct, h.osRelease, it.Version); pr != "" {
			host.OSVersion = pr
		}
	}
	return host
}

// suiteFits reports whether a package from the distribution's archive in
// suite belongs to the host's own release, so that release maintains it:
// apt's suite is the release's code name, with a pocket after a dash
// ("bookworm", "bookworm-security", "jammy-updates"), Alpine's the branch
// and repository ("v3.20/main"). A package the host pinned from another
// release (trixie on bookworm, Alpine's edge on v3.20) is not the host
// release's to maintain: it is judged upstream. An unknown suite, or a
// release without a known code name, fits.
func (h *hostFacts) suiteFits(suite string) bool {
	suite = strings.ToLower(strings.TrimSpace(suite))
	if suite == "" {
		return true
	}
	if h.osProduct == "alpine-linux" {
		branch, _, _ := strings.Cut(suite, "/")
		if branch == "edge" {
			return false
		}
		if v, ok := strings.CutPrefix(branch, "v"); ok {
			return v == h.osRelease
		}
		return true
	}
	if h.codename == "" {
		return true
	}
	name, _, _ := strings.Cut(suite, "-")
	return name == h.codename
}

// repoAgeWarning is the warning a distribution verdict carries when the
// host's repository data is older than catalog.StaleAfterDays on day:
// its candidates (and so "current") may be out of date.
func repoAgeWarning(repoDate string, day time.Time) string {
	if repoDate == "" {
		return ""
	}
	d, err := time.Parse(time.DateOnly, repoDate)
	if err != nil {
		return ""
	}
	age := int(day.Sub(d).Hours() / 24)
	if age <= catalog.StaleAfterDays {
		return ""
	}
	return "Repository data on this host is " + strconv.Itoa(age) + " days old (last updated " + repoDate +
		"), so newer packages may exist that the host does not know of: refresh it (apt-get update, dnf makecache, apk update)."
}

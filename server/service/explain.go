package service

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
	"github.com/eolwatch/eolwatch/server/store"
)

// ItemJudgement is how the server judges one inventory item in a report
// from a host: what `eolwatch-server match explain` shows with the host's
// context.
type ItemJudgement struct {
	// Match is the item's product and version ("" product: unmatched).
	Match store.Match
	// OSProduct and OSRelease are the host's OS as the catalog knows it
	// ("debian", "12"); empty when the host names none or the catalog does
	// not know it.
	OSProduct string
	OSRelease string
	// Context is what the verdict was judged with: Distro set when the
	// installed version is the distribution's own package (judged by the
	// distribution's release), empty when it is judged upstream.
	Context catalog.Context
	// Why says in a sentence why the item is judged by the distribution or
	// upstream.
	Why string
	// Verdict is the verdict on day asOf (nil when the item is unmatched).
	Verdict *catalog.Verdict
}

// JudgeItem judges it as the server judges it in a report from host on day
// asOf, under policy: matched by m (the catalog's matcher, with any user
// rules), judged by the host's distribution when it is its own package
// (its origin, suite and candidate, as contextOf decides) or upstream.
// candidateSeen is when the server first saw the item's candidate for the
// host (the patch grace period runs from it); zero is asOf, a candidate
// seen for the first time in this report. The host's OS item itself is
// explained by match.Matcher.ExplainOS, not here.
func JudgeItem(m *match.Matcher, policy catalog.Policy, host api.HostInfo, it api.Item, candidateSeen, asOf time.Time) ItemJudgement {
	e := newEngineWith(m, policy)
	var items []store.MatchedItem
	if osIt, ok := osItem(host); ok {
		items = append(items, store.MatchedItem{Item: osIt, Match: e.match(osIt)})
	}
	h := e.facts(host, items)
	if candidateSeen.IsZero() {
		candidateSeen = asOf
	}
	c := contextOf(&h, &it, candidateSeen)
	j := ItemJudgement{Match: e.match(it), OSProduct: h.osProduct, OSRelease: h.osRelease, Context: c.catalogContext(), Why: contextWhy(&h, &it, c)}
	if j.Match.Product != "" {
		v := e.evaluate(j.Match.Product, j.Match.Version, c.key(), asOf.UTC().Format(time.DateOnly))
		j.Verdict = &v
	}
	return j
}

// contextWhy says why contextOf judged it in context c on host h: by the
// host's distribution, or upstream and why.
func contextWhy(h *hostFacts, it *api.Item, c evalContext) string {
	rel := h.osProduct + " " + h.osRelease
	switch {
	case c.Distro != "" && distroOf(it.Origin, h.osProduct) != "":
		return "the installed version comes from " + rel + "'s own archive (origin " + it.Origin + ")"
	case c.Distro != "":
		return "no repository offers the installed version any more, but its candidate " + it.Candidate + " comes from " + rel +
			"'s own archive (origin " + it.CandidateOrigin + "): still its package"
	case h.osProduct == "":
		return "the host's OS is not one the catalog knows"
	case h.osRelease == "":
		return "the catalog does not know the host's " + h.osProduct + " release"
	case distroOf(it.Origin, h.osProduct) != "" && !h.suiteFits(it.Suite):
		return "suite " + it.Suite + " is not " + rel + "'s (a package pinned from another release)"
	case it.Origin != "":
		return "origin " + it.Origin + " is not " + h.osProduct + "'s archive (a vendor's or third-party repository)"
	case it.Candidate == "" || it.Candidate == it.Version:
		return "no repository offers the installed version (installed by hand) and there is no newer candidate"
	case distroOf(it.CandidateOrigin, h.osProduct) == "":
		return "no repository offers the installed version and its candidate does not come from " + h.osProduct + "'s archive (origin " +
			it.CandidateOrigin + ")"
	default:
		return "the candidate's suite " + it.CandidateSuite + " is not " + rel + "'s"
	}
}

// DistroArchives returns the catalog product ids of the distributions
// whose own archives the server tells from an item's origin, sorted.
func DistroArchives() []string {
	var out []string
	for _, ds := range distroOrigins {
		for _, d := range ds {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ArchiveOrigin returns the origin an agent reports for a package from
// distro's own archive ("debian", "red hat, inc."), or "" when the server
// knows no archive of distro.
func ArchiveOrigin(distro string) string {
	var keys []string
	for o, ds := range distroOrigins {
		if slices.Contains(ds, distro) {
			if o == distro {
				return o
			}
			keys = append(keys, o)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return strings.ToLower(keys[0])
}

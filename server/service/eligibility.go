package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// Eligibility answers the support question. With version it judges a bare
// product + version (a version read out on the phone); with host (an id or
// a hostname) it judges the product's installs on that host, live against
// the current catalog and today's date. Exactly one of version and host is
// given. Bad input is a *fault.Error with Code fault.Invalid naming the
// field; an unknown host or product wraps store.ErrNotFound.
func (s *Service) Eligibility(ctx context.Context, product, version, host string) (api.Eligibility, error) {
	if err := checkProduct(product); err != nil {
		return api.Eligibility{}, err
	}
	switch {
	case version != "" && host != "":
		return api.Eligibility{}, fault.Invalidf("host", "give either version or host, not both")
	case version == "" && host == "":
		return api.Eligibility{}, fault.Invalidf("version", "give version (product+version) or host (product on a host)")
	}
	if version != "" {
		if err := CheckText("version", version, api.MaxVersionLen, true); err != nil {
			return api.Eligibility{}, err
		}
	} else if err := CheckText("host", host, api.MaxHostLen, true); err != nil {
		return api.Eligibility{}, err
	}
	el, _, err := s.judge(ctx, product, version, host, s.Today())
	return el, err
}

// AssetEligibility is Eligibility for the product's installs on an asset,
// by its name (even when a host has that name). A name longer than an
// asset's name may be (MaxAssetName) is a fault.Invalid naming "asset".
func (s *Service) AssetEligibility(ctx context.Context, product, asset string) (api.Eligibility, error) {
	if err := checkProduct(product); err != nil {
		return api.Eligibility{}, err
	}
	if err := CheckText("asset", asset, MaxAssetName, true); err != nil {
		return api.Eligibility{}, err
	}
	el, _, err := s.judge(ctx, product, "", store.AssetRef(asset), s.Today())
	return el, err
}

// checkProduct checks the product of a support question: required, a
// catalog product id of at most api.MaxProductLen bytes.
func checkProduct(product string) error {
	if strings.TrimSpace(product) == "" {
		return fault.Invalidf("product", "product is required (a catalog product id such as python or debian)")
	}
	return CheckText("product", product, api.MaxProductLen, true)
}

// judge answers a checked eligibility question as of day (YYYY-MM-DD): a
// bare product + version, or the product's installs on host (then also
// returned).
func (s *Service) judge(ctx context.Context, product, version, host, day string) (api.Eligibility, api.Host, error) {
	e := s.engine()
	if version != "" {
		return eligibility(e.cat.Evaluate(product, version, mustDay(day), e.policy), day), api.Host{}, nil
	}
	if s.st == nil {
		return api.Eligibility{}, api.Host{}, fault.New(fault.Unavailable, "host", "host %q: no fleet database to look it up in", host)
	}
	h, hostID, err := s.st.FindHost(ctx, host)
	if err != nil {
		return api.Eligibility{}, api.Host{}, err
	}
	id := product
	if p := e.cat.Product(product); p != nil {
		id = p.ID
	}
	installs, err := s.st.HostInstalls(ctx, hostID, id)
	if err != nil {
		return api.Eligibility{}, h, err
	}
	if len(installs) == 0 {
		return api.Eligibility{}, h, fmt.Errorf("product %q is not installed on host %s (%s) as of its last report: %w", product, h.Hostname, h.ID, store.ErrNotFound)
	}
	return hostAnswer(e, h, id, installs, day), h, nil
}

// hostAnswer judges every install of a product on a host and answers with
// the worst; with several installs the answer lists them all and is
// eligible only when each one is.
func hostAnswer(e *engine, h api.Host, product string, installs []store.Install, day string) api.Eligibility {
	var all []api.Eligibility
	worst := -1
	for _, in := range installs {
		el := eligibility(e.evaluate(product, in.Version, in.Context, day), day)
		el.Host, el.HostID, el.Installed, el.LastReportAt = h.Hostname, h.ID, in.Installed, h.LastReportAt
		all = append(all, el)
		if worst < 0 || worse(el, all[worst]) {
			worst = len(all) - 1
		}
	}
	out := all[worst]
	if len(all) > 1 {
		out.Installs = all
		out.Eligible = true
		for _, a := range all {
			out.Eligible = out.Eligible && a.Eligible
		}
	}
	return out
}

// worse orders answers: not eligible first, then by status rank.
func worse(a, b api.Eligibility) bool {
	if a.Eligible != b.Eligible {
		return !a.Eligible
	}
	return catalog.StatusRank(a.Status) < catalog.StatusRank(b.Status)
}

// mustDay parses a YYYY-MM-DD day produced by Service.Today.
func mustDay(d string) time.Time {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		panic("bad day " + d)
	}
	return t
}

// Eligible applies the support rule: an install is eligible for support when
// its version is supported by the vendor and no published patch has been left
// uninstalled past the grace period.
func Eligible(v catalog.Verdict) bool {
	return v.Support == catalog.SupportSupported && v.Patch != catalog.PatchOverdue
}

// eligibility turns a verdict into the API answer.
func eligibility(v catalog.Verdict, asOf string) api.Eligibility {
	el := api.Eligibility{Eligible: Eligible(v), Product: v.Product, Version: v.Version, Support: v.Support, Phase: v.Phase,
		Patch: v.Patch, Status: v.Status, Cycle: v.Cycle, Latest: v.Latest, EOL: v.EOL, DaysToEOL: v.DaysToEOL,
		UpgradeTo: v.UpgradeTo, Newest: v.Newest, Reason: eligibilityReason(v), AsOf: asOf,
		Maintainer: v.Maintainer, MaintainerRelease: v.MaintainerRelease, Candidate: v.Candidate, Installed: v.Installed,
		CatalogDate: v.CatalogDate, Warnings: v.Warnings}
	if el.Maintainer == "" { // a verdict stored before verdicts named their maintainer
		el.Maintainer = catalog.MaintainerUpstream
	}
	if el.Warnings == nil {
		el.Warnings = []string{}
	}
	if v.Upstream != nil {
		u := eligibility(*v.Upstream, asOf)
		el.Upstream = &u
	}
	return el
}

// eligibilityReason leads with the decision, then the catalog's reason.
func eligibilityReason(v catalog.Verdict) string {
	why := v.Reason
	switch {
	case v.Support == catalog.SupportSupported && v.Patch == catalog.PatchOverdue:
		s := "Not eligible: a newer patch has been published for longer than the grace period and is not installed"
		if v.Latest != "" {
			s += " (install " + v.Latest + ")"
		}
		return joinReason(s, why)
	case v.Support == catalog.SupportSupported:
		return joinReason("Eligible: this version is supported", why)
	case v.Support == catalog.SupportEOL:
		s := "Not eligible: this version is past its end of life"
		if v.UpgradeTo != "" {
			s += " (upgrade to " + v.UpgradeTo + ")"
		}
		return joinReason(s, why)
	case v.Support == catalog.SupportUnknownProduct:
		return joinReason("Not eligible: the product is not in the catalog, so its support cannot be confirmed", why)
	default:
		return joinReason("Not eligible: the version cannot be placed in a supported release cycle", why)
	}
}

func joinReason(a, b string) string {
	if b == "" {
		return a + "."
	}
	return a + ". " + b
}

package catalog

import (
	"strconv"
	"time"
)

// EvaluateIn returns the verdict for product at upstreamVersion (the
// upstream version inside the package version, as the matcher extracts it)
// installed in the context ctx, on the day asOf. A zero Policy means
// DefaultPolicy.
//
// With an empty ctx.Distro the install is judged upstream, exactly as
// Evaluate does, except that ctx.Enrolled counts: a paid extended-support
// programme the host is enrolled in keeps a cycle supported (Ubuntu 20.04
// with Ubuntu Pro). A package installed from a distribution's own archive
// (ctx.Distro "debian", ctx.DistroRelease "12") follows that release's
// support instead, and the upstream verdict is kept as context in
// Verdict.Upstream and in the reason:
//
//   - support and phase are the distribution release's under the policy
//     (Debian 12: security support, then Debian LTS; Ubuntu: standard
//     support, and ESM only for an enrolled host; RHEL: its phases); eol and
//     days_to_eol are the last day of that support;
//   - patch follows the candidate, compared with the distribution's version
//     scheme (DistroScheme): installed at or above the candidate is current;
//     an older install is available, and overdue once the grace period has
//     passed since ctx.CandidateSeen (never when that is unknown); with no
//     candidate (or no installed version) patch is unknown and the status
//     does not count it (no false alarm);
//   - status is the worst that applies, as for Evaluate;
//   - latest is the candidate (the installed version when that is newer),
//     upgrade_to the candidate when it is newer than the install, else
//     empty; cycle and newest keep their upstream meaning;
//   - maintainer is the distribution's id, maintainer_release its release,
//     installed and candidate the package versions.
//
// A distribution or release the catalog does not know is judged upstream
// with a warning saying so. When product is the distribution itself (the
// host's OS), ctx.Installed and ctx.Candidate are the versions of its
// release package (base-files on Debian: ReleasePackages): the release's
// support stays the catalog's, maintainer is the distribution, and with
// both versions known and readable the patch status follows the
// candidate's point release instead of the catalog's point-release dates;
// without them (an SBOM names no candidate) the patch status is unknown and
// not counted, as for the distribution's packages. A caller that wants the
// catalog's point-release dates (an agent without repository data) passes
// no Distro.
func (c *Catalog) EvaluateIn(product, upstreamVersion string, ctx Context, asOf time.Time, p Policy) Verdict {
	pv := c.ParseVersion(product, upstreamVersion)
	return c.EvaluateParsedIn(pv, ctx, asOf, p)
}

// EvaluateParsedIn is EvaluateIn for a version parsed with
// (*Catalog).ParseVersion of the same catalog.
func (c *Catalog) EvaluateParsedIn(pv ParsedVersion, ctx Context, asOf time.Time, p Policy) Verdict {
	pol := p.normalised()
	up := c.evaluate(&pv, asOf, pol, ctx.Enrolled)
	if ctx.Distro == "" {
		return up
	}
	dist := c.lookup(ctx.Distro)
	if dist == nil {
		return withWarning(up, "eolwatch has no end-of-life data for the distribution "+strconv.Quote(ctx.Distro)+", so the package is judged by its upstream support.")
	}
	if dist == pv.ix {
		if pv.cycle < 0 {
			return up
		}
		return c.ownReleaseVerdict(&up, &pv, &ctx, dayOf(asOf), &pol)
	}
	rel := dist.findCycle(dist.parse(ctx.DistroRelease))
	if rel < 0 {
		return withWarning(up, dist.p.Label+" has no release "+strconv.Quote(ctx.DistroRelease)+" in the catalog, so the package is judged by its upstream support.")
	}
	return c.distroVerdict(&up, &pv, dist, rel, &ctx, dayOf(asOf), &pol)
}

// withWarning returns v with one more warning (v's list is not modified).
func withWarning(v Verdict, w string) Verdict {
	v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], w)
	return v
}

// distroJudgement is what distroVerdict decided, before any sentence.
type distroJudgement struct {
	dist      *prodIndex
	dci       *cycleIndex
	rel       int
	ext       bool  // the distribution's extended support counts
	extEnd    bool  // the end of support is the extended programme's
	endDay    int32 // noDay when not dated
	daysLeft  int
	soon      bool
	inExtend  bool // past the release's regular end of life, its extended programme running
	inst      Version
	cand      Version
	newer     bool // the candidate is newer than the install
	seen      int32
	seenKnown bool
}

// distroVerdict judges a package from a distribution's archive by the
// distribution release rel; up is the upstream verdict.
func (c *Catalog) distroVerdict(up *Verdict, pv *ParsedVersion, dist *prodIndex, rel int, ctx *Context, day int32, pol *Policy) Verdict {
	j := decideDistro(dist, rel, ctx, day, pol)
	upCopy := *up
	v := Verdict{Product: up.Product, Version: up.Version, Cycle: up.Cycle, Newest: up.Newest,
		Maintainer: dist.p.ID, MaintainerRelease: j.dci.c.Name, Installed: ctx.Installed, Candidate: ctx.Candidate,
		Phase: PhaseActive, Upstream: &upCopy}
	j.fill(&v, day, pol)
	v.CatalogDate, v.Warnings = olderData(pv.ix, dist, c, day)
	v.Reason = upstreamClause(up, pv) + "; " + j.distroClause(day, pol)
	if v.Support == SupportSupported || v.Patch == PatchAvailable || v.Patch == PatchOverdue {
		v.Reason += j.patchClause(&v, pol)
	}
	v.Reason += "."
	if v.Support == SupportSupported && j.soon && v.Status != StatusEOLSoon {
		v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], j.releaseName()+" stops maintaining it on "+j.endStr()+" (in "+strconv.Itoa(j.daysLeft)+" days).")
	}
	if ctx.Candidate != "" && !j.cand.Valid() {
		v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], "The candidate version "+strconv.Quote(ctx.Candidate)+" could not be read ("+j.cand.Err.Error()+").")
	}
	return v
}

// decideDistro works out the distribution release's support on the day
// and how the installed package compares with the candidate.
func decideDistro(dist *prodIndex, rel int, ctx *Context, day int32, pol *Policy) *distroJudgement {
	dci := &dist.cycles[rel]
	j := &distroJudgement{dist: dist, dci: dci, rel: rel, ext: dist.extendedCounts(pol.extendedMode(dist.p.ID), ctx.Enrolled), endDay: noDay}
	end := dci.supportEnd(j.ext)
	j.extEnd = end != dci.eolEnd
	if j.extEnd {
		j.endDay = dci.eoesDay
	} else {
		j.endDay = dci.eolDay
	}
	if j.endDay != noDay {
		j.daysLeft = int(j.endDay - day)
		j.soon = j.daysLeft <= pol.WarnDays
	}
	j.inExtend = day > dci.eolEnd && dci.eoesSet && day <= dci.eoesEnd
	scheme := DistroScheme(dist.p.ID)
	j.inst = ParseVersion(scheme, ctx.Installed)
	j.cand = ParseVersion(scheme, ctx.Candidate)
	if j.inst.Valid() && j.cand.Valid() {
		j.newer = Compare(j.cand, j.inst) > 0
	}
	if !ctx.CandidateSeen.IsZero() {
		j.seen, j.seenKnown = dayOf(ctx.CandidateSeen), true
	}
	return j
}

// fill sets the verdict's fields from the judgement.
func (j *distroJudgement) fill(v *Verdict, day int32, pol *Policy) {
	dci := j.dci
	if j.extEnd {
		v.EOL = dci.eoesVal
	} else {
		v.EOL = dci.eolVal
	}
	if j.endDay != noDay {
		n := j.daysLeft
		v.DaysToEOL = &n
	}
	switch {
	case !j.inst.Valid() || !j.cand.Valid():
		v.Patch = PatchUnknown
	case !j.newer:
		v.Patch = PatchCurrent
		v.Latest = j.inst.Raw
	case j.seenKnown && day-j.seen > int32(pol.GraceDays):
		v.Patch = PatchOverdue
	default:
		v.Patch = PatchAvailable
	}
	if j.newer {
		v.Latest, v.UpgradeTo = j.cand.Raw, j.cand.Raw
	}
	supported := day <= dci.supportEnd(j.ext)
	switch {
	case j.inExtend:
		v.Phase = PhaseExtended
	case !supported:
		v.Phase = PhaseEOL
	case day > dci.eoasEnd:
		v.Phase = PhaseSecurity
	}
	switch {
	case !supported:
		v.Support, v.Status = SupportEOL, StatusEOL
	case v.Patch == PatchOverdue:
		v.Support, v.Status = SupportSupported, StatusPatchOverdue
	case j.soon:
		v.Support, v.Status = SupportSupported, StatusEOLSoon
	case v.Patch == PatchAvailable:
		v.Support, v.Status = SupportSupported, StatusPatchAvailable
	default:
		v.Support, v.Status = SupportSupported, StatusCurrent
	}
}

// olderData returns the catalog date and age warnings of the older of the
// two products' data (either may be undated; a nil index is an unknown
// product, dated like the catalog).
func olderData(a, b *prodIndex, c *Catalog, day int32) (string, []string) {
	pick := b
	if a == nil {
		if !c.info.Date.IsZero() && (b.date.IsZero() || c.info.Date.Before(b.date.Time)) {
			return c.dateStr(), c.ageWarnings(day)
		}
	} else if !a.date.IsZero() && (b.date.IsZero() || a.date.Before(b.date.Time)) {
		pick = a
	}
	return pick.dateStr, pick.ageWarnings(day)
}

// releaseName is "Debian 12".
func (j *distroJudgement) releaseName() string { return j.dist.p.Label + " " + j.dci.c.Name }

// endStr is the last day of the release's support as YYYY-MM-DD, or "".
func (j *distroJudgement) endStr() string {
	if j.extEnd {
		return j.dci.eoesStr
	}
	return j.dci.eolStr
}

// upstreamClause states the upstream status: "Perl 5.36 reached end of
// life upstream on 2025-05-27", "Python 3.11 is supported upstream until
// 2027-10-31".
func upstreamClause(up *Verdict, pv *ParsedVersion) string {
	if pv.ix == nil {
		return "eolwatch has no upstream end-of-life data for " + strconv.Quote(pv.Product)
	}
	label := pv.ix.p.Label
	if pv.cycle < 0 {
		return "eolwatch cannot place " + label + " " + up.Version + " in an upstream release line"
	}
	name := pv.ix.cycles[pv.cycle].label
	date, dated := up.EOL.(string)
	switch {
	case up.Support == SupportEOL && dated:
		return name + " reached end of life upstream on " + date
	case up.Support == SupportEOL:
		return name + " has reached end of life upstream"
	case dated:
		return name + " is supported upstream until " + date
	}
	return name + " is supported upstream with no announced end-of-life date"
}

// distroClause states the distribution's support: "Debian 12 maintains it
// until 2028-06-30 (Debian LTS)".
func (j *distroJudgement) distroClause(day int32, pol *Policy) string {
	dci, prog := j.dci, j.dist.prog
	name := j.releaseName()
	if day > dci.supportEnd(j.ext) {
		r := name + " stopped maintaining it"
		if s := j.endStr(); s != "" {
			r += " on " + s
		}
		if j.inExtend {
			if pol.extendedMode(j.dist.p.ID) == ExtendedNone {
				r += " (" + prog.Name + " runs until " + dci.eoesStr + " but the support policy does not count it)"
			} else {
				r += " (" + prog.Name + " runs until " + dci.eoesStr + ", for enrolled hosts only)"
			}
		}
		if t, _ := j.dist.upgradeTarget(day, j.rel, nil, j.ext); t != "" {
			r += "; upgrade the host to " + j.dist.p.Label + " " + t + " or later"
		}
		return r
	}
	r := name + " maintains it"
	if s := j.endStr(); s != "" {
		r += " until " + s
	} else {
		r += " with no announced end date"
	}
	switch {
	case j.inExtend:
		r += " (" + prog.Name + ")"
	case j.extEnd && dci.eolStr != "":
		r += " (through " + prog.Name + " after " + dci.eolStr + ")"
	}
	if j.soon {
		r += ", in " + strconv.Itoa(j.daysLeft) + " days: plan to upgrade the host to "
		if t := j.dist.upgradeAfterTarget(day, j.rel, j.ext); t != "" {
			r += j.dist.p.Label + " " + t + " or later"
		} else {
			r += "a newer " + j.dist.p.Label + " release when one is published"
		}
	}
	return r
}

// patchClause states what the candidate means for the install.
func (j *distroJudgement) patchClause(v *Verdict, pol *Policy) string {
	switch v.Patch {
	case PatchCurrent:
		return " and " + j.inst.Raw + " is the newest package available to the host"
	case PatchAvailable:
		r := "; " + j.cand.Raw + " is available, install it"
		if j.seenKnown {
			r += " by " + dayString(j.seen+int32(pol.GraceDays))
		}
		return r
	case PatchOverdue:
		return "; " + j.cand.Raw + " has been available since " + dayString(j.seen) + ", more than " + strconv.Itoa(pol.GraceDays) + " days ago: install it"
	}
	if j.inst.Raw == "" || !j.inst.Valid() {
		return "; whether a newer package is available is unknown (no installed package version was given)"
	}
	return "; whether a newer package is available is unknown (the host reported no candidate version)"
}

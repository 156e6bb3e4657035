package catalog

import (
	"regexp"
	"strconv"
	"strings"
)

// releasePackages names, by catalog product id of a distribution, the
// packages whose version carries the release the host runs: Debian ships
// each point release as an update of base-files (12.4+deb12u11 is Debian
// 12.11), RHEL and its rebuilds as an update of their *-release package,
// Alpine as one of alpine-base. ReleasePackages reads it.
var releasePackages = map[string][]string{
	"debian":        {"base-files"},
	"ubuntu":        {"base-files"},
	"rhel":          {"redhat-release", "redhat-release-server"},
	"rocky-linux":   {"rocky-release"},
	"almalinux":     {"almalinux-release"},
	"oracle-linux":  {"oraclelinux-release"},
	"centos-stream": {"centos-stream-release"},
	"fedora":        {"fedora-release-common", "fedora-release"},
	"alpine-linux":  {"alpine-base"},
}

// ReleasePackages returns the names of the packages whose version carries
// the point release of the distribution with catalog product id distro
// ("base-files" for Debian and Ubuntu, "redhat-release" for RHEL,
// "alpine-base" for Alpine), in order of preference; nil for any other
// product. A host's report of one of them with its candidate lets the
// host's own OS verdict follow the candidate (see EvaluateIn). The slice
// is shared: do not modify it.
func ReleasePackages(distro string) []string {
	return releasePackages[strings.ToLower(strings.TrimSpace(distro))]
}

var (
	// 12.4+deb12u11: Debian 12.11 (the suffix's release must be the major)
	debianPoint = regexp.MustCompile(`^(\d+)\.\d+(?:\.\d+)?\+deb(\d+)u(\d+)$`)
	// [epoch:]9.4-0.5.el9: RHEL 9.4
	rpmPoint = regexp.MustCompile(`^(?:\d+:)?(\d+\.\d+)-[0-9]`)
	// 3.22.1-r0: Alpine 3.22.1
	apkPoint = regexp.MustCompile(`^(\d+\.\d+\.\d+)-r\d+$`)
)

// pointRelease returns the point release a release package's version
// stands for ("12.11" for Debian's base-files 12.4+deb12u11, "9.4" for
// redhat-release 9.4-0.5.el9, "3.22.1" for alpine-base 3.22.1-r0), or ""
// when the version does not say (Ubuntu's base-files, Fedora, CentOS
// Stream, Debian's x.0 release, a version of another shape).
func pointRelease(distro, version string) string {
	switch strings.ToLower(distro) {
	case "debian":
		if m := debianPoint.FindStringSubmatch(version); m != nil && m[1] == m[2] {
			return m[1] + "." + m[3]
		}
	case "rhel", "rocky-linux", "almalinux", "oracle-linux":
		if m := rpmPoint.FindStringSubmatch(version); m != nil {
			return m[1]
		}
	case "alpine-linux":
		if m := apkPoint.FindStringSubmatch(version); m != nil {
			return m[1]
		}
	}
	return ""
}

// ownReleaseVerdict is the verdict of a distribution's own product (the
// host's OS) when the host reports its release package (ctx.Package, by
// default the first of ReleasePackages) at ctx.Installed with the
// candidate ctx.Candidate: up is the catalog's own verdict, kept as
// context. Support, phase, eol and days_to_eol stay the catalog's (the
// release's support under the policy); the patch status follows the
// candidate as for every package of the distribution's archive, since a
// point release ships as package updates: the release package at or above
// its candidate, or a newer candidate of the same point release, is
// current; a newer point release is available, and overdue once the grace
// period has passed since ctx.CandidateSeen. latest and upgrade_to name
// the candidate's point release ("12.15"), or the candidate package
// version when it does not carry one (Ubuntu); when current, latest is
// the point release installed (by the release package, else the OS
// version). A release past its support
// keeps the catalog's status, upgrade_to (the release to move the host
// to) and reason.
func (c *Catalog) ownReleaseVerdict(up *Verdict, pv *ParsedVersion, ctx *Context, day int32, pol *Policy) Verdict {
	ix := pv.ix
	scheme := DistroScheme(ix.p.ID)
	inst, cand := ParseVersion(scheme, ctx.Installed), ParseVersion(scheme, ctx.Candidate)
	if !inst.Valid() || !cand.Valid() {
		if ctx.Candidate != "" && !cand.Valid() {
			return withWarning(*up, "The candidate version "+strconv.Quote(ctx.Candidate)+" could not be read ("+cand.Err.Error()+").")
		}
		return *up
	}
	pkg := ctx.Package
	if pkg == "" {
		if names := ReleasePackages(ix.p.ID); len(names) > 0 {
			pkg = names[0]
		} else {
			pkg = "the release package"
		}
	}
	upCopy := *up
	v := *up
	v.Maintainer, v.MaintainerRelease = ix.p.ID, ix.cycles[pv.cycle].c.Name
	v.Installed, v.Candidate, v.Upstream = ctx.Installed, ctx.Candidate, &upCopy

	newer := Compare(cand, inst) > 0
	candRel := pointRelease(ix.p.ID, cand.Raw)
	// the point release installed: as the release package says, else the
	// OS version (which may be the catalog's latest when the host reported
	// its release alone)
	instRel := pointRelease(ix.p.ID, inst.Raw)
	if instRel == "" {
		instRel = pv.Version.Raw
	}
	sameRelease := newer && candRel != "" && candRel == instRel
	seen, seenKnown := int32(0), !ctx.CandidateSeen.IsZero()
	if seenKnown {
		seen = dayOf(ctx.CandidateSeen)
	}
	target := cand.Raw
	if candRel != "" {
		target = candRel
	}
	switch {
	case !newer || sameRelease:
		v.Patch, v.Latest = PatchCurrent, instRel
	case seenKnown && day-seen > int32(pol.GraceDays):
		v.Patch, v.Latest = PatchOverdue, target
	default:
		v.Patch, v.Latest = PatchAvailable, target
	}
	if up.Support != SupportSupported {
		return v // the release decides: its status, upgrade_to and reason stand
	}
	ext := ix.extendedCounts(pol.extendedMode(ix.p.ID), ctx.Enrolled)
	d := ix.decide(pv, day, pol, ext, pol.extendedMode(ix.p.ID) == ExtendedNone)
	v.UpgradeTo = ""
	if v.Patch != PatchCurrent {
		v.UpgradeTo = target
	}
	switch {
	case v.Patch == PatchOverdue:
		v.Status = StatusPatchOverdue
	case d.soon:
		v.Status = StatusEOLSoon
	case v.Patch == PatchAvailable:
		v.Status = StatusPatchAvailable
	default:
		v.Status = StatusCurrent
	}
	// the warnings of the catalog's own verdict, without the coming end it
	// may have added: that one is decided again below
	v.Warnings = ix.ageWarnings(day)
	var r string
	if d.soon {
		r = d.soonSentence()
	} else {
		phase, until, date, note := d.supportedClause()
		r = d.ci.label + phase + until + date + note
	}
	what := pkg + " " + cand.Raw
	if candRel != "" {
		what = ix.p.Label + " " + candRel + " (" + what + ")"
	}
	switch v.Patch {
	case PatchCurrent:
		r += " and " + instRel + " is the newest point release available to the host (its " + pkg + " " + cand.Raw
		if sameRelease {
			r += " is the same point release)."
		} else {
			r += " is the candidate)."
		}
	case PatchAvailable:
		r += "; " + what + " is available to the host, install it"
		if seenKnown {
			r += " by " + dayString(seen+int32(pol.GraceDays))
		}
		r += "."
	default:
		r += "; " + what + " has been available to the host since " + dayString(seen) + ", more than " + strconv.Itoa(pol.GraceDays) + " days ago: install it."
	}
	v.Reason = r
	if d.soon && v.Status != StatusEOLSoon {
		v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], d.soonSentence()+".")
	}
	return v
}

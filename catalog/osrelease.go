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

// IsReleasePackage reports whether name is the release package of some
// distribution (ReleasePackages): base-files, redhat-release, alpine-base...
func IsReleasePackage(name string) bool { return releasePackageNames[name] }

var releasePackageNames = func() map[string]bool {
	m := map[string]bool{}
	for _, names := range releasePackages {
		for _, n := range names {
			m[n] = true
		}
	}
	return m
}()

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

// PointRelease returns the point release of the distribution with catalog
// product id distro that its release package (ReleasePackages) at version
// stands for ("12.11" for Debian's base-files 12.4+deb12u11), when that
// point release belongs to release, a cycle of distro ("12", or a point
// release of it); "" when the version does not say (Ubuntu's base-files,
// Debian's x.0) or says another release. An SBOM's OS component names the
// release alone ("debian" "12"): its base-files says which point release
// the image runs, as /etc/debian_version tells the agent.
func (c *Catalog) PointRelease(distro, release, version string) string {
	distro = strings.ToLower(strings.TrimSpace(distro))
	pr := pointRelease(distro, version)
	if pr == "" {
		return ""
	}
	cyc := c.ParseVersion(distro, pr).Cycle()
	if cyc == "" || cyc != c.ParseVersion(distro, release).Cycle() {
		return ""
	}
	return pr
}

// ownReleaseVerdict is the verdict of a distribution's own product (the
// host's OS) judged by the distribution: the context names the release
// package (ctx.Package, by default the first of ReleasePackages) installed
// at ctx.Installed, with the candidate ctx.Candidate; up is the catalog's
// own verdict, kept as context. Support, phase, eol and days_to_eol stay
// the catalog's (the release's support under the policy); the patch status
// follows the candidate as for every package of the distribution's
// archive, since a point release ships as package updates: the release
// package at or above its candidate, or a newer candidate of the same
// point release, is current; a newer point release is available, and
// overdue once the grace period has passed since ctx.CandidateSeen. latest
// and upgrade_to name the candidate's point release ("12.15"), or the
// candidate package version when it does not carry one (Ubuntu); when
// current, latest is the point release installed (by the release package,
// else the OS version). Without both versions readable (an SBOM names no
// candidate) the patch status is unknown and does not count, latest is the
// catalog's (see unknownPoint). A release past its support keeps the
// catalog's status, upgrade_to (the release to move the host to) and
// reason.
func (c *Catalog) ownReleaseVerdict(up *Verdict, pv *ParsedVersion, ctx *Context, day int32, pol *Policy) Verdict {
	ix := pv.ix
	scheme := DistroScheme(ix.p.ID)
	inst, cand := ParseVersion(scheme, ctx.Installed), ParseVersion(scheme, ctx.Candidate)
	upCopy := *up
	v := *up
	v.Maintainer, v.MaintainerRelease = ix.p.ID, ix.cycles[pv.cycle].c.Name
	v.Installed, v.Candidate, v.Upstream = ctx.Installed, ctx.Candidate, &upCopy
	known := inst.Valid() && cand.Valid()
	var pt pointStatus
	if known {
		pt = pointPatch(ix.p.ID, inst, cand, pv.Version.Raw, ctx, day, pol)
		v.Patch, v.Latest = pt.patch, pt.latest
	} else {
		v.Patch = PatchUnknown
	}
	if ctx.Candidate != "" && !cand.Valid() {
		v = withWarning(v, "The candidate version "+strconv.Quote(ctx.Candidate)+" could not be read ("+cand.Err.Error()+").")
	}
	if up.Support != SupportSupported {
		return v // the release decides: its status, upgrade_to and reason stand
	}
	ext := ix.extendedCounts(pol.extendedMode(ix.p.ID), ctx.Enrolled)
	d := ix.decide(pv, day, pol, ext, pol.extendedMode(ix.p.ID) == ExtendedNone)
	v.UpgradeTo = ""
	if v.Patch == PatchAvailable || v.Patch == PatchOverdue {
		v.UpgradeTo = pt.target
	}
	v.Status = supportedStatus(v.Patch, d.soon)
	// the warnings of the catalog's own verdict, without the coming end it
	// may have added: that one is decided again below
	warnings := ix.ageWarnings(day)
	if ctx.Candidate != "" && !cand.Valid() {
		warnings = append(warnings[:len(warnings):len(warnings)], v.Warnings[len(v.Warnings)-1])
	}
	v.Warnings = warnings
	pkg := releasePackage(ix.p.ID, ctx.Package)
	if known {
		v.Reason = pt.reason(&d, ix.p.Label, pkg, pol.GraceDays)
	} else {
		v.Reason = supportSentence(&d) + unknownPoint(c.PointRelease(ix.p.ID, ix.cycles[pv.cycle].c.Name, inst.Raw), ix.p.Label, pkg, inst, ctx.Candidate != "")
	}
	if d.soon && v.Status != StatusEOLSoon {
		v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], d.soonSentence()+".")
	}
	return v
}

// unknownPoint says, after the release's support, why the point release's
// patch status is unknown: the release package inst names the point
// release installed, point (or not: "" as on Ubuntu, or for a package of
// another release), but no candidate was given (badCandidate: none could
// be read), or no installed version was.
func unknownPoint(point, label, pkg string, inst Version, badCandidate bool) string {
	why := "no candidate version was given"
	if badCandidate {
		why = "the candidate version could not be read"
	}
	switch {
	case inst.Raw == "" || !inst.Valid():
		return "; whether a newer point release is available to it is unknown (no installed version of its " + pkg + " was given)."
	case point != "":
		return "; its " + pkg + " " + inst.Raw + " is " + label + " " + point +
			", and whether a newer point release is available to it is unknown (" + why + ")."
	}
	return "; whether an update of its " + pkg + " " + inst.Raw + " is available is unknown (" + why + ")."
}

// supportSentence states a supported release's support, or its coming end
// within the warning window.
func supportSentence(d *decision) string {
	if d.soon {
		return d.soonSentence()
	}
	phase, until, date, note := d.supportedClause()
	return d.ci.label + phase + until + date + note
}

// releasePackage names the host's release package in reasons: pkg, else
// the distribution's first (ReleasePackages).
func releasePackage(distro, pkg string) string {
	if pkg != "" {
		return pkg
	}
	if names := ReleasePackages(distro); len(names) > 0 {
		return names[0]
	}
	return "the release package"
}

// pointStatus is where a host's release package stands against its
// candidate: the patch status, latest and the upgrade target (the
// candidate's point release, else the candidate version).
type pointStatus struct {
	patch, latest, target string
	cand                  string // the candidate version
	candRel, instRel      string // the point releases of the candidate and of the install
	sameRelease           bool   // a newer candidate of the same point release
	seen                  int32  // the day the candidate was first seen, when seenKnown
	seenKnown             bool
}

// pointPatch decides the patch status of the release package inst with
// candidate cand: current at or above the candidate, or when the candidate
// carries the same point release; else available, and overdue once the
// grace period has passed since ctx.CandidateSeen. osVersion stands for the
// point release installed when the release package does not carry one.
func pointPatch(distro string, inst, cand Version, osVersion string, ctx *Context, day int32, pol *Policy) pointStatus {
	newer := Compare(cand, inst) > 0
	pt := pointStatus{cand: cand.Raw, candRel: pointRelease(distro, cand.Raw), target: cand.Raw}
	// the point release installed: as the release package says, else the
	// OS version (which may be the catalog's latest when the host reported
	// its release alone)
	pt.instRel = pointRelease(distro, inst.Raw)
	if pt.instRel == "" {
		pt.instRel = osVersion
	}
	pt.sameRelease = newer && pt.candRel != "" && pt.candRel == pt.instRel
	if pt.seenKnown = !ctx.CandidateSeen.IsZero(); pt.seenKnown {
		pt.seen = dayOf(ctx.CandidateSeen)
	}
	if pt.candRel != "" {
		pt.target = pt.candRel
	}
	switch {
	case !newer || pt.sameRelease:
		pt.patch, pt.latest = PatchCurrent, pt.instRel
	case pt.seenKnown && day-pt.seen > int32(pol.GraceDays):
		pt.patch, pt.latest = PatchOverdue, pt.target
	default:
		pt.patch, pt.latest = PatchAvailable, pt.target
	}
	return pt
}

// reason says why a supported release's verdict is what it is: the
// release's support (or its coming end), then its point release against
// the candidate of pkg, the host's release package.
func (pt *pointStatus) reason(d *decision, label, pkg string, graceDays int) string {
	r := supportSentence(d)
	what := pkg + " " + pt.cand
	if pt.candRel != "" {
		what = label + " " + pt.candRel + " (" + what + ")"
	}
	switch pt.patch {
	case PatchCurrent:
		r += " and " + pt.instRel + " is the newest point release available to the host (its " + pkg + " " + pt.cand
		if pt.sameRelease {
			r += " is the same point release)."
		} else {
			r += " is the candidate)."
		}
	case PatchAvailable:
		r += "; " + what + " is available to the host, install it"
		if pt.seenKnown {
			r += " by " + dayString(pt.seen+int32(graceDays))
		}
		r += "."
	default:
		r += "; " + what + " has been available to the host since " + dayString(pt.seen) + ", more than " + strconv.Itoa(graceDays) + " days ago: install it."
	}
	return r
}

package catalog

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// ParsedVersion is a version parsed for one product of one catalog, ready to
// be evaluated many times (for many dates or policies) without parsing again.
type ParsedVersion struct {
	Product string  // the product id as asked
	Version Version // the parsed version (Raw always kept)
	ix      *prodIndex
	cycle   int // index of the matching cycle, -1 when none
}

// Cycle returns the name of the cycle the version belongs to, or "".
func (pv ParsedVersion) Cycle() string {
	if pv.ix == nil || pv.cycle < 0 {
		return ""
	}
	return pv.ix.cycles[pv.cycle].c.Name
}

// ParseVersion parses and matches version for product once: the result can
// be passed to EvaluateParsed repeatedly. An unknown product or unparsable version is
// kept and evaluates to unknown-product / unknown-version.
func (c *Catalog) ParseVersion(product, version string) ParsedVersion {
	pv := ParsedVersion{Product: product, cycle: -1}
	ix := c.lookup(product)
	if ix == nil {
		pv.Version = Version{Raw: version}
		return pv
	}
	pv.ix = ix
	pv.Version = ix.parse(version)
	pv.cycle = ix.findCycle(pv.Version)
	return pv
}

// Evaluate returns the verdict for product at version on the day asOf.
// It never fails: unknown products and unparsable versions are verdicts.
// A zero Policy means DefaultPolicy. Verdict.Product is the product's id
// (an alias or a different case resolves to it); Verdict.Version is the raw
// version as given.
func (c *Catalog) Evaluate(product, version string, asOf time.Time, p Policy) Verdict {
	pv := c.ParseVersion(product, version)
	return c.evaluate(&pv, asOf, p)
}

// EvaluateParsed returns the verdict for a version parsed with
// (*Catalog).ParseVersion of the same catalog. A zero Policy means DefaultPolicy.
//
// "As of" is honoured throughout: the latest patch, the first newer patch
// (for the grace period), upgrade_to and newest only use releases dated on
// or before asOf, and cycles released after asOf are not offered as targets.
// A cycle's latest with no date counts as known from the cycle's release
// date (on every day when that is unknown too).
func (c *Catalog) EvaluateParsed(pv ParsedVersion, asOf time.Time, p Policy) Verdict {
	return c.evaluate(&pv, asOf, p)
}

func (c *Catalog) evaluate(pv *ParsedVersion, asOf time.Time, p Policy) Verdict {
	if p == (Policy{}) {
		p = DefaultPolicy()
	}
	v := Verdict{Product: pv.Product, Version: pv.Version.Raw, Phase: PhaseUnknown, Patch: PatchUnknown}
	ix := pv.ix
	if ix == nil {
		v.Support, v.Status = SupportUnknownProduct, StatusUnknownProduct
		v.Reason = "eolwatch has no end-of-life data for the product " + strconv.Quote(pv.Product) + "."
		return v
	}
	v.Product = ix.p.ID
	day := dayOf(asOf)
	label := ix.p.Label
	if m := ix.newestMemo.Load(); m != nil && m.day == day {
		v.Newest = m.upgrade
	} else {
		v.Newest = ix.newest(day)
		ix.newestMemo.Store(&dayMemo{day: day, upgrade: v.Newest})
	}
	if pv.cycle < 0 {
		v.Support, v.Status = SupportUnknownVersion, StatusUnknownVersion
		v.UpgradeTo = ix.upgrade(day, -1)
		if !pv.Version.Valid() {
			v.Reason = label + " version " + strconv.Quote(pv.Version.Raw) + " could not be read (" + pv.Version.Err.Error() + "), so its support status is unknown."
		} else {
			v.Reason = label + " has no release cycle that contains version " + pv.Version.Raw + ", so its support status is unknown."
		}
		return v
	}
	ci := &ix.cycles[pv.cycle]

	v.Cycle = ci.c.Name
	v.EOL = ci.eolVal
	if ci.eolDay != noDay {
		d := int(ci.eolDay - day)
		v.DaysToEOL = &d
	}
	latest, haveLatest := ci.latestAsOf(day)
	if haveLatest {
		v.Latest = latest.v.Raw
	}
	name := ci.label
	v.Patch = patchOf(ci, &pv.Version, day, p, latest, haveLatest)

	if day > ci.eolEnd {
		v.Support, v.Status, v.Phase = SupportEOL, StatusEOL, PhaseEOL
		if ci.eoesSet && day <= ci.eoesEnd {
			v.Phase = PhaseExtended
		}
		// the end-of-life answer depends only on the cycle and the day:
		// memoised per cycle, so re-evaluating a fleet for one day allocates nothing
		if m := ci.eolMemo.Load(); m != nil && m.day == day {
			v.UpgradeTo, v.Reason = m.upgrade, m.reason
			return v
		}
		var older bool
		v.UpgradeTo, older = ix.upgradeOlder(day, pv.cycle)
		ended := ci.endedText
		if v.Phase == PhaseExtended {
			ended = ci.extendedText
		}
		switch {
		case v.UpgradeTo != "" && older:
			if next := ix.nextNewer(day, pv.cycle); next != "" {
				v.Reason = ended + "; move to a supported release line, " + v.UpgradeTo + " or later (the next newer line is " + next + ")."
			} else {
				v.Reason = ended + "; no newer " + label + " release is supported, the older " + v.UpgradeTo + " still is."
			}
		case v.UpgradeTo != "":
			v.Reason = ended + "; upgrade to " + v.UpgradeTo + " or later."
		default:
			v.Reason = ended + "; no supported " + label + " release is available to upgrade to."
		}
		ci.eolMemo.Store(&dayMemo{day: day, upgrade: v.UpgradeTo, reason: v.Reason})
		return v
	}

	v.Support, v.Phase = SupportSupported, PhaseActive
	if day > ci.eoasEnd {
		v.Phase = PhaseSecurity
	}
	// the cycle's latest patch; the install itself when it is newer than
	// anything known or when the catalog is coarser than the install
	v.UpgradeTo = pv.Version.Raw
	if haveLatest && v.Patch != PatchUnknown && compareP(&latest.v, &pv.Version) >= 0 {
		v.UpgradeTo = v.Latest
	}
	soon := v.DaysToEOL != nil && *v.DaysToEOL <= p.WarnDays
	switch {
	case v.Patch == PatchOverdue:
		v.Status = StatusPatchOverdue
	case soon:
		v.Status = StatusEOLSoon
	case v.Patch == PatchAvailable:
		v.Status = StatusPatchAvailable
	default:
		v.Status = StatusCurrent
	}
	until := " with no announced end-of-life date"
	if ci.eolDay != noDay {
		until = " until " + ci.eolStr
	}
	phase := " is supported"
	if v.Phase == PhaseSecurity {
		phase = " receives security fixes only"
	}
	switch v.Status {
	case StatusPatchOverdue:
		first, _ := ci.firstNewer(&pv.Version)
		v.Reason = name + " is supported, but " + pv.Version.Raw + " is missing patches released since " + dayString(first) +
			", more than " + strconv.Itoa(p.GraceDays) + " days ago; upgrade to " + v.Latest + "."
	case StatusEOLSoon:
		r := name + " reaches end of life on " + ci.eolStr + " (in " + strconv.Itoa(*v.DaysToEOL) + " days); plan an upgrade to " + ix.upgradeAfter(day, pv.cycle)
		if v.Patch == PatchAvailable {
			r += ", and install " + v.Latest + " meanwhile"
		}
		v.Reason = r + "."
	case StatusPatchAvailable:
		first, _ := ci.firstNewer(&pv.Version)
		due := ""
		if first != math.MaxInt32 {
			due = " by " + dayString(first+int32(p.GraceDays))
		}
		v.Reason = name + phase + until + "; " + v.Latest + " is available, install it" + due + "."
	default:
		if v.Patch == PatchUnknown {
			v.Reason = name + phase + until + "."
		} else {
			v.Reason = name + phase + until + " and " + pv.Version.Raw + " is its latest patch."
		}
	}
	return v
}

// patchOf works out the patch field: current when no newer version of the
// cycle was known on day d, overdue when the first newer one appeared more
// than the grace period ago, available otherwise (also when the newer one
// has no date); unknown when the cycle has no known versions or knows them
// only more coarsely than the installed version.
func patchOf(ci *cycleIndex, v *Version, day int32, p Policy, latest *relEntry, haveLatest bool) string {
	if !v.Valid() || !haveLatest {
		return PatchUnknown
	}
	if c := compareP(&latest.v, v); c <= 0 {
		if c < 0 && len(latest.v.comps) < len(v.comps) && len(latest.v.tail) == 0 && prefixOf(latest.v.comps, v.comps) {
			// the catalog knows this cycle only to a coarser precision (Windows 10.0.19045 for 10.0.19045.3693)
			return PatchUnknown
		}
		return PatchCurrent
	}
	first, undated := ci.firstNewer(v)
	if first <= day {
		if day-first > int32(p.GraceDays) {
			return PatchOverdue
		}
		return PatchAvailable
	}
	if undated {
		return PatchAvailable
	}
	return PatchCurrent
}

// targetOf is what to install to be on a cycle: its latest known patch on
// day d, else the cycle's name.
func (ci *cycleIndex) targetOf(d int32) string {
	if l, ok := ci.latestAsOf(d); ok {
		return l.v.Raw
	}
	return ci.c.Name
}

// newest returns the latest patch (known on day d) of the newest cycle
// released by day d.
func (ix *prodIndex) newest(d int32) string {
	k := sort.Search(len(ix.byRel), func(k int) bool { return ix.cycles[ix.byRel[k]].release > d }) - 1
	if k < 0 {
		return ""
	}
	return ix.cycles[ix.byRel[k]].targetOf(d)
}

// upgrade returns the supported target for a version in cycle cur on day d,
// exactly as the design defines it: the latest patch of the oldest cycle
// (by release date) that is released and not past its end of life on that
// day, other than cur; "" when nothing is supported. cur is -1 for an
// unknown version.
func (ix *prodIndex) upgrade(d int32, cur int) string {
	t, _ := ix.upgradeOlder(d, cur)
	return t
}

// upgradeOlder is upgrade that also reports whether the target is an older
// release line than cur, which happens when lifecycles are not monotonic
// (Node.js 21 ends before 18, Ubuntu 23.10 before 22.04 LTS).
func (ix *prodIndex) upgradeOlder(d int32, cur int) (string, bool) {
	for k := 0; k < len(ix.byRel); k++ {
		ci := &ix.cycles[ix.byRel[k]]
		if ci.release > d {
			break
		}
		if ix.byRel[k] != cur && d <= ci.eolEnd {
			return ci.targetOf(d), cur >= 0 && k < ix.relPos[cur]
		}
	}
	return "", false
}

// nextNewer returns the target of the oldest supported cycle released after
// cur on day d (the natural upgrade when the oldest supported one is older
// than cur), or "".
func (ix *prodIndex) nextNewer(d int32, cur int) string {
	for k := ix.relPos[cur] + 1; k < len(ix.byRel); k++ {
		ci := &ix.cycles[ix.byRel[k]]
		if ci.release > d {
			break
		}
		if d <= ci.eolEnd {
			return ci.targetOf(d)
		}
	}
	return ""
}

// upgradeAfter names the target for an install whose cycle nears its end
// of life: the oldest newer supported cycle that outlives it.
func (ix *prodIndex) upgradeAfter(d int32, cur int) string {
	end := ix.cycles[cur].eolEnd
	for k := ix.relPos[cur] + 1; k < len(ix.byRel); k++ {
		ci := &ix.cycles[ix.byRel[k]]
		if ci.release > d {
			break
		}
		if d <= ci.eolEnd && ci.eolEnd > end {
			return ci.targetOf(d) + " or later"
		}
	}
	return "a newer supported " + ix.p.Label + " release when one is published"
}

func cycleLabel(c *Cycle) string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

// CycleStatus describes a cycle's state on day asOf for display: "upcoming"
// (not released yet), "active", "security" (active support over), "eol-soon"
// (within the policy's warning window), "extended" (past end of life, paid
// support running) or "eol".
func CycleStatus(c *Cycle, asOf time.Time, p Policy) string {
	if p == (Policy{}) {
		p = DefaultPolicy()
	}
	d := dayOf(asOf)
	switch {
	case !c.ReleaseDate.IsZero() && c.ReleaseDate.day() > d:
		return "upcoming"
	case c.EOL.endedBy(d):
		if c.EOES.Set && !c.EOES.endedBy(d) {
			return PhaseExtended
		}
		return PhaseEOL
	case !c.EOL.Date.IsZero() && int(c.EOL.Date.day()-d) <= p.WarnDays:
		return StatusEOLSoon
	case c.EOAS.endedBy(d):
		return PhaseSecurity
	}
	return PhaseActive
}

// LatestAsOf returns the newest version of cycle c of product p known on
// day asOf (from its dated releases and its latest), or "" when none was.
func LatestAsOf(p *Product, c *Cycle, asOf time.Time) string {
	ix := &prodIndex{p: p, prefixes: namePrefixes(p.Cycles)}
	ci := cycleIndex{c: c, release: c.ReleaseDate.day()}
	ci.buildReleases(ix.parse)
	if l, ok := ci.latestAsOf(dayOf(asOf)); ok {
		return l.v.Raw
	}
	return ""
}

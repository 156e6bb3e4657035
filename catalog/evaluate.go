package catalog

import (
	"strconv"
	"strings"
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

// Parse parses version for product once: the result can be passed to
// EvaluateParsed repeatedly. An unknown product or unparsable version is
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
// A zero Policy means DefaultPolicy.
func (c *Catalog) Evaluate(product, version string, asOf time.Time, p Policy) Verdict {
	return c.EvaluateParsed(c.ParseVersion(product, version), asOf, p)
}

// EvaluateParsed returns the verdict for a version parsed with
// (*Catalog).ParseVersion of the same catalog. A zero Policy means DefaultPolicy.
func (c *Catalog) EvaluateParsed(pv ParsedVersion, asOf time.Time, p Policy) Verdict {
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
	newest, upgrade := ix.targets(day, pv.cycle)
	v.Newest = newest
	if pv.cycle < 0 {
		v.Support, v.Status = SupportUnknownVersion, StatusUnknownVersion
		v.UpgradeTo = upgrade
		if !pv.Version.Valid() {
			v.Reason = label + " version " + strconv.Quote(pv.Version.Raw) + " could not be read (" + pv.Version.Err.Error() + "), so its support status is unknown."
		} else {
			v.Reason = label + " has no release cycle that contains version " + pv.Version.Raw + ", so its support status is unknown."
		}
		return v
	}
	ci := &ix.cycles[pv.cycle]
	cyc := ci.c
	v.Cycle = cyc.Name
	v.EOL = cyc.EOL.Value()
	if ci.eolDay != noDay {
		d := int(ci.eolDay - day)
		v.DaysToEOL = &d
	}
	latest, haveLatest := ci.latestAsOf(day)
	if haveLatest {
		v.Latest = latest.v.Raw
	}
	name := label + " " + cycleLabel(cyc)

	if ci.eol.endedBy(day) {
		v.Support, v.Status = SupportEOL, StatusEOL
		v.Phase = PhaseEOL
		if ci.eoes.Set && !ci.eoes.endedBy(day) {
			v.Phase = PhaseExtended
		}
		v.Patch = patchOf(ci, pv.Version, day, p, latest, haveLatest)
		v.UpgradeTo = upgrade
		var b strings.Builder
		b.WriteString(name)
		if ci.eolDay != noDay {
			b.WriteString(" reached end of life on " + dayString(ci.eolDay))
		} else {
			b.WriteString(" has reached end of life")
		}
		if v.Phase == PhaseExtended {
			b.WriteString(" and is only covered by paid extended support")
			if !ci.eoes.Date.IsZero() {
				b.WriteString(" until " + ci.eoes.Date.String())
			}
		}
		if upgrade != "" {
			b.WriteString("; upgrade to " + upgrade + " or later.")
		} else {
			b.WriteString("; no supported " + label + " release is available to upgrade to.")
		}
		v.Reason = b.String()
		return v
	}

	v.Support = SupportSupported
	v.Phase = PhaseActive
	if ci.eoas.endedBy(day) {
		v.Phase = PhaseSecurity
	}
	v.UpgradeTo = v.Latest
	if v.UpgradeTo == "" {
		v.UpgradeTo = pv.Version.Raw
	}
	v.Patch = patchOf(ci, pv.Version, day, p, latest, haveLatest)
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
	until := "with no announced end-of-life date"
	if ci.eolDay != noDay {
		until = "until " + dayString(ci.eolDay)
	}
	phase := "supported"
	if v.Phase == PhaseSecurity {
		phase = "receives security fixes only"
	}
	switch v.Status {
	case StatusPatchOverdue:
		first, _ := ci.firstNewer(pv.Version)
		v.Reason = name + " is supported, but " + pv.Version.Raw + " is missing patches released since " + dayString(first) +
			", more than " + strconv.Itoa(p.GraceDays) + " days ago; upgrade to " + v.Latest + "."
	case StatusEOLSoon:
		v.Reason = name + " reaches end of life on " + dayString(ci.eolDay) + " (in " + strconv.Itoa(*v.DaysToEOL) + " days); plan an upgrade to " + upgradeAfter(ix, day, pv.cycle, v.Latest) + "."
		if v.Patch == PatchAvailable {
			v.Reason = strings.TrimSuffix(v.Reason, ".") + ", and install " + v.Latest + " meanwhile."
		}
	case StatusPatchAvailable:
		first, _ := ci.firstNewer(pv.Version)
		due := ""
		if first != noDay && first < 1<<30 {
			due = " by " + dayString(first+int32(p.GraceDays))
		}
		v.Reason = name + " is " + phase + " " + until + "; " + v.Latest + " is available, install it" + due + "."
	default:
		v.Reason = name + " is " + phase + " " + until + " and " + pv.Version.Raw + " is its latest patch."
		if v.Patch == PatchUnknown {
			v.Reason = name + " is " + phase + " " + until + "."
		}
	}
	return v
}

// patchOf works out the patch field: current when no newer version of the
// cycle was known on day d, overdue when the first newer one appeared more
// than the grace period ago, available otherwise.
func patchOf(ci *cycleIndex, v Version, day int32, p Policy, latest relEntry, haveLatest bool) string {
	if !v.Valid() {
		return PatchUnknown
	}
	if !haveLatest {
		return PatchUnknown
	}
	if c := Compare(latest.v, v); c <= 0 {
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

// supportedOn reports whether the cycle is released and not past end of life on day d.
func (ci *cycleIndex) supportedOn(d int32) bool {
	if ci.release != noDay && ci.release > d {
		return false
	}
	return !ci.eol.endedBy(d)
}

// targetOf is what to install to be on a cycle: its latest known patch on
// day d, else the cycle's name.
func (ci *cycleIndex) targetOf(d int32) string {
	if l, ok := ci.latestAsOf(d); ok {
		return l.v.Raw
	}
	return ci.c.Name
}

// targets returns newest (the latest patch of the newest cycle released by
// day d) and the upgrade target for a version in cycle cur (the latest patch
// of the oldest cycle still supported on day d, preferring cycles released
// after cur so a customer is never told to downgrade).
func (ix *prodIndex) targets(d int32, cur int) (newest, upgrade string) {
	newestIx, oldest, oldestAny := -1, -1, -1
	var curRel int32 = noDay
	if cur >= 0 {
		curRel = ix.cycles[cur].release
	}
	for i := range ix.cycles {
		ci := &ix.cycles[i]
		if ci.release != noDay && ci.release > d {
			continue
		}
		if newestIx < 0 || ci.release > ix.cycles[newestIx].release {
			newestIx = i
		}
		if i == cur || ci.eol.endedBy(d) {
			continue
		}
		if oldestAny < 0 || ci.release <= ix.cycles[oldestAny].release {
			oldestAny = i
		}
		if cur >= 0 && (ci.release < curRel || (ci.release == curRel && i > cur)) {
			continue
		}
		if oldest < 0 || ci.release <= ix.cycles[oldest].release {
			oldest = i
		}
	}
	if newestIx >= 0 {
		newest = ix.cycles[newestIx].targetOf(d)
	}
	if oldest < 0 {
		oldest = oldestAny
	}
	if oldest >= 0 {
		upgrade = ix.cycles[oldest].targetOf(d)
	}
	return newest, upgrade
}

// upgradeAfter names the next supported cycle's target for an eol-soon
// install, falling back to "a supported release".
func upgradeAfter(ix *prodIndex, d int32, cur int, latest string) string {
	best := -1
	curRel := ix.cycles[cur].release
	for i := range ix.cycles {
		ci := &ix.cycles[i]
		if i == cur || !ci.supportedOn(d) || ci.release < curRel || (ci.release == curRel && i > cur) {
			continue
		}
		// must outlive the current cycle
		if ci.eolDay != noDay && ci.eolDay <= ix.cycles[cur].eolDay {
			continue
		}
		if best < 0 || ci.release < ix.cycles[best].release {
			best = i
		}
	}
	if best < 0 {
		return "a newer supported " + ix.p.Label + " release when one is published"
	}
	return ix.cycles[best].targetOf(d) + " or later"
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
	ci := cycleIndex{c: c}
	ci.buildReleases(ix.parse)
	if l, ok := ci.latestAsOf(dayOf(asOf)); ok {
		return l.v.Raw
	}
	return ""
}

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

// Evaluate returns the verdict for product at version on the day asOf, for
// an install judged upstream on a host enrolled in no paid programme
// (EvaluateIn with the zero Context). It never fails: unknown products and
// unparsable versions are verdicts. A zero Policy means DefaultPolicy.
// Verdict.Product is the product's id (an alias or a different case
// resolves to it); Verdict.Version is the raw version as given.
func (c *Catalog) Evaluate(product, version string, asOf time.Time, p Policy) Verdict {
	pv := c.ParseVersion(product, version)
	return c.evaluate(&pv, asOf, p.normalised(), nil)
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
	return c.evaluate(&pv, asOf, p.normalised(), nil)
}

// evaluate is the upstream verdict, in steps: the facts that do not depend
// on the cycle, then (for a version in a cycle) decide every field and
// compose the reason from the decision. pol must be normalised; enrolled
// are the host's programme enrolments.
func (c *Catalog) evaluate(pv *ParsedVersion, asOf time.Time, pol Policy, enrolled []string) Verdict {
	day := dayOf(asOf)
	ix := pv.ix
	if ix == nil {
		return c.unknownProduct(pv, day)
	}
	v := Verdict{Product: ix.p.ID, Version: pv.Version.Raw, Phase: PhaseUnknown, Patch: PatchUnknown,
		Maintainer: MaintainerUpstream, CatalogDate: ix.dateStr, Newest: ix.newestOn(day), Warnings: ix.ageWarnings(day)}
	mode := pol.extendedMode(ix.p.ID)
	ext := ix.extendedCounts(mode, enrolled)
	if pv.cycle < 0 {
		ix.judgeOutsideCycles(&v, pv.Version, day, ext)
		return v
	}
	d := ix.decide(pv, day, &pol, ext, mode == ExtendedNone) // a value on the stack: evaluating a fleet allocates little
	d.fill(&v)
	if d.support == SupportEOL {
		v.UpgradeTo, v.Reason = ix.eolAnswer(d.cur, day, ext, d.none)
		return v
	}
	v.Reason = d.supportedReason(&pv.Version)
	if d.hiddenSoon() {
		v.Warnings = append(v.Warnings[:len(v.Warnings):len(v.Warnings)], d.soonSentence()+".")
	}
	return v
}

// unknownProduct is the verdict for a product the catalog does not know.
func (c *Catalog) unknownProduct(pv *ParsedVersion, day int32) Verdict {
	return Verdict{Product: pv.Product, Version: pv.Version.Raw, Support: SupportUnknownProduct, Status: StatusUnknownProduct,
		Phase: PhaseUnknown, Patch: PatchUnknown, Maintainer: MaintainerUpstream, CatalogDate: c.dateStr(),
		Warnings: c.ageWarnings(day),
		Reason:   "eolwatch has no end-of-life data for the product " + strconv.Quote(pv.Product) + "."}
}

// newestOn returns the latest patch of the newest cycle released by day d,
// memoised for the last day asked.
func (ix *prodIndex) newestOn(d int32) string {
	if m := ix.newestMemo.Load(); m != nil && m.day == d {
		return m.upgrade
	}
	n := ix.newest(d)
	ix.newestMemo.Store(&dayMemo{day: d, upgrade: n})
	return n
}

// extendedCounts reports whether the product's extended-support programme
// keeps a cycle supported under the policy's setting for the product
// (mode) for a host with these enrolments.
func (ix *prodIndex) extendedCounts(mode string, enrolled []string) bool {
	switch mode {
	case ExtendedAll:
		return true
	case ExtendedNone:
		return false
	}
	return ix.prog.Free || (len(enrolled) > 0 && ix.prog.Enrolled(enrolled))
}

// judgeOutsideCycles fills the verdict of a version no cycle holds: end of
// life when it is older than every cycle and the oldest has ended,
// unknown-version otherwise. upgrade_to never points below the version.
func (ix *prodIndex) judgeOutsideCycles(v *Verdict, ver Version, day int32, ext bool) {
	label := ix.p.Label
	if !ver.Valid() {
		v.Support, v.Status = SupportUnknownVersion, StatusUnknownVersion
		v.UpgradeTo, _ = ix.upgradeTarget(day, -1, nil, ext)
		v.Reason = label + " version " + strconv.Quote(ver.Raw) + " could not be read (" + ver.Err.Error() + "), so its support status is unknown."
		return
	}
	target, _ := ix.upgradeTarget(day, -1, &ver, ext)
	if o := ix.oldest; o >= 0 && !allZero(ver.comps) && compareComps(ver.comps, ix.cycles[o].key) < 0 {
		if oc := &ix.cycles[o]; day > oc.supportEnd(ext) {
			v.Support, v.Status, v.Phase = SupportEOL, StatusEOL, PhaseEOL
			v.UpgradeTo = target
			r := label + " " + ver.Raw + " is older than every " + label + " release line the catalog lists, and the oldest of them, " +
				cycleLabel(oc.c) + ", " + endedPhrase(oc)
			if target != "" {
				r += "; upgrade to " + target + " or later."
			} else {
				r += "; no supported " + label + " release is newer."
			}
			v.Reason = r
			return
		}
	}
	v.Support, v.Status = SupportUnknownVersion, StatusUnknownVersion
	v.UpgradeTo = target
	v.Reason = label + " has no release cycle that contains version " + ver.Raw + ", so its support status is unknown."
}

// endedPhrase says when a cycle's support ended: "reached end of life on D".
func endedPhrase(ci *cycleIndex) string {
	if ci.eolStr != "" {
		return "reached end of life on " + ci.eolStr
	}
	return "has reached end of life"
}

func allZero(cs []uint64) bool {
	for _, c := range cs {
		if c != 0 {
			return false
		}
	}
	return true
}

// supportEnd is the last day the cycle is supported: its end of life, or
// the end of its extended support when that counts (ext).
func (ci *cycleIndex) supportEnd(ext bool) int32 {
	if ext && ci.eoesSet && ci.eoesEnd > ci.eolEnd {
		return ci.eoesEnd
	}
	return ci.eolEnd
}

// decision is everything evaluate decided about a version in a cycle on
// one day, before any sentence is written. It holds no pointer into the
// ParsedVersion, so a caller's version can stay on its stack.
type decision struct {
	ix      *prodIndex
	ci      *cycleIndex
	cur     int // index of the cycle
	day     int32
	grace   int  // the policy's grace days
	none    bool // the policy counts no extended support for the product
	ext     bool // the product's extended support counts (policy, enrolment)
	extEnd  bool // the end of support is the extended programme's
	support string
	phase   string
	patch   string
	status  string

	latest     *relEntry // the cycle's newest patch known on the day
	haveLatest bool
	endDay     int32 // last supported day when dated, else noDay
	daysLeft   int   // endDay - day when dated
	soon       bool  // the end of support is within the warning window
	upgradeTo  string
}

// supportedStatus is the status of a supported install from its patch
// state and whether its end of support is within the warning window: an
// overdue patch first, then the coming end, then an available patch.
func supportedStatus(patch string, soon bool) string {
	switch {
	case patch == PatchOverdue:
		return StatusPatchOverdue
	case soon:
		return StatusEOLSoon
	case patch == PatchAvailable:
		return StatusPatchAvailable
	default:
		return StatusCurrent
	}
}

// decide works out support, phase, patch and status of a version in a cycle.
func (ix *prodIndex) decide(pv *ParsedVersion, day int32, pol *Policy, ext, none bool) (d decision) {
	ci := &ix.cycles[pv.cycle]
	d = decision{ix: ix, ci: ci, cur: pv.cycle, day: day, ext: ext, endDay: noDay, grace: pol.GraceDays, none: none}
	end := ci.supportEnd(ext)
	d.extEnd = end != ci.eolEnd
	if d.extEnd {
		d.endDay = ci.eoesDay
	} else {
		d.endDay = ci.eolDay
	}
	if d.endDay != noDay {
		d.daysLeft = int(d.endDay - day)
	}
	d.latest, d.haveLatest = ci.latestAsOf(day)
	d.patch = patchOf(ci, &pv.Version, day, pol.GraceDays, d.latest, d.haveLatest)
	d.soon = d.endDay != noDay && d.daysLeft <= pol.WarnDays
	inExtended := day > ci.eolEnd && ci.eoesSet && day <= ci.eoesEnd
	switch {
	case day > end:
		d.support, d.status, d.phase = SupportEOL, StatusEOL, PhaseEOL
		if inExtended {
			d.phase = PhaseExtended
		}
		return
	case inExtended:
		d.phase = PhaseExtended
	case day > ci.eoasEnd:
		d.phase = PhaseSecurity
	default:
		d.phase = PhaseActive
	}
	d.support = SupportSupported
	d.status = supportedStatus(d.patch, d.soon)
	// the cycle's latest patch; the install itself when it is newer than
	// anything known or when the catalog is coarser than the install
	d.upgradeTo = pv.Version.Raw
	if d.haveLatest && d.patch != PatchUnknown && compareP(&d.latest.v, &pv.Version) >= 0 {
		d.upgradeTo = d.latest.v.Raw
	}
	return d
}

// fill copies the decision into the verdict's fields (not the reason).
func (d *decision) fill(v *Verdict) {
	ci := d.ci
	v.Cycle = ci.c.Name
	v.Support, v.Phase, v.Patch, v.Status = d.support, d.phase, d.patch, d.status
	if d.extEnd {
		v.EOL = ci.eoesVal
	} else {
		v.EOL = ci.eolVal
	}
	if d.endDay != noDay {
		n := d.daysLeft
		v.DaysToEOL = &n
	}
	if d.haveLatest {
		v.Latest = d.latest.v.Raw
	}
	v.UpgradeTo = d.upgradeTo
}

// hiddenSoon reports whether the end of support is within the warning
// window while the status shows something worse (patch-overdue): the
// verdict then carries the coming end of life as a warning too.
func (d *decision) hiddenSoon() bool {
	return d.support == SupportSupported && d.soon && d.status != StatusEOLSoon
}

// soonSentence is "Zabbix 6.0 reaches end of life on 2027-02-28 (in 89
// days); plan an upgrade to 7.0.29 or later", without the full stop.
func (d *decision) soonSentence() string {
	return d.ci.label + " reaches end of " + d.endWord() + " on " + d.endStr() + " (in " + strconv.Itoa(d.daysLeft) + " days); plan an upgrade to " +
		d.ix.upgradeAfter(d.day, d.cur, d.ext)
}

// endWord names what ends: "life", or the extended programme's support.
func (d *decision) endWord() string {
	if d.extEnd {
		return "support (" + d.ix.prog.Name + ")"
	}
	return "life"
}

// endStr is the last supported day as YYYY-MM-DD.
func (d *decision) endStr() string {
	if d.extEnd {
		return d.ci.eoesStr
	}
	return d.ci.eolStr
}

// supportedReason composes the one-sentence reason of a supported verdict
// for the installed version ver.
func (d *decision) supportedReason(ver *Version) string {
	ci, grace := d.ci, strconv.Itoa(d.grace)
	name := ci.label
	switch d.status {
	case StatusPatchOverdue:
		r := name + " is supported"
		if d.soon {
			r += " until " + d.endStr() + " (in " + strconv.Itoa(d.daysLeft) + " days; plan an upgrade to " + d.ix.upgradeAfter(d.day, d.cur, d.ext) + ")"
		}
		first, firstVer, exact, _ := ci.firstNewerRelease(ver)
		if exact {
			r += ", but " + ver.Raw + " is missing patches released since " + dayString(first) + ", more than " + grace + " days ago"
		} else {
			// the catalog does not date every release of this cycle: name the
			// one it does date instead of claiming when the first appeared
			r += ", but " + ver.Raw + " is behind " + firstVer + ", released on " + dayString(first) + ", more than " + grace + " days ago"
		}
		return r + "; upgrade to " + d.latest.v.Raw + "."
	case StatusEOLSoon:
		r := d.soonSentence()
		if d.patch == PatchAvailable {
			r += ", and install " + d.latest.v.Raw + " meanwhile"
		}
		return r + "."
	}
	// one concatenation per sentence: name, phase, until, date, note, rest
	phase, until, date, note := d.supportedClause()
	switch {
	case d.status == StatusPatchAvailable:
		first, _ := ci.firstNewer(ver)
		if first == math.MaxInt32 {
			return name + phase + until + date + note + "; " + d.latest.v.Raw + " is available, install it."
		}
		return name + phase + until + date + note + "; " + d.latest.v.Raw + " is available, install it by " + dayString(first+int32(d.grace)) + "."
	case d.patch == PatchUnknown:
		return name + phase + until + date + note + "."
	}
	return name + phase + until + date + note + " and " + ver.Raw + " is its latest patch."
}

// supportedClause returns the parts of " is supported until 2027-10-31",
// " receives security fixes only until ...", " is supported by Debian LTS
// until 2028-06-30 (regular support ended on 2026-07-11)" or " is
// supported until 2028-06-30 (through Debian LTS after 2026-07-11)",
// without concatenating them.
func (d *decision) supportedClause() (phase, until, date, note string) {
	ci := d.ci
	until = " with no announced end-of-life date"
	if d.endDay != noDay {
		until, date = " until ", d.endStr()
	}
	switch {
	case d.phase == PhaseExtended:
		return d.ix.byProgramme, until, date, ci.regularEndedNote
	case d.extEnd:
		note = ci.throughNote
	}
	if d.phase == PhaseSecurity {
		return " receives security fixes only", until, date, note
	}
	return " is supported", until, date, note
}

// eolAnswer returns upgrade_to and the reason for cycle cur past its
// support on day d. Both depend only on the cycle, the day and the
// extended-support policy (ext: it counts; none: the policy counts none):
// memoised per cycle, so re-evaluating a fleet for one day allocates nothing.
func (ix *prodIndex) eolAnswer(cur int, d int32, ext, none bool) (upgrade, reason string) {
	ci := &ix.cycles[cur]
	if m := ci.eolMemo.Load(); m != nil && m.day == d && m.ext == ext && m.none == none {
		return m.upgrade, m.reason
	}
	label := ix.p.Label
	ended := ci.endedText
	if d > ci.eolEnd && ci.eoesSet && d <= ci.eoesEnd { // the extended phase runs, but it does not count
		ended += ix.extendedNotCounted(ci, none)
	}
	upgrade, older := ix.upgradeTarget(d, cur, nil, ext)
	switch {
	case upgrade != "":
		reason = ended + "; upgrade to " + upgrade + " or later."
	case older != "":
		reason = ended + "; no newer " + label + " release line is supported, only the older " + older + " still is."
	case ix.ageDays(d) > StaleAfterDays:
		reason = ended + "; no " + label + " release line in the catalog data is supported on " + dayString(d) + ", but that data is " +
			strconv.Itoa(ix.ageDays(d)) + " days old: upgrade to the newest " + label + " release"
		if n := ix.newestOn(d); n != "" {
			reason += " (newer than " + n + ", the newest the data knows)"
		}
		reason += "."
	default:
		reason = ended + "; no supported " + label + " release is available to upgrade to."
	}
	ci.eolMemo.Store(&dayMemo{day: d, ext: ext, none: none, upgrade: upgrade, reason: reason})
	return upgrade, reason
}

// extendedNotCounted explains an extended programme that is running but
// does not keep the cycle supported.
func (ix *prodIndex) extendedNotCounted(ci *cycleIndex, none bool) string {
	p := ix.prog
	until := ""
	if ci.eoesStr != "" {
		until = " until " + ci.eoesStr
	}
	switch {
	case none:
		return " and only " + p.Name + " covers it" + until + ", which the support policy does not count"
	case p == paidProgramme:
		return " and is only covered by paid extended support" + until
	}
	return " and is only covered by " + p.Name + until + ", a paid programme that counts only for enrolled hosts"
}

// patchOf works out the patch field: current when no newer version of the
// cycle was known on day d, overdue when the first newer one appeared more
// than the grace period ago, available otherwise (also when the newer one
// has no date); unknown when the cycle has no known versions or knows them
// only more coarsely than the installed version.
func patchOf(ci *cycleIndex, v *Version, day int32, graceDays int, latest *relEntry, haveLatest bool) string {
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
		if day-first > int32(graceDays) {
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

// upgradeTarget returns the supported version to move to from cycle cur
// (or, when cur is -1, from a version ver that no cycle holds; nil ver: an
// unreadable version) on day d: the latest
// patch of the oldest release line, by release date, that is released and
// supported on that day and newer than the install, so upgrade_to never
// points below it. When there is none, older names the newest supported
// older line ("6.2 (6.2.24)") so the reason can say only that one is left.
func (ix *prodIndex) upgradeTarget(d int32, cur int, ver *Version, ext bool) (target, older string) {
	var olderAt int = -1
	for k := 0; k < len(ix.byRel); k++ {
		i := ix.byRel[k]
		ci := &ix.cycles[i]
		if ci.release > d {
			break
		}
		if i == cur || d > ci.supportEnd(ext) {
			continue
		}
		var newer bool
		switch {
		case cur >= 0:
			newer = ix.newerCycle(i, cur)
		case ver != nil:
			newer = ix.aboveVersion(i, ver)
		default:
			newer = true // an unreadable version: the oldest supported line
		}
		if newer {
			return ci.targetOf(d), ""
		}
		if olderAt < 0 || ix.newerCycle(i, olderAt) {
			olderAt = i
		}
	}
	if olderAt >= 0 {
		oc := &ix.cycles[olderAt]
		return "", cycleLabel(oc.c) + " (" + oc.targetOf(d) + ")"
	}
	return "", ""
}

// upgradeAfter names the target for an install whose cycle nears its end
// of support: "X or later" for the oldest newer supported cycle that
// outlives it, else a newer release when one is published.
func (ix *prodIndex) upgradeAfter(d int32, cur int, ext bool) string {
	if t := ix.upgradeAfterTarget(d, cur, ext); t != "" {
		return t + " or later"
	}
	return "a newer supported " + ix.p.Label + " release when one is published"
}

// upgradeAfterTarget is the latest patch of the oldest newer cycle that is
// supported on day d and outlives cycle cur, or "".
func (ix *prodIndex) upgradeAfterTarget(d int32, cur int, ext bool) string {
	// a newer line is released after this one: start there
	end := ix.cycles[cur].supportEnd(ext)
	for k := ix.relPos[cur] + 1; k < len(ix.byRel); k++ {
		i := ix.byRel[k]
		ci := &ix.cycles[i]
		if ci.release > d {
			break
		}
		if e := ci.supportEnd(ext); d <= e && e > end && ix.newerCycle(i, cur) {
			return ci.targetOf(d)
		}
	}
	return ""
}

func cycleLabel(c *Cycle) string {
	if c.Label != "" {
		return c.Label
	}
	return c.Name
}

// CycleStatus describes a cycle's state on day asOf for display: "upcoming"
// (not released yet), "active", "security" (active support over), "eol-soon"
// (within the policy's warning window), "extended" (past end of life, an
// extended programme running) or "eol".
func CycleStatus(c *Cycle, asOf time.Time, p Policy) string {
	p = p.normalised()
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

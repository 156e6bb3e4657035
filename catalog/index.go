package catalog

import (
	"math"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
)

// prodIndex is the precomputed, read-only view of a product used by Evaluate.
type prodIndex struct {
	p        *Product
	cycles   []cycleIndex        // same order as p.Cycles (newest first)
	byName   map[string]int      // lowercase cycle name and label → index
	prefixes []string            // letter prefixes of cycle names ("cos-", "pc."), stripped from versions
	builds   map[[3]uint64][]int // Windows: major.minor.build of the cycle's latest → indexes
	byRel    []int               // cycle indexes by release day ascending (ties: later listed first)
	relPos   []int               // relPos[i]: position of cycle i in byRel
	oldest   int                 // the cycle with the smallest numeric name; -1 unless every cycle name is numeric

	prog        *Programme // the extended-support programme behind the eoes dates
	byProgramme string     // " is supported by " + the programme's name, for reasons
	date        Date       // the day the product's data was taken
	dateDay     int32      // date as a day number, noDay when unknown
	dateStr     string     // date as YYYY-MM-DD, "" when unknown

	newestMemo atomic.Pointer[dayMemo]  // the last newest answer
	ageMemo    atomic.Pointer[warnMemo] // the last catalog-age warnings
}

// dayMemo remembers an answer that depends only on the day (and whether
// extended support counts), so evaluating many installs for the same day
// does the work once. Safe for concurrent use.
type dayMemo struct {
	day     int32
	ext     bool // extended support counted
	none    bool // the policy counts no extended support (the reason says so)
	upgrade string
	reason  string
}

// warnMemo remembers the warnings of one day.
type warnMemo struct {
	day      int32
	warnings []string
}

// relEntry is one known version of a cycle with the day it appeared.
type relEntry struct {
	v   Version
	day int32 // noDay when undated (then known from the cycle's release)
}

type cycleIndex struct {
	c    *Cycle
	key  []uint64 // numeric components of the name; nil when the name is not version-like
	tags []string // other alphanumeric tokens of the name (lts, sp3, windows)
	// named is true when the name is the start of the cycle's versions (3.12
	// → 3.12.7), false when the versions are spelled otherwise (Windows
	// Server 2016 → 10.0.14393): then cycles are ordered by their latest
	named bool

	release int32  // release day; math.MinInt32 when unknown
	eolDay  int32  // noDay unless the end of life is dated
	eolEnd  int32  // support has ended on days after this one (MinInt32: ended, MaxInt32: not ended)
	eoasEnd int32  // same for active support
	eoesEnd int32  // same for extended support
	eoesSet bool   // the product has an extended-support phase for this cycle
	eolVal  any    // Verdict.EOL, boxed once
	eolStr  string // the end-of-life date as YYYY-MM-DD, "" when not dated
	eoesDay int32  // noDay unless the end of extended support is dated
	eoesVal any    // Verdict.EOL when extended support counts, boxed once
	eoesStr string // the end of extended support as YYYY-MM-DD, "" when not dated
	label   string // product label + " " + cycle label, for reasons

	endedText        string // "Python 3.8 reached end of life on 2024-10-07"
	regularEndedNote string // " (regular support ended on 2026-07-11)", for a cycle in its extended phase
	throughNote      string // " (through Debian LTS after 2026-07-11)", for a cycle whose extended support counts

	eolMemo atomic.Pointer[dayMemo] // the last end-of-life answer (upgrade target and reason)

	latest Version // parsed c.Latest (may be invalid)

	rel       []relEntry // every known version, ascending by version
	sufMin    []int32    // sufMin[i]: earliest dated day among rel[i:], math.MaxInt32 when none
	sufUndat  []bool     // sufUndat[i]: rel[i:] holds an undated version
	byDay     []int32    // days ascending (undated first as math.MinInt32)
	prefMaxIx []int      // prefMaxIx[k]: index in rel of the greatest version among the first k+1 by day
}

func buildIndex(p *Product) *prodIndex {
	ix := &prodIndex{p: p, cycles: make([]cycleIndex, len(p.Cycles)), byName: make(map[string]int, len(p.Cycles)*2)}
	ix.prefixes = namePrefixes(p.Cycles)
	for i, c := range p.Cycles {
		ci := &ix.cycles[i]
		ci.c = c
		ci.key, ci.tags = cycleKey(p.Scheme, c.Name, ix.prefixes)
		ci.release = c.ReleaseDate.day()
		if ci.release == noDay {
			ci.release = math.MinInt32
		}
		ci.eolDay = c.EOL.Date.day()
		ci.eolEnd, ci.eoasEnd, ci.eoesEnd = endDay(c.EOL), endDay(c.EOAS), endDay(c.EOES)
		ci.eoesSet = c.EOES.Set
		ci.eolVal = c.EOL.Value()
		ci.eolStr = c.EOL.Date.String()
		ci.eoesDay = c.EOES.Date.day()
		ci.eoesVal = c.EOES.Value()
		ci.eoesStr = c.EOES.Date.String()
		ci.label = p.Label + " " + cycleLabel(c)
		if ci.eolStr != "" {
			ci.endedText = ci.label + " reached end of life on " + ci.eolStr
		} else {
			ci.endedText = ci.label + " has reached end of life"
		}
		ci.latest = ix.parse(c.Latest)
		ci.named = ci.key != nil && (!ci.latest.Valid() || prefixOf(ci.key, ci.latest.comps))
		if _, ok := ix.byName[strings.ToLower(c.Name)]; !ok {
			ix.byName[strings.ToLower(c.Name)] = i
		}
		if c.Label != "" {
			// a label shared by several cycles ("11 24H2 (E)" for 11-24h2-e and 11-24h2-e-lts)
			// names the plainest of them
			if j, ok := ix.byName[strings.ToLower(c.Label)]; !ok || (p.Cycles[j].Label == c.Label && len(c.Name) < len(p.Cycles[j].Name)) {
				ix.byName[strings.ToLower(c.Label)] = i
			}
		}
		ci.buildReleases(ix.parse)
		if p.Scheme == SchemeWindows && ci.latest.Valid() && len(ci.latest.comps) >= 3 {
			if ix.builds == nil {
				ix.builds = map[[3]uint64][]int{}
			}
			k := [3]uint64{ci.latest.comps[0], ci.latest.comps[1], ci.latest.comps[2]}
			ix.builds[k] = append(ix.builds[k], i)
		}
	}
	ix.byRel = make([]int, len(ix.cycles))
	for i := range ix.byRel {
		ix.byRel[i] = i
	}
	sort.SliceStable(ix.byRel, func(a, b int) bool {
		ra, rb := ix.cycles[ix.byRel[a]].release, ix.cycles[ix.byRel[b]].release
		if ra != rb {
			return ra < rb
		}
		return ix.byRel[a] > ix.byRel[b]
	})
	ix.relPos = make([]int, len(ix.cycles))
	for k, i := range ix.byRel {
		ix.relPos[i] = k
	}
	ix.oldest = -1
	if p.Scheme != SchemeWindows {
		for i := range ix.cycles {
			k := ix.cycles[i].key
			if k == nil {
				ix.oldest = -1
				break
			}
			if ix.oldest < 0 || compareComps(k, ix.cycles[ix.oldest].key) < 0 {
				ix.oldest = i
			}
		}
	}
	ix.prog = programmeOf(p)
	ix.byProgramme = " is supported by " + ix.prog.Name
	for i := range ix.cycles {
		if ci := &ix.cycles[i]; ci.eoesSet && ci.eolStr != "" {
			ci.regularEndedNote = " (regular support ended on " + ci.eolStr + ")"
			ci.throughNote = " (through " + ix.prog.Name + " after " + ci.eolStr + ")"
		}
	}
	ix.date = p.Date
	ix.dateDay = p.Date.day()
	ix.dateStr = p.Date.String()
	return ix
}

// compareComps orders two lists of numeric components, missing trailing
// components counting as zero ([3 10] = [3 10 0] < [3 11]).
func compareComps(a, b []uint64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// newerCycle reports whether cycle i is a newer release line than cycle
// cur: by their latest versions when neither name is the start of its
// versions (Windows Server 2016 is 10.0.14393, older than 1909's
// 10.0.18363), else by their numeric names, and by release date when the
// names are equal or not numeric.
func (ix *prodIndex) newerCycle(i, cur int) bool {
	a, b := &ix.cycles[i], &ix.cycles[cur]
	if !a.named && !b.named && a.latest.Valid() && b.latest.Valid() {
		if c := compareP(&a.latest, &b.latest); c != 0 {
			return c > 0
		}
	}
	if a.key != nil && b.key != nil {
		if c := compareComps(a.key, b.key); c != 0 {
			return c > 0
		}
	}
	return a.release > b.release
}

// aboveVersion reports whether every version of cycle i is newer than a
// version ver that belongs to no cycle: by the cycle's numeric name, or by
// its latest when the name is not the start of its versions (false when
// neither says).
func (ix *prodIndex) aboveVersion(i int, ver *Version) bool {
	ci := &ix.cycles[i]
	if !ci.named {
		return ci.latest.Valid() && compareP(&ci.latest, ver) > 0
	}
	return compareComps(ci.key, ver.comps) > 0
}

// endDay turns a milestone into the last day of the phase: a date is the
// last day, true (ended, no date) is before every day, false or unset after.
func endDay(m Milestone) int32 {
	switch {
	case !m.Set:
		return math.MaxInt32
	case !m.Date.IsZero():
		return m.Date.day()
	case m.Ended:
		return math.MinInt32
	}
	return math.MaxInt32
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// stripName removes a leading product label, id or alias followed by a
// space ("Python 3.12.1"), or the id or an alias followed directly by the
// version ("go1.21.0"), from a version string, when what follows starts
// with a digit.
func (ix *prodIndex) stripName(t string) (string, bool) {
	names := append([]string{ix.p.Label, ix.p.ID}, ix.p.Aliases...)
	if l := ix.p.Label; strings.HasPrefix(l, "Microsoft ") {
		names = append(names, strings.TrimPrefix(l, "Microsoft "))
	}
	for _, n := range names {
		if n == "" || len(t) <= len(n)+1 || !strings.EqualFold(t[:len(n)], n) || t[len(n)] != ' ' {
			continue
		}
		rest := strings.TrimSpace(t[len(n)+1:])
		if rest != "" && isDigit(rest[0]) {
			return rest, true
		}
	}
	// the id or an alias written against the version: "go1.21.0"
	for _, n := range append([]string{ix.p.ID}, ix.p.Aliases...) {
		if len(n) >= 2 && len(t) > len(n) && strings.EqualFold(t[:len(n)], n) && isDigit(t[len(n)]) {
			return t[len(n):], true
		}
	}
	return "", false
}

// namePrefixes returns the letter prefixes (with their separator) that
// cycle names start with before their version ("cos-" for cos-129, "pc."
// for pc.2024.3); versions spelled with such a prefix have it stripped.
func namePrefixes(cs []*Cycle) []string {
	var out, bad []string
	for _, c := range cs {
		n := strings.ToLower(c.Name)
		j := 0
		for j < len(n) && isLetter(n[j]) {
			j++
		}
		if j == 0 || j+1 >= len(n) || (n[j] != '-' && n[j] != '.') || !isDigit(n[j+1]) {
			continue
		}
		p := n[:j+1]
		// only a prefix the versions carry too: "paperwhite-5" (a Kindle model whose
		// firmware is 5.x) is not one
		switch l := strings.ToLower(strings.TrimSpace(c.Latest)); {
		case l == "":
		case strings.HasPrefix(l, p):
			if !contains(out, p) {
				out = append(out, p)
			}
		default:
			bad = append(bad, p)
		}
	}
	return slices.DeleteFunc(out, func(p string) bool { return contains(bad, p) })
}

// stripPrefix removes the first of prefixes that s starts with (case-insensitively).
func stripPrefix(s string, prefixes []string) (string, bool) {
	for _, p := range prefixes {
		if len(s) > len(p) && strings.EqualFold(s[:len(p)], p) {
			return s[len(p):], true
		}
	}
	return s, false
}

// parse parses a version of this product, stripping a cycle-name prefix
// when the version carries it ("cos-129-19506-299-148").
func (ix *prodIndex) parse(raw string) Version {
	if t := strings.TrimSpace(raw); t != "" && isLetter(lower(t[0])) {
		// "Ubuntu 22.04.3 LTS", "Python 3.12.1", "Microsoft Windows 10.0.19045": drop the product's name
		if rest, ok := ix.stripName(t); ok {
			v := ix.parse(rest)
			v.Raw = raw
			return v
		}
	}
	if len(ix.prefixes) > 0 {
		if t, ok := stripPrefix(strings.TrimSpace(raw), ix.prefixes); ok {
			v := ParseVersion(ix.p.Scheme, t)
			v.Raw = raw
			return v
		}
	}
	return ParseVersion(ix.p.Scheme, raw)
}

func (ci *cycleIndex) buildReleases(parse func(string) Version) {
	seen := map[string]bool{}
	add := func(ver string, d Date) {
		if ver == "" || seen[ver] {
			return
		}
		v := parse(ver)
		if !v.Valid() {
			return
		}
		seen[ver] = true
		ci.rel = append(ci.rel, relEntry{v: v, day: d.day()})
	}
	for _, r := range ci.c.Releases {
		add(r.Version, r.Date)
	}
	add(ci.c.Latest, ci.c.LatestDate)
	sort.SliceStable(ci.rel, func(i, j int) bool { return compareP(&ci.rel[i].v, &ci.rel[j].v) < 0 })
	n := len(ci.rel)
	ci.sufMin = make([]int32, n+1)
	ci.sufUndat = make([]bool, n+1)
	ci.sufMin[n] = math.MaxInt32
	for i := n - 1; i >= 0; i-- {
		ci.sufMin[i], ci.sufUndat[i] = ci.sufMin[i+1], ci.sufUndat[i+1]
		if d := ci.rel[i].day; d == noDay {
			ci.sufUndat[i] = true
		} else if d < ci.sufMin[i] {
			ci.sufMin[i] = d
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// an undated version is known from the cycle's release (from the start
	// when that is unknown too); it never starts a grace period (sufMin)
	dayKey := func(i int) int32 {
		if ci.rel[i].day == noDay {
			if ci.release == noDay {
				return math.MinInt32
			}
			return ci.release
		}
		return ci.rel[i].day
	}
	sort.SliceStable(order, func(a, b int) bool { return dayKey(order[a]) < dayKey(order[b]) })
	ci.byDay = make([]int32, n)
	ci.prefMaxIx = make([]int, n)
	best := -1
	for k, i := range order {
		ci.byDay[k] = dayKey(i)
		if best < 0 || i > best { // rel is sorted by version, so a higher index is a greater version
			best = i
		}
		ci.prefMaxIx[k] = best
	}
}

// latestAsOf returns the greatest version known on day d, or false.
func (ci *cycleIndex) latestAsOf(d int32) (*relEntry, bool) {
	lo, hi := 0, len(ci.byDay)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ci.byDay[m] <= d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return nil, false
	}
	return &ci.rel[ci.prefMaxIx[lo-1]], true
}

// firstNewer returns the earliest day on which a version newer than v was
// known (math.MaxInt32 when none is dated) and whether an undated newer one exists.
func (ci *cycleIndex) firstNewer(v *Version) (int32, bool) {
	i := ci.newerFrom(v)
	return ci.sufMin[i], ci.sufUndat[i]
}

// newerFrom returns the index in rel of the first version newer than v.
func (ci *cycleIndex) newerFrom(v *Version) int {
	return sort.Search(len(ci.rel), func(i int) bool { return compareP(&ci.rel[i].v, v) > 0 })
}

// firstNewerRelease describes the earliest dated release newer than v: its
// day and version, and whether it is known to be the first newer release
// (the cycle's known versions reach down to v, so none is missing between).
// ok is false when no newer release is dated.
func (ci *cycleIndex) firstNewerRelease(v *Version) (day int32, version string, exact, ok bool) {
	i := ci.newerFrom(v)
	if ci.sufMin[i] == math.MaxInt32 {
		return 0, "", false, false
	}
	for k := i; k < len(ci.rel); k++ {
		if ci.rel[k].day == ci.sufMin[i] {
			return ci.sufMin[i], ci.rel[k].v.Raw, i > 0 && ci.rel[i].day != noDay, true
		}
	}
	return 0, "", false, false
}

// cycleKey splits a cycle name into its numeric components and other tokens:
// "3.10" → [3 10]; "4.9-lts" → [4 9] [lts]; "nodejs24.x" → [24]; "13.0-sp3" → [13 0] [sp3];
// "r610-windows" → [610] [windows]; "galaxy-s26" → nil.
func cycleKey(scheme Scheme, name string, prefixes []string) ([]uint64, []string) {
	s, _ := stripPrefix(strings.ToLower(name), prefixes)
	if (scheme == SchemeJava) && len(s) == 3 && strings.HasPrefix(s, "1.") && s[2] >= '2' && s[2] <= '8' {
		return []uint64{uint64(s[2] - '0')}, nil // Java 1.4 is feature release 4
	}
	i := 0
	for i < len(s) && isLetter(s[i]) {
		i++
	}
	if i == len(s) || !isDigit(s[i]) {
		return nil, nil
	}
	comps := leadingComps(s[i:])
	j := i
	for k := range comps {
		_ = k
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j++
		}
	}
	var tags []string
	for _, t := range splitAlnum(s[j:]) {
		if t != "x" {
			tags = append(tags, t)
		}
	}
	return comps, tags
}

// splitAlnum splits s into runs of letters and digits.
func splitAlnum(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
}

// hintSynonyms map edition words in a version string to the tags cycle names use.
var hintSynonyms = map[string]string{
	"enterprise": "e", "education": "e", "ltsc": "lts", "ltsb": "lts", "pro": "w", "professional": "w", "home": "w",
	"workstation": "w", "server": "", "windows": "",
}

// hints returns the alphanumeric tokens of a raw version with synonyms added.
func hints(raw string) map[string]bool {
	h := map[string]bool{}
	for _, t := range splitAlnum(raw) {
		h[t] = true
		if s, ok := hintSynonyms[t]; ok && s != "" {
			h[s] = true
		}
		if t == "ltsc" || t == "ltsb" {
			h["e"] = true
		}
	}
	return h
}

// tagScore rates how well a cycle's tags fit the hints: +10 per tag named in
// the version, -1 per tag not named ("w", the default edition, costs nothing).
func tagScore(tags []string, h map[string]bool) int {
	s := 0
	for _, t := range tags {
		switch {
		case h[t]:
			s += 10
		case t == "w":
		default:
			s--
		}
	}
	return s
}

// findCycle maps a parsed version to a cycle index, or -1.
func (ix *prodIndex) findCycle(v Version) int {
	if i, ok := ix.byName[strings.ToLower(strings.TrimSpace(v.Raw))]; ok {
		return i
	}
	if !v.Valid() {
		return -1
	}
	if ix.builds != nil && len(v.comps) >= 3 {
		cands := ix.builds[[3]uint64{v.comps[0], v.comps[1], v.comps[2]}]
		switch len(cands) {
		case 0:
		case 1:
			return cands[0]
		default:
			return ix.pick(v, cands)
		}
	}
	best, bestLen, tie := -1, 0, false
	for i := range ix.cycles {
		k := ix.cycles[i].key
		if k == nil || len(k) < bestLen || !prefixOf(k, v.comps) {
			continue
		}
		if len(k) > bestLen {
			best, bestLen, tie = i, len(k), false
		} else {
			tie = true
		}
	}
	if best < 0 {
		return ix.byLatest(v)
	}
	if !tie {
		return best
	}
	var cands []int
	for i := range ix.cycles {
		if k := ix.cycles[i].key; k != nil && len(k) == bestLen && prefixOf(k, v.comps) {
			cands = append(cands, i)
		}
	}
	return ix.pick(v, cands)
}

// byLatest is the fallback for products whose cycle names are not versions
// (Exchange 2019 → 15.2.x) or whose data lists a cycle's latest outside its
// name (protractor 5.0 → 5.4.4): among the cycles whose latest does not match
// their own name, those whose latest shares the version's first two
// components (one when the latest has one), chosen as in pick.
func (ix *prodIndex) byLatest(v Version) int {
	var cands []int
	for i := range ix.cycles {
		l := ix.cycles[i].latest
		if !l.Valid() || len(l.comps) == 0 {
			continue
		}
		if k := ix.cycles[i].key; k != nil && prefixOf(k, l.comps) {
			// the cycle's name already describes its versions (ruby 1.9.3 holds
			// 1.9.3p551, not 1.9.1): name matching has decided
			continue
		}
		n := min(2, len(l.comps))
		if len(v.comps) < n || !prefixOf(l.comps[:n], v.comps) {
			continue
		}
		cands = append(cands, i)
	}
	switch len(cands) {
	case 0:
		return -1
	case 1:
		return cands[0]
	}
	return ix.pick(v, cands)
}

// pick chooses among cycles that match a version equally well: by edition
// or tag hints in the version string, then (except for Windows, whose
// editions share builds) by the cycle whose latest is the smallest one not
// below the version, then by fewest unnamed tags, then the first (newest) listed.
func (ix *prodIndex) pick(v Version, cands []int) int {
	h := hints(v.Raw)
	win := ix.p.Scheme == SchemeWindows
	score := func(i int) int {
		if win {
			return tagScore(windowsTags(ix.cycles[i].c.Name), h)
		}
		n := 0 // only named tags count here; unnamed ones break ties last
		for _, t := range ix.cycles[i].tags {
			if h[t] {
				n++
			}
		}
		return n
	}
	bestScore := math.MinInt
	var top []int
	for _, i := range cands {
		s := score(i)
		switch {
		case s > bestScore:
			bestScore, top = s, []int{i}
		case s == bestScore:
			top = append(top, i)
		}
	}
	if len(top) == 1 {
		return top[0]
	}
	best := -1
	for _, i := range top {
		l := ix.cycles[i].latest
		if !l.Valid() || Compare(l, v) < 0 {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		// the smallest latest at or above the version; on equal latests, the cycle with fewer tags
		if c := Compare(l, ix.cycles[best].latest); c < 0 || (c == 0 && len(ix.cycles[i].tags) < len(ix.cycles[best].tags)) {
			best = i
		}
	}
	if best >= 0 && !win {
		return best
	}
	if !win {
		// no latest at or above the version: the cycle with the greatest latest, else fewest tags
		for _, i := range top {
			l := ix.cycles[i].latest
			if l.Valid() && (best < 0 || Compare(l, ix.cycles[best].latest) > 0) {
				best = i
			}
		}
		if best >= 0 {
			return best
		}
		for _, i := range top {
			if best < 0 || len(ix.cycles[i].tags) < len(ix.cycles[best].tags) {
				best = i
			}
		}
		return best
	}
	return top[0]
}

// windowsTags returns the edition tags of a Windows cycle name: "11-24h2-e-lts" → [e lts].
func windowsTags(name string) []string {
	t := splitAlnum(name)
	if len(t) <= 2 {
		if len(t) == 2 && !isDigit(t[1][0]) { // "2012-r2", "1809-sac"
			return t[1:]
		}
		return nil
	}
	return t[2:]
}

// prefixOf reports whether key is a prefix of comps, missing trailing
// components of comps counting as zero ("7" is in cycle "7.0").
func prefixOf(key, comps []uint64) bool {
	for i, k := range key {
		var c uint64
		if i < len(comps) {
			c = comps[i]
		}
		if c != k {
			return false
		}
	}
	return true
}

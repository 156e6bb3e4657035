package catalog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/eolwatch/eolwatch/internal/pkgver"
)

// Version is a parsed version string. The raw spelling is always kept; a
// version that could not be parsed has a non-nil Err and still carries Raw.
// Versions are values: parse once with ParseVersion and compare or evaluate
// many times.
type Version struct {
	// Raw is the version exactly as it was given.
	Raw string
	// Scheme is the scheme the version was parsed with.
	Scheme Scheme
	// Err is why the version could not be parsed, nil when it was.
	Err error

	comps []uint64 // leading numeric release components (used for ordering and cycle matching)
	tail  []tok    // qualifiers after the numeric components (pre-releases, letter suffixes, updates, builds)
	words []string // lowercase words seen in the raw string (edition hints for Windows, tags)
	sv    *semver.Version
	epoch uint64 // debian / rpm epoch
	upver string // debian / rpm upstream version
	rev   string // debian / rpm revision (release)
}

// tok is one qualifier after the numeric components. class -1 sorts before
// the plain version (alpha, beta, rc...), +1 after it (letter suffix, update,
// service pack, build).
type tok struct {
	class int8
	rank  int8 // order of pre-release words: dev < alpha < beta < pre < rc
	word  string
	num   uint64
}

// Components returns the version's leading numeric components (3.10.12 →
// [3 10 12]; 8u392-b08 → [8 0 392]). The slice must not be modified.
func (v Version) Components() []uint64 { return v.comps }

// Valid reports whether the version was parsed.
func (v Version) Valid() bool { return v.Err == nil }

// String returns the raw spelling.
func (v Version) String() string { return v.Raw }

// ErrEmptyVersion is returned for an empty version string.
var ErrEmptyVersion = errors.New("empty version")

// KnownScheme reports whether s is a scheme this package implements.
func KnownScheme(s Scheme) bool {
	switch s {
	case SchemeAuto, SchemeSemver, SchemeDotted, SchemeJava, SchemeDebian, SchemeRPM, SchemeAPK, SchemeCalver, SchemeWindows:
		return true
	}
	return false
}

// ParseVersion parses raw with the given scheme. It never fails outright:
// an unparsable version is returned with Err set and Raw kept, so callers
// can report it as unknown-version with the reason.
func ParseVersion(s Scheme, raw string) Version {
	v := Version{Raw: raw, Scheme: s}
	clean := strings.TrimSpace(raw)
	if clean == "" {
		v.Err = ErrEmptyVersion
		return v
	}
	if len(clean) > 256 {
		v.Err = fmt.Errorf("version is %d characters long, at most 256 are accepted", len(clean))
		return v
	}
	var err error
	switch s {
	case SchemeSemver:
		err = v.parseSemver(clean)
	case SchemeJava:
		err = v.parseJava(clean)
	case SchemeDebian:
		err = v.parseDebian(clean)
	case SchemeRPM:
		err = v.parseRPM(clean)
	case SchemeAPK:
		err = v.parseAPK(clean)
	case SchemeAuto:
		if looksJava(clean) {
			err = v.parseJava(clean)
		} else {
			err = v.parseGeneric(clean)
		}
	case SchemeDotted, SchemeCalver, SchemeWindows:
		err = v.parseGeneric(clean)
	default:
		err = fmt.Errorf("unknown version scheme %q", string(s))
	}
	if err != nil {
		v.Err = err
		v.comps, v.tail, v.sv = nil, nil, nil
	}
	return v
}

// Compare orders two versions parsed with the same scheme: -1 when a < b,
// 0 when they are equal, +1 when a > b. Unparsable versions sort before
// every parsed one and among themselves by raw string, so the order stays
// total.
func Compare(a, b Version) int { return compareP(&a, &b) }

// compareP is Compare without copying the versions.
func compareP(a, b *Version) int {
	if a.Err != nil || b.Err != nil {
		switch {
		case a.Err != nil && b.Err != nil:
			return strings.Compare(a.Raw, b.Raw)
		case a.Err != nil:
			return -1
		default:
			return 1
		}
	}
	if a.sv != nil && b.sv != nil {
		return a.sv.Compare(b.sv)
	}
	if (a.Scheme == SchemeDebian || a.Scheme == SchemeRPM) && a.Scheme == b.Scheme {
		if a.epoch != b.epoch {
			if a.epoch < b.epoch {
				return -1
			}
			return 1
		}
		cmp := pkgver.DebCompare
		if a.Scheme == SchemeRPM {
			cmp = pkgver.RPMCompare
		}
		if c := cmp(a.upver, b.upver); c != 0 {
			return c
		}
		return cmp(a.rev, b.rev)
	}
	if a.Scheme == SchemeAPK && b.Scheme == SchemeAPK {
		return apkCompare(a.tail, b.tail)
	}
	return compareKeys(a, b)
}

// CompareStrings parses both versions with scheme s and compares them.
func CompareStrings(s Scheme, a, b string) int {
	return Compare(ParseVersion(s, a), ParseVersion(s, b))
}

func compareKeys(a, b *Version) int {
	n := max(len(a.comps), len(b.comps))
	for i := 0; i < n; i++ {
		var x, y uint64
		if i < len(a.comps) {
			x = a.comps[i]
		}
		if i < len(b.comps) {
			y = b.comps[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	// Qualifiers in order. Inside a pre-release (after an equal pre-release
	// token) a version with fewer identifiers is the lower one, as semver.org
	// §11 says (1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta); elsewhere a
	// missing qualifier is the plain version (after pre-releases, before
	// post-release letters and updates).
	at, bt := a.tail, b.tail
	n = min(len(at), len(bt))
	for i := 0; i < n; i++ {
		if c := compareTok(&at[i], &bt[i]); c != 0 {
			return c
		}
	}
	if len(at) == len(bt) {
		return 0
	}
	for i := 0; i < n; i++ {
		if at[i].class < 0 { // inside a pre-release: the shorter one is lower
			if len(at) < len(bt) {
				return -1
			}
			return 1
		}
	}
	var zero tok
	for i := n; i < len(at) || i < len(bt); i++ {
		x, y := &zero, &zero
		if i < len(at) {
			x = &at[i]
		}
		if i < len(bt) {
			y = &bt[i]
		}
		if c := compareTok(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func compareTok(x, y *tok) int {
	if x.class != y.class {
		if x.class < y.class {
			return -1
		}
		return 1
	}
	if x.rank != y.rank {
		if x.rank < y.rank {
			return -1
		}
		return 1
	}
	if x.word != y.word {
		return strings.Compare(x.word, y.word)
	}
	if x.num != y.num {
		if x.num < y.num {
			return -1
		}
		return 1
	}
	return 0
}

// parseSemver uses Masterminds/semver/v3 for the semver-like schemes,
// after semverSpelling has normalised the spellings projects and distros
// use for the same thing (5.0rc1, 1.6.7~rc0, 1.14.0.dfsg).
func (v *Version) parseSemver(s string) error {
	sv, err := semver.NewVersion(semverSpelling(s))
	if err != nil {
		return fmt.Errorf("not a semantic version: %w", err)
	}
	v.sv = sv
	v.comps = []uint64{sv.Major(), sv.Minor(), sv.Patch()}
	if p := sv.Prerelease(); p != "" {
		v.words = wordsOf(p)
	}
	return nil
}

// semverSpelling rewrites common non-semver spellings of a version into
// semver before parsing (the raw string is kept): repack markers go
// (1.14.0.dfsg, 1.14.0+ds1 → 1.14.0), a "~" before a pre-release becomes
// "-" (1.6.7~rc0 → 1.6.7-rc.0; any other "~" suffix goes), a pre-release
// written against the numbers gets its hyphen (5.0rc1 → 5.0-rc.1), and a
// pre-release identifier of letters then digits is split (rc10 → rc.10) so
// that rc2 < rc10, as projects mean it.
func semverSpelling(s string) string {
	i := 0
	if i < len(s) && (s[i] == 'v' || s[i] == 'V') {
		i++
	}
	for i < len(s) && (isDigit(s[i]) || s[i] == '.' && i+1 < len(s) && isDigit(s[i+1])) {
		i++
	}
	if i == len(s) {
		return s // plain numbers: nothing to do (the common case)
	}
	core, rest := s[:i], s[i:]
	rest = cutRepackMarker(rest)
	switch {
	case rest == "":
		return core
	case rest[0] == '~':
		if !startsPreRelease(rest[1:]) {
			return core
		}
		rest = "-" + rest[1:]
	case rest[0] != '-' && rest[0] != '+' && startsPreRelease(rest):
		rest = "-" + rest
	}
	if rest[0] != '-' {
		return core + rest
	}
	pre, build, _ := strings.Cut(rest[1:], "+")
	ids := strings.Split(pre, ".")
	out := make([]string, 0, len(ids)+2)
	for _, id := range ids {
		j := 0
		for j < len(id) && isLetter(lower(id[j])) {
			j++
		}
		if j > 0 && j < len(id) && allDigits(id[j:]) {
			out = append(out, id[:j], id[j:])
		} else {
			out = append(out, id)
		}
	}
	r := core + "-" + strings.Join(out, ".")
	if build != "" {
		r += "+" + build
	}
	return r
}

// startsPreRelease reports whether s starts with a pre-release word
// (rc1, beta, a1, pre2) followed by a number, a separator or the end.
func startsPreRelease(s string) bool {
	j := 0
	for j < len(s) && isLetter(lower(s[j])) {
		j++
	}
	if j == 0 || preRank(strings.ToLower(s[:j])) == 0 {
		return false
	}
	if j == 1 && (j == len(s) || !isDigit(s[j])) { // "a", "b", "c" alone are not pre-releases
		return false
	}
	return j == len(s) || isDigit(s[j]) || s[j] == '.' || s[j] == '-'
}

// repackMarkers are what Debian appends to an upstream version whose
// tarball it repacked; they are not part of the version.
var repackMarkers = map[string]bool{"dfsg": true, "ds": true, "repack": true}

// cutRepackMarker cuts s at a repack marker after '.', '+' or '~'
// (".dfsg", "+ds1", "~repack2") and returns what precedes it.
func cutRepackMarker(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && s[i] != '+' && s[i] != '~' {
			continue
		}
		j := i + 1
		for j < len(s) && isLetter(lower(s[j])) {
			j++
		}
		if repackMarkers[strings.ToLower(s[i+1:j])] {
			return s[:i]
		}
	}
	return s
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// preRank returns the rank of a pre-release word, or 0 when w is not one.
func preRank(w string) int8 {
	switch w {
	case "dev", "snapshot", "nightly", "canary":
		return 1
	case "alpha", "a", "ea", "m", "milestone":
		return 2
	case "beta", "b":
		return 3
	case "pre", "preview":
		return 4
	case "rc", "c", "cr":
		return 5
	}
	return 0
}

// ignoredWords are qualifiers that do not change a version's position
// ("22.04.3 LTS", "13.0.6500.1 GDR" as published names).
var ignoredWords = map[string]bool{"lts": true, "ltsc": true, "ga": true, "final": true, "release": true, "stable": true, "version": true, "only": true}

// wordAliases normalise spellings of the same qualifier.
var wordAliases = map[string]string{"u": "update", "upd": "update", "servicepack": "sp", "patch": "p", "r": "r"}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' }

// readNum reads a decimal number at s[i:], returning it and the next index.
func readNum(s string, i int) (uint64, int, error) {
	var n uint64
	j := i
	for j < len(s) && isDigit(s[j]) {
		d := uint64(s[j] - '0')
		if n > (1<<63)/10 {
			return 0, j, fmt.Errorf("number %q is too large", s[i:min(len(s), i+24)])
		}
		n = n*10 + d
		j++
	}
	return n, j, nil
}

// parseGeneric handles dotted versions of any length, letter suffixes
// (1.1.1w), calendar versions and service-update spellings (2022 SU3,
// 8.0 Update 3k), pre-releases (3.12.0rc1, 1.2.0-beta.2) and OS-ish
// spellings (22.04.3 LTS).
func (v *Version) parseGeneric(s string) error {
	s = strings.ToLower(s)
	if len(s) > 1 && s[0] == 'v' && isDigit(s[1]) {
		s = s[1:]
	}
	if !isDigit(s[0]) {
		return fmt.Errorf("does not start with a number")
	}
	i := 0
	comps := make([]uint64, 0, 4)
	for {
		n, j, err := readNum(s, i)
		if err != nil {
			return err
		}
		comps = append(comps, n)
		i = j
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	v.comps = comps
	return v.parseTail(s, i)
}

// parseTail reads the qualifiers after the numeric components.
func (v *Version) parseTail(s string, i int) error {
	attached := true // the next word touches the last number (1.1.1w, 3.12.0rc1)
	for i < len(s) {
		c := s[i]
		switch {
		case isLetter(c):
			j := i
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			w := s[i:j]
			v.words = append(v.words, w)
			// an optional number, directly or after one separator ("rc1", "rc.1", "update 3", "su3")
			k := j
			if k+1 < len(s) && (s[k] == ' ' || s[k] == '.' || s[k] == '-' || s[k] == '_') && isDigit(s[k+1]) && !attached {
				k++
			}
			var num uint64
			hasNum := false
			if k < len(s) && isDigit(s[k]) {
				n, e, err := readNum(s, k)
				if err != nil {
					return err
				}
				num, hasNum, j = n, true, e
			}
			if a, ok := wordAliases[w]; ok {
				w = a
			}
			switch {
			case ignoredWords[w] && !hasNum:
			case repackMarkers[w]: // 1.14.0.dfsg, 1.14.0+ds1: the version is 1.14.0
			case preRank(w) > 0 && (len(w) > 1 || hasNum):
				// a pre-release identifier and its number are two
				// identifiers, as in semver (rc1 = rc.1; alpha.1 < alpha.beta)
				v.tail = append(v.tail, tok{class: -1, rank: preRank(w)})
				if hasNum {
					v.tail = append(v.tail, tok{class: -1, num: num})
				}
			default:
				v.tail = append(v.tail, tok{class: 1, word: w, num: num})
			}
			i = j
			attached = false
		case isDigit(c):
			n, j, err := readNum(s, i)
			if err != nil {
				return err
			}
			v.tail = append(v.tail, tok{class: 1, num: n})
			i = j
			attached = true
		case c == '.' || c == '-' || c == '_' || c == '+' || c == '~' || c == ' ' || c == '(' || c == ')' || c == '/' || c == ',' || c == ':' || c == '\t':
			i++
			attached = false
		default:
			return fmt.Errorf("unexpected character %q", string(c))
		}
	}
	return nil
}

func wordsOf(s string) []string {
	var out []string
	s = strings.ToLower(s)
	for i := 0; i < len(s); {
		if !isLetter(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}

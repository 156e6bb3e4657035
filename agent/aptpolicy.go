package agent

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// This file is apt's candidate policy (apt_preferences(5), apt 2.x's
// pkgPolicy): default priorities per package index, general pins ("Package:
// *") applied to indexes, specific pins applied to versions, and the
// candidate: the version with the highest priority, the higher version
// winning a tie, never below the installed version unless a priority of
// 1000 or more allows the downgrade.

// neverPin is apt's "Pin-Priority: never" (the lowest short).
const neverPin = math.MinInt16

// Pin types.
const (
	pinVersion = "version"
	pinRelease = "release"
	pinOrigin  = "origin"
)

// aptPin is one record of a preferences file.
type aptPin struct {
	// Pkg is one name of the Package field: a name, a glob or /regex/,
	// optionally "src:" (a source package) and ":arch". Empty for a
	// general pin (Package: *).
	Pkg      string
	Type     string // pinVersion, pinRelease, pinOrigin
	Data     string // the Pin field after its type
	Priority int
	Where    string // file:line, for messages
	match    aptVersionMatch
}

// aptVersionMatch is apt's pkgVersionMatch: one parsed Pin value.
type aptVersionMatch struct {
	typ       string
	matchAll  bool
	verStr    string
	verPrefix bool
	// Release fields.
	relVer, relOrigin, relArchive, relCodename, relLabel, relComponent, relArch, relRelease string
	relVerPrefix                                                                            bool
	// Origin.
	site string
}

func newAptVersionMatch(typ, data string) aptVersionMatch {
	m := aptVersionMatch{typ: typ}
	if data == "" {
		return m
	}
	switch typ {
	case pinVersion:
		if strings.HasSuffix(data, "*") {
			m.verPrefix, m.verStr = true, data[:len(data)-1]
		} else {
			m.verStr = data
		}
	case pinRelease:
		if data == "*" {
			m.matchAll = true
			return m
		}
		if !strings.Contains(data, "=") {
			if data[0] >= '0' && data[0] <= '9' {
				m.relVer = data
			} else {
				m.relRelease = data
			}
		} else {
			for _, frag := range strings.Split(data, ",") {
				frag = strings.TrimSpace(frag)
				if len(frag) < 3 || frag[1] != '=' {
					continue
				}
				v := frag[2:]
				switch unicode.ToLower(rune(frag[0])) {
				case 'v':
					m.relVer = v
				case 'o':
					m.relOrigin = v
				case 'a':
					m.relArchive = v
				case 'n':
					m.relCodename = v
				case 'l':
					m.relLabel = v
				case 'c':
					m.relComponent = v
				case 'b':
					m.relArch = v
				}
			}
		}
		if strings.HasSuffix(m.relVer, "*") {
			m.relVerPrefix, m.relVer = true, m.relVer[:len(m.relVer)-1]
		}
	case pinOrigin:
		if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
			m.site = data[1 : len(data)-1]
		} else {
			m.site = data
		}
	}
	return m
}

// matchVer is apt's MatchVer: equal (case-insensitively) or, with prefix,
// starting with want.
func matchVer(have, want string, prefix bool) bool {
	if len(have) != len(want) && !prefix || len(have) < len(want) {
		return false
	}
	return strings.EqualFold(have[:len(want)], want)
}

// versionMatches reports whether a version string matches a version pin.
func (m aptVersionMatch) versionMatches(v string) bool {
	return matchVer(v, m.verStr, m.verPrefix) || aptExprMatch(m.verStr, v)
}

// fileMatches is apt's FileMatch for a package index (or the status file).
func (m aptVersionMatch) fileMatches(ix *aptIndex) bool {
	if ix.status {
		// The status file has no release: a release pin can only name its
		// archive "now".
		if m.typ != pinRelease {
			return false
		}
		if m.relOrigin != "" || m.relLabel != "" || m.relVer != "" || m.relCodename != "" {
			return false
		}
		if m.relArchive != "" && !aptExprMatch(m.relArchive, "now") {
			return false
		}
		if m.relRelease != "" && !aptExprMatch(m.relRelease, "now") {
			return false
		}
		if m.matchAll {
			return true
		}
		return (m.relComponent == "" || aptExprMatch(m.relComponent, "now")) && (m.relArch == "" || aptExprMatch(m.relArch, ""))
	}
	rel := ix.rel
	switch m.typ {
	case pinRelease:
		if m.matchAll {
			return true
		}
		if m.relVer == "" && m.relOrigin == "" && m.relArchive == "" && m.relLabel == "" &&
			m.relRelease == "" && m.relCodename == "" && m.relComponent == "" && m.relArch == "" {
			return false
		}
		if m.relVer != "" && !matchVer(rel.Version, m.relVer, m.relVerPrefix) && !aptExprMatch(m.relVer, rel.Version) {
			return false
		}
		if m.relOrigin != "" && !aptExprMatch(m.relOrigin, rel.Origin) {
			return false
		}
		if m.relArchive != "" && !aptExprMatch(m.relArchive, rel.Suite) {
			return false
		}
		if m.relCodename != "" && !aptExprMatch(m.relCodename, rel.Codename) {
			return false
		}
		if m.relRelease != "" && !aptExprMatch(m.relRelease, rel.Suite) && !aptExprMatch(m.relRelease, rel.Codename) {
			return false
		}
		if m.relLabel != "" && !aptExprMatch(m.relLabel, rel.Label) {
			return false
		}
		if m.relComponent != "" && !aptExprMatch(m.relComponent, ix.Component) {
			return false
		}
		if m.relArch != "" && !aptExprMatch(m.relArch, ix.Arch) {
			return false
		}
		return true
	case pinOrigin:
		return aptExprMatch(m.site, ix.site)
	}
	return false
}

// aptExprMatch is apt's ExpressionMatches: /regex/ (extended,
// case-insensitive) or a shell glob (case-insensitive).
func aptExprMatch(pattern, s string) bool {
	if len(pattern) >= 2 && pattern[0] == '/' && pattern[len(pattern)-1] == '/' {
		re, err := regexp.Compile("(?i)" + pattern[1:len(pattern)-1])
		return err == nil && re.MatchString(s)
	}
	return globMatch(strings.ToLower(pattern), strings.ToLower(s))
}

// globMatch is fnmatch(3) without flags: "*", "?", "[...]" (with "!" or "^"
// negation and ranges) and "\" escapes; "/" is an ordinary character.
func globMatch(p, s string) bool {
	px, sx := 0, 0
	nextP, nextS := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				nextP, nextS = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			case '[':
				if sx < len(s) {
					if ok, width := globClass(p[px:], s[sx]); width > 0 {
						if ok {
							px += width
							sx++
							continue
						}
						break
					}
				}
				if sx < len(s) && s[sx] == '[' { // unterminated: a literal "["
					px++
					sx++
					continue
				}
			case '\\':
				if px+1 < len(p) && sx < len(s) && s[sx] == p[px+1] {
					px += 2
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextS > 0 && nextS <= len(s) {
			px, sx = nextP, nextS
			continue
		}
		return false
	}
	return true
}

// globClass matches c against the bracket expression at the start of p and
// returns the expression's width (0 when it is not terminated).
func globClass(p string, c byte) (bool, int) {
	i := 1
	neg := false
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		neg = true
		i++
	}
	match := false
	first := true
	for i < len(p) && (p[i] != ']' || first) {
		first = false
		lo := p[i]
		if lo == '\\' && i+1 < len(p) {
			i++
			lo = p[i]
		}
		hi := lo
		if i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']' {
			hi = p[i+2]
			i += 2
		}
		if lo <= c && c <= hi {
			match = true
		}
		i++
	}
	if i >= len(p) {
		return false, 0
	}
	return match != neg, i + 1
}

// parsePreferences reads one preferences file. A record without Package is
// an error (apt refuses the whole file); a record without Pin or with a pin
// type apt does not understand is skipped, as apt does.
func parsePreferences(r io.Reader, name string) ([]aptPin, error) {
	var pins []aptPin
	var perr error
	err := parseDeb822(r, true, func(st deb822Stanza) bool {
		where := fmt.Sprintf("%s:%d", name, st.Line)
		pkg, ok := st.Get("Package")
		if !ok || strings.TrimSpace(pkg) == "" {
			perr = fmt.Errorf("%s: record without a Package field", where)
			return false
		}
		general := strings.TrimSpace(pkg) == "*"
		pin, ok := st.Get("Pin")
		if !ok {
			return true
		}
		typ, data, _ := strings.Cut(strings.TrimSpace(pin), " ")
		typ = strings.ToLower(typ)
		data = strings.TrimSpace(data)
		switch {
		case typ == pinVersion && !general, typ == pinRelease, typ == pinOrigin:
		default:
			return true // apt warns "Did not understand pin type" and skips it
		}
		prioStr := strings.TrimSpace(st.Value("Pin-Priority"))
		prio := 0
		if prioStr == "never" {
			if !general {
				perr = fmt.Errorf("%s: Pin-Priority: never is only for Package: * records", where)
				return false
			}
			prio = neverPin
		} else {
			n, err := strconv.Atoi(prioStr)
			if err != nil || n < math.MinInt16 || n > math.MaxInt16 {
				perr = fmt.Errorf("%s: Pin-Priority %q is not a number from %d to %d", where, prioStr, math.MinInt16, math.MaxInt16)
				return false
			}
			if n == 0 {
				perr = fmt.Errorf("%s: no priority (or zero) for the pin", where)
				return false
			}
			if n == neverPin {
				n = neverPin + 1
			}
			prio = n
		}
		m := newAptVersionMatch(typ, data)
		if general {
			pins = append(pins, aptPin{Type: typ, Data: data, Priority: prio, Where: where, match: m})
			return true
		}
		for _, p := range strings.Fields(pkg) {
			pins = append(pins, aptPin{Pkg: p, Type: typ, Data: data, Priority: prio, Where: where, match: m})
		}
		return true
	})
	if err != nil {
		return pins, fmt.Errorf("%s: %w", name, err)
	}
	return pins, perr
}

// appliesTo reports whether a specific pin's Package names this package
// (name and architecture, with "all" already mapped to the native one);
// source-package pins are matched per version (srcPin).
func (p *aptPin) appliesTo(name, arch, native string) (ok, srcPin bool) {
	pkg := p.Pkg
	if strings.HasPrefix(pkg, "src:") {
		srcPin = true
		pkg = pkg[len("src:"):]
	}
	pinArch := ""
	if i := strings.LastIndexByte(pkg, ':'); i >= 0 {
		pkg, pinArch = pkg[:i], pkg[i+1:]
	}
	if pinArch == "" {
		pinArch = native
	}
	if pinArch != "any" && !strings.EqualFold(pinArch, arch) && !(pinArch == "all" && arch == native) {
		return false, srcPin
	}
	if srcPin {
		return true, true // the source name is checked per version
	}
	return aptPkgNameMatch(pkg, name), false
}

// aptPkgNameMatch: a name, or a glob or /regex/ when it looks like one.
func aptPkgNameMatch(pattern, name string) bool {
	if pattern == name {
		return true
	}
	if (len(pattern) >= 2 && pattern[0] == '/' && pattern[len(pattern)-1] == '/') || strings.ContainsAny(pattern, "*[?") {
		return aptExprMatch(pattern, name)
	}
	return false
}

// aptPolicy holds the priorities of one apt configuration.
type aptPolicy struct {
	native string
	pins   []aptPin // specific pins, in file order
	prio   []int    // per index (same order as the indexes), the status file last
}

// newAptPolicy computes each index's priority: 500, 100 for
// NotAutomatic+ButAutomaticUpgrades and for the status file, 1 for
// NotAutomatic; then the first general pin matching each index (the target
// release's 990 first of all), a "never" pin always winning.
func newAptPolicy(indexes []*aptIndex, pins []aptPin, defaultRelease, native string) *aptPolicy {
	p := &aptPolicy{native: native, prio: make([]int, len(indexes))}
	var general []aptPin
	if defaultRelease != "" {
		general = append(general, aptPin{Type: pinRelease, Data: defaultRelease, Priority: 990,
			match: newAptVersionMatch(pinRelease, defaultRelease)})
	}
	for _, pin := range pins {
		if pin.Pkg == "" {
			general = append(general, pin)
		} else {
			p.pins = append(p.pins, pin)
		}
	}
	for i, ix := range indexes {
		switch {
		case ix.status:
			p.prio[i] = 100
		case ix.rel.ButAutomaticUpgrades && ix.rel.NotAutomatic:
			p.prio[i] = 100
		case ix.rel.NotAutomatic:
			p.prio[i] = 1
		default:
			p.prio[i] = 500
		}
		fixed := false
		for _, g := range general {
			if (!fixed || g.Priority == neverPin) && p.prio[i] != neverPin && g.match.fileMatches(ix) {
				p.prio[i] = g.Priority
				fixed = true
			}
		}
	}
	return p
}

// aptVer is one version of a package as apt sees it: the indexes that
// offer it (the status file among them for the installed version).
type aptVer struct {
	Version string
	Source  string
	Indexes []int
}

// candidate returns the index in vers (sorted newest first) of apt's
// candidate, or -1, given the installed version's index (-1 when not
// installed) and the package's name and architecture.
func (p *aptPolicy) candidate(indexes []*aptIndex, vers []aptVer, installed int, name, arch string) int {
	// Specific pins that name this package, in order.
	type appl struct {
		pin *aptPin
		src bool
	}
	var pins []appl
	for i := range p.pins {
		if ok, src := p.pins[i].appliesTo(name, arch, p.native); ok {
			pins = append(pins, appl{&p.pins[i], src})
		}
	}
	cand, candPrio := -1, -1
	for vi, v := range vers {
		prio := p.versionPriority(indexes, v, vi == installed, pins == nil, func(yield func(*aptPin) bool) {
			for _, a := range pins {
				if a.src && !aptPkgNameMatch(strings.SplitN(strings.TrimPrefix(a.pin.Pkg, "src:"), ":", 2)[0], v.Source) {
					continue
				}
				if !yield(a.pin) {
					return
				}
			}
		})
		if prio == 0 || prio <= candPrio {
			continue
		}
		if installed >= 0 && prio < 1000 && compareDebVersions(v.Version, vers[installed].Version) < 0 {
			continue
		}
		cand, candPrio = vi, prio
	}
	return cand
}

// versionPriority is apt's GetPriority(Ver): the first specific pin that
// matches the version (unless every index offering it is never-pinned),
// else the highest priority of its indexes, the status file counting -1
// for a version that is not the installed one.
func (p *aptPolicy) versionPriority(indexes []*aptIndex, v aptVer, isInstalled, noPins bool, pins func(func(*aptPin) bool)) int {
	if !noPins {
		var hit *aptPin
		pins(func(pin *aptPin) bool {
			if pin.match.typ == pinVersion {
				if pin.match.versionMatches(v.Version) {
					hit = pin
				}
			} else {
				for _, ix := range v.Indexes {
					if indexes[ix].status && !isInstalled {
						continue
					}
					if pin.match.fileMatches(indexes[ix]) {
						hit = pin
						break
					}
				}
			}
			return hit == nil
		})
		if hit != nil {
			for _, ix := range v.Indexes {
				if p.prio[ix] != neverPin {
					return hit.Priority
				}
			}
		}
	}
	prio, any := math.MinInt, false
	for _, ix := range v.Indexes {
		q := p.prio[ix]
		if indexes[ix].status && !isInstalled {
			q = -1
		}
		if !any || q > prio {
			prio, any = q, true
		}
	}
	if !any {
		return 0
	}
	return prio
}

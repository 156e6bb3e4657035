package agent

import "strings"

// rpmvercmp compares two version (or release) strings the way rpm does
// (rpmvercmp(3)): alternating runs of digits (compared numerically) and
// letters (compared as strings), other characters separating them, "~"
// sorting before everything (even the end) and "^" after the end but
// before anything else. It returns -1, 0 or +1.
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	isAlnum := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	isAlpha := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// "~" sorts before everything else.
		if i < len(a) && a[i] == '~' || j < len(b) && b[j] == '~' {
			if i >= len(a) || a[i] != '~' {
				return 1
			}
			if j >= len(b) || b[j] != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		// "^" sorts after the end, before anything else.
		if i < len(a) && a[i] == '^' || j < len(b) && b[j] == '^' {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if a[i] != '^' {
				return 1
			}
			if b[j] != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		num := isDigit(a[i])
		if num {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		if sj == j { // segments of different kinds: a number is newer
			if num {
				return 1
			}
			return -1
		}
		x, y := a[si:i], b[sj:j]
		if num {
			x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
			if len(x) != len(y) {
				if len(x) > len(y) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i < len(a):
		return 1
	}
	return -1
}

// rpmEVR is an rpm package version: epoch, version, release.
type rpmEVR struct{ Epoch, Version, Release string }

// parseRPMEVR splits "[epoch:]version[-release]" as the rpm collector
// spells versions.
func parseRPMEVR(s string) rpmEVR {
	var e rpmEVR
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e.Epoch, s = s[:i], s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		e.Version, e.Release = s[:i], s[i+1:]
	} else {
		e.Version = s
	}
	return e
}

// String spells the EVR as the rpm collector does: the epoch only when not 0.
func (e rpmEVR) String() string {
	s := e.Version
	if e.Release != "" {
		s += "-" + e.Release
	}
	if ep := strings.TrimLeft(e.Epoch, "0"); ep != "" {
		s = ep + ":" + s
	}
	return s
}

// compareRPMEVR orders two EVRs as rpm does: epoch (numerically, missing
// is 0), then version, then release (ignored when either lacks one).
func compareRPMEVR(a, b rpmEVR) int {
	if c := compareDigits(orZero(a.Epoch), orZero(b.Epoch)); c != 0 {
		return c
	}
	if c := rpmvercmp(a.Version, b.Version); c != 0 {
		return c
	}
	if a.Release == "" || b.Release == "" {
		return 0
	}
	return rpmvercmp(a.Release, b.Release)
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// Package pkgver holds the version orderings of the distributions' package
// managers, written once for the server's catalog (the debian and rpm
// version schemes) and for the agent (apt's and dnf's candidate versions):
// dpkg's verrevcmp, rpm's rpmvercmp and the name in an rpm's SOURCERPM.
// Standard library only, so the agent links it on every platform.
package pkgver

import "strings"

// DebCompare orders two upstream versions, or two revisions, of Debian
// package versions with dpkg's verrevcmp (deb-version(7)): runs of
// non-digits compared character by character, where "~" sorts before
// everything, even the end of the string, and letters before other
// characters; then runs of digits compared numerically. It returns -1, 0
// or +1. The epoch and the split at the last hyphen are the caller's.
func DebCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		firstDiff := 0
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			var ca, cb byte
			if i < len(a) {
				ca = a[i]
			}
			if j < len(b) {
				cb = b[j]
			}
			if isDigit(ca) {
				ca = 0
			}
			if isDigit(cb) {
				cb = 0
			}
			oa, ob := debOrder(ca), debOrder(cb)
			if oa != ob {
				if oa < ob {
					return -1
				}
				return 1
			}
			if i < len(a) && !isDigit(a[i]) {
				i++
			}
			if j < len(b) && !isDigit(b[j]) {
				j++
			}
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			if firstDiff < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

// debOrder is dpkg's character weight: ~ sorts before everything, even the
// end of the string; letters sort before non-letters.
func debOrder(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
		return int(c)
	case c == '~':
		return -1
	case c == 0:
		return 0
	}
	return int(c) + 256
}

// RPMCompare orders two version strings, or two release strings, of RPM
// packages the way rpm's rpmvercmp does: separators only split segments,
// numeric segments beat alphabetic ones, "~" sorts before anything
// (pre-release) and "^" after the base (snapshot). It returns -1, 0 or +1.
// The epoch and the split at the last hyphen are the caller's.
func RPMCompare(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		// tilde: sorts before everything else
		ta, tb := i < len(a) && a[i] == '~', j < len(b) && b[j] == '~'
		if ta || tb {
			if !ta {
				return 1
			}
			if !tb {
				return -1
			}
			i++
			j++
			continue
		}
		// caret: sorts after the end of the string but before anything else
		ca, cb := i < len(a) && a[i] == '^', j < len(b) && b[j] == '^'
		if ca || cb {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if !ca {
				return 1
			}
			if !cb {
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
		numeric := isDigit(a[i])
		if numeric {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlnum(a[i]) && !isDigit(a[i]) {
				i++
			}
			for j < len(b) && isAlnum(b[j]) && !isDigit(b[j]) {
				j++
			}
		}
		sa, sb := a[si:i], b[sj:j]
		if sb == "" {
			// segments of different types: numeric is newer
			if numeric {
				return 1
			}
			return -1
		}
		if numeric {
			sa = strings.TrimLeft(sa, "0")
			sb = strings.TrimLeft(sb, "0")
			if len(sa) != len(sb) {
				if len(sa) < len(sb) {
					return -1
				}
				return 1
			}
		}
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
	}
	ra, rb := i < len(a), j < len(b)
	switch {
	case !ra && !rb:
		return 0
	case ra:
		return 1
	default:
		return -1
	}
}

// RPMSourceName reads the source package name of an rpm from its SOURCERPM
// ("openssl-3.0.7-27.el9.src.rpm" → "openssl"): the name without the
// version and release; "" for none ("(none)", as rpm -q prints it).
func RPMSourceName(srpm string) string {
	s := strings.TrimSuffix(strings.TrimSpace(srpm), ".rpm")
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".src"), ".nosrc")
	if s == "" || s == "(none)" {
		return ""
	}
	for range 2 { // drop -release, then -version
		i := strings.LastIndexByte(s, '-')
		if i <= 0 {
			return s
		}
		s = s[:i]
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

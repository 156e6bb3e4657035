package agent

import (
	"strings"

	"github.com/eolwatch/eolwatch/internal/pkgver"
)

// compareDebVersions orders two Debian package versions
// ([epoch:]upstream[-revision]) the way dpkg does (deb-version(7)): the
// epoch numerically, then upstream and revision with dpkg's rules, where
// "~" sorts before everything, even the end of the string. It returns -1,
// 0 or +1. Malformed input is compared leniently (a non-numeric epoch counts
// as 0), as apt does, so the order is total.
func compareDebVersions(a, b string) int {
	ea, ua, ra := splitDebVersion(a)
	eb, ub, rb := splitDebVersion(b)
	if c := compareDigits(ea, eb); c != 0 {
		return c
	}
	if c := pkgver.DebCompare(ua, ub); c != 0 {
		return c
	}
	return pkgver.DebCompare(ra, rb)
}

// splitDebVersion splits a version into epoch, upstream version and
// revision (the part after the last hyphen).
func splitDebVersion(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ':'); i >= 0 {
		epoch, v = v[:i], v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// compareDigits compares two digit strings numerically without parsing them
// (no overflow on absurdly long numbers); leading zeros are ignored and a
// string with anything but digits counts as 0.
func compareDigits(a, b string) int {
	a, b = trimNumber(a), trimNumber(b)
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func trimNumber(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	return strings.TrimLeft(s, "0")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

package catalog

import (
	"fmt"
	"strings"
)

// parseDebian splits [epoch:]upstream[-revision] the way dpkg does and keeps
// the upstream's leading numeric components for cycle matching
// (1:2.39.5-0+deb12u3 → epoch 1, upstream 2.39.5, revision 0+deb12u3).
func (v *Version) parseDebian(s string) error {
	rest, err := v.splitEpoch(s, "a Debian version")
	if err != nil {
		return err
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.upver, v.rev = rest[:i], rest[i+1:]
		if v.rev == "" {
			return fmt.Errorf("not a Debian version: empty revision")
		}
	} else {
		v.upver = rest
	}
	if v.upver == "" || !isDigit(v.upver[0]) {
		return fmt.Errorf("not a Debian version: upstream version %q must start with a digit", v.upver)
	}
	for _, c := range []byte(v.upver + v.rev) {
		if !(isDigit(c) || isLetter(c) || (c >= 'A' && c <= 'Z') || strings.IndexByte(".+~-:", c) >= 0) {
			return fmt.Errorf("not a Debian version: invalid character %q", string(c))
		}
	}
	v.comps = leadingComps(v.upver)
	return nil
}

// parseRPM splits [epoch:]version[-release] (rpmvercmp semantics).
func (v *Version) parseRPM(s string) error {
	rest, err := v.splitEpoch(s, "an RPM version")
	if err != nil {
		return err
	}
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		v.upver, v.rev = rest[:i], rest[i+1:]
	} else {
		v.upver = rest
	}
	if v.upver == "" || !isDigit(v.upver[0]) {
		return fmt.Errorf("not an RPM version: version %q must start with a digit", v.upver)
	}
	v.comps = leadingComps(v.upver)
	return nil
}

// leadingComps returns the dotted numbers at the start of s ("2.39.5+dfsg" → [2 39 5]).
func leadingComps(s string) []uint64 {
	var out []uint64
	i := 0
	for i < len(s) && isDigit(s[i]) {
		n, j, err := readNum(s, i)
		if err != nil {
			break
		}
		out = append(out, n)
		i = j
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	return out
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

// debCompare compares two upstream or revision strings with dpkg's
// verrevcmp algorithm.
func debCompare(a, b string) int {
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

func isAlnum(c byte) bool { return isDigit(c) || isLetter(c) || (c >= 'A' && c <= 'Z') }

// rpmvercmp compares two version or release strings the way rpm does:
// separators only split segments, numeric segments beat alphabetic ones,
// ~ sorts before anything (pre-release) and ^ after the base (snapshot).
func rpmvercmp(a, b string) int {
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

// splitEpoch checks the spacing shared by Debian and RPM versions, stores a
// leading "N:" epoch in v and returns the rest; kind names the scheme in errors.
func (v *Version) splitEpoch(s, kind string) (string, error) {
	if strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("not %s: contains a space", kind)
	}
	i := strings.IndexByte(s, ':')
	if i < 0 {
		return s, nil
	}
	e, j, err := readNum(s, 0)
	if err != nil {
		return "", err
	}
	if j != i || i == 0 {
		return "", fmt.Errorf("not %s: epoch %q is not a number", kind, s[:i])
	}
	v.epoch = e
	return s[i+1:], nil
}

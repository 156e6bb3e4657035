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

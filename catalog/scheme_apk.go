package catalog

import (
	"fmt"
	"strings"
)

// apk version tokens, in apk-tools' order: when two versions agree up to a
// point and then differ in token kind, the kind listed first is the newer
// one ("1.2.1" > "1.2a" > "1.2_p1" > "1.2-r1" > "1.2"), except that a
// pre-release suffix (_alpha, _beta, _pre, _rc) is older than anything.
const (
	apkDigit    int8 = iota // a numeric component after a dot
	apkLetter               // one letter after the numbers ("1.2a")
	apkSuffix               // _alpha ... _p
	apkSuffixNo             // the number after a suffix
	apkRevision             // -rN
	apkEnd
)

// apkSuffixes ranks the suffix words; below apkRelease is a pre-release.
var apkSuffixes = map[string]int8{"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}

const apkRelease int8 = 4

// parseAPK reads an Alpine package version:
// N(.N)*[a-z]?(_suffix[N])*(~hash)?(-rN)?, for example 1.36.1-r29,
// 3.0.15_p1-r0, 2.4.0_rc2-r1. Components after the first that start with
// 0 compare as strings (apk's rule: 1.01 < 1.1).
func (v *Version) parseAPK(s string) error {
	bad := func(why string) error { return fmt.Errorf("not an apk version: %s", why) }
	if !isDigit(s[0]) {
		return bad("does not start with a number")
	}
	i := 0
	first := true
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		n, _, err := readNum(s, i)
		if err != nil {
			return err
		}
		v.comps = append(v.comps, n)
		t := tok{class: apkDigit, num: n}
		if !first && s[i] == '0' && j-i > 1 {
			t.word = s[i:j] // compared as a string
		}
		v.tail = append(v.tail, t)
		first = false
		i = j
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	if i < len(s) && isLetter(s[i]) {
		v.tail = append(v.tail, tok{class: apkLetter, num: uint64(s[i])})
		i++
	}
	for i < len(s) && s[i] == '_' {
		j := i + 1
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		rank, ok := apkSuffixes[s[i+1:j]]
		if !ok {
			return bad("unknown suffix " + fmt.Sprintf("%q", s[i:j]))
		}
		v.tail = append(v.tail, tok{class: apkSuffix, rank: rank})
		v.words = append(v.words, s[i+1:j])
		i = j
		if i < len(s) && isDigit(s[i]) {
			n, e, err := readNum(s, i)
			if err != nil {
				return err
			}
			v.tail = append(v.tail, tok{class: apkSuffixNo, num: n})
			i = e
		}
	}
	if i < len(s) && s[i] == '~' { // a commit hash: not ordered
		j := i + 1
		for j < len(s) && (isDigit(s[j]) || (s[j] >= 'a' && s[j] <= 'f')) {
			j++
		}
		if j == i+1 {
			return bad("empty commit hash after ~")
		}
		i = j
	}
	if strings.HasPrefix(s[i:], "-r") && i+2 < len(s) {
		n, e, err := readNum(s, i+2)
		if err != nil {
			return err
		}
		if e == i+2 {
			return bad("revision -r needs a number")
		}
		v.tail = append(v.tail, tok{class: apkRevision, num: n})
		i = e
	}
	if i != len(s) {
		return bad(fmt.Sprintf("unexpected %q", s[i:]))
	}
	return nil
}

// apkCompare orders two parsed apk versions the way apk-tools does.
func apkCompare(a, b []tok) int {
	for k := 0; ; k++ {
		x, y := tok{class: apkEnd}, tok{class: apkEnd}
		if k < len(a) {
			x = a[k]
		}
		if k < len(b) {
			y = b[k]
		}
		if x.class == apkEnd && y.class == apkEnd {
			return 0
		}
		if x.class != y.class {
			switch {
			case x.class == apkSuffix && x.rank < apkRelease:
				return -1
			case y.class == apkSuffix && y.rank < apkRelease:
				return 1
			case x.class < y.class:
				return 1
			default:
				return -1
			}
		}
		var c int
		switch {
		case x.class == apkSuffix:
			c = cmpInt(int64(x.rank), int64(y.rank))
		case x.word != "" || y.word != "":
			c = strings.Compare(digitsOf(x), digitsOf(y))
		default:
			c = cmpUint(x.num, y.num)
		}
		if c != 0 {
			return c
		}
	}
}

// digitsOf returns a numeric token as written (leading zeros kept).
func digitsOf(t tok) string {
	if t.word != "" {
		return t.word
	}
	return fmt.Sprint(t.num)
}

func cmpUint(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

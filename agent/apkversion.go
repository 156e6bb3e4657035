package agent

// Alpine's version order (apk-tools' version comparison, Gentoo style):
// {number}{.number}...{letter}{_suffix{number}}...{-r{number}}, where a
// ".0…" component sorts like a decimal fraction, the pre-release suffixes
// _alpha < _beta < _pre < _rc sort before the plain version and the
// post-release ones _cvs < _svn < _git < _hg < _p after it.

// apkTok is the kind of a version component, in the order apk ranks them
// when one version has a component where the other has ended.
type apkTok int

const (
	apkInvalid apkTok = iota - 1
	apkDigitOrZero
	apkDigit
	apkLetter
	apkSuffix
	apkSuffixNo
	apkRevision
	apkEnd
)

var (
	apkPreSuffixes  = []string{"alpha", "beta", "pre", "rc"}
	apkPostSuffixes = []string{"cvs", "svn", "git", "hg", "p"}
)

// apkVersionReader walks one version string token by token.
type apkVersionReader struct {
	s   string
	typ apkTok
}

// advance decides the kind of the next component from the separator (or
// letter/digit change) at the start of the remaining string.
func (r *apkVersionReader) advance() {
	next := apkInvalid
	switch {
	case r.s == "":
		next = apkEnd
	case (r.typ == apkDigit || r.typ == apkDigitOrZero) && r.s[0] >= 'a' && r.s[0] <= 'z':
		next = apkLetter
	case r.typ == apkLetter && isDigit(r.s[0]):
		next = apkDigit
	case r.typ == apkSuffix && isDigit(r.s[0]):
		next = apkSuffixNo
	default:
		switch r.s[0] {
		case '.':
			next = apkDigitOrZero
		case '_':
			next = apkSuffix
		case '-':
			if len(r.s) > 1 && r.s[1] == 'r' {
				next = apkRevision
				r.s = r.s[1:]
			}
		}
		r.s = r.s[1:]
	}
	// Components only go forward, except a number after a letter, another
	// dotted number after a number and another suffix after a suffix number.
	if next < r.typ && !(next == apkDigitOrZero && r.typ == apkDigit) &&
		!(next == apkSuffix && r.typ == apkSuffixNo) && !(next == apkDigit && r.typ == apkLetter) {
		next = apkInvalid
	}
	r.typ = next
}

// token returns the value of the current component and moves on.
func (r *apkVersionReader) token() int64 {
	if r.s == "" {
		r.typ = apkEnd
		return 0
	}
	n := 0
	var v int64
	after := apkInvalid
	switch r.typ {
	case apkDigitOrZero:
		if r.s[0] == '0' {
			// Leading zeros: ".05" sorts below ".5" (and ".005" below ".05").
			for n+1 < len(r.s) && r.s[n+1] == '0' {
				n++
			}
			v, after = int64(-n), apkDigit
			break
		}
		fallthrough
	case apkDigit, apkSuffixNo, apkRevision:
		for n < len(r.s) && isDigit(r.s[n]) {
			v = v*10 + int64(r.s[n]-'0')
			n++
		}
		if n >= 18 {
			r.typ = apkInvalid
			return -1
		}
	case apkLetter:
		v = int64(r.s[0])
		n = 1
	case apkSuffix:
		found := false
		for i, s := range apkPreSuffixes {
			if len(r.s) >= len(s) && r.s[:len(s)] == s {
				v, n, found = int64(i-len(apkPreSuffixes)), len(s), true
				break
			}
		}
		if !found {
			for i, s := range apkPostSuffixes {
				if len(r.s) >= len(s) && r.s[:len(s)] == s {
					v, n, found = int64(i), len(s), true
					break
				}
			}
		}
		if !found {
			r.typ = apkInvalid
			return -1
		}
	default:
		r.typ = apkInvalid
		return -1
	}
	r.s = r.s[n:]
	switch {
	case r.s == "":
		r.typ = apkEnd
	case after != apkInvalid:
		r.typ = after
	default:
		r.advance()
	}
	return v
}

// compareAPKVersions orders two Alpine package versions; -1, 0 or +1.
func compareAPKVersions(a, b string) int {
	ra, rb := apkVersionReader{s: a, typ: apkDigit}, apkVersionReader{s: b, typ: apkDigit}
	var va, vb int64
	for ra.typ == rb.typ && ra.typ != apkEnd && ra.typ != apkInvalid && va == vb {
		va, vb = ra.token(), rb.token()
	}
	switch {
	case va < vb:
		return -1
	case va > vb:
		return 1
	case ra.typ == rb.typ:
		return 0
	}
	// Equal so far; the longer version is newer unless what follows is a
	// pre-release suffix.
	if ra.typ == apkSuffix {
		t := ra
		if t.token() < 0 {
			return -1
		}
	}
	if rb.typ == apkSuffix {
		t := rb
		if t.token() < 0 {
			return 1
		}
	}
	if ra.typ > rb.typ {
		return -1
	}
	if rb.typ > ra.typ {
		return 1
	}
	return 0
}

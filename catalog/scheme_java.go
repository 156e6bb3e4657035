package catalog

import (
	"fmt"
	"strings"
)

// looksJava reports whether an auto-scheme version is spelled the Java way
// (8u392-b08, jdk-21.0.1, 1.8.0_392).
func looksJava(s string) bool {
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "jdk") || strings.HasPrefix(l, "openjdk") {
		return true
	}
	i := 0
	for i < len(l) && isDigit(l[i]) {
		i++
	}
	if i > 0 && i+1 < len(l) && l[i] == 'u' && isDigit(l[i+1]) {
		return true
	}
	return strings.HasPrefix(l, "1.") && strings.Contains(l, "_")
}

// parseJava normalises the Java spellings to [feature interim update patch...]
// plus a build number: 8u392-b08 → [8 0 392] build 8; 1.8.0_392-b08 → the
// same; 17.0.9+9 → [17 0 9] build 9; jdk-21.0.1 → [21 0 1];
// 21.0.12.1+1 → [21 0 12 1] build 1; 1.8.0.472.b08-1 → [8 0 472] build 8.
func (v *Version) parseJava(s string) error {
	l := strings.ToLower(s)
	for _, p := range []string{"openjdk-", "openjdk", "jdk-", "jdk"} {
		if strings.HasPrefix(l, p) {
			l = l[len(p):]
			break
		}
	}
	l = strings.TrimPrefix(l, "v")
	if l == "" || !isDigit(l[0]) {
		return fmt.Errorf("not a Java version: does not start with a number")
	}
	// NuuuN form
	i := 0
	for i < len(l) && isDigit(l[i]) {
		i++
	}
	if i < len(l) && l[i] == 'u' {
		feature, _, err := readNum(l, 0)
		if err != nil {
			return err
		}
		upd, j, err := readNum(l, i+1)
		if err != nil {
			return err
		}
		if j == i+1 {
			return fmt.Errorf("not a Java version: no update number after %q", l[:i+1])
		}
		v.comps = []uint64{feature, 0, upd}
		return v.parseJavaBuild(l, j)
	}
	// legacy 1.N.0_U or 1.N.0.U
	if strings.HasPrefix(l, "1.") {
		rest := l[2:]
		feature, j, err := readNum(rest, 0)
		if err != nil {
			return err
		}
		if j > 0 && feature >= 2 && feature <= 8 {
			k := j
			var interim uint64
			if k+1 < len(rest) && rest[k] == '.' && isDigit(rest[k+1]) {
				interim, k, err = readNum(rest, k+1)
				if err != nil {
					return err
				}
			}
			var upd uint64
			if k+1 < len(rest) && (rest[k] == '_' || rest[k] == '.') && isDigit(rest[k+1]) {
				upd, k, err = readNum(rest, k+1)
				if err != nil {
					return err
				}
			}
			v.comps = []uint64{feature, interim, upd}
			return v.parseJavaBuild(rest, k)
		}
	}
	comps := make([]uint64, 0, 4)
	j := 0
	for {
		n, e, err := readNum(l, j)
		if err != nil {
			return err
		}
		comps = append(comps, n)
		j = e
		if j+1 < len(l) && l[j] == '.' && isDigit(l[j+1]) {
			j++
			continue
		}
		break
	}
	v.comps = comps
	return v.parseJavaBuild(l, j)
}

// parseJavaBuild reads "-b08", "+9", ".b08-1", "+10-lts" after the version numbers.
func (v *Version) parseJavaBuild(s string, i int) error {
	if i >= len(s) {
		return nil
	}
	rest := s[i:]
	switch {
	case strings.HasPrefix(rest, "-b") || strings.HasPrefix(rest, ".b") || strings.HasPrefix(rest, "+b") || strings.HasPrefix(rest, "_b"):
		n, j, err := readNum(s, i+2)
		if err != nil {
			return err
		}
		if j > i+2 {
			v.tail = append(v.tail, tok{class: 1, word: "+", num: n})
			return v.parseTail(s, j)
		}
	case rest[0] == '+' && len(rest) > 1 && isDigit(rest[1]):
		n, j, err := readNum(s, i+1)
		if err != nil {
			return err
		}
		v.tail = append(v.tail, tok{class: 1, word: "+", num: n})
		return v.parseTail(s, j)
	case rest[0] == 'b' && len(rest) > 1 && isDigit(rest[1]):
		n, j, err := readNum(s, i+1)
		if err != nil {
			return err
		}
		v.tail = append(v.tail, tok{class: 1, word: "+", num: n})
		return v.parseTail(s, j)
	}
	return v.parseTail(s, i)
}

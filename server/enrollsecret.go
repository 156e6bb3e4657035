package server

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MinEnrollSecretLen is the shortest enroll secret serve accepts, in
// characters. A correct secret is never refused by the failure limiter (it
// is checked first), so only its length and variety keep guessing it
// infeasible.
const MinEnrollSecretLen = 16

// enrollSecretFix ends every weak-secret error: which setting, and how to
// make a good one. The secret itself is never repeated.
const enrollSecretFix = "set --enroll-secret (EOLWATCH_ENROLL_SECRET, enroll_secret in the config file) to a random one, e.g. the output of `openssl rand -base64 24`"

// sequences are orders in which a secret that just walks along them is a
// "run": the alphabet and digits as people type them, and keyboard rows.
var sequences = []string{
	"0123456789abcdefghijklmnopqrstuvwxyz",
	"1234567890",
	"qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
}

// checkEnrollSecretStrength refuses an enroll secret that is short, one
// character repeated, a run (abcdef..., 0123..., qwerty...) or a short
// word repeated. The error names the setting and how to generate a good
// secret, never the secret.
func checkEnrollSecretStrength(secret string) error {
	n := utf8.RuneCountInString(secret)
	if n < MinEnrollSecretLen {
		return fmt.Errorf("enroll-secret: %d characters, at least %d needed: %s", n, MinEnrollSecretLen, enrollSecretFix)
	}
	r := []rune(strings.ToLower(secret))
	distinct := map[rune]bool{}
	for _, c := range r {
		distinct[c] = true
	}
	if len(distinct) < 5 {
		return fmt.Errorf("enroll-secret: only %d different characters, at least 5 needed: %s", len(distinct), enrollSecretFix)
	}
	if p := period(r); p > 0 {
		return fmt.Errorf("enroll-secret: repeats a %d-character sequence: %s", p, enrollSecretFix)
	}
	if runSteps(r)*2 >= len(r)-1 {
		return fmt.Errorf("enroll-secret: mostly a run of neighbouring characters (like abcd, 1234 or qwerty): %s", enrollSecretFix)
	}
	return nil
}

// period is the length of the shortest sequence that, repeated at least
// twice (the last time possibly cut short), makes up r; 0 if none does.
func period(r []rune) int {
	for p := 1; p <= len(r)/2; p++ {
		ok := true
		for i := p; i < len(r) && ok; i++ {
			ok = r[i] == r[i-p]
		}
		if ok {
			return p
		}
	}
	return 0
}

// runSteps counts the adjacent pairs of r (lower-cased) that step to a
// neighbour, forwards or backwards, in the character set or in one of the
// sequences.
func runSteps(r []rune) int {
	steps := 0
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		if b == a+1 || b == a-1 {
			steps++
			continue
		}
		for _, s := range sequences {
			ia, ib := strings.IndexRune(s, a), strings.IndexRune(s, b)
			if ia >= 0 && ib >= 0 && (ib == ia+1 || ib == ia-1) {
				steps++
				break
			}
		}
	}
	return steps
}

package agent

import (
	"fmt"
	"strings"
)

// readAptConfValue returns the last value apt's configuration gives key
// (e.g. "APT::Default-Release"), reading /etc/apt/apt.conf.d/* (no
// extension or ".conf", in name order) then /etc/apt/apt.conf, as apt does.
func readAptConfValue(env *Env, key string) (string, error) {
	var val string
	read := func(p string) error {
		f, err := env.Open(p)
		if err != nil {
			return nil // absent, or removed while we read the directory
		}
		defer f.Close()
		b, err := readAllLimited(f, 1<<20)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		v, ok, err := aptConfLookup(string(b), key)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if ok {
			val = v
		}
		return nil
	}
	for _, n := range aptConfigParts(env, aptConfParts, "conf", "") {
		if err := read(aptConfParts + "/" + n); err != nil {
			return "", err
		}
	}
	if err := read(aptConfFile); err != nil {
		return "", err
	}
	return val, nil
}

// aptConfLookup parses apt.conf syntax (apt.conf(5)): "A::B "value";",
// scopes "A { B "value"; };", lists, "//" and "/* */" comments and "#"
// comment lines (apt's "#include" and "#clear" directives are skipped) and
// returns the last value given to key (compared case-insensitively).
func aptConfLookup(s, key string) (string, bool, error) {
	toks, err := aptConfTokens(s)
	if err != nil {
		return "", false, err
	}
	key = strings.ToLower(key)
	var scope []string
	var val string
	found := false
	var pending []string // words of the current statement
	for _, t := range toks {
		switch t.kind {
		case '{':
			if len(pending) == 0 {
				scope = append(scope, "") // an anonymous list element scope
			} else {
				scope = append(scope, pending[0])
			}
			pending = nil
		case '}':
			if len(scope) == 0 {
				return "", false, fmt.Errorf("line %d: unbalanced }", t.line)
			}
			scope = scope[:len(scope)-1]
			pending = nil
		case ';':
			if len(pending) >= 2 {
				full := strings.ToLower(strings.Join(append(append([]string{}, nonEmpty(scope)...), pending[0]), "::"))
				if full == key {
					val, found = pending[1], true
				}
			}
			pending = nil
		default:
			pending = append(pending, t.text)
		}
	}
	if len(scope) != 0 {
		return "", false, fmt.Errorf("unclosed { (scope %s)", strings.Join(scope, "::"))
	}
	return val, found, nil
}

func nonEmpty(ss []string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type aptConfToken struct {
	kind byte // 'w' word or string, '{', '}', ';'
	text string
	line int
}

func aptConfTokens(s string) ([]aptConfToken, error) {
	var toks []aptConfToken
	line := 1
	atLineStart := true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			atLineStart = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '#' && atLineStart, c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated /* comment", line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
			continue
		}
		atLineStart = false
		switch c {
		case '{', '}', ';':
			toks = append(toks, aptConfToken{kind: c, line: line})
			i++
		case '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			toks = append(toks, aptConfToken{kind: 'w', text: s[i+1 : i+1+end], line: line})
			line += strings.Count(s[i+1:i+1+end], "\n")
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"", rune(s[j])) {
				j++
			}
			toks = append(toks, aptConfToken{kind: 'w', text: s[i:j], line: line})
			i = j
		}
	}
	return toks, nil
}

package match

import (
	"regexp/syntax"
	"sort"
	"strings"
)

// patternStems returns the leading letters every name a pattern matches
// starts with, one per alternative ("libjs-jquery|node-jquery" → "libjs",
// "node"; "python3?-django" → "python"), so the rule can be indexed under
// each instead of being tried for every item. ok is false when some
// alternative has no literal start: such a rule is tried for every item.
func patternStems(pattern string) (stems []string, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, false
	}
	prefixes, _, ok := literalStarts(re.Simplify(), 0)
	if !ok {
		return nil, false
	}
	for _, p := range prefixes {
		s := stem(p)
		if s == "" {
			return nil, false
		}
		stems = append(stems, s)
	}
	// A stem another one starts with adds nothing: the shorter key finds
	// every name the longer one does.
	sort.Slice(stems, func(i, j int) bool {
		if len(stems[i]) != len(stems[j]) {
			return len(stems[i]) < len(stems[j])
		}
		return stems[i] < stems[j]
	})
	var out []string
	for _, s := range stems {
		covered := false
		for _, o := range out {
			if strings.HasPrefix(s, o) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, s)
		}
	}
	return out, len(out) > 0
}

// literalStarts returns the literal text each alternative of re starts
// with, as far as it is literal ("ab(c|d)e*" → "abc", "abd";
// "(lib)?ruby" → "libruby", "ruby"). complete says each string is all
// that alternative can match, so what follows in a concatenation extends it.
func literalStarts(re *syntax.Regexp, depth int) (starts []string, complete, ok bool) {
	if depth > 8 {
		return nil, false, false
	}
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return []string{""}, false, true
		}
		return []string{string(re.Rune)}, true, true
	case syntax.OpEmptyMatch:
		return []string{""}, true, true
	case syntax.OpCapture:
		return literalStarts(re.Sub[0], depth+1)
	case syntax.OpQuest:
		p, c, ok := literalStarts(re.Sub[0], depth+1)
		if !ok {
			return nil, false, false
		}
		return append(p, ""), c, true
	case syntax.OpAlternate:
		var out []string
		complete = true
		for _, sub := range re.Sub {
			p, c, ok := literalStarts(sub, depth+1)
			if !ok {
				return nil, false, false
			}
			out = append(out, p...)
			complete = complete && c
		}
		return out, complete, true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			p, c, ok := literalStarts(sub, depth+1)
			if !ok || len(out)*len(p) > 256 {
				return out, false, true
			}
			next := make([]string, 0, len(out)*len(p))
			for _, a := range out {
				for _, b := range p {
					next = append(next, a+b)
				}
			}
			out = next
			if !c {
				return out, false, true
			}
		}
		return out, true, true
	}
	return []string{""}, false, true
}

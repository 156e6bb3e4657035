package sbom

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// PURL is a parsed package URL (https://github.com/package-url/purl-spec):
// pkg:type/namespace/name@version?qualifiers#subpath. Every part is
// percent-decoded; Type is lowercased.
type PURL struct {
	Type       string            // "deb", "npm", "golang", ...
	Namespace  string            // "debian", "@angular", "org.apache.logging.log4j"; "" when absent
	Name       string            // always set
	Version    string            // "" when absent
	Qualifiers map[string]string // lowercased keys; nil when there are none
	Subpath    string
}

// maxPURLLen bounds the purl strings ParsePURL accepts.
const maxPURLLen = 4096

// ParsePURL parses a package URL. The error names the part that is wrong.
// It follows the purl specification's parsing rules and normalises what the
// specification tells a reader to normalise (the type and qualifier keys
// lowercased; pypi names lowercased with "_" as "-"; deb, apk, alpm,
// bitbucket and github names and namespaces lowercased).
func ParsePURL(s string) (PURL, error) {
	var p PURL
	if len(s) > maxPURLLen {
		return p, fmt.Errorf("purl is %d bytes long, at most %d", len(s), maxPURLLen)
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return p, errors.New("purl holds white space (it must be percent-encoded as %20)")
	}
	rest := s
	if i := strings.LastIndexByte(rest, '#'); i >= 0 {
		sub, err := decodeSegments(rest[i+1:], "subpath")
		if err != nil {
			return p, err
		}
		p.Subpath = sub
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '?'); i >= 0 {
		q, err := parseQualifiers(rest[i+1:])
		if err != nil {
			return p, err
		}
		p.Qualifiers = q
		rest = rest[:i]
	}
	scheme, rest, ok := strings.Cut(rest, ":")
	if !ok || !strings.EqualFold(scheme, "pkg") {
		return p, errors.New(`purl must start with "pkg:"`)
	}
	rest = strings.TrimLeft(rest, "/")
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return p, errors.New("purl has no type (pkg:TYPE/NAME)")
	}
	typ = strings.ToLower(typ)
	if err := checkType(typ); err != nil {
		return p, err
	}
	p.Type = typ
	rest = strings.TrimRight(rest, "/")
	if i := strings.LastIndexByte(rest, '@'); i >= 0 && i > strings.LastIndexByte(rest, '/') {
		v, err := url.PathUnescape(rest[i+1:])
		if err != nil {
			return p, fmt.Errorf("purl version: bad percent-encoding: %w", err)
		}
		if v == "" {
			return p, errors.New(`purl version is empty after "@"`)
		}
		p.Version = v
		rest = rest[:i]
	}
	segs := strings.Split(rest, "/")
	name, err := url.PathUnescape(segs[len(segs)-1])
	if err != nil {
		return p, fmt.Errorf("purl name: bad percent-encoding: %w", err)
	}
	if strings.TrimSpace(name) == "" {
		return p, errors.New("purl has no name (pkg:TYPE/NAME)")
	}
	p.Name = name
	var ns []string
	for _, seg := range segs[:len(segs)-1] {
		if seg == "" {
			continue
		}
		d, err := url.PathUnescape(seg)
		if err != nil {
			return p, fmt.Errorf("purl namespace: bad percent-encoding: %w", err)
		}
		if strings.Contains(d, "/") {
			return p, fmt.Errorf("purl namespace segment %q holds a \"/\"", d)
		}
		ns = append(ns, d)
	}
	p.Namespace = strings.Join(ns, "/")
	p.normalise()
	return p, nil
}

// checkType checks a purl type: ASCII letters, digits, '.', '+' and '-',
// not starting with a digit.
func checkType(t string) error {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z', c == '.', c == '+', c == '-':
		case c >= '0' && c <= '9':
			if i == 0 {
				return fmt.Errorf("purl type %q starts with a digit", t)
			}
		default:
			return fmt.Errorf("purl type %q holds %q (letters, digits, '.', '+', '-' only)", t, c)
		}
	}
	return nil
}

func parseQualifiers(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	q := map[string]string{}
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("purl qualifier %q is not key=value", kv)
		}
		k = strings.ToLower(k)
		for i := 0; i < len(k); i++ {
			c := k[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
				return nil, fmt.Errorf("purl qualifier key %q holds %q", k, c)
			}
		}
		d, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("purl qualifier %s: bad percent-encoding: %w", k, err)
		}
		if _, dup := q[k]; dup {
			return nil, fmt.Errorf("purl qualifier %s is given twice", k)
		}
		if d != "" { // the specification drops empty values
			q[k] = d
		}
	}
	if len(q) == 0 {
		return nil, nil
	}
	return q, nil
}

func decodeSegments(s, what string) (string, error) {
	var out []string
	for _, seg := range strings.Split(s, "/") {
		d, err := url.PathUnescape(seg)
		if err != nil {
			return "", fmt.Errorf("purl %s: bad percent-encoding: %w", what, err)
		}
		if d == "" || d == "." || d == ".." {
			continue
		}
		out = append(out, d)
	}
	return strings.Join(out, "/"), nil
}

// normalise applies the type-specific rules of the purl specification.
func (p *PURL) normalise() {
	switch p.Type {
	case "pypi":
		p.Name = strings.ReplaceAll(strings.ToLower(p.Name), "_", "-")
	case "deb", "apk", "alpm", "bitbucket", "github", "composer":
		p.Name = strings.ToLower(p.Name)
		p.Namespace = strings.ToLower(p.Namespace)
	case "hex", "cran":
		// case-sensitive, as written
	}
}

// Qualifier returns one qualifier's value ("" when absent).
func (p PURL) Qualifier(k string) string { return p.Qualifiers[k] }

// String formats the purl in canonical form (qualifiers sorted by key).
func (p PURL) String() string {
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(p.Type)
	b.WriteByte('/')
	if p.Namespace != "" {
		for _, seg := range strings.Split(p.Namespace, "/") {
			b.WriteString(escapeSegment(seg))
			b.WriteByte('/')
		}
	}
	b.WriteString(escapeSegment(p.Name))
	if p.Version != "" {
		b.WriteByte('@')
		b.WriteString(escapeSegment(p.Version))
	}
	if len(p.Qualifiers) > 0 {
		keys := make([]string, 0, len(p.Qualifiers))
		for k := range p.Qualifiers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i == 0 {
				b.WriteByte('?')
			} else {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(escapeSegment(p.Qualifiers[k]))
		}
	}
	if p.Subpath != "" {
		b.WriteByte('#')
		segs := strings.Split(p.Subpath, "/")
		for i, seg := range segs {
			if i > 0 {
				b.WriteByte('/')
			}
			b.WriteString(escapeSegment(seg))
		}
	}
	return b.String()
}

// escapeSegment percent-encodes what a purl segment may not hold literally.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == '~' || c == ':' || c == '+' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

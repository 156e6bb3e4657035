package agent

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// apt's configuration paths (apt.conf(5), sources.list(5), apt_preferences(5)).
const (
	aptSourcesList  = "/etc/apt/sources.list"
	aptSourcesParts = "/etc/apt/sources.list.d"
	aptListsDir     = "/var/lib/apt/lists"
	aptPrefsFile    = "/etc/apt/preferences"
	aptPrefsParts   = "/etc/apt/preferences.d"
	aptConfFile     = "/etc/apt/apt.conf"
	aptConfParts    = "/etc/apt/apt.conf.d"
)

// aptSource is one "deb" entry of the sources: a repository URI, one suite
// and its components (none for a flat repository, whose suite ends in "/").
type aptSource struct {
	URI        string // normalized, ends with "/"
	Suite      string
	Components []string
	// Where names the entry for error messages (file:line or file:stanza).
	Where string
}

// site is the URI's host, what an "origin" pin matches.
func (s aptSource) site() string { return uriHost(s.URI) }

// listPrefix is the lists-directory file name prefix of the source's
// indexes: apt's URItoFileName of the suite's base URI.
func (s aptSource) listPrefix() string {
	return aptURIToFileName(aptMetaIndexURI(s.URI, s.Suite, ""))
}

// flat reports whether the source is a flat repository (suite ends in "/").
func (s aptSource) flat() bool { return strings.HasSuffix(s.Suite, "/") }

// readAptSources reads /etc/apt/sources.list and the *.list and *.sources
// files of sources.list.d, in apt's order, and returns the enabled "deb"
// entries. A missing file is not an error; a malformed entry is, naming its
// file and line.
func readAptSources(env *Env) ([]aptSource, error) {
	var out []aptSource
	var errs []error
	if f, err := env.Open(aptSourcesList); err == nil {
		srcs, err := parseSourcesList(f, aptSourcesList)
		f.Close()
		out = append(out, srcs...)
		errs = append(errs, err)
	}
	for _, name := range aptConfigParts(env, aptSourcesParts, "list", "sources") {
		p := aptSourcesParts + "/" + name
		f, err := env.Open(p)
		if err != nil {
			continue // removed while we read the directory
		}
		var srcs []aptSource
		if strings.HasSuffix(name, ".sources") {
			srcs, err = parseSourcesDeb822(f, p)
		} else {
			srcs, err = parseSourcesList(f, p)
		}
		f.Close()
		out = append(out, srcs...)
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// aptConfigParts lists the files apt reads from a ".d" directory: regular
// files not starting with ".", with one of the extensions (an empty one
// allows no extension), whose names use only letters, digits, "_", "-",
// ":" and ".", sorted by name.
func aptConfigParts(env *Env, dir string, exts ...string) []string {
	ents, err := os.ReadDir(env.Path(dir))
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if n == "" || n[0] == '.' || n[len(n)-1] == '.' {
			continue
		}
		if !e.Type().IsRegular() {
			st, err := os.Stat(filepath.Join(env.Path(dir), n))
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
		}
		ext := ""
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			ext = n[i+1:]
		}
		ok := false
		for _, x := range exts {
			ok = ok || x == ext
		}
		if !ok || !aptValidPartName(n) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func aptValidPartName(n string) bool {
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// parseSourcesList parses the one-line format:
// "deb [ opt=value ... ] URI suite [component ...]". Comments start with "#"
// (outside the option brackets); "deb-src" lines are skipped.
func parseSourcesList(r io.Reader, name string) ([]aptSource, error) {
	var out []aptSource
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		// A "#" inside [ ] is part of an option.
		depth := 0
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '[':
				depth++
			case ']':
				depth--
			case '#':
				if depth <= 0 {
					s = s[:i]
					i = len(s)
				}
			}
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		where := fmt.Sprintf("%s:%d", name, line)
		typ, rest, ok := strings.Cut(s, " ")
		if !ok {
			if typ, rest, ok = strings.Cut(s, "\t"); !ok {
				return out, fmt.Errorf("%s: no URI after %q", where, s)
			}
		}
		switch typ {
		case "deb":
		case "deb-src":
			continue
		default:
			return out, fmt.Errorf("%s: unknown type %q", where, typ)
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return out, fmt.Errorf("%s: option list without a closing ]", where)
			}
			rest = rest[end+1:]
		}
		f, ok := aptQuoteWords(rest)
		if !ok {
			return out, fmt.Errorf("%s: unbalanced quote or bracket", where)
		}
		if len(f) < 2 {
			return out, fmt.Errorf("%s: want a URI and a suite", where)
		}
		src := aptSource{Suite: f[1], Components: f[2:], Where: where}
		var err error
		if src.URI, err = aptFixupURI(f[0]); err != nil {
			return out, fmt.Errorf("%s: %w", where, err)
		}
		if src.flat() != (len(src.Components) == 0) {
			if src.flat() {
				return out, fmt.Errorf("%s: a suite ending in / (flat repository) takes no components", where)
			}
			return out, fmt.Errorf("%s: no component after suite %q", where, src.Suite)
		}
		out = append(out, src)
	}
	if err := sc.Err(); err != nil {
		return out, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return out, nil
}

// aptQuoteWords splits a sources line into words as apt's ParseQuoteWord
// does: whitespace separates words, except inside "..." (the quotes are
// dropped) and [...] (kept: "cdrom:[Debian GNU/Linux 12 ...]/" is one word).
func aptQuoteWords(s string) ([]string, bool) {
	var words []string
	var w strings.Builder
	in := byte(0) // the closing character we are inside of
	started := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case in != 0:
			if c == in {
				in = 0
			}
			if c != '"' {
				w.WriteByte(c)
			}
			continue
		case c == ' ' || c == '\t':
			if started {
				words = append(words, w.String())
				w.Reset()
				started = false
			}
			continue
		case c == '"':
			in = '"'
		case c == '[':
			in = ']'
			w.WriteByte(c)
		default:
			w.WriteByte(c)
		}
		started = true
	}
	if in != 0 {
		return nil, false
	}
	if started {
		words = append(words, w.String())
	}
	return words, true
}

// parseSourcesDeb822 parses the deb822 format (Types, URIs, Suites,
// Components, Enabled) and returns one source per URI and suite.
func parseSourcesDeb822(r io.Reader, name string) ([]aptSource, error) {
	var out []aptSource
	var perr error
	err := parseDeb822(r, true, func(st deb822Stanza) bool {
		where := fmt.Sprintf("%s:%d", name, st.Line)
		if v, ok := st.Get("Enabled"); ok && !aptBool(v, true) {
			return true
		}
		types := strings.Fields(st.Value("Types"))
		isDeb := false
		for _, t := range types {
			isDeb = isDeb || t == "deb"
		}
		if !isDeb {
			if len(types) == 0 {
				perr = fmt.Errorf("%s: stanza without Types", where)
				return false
			}
			return true
		}
		uris := strings.Fields(st.Value("URIs"))
		suites := strings.Fields(st.Value("Suites"))
		comps := strings.Fields(st.Value("Components"))
		if len(uris) == 0 {
			perr = fmt.Errorf("%s: stanza without URIs", where)
			return false
		}
		if len(suites) == 0 {
			perr = fmt.Errorf("%s: stanza without Suites", where)
			return false
		}
		for _, u := range uris {
			uri, err := aptFixupURI(u)
			if err != nil {
				perr = fmt.Errorf("%s: %w", where, err)
				return false
			}
			for _, s := range suites {
				src := aptSource{URI: uri, Suite: s, Components: comps, Where: where}
				if src.flat() != (len(comps) == 0) {
					if src.flat() {
						perr = fmt.Errorf("%s: a suite ending in / (flat repository) takes no Components", where)
					} else {
						perr = fmt.Errorf("%s: no Components for suite %q", where, s)
					}
					return false
				}
				out = append(out, src)
			}
		}
		return true
	})
	if err != nil {
		return out, fmt.Errorf("%s: %w", name, err)
	}
	return out, perr
}

// aptBool reads apt's boolean spellings.
func aptBool(v string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "with", "on", "enable", "1":
		return true
	case "no", "false", "without", "off", "disable", "0":
		return false
	}
	return def
}

// aptFixupURI checks a source URI and makes it end with "/", as apt does.
func aptFixupURI(u string) (string, error) {
	if u == "" || !strings.Contains(u, ":") {
		return "", fmt.Errorf("URI %q has no scheme", u)
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}

// aptMetaIndexURI is the URI of a file of a suite: URI/dists/SUITE/TYPE, or
// URI/SUITE/TYPE for a flat repository.
func aptMetaIndexURI(uri, suite, typ string) string {
	switch {
	case suite == "/":
	case strings.HasSuffix(suite, "/"):
		uri += aptQuote(suite, "+~ ")
	default:
		uri += "dists/" + aptQuote(suite, "+~ ") + "/"
	}
	return uri + aptQuote(typ, "+~ ")
}

// uriParts splits a URI into scheme, host (without user, password or port)
// and path, the way apt's URI class does.
func uriParts(u string) (scheme, hostport, host, path string) {
	colon := strings.IndexByte(u, ':')
	if colon < 0 {
		return "", "", "", u
	}
	scheme, rest := u[:colon], u[colon+1:]
	if !strings.HasPrefix(rest, "//") {
		return scheme, "", "", rest
	}
	rest = rest[2:]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		hostport, path = rest, "/"
	} else {
		hostport, path = rest[:slash], rest[slash:]
	}
	if at := strings.LastIndexByte(hostport, '@'); at >= 0 {
		hostport = hostport[at+1:]
	}
	host = hostport
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			host = host[1:end]
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return scheme, hostport, host, path
}

// uriHost is the host of a URI ("" for file: and similar).
func uriHost(u string) string {
	_, _, h, _ := uriParts(u)
	return h
}

// aptURIToFileName is apt's URItoFileName: the URI without scheme, user
// and password, with unsafe characters %-quoted and "/" turned into "_".
func aptURIToFileName(u string) string {
	_, hostport, _, path := uriParts(u)
	s := hostport + path
	if hostport == "" {
		// file:/srv/repo/ and the like: the path alone.
		if i := strings.IndexByte(u, ':'); i >= 0 {
			s = strings.TrimPrefix(u[i+1:], "//")
			if !strings.HasPrefix(s, "/") {
				s = "/" + s
			}
		}
	}
	s = aptQuote(s, "\\|{}[]<>\"^~_=!@#$%^&*")
	return strings.ReplaceAll(s, "/", "_")
}

// aptQuote is apt's QuoteString: bytes in bad, "%", controls, space and
// non-ASCII become %xx.
func aptQuote(s, bad string) string {
	need := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '%' || strings.IndexByte(bad, c) >= 0 {
			need = true
			break
		}
	}
	if !need {
		return s
	}
	var b strings.Builder
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '%' || strings.IndexByte(bad, c) >= 0 {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// deb822Stanza is one paragraph of a deb822 file (sources, preferences,
// Release headers): fields in order, continuation lines joined with "\n".
type deb822Stanza struct {
	Line   int // line of the first field
	Fields []deb822Field
}

type deb822Field struct{ Key, Value string }

// Get returns a field's value; keys compare case-insensitively.
func (s deb822Stanza) Get(key string) (string, bool) {
	for _, f := range s.Fields {
		if strings.EqualFold(f.Key, key) {
			return f.Value, true
		}
	}
	return "", false
}

// Value returns a field's value or "".
func (s deb822Stanza) Value(key string) string { v, _ := s.Get(key); return v }

// parseDeb822 parses small deb822 files (configuration, not package lists)
// and calls fn for each stanza until it returns false. With comments, lines
// starting with "#" are skipped. Errors name the line.
func parseDeb822(r io.Reader, comments bool, fn func(deb822Stanza) bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	var st deb822Stanza
	line := 0
	flush := func() bool {
		if len(st.Fields) == 0 {
			return true
		}
		ok := fn(st)
		st = deb822Stanza{}
		return ok
	}
	for sc.Scan() {
		line++
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if comments && len(b) > 0 && b[0] == '#' {
			continue
		}
		if len(bytes.TrimSpace(b)) == 0 {
			if !flush() {
				return nil
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if len(st.Fields) == 0 {
				return fmt.Errorf("line %d: continuation line outside a stanza", line)
			}
			f := &st.Fields[len(st.Fields)-1]
			f.Value += "\n" + strings.TrimSpace(string(b))
			continue
		}
		k, v, ok := bytes.Cut(b, []byte{':'})
		if !ok || len(bytes.TrimSpace(k)) == 0 {
			return fmt.Errorf("line %d: %q is not a \"Field: value\" line", line, truncate(string(b), 40))
		}
		if len(st.Fields) == 0 {
			st.Line = line
		}
		st.Fields = append(st.Fields, deb822Field{string(bytes.TrimSpace(k)), string(bytes.TrimSpace(v))})
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	flush()
	return nil
}

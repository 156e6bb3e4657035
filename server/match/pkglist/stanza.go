package pkglist

import (
	"fmt"
	"io"
	"strings"

	"github.com/eolwatch/eolwatch/internal/pkgver"
	"github.com/eolwatch/eolwatch/server/api"
)

// stanza collects the fields of one RFC 822 stanza (deb) or one-letter
// stanza (apk) that make an item.
type stanza struct {
	line                                    int // first line, for errors
	name, version, source, section, summary string
	status                                  string // dpkg status file: "install ok installed"
	size                                    int
	fields                                  int
}

// readStanzas reads blank-line separated stanzas: apt Packages files and
// dpkg's status file (apk=false), or Alpine's APKINDEX and installed
// database (apk=true).
func readStanzas(r io.Reader, apk bool, fn func(api.Item) error) error {
	sc := lineScanner(r)
	var st stanza
	key := "" // the field a continuation line belongs to
	flush := func() error {
		defer func() { st, key = stanza{}, "" }()
		if st.fields == 0 {
			return nil
		}
		it, ok, err := st.item(apk)
		if err != nil || !ok {
			return err
		}
		return fn(it)
	}
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if st.fields == 0 {
			st.line = n
		}
		st.size += len(line)
		if st.size > maxStanza {
			return fmt.Errorf("line %d: stanza starting at line %d is larger than %d bytes", n, st.line, maxStanza)
		}
		if line[0] == ' ' || line[0] == '\t' {
			if key == "" {
				return fmt.Errorf("line %d: continuation line outside a field: %q", n, clip(line))
			}
			continue // only first lines of fields matter here
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			return fmt.Errorf("line %d: want \"Field: value\", got %q", n, clip(line))
		}
		key = k
		st.fields++
		v = strings.TrimSpace(v)
		if apk {
			st.setAPK(k, v)
		} else {
			st.setDeb(k, v)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read package list: %w", err)
	}
	return flush()
}

func (st *stanza) setDeb(k, v string) {
	switch strings.ToLower(k) {
	case "package":
		st.name = v
	case "version":
		st.version = v
	case "source":
		st.source = sourceName(v)
	case "section":
		st.section = v
	case "description":
		st.summary = v
	case "status":
		st.status = v
	}
}

func (st *stanza) setAPK(k, v string) {
	switch k {
	case "P":
		st.name = v
	case "V":
		st.version = v
	case "o":
		st.source = v
	case "T":
		st.summary = v
	}
}

// item turns the stanza into an item; ok is false for a dpkg status entry
// that is not installed (removed, config files only).
func (st *stanza) item(apk bool) (api.Item, bool, error) {
	field := "Package"
	if apk {
		field = "P"
	}
	if st.name == "" {
		return api.Item{}, false, fmt.Errorf("line %d: stanza has no %s field", st.line, field)
	}
	if st.status != "" {
		w := strings.Fields(st.status)
		if len(w) != 3 || (w[2] != "installed" && w[2] != "triggers-pending" && w[2] != "triggers-awaited") {
			return api.Item{}, false, nil
		}
	}
	if st.version == "" {
		return api.Item{}, false, fmt.Errorf("line %d: package %q has no version", st.line, st.name)
	}
	it := api.Item{Source: "dpkg", Name: st.name, Version: st.version, SourcePkg: st.source,
		Section: st.section, Summary: st.summary}
	if apk {
		it.Source = "apk"
	}
	if it.SourcePkg == "" {
		it.SourcePkg = it.Name
	}
	return it, true, nil
}

// rpmArches are the architectures a NEVRA ends with.
var rpmArches = map[string]bool{
	"x86_64": true, "noarch": true, "aarch64": true, "i686": true, "i386": true, "ppc64le": true, "s390x": true,
	"armv7hl": true, "src": true, "ppc64": true, "riscv64": true, "(none)": true,
}

// isPubkey reports whether a NEVRA is an imported signing key: rpm lists
// them as gpg-pubkey-KEYID-DATE with no architecture (rpm 4.18 prints no
// ".(none)" for %{NEVRA}), some versions with ".(none)".
func isPubkey(nevra string) bool {
	return strings.HasPrefix(strings.TrimSpace(nevra), "gpg-pubkey-")
}

// parseNEVRA splits "openssl-libs-1:3.0.7-27.el9.x86_64" into the name,
// the epoch:version-release and the architecture.
func parseNEVRA(s string) (name, evr, arch string, ok bool) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || !rpmArches[s[i+1:]] {
		return "", "", "", false
	}
	arch, s = s[i+1:], s[:i]
	rel := strings.LastIndexByte(s, '-')
	if rel <= 0 {
		return "", "", "", false
	}
	ver := strings.LastIndexByte(s[:rel], '-')
	if ver <= 0 || ver+1 == rel {
		return "", "", "", false
	}
	return s[:ver], s[ver+1:], arch, true
}

func readRPM(r io.Reader, fn func(api.Item) error) error {
	return readTabLines(r, fn, rpmItem)
}

// rpmItem reads one line of rpm -qa's
// NEVRA[<TAB>VENDOR[<TAB>SOURCERPM[<TAB>SUMMARY]]] output.
func rpmItem(n int, line string, f []string) (api.Item, bool, error) {
	if isPubkey(f[0]) {
		return api.Item{}, false, nil // an imported signing key, listed like a package
	}
	name, evr, arch, ok := parseNEVRA(f[0])
	if !ok {
		return api.Item{}, false, fmt.Errorf("line %d: want NAME-[EPOCH:]VERSION-RELEASE.ARCH[<TAB>VENDOR[<TAB>SOURCERPM[<TAB>SUMMARY]]], got %q", n, clip(line))
	}
	if arch == "(none)" {
		arch = ""
	}
	it := api.Item{Source: "rpm", Name: name, Version: evr, Arch: arch, SourcePkg: name}
	if len(f) > 1 && f[1] != "(none)" {
		it.Origin = strings.ToLower(strings.TrimSpace(f[1]))
	}
	if len(f) > 2 {
		if s := pkgver.RPMSourceName(f[2]); s != "" {
			it.SourcePkg = s
		}
	}
	if len(f) > 3 {
		it.Summary = f[3]
	}
	return it, true, nil
}

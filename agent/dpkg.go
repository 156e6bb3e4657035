package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// dpkgStatusPath is dpkg's database of package states; dpkgUpdatesDir holds
// its journal of changes not yet folded into the status file.
const (
	dpkgStatusPath = "/var/lib/dpkg/status"
	dpkgUpdatesDir = "/var/lib/dpkg/updates"
)

// dpkgCollector reads the dpkg database directly (no dpkg-query process): the
// status file, then the updates journal in order, as dpkg itself does.
type dpkgCollector struct{}

func (dpkgCollector) Name() string { return "dpkg" }

func (dpkgCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	f, err := openOptional(env, dpkgStatusPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx := make(map[string]int, 1024)
	var entries []dpkgEntry
	add := func(e dpkgEntry) {
		key := e.Name + ":" + e.Arch
		if i, ok := idx[key]; ok {
			entries[i] = e
			return
		}
		idx[key] = len(entries)
		entries = append(entries, e)
	}
	if err := parseDpkgStatus(f, add); err != nil {
		return nil, fmt.Errorf("%s: %w", dpkgStatusPath, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// The journal: files named only by digits, applied in name order.
	journal, _ := os.ReadDir(env.Path(dpkgUpdatesDir))
	var names []string
	for _, d := range journal {
		if isDigits(d.Name()) && d.Type().IsRegular() {
			names = append(names, d.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(env.Path(dpkgUpdatesDir), n)
		jf, err := os.Open(p)
		if err != nil {
			continue // dpkg removed it while we read: already folded into status
		}
		err = parseDpkgStatus(jf, add)
		jf.Close()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", dpkgUpdatesDir, n, err)
		}
	}
	items := make([]api.Item, 0, len(entries))
	hashes := make([]uint32, 0, len(entries))
	for _, e := range entries {
		if !dpkgInstalled(e.State) {
			continue
		}
		items = append(items, api.Item{Source: "dpkg", Name: e.Name, Version: e.Version, Arch: e.Arch, SourcePkg: e.Source,
			Section: e.Section, Summary: e.Summary})
		hashes = append(hashes, e.Hash)
	}
	// Where each package came from and what apt would install: the items
	// stand even when apt's data cannot be read.
	if err := aptEnrich(ctx, env, items, hashes); err != nil {
		return items, fmt.Errorf("apt: %w", err)
	}
	return items, nil
}

// dpkgInstalled reports whether a package in this dpkg state is installed:
// fully configured, or configured with only triggers left to run.
func dpkgInstalled(state string) bool {
	switch state {
	case "installed", "triggers-pending", "triggers-awaited":
		return true
	}
	return false
}

// dpkgEntry is one stanza of the dpkg status file.
type dpkgEntry struct {
	Name, Arch, Version, Source string
	// Section and Summary (the first line of Description) let the matcher
	// tell debug, documentation and transitional packages from the product.
	Section, Summary string
	// State is the third word of Status: installed, config-files, ...
	State string
	// Hash is apt's hash of the fields that tell two builds of one version
	// apart (aptVersionHash).
	Hash uint32
}

var (
	keyPackage = []byte("Package:")
	keyStatus  = []byte("Status:")
	keyArch    = []byte("Architecture:")
	keyVersion = []byte("Version:")
	keySource  = []byte("Source:")
	keySection = []byte("Section:")
	keyDescr   = []byte("Description:")
)

// parseDpkgStatus parses dpkg status stanzas from r and calls fn for each
// stanza that names a package. Continuation lines are skipped without
// allocation. A field line without a colon or a stanza without Package is an
// error naming its line.
func parseDpkgStatus(r io.Reader, fn func(dpkgEntry)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var e dpkgEntry
	var hf aptHashFields
	cur := -1 // the hashed field continuation lines belong to
	fields, line, start := 0, 0, 0
	flush := func() error {
		if fields == 0 {
			return nil
		}
		if e.Name == "" {
			return fmt.Errorf("line %d: stanza without a Package field", start)
		}
		if e.Source == "" {
			e.Source = e.Name
		}
		e.Hash = hf.sum()
		fn(e)
		e, fields = dpkgEntry{}, 0
		hf.reset()
		return nil
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 || (len(b) == 1 && b[0] == '\r') {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			if fields == 0 {
				return fmt.Errorf("line %d: continuation line outside a stanza", line)
			}
			if cur >= 0 {
				hf.vals[cur] = append(append(hf.vals[cur], '\n'), b...)
			}
			continue
		}
		if fields == 0 {
			start = line
		}
		fields++
		cur = aptHashField(b)
		if cur >= 0 {
			hf.vals[cur] = append(hf.vals[cur][:0], b[len(aptHashKeys[cur]):]...)
			hf.set[cur] = true
		}
		switch {
		case bytes.HasPrefix(b, keyPackage):
			e.Name = fieldValue(b, len(keyPackage))
		case bytes.HasPrefix(b, keyStatus):
			v := bytes.TrimSpace(b[len(keyStatus):])
			i := bytes.LastIndexByte(v, ' ')
			if i < 0 || len(bytes.Fields(v)) != 3 {
				return fmt.Errorf("line %d: Status %q does not have three words", line, v)
			}
			e.State = internState(v[i+1:])
		case bytes.HasPrefix(b, keyArch):
			e.Arch = fieldValue(b, len(keyArch))
		case bytes.HasPrefix(b, keyVersion):
			e.Version = fieldValue(b, len(keyVersion))
		case bytes.HasPrefix(b, keySection):
			e.Section = internSection(bytes.TrimSpace(b[len(keySection):]))
		case bytes.HasPrefix(b, keyDescr):
			e.Summary = fieldValue(b, len(keyDescr))
		case bytes.HasPrefix(b, keySource):
			src := fieldValue(b, len(keySource))
			if i := strings.IndexByte(src, ' '); i >= 0 {
				src = src[:i] // "glibc (2.36-9)": the source version differs
			}
			e.Source = src
		default:
			if bytes.IndexByte(b, ':') < 0 {
				return fmt.Errorf("line %d: field %q has no colon", line, truncate(string(b), 40))
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return flush()
}

// commonSections are Debian's sections, shared by many packages: interned
// so a thousand packages cost no allocation for them.
var commonSections = func() map[string]string {
	m := map[string]string{}
	for _, s := range strings.Fields("admin cli-mono comm database debug devel doc editors education electronics embedded " +
		"fonts games gnome gnu-r gnustep golang graphics hamradio haskell httpd interpreters introspection java javascript " +
		"kde kernel libdevel libs lisp localization mail math metapackages misc net news ocaml oldlibs otherosfs perl php " +
		"python ruby rust science shells sound tasks tex text utils vcs video web x11 xfce zope") {
		m[s] = s
	}
	return m
}()

// internSection returns a package's section, without allocating for the
// common ones.
func internSection(b []byte) string {
	if s, ok := commonSections[string(b)]; ok {
		return s
	}
	return string(b)
}

// internState returns the dpkg state as a constant string for the known
// states (no allocation per package).
func internState(b []byte) string {
	switch string(b) {
	case "installed":
		return "installed"
	case "config-files":
		return "config-files"
	case "not-installed":
		return "not-installed"
	case "triggers-pending":
		return "triggers-pending"
	case "triggers-awaited":
		return "triggers-awaited"
	case "unpacked":
		return "unpacked"
	case "half-configured":
		return "half-configured"
	case "half-installed":
		return "half-installed"
	}
	return string(b)
}

// fieldValue returns the trimmed value after a "Key:" prefix of length n.
func fieldValue(b []byte, n int) string {
	return string(bytes.TrimSpace(b[n:]))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

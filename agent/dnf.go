package agent

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// dnf keeps each repository's metadata under its cache directory in a
// directory named "<repo id>-<16 hex digits>" (a hash of the repository's
// URLs): repodata/repomd.xml and the files it names, as downloaded
// (<checksum>-primary.xml.gz, .xz, .zst, ...). dnf 5 does the same under
// /var/cache/libdnf5.
var dnfCacheDirs = []string{"/var/cache/dnf", "/var/cache/libdnf5"}

// dnfCacheFile is the parsed-metadata cache in the state directory.
const dnfCacheFile = "dnf-repos.cache"

// dnfRepo is one enabled repository with the metadata dnf cached for it.
type dnfRepo struct {
	yumRepo
	dir     string // host path of the cache directory
	primary *aptIndex
	modules string    // host path of the cached modules.yaml (RHEL 8 modularity), if any
	date    time.Time // the newest timestamp in repomd.xml
}

// dnfEnrich sets Suite, Candidate, CandidateOrigin and CandidateSuite on the
// rpm items from the enabled repositories' metadata in dnf's cache, the way
// `dnf upgrade` would choose (repository priority, excludes, modular
// filtering, architecture). Origin stays the package's Vendor. Without a
// dnf cache it does nothing; a repository without cached metadata is
// skipped (dnf has not fetched it yet) and reported.
func dnfEnrich(ctx context.Context, env *Env, items []api.Item) error {
	repos, errs := findDnfRepos(env)
	if len(repos) == 0 {
		return errors.Join(errs...)
	}
	var indexes []*aptIndex
	for _, r := range repos {
		indexes = append(indexes, r.primary)
		if !r.date.IsZero() {
			env.addRepoDate(r.date)
		}
	}
	wanted := make(map[string]bool, len(items))
	for i := range items {
		wanted[items[i].Name] = true
	}
	lists, fresh := loadListsCache(env, dnfCacheFile, indexes, wanted)
	if lists == nil {
		lists = &aptLists{Names: wanted, Entries: map[string][]aptListEntry{}}
		var perr []error
		for id, r := range repos {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := parseDnfPrimary(env, id, r.primary, wanted, lists); err != nil {
				perr = append(perr, fmt.Errorf("repository %s: %s: %w", r.ID, r.primary.Path, err))
			}
		}
		errs = append(errs, perr...)
		if len(perr) == 0 {
			fresh = true
		} else {
			fresh = false
		}
	}
	if fresh {
		if err := saveListsCache(env, dnfCacheFile, indexes, lists); err != nil {
			env.logger().Debug("dnf metadata cache not written", "err", err)
		}
	}
	mods, modErr := readDnfModules(env, repos)
	if modErr != nil {
		errs = append(errs, modErr)
	}
	global := dnfMainExcludes(env)
	candidates := len(errs) == 0
	for i := range items {
		it := &items[i]
		inst := parseRPMEVR(it.Version)
		var avail []dnfPkg
		for _, e := range lists.Entries[it.Name] {
			r := repos[e.Index]
			if !rpmArchCompatible(it.Arch, e.Arch) || excluded(it.Name, r.Exclude, r.Include, global) {
				continue
			}
			p := dnfPkg{repo: e.Index, arch: e.Arch, evr: parseRPMEVR(e.Version), vendor: e.Source}
			if !mods.visible(it.Name, p, r.ModuleHotfixes) {
				continue
			}
			avail = append(avail, p)
		}
		// The repository offering the installed build: the best priority,
		// the first configured on a tie.
		if best := bestDnfPkg(avail, repos, func(p dnfPkg) bool { return compareRPMEVR(p.evr, inst) == 0 && p.arch == it.Arch }); best >= 0 {
			it.Suite = repos[avail[best].repo].ID
		}
		if !candidates {
			continue
		}
		// dnf considers only the best-priority repositories offering the
		// name, and never downgrades.
		prio := 0
		for k, p := range avail {
			if q := repos[p.repo].Priority; k == 0 || q < prio {
				prio = q
			}
		}
		cand := -1
		for k, p := range avail {
			if repos[p.repo].Priority != prio || compareRPMEVR(p.evr, inst) <= 0 {
				continue
			}
			if cand < 0 || compareRPMEVR(p.evr, avail[cand].evr) > 0 {
				cand = k
			}
		}
		it.Candidate = it.Version
		if cand >= 0 {
			c := avail[cand]
			it.Candidate = c.evr.String()
			it.CandidateOrigin = strings.ToLower(strings.TrimSpace(c.vendor))
			it.CandidateSuite = repos[c.repo].ID
		}
	}
	return errors.Join(errs...)
}

// dnfPkg is one available package of an installed name.
type dnfPkg struct {
	repo   int
	arch   string
	evr    rpmEVR
	vendor string
}

func bestDnfPkg(ps []dnfPkg, repos []*dnfRepo, ok func(dnfPkg) bool) int {
	best := -1
	for k, p := range ps {
		if !ok(p) {
			continue
		}
		if best < 0 || repos[p.repo].Priority < repos[ps[best].repo].Priority {
			best = k
		}
	}
	return best
}

// rpmArchCompatible reports whether dnf would replace an installed package
// of arch have with one of arch offer: the same architecture, or a change
// to or from noarch.
func rpmArchCompatible(have, offer string) bool {
	return have == offer || have == "noarch" || offer == "noarch"
}

// excluded applies excludepkgs/includepkgs globs (repository and [main]) to
// a package name.
func excluded(name string, exclude, include, global []string) bool {
	for _, g := range append(append([]string{}, exclude...), global...) {
		if globMatch(g, name) {
			return true
		}
	}
	if len(include) == 0 {
		return false
	}
	for _, g := range include {
		if globMatch(g, name) {
			return false
		}
	}
	return true
}

// dnfMainExcludes reads exclude/excludepkgs of dnf.conf's [main] (yum.conf
// on yum hosts).
func dnfMainExcludes(env *Env) []string {
	for _, p := range []string{dnfConf, yumConf} {
		f, err := env.Open(p)
		if err != nil {
			continue
		}
		secs, _ := parseINI(io.LimitReader(f, 1<<20))
		f.Close()
		for _, s := range secs {
			if s.Name == "main" {
				return append(listValue(s.Keys["exclude"]), listValue(s.Keys["excludepkgs"])...)
			}
		}
		return nil
	}
	return nil
}

// findDnfRepos returns the enabled repositories of /etc/yum.repos.d with
// the metadata dnf cached for them (the newest cache directory when there
// are several). Enabled repositories without a cache are reported.
func findDnfRepos(env *Env) ([]*dnfRepo, []error) {
	defs, err := readRepoDir(env, yumReposDir)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	// Cache directories by repository id.
	type cand struct {
		dir   string
		mtime time.Time
	}
	found := map[string]cand{}
	any := false
	for _, base := range dnfCacheDirs {
		ents, err := os.ReadDir(env.Path(base))
		if err != nil {
			continue
		}
		any = true
		for _, e := range ents {
			n := e.Name()
			if !e.IsDir() || len(n) < 18 || n[len(n)-17] != '-' || !isHex(n[len(n)-16:]) {
				continue
			}
			id := n[:len(n)-17]
			dir := base + "/" + n
			st, err := os.Stat(env.Path(dir + "/repodata/repomd.xml"))
			if err != nil {
				continue
			}
			if c, ok := found[id]; !ok || st.ModTime().After(c.mtime) {
				found[id] = cand{dir, st.ModTime()}
			}
		}
	}
	if !any {
		return nil, errs
	}
	var out []*dnfRepo
	for _, d := range defs {
		if !d.Enabled {
			continue
		}
		c, ok := found[d.ID]
		if !ok {
			errs = append(errs, fmt.Errorf("repository %s (%s): no metadata in dnf's cache (run dnf makecache)", d.ID, d.Where))
			continue
		}
		r := &dnfRepo{yumRepo: d, dir: c.dir}
		if err := r.readRepomd(env); err != nil {
			errs = append(errs, fmt.Errorf("repository %s: %w", d.ID, err))
			continue
		}
		out = append(out, r)
	}
	return out, errs
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// readRepomd reads repodata/repomd.xml: where the primary metadata (and the
// modules document) are, and the newest timestamp.
func (r *dnfRepo) readRepomd(env *Env) error {
	p := r.dir + "/repodata/repomd.xml"
	f, err := env.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var md struct {
		Revision string `xml:"revision"`
		Data     []struct {
			Type     string `xml:"type,attr"`
			Location struct {
				Href string `xml:"href,attr"`
			} `xml:"location"`
			Timestamp string `xml:"timestamp"`
		} `xml:"data"`
	}
	if err := xml.NewDecoder(io.LimitReader(f, 8<<20)).Decode(&md); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	var primary, primaryZck string
	for _, d := range md.Data {
		if ts, err := strconv.ParseInt(strings.TrimSpace(d.Timestamp), 10, 64); err == nil {
			if t := time.Unix(ts, 0).UTC(); t.After(r.date) {
				r.date = t
			}
		}
		name := r.dir + "/repodata/" + filepath.Base(d.Location.Href)
		switch d.Type {
		case "primary":
			primary = name
		case "primary_zck":
			primaryZck = name
		case "modules":
			r.modules = name
		}
	}
	// dnf built with zchunk downloads primary_zck instead of primary.
	for _, p := range []string{primary, primaryZck} {
		if p == "" {
			continue
		}
		st, err := os.Stat(env.Path(p))
		if err != nil {
			continue
		}
		base, ext := splitCompression(p)
		if strings.HasSuffix(p, ".zck") {
			base, ext = strings.TrimSuffix(p, ".zck"), ".zck"
		}
		_ = base
		r.primary = &aptIndex{Path: p, Ext: ext, Size: st.Size(), MTime: st.ModTime().UnixNano()}
		return nil
	}
	if primary == "" && primaryZck == "" {
		return fmt.Errorf("%s names no primary metadata", p)
	}
	return fmt.Errorf("%s: its primary metadata is not in the cache (run dnf makecache)", p)
}

// parseDnfPrimary reads one repository's primary metadata for the wanted
// names. Entries keep the repository number as Index, the EVR as Version
// and the vendor as Source.
func parseDnfPrimary(env *Env, id int, ix *aptIndex, wanted map[string]bool, lists *aptLists) error {
	f, err := env.Open(ix.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("vanished while being read (dnf makecache running?)")
		}
		return err
	}
	defer f.Close()
	var r io.Reader = f
	var done func()
	if ix.Ext == ".zck" {
		r, done, err = zchunkReader(f)
	} else {
		r, done, err = decompressor(f, ix.Ext)
	}
	if err != nil {
		return err
	}
	defer done()
	return scanPrimaryXML(r, func(name []byte) bool { return wanted[string(name)] }, func(p *primaryPkg) {
		name := string(p.Name)
		lists.Entries[name] = append(lists.Entries[name], aptListEntry{Index: id, Arch: string(p.Arch),
			Version: rpmEVR{Epoch: string(p.Epoch), Version: string(p.Ver), Release: string(p.Rel)}.String(), Source: string(p.Vendor)})
	})
}

// primaryPkg is what scanPrimaryXML reports of a wanted package; the slices
// are valid during the callback only.
type primaryPkg struct {
	Name, Arch, Epoch, Ver, Rel, Vendor []byte
}

var (
	xmlPkgStart  = []byte("<package")
	xmlPkgEnd    = []byte("</package>")
	xmlName      = []byte("<name>")
	xmlArch      = []byte("<arch>")
	xmlVersion   = []byte("<version ")
	xmlVendor    = []byte("<rpm:vendor>")
	xmlVendorEnd = []byte("</rpm:vendor>")
)

// scanPrimaryXML reads a repository's primary.xml (createrepo's format: one
// <package type="rpm"> element per package with <name>, <arch>, <version
// epoch ver rel/> and <format><rpm:vendor>) without a general XML parser:
// most of the document (provides, requires, files) is skipped by searching
// for the end of each package. Errors name the package element's number.
func scanPrimaryXML(r io.Reader, wanted func([]byte) bool, fn func(*primaryPkg)) error {
	buf := make([]byte, 0, 256<<10)
	eof := false
	n := 0
	var p primaryPkg
	for {
		for !eof && len(buf) < cap(buf) {
			m, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+m]
			if err == io.EOF {
				eof = true
			} else if err != nil {
				return fmt.Errorf("package %d: %w", n+1, err)
			}
		}
		pos := 0
		for {
			start := bytes.Index(buf[pos:], xmlPkgStart)
			if start < 0 {
				// Keep a possible partial "<package" at the end.
				pos = max(pos, len(buf)-len(xmlPkgStart))
				break
			}
			start += pos
			end := bytes.Index(buf[start:], xmlPkgEnd)
			if end < 0 {
				pos = start
				break
			}
			end += start
			n++
			if err := scanPrimaryPackage(buf[start:end], wanted, fn, &p); err != nil {
				return fmt.Errorf("package %d: %w", n, err)
			}
			pos = end + len(xmlPkgEnd)
		}
		if eof {
			if bytes.Contains(buf[pos:], xmlPkgStart) {
				return fmt.Errorf("package %d: truncated (no </package>)", n+1)
			}
			if !bytes.Contains(buf, []byte("</metadata>")) && n == 0 && len(bytes.TrimSpace(buf)) > 0 && !bytes.Contains(buf, []byte("<metadata")) {
				return errors.New("not a primary metadata document")
			}
			return nil
		}
		rest := copy(buf, buf[pos:])
		buf = buf[:rest]
		if rest == cap(buf) {
			if cap(buf) >= maxStanza {
				return fmt.Errorf("package %d: larger than %d bytes", n+1, maxStanza)
			}
			nb := make([]byte, rest, 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
	}
}

// scanPrimaryPackage reads one <package ...>...(</package> excluded).
func scanPrimaryPackage(b []byte, wanted func([]byte) bool, fn func(*primaryPkg), p *primaryPkg) error {
	name := xmlElemText(b, xmlName)
	if len(name) == 0 {
		return errors.New("package without a <name>")
	}
	if !wanted(name) {
		return nil
	}
	*p = primaryPkg{Name: name, Arch: xmlElemText(b, xmlArch)}
	i := bytes.Index(b, xmlVersion)
	if i < 0 {
		return fmt.Errorf("package %q without a <version>", name)
	}
	tag := b[i:]
	if j := bytes.IndexByte(tag, '>'); j >= 0 {
		tag = tag[:j]
	}
	p.Epoch, p.Ver, p.Rel = xmlAttr(tag, "epoch"), xmlAttr(tag, "ver"), xmlAttr(tag, "rel")
	if len(p.Ver) == 0 {
		return fmt.Errorf("package %q: <version> without ver", name)
	}
	if k := bytes.Index(b, xmlVendor); k >= 0 {
		v := b[k+len(xmlVendor):]
		if e := bytes.Index(v, xmlVendorEnd); e >= 0 {
			p.Vendor = xmlUnescape(v[:e])
		}
	}
	fn(p)
	return nil
}

// xmlElemText returns the text of the first <elem>text</...> in b.
func xmlElemText(b, open []byte) []byte {
	i := bytes.Index(b, open)
	if i < 0 {
		return nil
	}
	v := b[i+len(open):]
	if e := bytes.IndexByte(v, '<'); e >= 0 {
		v = v[:e]
	}
	return xmlUnescape(bytes.TrimSpace(v))
}

// xmlAttr returns the value of name="..." in a tag.
func xmlAttr(tag []byte, name string) []byte {
	key := []byte(" " + name + "=\"")
	i := bytes.Index(tag, key)
	if i < 0 {
		return nil
	}
	v := tag[i+len(key):]
	if e := bytes.IndexByte(v, '"'); e >= 0 {
		v = v[:e]
	}
	return xmlUnescape(v)
}

// xmlUnescape decodes the five predefined entities (rare in package
// metadata; most values come back unchanged, without allocating).
func xmlUnescape(b []byte) []byte {
	if bytes.IndexByte(b, '&') < 0 {
		return b
	}
	s := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&").Replace(string(b))
	return []byte(s)
}

package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// aptIndex is one package index apt uses: a Packages file of a configured
// source, or the dpkg status file (the installed versions, "now").
type aptIndex struct {
	Path      string // host path of the list file; "" for the status file
	Ext       string // compression extension ("" = none)
	RelPath   string // path relative to the suite ("main/binary-amd64/Packages"), as the Release lists it
	Component string
	Arch      string
	Size      int64
	MTime     int64 // nanoseconds

	src    *aptSource
	rel    aptRelease
	site   string
	status bool
}

// origin is the index's repository origin as items report it: the
// Release's Origin, else the repository's host, lower-cased.
func (ix *aptIndex) origin() string {
	if ix.rel.Origin != "" {
		return strings.ToLower(strings.TrimSpace(ix.rel.Origin))
	}
	return strings.ToLower(ix.site)
}

// suite is the index's suite as items report it, stable across releases:
// Debian's Codename ("bookworm-security", where Suite says
// "oldstable-security"), but Ubuntu's Suite ("jammy-security", where every
// pocket's Codename is "jammy"); else the suite named in the sources.
func (ix *aptIndex) suite() string {
	c, s := ix.rel.Codename, ix.rel.Suite
	switch {
	case c != "" && (strings.Contains(c, "-") || !strings.Contains(s, "-")):
		return c
	case s != "":
		return s
	case ix.src != nil:
		s := strings.Trim(ix.src.Suite, "/")
		if s == "." {
			return ""
		}
		return s
	}
	return ""
}

// aptListEntry is one version a list offers for a wanted package.
type aptListEntry struct {
	Index                 int
	Version, Arch, Source string
	Hash                  uint32 // apt's version hash (aptHashFields.sum)
}

// aptLists is what the agent keeps from apt's lists: for the installed
// package names, every version each index offers. It is what the cache
// stores.
type aptLists struct {
	Names   map[string]bool           // the names it was built for
	Entries map[string][]aptListEntry // by package name
}

// aptCacheFile is the parsed-lists cache in the state directory.
const aptCacheFile = "apt-lists.cache"

// aptEnrich sets Origin, Suite, Candidate, CandidateOrigin and CandidateSuite on the dpkg
// items from apt's lists and policy, exactly as apt-cache policy would, and
// reports the newest repository date as a host fact. Without apt (no lists
// directory) it does nothing. On an error it still sets what it could tell
// for sure (origin and suite from the lists it read) but no candidate, and
// returns the error once for the whole run.
//
// hashes[i] is apt's version hash of items[i] as the status file has it: an
// installed version counts as offered by a list only when the list's build
// of that version hashes the same, as apt decides.
func aptEnrich(ctx context.Context, env *Env, items []api.Item, hashes []uint32) error {
	if _, err := os.Stat(env.Path(aptListsDir)); err != nil {
		return nil // no apt here
	}
	native := dpkgNativeArch(items)
	sources, srcErr := readAptSources(env)
	indexes, idxErr := discoverAptIndexes(env, sources)
	var errs []error
	if srcErr != nil {
		errs = append(errs, srcErr)
	}
	if idxErr != nil {
		errs = append(errs, idxErr)
	}
	for _, ix := range indexes {
		if !ix.rel.Date.IsZero() {
			env.addRepoDate(ix.rel.Date)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	wanted := make(map[string]bool, len(items))
	for i := range items {
		wanted[items[i].Name] = true
	}
	lists, fresh := loadListsCache(env, aptCacheFile, indexes, wanted)
	if lists == nil {
		var err error
		lists, err = parseAptLists(ctx, env, indexes, wanted)
		if err != nil {
			errs = append(errs, err)
		} else {
			fresh = true
		}
	}
	if fresh && len(errs) == 0 {
		if err := saveListsCache(env, aptCacheFile, indexes, lists); err != nil {
			env.logger().Debug("apt lists cache not written", "err", err)
		}
	}

	pins, prefErr := readAptPreferences(env)
	if prefErr != nil {
		errs = append(errs, prefErr)
	}
	defRel, confErr := readAptConfValue(env, "APT::Default-Release")
	if confErr != nil {
		errs = append(errs, confErr)
	}
	if defRel != "" && !aptDefaultReleaseExists(indexes, defRel) {
		errs = append(errs, fmt.Errorf("APT::Default-Release %q names no release of the configured sources", defRel))
		defRel = ""
	}
	status := &aptIndex{status: true}
	all := append(append([]*aptIndex{}, indexes...), status)
	pol := newAptPolicy(all, pins, defRel, native)
	candidates := len(errs) == 0

	for i := range items {
		it := &items[i]
		arch := normArch(it.Arch, native)
		vers, inst := aptVersionsOf(lists.Entries[it.Name], it.Version, hashes[i], arch, native, it.SourcePkg, len(indexes))
		if best := pol.bestIndex(vers[inst].Indexes, all); best >= 0 {
			it.Origin, it.Suite = all[best].origin(), all[best].suite()
		}
		if !candidates {
			continue
		}
		c := pol.candidate(all, vers, inst, it.Name, arch)
		if c < 0 {
			continue // apt would say "Candidate: (none)"
		}
		it.Candidate = vers[c].Version
		if vers[c].Version != it.Version {
			if best := pol.bestIndex(vers[c].Indexes, all); best >= 0 {
				it.CandidateOrigin, it.CandidateSuite = all[best].origin(), all[best].suite()
			}
		}
	}
	return errors.Join(errs...)
}

// bestIndex picks, among the indexes offering a version, the repository
// to name: the highest priority; on a tie a security suite (Debian and
// Ubuntu publish a security update in the security suite and, later or at
// once, in the release or -updates suite: naming the security suite says
// what the update is), else the first configured. The status file is never
// one.
func (p *aptPolicy) bestIndex(ids []int, all []*aptIndex) int {
	best := -1
	better := func(id int) bool {
		if p.prio[id] != p.prio[best] {
			return p.prio[id] > p.prio[best]
		}
		if a, b := all[id].security(), all[best].security(); a != b {
			return a
		}
		return id < best
	}
	for _, id := range ids {
		if all[id].status {
			continue
		}
		if best < 0 || better(id) {
			best = id
		}
	}
	return best
}

// security reports whether the index is a security suite.
func (ix *aptIndex) security() bool { return strings.HasSuffix(ix.suite(), "-security") }

// aptVersionsOf builds the version table of one installed package: the
// versions the lists offer for its architecture, newest first, one entry
// per version and build (apt's version hash) with every index offering it,
// plus the installed one with the status file (index statusID). It returns
// the installed version's position.
func aptVersionsOf(entries []aptListEntry, installed string, hash uint32, arch, native, source string, statusID int) ([]aptVer, int) {
	type ver struct {
		aptVer
		hash      uint32
		installed bool
	}
	vs := make([]ver, 0, len(entries)+1)
	add := func(v string, h uint32, src string, ix int) *ver {
		for i := range vs {
			if vs[i].Version == v && vs[i].hash == h {
				vs[i].Indexes = append(vs[i].Indexes, ix)
				return &vs[i]
			}
		}
		vs = append(vs, ver{aptVer: aptVer{Version: v, Source: src, Indexes: []int{ix}}, hash: h})
		return &vs[len(vs)-1]
	}
	for _, e := range entries {
		if normArch(e.Arch, native) == arch {
			add(e.Version, e.Hash, e.Source, e.Index)
		}
	}
	add(installed, hash, source, statusID).installed = true
	sort.SliceStable(vs, func(i, j int) bool { return compareDebVersions(vs[i].Version, vs[j].Version) > 0 })
	out := make([]aptVer, len(vs))
	inst := 0
	for i := range vs {
		out[i] = vs[i].aptVer
		if vs[i].installed {
			inst = i
		}
	}
	return out, inst
}

// normArch maps "all" (and an empty architecture) to the native one, as
// apt files architecture-independent packages under the native arch.
func normArch(a, native string) string {
	if a == "all" || a == "" {
		return native
	}
	return a
}

// dpkgNativeArch is dpkg's own architecture (the "dpkg" package's, which is
// always the native one), else the running binary's.
func dpkgNativeArch(items []api.Item) string {
	for _, it := range items {
		if it.Name == "dpkg" && it.Arch != "" && it.Arch != "all" {
			return it.Arch
		}
	}
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	}
	return runtime.GOARCH
}

// aptDefaultReleaseExists is apt's check that APT::Default-Release names a
// release some configured source has (by archive, codename or version, or
// a "key=value" form, or "now").
func aptDefaultReleaseExists(indexes []*aptIndex, rel string) bool {
	if len(rel) > 2 && rel[1] == '=' || aptExprMatch(rel, "now") {
		return true
	}
	for _, ix := range indexes {
		if aptExprMatch(rel, ix.rel.Suite) || aptExprMatch(rel, ix.rel.Codename) || aptExprMatch(rel, ix.rel.Version) {
			return true
		}
	}
	return false
}

// readAptPreferences reads /etc/apt/preferences, then the files of
// preferences.d (no extension or ".pref"), in apt's order.
func readAptPreferences(env *Env) ([]aptPin, error) {
	var pins []aptPin
	var errs []error
	read := func(p string) {
		f, err := env.Open(p)
		if err != nil {
			return
		}
		defer f.Close()
		ps, err := parsePreferences(io.LimitReader(f, 4<<20), p)
		if err != nil {
			errs = append(errs, err)
			return // apt refuses the whole file
		}
		pins = append(pins, ps...)
	}
	read(aptPrefsFile)
	for _, n := range aptConfigParts(env, aptPrefsParts, "pref", "") {
		read(aptPrefsParts + "/" + n)
	}
	return pins, errors.Join(errs...)
}

// discoverAptIndexes finds the list files of the configured sources in
// /var/lib/apt/lists, with each suite's Release (InRelease preferred) read
// up to its checksum lists. Stale lists of removed sources are ignored, as
// apt ignores them. A list in a compression the agent cannot read is an
// error.
func discoverAptIndexes(env *Env, sources []aptSource) ([]*aptIndex, error) {
	dir := env.Path(aptListsDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", aptListsDir, err)
	}
	names := make([]string, 0, len(ents))
	exists := make(map[string]bool, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
			exists[e.Name()] = true
		}
	}
	sort.Strings(names)
	var out []*aptIndex
	var errs []error
	seen := map[string]bool{}
	for si := range sources {
		src := &sources[si]
		prefix := src.listPrefix()
		rel, site := aptRelease{}, src.site()
		for _, n := range []string{prefix + "InRelease", prefix + "Release"} {
			if !exists[n] {
				continue
			}
			f, err := os.Open(filepath.Join(dir, n))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", aptListsDir, n, err))
				break
			}
			rel, err = parseRelease(f, false)
			f.Close()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s/%s: %w", aptListsDir, n, err))
			}
			break
		}
		type target struct{ prefix, comp string }
		var targets []target
		if src.flat() {
			targets = append(targets, target{prefix, ""})
		} else {
			for _, c := range src.Components {
				targets = append(targets, target{aptURIToFileName(aptMetaIndexURI(src.URI, src.Suite, c+"/binary-")), c})
			}
		}
		for _, t := range targets {
			for _, n := range names {
				if !strings.HasPrefix(n, t.prefix) {
					continue
				}
				base, ext := splitCompression(n)
				arch, relPath := "", "Packages"
				if src.flat() {
					if base != prefix+"Packages" {
						if strings.HasPrefix(n, prefix+"Packages.") && ext == "" {
							errs = append(errs, fmt.Errorf("%s/%s: unknown compression", aptListsDir, n))
						}
						continue
					}
				} else {
					rest := n[len(t.prefix):]
					a, after, ok := strings.Cut(rest, "_Packages")
					if !ok || a == "" || strings.Contains(a, "_") {
						continue
					}
					if after != "" && ext == "" {
						errs = append(errs, fmt.Errorf("%s/%s: unknown compression", aptListsDir, n))
						continue
					}
					if strings.TrimSuffix(rest, ext) != a+"_Packages" {
						continue
					}
					arch, relPath = a, t.comp+"/binary-"+a+"/Packages"
				}
				key := base
				if seen[key] {
					continue // the same index twice (duplicate source lines, two compressions)
				}
				seen[key] = true
				ix := &aptIndex{Path: aptListsDir + "/" + n, Ext: ext, RelPath: relPath, Component: t.comp, Arch: arch,
					src: src, rel: rel, site: site}
				if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
					ix.Size, ix.MTime = fi.Size(), fi.ModTime().UnixNano()
				}
				out = append(out, ix)
			}
		}
	}
	return out, errors.Join(errs...)
}

// parseAptLists reads every index for the wanted package names. The first
// failing list stops nothing: the others are still read (their origins are
// still true), and the errors are returned together.
func parseAptLists(ctx context.Context, env *Env, indexes []*aptIndex, wanted map[string]bool) (*aptLists, error) {
	lists := &aptLists{Names: wanted, Entries: make(map[string][]aptListEntry, len(wanted))}
	var errs []error
	for id, ix := range indexes {
		if err := ctx.Err(); err != nil {
			return lists, err
		}
		if err := parseAptIndex(env, id, ix, wanted, lists); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ix.Path, err))
		}
	}
	return lists, errors.Join(errs...)
}

func parseAptIndex(env *Env, id int, ix *aptIndex, wanted map[string]bool, lists *aptLists) error {
	f, err := env.Open(ix.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("vanished while being read (apt-get update running?)")
		}
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		ix.Size, ix.MTime = fi.Size(), fi.ModTime().UnixNano()
	}
	r, done, err := decompressor(f, ix.Ext)
	if err != nil {
		return err
	}
	defer done()
	n, err := scanPackages(r, func(name []byte) bool { return wanted[string(name)] }, func(st *pkgStanza) {
		name := string(st.Name)
		src := name
		if string(st.Source) != name {
			src = string(st.Source)
		}
		lists.Entries[name] = append(lists.Entries[name], aptListEntry{Index: id, Version: string(st.Version), Arch: string(st.Arch), Source: src, Hash: st.Hash})
	})
	if err == nil {
		err = checkReleaseSize(ix, env, n)
	}
	if err != nil {
		// Keep nothing from a broken list.
		for name, es := range lists.Entries {
			kept := es[:0]
			for _, e := range es {
				if e.Index != id {
					kept = append(kept, e)
				}
			}
			lists.Entries[name] = kept
		}
		return err
	}
	return nil
}

// checkReleaseSize compares the decompressed size of a list with the size
// its Release file lists for it (when it lists one): a truncated or
// damaged list that still decompresses is caught here.
func checkReleaseSize(ix *aptIndex, env *Env, n int64) error {
	if ix.src == nil {
		return nil
	}
	prefix := ix.src.listPrefix()
	for _, name := range []string{prefix + "InRelease", prefix + "Release"} {
		f, err := env.Open(aptListsDir + "/" + name)
		if err != nil {
			continue
		}
		rel, err := parseRelease(f, true)
		f.Close()
		if err != nil {
			return nil // reported with the Release already
		}
		if want, ok := rel.Sizes[ix.RelPath]; ok && want != n {
			return fmt.Errorf("truncated or damaged: %d bytes uncompressed, its Release lists %d", n, want)
		}
		return nil
	}
	return nil
}

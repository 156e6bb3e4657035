package agent

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// Alpine's configuration and caches (apk-tools 2 and 3).
const (
	apkRepositories  = "/etc/apk/repositories"
	apkRepositoriesD = "/etc/apk/repositories.d"
	apkWorld         = "/etc/apk/world"
	apkArchFile      = "/etc/apk/arch"
	apkCacheLink     = "/etc/apk/cache"
	apkCacheDir      = "/var/cache/apk"
	apkListsCache    = "apk-indexes.cache"
)

// apkRepo is one line of /etc/apk/repositories: an optional @tag and a URL.
type apkRepo struct {
	Tag, URL string
	index    *aptIndex // the cached APKINDEX.<hash>.tar.gz
	date     time.Time // when the index was built (its APKINDEX entry's time)
}

// alpineRepoPath is the layout of Alpine's own repositories on every
// mirror: …/alpine/<branch>/<repository>.
var alpineRepoPath = regexp.MustCompile(`/alpine/(v\d+\.\d+|edge|latest-stable)/(main|community|testing)/?$`)

// origin: "alpine" for Alpine's own repositories, else the repository's
// host.
func (r *apkRepo) origin() string {
	_, _, host, path := uriParts(r.URL)
	if alpineRepoPath.MatchString(path) {
		return "alpine"
	}
	return strings.ToLower(host)
}

// suite: the repository's branch and name ("v3.20/main", "edge/testing"),
// the last two elements of its URL.
func (r *apkRepo) suite() string {
	_, _, _, path := uriParts(r.URL)
	if path == "" {
		path = r.URL
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 2 {
		return parts[len(parts)-2] + "/" + parts[len(parts)-1]
	}
	return strings.Join(parts, "/")
}

// readAPKRepos reads /etc/apk/repositories (and, for apk 3,
// /etc/apk/repositories.d/*.list): "[@tag] URL" lines, "#" comments.
func readAPKRepos(env *Env) []apkRepo {
	var out []apkRepo
	read := func(p string) {
		f, err := env.Open(p)
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, 1<<20))
		for sc.Scan() {
			l := strings.TrimSpace(sc.Text())
			if l == "" || l[0] == '#' {
				continue
			}
			var r apkRepo
			f := strings.Fields(l)
			if strings.HasPrefix(f[0], "@") {
				r.Tag, f = f[0][1:], f[1:]
			}
			if len(f) == 0 {
				continue
			}
			r.URL = f[len(f)-1] // apk 3 allows keywords before the URL
			out = append(out, r)
		}
	}
	read(apkRepositories)
	ents, _ := os.ReadDir(env.Path(apkRepositoriesD))
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".list") {
			read(apkRepositoriesD + "/" + e.Name())
		}
	}
	return out
}

// apkWorldDep is a constraint of /etc/apk/world on one package.
type apkWorldDep struct {
	Tag     string
	Op      string // "", "=", "<", "<=", ">", ">=", "~"
	Version string
}

// readAPKWorld reads /etc/apk/world: "name[@tag][op version]" words.
func readAPKWorld(env *Env) map[string]apkWorldDep {
	out := map[string]apkWorldDep{}
	b, err := os.ReadFile(env.Path(apkWorld))
	if err != nil {
		return out
	}
	for _, w := range strings.Fields(string(b)) {
		if strings.HasPrefix(w, "!") {
			continue
		}
		var d apkWorldDep
		name := w
		if i := strings.IndexAny(w, "=<>~"); i >= 0 {
			name, d.Version = w[:i], w[i:]
			j := 0
			for j < len(d.Version) && strings.IndexByte("=<>~", d.Version[j]) >= 0 {
				j++
			}
			d.Op, d.Version = d.Version[:j], d.Version[j:]
		}
		if i := strings.IndexByte(name, '@'); i >= 0 {
			name, d.Tag = name[:i], name[i+1:]
		}
		out[name] = d
	}
	return out
}

// satisfies reports whether version v meets the world constraint.
func (d apkWorldDep) satisfies(v string) bool {
	if d.Op == "" {
		return true
	}
	c := compareAPKVersions(v, d.Version)
	switch d.Op {
	case "=":
		return c == 0
	case "<":
		return c < 0
	case "<=", "=<":
		return c <= 0
	case ">":
		return c > 0
	case ">=", "=>":
		return c >= 0
	case "~", "~=":
		// Fuzzy: the version starts with the constraint's components.
		return c == 0 || strings.HasPrefix(v, d.Version+".") || strings.HasPrefix(v, d.Version+"-") || strings.HasPrefix(v, d.Version+"_") || v == d.Version
	}
	return true
}

// apkIndexNames are the names apk gives a repository's cached index,
// APKINDEX.<the first 4 bytes of a hash, in hex>.tar.gz, newest apk first:
// apk-tools 2.14.1 and later hash "URL/ARCH/APKINDEX.tar.gz" with SHA-1,
// apk-tools 3 with SHA-256, and apk-tools up to 2.14.0 (Alpine 3.18 and
// older) the repository URL alone with SHA-1.
func apkIndexNames(url, arch string) []string {
	full := url
	if !strings.HasSuffix(full, "/") {
		full += "/"
	}
	full += arch + "/APKINDEX.tar.gz"
	name := func(sum []byte) string { return "APKINDEX." + hex.EncodeToString(sum[:4]) + ".tar.gz" }
	s1 := sha1.Sum([]byte(full))
	s2 := sha256.Sum256([]byte(full))
	s3 := sha1.Sum([]byte(url))
	return []string{name(s1[:]), name(s2[:]), name(s3[:])}
}

// apkEnrich sets Origin, Suite, Candidate, CandidateOrigin and
// CandidateSuite on the apk items from the cached indexes of the configured
// repositories, as `apk upgrade` would choose: the newest version from the
// untagged repositories plus the one a world entry's @tag pins, within the
// world entry's version constraint, never older than what is installed.
func apkEnrich(ctx context.Context, env *Env, items []api.Item) error {
	repos := readAPKRepos(env)
	if len(repos) == 0 {
		return nil
	}
	usable, indexes, errs := locateAPKIndexes(env, repos)
	if len(usable) == 0 {
		return errors.Join(errs...)
	}
	wanted := make(map[string]bool, len(items))
	for i := range items {
		wanted[items[i].Name] = true
	}
	lists, fresh := loadListsCache(env, apkListsCache, indexes, wanted)
	if lists == nil {
		var perr []error
		lists, perr = parseAPKIndexes(ctx, env, usable, wanted)
		if err := ctx.Err(); err != nil {
			return err
		}
		errs = append(errs, perr...)
		fresh = len(perr) == 0
	}
	if fresh {
		if err := saveListsCache(env, apkListsCache, indexes, lists); err != nil {
			env.logger().Debug("apk index cache not written", "err", err)
		}
	}
	apkRepoDates(env, usable, lists)
	world := readAPKWorld(env)
	candidates := len(errs) == 0
	for i := range items {
		apkOriginAndCandidate(&items[i], lists, usable, world[items[i].Name], candidates)
	}
	return errors.Join(errs...)
}

// locateAPKIndexes finds each repository's cached APKINDEX for this
// machine's architecture; a repository without one is an error (apk
// update was not run) and is left out.
func locateAPKIndexes(env *Env, repos []apkRepo) (usable []*apkRepo, indexes []*aptIndex, errs []error) {
	arch := "x86_64"
	if b, err := os.ReadFile(env.Path(apkArchFile)); err == nil && strings.TrimSpace(string(b)) != "" {
		arch = strings.TrimSpace(string(b))
	}
	cache := apkCacheDir
	if st, err := os.Stat(env.Path(apkCacheLink)); err == nil && st.IsDir() {
		cache = apkCacheLink
	}
	for i := range repos {
		r := &repos[i]
		for _, n := range apkIndexNames(r.URL, arch) {
			p := cache + "/" + n
			if st, err := os.Stat(env.Path(p)); err == nil {
				r.index = &aptIndex{Path: p, Ext: ".gz", Size: st.Size(), MTime: st.ModTime().UnixNano()}
				break
			}
		}
		if r.index == nil {
			errs = append(errs, fmt.Errorf("repository %s: no index in %s (run apk update)", r.URL, cache))
			continue
		}
		usable = append(usable, r)
		indexes = append(indexes, r.index)
	}
	return usable, indexes, errs
}

// parseAPKIndexes reads the wanted packages' entries from every usable
// repository's index; a repository whose index cannot be read is an error.
// It stops early when ctx ends.
func parseAPKIndexes(ctx context.Context, env *Env, usable []*apkRepo, wanted map[string]bool) (*aptLists, []error) {
	lists := &aptLists{Names: wanted, Entries: map[string][]aptListEntry{}}
	var errs []error
	for id, r := range usable {
		if ctx.Err() != nil {
			break
		}
		if err := parseAPKIndex(env, id, r, wanted, lists); err != nil {
			errs = append(errs, fmt.Errorf("repository %s: %s: %w", r.URL, r.index.Path, err))
		}
	}
	return lists, errs
}

// apkRepoDates sets each repository's date: its index's build time, kept in
// the lists as the pseudo entry apkDateEntry.
func apkRepoDates(env *Env, usable []*apkRepo, lists *aptLists) {
	for id, r := range usable {
		for _, e := range lists.Entries[apkDateEntry] {
			if e.Index == id {
				if t, err := time.Parse(time.RFC3339, e.Version); err == nil {
					r.date = t
					env.addRepoDate(t)
				}
			}
		}
	}
}

// apkOriginAndCandidate sets the item's origin and suite (the repository
// offering the installed version) and, when every index was read
// (candidates), its candidate: what apk upgrade would install given the
// world's constraint dep.
func apkOriginAndCandidate(it *api.Item, lists *aptLists, usable []*apkRepo, dep apkWorldDep, candidates bool) {
	allowed := func(r *apkRepo) bool { return r.Tag == "" || r.Tag == dep.Tag }
	archOK := func(e aptListEntry) bool { return e.Arch == it.Arch || e.Arch == "noarch" }
	// The repository offering the installed version: one the package
	// may come from first, else any (a dependency pulled from a tagged
	// repository).
	for _, pass := range []bool{true, false} {
		for _, e := range lists.Entries[it.Name] {
			if r := usable[e.Index]; it.Origin == "" && e.Version == it.Version && archOK(e) && (!pass || allowed(r)) {
				it.Origin, it.Suite = r.origin(), r.suite()
			}
		}
	}
	best := -1 // the entry apk upgrade would install
	for k, e := range lists.Entries[it.Name] {
		if !allowed(usable[e.Index]) || !archOK(e) || !dep.satisfies(e.Version) {
			continue
		}
		if best < 0 || compareAPKVersions(e.Version, lists.Entries[it.Name][best].Version) > 0 {
			best = k
		}
	}
	if !candidates {
		return
	}
	it.Candidate = it.Version
	if best >= 0 {
		e := lists.Entries[it.Name][best]
		if compareAPKVersions(e.Version, it.Version) > 0 {
			it.Candidate = e.Version
			it.CandidateOrigin, it.CandidateSuite = usable[e.Index].origin(), usable[e.Index].suite()
		}
	}
}

// apkDateEntry is the pseudo package name under which the lists cache keeps
// each index's build time.
const apkDateEntry = ":index-date"

// parseAPKIndex reads a cached APKINDEX.tar.gz: gzip streams of a
// signature tar segment and the index tar (DESCRIPTION, APKINDEX).
func parseAPKIndex(env *Env, id int, r *apkRepo, wanted map[string]bool, lists *aptLists) error {
	f, err := env.Open(r.index.Path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errors.New("vanished while being read (apk update running?)")
		}
		return err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer z.Close()
	tr := tar.NewReader(z)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if h.Name != "APKINDEX" {
			continue
		}
		found = true
		lists.Entries[apkDateEntry] = append(lists.Entries[apkDateEntry], aptListEntry{Index: id, Version: h.ModTime.UTC().Format(time.RFC3339), Arch: "-", Source: "-"})
		err = parseAPKIndexText(tr, func(name, version, arch, origin string) {
			if wanted[name] {
				lists.Entries[name] = append(lists.Entries[name], aptListEntry{Index: id, Version: version, Arch: arch, Source: origin})
			}
		})
		if err != nil {
			return err
		}
	}
	if !found {
		return errors.New("no APKINDEX in the archive")
	}
	return nil
}

// parseAPKIndexText reads APKINDEX (the installed database's format:
// "X:value" lines, blank-line separated) and calls fn per package.
func parseAPKIndexText(r io.Reader, fn func(name, version, arch, origin string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var name, version, arch, origin string
	line, start := 0, 0
	flush := func() error {
		if name == "" && version == "" {
			return nil
		}
		if name == "" || version == "" {
			return fmt.Errorf("line %d: package without P: or V:", start)
		}
		fn(name, version, arch, origin)
		name, version, arch, origin = "", "", "", ""
		return nil
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		if len(b) < 2 || b[1] != ':' {
			return fmt.Errorf("line %d: %q is not a \"X:value\" line", line, truncate(string(b), 40))
		}
		if name == "" && version == "" {
			start = line
		}
		switch b[0] {
		case 'P':
			name = string(b[2:])
		case 'V':
			version = string(b[2:])
		case 'A':
			arch = string(b[2:])
		case 'o':
			origin = string(b[2:])
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", line+1, err)
	}
	return flush()
}

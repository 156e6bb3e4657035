package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/eolwatch/eolwatch/server/api"
)

// rpmSpec is one package to build: "name [epoch:]version-release arch vendor".
type rpmSpec struct{ name, evr, arch, vendor string }

func (s rpmSpec) file() string {
	e := parseRPMEVR(s.evr)
	return fmt.Sprintf("%s-%s-%s.%s.rpm", s.name, e.Version, e.Release, s.arch)
}

// buildRPMs builds empty packages with rpmbuild into dir/<arch>/.
func buildRPMs(t *testing.T, dir string, specs []rpmSpec) {
	t.Helper()
	rpmbuild := needTool(t, "rpmbuild")
	top := t.TempDir()
	for i, s := range specs {
		e := parseRPMEVR(s.evr)
		epoch := ""
		if e.Epoch != "" && e.Epoch != "0" {
			epoch = "Epoch: " + e.Epoch + "\n"
		}
		spec := fmt.Sprintf("Name: %s\n%sVersion: %s\nRelease: %s\nSummary: fixture %s\nLicense: MIT\nVendor: %s\nBuildArch: %s\n%%description\nFixture package.\n%%files\n",
			s.name, epoch, e.Version, e.Release, s.name, s.vendor, s.arch)
		sp := filepath.Join(top, fmt.Sprintf("p%d.spec", i))
		os.WriteFile(sp, []byte(spec), 0o644)
		cmd := exec.Command(rpmbuild, "-bb", "--quiet", "--define", "_topdir "+top, "--define", "_rpmdir "+dir, "--target", s.arch, sp)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rpmbuild %s: %v\n%s", s.name, err, out)
		}
	}
}

// dnfScenario is a host with an rpm database and dnf repositories built by
// the real tools (rpmbuild, createrepo_c, modifyrepo_c, rpm, dnf).
type dnfScenario struct {
	installed []rpmSpec
	repos     []dnfFxRepo
	dnfConf   string
	modules   map[string]string // /etc/dnf/modules.d/<name>.module contents
}

type dnfFxRepo struct {
	id, opts    string // opts: extra .repo lines
	compress    string // createrepo_c --general-compress-type (gz, xz, bz2)
	pkgs        []rpmSpec
	modulesYAML string
}

// build makes the root and runs dnf makecache in it; it returns the root.
func (sc dnfScenario) build(t *testing.T) string {
	t.Helper()
	createrepo := needTool(t, "createrepo_c")
	modifyrepo := needTool(t, "modifyrepo_c")
	rpm := needTool(t, "rpm")
	dnf := needTool(t, "dnf")
	root := t.TempDir()
	repoBase := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var repoFile strings.Builder
	for _, r := range sc.repos {
		dir := filepath.Join(repoBase, r.id)
		os.MkdirAll(dir, 0o755)
		buildRPMs(t, dir, r.pkgs)
		args := []string{"--quiet"}
		if r.compress != "" {
			args = append(args, "--general-compress-type="+r.compress)
		}
		if out, err := exec.Command(createrepo, append(args, dir)...).CombinedOutput(); err != nil {
			t.Fatalf("createrepo_c: %v\n%s", err, out)
		}
		if r.modulesYAML != "" {
			mf := filepath.Join(t.TempDir(), "modules.yaml")
			os.WriteFile(mf, []byte(r.modulesYAML), 0o644)
			if out, err := exec.Command(modifyrepo, "--mdtype=modules", mf, filepath.Join(dir, "repodata")).CombinedOutput(); err != nil {
				t.Fatalf("modifyrepo_c: %v\n%s", err, out)
			}
		}
		fmt.Fprintf(&repoFile, "[%s]\nname=Fixture %s\nbaseurl=file://%s\ngpgcheck=0\n%s\n", r.id, r.id, dir, r.opts)
	}
	write("etc/yum.repos.d/fixture.repo", repoFile.String())
	// dnf resolves module streams against the platform the host names.
	write("etc/os-release", "NAME=\"Rocky Linux\"\nVERSION=\"8.9 (Green Obsidian)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.9\"\nPLATFORM_ID=\"platform:el8\"\n")
	write("etc/dnf/dnf.conf", "[main]\ngpgcheck=1\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=True\nskip_if_unavailable=False\n"+sc.dnfConf)
	for name, m := range sc.modules {
		write("etc/dnf/modules.d/"+name+".module", m)
	}
	inst := t.TempDir()
	buildRPMs(t, inst, sc.installed)
	if out, err := exec.Command(rpm, "--root", root, "--initdb").CombinedOutput(); err != nil {
		t.Fatalf("rpm --initdb: %v\n%s", err, out)
	}
	// Debian's rpm keeps its database in ~/.rpmdb (rpm --eval %_dbpath),
	// where dnf and `rpm --root` look too; an RPM distribution keeps it in
	// /var/lib/rpm, which the collector checks exists.
	if dbs, _ := filepath.Glob(filepath.Join(root, "root/.rpmdb")); len(dbs) == 1 {
		os.MkdirAll(filepath.Join(root, "var/lib"), 0o755)
		os.Symlink("../../root/.rpmdb", filepath.Join(root, "var/lib/rpm"))
	}
	for _, s := range sc.installed {
		p := filepath.Join(inst, s.arch, s.file())
		if out, err := exec.Command(rpm, "--root", root, "-i", "--justdb", "--nodeps", "--noscripts", "--ignorearch", p).CombinedOutput(); err != nil {
			t.Fatalf("rpm -i %s: %v\n%s", s.file(), err, out)
		}
	}
	cmd := exec.Command(dnf, "--installroot="+root, "--releasever=9", "-q", "-y", "makecache")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dnf makecache: %v\n%s", err, out)
	}
	return root
}

// dnfUpgrades asks the real dnf what `dnf upgrade` would install:
// name.arch -> evr and repository.
func dnfUpgrades(t *testing.T, root string) map[string][2]string {
	t.Helper()
	out, err := exec.Command("dnf", "--installroot="+root, "--releasever=9", "-C", "-q", "list", "--upgrades").CombinedOutput()
	if err != nil {
		t.Fatalf("dnf list --upgrades: %v\n%s", err, out)
	}
	up := map[string][2]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || !strings.Contains(f[0], ".") {
			continue // "Available Upgrades" and the like
		}
		name := f[0][:strings.LastIndexByte(f[0], '.')]
		up[name] = [2]string{f[1], f[2]}
	}
	return up
}

// rpmItems runs the real rpm collector (rpm --root) on the root.
func rpmItems(t *testing.T, root, cacheDir string) ([]api.Item, error) {
	t.Helper()
	env, _ := (&Env{Root: root, CacheDir: cacheDir}).withFacts()
	items, err := rpmCollector{}.Collect(context.Background(), env)
	SortItems(items)
	return items, err
}

const rockyVendor = "Rocky Enterprise Software Foundation"

func rocky(name, evr, arch string) rpmSpec { return rpmSpec{name, evr, arch, rockyVendor} }

// modulesYAML builds a modules.yaml document set: streams as
// "name:stream" -> artifact NEVRAs, defaults as name -> stream.
func modulesYAML(streams map[string][]string, defaults map[string]string) string {
	var b strings.Builder
	var keys []string
	for k := range streams {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, stream, _ := strings.Cut(k, ":")
		fmt.Fprintf(&b, "---\ndocument: modulemd\nversion: 2\ndata:\n  name: %s\n  stream: \"%s\"\n  version: 8090020231019152822\n  context: a75119d5\n  arch: x86_64\n  summary: %s\n  description: >-\n    Fixture module.\n  license:\n    module:\n    - MIT\n  dependencies:\n  - buildrequires:\n      platform: [el8]\n    requires:\n      platform: [el8]\n  profiles:\n    common:\n      rpms:\n      - %s\n  artifacts:\n    rpms:\n", name, stream, name, name)
		for _, a := range streams[k] {
			fmt.Fprintf(&b, "    - %s\n", a)
		}
		b.WriteString("...\n")
	}
	for name, stream := range defaults {
		fmt.Fprintf(&b, "---\ndocument: modulemd-defaults\nversion: 1\ndata:\n  module: %s\n  stream: \"%s\"\n  profiles:\n    %s: [common]\n...\n", name, stream, stream)
	}
	return b.String()
}

// TestDnfAgainstDnf builds a host with rpmbuild, createrepo_c, rpm and
// dnf, then wants the rpm collector's candidates to be what `dnf list
// --upgrades` says (repository priority, excludes, includepkgs, a disabled
// repository, noarch to arch, epochs, modular filtering), in every metadata
// compression dnf caches, zchunk and zstd included.
func TestDnfAgainstDnf(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds packages and repositories with the real tools")
	}
	sc := dnfScenario{
		installed: []rpmSpec{
			rocky("bash", "5.1.8-6.el9", "x86_64"),
			rocky("openssl", "1:3.0.7-24.el9", "x86_64"),
			rocky("curl", "7.76.1-26.el9", "x86_64"),
			rocky("tzdata", "2024a-1.el9", "noarch"),
			rocky("python3-foo", "1.0-1.el9", "noarch"),
			{"htop", "3.2.1-1.el9", "x86_64", "Fedora Project"},
			{"btop", "1.2.13-1.el9", "x86_64", "Fedora Project"},
			{"mytool", "1.0-1", "x86_64", "Example Corp"},
			rocky("nginx", "1:1.20.1-10.module+el8.9.0+1+aaaa", "x86_64"),
			rocky("postgresql", "13.10-1.module+el8.9.0+2+bbbb", "x86_64"),
			rocky("nodejs", "1:18.18.2-1.module+el8.9.0+3+cccc", "x86_64"),
			rocky("perl-DBI", "1.641-3.el8", "x86_64"),
		},
		dnfConf: "excludepkgs=tzdata*\n",
		modules: map[string]string{"nginx": "[nginx]\nname=nginx\nstream=1.20\nprofiles=\nstate=enabled\n"},
		repos: []dnfFxRepo{
			{id: "baseos", pkgs: []rpmSpec{
				rocky("bash", "5.1.8-6.el9", "x86_64"), rocky("bash", "5.1.8-9.el9", "x86_64"),
				rocky("openssl", "1:3.0.7-27.el9", "x86_64"), rocky("curl", "7.76.1-29.el9", "x86_64"),
				rocky("tzdata", "2025b-1.el9", "noarch"), rocky("python3-foo", "1.1-1.el9", "x86_64"),
				rocky("nodejs", "16.20.2-1.el9", "x86_64"), // non-modular: hidden by the active nodejs stream
				rocky("perl-DBI", "1.641-4.el8", "x86_64"),
			}},
			{id: "appstream", compress: "xz", pkgs: []rpmSpec{
				rocky("nginx", "1:1.20.1-14.module+el8.9.0+4+aaaa", "x86_64"),
				rocky("nginx", "1:1.22.1-1.module+el8.9.0+5+dddd", "x86_64"),
				rocky("postgresql", "13.14-1.module+el8.9.0+6+bbbb", "x86_64"),
				rocky("postgresql", "15.6-1.module+el8.9.0+7+eeee", "x86_64"),
				rocky("nodejs", "1:18.19.0-1.module+el8.9.0+8+cccc", "x86_64"),
				rocky("nodejs", "1:20.11.0-1.module+el8.9.0+9+ffff", "x86_64"),
			}, modulesYAML: modulesYAML(map[string][]string{
				"nginx:1.20":     {"nginx-1:1.20.1-14.module+el8.9.0+4+aaaa.x86_64", "nginx-1:1.20.1-10.module+el8.9.0+1+aaaa.x86_64"},
				"nginx:1.22":     {"nginx-1:1.22.1-1.module+el8.9.0+5+dddd.x86_64"},
				"postgresql:13":  {"postgresql-0:13.14-1.module+el8.9.0+6+bbbb.x86_64"},
				"postgresql:15":  {"postgresql-0:15.6-1.module+el8.9.0+7+eeee.x86_64"},
				"nodejs:18":      {"nodejs-1:18.19.0-1.module+el8.9.0+8+cccc.x86_64"},
				"nodejs:20":      {"nodejs-1:20.11.0-1.module+el8.9.0+9+ffff.x86_64"},
				"perl-DBI:1.641": {"perl-DBI-0:1.641-9.module+el8.9.0+10+abab.x86_64"},
			}, map[string]string{"postgresql": "13", "nodejs": "18"})},
			{id: "vendor", opts: "priority=10", pkgs: []rpmSpec{rocky("curl", "7.76.1-26.el9", "x86_64")}},
			{id: "epel", compress: "bz2", opts: "includepkgs=htop", pkgs: []rpmSpec{
				{"htop", "3.3.0-1.el9", "x86_64", "Fedora Project"}, {"btop", "1.3.0-1.el9", "x86_64", "Fedora Project"}}},
			{id: "testing", opts: "enabled=0", pkgs: []rpmSpec{rocky("bash", "6.0-1.el9", "x86_64")}},
		},
	}
	root := sc.build(t)
	up := dnfUpgrades(t, root)
	t.Logf("dnf list --upgrades: %v", up)

	check := func(t *testing.T, items []api.Item) {
		t.Helper()
		if len(items) != len(sc.installed) {
			t.Fatalf("%d rpm items, want %d", len(items), len(sc.installed))
		}
		for _, it := range items {
			want, repo := it.Version, ""
			if u, ok := up[it.Name]; ok {
				want, repo = u[0], u[1]
			}
			if it.Candidate != want || it.CandidateSuite != repo {
				t.Errorf("%s %s: candidate %q from %q, dnf upgrade installs %q from %q", it.Name, it.Version, it.Candidate, it.CandidateSuite, want, repo)
			}
			if repo != "" && it.CandidateOrigin == "" {
				t.Errorf("%s: no candidate origin (the candidate's vendor)", it.Name)
			}
		}
	}
	items, err := rpmItems(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, items)
	byName := map[string]api.Item{}
	for _, it := range items {
		byName[it.Name] = it
	}
	// Worked cases, spelled out (dnf agreed with each above).
	for _, tc := range []struct{ name, origin, suite, cand string }{
		{"bash", "rocky enterprise software foundation", "baseos", "5.1.8-9.el9"},
		{"openssl", "rocky enterprise software foundation", "", "1:3.0.7-27.el9"},
		{"curl", "rocky enterprise software foundation", "vendor", "7.76.1-26.el9"}, // priority=10 wins over a newer baseos
		{"tzdata", "rocky enterprise software foundation", "", "2024a-1.el9"},       // excludepkgs
		{"btop", "fedora project", "", "1.2.13-1.el9"},                              // not in includepkgs
		{"mytool", "example corp", "", "1.0-1"},
		{"nginx", "rocky enterprise software foundation", "", "1:1.20.1-14.module+el8.9.0+4+aaaa"},  // enabled stream 1.20, not 1.22
		{"postgresql", "rocky enterprise software foundation", "", "13.14-1.module+el8.9.0+6+bbbb"}, // default stream 13
		{"nodejs", "rocky enterprise software foundation", "", "1:18.19.0-1.module+el8.9.0+8+cccc"},
		{"perl-DBI", "rocky enterprise software foundation", "", "1.641-4.el8"}, // an inactive stream's name is not hidden
	} {
		it := byName[tc.name]
		if it.Origin != tc.origin || it.Suite != tc.suite || it.Candidate != tc.cand {
			t.Errorf("%s = origin %q suite %q candidate %q, want %q %q %q", tc.name, it.Origin, it.Suite, it.Candidate, tc.origin, tc.suite, tc.cand)
		}
	}

	// The same metadata as Fedora's dnf keeps it (zchunk) and as zstd: the
	// answers do not change.
	cache, _ := filepath.Glob(filepath.Join(root, "var/cache/dnf/baseos-*/repodata"))
	if len(cache) != 1 {
		t.Fatalf("baseos cache: %v", cache)
	}
	recompress(t, cache[0], ".zst")
	cache, _ = filepath.Glob(filepath.Join(root, "var/cache/dnf/appstream-*/repodata"))
	recompress(t, cache[0], ".zck")
	items, err = rpmItems(t, root, "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, items)
}

// recompress replaces a cached primary.xml.* with the same document in
// another format and points repomd.xml at it.
func recompress(t *testing.T, repodata, ext string) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(repodata, "*-primary.xml.*"))
	if len(old) != 1 {
		t.Fatalf("primary in %s: %v", repodata, old)
	}
	f, err := os.Open(old[0])
	if err != nil {
		t.Fatal(err)
	}
	_, oext := splitCompression(old[0])
	r, done, err := decompressor(f, oext)
	if err != nil {
		t.Fatal(err)
	}
	xmlDoc, err := io.ReadAll(r)
	done()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	base := strings.TrimSuffix(old[0], oext)
	var out []byte
	switch ext {
	case ".zst":
		enc, _ := zstd.NewWriter(nil)
		out = enc.EncodeAll(xmlDoc, nil)
	case ".zck":
		zck := needTool(t, "zck")
		plain := filepath.Join(t.TempDir(), "primary.xml")
		os.WriteFile(plain, xmlDoc, 0o644)
		if b, err := exec.Command(zck, "-o", plain+".zck", plain).CombinedOutput(); err != nil {
			t.Fatalf("zck: %v\n%s", err, b)
		}
		out, _ = os.ReadFile(plain + ".zck")
	}
	os.Remove(old[0])
	os.WriteFile(base+ext, out, 0o644)
	md := filepath.Join(repodata, "repomd.xml")
	b, _ := os.ReadFile(md)
	typ := "primary"
	if ext == ".zck" {
		// dnf with zchunk keeps primary_zck and not primary.
		b = bytes.Replace(b, []byte(`<data type="primary">`), []byte(`<data type="primary_zck">`), 1)
		typ = "primary_zck"
	}
	b = bytes.Replace(b, []byte(filepath.Base(old[0])), []byte(filepath.Base(base+ext)), 1)
	os.WriteFile(md, b, 0o644)
	if !bytes.Contains(b, []byte(typ)) {
		t.Fatalf("repomd.xml lost its %s entry", typ)
	}
}

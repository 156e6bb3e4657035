package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// aptCachePolicy runs the real apt-cache policy for pkgs against root (a
// fixture tree, or "/" for this machine) and returns each package's
// candidate and whether a configured repository offers its installed
// version ("(none)" becomes "").
func aptCachePolicy(t *testing.T, root string, pkgs []string) (cand map[string]string, offered map[string]bool) {
	t.Helper()
	bin := needTool(t, "apt-cache")
	// apt builds its cache in memory (no pkgcache.bin: on a shared machine
	// another apt run may be rewriting it).
	tmp := t.TempDir()
	conf := fmt.Sprintf("Dir::Cache \"%s/\";\nDir::Cache::pkgcache \"\";\nDir::Cache::srcpkgcache \"\";\n", tmp)
	if root != "/" {
		abs, _ := filepath.Abs(root)
		conf += fmt.Sprintf(`Dir "%s/";
Dir::State::status "%s/var/lib/dpkg/status";
Dir::Log "%s/log";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
`, abs, abs, tmp)
	}
	os.WriteFile(filepath.Join(tmp, "apt.conf"), []byte(conf), 0o644)
	var out []byte
	var err error
	for range 3 { // apt or dpkg may be busy on a shared machine
		cmd := exec.Command(bin, append([]string{"policy"}, pkgs...)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C", "APT_CONFIG="+filepath.Join(tmp, "apt.conf"))
		if out, err = cmd.CombinedOutput(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("apt-cache policy: %v\n%s", err, out)
	}
	cand, offered = map[string]string{}, map[string]bool{}
	cur, inInstalled := "", false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l != "" && l[0] != ' ' && strings.HasSuffix(l, ":"):
			cur, inInstalled = strings.TrimSuffix(l, ":"), false
		case strings.HasPrefix(l, "  Candidate: "):
			c := strings.TrimPrefix(l, "  Candidate: ")
			if c == "(none)" {
				c = ""
			}
			cand[cur] = c
		case strings.HasPrefix(l, " *** "):
			inInstalled = true
		case strings.HasPrefix(l, "     ") && len(l) > 5 && l[5] != ' ': // another version
			inInstalled = false
		case inInstalled && strings.HasPrefix(l, "        ") && !strings.Contains(l, "/var/lib/dpkg/status"):
			offered[cur] = true
		}
	}
	return cand, offered
}

// aptName is how apt-cache policy names an installed package.
func aptName(it api.Item, native string) string {
	if it.Arch == "" || it.Arch == "all" || it.Arch == native {
		return it.Name
	}
	return it.Name + ":" + it.Arch
}

// TestAptFixturesAgreeWithApt checks the fixtures' expectations against
// the real apt: what the tests expect is what apt says.
func TestAptFixturesAgreeWithApt(t *testing.T) {
	for _, root := range []string{"testdata/debian-apt", "testdata/ubuntu-apt"} {
		t.Run(root, func(t *testing.T) {
			items, err := fixtureItems(t, root, "")
			if err != nil {
				t.Fatal(err)
			}
			compareWithApt(t, root, items, "amd64")
		})
	}
}

func compareWithApt(t *testing.T, root string, items []api.Item, native string) {
	t.Helper()
	for _, d := range diffWithApt(t, root, items, native) {
		t.Error(d)
	}
}

// diffWithApt lists where the items disagree with apt-cache policy.
func diffWithApt(t *testing.T, root string, items []api.Item, native string) []string {
	t.Helper()
	var names []string
	for _, it := range items {
		names = append(names, aptName(it, native))
	}
	cand, offered := aptCachePolicy(t, root, names)
	var diffs []string
	for _, it := range items {
		n := aptName(it, native)
		want, ok := cand[n]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("apt-cache policy said nothing about %s", n))
			continue
		}
		if it.Candidate != want {
			diffs = append(diffs, fmt.Sprintf("%s %s: candidate %q, apt-cache policy says %q", n, it.Version, it.Candidate, want))
		}
		if (it.Origin != "") != offered[n] {
			diffs = append(diffs, fmt.Sprintf("%s %s: origin %q, but whether apt-cache policy has a configured repository offering the installed version: %v", n, it.Version, it.Origin, offered[n]))
		}
		if len(diffs) > 20 {
			break
		}
	}
	return diffs
}

// againstThisMachine collects this machine's dpkg items with collect and
// compares them with apt-cache policy, again when they differ: another
// engineer's apt-get may change the machine between the two reads.
func againstThisMachine(t *testing.T, collect func() []api.Item) []api.Item {
	t.Helper()
	var items []api.Item
	var diffs []string
	for attempt := range 3 {
		items = collect()
		if diffs = diffWithApt(t, "/", items, dpkgNativeArch(items)); len(diffs) == 0 {
			return items
		}
		t.Logf("attempt %d: %d differences with apt-cache policy; again", attempt+1, len(diffs))
		time.Sleep(3 * time.Second)
	}
	for _, d := range diffs {
		t.Error(d)
	}
	return items
}

// TestAptThisMachine compares every installed package's candidate (and
// whether a repository offers the installed version) with apt-cache policy
// on this machine's real dpkg database and apt lists.
func TestAptThisMachine(t *testing.T) {
	if _, err := os.Stat(dpkgStatusPath); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	if !hasAptLists() {
		if os.Getenv("CI") == "true" {
			t.Fatal("no apt lists in /var/lib/apt/lists (run make deps, which runs apt-get update)")
		}
		t.Skip("no apt lists in /var/lib/apt/lists: run make deps (it runs apt-get update)")
	}
	items := againstThisMachine(t, func() []api.Item {
		env, _ := (&Env{}).withFacts()
		items, err := dpkgCollector{}.Collect(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		return items
	})
	withOrigin := 0
	for _, it := range items {
		if it.Origin != "" {
			withOrigin++
		}
	}
	t.Logf("%d installed packages compared with apt-cache policy; %d offered by a configured repository", len(items), withOrigin)
}

// hasAptLists reports whether this machine has apt Packages lists.
func hasAptLists() bool {
	ents, _ := os.ReadDir(aptListsDir)
	for _, e := range ents {
		if strings.Contains(e.Name(), "_Packages") {
			return true
		}
	}
	return false
}

// aptScenario is a small apt configuration built in a temporary root, to
// compare the agent's policy with the real apt's on one situation.
type aptScenario struct {
	name     string
	status   []string // "name version [arch [source]]"
	repos    []aptFxRepo
	prefs    string
	aptConf  string
	checkPkg []string // packages to compare (default: every installed one)
}

type aptFxRepo struct {
	uri, suite string
	release    string   // Release header fields
	pkgs       []string // "name version [arch [source]]"
}

func (sc aptScenario) build(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(p, s string) {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stanza := func(spec string, status bool) string {
		f := strings.Fields(spec)
		arch, src := "amd64", ""
		if len(f) > 2 {
			arch = f[2]
		}
		if len(f) > 3 {
			src = "Source: " + f[3] + "\n"
		}
		st := ""
		if status {
			st = "Status: install ok installed\n"
		}
		return fmt.Sprintf("Package: %s\n%sArchitecture: %s\n%sVersion: %s\nDescription: %s\n\n", f[0], st, arch, src, f[1], f[0])
	}
	var status strings.Builder
	status.WriteString(stanza("dpkg 1.21.22", true))
	for _, s := range sc.status {
		status.WriteString(stanza(s, true))
	}
	write("var/lib/dpkg/status", status.String())
	var sources strings.Builder
	for _, r := range sc.repos {
		fmt.Fprintf(&sources, "deb [trusted=yes] %s %s main\n", r.uri, r.suite)
		src := aptSource{URI: r.uri + "/", Suite: r.suite, Components: []string{"main"}}
		var pk strings.Builder
		for _, p := range r.pkgs {
			pk.WriteString(stanza(p, false))
		}
		write("var/lib/apt/lists/"+aptURIToFileName(aptMetaIndexURI(src.URI, src.Suite, "main/binary-amd64/Packages")), pk.String())
		write("var/lib/apt/lists/"+aptURIToFileName(aptMetaIndexURI(src.URI, src.Suite, "Release")), r.release+"\nComponents: main\nArchitectures: amd64\n")
	}
	write("etc/apt/sources.list", sources.String())
	if sc.prefs != "" {
		write("etc/apt/preferences.d/test", sc.prefs)
	}
	if sc.aptConf != "" {
		write("etc/apt/apt.conf.d/50test", sc.aptConf)
	}
	return root
}

// TestAptPolicyAgainstApt runs apt's pinning rules (apt_preferences(5)) on
// small scenarios through the real apt-cache and the agent, and wants the
// same candidate for every package.
func TestAptPolicyAgainstApt(t *testing.T) {
	stable := aptFxRepo{uri: "http://deb.example.org/debian", suite: "bookworm",
		release: "Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\nVersion: 12.8",
		pkgs:    []string{"a 1.1-1", "b 2.0-1", "c 1.0-1", "libfoo1 2.0-1 amd64 foo", "libfoo-data 2.0-1 all foo", "d 1.0-1", "e 3.0-1"}}
	security := aptFxRepo{uri: "http://security.example.org/debian-security", suite: "bookworm-security",
		release: "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\nVersion: 12",
		pkgs:    []string{"a 1.2-1", "c 1.0-2"}}
	testing_ := aptFxRepo{uri: "http://deb.example.org/debian", suite: "trixie",
		release: "Origin: Debian\nLabel: Debian\nSuite: testing\nCodename: trixie",
		pkgs:    []string{"a 2.0-1", "b 3.0-1", "d 2.0-1", "libfoo1 3.0-1 amd64 foo", "libfoo-data 3.0-1 all foo"}}
	experimental := aptFxRepo{uri: "http://deb.example.org/debian", suite: "experimental",
		release: "Origin: Debian\nLabel: Debian\nSuite: experimental\nCodename: rc-buggy\nNotAutomatic: yes",
		pkgs:    []string{"a 9.0-1", "c 9.0-1"}}
	backports := aptFxRepo{uri: "http://deb.example.org/debian", suite: "bookworm-backports",
		release: "Origin: Debian Backports\nLabel: Debian Backports\nSuite: stable-backports\nCodename: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes",
		pkgs:    []string{"c 5.0-1~bpo12+1", "d 5.0-1~bpo12+1", "e 4.0-1~bpo12+2"}}
	vendor := aptFxRepo{uri: "https://repo.vendor.example/apt", suite: "stable",
		release: "Origin: Vendor Inc\nLabel: Vendor\nSuite: stable\nCodename: stable",
		pkgs:    []string{"a 1.0-1vendor", "b 2.5-1vendor", "d 0.9-1vendor"}}
	installed := []string{"a 1.1-1", "b 2.0-1", "c 1.0-1", "d 1.0-1", "e 4.0-1~bpo12+1", "libfoo1 2.0-1 amd64 foo", "libfoo-data 2.0-1 all foo", "hand 1.0"}
	all := []aptFxRepo{stable, security, testing_, experimental, backports, vendor}
	scenarios := []aptScenario{
		{name: "defaults", repos: all},
		{name: "default release", repos: all, aptConf: `APT::Default-Release "bookworm";`},
		{name: "default release by archive", repos: all, aptConf: "APT {\n Default-Release \"testing\";\n};\n"},
		{name: "version pin below installed needs 1000", repos: all,
			prefs: "Package: a\nPin: version 1.0*\nPin-Priority: 999\n\nPackage: b\nPin: version 2.5*\nPin-Priority: 1001\n"},
		{name: "downgrade with 1001", repos: all, prefs: "Package: a\nPin: release o=Vendor Inc\nPin-Priority: 1001\n"},
		{name: "origin pin", repos: all, prefs: "Package: *\nPin: origin repo.vendor.example\nPin-Priority: 900\n"},
		{name: "never", repos: all, prefs: "Package: *\nPin: release n=trixie\nPin-Priority: 990\n\nPackage: *\nPin: release a=testing\nPin-Priority: never\n"},
		{name: "general pins first wins", repos: all, prefs: "Package: *\nPin: release l=Debian\nPin-Priority: 50\n\nPackage: *\nPin: release o=Debian\nPin-Priority: 900\n"},
		{name: "specific beats general", repos: all,
			prefs: "Package: d\nPin: release n=trixie\nPin-Priority: 800\n\nPackage: *\nPin: release n=trixie\nPin-Priority: 100\n"},
		{name: "source pin", repos: all,
			prefs: "Package: *\nPin: release n=trixie\nPin-Priority: 100\n\nPackage: src:foo\nPin: release n=trixie\nPin-Priority: 700\n"},
		{name: "glob and regex names", repos: all,
			prefs: "Package: lib*\nPin: release a=testing\nPin-Priority: 600\n\nPackage: /^[bd]$/\nPin: release a=testing\nPin-Priority: 600\n"},
		{name: "negative pin", repos: all, prefs: "Package: c\nPin: version *\nPin-Priority: -1\n"},
		{name: "experimental pinned up", repos: all, prefs: "Package: *\nPin: release a=experimental\nPin-Priority: 500\n"},
		{name: "backports everywhere", repos: all, prefs: "Package: *\nPin: release n=bookworm-backports\nPin-Priority: 500\n"},
		{name: "status file pinned", repos: all, prefs: "Package: *\nPin: release a=now\nPin-Priority: 1001\n"},
		{name: "codename globs", repos: all, prefs: "Package: *\nPin: release n=bookworm*\nPin-Priority: 990\n"},
		{name: "version pin regex", repos: all, prefs: "Package: b\nPin: version /^3\\./\nPin-Priority: 600\n"},
		{name: "component and label", repos: all, prefs: "Package: *\nPin: release c=main,l=Debian-Security\nPin-Priority: 50\n"},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			sc.status = installed
			root := sc.build(t)
			items, err := fixtureItems(t, root, "")
			if err != nil {
				t.Fatal(err)
			}
			compareWithApt(t, root, items, "amd64")
			if t.Failed() || testing.Verbose() {
				b, _ := os.ReadFile(filepath.Join(root, "etc/apt/preferences.d/test"))
				var got []string
				for _, it := range items {
					got = append(got, it.Name+"="+it.Candidate)
				}
				sort.Strings(got)
				t.Logf("preferences:\n%s\nagent: %v", b, got)
			}
		})
	}
}

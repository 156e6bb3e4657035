package agent

import (
	"bytes"
	"compress/gzip"
	"context"

	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"

	"github.com/eolwatch/eolwatch/server/api"
)

func TestCompareDebVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.0-0", 0},
		{"1.0-1", "1.0-2", -1},
		{"1:1.0", "2.0", 1},
		{"0:1.0", "1.0", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0", "1.0+b1", -1},
		{"1.0a", "1.0", 1},
		{"1.0a", "1.0+", -1}, // letters sort before non-letters
		{"7.88.1-10+deb12u12", "7.88.1-10+deb12u14", -1},
		{"7.88.1-10+deb12u9", "7.88.1-10+deb12u10", -1},
		{"3.0.17-1~deb12u2", "3.0.17-1~deb12u3", -1},
		{"3.0.2-0ubuntu1.15", "3.0.2-0ubuntu1.19", -1},
		{"20.20.2-1nodesource1", "18.20.4+dfsg-1~deb12u1", 1},
		{"8:6.9.11.60+dfsg-1.3ubuntu0.22.04.5+esm1", "8:6.9.11.60+dfsg-1.3ubuntu0.22.04.3", 1},
		{"2.36-9+deb12u13", "2.36-9+deb12u9", 1},
		{"1.00", "1.0", 0},
		{"10", "9", 1},
		{"1.2.3-1", "1.2.3-1ubuntu1", -1},
		{"99999999999999999999", "99999999999999999998", 1},
		{"x:1.0", "1.0", 0}, // a malformed epoch counts as 0
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := compareDebVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("compareDebVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := compareDebVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("compareDebVersions(%q, %q) = %d, want %d (swapped)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestAptURIToFileName(t *testing.T) {
	tests := []struct{ uri, suite, typ, want string }{
		{"http://deb.debian.org/debian/", "bookworm", "InRelease", "deb.debian.org_debian_dists_bookworm_InRelease"},
		{"http://deb.debian.org/debian-security/", "bookworm-security", "main/binary-amd64/Packages",
			"deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages"},
		{"https://deb.nodesource.com/node_20.x/", "nodistro", "InRelease", "deb.nodesource.com_node%5f20.x_dists_nodistro_InRelease"},
		{"https://user:secret@repo.example.com:8443/apt/", "stable", "Release", "repo.example.com:8443_apt_dists_stable_Release"},
		{"file:/srv/repo/", "./", "Packages", "_srv_repo_._Packages"},
		{"file:///srv/repo/", "/", "Packages", "_srv_repo_Packages"},
		{"https://apt.example.com/", "stable/", "InRelease", "apt.example.com_stable_InRelease"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := aptURIToFileName(aptMetaIndexURI(tt.uri, tt.suite, tt.typ)); got != tt.want {
				t.Errorf("list name of %s %s %s = %q, want %q", tt.uri, tt.suite, tt.typ, got, tt.want)
			}
		})
	}
}

func TestParseSources(t *testing.T) {
	list := `# comment
deb http://deb.debian.org/debian bookworm main contrib # trailing comment
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] https://apt.example.com/repo stable main
deb [ trusted=yes ] file:/srv/local ./
deb cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1 with firmware 20240210-11:28]/ bookworm contrib main
deb "http://deb.example.org/quoted path" stable main
`
	got, err := parseSourcesList(strings.NewReader(list), "sources.list")
	if err != nil {
		t.Fatal(err)
	}
	want := []aptSource{
		{URI: "http://deb.debian.org/debian/", Suite: "bookworm", Components: []string{"main", "contrib"}, Where: "sources.list:2"},
		{URI: "https://apt.example.com/repo/", Suite: "stable", Components: []string{"main"}, Where: "sources.list:4"},
		{URI: "file:/srv/local/", Suite: "./", Components: []string{}, Where: "sources.list:5"},
		{URI: "cdrom:[Debian GNU/Linux 12.5.0 _Bookworm_ - Official amd64 DVD Binary-1 with firmware 20240210-11:28]/", Suite: "bookworm",
			Components: []string{"contrib", "main"}, Where: "sources.list:6"},
		{URI: "http://deb.example.org/quoted path/", Suite: "stable", Components: []string{"main"}, Where: "sources.list:7"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("one-line sources:\n got %+v\nwant %+v", got, want)
	}
	deb822 := `Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

# disabled
Types: deb
URIs: http://example.com/x
Suites: x
Components: main
Enabled: no

Types: deb-src
URIs: http://example.com/src
Suites: y
Components: main
`
	got, err = parseSourcesDeb822(strings.NewReader(deb822), "debian.sources")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Suite != "bookworm" || got[1].Suite != "bookworm-updates" || got[1].Where != "debian.sources:1" {
		t.Errorf("deb822 sources = %+v", got)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"no suite", "deb http://x/\n", "sources.list:1: want a URI and a suite"},
		{"no component", "deb http://x/ stable\n", "sources.list:1: no component"},
		{"flat with component", "deb http://x/ ./ main\n", "takes no components"},
		{"unknown type", "rpm http://x/ stable main\n", `unknown type "rpm"`},
		{"no scheme", "deb /srv/x stable main\n", "has no scheme"},
		{"unclosed options", "deb [arch=amd64 http://x/ stable main\n", "closing ]"},
		{"unclosed quote", "deb \"http://x/ stable main\n", "unbalanced quote"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseSourcesList(strings.NewReader(tc.in), "sources.list"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseSourcesList(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
	if _, err := parseSourcesDeb822(strings.NewReader("Types: deb\nSuites: x\n"), "a.sources"); err == nil || !strings.Contains(err.Error(), "a.sources:1: stanza without URIs") {
		t.Errorf("deb822 without URIs: %v", err)
	}
}

func TestParseRelease(t *testing.T) {
	b, err := os.ReadFile("testdata/debian-apt/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := parseRelease(bytes.NewReader(b), true)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Origin != "Debian" || rel.Label != "Debian-Security" || rel.Suite != "oldstable-security" || rel.Codename != "bookworm-security" ||
		rel.Version != "12" || !rel.Date.Equal(time.Date(2025, 12, 2, 18, 7, 11, 0, time.UTC)) || rel.NotAutomatic {
		t.Errorf("InRelease header = %+v", rel)
	}
	if rel.Sizes["main/binary-amd64/Packages"] <= 0 || len(rel.Sizes) != 1 {
		t.Errorf("sizes = %v, want the uncompressed Packages only", rel.Sizes)
	}
	head, err := parseRelease(bytes.NewReader(b), false)
	if err != nil || head.Sizes != nil || head.Codename != "bookworm-security" {
		t.Errorf("header only = %+v, %v", head, err)
	}
	bp, err := parseRelease(strings.NewReader("Origin: Ubuntu\nSuite: jammy-backports\nCodename: jammy\nDate: Thu, 4 Jan 2024 09:00:00 +0000\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n"), false)
	if err != nil || !bp.NotAutomatic || !bp.ButAutomaticUpgrades || bp.Date.Day() != 4 {
		t.Errorf("backports Release = %+v, %v", bp, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"bad date", "Origin: x\nDate: yesterday\n", `line 2: Date "yesterday"`},
		{"no colon", "Origin: x\ngarbage\n", "line 2:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseRelease(strings.NewReader(tc.in), false); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseRelease(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

// packagesText builds a Packages list of n stanzas, each with a long
// description, so a scan crosses the reader's buffer many times.
func packagesText(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "Package: pkg%d\nVersion: 1.%d-1\nArchitecture: amd64\n", i, i)
		if i%3 == 0 {
			fmt.Fprintf(&b, "Source: src%d (1.%d-0)\n", i/3, i)
		}
		b.WriteString("Description: a package\n " + strings.Repeat("long description text ", 40) + "\n .\n more\n")
		b.WriteString("SHA256: 0123456789abcdef\n\n")
	}
	return b.Bytes()
}

func TestScanPackages(t *testing.T) {
	data := packagesText(3000) // ~3 MB: many buffer refills and stanzas cut at buffer ends
	wanted := map[string]bool{"pkg0": true, "pkg1": true, "pkg1500": true, "pkg2999": true, "absent": true}
	var got []string
	n, err := scanPackages(bytes.NewReader(data), func(b []byte) bool { return wanted[string(b)] }, func(st *pkgStanza) {
		got = append(got, fmt.Sprintf("%s %s %s %s", st.Name, st.Version, st.Arch, st.Source))
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pkg0 1.0-1 amd64 src0", "pkg1 1.1-1 amd64 pkg1", "pkg1500 1.1500-1 amd64 src500", "pkg2999 1.2999-1 amd64 pkg2999"}
	if !reflect.DeepEqual(got, want) || n != int64(len(data)) {
		t.Errorf("scan = %q (%d bytes), want %q (%d bytes)", got, n, want, len(data))
	}
	all := func([]byte) bool { return true }
	for _, tc := range []struct{ name, in, want string }{
		{"no version", "Package: a\nVersion: 1\n\nPackage: b\nArchitecture: all\n\n", `line 4: package "b" has no Version`},
		{"no package", "Package: a\nVersion: 1\n\nVersion: 2\nArchitecture: all\n", "line 4: stanza without a Package field"},
		{"empty package", "Package:\nVersion: 1\n", "empty Package"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scanPackages(strings.NewReader(tc.in), all, func(*pkgStanza) {})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("scanPackages(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
	// A Package field that is not first, and no trailing newline.
	var names []string
	if _, err := scanPackages(strings.NewReader("Version: 2\nPackage: late\nArchitecture: all"), all, func(st *pkgStanza) {
		names = append(names, string(st.Name)+" "+string(st.Version))
	}); err != nil || len(names) != 1 || names[0] != "late 2" {
		t.Errorf("late Package field: %q, %v", names, err)
	}
	// A stanza larger than the bound.
	huge := "Package: big\nVersion: 1\nDescription: x\n" + strings.Repeat(" "+strings.Repeat("y", 1000)+"\n", 9000)
	if _, err := scanPackages(strings.NewReader(huge), all, func(*pkgStanza) {}); err == nil || !strings.Contains(err.Error(), "stanza larger than") {
		t.Errorf("huge stanza: %v", err)
	}
}

// compress returns data compressed with ext's format (the libraries the
// agent reads with also write).
func compress(t testing.TB, data []byte, ext string) []byte {
	t.Helper()
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	switch ext {
	case "":
		return data
	case ".gz":
		w = gzip.NewWriter(&b)
	case ".lz4":
		w = lz4.NewWriter(&b)
	case ".xz":
		w, err = xz.NewWriter(&b)
	case ".zst":
		w, err = zstd.NewWriter(&b)
	default:
		t.Fatalf("no writer for %q", ext)
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDecompressors(t *testing.T) {
	data := packagesText(200)
	want := map[string]bool{"pkg7": true}
	for _, ext := range []string{"", ".gz", ".lz4", ".xz", ".zst"} {
		t.Run("ext"+ext, func(t *testing.T) {
			z := compress(t, data, ext)
			scan := func(b []byte) (int64, int, error) {
				r, done, err := decompressor(bytes.NewReader(b), ext)
				if err != nil {
					return 0, 0, err
				}
				defer done()
				found := 0
				n, err := scanPackages(r, func(b []byte) bool { return want[string(b)] }, func(*pkgStanza) { found++ })
				return n, found, err
			}
			n, found, err := scan(z)
			if err != nil || found != 1 || n != int64(len(data)) {
				t.Fatalf("whole: %d bytes, %d found, %v", n, found, err)
			}
			if ext == "" {
				return
			}
			// Cut in the middle: the decompressor must say so.
			if _, _, err := scan(z[:len(z)/2]); err == nil {
				t.Errorf("truncated %s list read without an error", ext)
			}
		})
	}
	if _, _, err := decompressor(strings.NewReader(""), ".rar"); err == nil || !strings.Contains(err.Error(), "unknown compression") {
		t.Errorf("unknown compression: %v", err)
	}
	for _, n := range []string{"a_Packages.lz4", "a_Packages", "a_Packages.zst"} {
		base, ext := splitCompression(n)
		if base != "a_Packages" || base+ext != n {
			t.Errorf("splitCompression(%q) = %q, %q", n, base, ext)
		}
	}
}

func TestAptConfLookup(t *testing.T) {
	tests := []struct {
		name, conf, want string
		found            bool
	}{
		{"flat", `APT::Default-Release "bookworm";`, "bookworm", true},
		{"scoped", "APT {\n  Default-Release \"trixie\"; // comment\n};", "trixie", true},
		{"case", `apt::default-release "x";`, "x", true},
		{"last wins", "APT::Default-Release \"a\";\n/* block\n comment */ APT::Default-Release \"b\";", "b", true},
		{"hash comment", "# APT::Default-Release \"a\";\nAcquire::GzipIndexes \"true\";", "", false},
		{"list", "APT::NeverAutoRemove { \"^linux.*\"; \"^x\"; };", "", false},
		{"other key", `APT::Default-Releases "x";`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := aptConfLookup(tt.conf, "APT::Default-Release")
			if err != nil || got != tt.want || found != tt.found {
				t.Errorf("aptConfLookup(%q) = %q, %v, %v; want %q, %v", tt.conf, got, found, err, tt.want, tt.found)
			}
		})
	}
	for _, bad := range []string{"APT { X \"y\";", "A \"unterminated;", "}", "/* open"} {
		if _, _, err := aptConfLookup(bad, "APT::X"); err == nil {
			t.Errorf("aptConfLookup(%q): no error", bad)
		}
	}
}

func TestParsePreferences(t *testing.T) {
	in := `# comment
Package: nodejs
Pin: origin deb.nodesource.com
Pin-Priority: 600

Explanation: a general pin
Package: *
Pin: release o=Debian,a=stable*
Pin-Priority: never

Package: a b*
Pin: version 1.2*
Pin-Priority: 1001

Package: c
Pin: weird thing
Pin-Priority: 5

Package: d
Pin-Priority: 5
`
	pins, err := parsePreferences(strings.NewReader(in), "prefs")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pins {
		got = append(got, fmt.Sprintf("%s|%s|%s|%d", p.Pkg, p.Type, p.Data, p.Priority))
	}
	want := []string{"nodejs|origin|deb.nodesource.com|600", "|release|o=Debian,a=stable*|-32768", "a|version|1.2*|1001", "b*|version|1.2*|1001"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pins = %q, want %q", got, want)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"no package", "Pin: version 1\nPin-Priority: 5\n", "prefs:1: record without a Package field"},
		{"zero", "Package: a\nPin: version 1\nPin-Priority: 0\n", "no priority"},
		{"not a number", "Package: a\nPin: version 1\nPin-Priority: high\n", `Pin-Priority "high"`},
		{"never for one package", "Package: a\nPin: version 1\nPin-Priority: never\n", "only for Package: *"},
		{"out of range", "Package: a\nPin: version 1\nPin-Priority: 99999\n", "is not a number from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parsePreferences(strings.NewReader(tc.in), "prefs"); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parsePreferences(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"lib*", "libssl3", true}, {"lib*", "glibc", false}, {"1.2*", "1.2.3-1", true},
		{"?pt", "apt", true}, {"[a-c]*", "bash", true}, {"[!a-c]*", "bash", false}, {"a\\*", "a*", true},
		{"*-security", "bookworm-security", true}, {"*-security", "bookworm", false}, {"a*b*c", "aXbYc", true},
		{"a*b*c", "aXbY", false}, {"[", "[", true}, {"stable*", "stable-updates", true},
	}
	for _, tt := range tests {
		t.Run(tt.p+" on "+tt.s, func(t *testing.T) {
			if got := globMatch(tt.p, tt.s); got != tt.want {
				t.Errorf("globMatch(%q, %q) = %v, want %v", tt.p, tt.s, got, tt.want)
			}
		})
	}
	if !aptExprMatch("/^Deb/", "debian") || aptExprMatch("/^x/", "debian") || !aptExprMatch("DEB*", "debian") {
		t.Error("aptExprMatch: regex or case-insensitive glob")
	}
}

// fixtureItems runs the dpkg collector on a fixture root.
func fixtureItems(t *testing.T, root, cacheDir string) ([]api.Item, error) {
	t.Helper()
	env, _ := (&Env{Root: root, CacheDir: cacheDir}).withFacts()
	items, err := dpkgCollector{}.Collect(context.Background(), env)
	SortItems(items)
	return items, err
}

type repoView struct{ Name, Version, Origin, Suite, Candidate, CandOrigin, CandSuite string }

func viewOf(items []api.Item) []repoView {
	var v []repoView
	for _, it := range items {
		v = append(v, repoView{it.Name, it.Version, it.Origin, it.Suite, it.Candidate, it.CandidateOrigin, it.CandidateSuite})
	}
	return v
}

// debianFixtureWant is what the debian-apt fixture must give (checked
// against apt-cache policy by TestAptFixturesAgreeWithApt).
var debianFixtureWant = []repoView{
	{"base-files", "12.4+deb12u12", "", "", "12.4+deb12u13", "debian", "bookworm"},
	{"bash", "5.2.15-2+b8", "debian", "bookworm", "5.2.15-2+b8", "", ""},
	{"curl", "7.88.1-10+deb12u12", "debian", "bookworm", "7.88.1-10+deb12u14", "debian", "bookworm-security"},
	{"dpkg", "1.21.22", "debian", "bookworm", "1.21.22", "", ""},
	// From a repository since removed (its list is left behind): no origin.
	{"google-cloud-cli", "500.0.0-0", "", "", "500.0.0-0", "", ""},
	{"libc6", "2.36-9+deb12u13", "debian", "bookworm", "2.36-9+deb12u13", "", ""},
	// Superseded: the archive no longer offers the installed version.
	{"libssl3", "3.0.15-1~deb12u1", "", "", "3.0.17-1~deb12u2", "debian", "bookworm-security"},
	{"mytool", "1.2.3", "", "", "1.2.3", "", ""}, // dpkg -i
	// The vendor repository, pinned to 600 over Debian's nodejs.
	{"nodejs", "20.19.5-1nodesource1", ". nodistro", "nodistro", "20.20.2-1nodesource1", ". nodistro", "nodistro"},
	{"openssl", "3.0.17-1~deb12u2", "debian", "bookworm-security", "3.0.17-1~deb12u2", "", ""},
	// Rebuilt locally with the archive's version (another Installed-Size):
	// apt's version hash says no repository offers this build.
	{"sed", "4.9-1", "", "", "4.9-1", "", ""},
	{"tzdata", "2025b-0+deb12u1", "debian", "bookworm", "2025b-0+deb12u2", "debian", "bookworm-updates"},
}

var ubuntuFixtureWant = []repoView{
	{"cockpit", "264-1", "ubuntu", "jammy", "264-1", "", ""}, // backports (NotAutomatic) do not replace it
	{"cockpit-ws", "300-1~ubuntu22.04.1", "ubuntu", "jammy-backports", "310-1~ubuntu22.04.1", "ubuntu", "jammy-backports"},
	{"dpkg", "1.21.1ubuntu2.3", "ubuntu", "jammy-updates", "1.21.1ubuntu2.3", "", ""},
	{"hello", "2.10-2ubuntu4", "ubuntu", "jammy", "2.10-2ubuntu4", "", ""},
	{"imagemagick", "8:6.9.11.60+dfsg-1.3ubuntu0.22.04.3", "", "", "8:6.9.11.60+dfsg-1.3ubuntu0.22.04.5+esm1", "ubuntuesmapps", "jammy-apps-security"},
	{"openssl", "3.0.2-0ubuntu1.15", "", "", "3.0.2-0ubuntu1.19", "ubuntu", "jammy-security"},
	{"python3.10", "3.10.12-1~22.04.3", "", "", "3.10.12-1~22.04.11", "ubuntu", "jammy-security"},
}

func TestDpkgAptFixtures(t *testing.T) {
	for _, tc := range []struct {
		root string
		want []repoView
		date time.Time
	}{
		{"testdata/debian-apt", debianFixtureWant, time.Date(2025, 12, 2, 18, 7, 11, 0, time.UTC)},
		{"testdata/ubuntu-apt", ubuntuFixtureWant, time.Date(2025, 12, 2, 9, 30, 0, 0, time.UTC)},
	} {
		t.Run(tc.root, func(t *testing.T) {
			env, facts := (&Env{Root: tc.root}).withFacts()
			items, err := dpkgCollector{}.Collect(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}
			SortItems(items)
			if got := viewOf(items); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("items:\n got %+v\nwant %+v", got, tc.want)
			}
			if !facts.repoDate.Equal(tc.date) {
				t.Errorf("repository date = %v, want %v (the newest Release Date)", facts.repoDate, tc.date)
			}
		})
	}
}

const securityList = "var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages.lz4"

func TestAptCache(t *testing.T) {
	root := copyTree(t, "testdata/debian-apt")
	cache := t.TempDir()
	items, err := fixtureItems(t, root, cache)
	if err != nil {
		t.Fatal(err)
	}
	cold := viewOf(items)
	if _, err := os.Stat(filepath.Join(cache, aptCacheFile)); err != nil {
		t.Fatalf("no cache after the first run: %v", err)
	}
	// A list replaced by garbage of the same size and time: the warm run
	// must not read it (it uses the cache), so it still agrees.
	p := filepath.Join(root, securityList)
	st, _ := os.Stat(p)
	os.WriteFile(p, bytes.Repeat([]byte("x"), int(st.Size())), 0o644)
	os.Chtimes(p, st.ModTime(), st.ModTime())
	items, err = fixtureItems(t, root, cache)
	if err != nil || !reflect.DeepEqual(viewOf(items), cold) {
		t.Fatalf("warm run = %+v, %v; want the cold run's result", viewOf(items), err)
	}
	// A changed time invalidates it: the garbage is read and reported.
	os.Chtimes(p, st.ModTime().Add(time.Second), st.ModTime().Add(time.Second))
	if _, err := fixtureItems(t, root, cache); err == nil || !strings.Contains(err.Error(), "bookworm-security_main_binary-amd64_Packages.lz4") {
		t.Errorf("after the list changed: %v, want its read error", err)
	}
	// A newly installed package the cache does not cover makes the run parse again.
	root2 := copyTree(t, "testdata/debian-apt")
	cache2 := t.TempDir()
	if _, err := fixtureItems(t, root2, cache2); err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(root2, "var/lib/dpkg/status")
	b, _ := os.ReadFile(status)
	b = append(b, []byte("\nPackage: sudo\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.9.13p3-1+deb12u1\n")...)
	os.WriteFile(status, b, 0o644)
	items, err = fixtureItems(t, root2, cache2)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Name == "sudo" && (it.Candidate == "" || it.CandidateSuite != "bookworm-security") {
			t.Errorf("sudo after install = %+v, want its candidate from bookworm-security (the cache re-built)", it)
		}
	}
	// A damaged cache is ignored.
	os.WriteFile(filepath.Join(cache2, aptCacheFile), []byte(aptCacheMagic+"\nV x y\n"), 0o600)
	if items, err := fixtureItems(t, root2, cache2); err != nil || len(items) != 13 {
		t.Errorf("with a damaged cache: %d items, %v", len(items), err)
	}
	// Without a cache directory nothing is written anywhere.
	if _, err := fixtureItems(t, root2, filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Fatal(err)
	}
}

func TestAptBadInput(t *testing.T) {
	lz4Bad := func(root string) {
		p := filepath.Join(root, securityList)
		b, _ := os.ReadFile(p)
		os.WriteFile(p, b[:len(b)/2], 0o644)
	}
	tests := []struct {
		name   string
		change func(root string)
		want   string
	}{
		{"truncated lz4 list", lz4Bad, "bookworm-security_main_binary-amd64_Packages.lz4"},
		{"corrupt list", func(root string) {
			p := filepath.Join(root, securityList)
			b, _ := os.ReadFile(p)
			for i := 40; i < len(b); i += 7 {
				b[i] ^= 0x5a
			}
			os.WriteFile(p, b, 0o644)
		}, "bookworm-security_main_binary-amd64_Packages.lz4"},
		{"uncompressed list cut short", func(root string) {
			p := filepath.Join(root, securityList)
			r, done, _ := decompressor(bytes.NewReader(must(os.ReadFile(p))), ".lz4")
			b, _ := io.ReadAll(r)
			done()
			os.Remove(p)
			os.WriteFile(strings.TrimSuffix(p, ".lz4"), b[:len(b)-300], 0o644)
		}, "truncated or damaged"},
		{"entry without a version", func(root string) {
			p := filepath.Join(root, securityList)
			os.Remove(p)
			os.WriteFile(strings.TrimSuffix(p, ".lz4"), []byte("Package: curl\nArchitecture: amd64\n\n"), 0o644)
		}, `package "curl" has no Version`},
		{"unknown compression", func(root string) {
			p := filepath.Join(root, securityList)
			os.Rename(p, strings.TrimSuffix(p, ".lz4")+".lzma")
		}, "unknown compression"},
		{"garbage Release", func(root string) {
			os.WriteFile(filepath.Join(root, "var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease"),
				[]byte("Origin: Debian\nDate: someday\n"), 0o644)
		}, `Date "someday"`},
		{"bad preferences", func(root string) {
			os.WriteFile(filepath.Join(root, "etc/apt/preferences.d/broken"), []byte("Pin: version 1\n"), 0o644)
		}, "record without a Package field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, "testdata/debian-apt")
			tt.change(root)
			a, err := New(Config{Root: root, StateDir: t.TempDir(), CollectorTimeout: time.Minute}, newTextLogger(io.Discard, "error"))
			if err != nil {
				t.Fatal(err)
			}
			inv := a.Collect(context.Background())
			var dpkgErrs []string
			for _, e := range inv.Errors {
				if e.Collector == "dpkg" {
					dpkgErrs = append(dpkgErrs, e.Error)
				}
			}
			if len(dpkgErrs) != 1 || !strings.Contains(dpkgErrs[0], tt.want) {
				t.Errorf("collector errors = %q, want one dpkg error containing %q", dpkgErrs, tt.want)
			}
			n := 0
			for _, it := range inv.Items {
				if it.Source != "dpkg" {
					continue
				}
				n++
				if it.Version == "" || it.Candidate != "" {
					t.Errorf("%s: version %q candidate %q, want the version kept and no candidate", it.Name, it.Version, it.Candidate)
				}
			}
			if n != 12 || len(inv.Items) != 13 { // the os item: the run went on
				t.Errorf("%d dpkg items of %d, want 12 of 13", n, len(inv.Items))
			}
		})
	}
	// A list that vanishes between the directory listing and its reading.
	root := copyTree(t, "testdata/debian-apt")
	env := &Env{Root: root}
	srcs, _ := readAptSources(env)
	idx, err := discoverAptIndexes(env, srcs)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(root, securityList))
	if _, err := parseAptLists(context.Background(), env, idx, map[string]bool{"curl": true}); err == nil || !strings.Contains(err.Error(), "vanished") {
		t.Errorf("vanished list: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

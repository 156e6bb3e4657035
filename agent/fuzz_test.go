package agent

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/pkgver"
	"github.com/eolwatch/eolwatch/server/api"
)

func addFileSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParseDpkgStatus(f *testing.F) {
	addFileSeeds(f, "testdata/debian/var/lib/dpkg/status", "testdata/debian/var/lib/dpkg/updates/0001")
	f.Add([]byte("Package: a\nStatus: install ok installed\nVersion: 1\n\n\n"))
	f.Add([]byte(" x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := 0
		err := parseDpkgStatus(bytes.NewReader(b), func(e dpkgEntry) {
			n++
			if e.Name == "" {
				t.Fatalf("entry without a name: %+v", e)
			}
		})
		if err != nil && !strings.Contains(err.Error(), "line ") {
			t.Fatalf("error without a line number: %v", err)
		}
	})
}

func FuzzParseAPKInstalled(f *testing.F) {
	addFileSeeds(f, "testdata/alpine/lib/apk/db/installed")
	f.Add([]byte("P:x\nV:1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseAPKInstalled(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" || it.Version == "" {
				t.Fatalf("item without name or version: %+v", it)
			}
		}
	})
}

func FuzzParseRPMQuery(f *testing.F) {
	addFileSeeds(f, "testdata/rpm/qa.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := parseRPMQuery(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Name == "" || it.Version == "" {
				t.Fatalf("item without name or version: %+v", it)
			}
		}
	})
}

func FuzzParseOSRelease(f *testing.F) {
	addFileSeeds(f, "testdata/debian/etc/os-release", "testdata/alpine/etc/os-release")
	f.Add([]byte("A=\"x \\\"y\\\"\"\nB='z'\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseOSRelease(bytes.NewReader(b))
	})
}

func FuzzParsePlist(f *testing.F) {
	addFileSeeds(f, "testdata/macos/Applications/Slack.app/Contents/Info.plist",
		"testdata/macos/Applications/Firefox.app/Contents/Info.plist",
		"testdata/macos/System/Library/CoreServices/SystemVersion.plist")
	f.Add([]byte("bplist00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parsePlist(bytes.NewReader(b)) // must not panic or hang
	})
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("server: https://x\ninterval: 1h\nprobes:\n  - name: j\n    command: [java]\n    regexp: x\n"))
	f.Add([]byte("disable: [rpm]\ntls: {ca_file: a}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(bytes.NewReader(b))
		if err == nil {
			c.Validate(false)
		}
	})
}

func FuzzScanPackages(f *testing.F) {
	f.Add([]byte("Package: a\nVersion: 1\nArchitecture: all\nDepends: b (>= 0:1)\n continued\n\nPackage: b\nVersion: 2\n"))
	f.Add(packagesText(3))
	f.Add([]byte("Version: 1\n\n\n\nPackage:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var prev []byte
		n, err := scanPackages(bytes.NewReader(b), func([]byte) bool { return true }, func(st *pkgStanza) {
			if len(st.Name) == 0 || len(st.Version) == 0 || len(st.Source) == 0 {
				t.Fatalf("stanza without name, version or source: %+v", st)
			}
			prev = st.Name
		})
		_ = prev
		if err == nil && n != int64(len(b)) {
			t.Fatalf("read %d of %d bytes without an error", n, len(b))
		}
		if err != nil && !strings.Contains(err.Error(), "line ") {
			t.Fatalf("error without a line number: %v", err)
		}
	})
}

func FuzzParseRelease(f *testing.F) {
	addFileSeeds(f, "testdata/debian-apt/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
		"testdata/ubuntu-apt/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_jammy-backports_InRelease")
	f.Add([]byte("Origin: x\nDate: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n abc 12 main/binary-amd64/Packages\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, sizes := range []bool{false, true} {
			rel, err := parseRelease(bytes.NewReader(b), sizes)
			if err == nil && !sizes && rel.Sizes != nil {
				t.Fatal("sizes read when not asked")
			}
		}
	})
}

func FuzzParsePreferences(f *testing.F) {
	addFileSeeds(f, "testdata/debian-apt/etc/apt/preferences.d/nodejs")
	f.Add([]byte("Package: *\nPin: release o=Debian,a=stable*\nPin-Priority: never\n\nPackage: src:foo:i386 lib*\nPin: version /^1\\./\nPin-Priority: -5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pins, err := parsePreferences(bytes.NewReader(b), "p")
		if err != nil {
			return
		}
		for _, p := range pins {
			if p.Priority == 0 {
				t.Fatalf("pin with priority 0: %+v", p)
			}
			p.appliesTo("foo", "amd64", "amd64")
			p.match.versionMatches("1.0")
		}
	})
}

func FuzzParseSources(f *testing.F) {
	addFileSeeds(f, "testdata/debian-apt/etc/apt/sources.list.d/debian.sources", "testdata/ubuntu-apt/etc/apt/sources.list")
	f.Add([]byte("deb [arch=amd64 #x] file:/srv/r ./\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func() ([]aptSource, error){
			func() ([]aptSource, error) { return parseSourcesList(bytes.NewReader(b), "l") },
			func() ([]aptSource, error) { return parseSourcesDeb822(bytes.NewReader(b), "s") },
		} {
			srcs, _ := parse()
			for _, s := range srcs {
				if !strings.HasSuffix(s.URI, "/") || s.Suite == "" {
					t.Fatalf("source without a / URI or a suite: %+v", s)
				}
				s.listPrefix()
				s.site()
			}
		}
	})
}

func FuzzAptConfLookup(f *testing.F) {
	addFileSeeds(f, "testdata/debian-apt/etc/apt/apt.conf.d/docker-gzip-indexes")
	f.Add([]byte("APT {\n Default-Release \"x\"; /* c */\n};\n#clear APT\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		aptConfLookup(string(b), "APT::Default-Release")
	})
}

func FuzzParseAptCache(f *testing.F) {
	f.Add([]byte(aptCacheMagic + "\nR /\nI 10 20 /var/lib/apt/lists/x_Packages\nN curl\nV 0 123 curl amd64 1.0 curl\n"))
	f.Add([]byte(aptCacheMagic + "\nV 5 1 a b c d\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		idx := []*aptIndex{{Path: "/var/lib/apt/lists/x_Packages", Size: 10, MTime: 20}}
		lists, err := parseAptCache(b, "/", idx)
		if err != nil {
			return
		}
		for _, es := range lists.Entries {
			for _, e := range es {
				if e.Index < 0 || e.Index >= len(idx) {
					t.Fatalf("entry with list %d of %d", e.Index, len(idx))
				}
			}
		}
	})
}

func FuzzScanPrimaryXML(f *testing.F) {
	f.Add([]byte(`<metadata><package type="rpm"><name>a</name><arch>x86_64</arch><version epoch="0" ver="1" rel="1.el9"/><format><rpm:vendor>V &amp; W</rpm:vendor></format></package></metadata>`))
	f.Add([]byte(`<metadata><package type="rpm"><name>b</name>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		scanPrimaryXML(bytes.NewReader(b), func([]byte) bool { return true }, func(p *primaryPkg) {
			if len(p.Name) == 0 || len(p.Ver) == 0 {
				t.Fatalf("package without a name or version: %+v", p)
			}
		})
	})
}

func FuzzZchunk(f *testing.F) {
	addFileSeeds(f, "testdata/zchunk/primary-dict.xml.zck", "testdata/zchunk/primary-none.xml.zck")
	f.Add([]byte("\x00ZCK1\x81\x85"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, done, err := zchunkReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer done()
		io.Copy(io.Discard, io.LimitReader(r, 256<<20))
	})
}

func FuzzParseINI(f *testing.F) {
	addFileSeeds(f, "testdata/rocky9-dnf/etc/yum.repos.d/rocky.repo")
	f.Add([]byte("[a]\nexcludepkgs=x,\n y\npriority=1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		secs, err := parseINI(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, s := range secs {
			repoFromSection(s, "f")
		}
	})
}

func FuzzUbuntuProStatus(f *testing.F) {
	addFileSeeds(f, "testdata/ubuntu-apt/var/lib/ubuntu-advantage/status.json")
	f.Add([]byte(`{"attached":true,"expires":"x","services":[{"name":"esm-infra","status":"enabled"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, p := range parseUbuntuProStatus(bytes.NewReader(b), time.Now()) {
			if p != api.ExtUbuntuESMApps && p != api.ExtUbuntuESMInfra {
				t.Fatalf("programme %q", p)
			}
		}
	})
}

func FuzzParseAPKIndex(f *testing.F) {
	addFileSeeds(f, "testdata/alpine-apk/lib/apk/db/installed")
	f.Add([]byte("P:a\nV:1.0-r0\nA:x86_64\n\nP:b\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseAPKIndexText(bytes.NewReader(b), func(name, version, arch, origin string) {
			if name == "" || version == "" {
				t.Fatalf("package without name or version: %q %q", name, version)
			}
		})
	})
}

// FuzzCompareVersions checks that the three package version orders are
// antisymmetric and never panic.
func FuzzCompareVersions(f *testing.F) {
	for _, p := range [][2]string{{"1:2.39.5-0+deb12u3", "2.39.5-0+deb12u2"}, {"1.0~rc1", "1.0"}, {"5.5p10", "5.5p2"},
		{"1.0^git1", "1.0"}, {"1.0_rc1-r0", "1.0-r0"}, {"1.05", "1.5"}, {"", "0"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		for name, cmp := range map[string]func(string, string) int{
			"deb": compareDebVersions, "rpm": pkgver.RPMCompare, "apk": compareAPKVersions,
			"rpm-evr": func(a, b string) int { return compareRPMEVR(parseRPMEVR(a), parseRPMEVR(b)) },
		} {
			if x, y := cmp(a, b), cmp(b, a); x != -y {
				t.Fatalf("%s: compare(%q, %q) = %d but compare(%q, %q) = %d", name, a, b, x, b, a, y)
			}
		}
	})
}

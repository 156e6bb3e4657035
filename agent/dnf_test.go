package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRPMEVR(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"1:1.0-1", "2.0-1", 1}, {"0:1.0-1", "1.0-1", 0}, {"1.0-2", "1.0-10", -1}, {"1.0", "1.0-5", 0},
	} {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			if got := compareRPMEVR(parseRPMEVR(tt.a), parseRPMEVR(tt.b)); got != tt.want {
				t.Errorf("compareRPMEVR(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
	if s := parseRPMEVR("0:1.2-3").String(); s != "1.2-3" {
		t.Errorf("EVR 0:1.2-3 spelled %q, want 1.2-3 (no zero epoch, as the rpm collector)", s)
	}
}

func TestScanPrimaryXML(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="4000">` + "\n")
	for i := range 4000 { // crosses the reader's buffer many times
		fmt.Fprintf(&b, "<package type=\"rpm\">\n  <name>pkg%d</name>\n  <arch>x86_64</arch>\n  <version epoch=\"%d\" ver=\"1.%d\" rel=\"1.el9\"/>\n  <summary>s &amp; t</summary>\n  <format>\n    <rpm:vendor>Rocky &amp; Co</rpm:vendor>\n    <rpm:provides>%s</rpm:provides>\n  </format>\n</package>\n",
			i, i%2, i, strings.Repeat(`<rpm:entry name="x" flags="EQ" epoch="0" ver="1" rel="1"/>`, 10))
	}
	b.WriteString("</metadata>\n")
	wanted := map[string]bool{"pkg0": true, "pkg2001": true, "pkg3999": true}
	var got []string
	err := scanPrimaryXML(&b, func(n []byte) bool { return wanted[string(n)] }, func(p *primaryPkg) {
		got = append(got, fmt.Sprintf("%s %s %s:%s-%s %s", p.Name, p.Arch, p.Epoch, p.Ver, p.Rel, p.Vendor))
	})
	want := []string{"pkg0 x86_64 0:1.0-1.el9 Rocky & Co", "pkg2001 x86_64 1:1.2001-1.el9 Rocky & Co", "pkg3999 x86_64 1:1.3999-1.el9 Rocky & Co"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("scan = %q, %v; want %q", got, err, want)
	}
	all := func([]byte) bool { return true }
	for _, tc := range []struct{ name, in, want string }{
		{"no name", `<metadata><package type="rpm"><arch>x</arch></package></metadata>`, "package 1: package without a <name>"},
		{"no version", `<metadata><package type="rpm"><name>a</name></package><package type="rpm"><name>b</name><arch>x</arch></package></metadata>`, `package 1: package "a" without a <version>`},
		{"truncated", `<metadata><package type="rpm"><name>a</name><version epoch="0" ver="1" rel="1"/></package><package type="rpm"><name>b</name>`, "package 2: truncated"},
		{"not primary", `<html>hello</html>`, "not a primary metadata document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := scanPrimaryXML(strings.NewReader(tc.in), all, func(*primaryPkg) {}); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("scanPrimaryXML(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestZchunkReader(t *testing.T) {
	want, err := os.ReadFile("testdata/zchunk/primary.xml")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/zchunk/*.zck")
	if len(files) < 5 {
		t.Fatalf("zchunk fixtures: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, done, err := zchunkReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			done()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("read %d bytes (%v), want the %d bytes zck compressed", len(got), err, len(want))
			}
			// Damage: cut short, and one flipped byte in the data.
			if _, err := readZck(b[:len(b)-10]); err == nil {
				t.Error("a truncated file read without an error")
			}
			bad := append([]byte(nil), b...)
			bad[len(bad)-20] ^= 0xff
			if _, err := readZck(bad); err == nil || !strings.Contains(err.Error(), "chunk") {
				t.Errorf("a damaged chunk: %v, want a chunk error", err)
			}
		})
	}
	if _, err := readZck([]byte("PK\x03\x04 not zchunk")); err == nil || !strings.Contains(err.Error(), "not a zchunk file") {
		t.Errorf("not zchunk: %v", err)
	}
}

func readZck(b []byte) ([]byte, error) {
	r, done, err := zchunkReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer done()
	return io.ReadAll(r)
}

func TestDnfModulesVisible(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/dnf/modules.d"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/dnf/modules.d/nginx.module"), []byte("[nginx]\nname=nginx\nstream=1.22\nprofiles=\nstate=enabled\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/dnf/modules.d/php.module"), []byte("[php]\nname=php\nstream=\nprofiles=\nstate=disabled\n"), 0o644)
	y := modulesYAML(map[string][]string{
		"nginx:1.20": {"nginx-1:1.20.1-14.module+el8+1.x86_64"},
		"nginx:1.22": {"nginx-1:1.22.1-1.module+el8+2.x86_64"},
		"php:7.4":    {"php-0:7.4.33-1.module+el8+3.x86_64"},
		"ruby:3.1":   {"ruby-0:3.1.4-1.module+el8+4.x86_64"},
	}, map[string]string{"nginx": "1.20", "php": "7.4", "ruby": "3.1"})
	os.WriteFile(filepath.Join(root, "modules.yaml"), []byte(y), 0o644)
	m, err := readDnfModules(&Env{Root: root}, []*dnfRepo{{yumRepo: yumRepo{ID: "appstream"}, modules: "/modules.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	pkg := func(evr, arch string) dnfPkg { return dnfPkg{evr: parseRPMEVR(evr), arch: arch} }
	for _, tc := range []struct {
		name, evr string
		hotfix    bool
		want      bool
	}{
		{"nginx", "1:1.22.1-1.module+el8+2", false, true},   // enabled stream
		{"nginx", "1:1.20.1-14.module+el8+1", false, false}, // the default, but another stream is enabled
		{"nginx", "1:1.24.0-1.el8", false, false},           // non-modular, same name as an active stream's package
		{"nginx", "1:1.24.0-1.el8", true, true},             // ... from a module_hotfixes repository
		{"php", "7.4.33-1.module+el8+3", false, false},      // disabled module
		{"php", "8.0.0-1.el8", false, true},                 // non-modular: php has no active stream
		{"ruby", "3.1.4-1.module+el8+4", false, true},       // default stream, module untouched
		{"bash", "5.1-1.el8", false, true},
	} {
		t.Run(tc.name+" "+tc.evr, func(t *testing.T) {
			if got := m.visible(tc.name, pkg(tc.evr, "x86_64"), tc.hotfix); got != tc.want {
				t.Errorf("visible(%s %s, hotfix %v) = %v, want %v", tc.name, tc.evr, tc.hotfix, got, tc.want)
			}
		})
	}
	if n := nevraName("perl-DBI-0:1.641-9.module+el8.x86_64"); n != "perl-DBI" {
		t.Errorf("nevraName = %q", n)
	}
	os.WriteFile(filepath.Join(root, "modules.yaml"), []byte("---\ndocument: modulemd\ndata: [unclosed\n"), 0o644)
	if _, err := readDnfModules(&Env{Root: root}, []*dnfRepo{{yumRepo: yumRepo{ID: "appstream"}, modules: "/modules.yaml"}}); err == nil || !strings.Contains(err.Error(), "appstream") {
		t.Errorf("bad modules.yaml: %v", err)
	}
}

func TestParseINI(t *testing.T) {
	secs, err := parseINI(strings.NewReader("# c\n[baseos]\nname=Rocky Linux $releasever - BaseOS\nmirrorlist=https://m/?arch=$basearch\n#baseurl=x\ngpgcheck=1\nenabled = 1\nexcludepkgs=kernel*, tzdata\n  other*\n\n[epel]\nenabled=0\npriority=10\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := repoFromSection(secs[0], "x")
	if r.ID != "baseos" || !r.Enabled || r.Priority != 99 || !reflect.DeepEqual(r.Exclude, []string{"kernel*", "tzdata", "other*"}) {
		t.Errorf("baseos = %+v", r)
	}
	if e := repoFromSection(secs[1], "x"); e.Enabled || e.Priority != 10 {
		t.Errorf("epel = %+v", e)
	}
	for _, bad := range []string{"key=outside\n", "[open\n", "[a]\nnot a pair\n"} {
		if _, err := parseINI(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") && !strings.Contains(err.Error(), "line 2") {
			t.Errorf("parseINI(%q) = %v", bad, err)
		}
	}
}

// TestRPMDnfFixture runs the rpm collector on a Rocky Linux 9 host's real
// dnf cache (agent/testdata/rocky9-dnf, made by gen-dnf-fixture.sh with the
// real createrepo_c and dnf), replaying the recorded rpm query.
func TestRPMDnfFixture(t *testing.T) {
	root := copyTree(t, "testdata/rocky9-dnf")
	os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755)
	os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), []byte("x"), 0o644)
	qa, err := os.ReadFile("testdata/rocky9-dnf/rpm-qa.txt")
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context, combined bool, name string, args ...string) ([]byte, error) { return qa, nil }
	for _, cache := range []string{t.TempDir(), ""} {
		env, facts := (&Env{Root: root, Run: run, CacheDir: cache}).withFacts()
		items, err := rpmCollector{}.Collect(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		SortItems(items)
		rocky := "rocky enterprise software foundation"
		want := []repoView{
			{"bash", "5.1.8-6.el9", rocky, "baseos", "5.1.8-9.el9", rocky, "baseos"},
			{"google-chrome-stable", "131.0.6778.85-1", "google inc.", "", "131.0.6778.85-1", "", ""},
			{"htop", "3.3.0-1.el9", "fedora project", "epel", "3.3.0-1.el9", "", ""},
			{"openssl", "1:3.2.2-6.el9_5.1", rocky, "baseos", "1:3.2.2-6.el9_5.1", "", ""},
			{"python3.11", "3.11.9-7.el9_5", rocky, "appstream", "3.11.9-7.el9_5.2", rocky, "appstream"},
		}
		if got := viewOf(items); !reflect.DeepEqual(got, want) {
			t.Errorf("rpm items (cache %q):\n got %+v\nwant %+v", cache, got, want)
		}
		if facts.repoDate.IsZero() {
			t.Error("no repository date from repomd.xml")
		}
	}
	// A repository dnf has not fetched yet: reported, no candidates.
	os.RemoveAll(filepath.Join(root, "var/cache/dnf/epel-4f4188aec2e25a19"))
	env, _ := (&Env{Root: root, Run: run}).withFacts()
	items, err := rpmCollector{}.Collect(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "repository epel") || !strings.Contains(err.Error(), "dnf makecache") || len(items) != 5 {
		t.Errorf("missing epel cache: %d items, %v", len(items), err)
	}
	for _, it := range items {
		if it.Candidate != "" {
			t.Errorf("%s: candidate %q with a repository's metadata missing", it.Name, it.Candidate)
		}
	}
}

package pkglist

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, format, in string
		want             []api.Item
	}{
		{"dpkg-query three columns", FormatAuto, "nginx\t1.22.1-9\tnginx\nlibssl3\t3.0.19-1~deb12u2\topenssl\n",
			[]api.Item{{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx"},
				{Source: "dpkg", Name: "libssl3", Version: "3.0.19-1~deb12u2", SourcePkg: "openssl"}}},
		{"dpkg-query with section and summary", FormatDpkgQuery, "haproxy-dbgsym\t2.6.12-1\thaproxy\tdebug\tdebug symbols for haproxy\n",
			[]api.Item{{Source: "dpkg", Name: "haproxy-dbgsym", Version: "2.6.12-1", SourcePkg: "haproxy", Section: "debug", Summary: "debug symbols for haproxy"}}},
		{"dpkg-query two columns, config-files only skipped, blank lines", FormatAuto, "\n\nbash\t5.2.15-2\nold\t\t\n",
			[]api.Item{{Source: "dpkg", Name: "bash", Version: "5.2.15-2"}}},
		{"dpkg-query binary:Package names", FormatAuto, "libc6:amd64\t2.36-9+deb12u10\tglibc\n",
			[]api.Item{{Source: "dpkg", Name: "libc6", Arch: "amd64", Version: "2.36-9+deb12u10", SourcePkg: "glibc"}}},
		{"dpkg-query source with version", FormatDpkgQuery, "libfoo1\t1.0-1+b1\tfoo (1.0-1)\n",
			[]api.Item{{Source: "dpkg", Name: "libfoo1", Version: "1.0-1+b1", SourcePkg: "foo"}}},
		{"apt Packages stanzas", FormatAuto, `Package: 0ad-data-common
Source: 0ad-data (0.0.26-1)
Version: 0.0.26-1
Depends: fonts-dejavu-core | ttf-dejavu-core,
 fonts-freefont-ttf
Description: Real-time strategy game of ancient warfare (common files)
Section: games

Package: wireshark-gtk
Version: 4.0.6-1~deb12u1
Source: wireshark
Section: net
Description: transitional dummy package
`, []api.Item{
			{Source: "dpkg", Name: "0ad-data-common", Version: "0.0.26-1", SourcePkg: "0ad-data", Section: "games", Summary: "Real-time strategy game of ancient warfare (common files)"},
			{Source: "dpkg", Name: "wireshark-gtk", Version: "4.0.6-1~deb12u1", SourcePkg: "wireshark", Section: "net", Summary: "transitional dummy package"}}},
		{"dpkg status file keeps installed packages only", FormatDeb, `Package: bash
Status: install ok installed
Version: 5.2.15-2+b8

Package: gone
Status: deinstall ok config-files
Version: 1.0-1

Package: nginx
Status: install ok triggers-pending
Version: 1.22.1-9
`, []api.Item{{Source: "dpkg", Name: "bash", Version: "5.2.15-2+b8", SourcePkg: "bash"},
			{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx"}}},
		{"APKINDEX", FormatAuto, `C:Q1abc=
P:nginx
V:1.24.0-r7
A:x86_64
T:HTTP and reverse proxy server (stable version)
o:nginx

P:py3-django
V:4.2.8-r0
o:py3-django
T:High-level Python Web framework
`, []api.Item{{Source: "apk", Name: "nginx", Version: "1.24.0-r7", SourcePkg: "nginx", Summary: "HTTP and reverse proxy server (stable version)"},
			{Source: "apk", Name: "py3-django", Version: "4.2.8-r0", SourcePkg: "py3-django", Summary: "High-level Python Web framework"}}},
		{"rpm signing keys are no packages", FormatAuto, "gpg-pubkey-fd431d51-4ae0493b.(none)\t(none)\t(none)\tgpg(Red Hat, Inc.)\nbash-5.1.8-6.el9_1.x86_64\n",
			[]api.Item{{Source: "rpm", Name: "bash", Version: "5.1.8-6.el9_1", Arch: "x86_64", SourcePkg: "bash"}}},
		{"rpm 4.18 prints a signing key's NEVRA without an architecture", FormatAuto, "gpg-pubkey-8483c65d-5ccc5b19\t(none)\t(none)\tgpg(CentOS (CentOS Official Signing Key) <security@centos.org>)\nbash-5.1.8-6.el9_1.x86_64\tRocky Enterprise Software Foundation\tbash-5.1.8-6.el9_1.src.rpm\tThe GNU Bourne Again shell\ngpg-pubkey-fd431d51-4ae0493b\n",
			[]api.Item{{Source: "rpm", Name: "bash", Version: "5.1.8-6.el9_1", Arch: "x86_64", SourcePkg: "bash", Origin: "rocky enterprise software foundation", Summary: "The GNU Bourne Again shell"}}},
		{"plain rpm -qa", FormatRPM, "bash-5.1.8-6.el9_1.x86_64\npython3-django-4.2.7-1.fc39.noarch\n",
			[]api.Item{{Source: "rpm", Name: "bash", Version: "5.1.8-6.el9_1", Arch: "x86_64", SourcePkg: "bash"},
				{Source: "rpm", Name: "python3-django", Version: "4.2.7-1.fc39", Arch: "noarch", SourcePkg: "python3-django"}}},
		{"agent inventory", FormatAuto, `{"host":{"os_id":"debian","os_version":"12"},"items":[{"source":"dpkg","name":"bash","version":"5.2.15-2"}]}`,
			[]api.Item{{Source: "dpkg", Name: "bash", Version: "5.2.15-2"}, {Source: "os", Name: "debian", Version: "12"}}},
		{"agent inventory with its os item", FormatAuto, `{"host":{"os_id":"debian","os_version":"12.11"},"items":[{"source":"os","name":"debian","version":"12.11","product":"debian"},{"source":"dpkg","name":"bash","version":"5.2.15-2"}]}`,
			[]api.Item{{Source: "os", Name: "debian", Version: "12.11", Product: "debian"}, {Source: "dpkg", Name: "bash", Version: "5.2.15-2"}}},
		{"empty", FormatAuto, "\n \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadAll(strings.NewReader(tt.in), tt.format)
			if tt.want == nil && tt.name != "empty" {
				if err == nil {
					t.Fatalf("ReadAll = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadAll: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadAll =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestReadRPMVendor(t *testing.T) {
	got, err := ReadAll(strings.NewReader("openssl-libs-1:3.0.7-27.el9.x86_64\tRed Hat, Inc.\topenssl-3.0.7-27.el9.src.rpm\tA general purpose cryptography library\n"), FormatAuto)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Item{{Source: "rpm", Name: "openssl-libs", Version: "1:3.0.7-27.el9", Arch: "x86_64", SourcePkg: "openssl",
		Origin: "red hat, inc.", Summary: "A general purpose cryptography library"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadAll = %+v, want %+v", got, want)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct{ name, format, in, want string }{
		{"dpkg-query line without version", FormatDpkgQuery, "bash\t5.2\nlonely\n", "line 2"},
		{"stanza without package", FormatDeb, "Version: 1.0\n", `line 1: stanza has no Package field`},
		{"stanza without version", FormatDeb, "Package: a\nVersion: 1\n\nPackage: b\nSection: x\n", `line 4: package "b" has no version`},
		{"continuation outside a field", FormatDeb, " floating\n", "line 1: continuation line"},
		{"line that is no field", FormatDeb, "Package: a\nnonsense\n", "line 2"},
		{"apk stanza without name", FormatAPK, "V:1.0\n", "no P field"},
		{"rpm line that is no NEVRA", FormatRPM, "bash-5.1.8-6.el9_1.x86_64\nnot-a-nevra\n", "line 2"},
		{"bad json", FormatAgent, "{", "inventory JSON"},
		{"unknown format", "yaml", "x", `unknown package list format "yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadAll(strings.NewReader(tt.in), tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadAll(%q) error = %v, want one containing %q", tt.in, err, tt.want)
			}
		})
	}
}

// TestReadStopsOnCallbackError checks that fn's error ends the reading unchanged.
func TestReadStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := Read(strings.NewReader("a\t1\nb\t2\nc\t3\n"), FormatAuto, func(api.Item) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("Read = %v after %d items, want the callback's error after 2", err, n)
	}
}

func TestParseNEVRA(t *testing.T) {
	tests := []struct{ in, name, evr, arch string }{
		{"bash-5.1.8-6.el9_1.x86_64", "bash", "5.1.8-6.el9_1", "x86_64"},
		{"openssl-libs-1:3.0.7-27.el9.x86_64", "openssl-libs", "1:3.0.7-27.el9", "x86_64"},
		{"java-17-openjdk-headless-1:17.0.9.0.9-2.el9.x86_64", "java-17-openjdk-headless", "1:17.0.9.0.9-2.el9", "x86_64"},
		{"tzdata-2024a-1.el9.noarch", "tzdata", "2024a-1.el9", "noarch"},
		{"gpg-pubkey-fd431d51-4ae0493b", "", "", ""},
		{"x-1.0.x86_64", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, evr, arch, ok := parseNEVRA(tt.in)
			if ok != (tt.name != "") || name != tt.name || evr != tt.evr || arch != tt.arch {
				t.Errorf("parseNEVRA(%q) = %q %q %q %v, want %q %q %q", tt.in, name, evr, arch, ok, tt.name, tt.evr, tt.arch)
			}
		})
	}
}

// FuzzRead checks that no input makes a reader panic, and that what auto
// detection reads it also reads when told the format.
func FuzzRead(f *testing.F) {
	f.Add("nginx\t1.22.1-9\tnginx\tweb\tsmall server\n")
	f.Add("Package: a\nVersion: 1\nSource: b (1)\nDescription: x\n y\n\nPackage: c\nStatus: install ok installed\nVersion: 2\n")
	f.Add("P:nginx\nV:1.24.0-r7\no:nginx\n\nP:x\nV:1\n")
	f.Add("openssl-libs-1:3.0.7-27.el9.x86_64\tRed Hat, Inc.\topenssl-3.0.7-27.el9.src.rpm\tlib\n")
	f.Add(`{"items":[{"source":"dpkg","name":"a","version":"1"}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		auto, err := ReadAll(strings.NewReader(in), FormatAuto)
		if err != nil {
			return
		}
		for _, it := range auto {
			if it.Name == "" && it.Source != "os" {
				t.Fatalf("item without a name from %q: %+v", in, it)
			}
		}
	})
}

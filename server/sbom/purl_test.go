package sbom

import (
	"reflect"
	"strings"
	"testing"
)

func TestParsePURL(t *testing.T) {
	tests := []struct {
		name, in string
		want     PURL
	}{
		{"deb with qualifiers", "pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12&upstream=python3.11",
			PURL{Type: "deb", Namespace: "debian", Name: "python3.11", Version: "3.11.2-6+deb12u6",
				Qualifiers: map[string]string{"arch": "amd64", "distro": "debian-12", "upstream": "python3.11"}}},
		{"deb with epoch", "pkg:deb/debian/git@1%3A2.39.5-0%2Bdeb12u2?arch=amd64",
			PURL{Type: "deb", Namespace: "debian", Name: "git", Version: "1:2.39.5-0+deb12u2", Qualifiers: map[string]string{"arch": "amd64"}}},
		{"literal plus and colon", "pkg:deb/debian/git@1:2.39.5-0+deb12u2",
			PURL{Type: "deb", Namespace: "debian", Name: "git", Version: "1:2.39.5-0+deb12u2"}},
		{"npm scope encoded", "pkg:npm/%40angular/core@17.0.0",
			PURL{Type: "npm", Namespace: "@angular", Name: "core", Version: "17.0.0"}},
		{"npm scope literal", "pkg:npm/@angular/core@17.0.0",
			PURL{Type: "npm", Namespace: "@angular", Name: "core", Version: "17.0.0"}},
		{"npm scope no version", "pkg:npm/@angular/core",
			PURL{Type: "npm", Namespace: "@angular", Name: "core"}},
		{"maven", "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
			PURL{Type: "maven", Namespace: "org.apache.logging.log4j", Name: "log4j-core", Version: "2.14.1", Qualifiers: map[string]string{"type": "jar"}}},
		{"golang module path", "pkg:golang/github.com/mattn/go-sqlite3@v1.14.53",
			PURL{Type: "golang", Namespace: "github.com/mattn", Name: "go-sqlite3", Version: "v1.14.53"}},
		{"golang stdlib", "pkg:golang/stdlib@1.26.8", PURL{Type: "golang", Name: "stdlib", Version: "1.26.8"}},
		{"pypi normalised", "pkg:PyPI/Django_Rest@3.0", PURL{Type: "pypi", Name: "django-rest", Version: "3.0"}},
		{"type case and slashes", "pkg://Generic//openssl@3.0.13", PURL{Type: "generic", Name: "openssl", Version: "3.0.13"}},
		{"subpath", "pkg:golang/google.golang.org/genproto#googleapis/api/annotations",
			PURL{Type: "golang", Namespace: "google.golang.org", Name: "genproto", Subpath: "googleapis/api/annotations"}},
		{"empty qualifier dropped", "pkg:rpm/redhat/openssl@3.0.7-27.el9?arch=&epoch=1",
			PURL{Type: "rpm", Namespace: "redhat", Name: "openssl", Version: "3.0.7-27.el9", Qualifiers: map[string]string{"epoch": "1"}}},
		{"nuget", "pkg:nuget/Newtonsoft.Json@13.0.1", PURL{Type: "nuget", Name: "Newtonsoft.Json", Version: "13.0.1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePURL(tc.in)
			if err != nil {
				t.Fatalf("ParsePURL(%q) error %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParsePURL(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			// property: the canonical form parses back to the same purl
			back, err := ParsePURL(got.String())
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("ParsePURL(%q) = %+v, %v; want %+v (round trip of %q)", got.String(), back, err, got, tc.in)
			}
		})
	}
}

func TestParsePURLErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no scheme", "deb/debian/bash@5.2", `must start with "pkg:"`},
		{"wrong scheme", "http://example.com/x", `must start with "pkg:"`},
		{"no type", "pkg:", "no type"},
		{"no name", "pkg:npm/", "no name"},
		{"type starts with digit", "pkg:1abc/x@1", "starts with a digit"},
		{"bad type char", "pkg:np_m/x@1", "holds '_'"},
		{"bad escape in name", "pkg:npm/fo%zzo@1", "name: bad percent-encoding"},
		{"bad escape in version", "pkg:npm/foo@1%", "version: bad percent-encoding"},
		{"empty version", "pkg:npm/foo@", "version is empty"},
		{"white space", "pkg:npm/foo bar@1", "white space"},
		{"qualifier without value", "pkg:npm/foo@1?arch", "is not key=value"},
		{"bad qualifier key", "pkg:npm/foo@1?a$b=1", "qualifier key"},
		{"duplicate qualifier", "pkg:npm/foo@1?a=1&A=2", "given twice"},
		{"too long", "pkg:npm/" + strings.Repeat("a", 5000), "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePURL(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParsePURL(%q) error = %v, want one containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestParseCPE(t *testing.T) {
	tests := []struct {
		name, in string
		want     CPE
	}{
		{"2.3 application", "cpe:2.3:a:golang:go:1.26.8:-:*:*:*:*:*:*", CPE{Part: "a", Vendor: "golang", Product: "go", Version: "1.26.8"}},
		{"2.3 escaped colon", `cpe:2.3:a:python_software_foundation:python\:3:3.11.2:*:*:*:*:*:*:*`,
			CPE{Part: "a", Vendor: "python_software_foundation", Product: "python:3", Version: "3.11.2"}},
		{"2.3 os upper case", "CPE:2.3:O:Debian:Debian_Linux:12:*:*:*:*:*:*:*", CPE{Part: "o", Vendor: "debian", Product: "debian_linux", Version: "12"}},
		{"2.3 update", "cpe:2.3:a:oracle:jdk:1.8.0:update392:*:*:*:*:*:*", CPE{Part: "a", Vendor: "oracle", Product: "jdk", Version: "1.8.0", Update: "update392"}},
		{"2.2 short", "cpe:/a:djangoproject:django", CPE{Part: "a", Vendor: "djangoproject", Product: "django"}},
		{"2.2 version encoded", "cpe:/a:openssl:openssl:3.0.13%7e1", CPE{Part: "a", Vendor: "openssl", Product: "openssl", Version: "3.0.13~1"}},
		{"2.2 packed edition", "cpe:/a:vendor:prod:1.0:u1:~ed~sw~tsw~thw~oth", CPE{Part: "a", Vendor: "vendor", Product: "prod", Version: "1.0", Update: "u1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCPE(tc.in)
			if err != nil {
				t.Fatalf("ParseCPE(%q) error %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseCPE(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseCPEErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no prefix", "a:golang:go:1", "must start with"},
		{"2.3 too few", "cpe:2.3:a:golang:go:1.2", "has 4 components"},
		{"2.3 too many", "cpe:2.3:a:b:c:d:e:f:g:h:i:j:k:l", "has 12 components"},
		{"2.3 bad part", "cpe:2.3:x:golang:go:1:*:*:*:*:*:*:*", `part "x"`},
		{"2.3 no product", "cpe:2.3:a:golang:*:1:*:*:*:*:*:*:*", "no product"},
		{"2.3 lone backslash", `cpe:2.3:a:golang:go:1:*:*:*:*:*:*:\`, "lone backslash"},
		{"2.3 control char", "cpe:2.3:a:golang:go\x01:1:*:*:*:*:*:*:*", "printable ASCII"},
		{"2.2 no part", "cpe:/", "no part"},
		{"2.2 bad escape", "cpe:/a:x:y%zz", "bad percent-encoding"},
		{"2.2 too many", "cpe:/a:b:c:d:e:f:g:h", "at most 7"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCPE(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseCPE(%q) error = %v, want one containing %q", tc.in, err, tc.want)
			}
		})
	}
}

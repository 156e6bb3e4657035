package sbom

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

var (
	defaultOnce sync.Once
	defaultCat  *catalog.Catalog
	defaultM    *Matcher
)

// testMatcher is the SBOM matcher over the embedded default catalog.
func testMatcher(t testing.TB) *Matcher {
	t.Helper()
	defaultOnce.Do(func() {
		cat, err := catalog.Default()
		if err != nil {
			panic(err)
		}
		defaultCat, defaultM = cat, NewMatcher(match.New(cat))
	})
	return defaultM
}

// testDay is the day the tests judge on.
var testDay = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestResolve(t *testing.T) {
	sm := testMatcher(t)
	tests := []struct {
		name    string
		c       Component
		item    api.Item
		product string // "" when nothing may claim it
		version string // upstream version judged
		rule    string // prefix of the rule
		distro  Distro
	}{
		{"deb interpreter", Component{Name: "python3.11", Version: "3.11.2-6+deb12u6",
			PURL: "pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12"},
			api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", Arch: "amd64", SourcePkg: "python3.11", Origin: "debian"},
			"python", "3.11.2", "rule python versioned name", Distro{"debian", "12"}},
		{"deb library of a product", Component{Name: "libssl3", Version: "3.0.19-1~deb12u2",
			PURL: "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"},
			api.Item{Source: "dpkg", Name: "libssl3", Version: "3.0.19-1~deb12u2", Arch: "amd64", SourcePkg: "openssl", Origin: "debian"},
			"openssl", "3.0.19", "rule openssl library", Distro{"debian", "12"}},
		{"deb source with version", Component{Name: "bsdutils", Version: "1:2.38.1-5+deb12u3",
			PURL: "pkg:deb/debian/bsdutils@1%3A2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"},
			api.Item{Source: "dpkg", Name: "bsdutils", Version: "1:2.38.1-5+deb12u3", Arch: "amd64", SourcePkg: "util-linux", Origin: "debian"},
			"", "", "", Distro{"debian", "12"}},
		{"deb unmatched keeps no CPE guess", Component{Name: "libpython3.11-dev", Version: "3.11.2-6",
			PURL: "pkg:deb/debian/libpython3.11-dev@3.11.2-6?distro=debian-12&upstream=python3.11",
			CPEs: []string{"cpe:2.3:a:python:python:3.11.2:*:*:*:*:*:*:*"}},
			api.Item{Source: "dpkg", Name: "libpython3.11-dev", Version: "3.11.2-6", SourcePkg: "python3.11", Origin: "debian"},
			"", "", "", Distro{"debian", "12"}},
		{"ubuntu distro", Component{Name: "nginx", Version: "1.18.0-6ubuntu14.4",
			PURL: "pkg:deb/ubuntu/nginx@1.18.0-6ubuntu14.4?arch=amd64&distro=ubuntu-22.04"},
			api.Item{Source: "dpkg", Name: "nginx", Version: "1.18.0-6ubuntu14.4", Arch: "amd64", SourcePkg: "nginx", Origin: "ubuntu"},
			"nginx", "1.18.0", "rule nginx", Distro{"ubuntu", "22.04"}},
		{"rpm with epoch and source rpm", Component{Name: "openssl-libs", Version: "1:3.0.7-27.el9",
			PURL: "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm&distro=rhel-9.4"},
			api.Item{Source: "rpm", Name: "openssl-libs", Version: "1:3.0.7-27.el9", Arch: "x86_64", SourcePkg: "openssl", Origin: "red hat, inc."},
			"openssl", "3.0.7", "rule openssl library (rpm)", Distro{"rhel", "9.4"}},
		{"apk", Component{Name: "nginx", Version: "1.24.0-r7",
			PURL: "pkg:apk/alpine/nginx@1.24.0-r7?arch=x86_64&upstream=nginx&distro=alpine-3.19.1"},
			api.Item{Source: "apk", Name: "nginx", Version: "1.24.0-r7", Arch: "x86_64", SourcePkg: "nginx", Origin: "alpine"},
			"nginx", "1.24.0", "rule nginx", Distro{"alpine", "3.19.1"}},
		{"vendor repository (NodeSource) judged upstream", Component{Name: "nodejs", Version: "20.20.2-1nodesource1+repack1",
			PURL: "pkg:deb/debian/nodejs@20.20.2-1nodesource1%2Brepack1?arch=amd64&distro=debian-12"},
			api.Item{Source: "dpkg", Name: "nodejs", Version: "20.20.2-1nodesource1+repack1", Arch: "amd64", SourcePkg: "nodejs"},
			"nodejs", "20.20.2", "", Distro{}},
		{"vendor repository (Docker) judged upstream", Component{Name: "docker-ce", Version: "5:27.3.1-1~debian.12~bookworm",
			PURL: "pkg:deb/debian/docker-ce@5%3A27.3.1-1~debian.12~bookworm?arch=amd64&distro=debian-12"},
			api.Item{Source: "dpkg", Name: "docker-ce", Version: "5:27.3.1-1~debian.12~bookworm", Arch: "amd64", SourcePkg: "docker-ce"},
			"docker-engine", "27.3.1", "", Distro{}},
		{"deb without distro qualifier", Component{Name: "nginx", Version: "1.22.1-9",
			PURL: "pkg:deb/debian/nginx@1.22.1-9"},
			api.Item{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx", Origin: "debian"},
			"nginx", "1.22.1", "rule nginx", Distro{ID: "debian"}},
		{"go toolchain through its purl", Component{Name: "stdlib", Version: "go1.26.8", PURL: "pkg:golang/stdlib@1.26.8",
			CPEs: []string{"cpe:2.3:a:golang:go:1.26.8:-:*:*:*:*:*:*"}},
			api.Item{Source: "golang", Name: "stdlib", Version: "1.26.8"},
			"go", "1.26.8", "rule go stdlib", Distro{}},
		{"go toolchain version from the component", Component{Name: "stdlib", Version: "go1.21.0", PURL: "pkg:golang/stdlib",
			CPEs: []string{"cpe:2.3:a:golang:go:1.21.0:-:*:*:*:*:*:*"}},
			api.Item{Source: "golang", Name: "stdlib", Version: "1.21.0"},
			"go", "1.21.0", "rule go stdlib", Distro{}},
		{"go module", Component{Name: "github.com/mattn/go-sqlite3", Version: "v1.14.53", PURL: "pkg:golang/github.com/mattn/go-sqlite3@v1.14.53",
			CPEs: []string{"cpe:2.3:a:mattn:go-sqlite3:v1.14.53:*:*:*:*:*:*:*"}},
			api.Item{Source: "golang", Name: "github.com/mattn/go-sqlite3", Version: "v1.14.53"}, "", "", "", Distro{}},
		{"maven coordinates", Component{Name: "log4j-core", Version: "2.14.1", PURL: "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
			api.Item{Source: "maven", Name: "org.apache.logging.log4j:log4j-core", Version: "2.14.1"}, "log4j", "2.14.1", "", Distro{}},
		{"pypi", Component{Name: "Django", Version: "4.2.7", PURL: "pkg:pypi/django@4.2.7"},
			api.Item{Source: "pypi", Name: "django", Version: "4.2.7"}, "django", "4.2.7", "", Distro{}},
		{"nuget runtime pack", Component{Name: "Microsoft.NETCore.App.Runtime.linux-x64", Version: "8.0.1",
			PURL: "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@8.0.1"},
			api.Item{Source: "nuget", Name: "Microsoft.NETCore.App.Runtime.linux-x64", Version: "8.0.1"}, "dotnet", "8.0.1", "", Distro{}},
		{"generic purl", Component{Name: "openssl", Version: "1.1.1w", PURL: "pkg:generic/openssl@1.1.1w"},
			api.Item{Source: "generic", Name: "openssl", Version: "1.1.1w"}, "openssl", "1.1.1w", "", Distro{}},
		{"npm scope", Component{Name: "core", Version: "17.0.0", PURL: "pkg:npm/%40angular/core@17.0.0"},
			api.Item{Source: "npm", Name: "@angular/core", Version: "17.0.0"}, "angular", "17.0.0", "", Distro{}},
		{"unknown purl type is generic", Component{Name: "nginx", Version: "1.25", PURL: "pkg:docker/library/nginx@1.25"},
			api.Item{Source: "generic", Name: "nginx", Version: "1.25"}, "nginx", "1.25", "", Distro{}},
		{"name rule without purl or CPE", Component{Name: "nginx", Version: "1.24.0"},
			api.Item{Source: "generic", Name: "nginx", Version: "1.24.0"}, "nginx", "1.24.0", "", Distro{}},
		{"npm package the catalog does not know: no name guess", Component{Name: "nginx", Version: "1.24.0", PURL: "pkg:npm/nginx@1.24.0"},
			api.Item{Source: "npm", Name: "nginx", Version: "1.24.0"}, "", "", "", Distro{}},
		{"document subject without purl or CPE is not guessed by name", Component{Field: "metadata.component", Subject: true, Type: "container", Name: "nginx", Version: "1.25"},
			api.Item{Source: "generic", Name: "nginx", Version: "1.25"}, "", "", "", Distro{}},
		{"CPE without purl", Component{Name: "Django", Version: "4.2.7", CPEs: []string{"cpe:2.3:a:djangoproject:django:4.2.7:*:*:*:*:*:*:*"}},
			api.Item{Source: "generic", Name: "Django", Version: "4.2.7", Product: "django"}, "django", "4.2.7", "cpe cpe:2.3:a:djangoproject:django", Distro{}},
		{"CPE 2.2 without purl", Component{Name: "python", Version: "3.8.10", CPEs: []string{"bogus", "cpe:/a:python:python:3.8.10"}},
			api.Item{Source: "generic", Name: "python", Version: "3.8.10", Product: "python"}, "python", "3.8.10", "cpe cpe:/a:python:python", Distro{}},
		{"operating system", Component{Type: "operating-system", Name: "debian", Version: "12"},
			api.Item{Source: "os", Name: "debian", Version: "12"}, "debian", "", "", Distro{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.c.Field == "" {
				tc.c.Field = "components[0]"
			}
			r, err := sm.Resolve(&tc.c)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if r.Item != tc.item {
				t.Errorf("item %+v, want %+v", r.Item, tc.item)
			}
			if r.Distro != tc.distro {
				t.Errorf("distro %+v, want %+v", r.Distro, tc.distro)
			}
			switch tc.product {
			case "-": // not decided here: the matcher's ecosystem rules decide
				return
			case "":
				if r.Matched {
					t.Fatalf("matched %+v, want nothing", r.Result)
				}
				return
			}
			if !r.Matched || r.Result.Product != tc.product || (tc.version != "" && r.Result.Version != tc.version) || !strings.HasPrefix(r.Result.Rule, tc.rule) {
				t.Fatalf("match %v %+v, want %s %s by %s...", r.Matched, r.Result, tc.product, tc.version, tc.rule)
			}
			// Matching the item again (a catalog change re-matches stored items) gives the same product.
			if !r.OS {
				again, ok := sm.m.Match(r.Item)
				if !ok || again.Product != r.Result.Product || again.Version != r.Result.Version {
					t.Fatalf("re-matching the item gives %v %+v, want %s %s", ok, again, r.Result.Product, r.Result.Version)
				}
			}
		})
	}
}

func TestResolveBadPURL(t *testing.T) {
	sm := testMatcher(t)
	_, err := sm.Resolve(&Component{Field: "components[7]", Line: 3, Name: "x", PURL: "pkg:npm/x@1%zz"})
	var de *Error
	if !errors.As(err, &de) || de.Field != "components[7].purl" || !strings.Contains(de.Error(), "bad percent-encoding") || de.Line != 3 {
		t.Fatalf("Resolve error %v, want components[7].purl: bad percent-encoding (line 3)", err)
	}
}

func TestJudge(t *testing.T) {
	j := NewJudge(testMatcher(t), testDay, catalog.Policy{})
	t.Run("verdict and component", func(t *testing.T) {
		c := &Component{Field: "components[1]", Line: 9, Ref: "r1", Name: "python3.7", Version: "3.7.3-2+deb10u7",
			PURL: "pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?distro=debian-10"}
		f, ok, err := j.Judge(c)
		if err != nil || !ok {
			t.Fatalf("Judge = %v, %v", ok, err)
		}
		if f.Product != "python" || f.Version != "3.7.3" || f.Status != catalog.StatusEOL || f.Cycle != "3.7" || f.AsOf != "2026-12-01" {
			t.Errorf("verdict %+v", f.Verdict)
		}
		want := ComponentRef{Name: "python3.7", Version: "3.7.3-2+deb10u7", PURL: c.PURL, Ref: "r1", Field: "components[1]", Line: 9}
		if f.Component != want || f.Rule != "rule python versioned name" || f.Distro == nil || *f.Distro != (Distro{"debian", "10"}) {
			t.Errorf("finding %+v %s %v, want component %+v", f.Component, f.Rule, f.Distro, want)
		}
	})
	t.Run("no version", func(t *testing.T) {
		f, ok, err := j.Judge(&Component{Field: "components[4]", Name: "Django", CPEs: []string{"cpe:2.3:a:djangoproject:django:*:*:*:*:*:*:*:*"}})
		if err != nil || !ok {
			t.Fatalf("Judge = %v, %v", ok, err)
		}
		if f.Product != "django" || f.Status != catalog.StatusUnknownVersion || !strings.Contains(f.Reason, "components[4].version") {
			t.Fatalf("verdict %+v, want django unknown-version naming components[4].version", f.Verdict)
		}
	})
	t.Run("unmatched", func(t *testing.T) {
		_, ok, err := j.Judge(&Component{Field: "components[0]", Name: "adduser", Version: "3.134", PURL: "pkg:deb/debian/adduser@3.134?distro=debian-12"})
		if ok || err != nil {
			t.Fatalf("Judge = %v, %v; want not judged", ok, err)
		}
	})
	t.Run("policy", func(t *testing.T) {
		// python 3.11.2 has had newer patches for years: overdue with a
		// 30-day grace, still only available with a grace of ten years.
		c := &Component{Field: "components[0]", Name: "python3.11", Version: "3.11.2-6", PURL: "pkg:deb/debian/python3.11@3.11.2-6"}
		f, _, _ := j.Judge(c)
		lenient, _, _ := NewJudge(testMatcher(t), testDay, catalog.Policy{WarnDays: 90, GraceDays: 3650}).Judge(c)
		if f.Patch != catalog.PatchOverdue || lenient.Patch != catalog.PatchAvailable {
			t.Fatalf("patch %s with the default policy and %s with a 3650-day grace, want overdue and available", f.Patch, lenient.Patch)
		}
	})
}

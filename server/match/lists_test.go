package match

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match/pkglist"
)

// TestPackageLists matches realistic package lists in each distribution's
// naming convention — Ubuntu 24.04 Packages stanzas (t64 library names, a
// firefox deb that only installs the snap), Rocky Linux 9 and Fedora 40 rpm
// lists with vendors (Docker's, Zabbix's, RPM Fusion's, Oracle's), an Alpine
// 3.20 APKINDEX — and real ones taken from hosts and container images
// (Ubuntu 18.04 and 24.04 dpkg status files, Rocky Linux 9.3, CentOS 8.2, CentOS 7
// with the httpd24 Software Collection and Fedora 35 rpm lists, Alpine 3.8
// and 3.16 installed databases) — and checks every package against its .expect file, with
// the lists' metadata and without it.
func TestPackageLists(t *testing.T) {
	m := defaultMatcher(t)
	for _, tc := range []struct{ list, expect string }{
		{"ubuntu2404-Packages", "ubuntu2404.expect"},
		{"rocky9-rpm-qa.txt", "rocky9.expect"},
		{"fedora40-rpm-qa.txt", "fedora40.expect"},
		{"alpine320-APKINDEX", "alpine320.expect"},
		// Real lists (testdata/lists/README.md says where each comes from).
		{"ubuntu1804-real-status", "ubuntu1804-real.expect"},
		{"ubuntu2404-real-status", "ubuntu2404-real.expect"},
		{"rocky93-real-rpm-qa.txt", "rocky93-real.expect"},
		{"centos82-real-rpm-qa.txt", "centos82-real.expect"},
		{"centos7-httpd24-real-rpm-qa.txt", "centos7-httpd24-real.expect"},
		{"fedora35-mongodb-real-rpm-qa.txt", "fedora35-mongodb-real.expect"},
		{"alpine38-real-installed", "alpine38-real.expect"},
		{"alpine316-real-installed", "alpine316-real.expect"},
	} {
		t.Run(tc.list, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata/lists", tc.list))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			items, err := pkglist.ReadAll(f, pkglist.FormatAuto)
			if err != nil {
				t.Fatal(err)
			}
			want := readExpect(t, filepath.Join("testdata/lists", tc.expect))
			if len(items) != len(want) {
				t.Errorf("%d packages in the list, %d judged", len(items), len(want))
			}
			for _, it := range items {
				exp, ok := want[it.Name]
				if !ok {
					t.Errorf("%s is not judged in %s", it.Name, tc.expect)
					continue
				}
				plain := api.Item{Source: it.Source, Name: it.Name, Version: it.Version, SourcePkg: it.SourcePkg}
				for _, x := range []struct {
					how string
					it  api.Item
				}{{"with metadata", it}, {"name and source only", plain}} {
					r, ok := m.Match(x.it)
					got := "-"
					if ok {
						got = r.Product
					}
					if got != exp {
						t.Errorf("%s %s (%s): %s, want %s\n%s", it.Source, it.Name, x.how, got, exp, strings.Join(m.Explain(x.it).Steps, "\n"))
					}
				}
			}
		})
	}
}

func readExpect(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		name, product, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s:%d: want PACKAGE<TAB>PRODUCT, got %q", path, n, line)
		}
		out[name] = product
	}
	return out
}

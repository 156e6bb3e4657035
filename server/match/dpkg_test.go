package match

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
)

// dpkgItems reads this machine's real dpkg database, as the agent's dpkg
// collector reports it. The test is skipped on machines without dpkg (not a
// `make deps` tool: the OS data itself is missing), except under CI=true.
func dpkgItems(t testing.TB) []api.Item {
	t.Helper()
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dpkg-query not found: the CI machine must be Debian-based")
		}
		t.Skip("dpkg-query not found: this test reads a Debian/Ubuntu machine's package database")
	}
	out, err := exec.Command("dpkg-query", "-W", "-f=${Package}\t${Version}\t${source:Package}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var items []api.Item
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 3 || f[1] == "" { // config-files-only packages have no version
			continue
		}
		items = append(items, api.Item{Source: "dpkg", Name: f[0], Version: f[1], SourcePkg: f[2]})
	}
	if len(items) == 0 {
		t.Fatal("dpkg-query listed no packages")
	}
	return items
}

// TestRealDpkgDatabase matches this machine's installed packages and checks
// the known ones; it logs the coverage (go test -v -run RealDpkg).
func TestRealDpkgDatabase(t *testing.T) {
	m := defaultMatcher(t)
	items := dpkgItems(t)
	byName := map[string]api.Item{}
	for _, it := range items {
		byName[it.Name] = it
	}
	// What each package must match when it is installed here ("" = nothing).
	want := map[string]string{
		"python3.11": "python", "python3.11-minimal": "python", "python3": "python", "libpython3.11-stdlib": "python",
		"python3-openssl": "", "python3-yaml": "",
		"postgresql-15": "postgresql", "postgresql-client-15": "postgresql", "postgresql": "", "postgresql-contrib": "",
		"postgresql-common": "", "postgresql-client-common": "",
		"openjdk-17-jre-headless": "eclipse-temurin", "openjdk-17-jdk": "eclipse-temurin",
		"openssl": "openssl", "libssl3": "openssl", "libssl-dev": "",
		"perl": "perl", "perl-base": "perl", "libperl5.36": "perl",
		"nodejs": "nodejs", "sqlite3": "sqlite", "libsqlite3-0": "sqlite",
		"linux-libc-dev": "", "bash": "", "coreutils": "", "libc6": "",
		"nginx": "nginx", "apache2": "apache-http-server", "redis-server": "redis", "mariadb-server": "mariadb",
	}
	checked := 0
	for name, product := range want {
		it, ok := byName[name]
		if !ok {
			continue
		}
		checked++
		r, matched := m.Match(it)
		switch {
		case product == "" && matched:
			t.Errorf("Match(%s %s, source %s) = %s %s by %q, want no match", it.Name, it.Version, it.SourcePkg, r.Product, r.Version, r.Rule)
		case product != "" && (!matched || r.Product != product):
			t.Errorf("Match(%s %s) = %q (%v), want %s", it.Name, it.Version, r.Product, matched, product)
		case matched && r.Version != Upstream("dpkg", it.Version):
			t.Errorf("Match(%s %s).Version = %q, want the upstream %q", it.Name, it.Version, r.Version, Upstream("dpkg", it.Version))
		}
	}
	if checked == 0 {
		t.Log("none of the known packages is installed here; only coverage is reported")
	}
	cov := Cover(m, items)
	t.Logf("this machine: %d dpkg packages, %d matched (%.1f%%) to %d product versions, %d unmatched; %d known packages checked",
		cov.Items, cov.Matched, cov.Percent(), len(cov.Products), cov.Unmatched, checked)
	for _, p := range cov.Products {
		t.Logf("  %-20s %-14s %s", p.Product, p.Version, strings.Join(p.Items, " "))
	}
	// Every match must be a product the verdict knows.
	for _, p := range cov.Products {
		if m.Catalog().Product(p.Product) == nil {
			t.Errorf("matched product %q is not in the catalog", p.Product)
		}
	}
}

func lookDpkg() (string, error) { return exec.LookPath("dpkg-query") }

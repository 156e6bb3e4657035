package match

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

var (
	defOnce sync.Once
	defCat  *catalog.Catalog
	defErr  error
)

// defaultMatcher returns a matcher on the embedded default catalog.
func defaultMatcher(t testing.TB) *Matcher {
	t.Helper()
	defOnce.Do(func() { defCat, defErr = catalog.Default() })
	if defErr != nil {
		t.Fatalf("catalog.Default: %v", defErr)
	}
	return New(defCat)
}

func TestMatch(t *testing.T) {
	m := defaultMatcher(t)
	tests := []struct {
		it          api.Item
		product     string // "" = no match
		version     string
		ruleContain string
	}{
		// Debian/Ubuntu packages.
		{api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"}, "python", "3.11.2", "python versioned name"},
		{api.Item{Source: "dpkg", Name: "python3.11-minimal", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"}, "python", "3.11.2", "python versioned name"},
		{api.Item{Source: "dpkg", Name: "libpython3.11-stdlib", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"}, "python", "3.11.2", "python library"},
		{api.Item{Source: "dpkg", Name: "python3", Version: "3.11.2-1+b1", SourcePkg: "python3-defaults"}, "python", "3.11.2", "python3 default"},
		{api.Item{Source: "dpkg", Name: "python3-openssl", Version: "23.0.0-1", SourcePkg: "pyopenssl"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "postgresql-15", Version: "15.18-0+deb12u1", SourcePkg: "postgresql-15"}, "postgresql", "15.18", "postgresql versioned"},
		{api.Item{Source: "dpkg", Name: "postgresql-client-15", Version: "15.18-0+deb12u1", SourcePkg: "postgresql-15"}, "postgresql", "15.18", "postgresql versioned"},
		{api.Item{Source: "dpkg", Name: "postgresql", Version: "15+248+deb12u1", SourcePkg: "postgresql-common"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "postgresql-contrib", Version: "15+248+deb12u1", SourcePkg: "postgresql-common"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1", SourcePkg: "linux-signed-amd64"}, "linux", "6.1.119", "linux kernel image"},
		{api.Item{Source: "dpkg", Name: "linux-libc-dev", Version: "6.1.187-1", SourcePkg: "linux"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "openjdk-17-jre-headless", Version: "17.0.15+6-1~deb12u1", SourcePkg: "openjdk-17"}, "eclipse-temurin", "17.0.15+6", "openjdk"},
		{api.Item{Source: "dpkg", Name: "libssl3", Version: "3.0.19-1~deb12u2", SourcePkg: "openssl"}, "openssl", "3.0.19", "openssl library"},
		{api.Item{Source: "dpkg", Name: "openssl", Version: "3.0.19-1~deb12u2", SourcePkg: "openssl"}, "openssl", "3.0.19", "repology openssl"},
		{api.Item{Source: "dpkg", Name: "libssl-dev", Version: "3.0.19-1~deb12u2", SourcePkg: "openssl"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "nginx", Version: "1.22.1-9+deb12u1", SourcePkg: "nginx"}, "nginx", "1.22.1", "nginx"},
		{api.Item{Source: "dpkg", Name: "nginx-common", Version: "1.22.1-9+deb12u1", SourcePkg: "nginx"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "apache2", Version: "2.4.62-1~deb12u2", SourcePkg: "apache2"}, "apache-http-server", "2.4.62", "apache2"},
		{api.Item{Source: "dpkg", Name: "nodejs", Version: "18.19.0+dfsg-6~deb12u2", SourcePkg: "nodejs"}, "nodejs", "18.19.0", "nodejs"},
		{api.Item{Source: "dpkg", Name: "php8.2-cli", Version: "8.2.26-1~deb12u1", SourcePkg: "php8.2"}, "php", "8.2.26", "rule php"},
		{api.Item{Source: "dpkg", Name: "php8.2-mysql", Version: "8.2.26-1~deb12u1", SourcePkg: "php8.2"}, "php", "8.2.26", "rule php"},
		{api.Item{Source: "dpkg", Name: "php", Version: "2:8.2+93", SourcePkg: "php-defaults"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "mariadb-server", Version: "1:10.11.6-0+deb12u1", SourcePkg: "mariadb"}, "mariadb", "10.11.6", "mariadb"},
		{api.Item{Source: "dpkg", Name: "redis-server", Version: "5:7.0.15-1~deb12u1", SourcePkg: "redis"}, "redis", "7.0.15", "redis"},
		{api.Item{Source: "dpkg", Name: "tomcat10", Version: "10.1.6-1+deb12u2", SourcePkg: "tomcat10"}, "tomcat", "10.1.6", "tomcat"},
		{api.Item{Source: "dpkg", Name: "docker-ce", Version: "5:27.3.1-1~debian.12~bookworm", SourcePkg: "docker-ce"}, "docker-engine", "27.3.1", "docker"},
		{api.Item{Source: "dpkg", Name: "git", Version: "1:2.39.5-0+deb12u3", SourcePkg: "git"}, "", "", ""}, // no git product in the default catalog
		{api.Item{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u4", SourcePkg: "perl"}, "perl", "5.36.0", "rule perl"},
		{api.Item{Source: "dpkg", Name: "libperl5.36", Version: "5.36.0-7+deb12u4", SourcePkg: "perl"}, "perl", "5.36.0", "rule perl"},
		{api.Item{Source: "dpkg", Name: "libalgorithm-diff-perl", Version: "1.201-1", SourcePkg: "libalgorithm-diff-perl"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "sqlite3", Version: "3.40.1-2+deb12u2", SourcePkg: "sqlite3"}, "sqlite", "3.40.1", "sqlite"},
		{api.Item{Source: "dpkg", Name: "libsqlite3-0", Version: "3.40.1-2+deb12u2", SourcePkg: "sqlite3"}, "sqlite", "3.40.1", "rule sqlite"},
		{api.Item{Source: "dpkg", Name: "firefox-esr", Version: "115.12.0esr-1~deb12u1", SourcePkg: "firefox-esr"}, "firefox", "115.12.0esr", "rule firefox"},
		{api.Item{Source: "dpkg", Name: "golang-1.19-go", Version: "1.19.8-2", SourcePkg: "golang-1.19"}, "go", "1.19.8", "go versioned"},
		{api.Item{Source: "dpkg", Name: "golang-go", Version: "2:1.19~1", SourcePkg: "golang-defaults"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "postgresql", Version: "15+248"}, "", "", ""}, // no source package given
		{api.Item{Source: "dpkg", Name: "spring", Version: "106.0+dfsg-2"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "loki", Version: "2.4.7.4-9"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "heartbeat", Version: "1:3.0.6-13"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "unity", Version: "7.5.1", SourcePkg: "unity"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "kubectl", Version: "1:528.0.0-0", SourcePkg: "kubectl"}, "", "", ""}, // Google Cloud SDK's
		{api.Item{Source: "dpkg", Name: "kubectl", Version: "1.29.1-1.1", SourcePkg: "kubernetes"}, "kubernetes", "1.29.1", "kubernetes"},
		{api.Item{Source: "dpkg", Name: "bash", Version: "5.2.15-2+b8", SourcePkg: "bash"}, "", "", ""},
		// A second reading of the whole Debian 12 archive: ruby-defaults' ruby is a meta-package at the
		// series' number (1:3.1), like php-defaults' php; Pigeonhole, built by the dovecot source at
		// Dovecot's version, is Pigeonhole at its own (Dovecot 2.3.N ships Pigeonhole 0.5.N, 2.4 both
		// at one version); PHP components named *-config and *-filesystem are components, not
		// configuration; nginx's embedded-Perl module is an nginx module, not a Perl module.
		{api.Item{Source: "dpkg", Name: "ruby", Version: "1:3.1", SourcePkg: "ruby-defaults"}, "", "", ""},
		{api.Item{Source: "dpkg", Name: "ruby", Version: "1:3.1"}, "", "", ""}, // no source package given
		{api.Item{Source: "dpkg", Name: "ruby3.1", Version: "3.1.2-7+deb12u1", SourcePkg: "ruby3.1"}, "ruby", "3.1.2", "ruby versioned name"},
		{api.Item{Source: "dpkg", Name: "dovecot-sieve", Version: "1:2.3.19.1+dfsg1-2.1+deb12u7", SourcePkg: "dovecot"}, "pigeonhole", "0.5.19", "pigeonhole"},
		{api.Item{Source: "dpkg", Name: "dovecot-managesieved", Version: "1:2.3.19.1+dfsg1-2.1+deb12u7", SourcePkg: "dovecot"}, "pigeonhole", "0.5.19", "pigeonhole"},
		{api.Item{Source: "dpkg", Name: "dovecot-sieve", Version: "1:2.4.1+dfsg1-6", SourcePkg: "dovecot"}, "pigeonhole", "2.4.1", "pigeonhole"},
		{api.Item{Source: "dpkg", Name: "dovecot-sieve", Version: "1:2.2.27-3+deb9u7", SourcePkg: "dovecot"}, "", "", ""}, // Pigeonhole 0.4 is not numbered after Dovecot 2.2
		{api.Item{Source: "dpkg", Name: "dovecot-core", Version: "1:2.3.19.1+dfsg1-2.1+deb12u7", SourcePkg: "dovecot"}, "dovecot", "2.3.19.1", "dovecot"},
		{api.Item{Source: "dpkg", Name: "php-symfony-config", Version: "5.4.53+dfsg-0+deb12u1", SourcePkg: "symfony"}, "symfony", "5.4.53", "symfony"},
		{api.Item{Source: "dpkg", Name: "php-symfony-filesystem", Version: "5.4.53+dfsg-0+deb12u1", SourcePkg: "symfony"}, "symfony", "5.4.53", "symfony"},
		{api.Item{Source: "dpkg", Name: "php-illuminate-filesystem", Version: "8.83.26+dfsg-2", SourcePkg: "php-laravel-framework"}, "laravel", "8.83.26", "laravel"},
		{api.Item{Source: "dpkg", Name: "libnginx-mod-http-perl", Version: "1.22.1-9+deb12u9", SourcePkg: "nginx"}, "nginx", "1.22.1", "nginx"},
		{api.Item{Source: "dpkg", Name: "gstreamer1.0-omx-generic-config", Version: "1.22.0-1", SourcePkg: "gst-omx"}, "", "", ""},
		// RHEL/Fedora.
		{api.Item{Source: "rpm", Name: "httpd", Version: "2.4.57-5.el9", SourcePkg: "httpd"}, "apache-http-server", "2.4.57", "httpd"},
		{api.Item{Source: "rpm", Name: "java-17-openjdk-headless", Version: "1:17.0.9.0.9-2.el9", SourcePkg: "java-17-openjdk"}, "redhat-build-of-openjdk", "17.0.9.0.9", "purl pkg:rpm/redhat/java-17-openjdk-headless"},
		{api.Item{Source: "rpm", Name: "python3.11", Version: "3.11.5-1.el9", SourcePkg: "python3.11"}, "python", "3.11.5", "python"},
		{api.Item{Source: "rpm", Name: "postgresql-server", Version: "13.14-1.el9", SourcePkg: "postgresql"}, "postgresql", "13.14", "postgresql"},
		{api.Item{Source: "rpm", Name: "openssl-libs", Version: "1:3.0.7-27.el9", SourcePkg: "openssl"}, "openssl", "3.0.7", "openssl library"},
		{api.Item{Source: "rpm", Name: "kernel-core", Version: "5.14.0-362.8.1.el9_3", SourcePkg: "kernel"}, "linux", "5.14.0", "kernel"},
		// From real lists (testdata/lists/*-real*).
		{api.Item{Source: "rpm", Name: "npm", Version: "1:6.14.4-1.10.21.0.3.module_el8.2.0+391+8da3adc6", SourcePkg: "nodejs"}, "", "", ""},
		{api.Item{Source: "apk", Name: "npm", Version: "10.13.0-r0", SourcePkg: "nodejs"}, "", "", ""},
		{api.Item{Source: "rpm", Name: "python-libs", Version: "2.7.5-76.el7", SourcePkg: "python"}, "python", "2.7.5", "python3 (rpm/apk)"},
		{api.Item{Source: "rpm", Name: "httpd24-httpd", Version: "2.4.34-7.el7", SourcePkg: "httpd24-httpd"}, "apache-http-server", "2.4.34", "httpd"},
		{api.Item{Source: "rpm", Name: "httpd24-mod_ssl", Version: "1:2.4.34-7.el7", SourcePkg: "httpd24-httpd"}, "apache-http-server", "2.4.34", "httpd"},
		{api.Item{Source: "rpm", Name: "httpd24-runtime", Version: "1.1-18.el7", SourcePkg: "httpd24"}, "", "", ""},
		{api.Item{Source: "apk", Name: "libcrypto1.1", Version: "1.1.1s-r0", SourcePkg: "openssl"}, "openssl", "1.1.1s", "openssl library"},
		{api.Item{Source: "rpm", Name: "python3-requests", Version: "2.25.1-8.el9", SourcePkg: "python-requests"}, "", "", ""},
		{api.Item{Source: "rpm", Name: "php-mysqlnd", Version: "8.0.30-1.el9_2", SourcePkg: "php"}, "php", "8.0.30", "php"},
		{api.Item{Source: "rpm", Name: "php-devel", Version: "8.0.30-1.el9_2", SourcePkg: "php"}, "", "", ""},
		{api.Item{Source: "rpm", Name: "dovecot-pigeonhole", Version: "1:2.3.16-11.el9", SourcePkg: "dovecot"}, "pigeonhole", "0.5.16", "pigeonhole"},
		// Alpine.
		{api.Item{Source: "apk", Name: "nginx", Version: "1.24.0-r7"}, "nginx", "1.24.0", "nginx"},
		{api.Item{Source: "apk", Name: "libssl3", Version: "3.1.4-r0", SourcePkg: "openssl"}, "openssl", "3.1.4", "openssl"},
		{api.Item{Source: "apk", Name: "postgresql15", Version: "15.5-r0"}, "postgresql", "15.5", "postgresql"},
		{api.Item{Source: "apk", Name: "python3", Version: "3.11.6-r0"}, "python", "3.11.6", "python3"},
		{api.Item{Source: "apk", Name: "php83-pdo", Version: "8.3.10-r0", SourcePkg: "php83"}, "php", "8.3.10", "php"},
		{api.Item{Source: "apk", Name: "dovecot-pigeonhole-plugin", Version: "2.3.21.1-r0", SourcePkg: "dovecot"}, "pigeonhole", "0.5.21", "pigeonhole"},
		// Windows programs.
		{api.Item{Source: "windows-registry", Name: "Python 3.11.5 (64-bit)", Version: "3.11.5150.0", Publisher: "Python Software Foundation"}, "python", "3.11.5", "windows python"},
		{api.Item{Source: "windows-registry", Name: "Python Launcher", Version: "3.11.5150.0"}, "", "", ""},
		{api.Item{Source: "windows-registry", Name: "Mozilla Firefox (x64 en-US)", Version: "121.0", Publisher: "Mozilla"}, "firefox", "121.0", "windows firefox"},
		{api.Item{Source: "windows-registry", Name: "Java 8 Update 391 (64-bit)", Version: "8.0.3910.13", Publisher: "Oracle Corporation"}, "oracle-jdk", "8u391", "windows java update"},
		{api.Item{Source: "windows-registry", Name: "Microsoft .NET Runtime - 8.0.1 (x64)", Version: "64.4.31217"}, "dotnet", "8.0.1", "windows dotnet"},
		{api.Item{Source: "windows-registry", Name: "Notepad++ (64-bit x64)", Version: "8.6"}, "notepad-plus-plus", "8.6", "notepad++"},
		{api.Item{Source: "windows-registry", Name: "Wireshark 4.2.0 64-bit", Version: "4.2.0"}, "wireshark", "4.2.0", "wireshark"},
		{api.Item{Source: "windows-registry", Name: "Blender", Version: "4.0.2"}, "blender", "4.0.2", "product label"},
		{api.Item{Source: "windows-registry", Name: "7-Zip 23.01 (x64)", Version: "23.01"}, "", "", ""},
		{api.Item{Source: "windows-registry", Name: "Ivanti Endpoint Manager Agent", Version: "11.0.5.361", Publisher: "Ivanti"}, "", "", ""},
		// macOS apps, probes, the OS item.
		{api.Item{Source: "macos-app", Name: "Firefox", Version: "121.0", BundleID: "org.mozilla.firefox"}, "firefox", "121.0", "macos firefox"},
		{api.Item{Source: "macos-app", Name: "Blender", Version: "4.0.2", BundleID: "org.blenderfoundation.blender"}, "blender", "4.0.2", "product label"},
		{api.Item{Source: "probe", Name: "pg-main", Version: "16.1", Product: "postgresql"}, "postgresql", "16.1", "product hint"},
		{api.Item{Source: "probe", Name: "pg-main", Version: "16.1", Product: "no-such-product"}, "", "", ""},
		{api.Item{Source: "os", Name: "debian", Version: "12", Product: "debian"}, "debian", "12.15", "os debian"},
	}
	for _, tt := range tests {
		t.Run(caseName(tt.it), func(t *testing.T) {
			checkMatch(t, m, tt.it, tt.product, tt.version, tt.ruleContain)
		})
	}
}

// caseName names a table case after its item: "dpkg/python3.11-minimal".
func caseName(it api.Item) string { return it.Source + "/" + it.Name }

// checkMatch checks that m matches it to product at version by a rule
// whose name contains rule ("" product: no match), and that Explain agrees.
func checkMatch(t *testing.T, m *Matcher, it api.Item, product, version, rule string) {
	t.Helper()
	r, ok := m.Match(it)
	if product == "" {
		if ok {
			t.Errorf("Match(%s %q %q) = %s %s by %q, want no match\n%s", it.Source, it.Name, it.Version, r.Product, r.Version, r.Rule,
				strings.Join(m.Explain(it).Steps, "\n"))
		}
		return
	}
	if !ok {
		t.Errorf("Match(%s %q %q) = no match, want %s %s\n%s", it.Source, it.Name, it.Version, product, version,
			strings.Join(m.Explain(it).Steps, "\n"))
		return
	}
	if r.Product != product || r.Version != version {
		t.Errorf("Match(%s %q %q) = %s %s (rule %q), want %s %s", it.Source, it.Name, it.Version, r.Product, r.Version, r.Rule, product, version)
	}
	if !strings.Contains(r.Rule, rule) {
		t.Errorf("Match(%s %q).Rule = %q, want it to contain %q", it.Source, it.Name, r.Rule, rule)
	}
	if r.Why == "" {
		t.Errorf("Match(%s %q).Why is empty", it.Source, it.Name)
	}
	// Explain must agree with Match.
	e := m.Explain(it)
	if !e.Matched || e.Product != r.Product || e.Version != r.Version || len(e.Steps) == 0 {
		t.Errorf("Explain(%s %q) = %+v, disagrees with Match %+v", it.Source, it.Name, e, r)
	}
}

func TestMatchOS(t *testing.T) {
	m := defaultMatcher(t)
	tests := []struct {
		h              api.HostInfo
		product, cycle string // product "" = no match
		version        string
	}{
		{api.HostInfo{OS: "linux", OSID: "debian", OSVersion: "12", OSName: "Debian GNU/Linux 12 (bookworm)"}, "debian", "12", "12.15"},
		{api.HostInfo{OS: "linux", OSID: "debian", OSVersion: "12.11", OSName: "Debian GNU/Linux 12 (bookworm)"}, "debian", "12", "12.11"},
		{api.HostInfo{OS: "linux", OSID: "ubuntu", OSVersion: "22.04", OSName: "Ubuntu 22.04.4 LTS"}, "ubuntu", "22.04", "22.04.4"},
		{api.HostInfo{OS: "linux", OSID: "alpine", OSVersion: "3.19.1"}, "alpine-linux", "3.19", "3.19.1"},
		{api.HostInfo{OS: "linux", OSID: "rhel", OSVersion: "9.3"}, "rhel", "9", "9.3"},
		{api.HostInfo{OS: "darwin", OSID: "macos", OSVersion: "14.5", OSBuild: "23F79"}, "macos", "14", "14.5"},
		{api.HostInfo{OS: "darwin", OSVersion: "14.5"}, "macos", "14", "14.5"},
		{api.HostInfo{OS: "windows", OSID: "windows", OSName: "Windows 11 Enterprise", OSVersion: "23H2", OSBuild: "10.0.22631.3296"}, "windows", "11-23h2-e", "10.0.22631.3296 (e)"},
		{api.HostInfo{OS: "windows", OSID: "windows", OSName: "Windows 11 Pro", OSVersion: "23H2", OSBuild: "10.0.22631.3296"}, "windows", "11-23h2-w", "10.0.22631.3296 (w)"},
		{api.HostInfo{OS: "windows", OSName: "Windows 10 Enterprise LTSC 2021", OSBuild: "10.0.19044.4046"}, "windows", "10-21h2-e-lts", "10.0.19044.4046 (e lts)"},
		{api.HostInfo{OS: "windows", OSName: "Windows 10 IoT Enterprise LTSC 2021", OSBuild: "10.0.19044.4046"}, "windows", "10-21h2-iot-lts", "10.0.19044.4046 (iot lts)"},
		{api.HostInfo{OS: "windows", OSName: "Windows 10 Pro", OSBuild: "10.0.19045.3693"}, "windows", "10-22h2", "10.0.19045.3693"},
		{api.HostInfo{OS: "windows", OSName: "Windows Server 2022 Standard", OSBuild: "10.0.20348.2113"}, "windows-server", "2022", "10.0.20348.2113"},
		{api.HostInfo{OS: "linux", OSID: "plan9", OSVersion: "4"}, "", "", ""},
		{api.HostInfo{OS: "linux"}, "", "", ""},
	}
	cat := m.Catalog()
	asOf := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		name := strings.TrimSpace(tt.h.OSID + " " + tt.h.OSName + " " + tt.h.OSVersion + " " + tt.h.OSBuild)
		t.Run(name, func(t *testing.T) {
			r, ok := m.MatchOS(tt.h)
			if tt.product == "" {
				if ok {
					t.Errorf("MatchOS(%+v) = %+v, want no match", tt.h, r)
				}
				return
			}
			if !ok || r.Product != tt.product || r.Version != tt.version {
				t.Fatalf("MatchOS(%q %q %q) = %+v, %v; want %s %s\n%s", tt.h.OSID, tt.h.OSName, tt.h.OSBuild, r, ok, tt.product, tt.version,
					strings.Join(m.ExplainOS(tt.h).Steps, "\n"))
			}
			if r.Cycle != "" && r.Cycle != tt.cycle {
				t.Errorf("MatchOS(%q).Cycle = %q, want %q", tt.h.OSName, r.Cycle, tt.cycle)
			}
			// The catalog must put the matched version in the same cycle.
			if v := cat.Evaluate(r.Product, r.Version, asOf, catalog.DefaultPolicy()); v.Cycle != tt.cycle {
				t.Errorf("Evaluate(%s, %q).Cycle = %q, want %q (%s)", r.Product, r.Version, v.Cycle, tt.cycle, v.Reason)
			}
		})
	}
}

func TestMatchAllDedupes(t *testing.T) {
	m := defaultMatcher(t)
	items := []api.Item{
		{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"},
		{Source: "dpkg", Name: "python3.11-minimal", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"},
		{Source: "dpkg", Name: "python3.12", Version: "3.12.1-1", SourcePkg: "python3.12"},
		{Source: "dpkg", Name: "bash", Version: "5.2.15-2+b8", SourcePkg: "bash"},
	}
	got, unmatched := m.MatchAll(items)
	if unmatched != 1 || len(got) != 3 {
		t.Fatalf("MatchAll = %d matched, %d unmatched; want 3, 1", len(got), unmatched)
	}
	if got[0].Duplicate || !got[1].Duplicate || got[2].Duplicate {
		t.Errorf("MatchAll duplicates = %v %v %v, want false true false", got[0].Duplicate, got[1].Duplicate, got[2].Duplicate)
	}
}

// ivantiCatalog is a user catalog file adding a product the default
// catalog lacks, in the project's own format.
const ivantiCatalog = `{"format": "eolwatch-catalog/v1", "source": "test", "products": [
 {"id": "ivanti-endpoint-manager", "label": "Ivanti Endpoint Manager", "category": "app",
  "cycles": [{"name": "2024", "release": "2024-01-10", "eol": "2027-01-10", "latest": "11.0.6.300"},
             {"name": "2022", "release": "2022-06-01", "eol": "2025-01-10", "latest": "11.0.5.400"}]},
 {"id": "git", "label": "Git", "category": "app",
  "cycles": [{"name": "2.39", "release": "2022-12-12", "eol": false, "latest": "2.39.5"}]}]}`

func TestUserRulesAndExtraCatalog(t *testing.T) {
	m := defaultMatcher(t)
	extra, err := catalog.Parse("ivanti.json", []byte(ivantiCatalog))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	cat := catalog.Merge(m.Catalog(), extra)
	rules, err := ParseRules("rules.yaml", strings.NewReader(`
rules:
  - id: our agent
    sources: [windows-registry]
    pattern: 'acme agent (\d+\.\d+)'
    product: ivanti-endpoint-manager
    version: "11.0.${1}"
    why: the ACME-branded build of the Ivanti agent
  - id: no internal tools
    sources: [dpkg]
    prefix: acme-
    ignore: true
  - id: acme updater
    sources: [windows-registry]
    name: ACME Updater
    version_pattern: '(\d+)\.(\d+)'
    version: "11.0.${v1}.${v2}"
    product: ivanti-endpoint-manager
    why: the ACME updater is numbered after the agent's last two parts
`))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}
	um, err := NewWithRules(cat, rules)
	if err != nil {
		t.Fatalf("NewWithRules: %v", err)
	}
	tests := []struct {
		name             string
		it               api.Item
		product, version string
	}{
		// The built-in Ivanti and git rules apply once the catalog has the products.
		{"built-in ivanti rule", api.Item{Source: "windows-registry", Name: "Ivanti Endpoint Manager Agent", Version: "11.0.5.361", Publisher: "Ivanti"}, "ivanti-endpoint-manager", "11.0.5.361"},
		{"ivanti rule needs the publisher", api.Item{Source: "windows-registry", Name: "Ivanti Endpoint Manager Agent", Version: "11.0.5.361", Publisher: "Someone Else"}, "", ""},
		{"built-in git rule", api.Item{Source: "dpkg", Name: "git", Version: "1:2.39.5-0+deb12u3", SourcePkg: "git"}, "git", "2.39.5"},
		{"user pattern with version template", api.Item{Source: "windows-registry", Name: "ACME Agent 5.361", Version: "1"}, "ivanti-endpoint-manager", "11.0.5.361"},
		{"user ignore rule", api.Item{Source: "dpkg", Name: "acme-nginx", Version: "1.0", SourcePkg: "nginx"}, "", ""},
		{"user version template from the version", api.Item{Source: "windows-registry", Name: "ACME Updater", Version: "5.361"}, "ivanti-endpoint-manager", "11.0.5.361"},
		{"version that does not match version_pattern", api.Item{Source: "windows-registry", Name: "ACME Updater", Version: "beta"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := um.Match(tt.it)
			if ok != (tt.product != "") || r.Product != tt.product || r.Version != tt.version {
				t.Errorf("Match(%q) = %+v, %v; want %q %q\n%s", tt.it.Name, r, ok, tt.product, tt.version, strings.Join(um.Explain(tt.it).Steps, "\n"))
			}
		})
	}
	v := cat.Evaluate("ivanti-endpoint-manager", "11.0.5.361", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), catalog.DefaultPolicy())
	if v.Support == catalog.SupportUnknownProduct {
		t.Errorf("Evaluate(ivanti) = %+v, want a known product", v)
	}
	// Without the product, explain says the rule was skipped for that reason.
	e := m.Explain(api.Item{Source: "windows-registry", Name: "Ivanti Endpoint Manager Agent", Version: "11.0.5.361", Publisher: "Ivanti"})
	if e.Matched || !strings.Contains(strings.Join(e.Steps, "\n"), "no product") {
		t.Errorf("Explain(ivanti) on the default catalog = %+v, want a skipped rule naming the missing product", e)
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"neither product nor ignore", "rules:\n  - id: x\n    name: a\n", "either product or ignore"},
		{"two selectors", "rules:\n  - id: x\n    name: a\n    prefix: b\n    product: p\n", "exactly one of"},
		{"no id", "rules:\n  - name: a\n    product: p\n", "no id"},
		{"bad pattern", "rules:\n  - id: x\n    pattern: '(('\n    product: p\n", "pattern"},
		{"bad source pattern", "rules:\n  - id: x\n    source_pattern: 'qt[5'\n    product: p\n", "pattern"},
		{"unknown source", "rules:\n  - id: x\n    name: a\n    product: p\n    sources: [floppy]\n", `unknown source "floppy"`},
		{"unknown role", "rules:\n  - id: x\n    source_pkg: a\n    product: p\n    roles: [debug]\n", `unknown role "debug"`},
		{"unknown field", "rules:\n  - id: x\n    name: a\n    product: p\n    colour: red\n", "colour"},
		{"template without pattern", "rules:\n  - id: x\n    name: a\n    product: p\n    version: '${1}'\n", "needs a pattern"},
		{"version groups without version_pattern", "rules:\n  - id: x\n    name: a\n    product: p\n    version: '0.5.${v1}'\n", "version_pattern"},
		{"version group beyond version_pattern's", "rules:\n  - id: x\n    name: a\n    product: p\n    version: '${v2}'\n    version_pattern: '2\\.3\\.(\\d+)'\n", "1 group"},
		{"name and version groups mixed", "rules:\n  - id: x\n    pattern: 'a(\\d)'\n    product: p\n    version: '${1}.${v1}'\n    version_pattern: '(\\d+)'\n", "mixes"},
		{"not yaml", "rules: [", "rules.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules("rules.yaml", strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseRules(%q) error = %v, want one containing %q", tt.doc, err, tt.want)
			}
		})
	}
	if rs, err := ParseRules("empty.yaml", strings.NewReader("")); err != nil || len(rs) != 0 {
		t.Errorf("ParseRules(empty) = %v, %v; want no rules and no error", rs, err)
	}
}

func TestBuiltinRulesCompile(t *testing.T) {
	seen := map[string]bool{}
	for i, r := range BuiltinRules() {
		if err := r.compile(); err != nil {
			t.Errorf("built-in rule %d: %v", i+1, err)
		}
		if seen[r.ID] {
			t.Errorf("built-in rule id %q is used twice", r.ID)
		}
		seen[r.ID] = true
		if r.Why == "" {
			t.Errorf("built-in rule %q has no why", r.ID)
		}
	}
}

// FuzzParseRules checks that no rules file makes the parser or the
// matcher built from its rules panic.
func FuzzParseRules(f *testing.F) {
	f.Add("rules:\n  - id: x\n    pattern: 'foo(\\d+)'\n    product: python\n    version: '${1}'\n")
	f.Add("rules:\n  - id: y\n    prefix: bar\n    ignore: true\n")
	f.Add("rules: []\n")
	f.Add("rules:\n  - id: z\n    name: foo12\n    version_pattern: '(\\d+)\\.(\\d+)'\n    version: '0.${v2}.${v1}'\n    product: python\n")
	f.Fuzz(func(t *testing.T, doc string) {
		rules, err := ParseRules("fuzz.yaml", strings.NewReader(doc))
		if err != nil {
			return
		}
		m, err := NewWithRules(nil, rules)
		if err != nil {
			t.Fatalf("rules accepted by ParseRules rejected by NewWithRules: %v", err)
		}
		m.Match(api.Item{Source: "dpkg", Name: "foo12", Version: "1.0-1"})
	})
}

// TestRoles checks that a package's role, from its name or its metadata,
// decides whether a rule or identifier may claim it.
func TestRoles(t *testing.T) {
	m := defaultMatcher(t)
	tests := []struct {
		name    string
		it      api.Item
		product string
	}{
		{"kernel image", api.Item{Source: "dpkg", Name: "linux-image-6.1.0-28-amd64", Version: "6.1.119-1", SourcePkg: "linux-signed-amd64"}, "linux"},
		{"kernel debug symbols by name", api.Item{Source: "dpkg", Name: "linux-image-6.1.0-28-amd64-dbg", Version: "6.1.119-1", SourcePkg: "linux"}, ""},
		{"kernel signing template", api.Item{Source: "dpkg", Name: "linux-image-6.12-amd64-signed-template", Version: "6.12.117-1", SourcePkg: "linux"}, ""},
		{"editor syntax of a product's source", api.Item{Source: "dpkg", Name: "vim-haproxy", Version: "2.6.12-1", SourcePkg: "haproxy"}, ""},
		{"program of a product's source", api.Item{Source: "dpkg", Name: "haproxy", Version: "2.6.12-1", SourcePkg: "haproxy"}, "haproxy"},
		{"transitional by summary", api.Item{Source: "dpkg", Name: "haproxy", Version: "2.6.12-1", SourcePkg: "haproxy", Summary: "transitional dummy package"}, ""},
		{"debug by section", api.Item{Source: "dpkg", Name: "haproxy", Version: "2.6.12-1", SourcePkg: "haproxy", Section: "debug"}, ""},
		{"debug by section with area", api.Item{Source: "dpkg", Name: "haproxy", Version: "2.6.12-1", SourcePkg: "haproxy", Section: "contrib/debug"}, ""},
		{"documentation by summary", api.Item{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx", Summary: "small, powerful web server - documentation"}, ""},
		{"summary that says nothing of a role", api.Item{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx", Summary: "small, powerful, scalable web/proxy server"}, "nginx"},
		{"section of a program", api.Item{Source: "dpkg", Name: "nginx", Version: "1.22.1-9", SourcePkg: "nginx", Section: "httpd"}, "nginx"},
		{"rpm debuginfo", api.Item{Source: "rpm", Name: "httpd-debuginfo", Version: "2.4.57-5.el9", SourcePkg: "httpd"}, ""},
		{"rpm devel", api.Item{Source: "rpm", Name: "httpd-devel", Version: "2.4.57-5.el9", SourcePkg: "httpd"}, ""},
		{"rpm perl module named perl-*", api.Item{Source: "rpm", Name: "perl-DBI", Version: "1.643-9.el9", SourcePkg: "perl-DBI"}, ""},
		{"debian perl-base is perl", api.Item{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7", SourcePkg: "perl"}, "perl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := m.Match(tt.it)
			if ok != (tt.product != "") || r.Product != tt.product {
				t.Errorf("Match(%+v) = %q (%v) by %q, want %q\n%s", tt.it, r.Product, ok, r.Rule, tt.product, strings.Join(m.Explain(tt.it).Steps, "\n"))
			}
		})
	}
}

func TestNameRole(t *testing.T) {
	tests := []struct {
		source, name string
		want         role
	}{
		{"dpkg", "nginx", roleProgram}, {"dpkg", "libssl3", roleLibrary}, {"dpkg", "libssl-dev", roleDev},
		{"dpkg", "python3-django", roleModule}, {"dpkg", "liblog4j2-java", roleModule}, {"dpkg", "erlang-jinterface", roleModule},
		{"dpkg", "erlang-manpages", roleDoc}, {"dpkg", "erlang-mode", roleEditor}, {"dpkg", "clamav-testfiles", roleTests},
		{"dpkg", "fonts-opensymbol", roleData}, {"dpkg", "nginx-common", roleData}, {"dpkg", "firefox-esr-l10n-de", roleL10n},
		{"dpkg", "libreoffice-writer", roleProgram}, {"dpkg", "libapache2-mod-php8.2", roleProgram},
		{"dpkg", "libreoffice-help-de", roleDoc}, {"dpkg", "linux-headers-6.1.0-28-amd64", roleDev},
		{"dpkg", "linux-source-6.1", roleSource}, {"dpkg", "golang-1.19-src", roleSource}, {"dpkg", "qtbase5-examples", roleExamples},
		{"dpkg", "perl-base", roleProgram}, {"rpm", "perl-interpreter", roleModule}, {"rpm", "openssl-libs", roleLibrary},
		{"apk", "nginx-doc", roleDoc}, {"apk", "py3-django", roleModule},
		{"dpkg", "php-symfony-config", roleModule}, {"dpkg", "php-illuminate-filesystem", roleModule},
		{"dpkg", "gstreamer1.0-omx-generic-config", roleData}, {"rpm", "httpd-filesystem", roleData}, {"rpm", "perl-filesystem", roleData},
	}
	for _, tt := range tests {
		t.Run(tt.source+"/"+tt.name, func(t *testing.T) {
			if got := nameRole(tt.source, tt.name); got != tt.want {
				t.Errorf("nameRole(%q, %q) = %s, want %s", tt.source, tt.name, got, tt.want)
			}
		})
	}
}

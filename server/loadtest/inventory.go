package loadtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"sort"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

// ParseDpkgList reads `dpkg-query -W -f='${Package}\t${Version}\t${source:Package}\n'`
// output: the template the generated inventories are built from.
func ParseDpkgList(r io.Reader) ([]api.Item, error) {
	var items []api.Item
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 2 {
			return nil, fmt.Errorf("template line %d: want PACKAGE<TAB>VERSION[<TAB>SOURCE], got %q", n, line)
		}
		if f[1] == "" {
			continue // config-files only
		}
		it := api.Item{Source: "dpkg", Name: f[0], Version: f[1]}
		if len(f) > 2 && f[2] != f[0] {
			it.SourcePkg = f[2]
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("template: no packages")
	}
	return items, nil
}

// LocalDpkgList returns this machine's package list, or an error when
// dpkg-query is missing.
func LocalDpkgList() ([]api.Item, error) {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Package}\t${Version}\t${source:Package}\n").Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-query: %w", err)
	}
	return ParseDpkgList(bytes.NewReader(out))
}

// fallbackTemplate is used when there is no dpkg database: a slice of a
// Debian 12 server's packages.
var fallbackTemplate = []api.Item{
	{Source: "dpkg", Name: "base-files", Version: "12.4+deb12u11"}, {Source: "dpkg", Name: "bash", Version: "5.2.15-2+b8"},
	{Source: "dpkg", Name: "coreutils", Version: "9.1-1"}, {Source: "dpkg", Name: "libc6", Version: "2.36-9+deb12u10", SourcePkg: "glibc"},
	{Source: "dpkg", Name: "libssl3", Version: "3.0.16-1~deb12u1", SourcePkg: "openssl"}, {Source: "dpkg", Name: "openssl", Version: "3.0.16-1~deb12u1"},
	{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u2", SourcePkg: "perl"}, {Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u5"},
	{Source: "dpkg", Name: "python3.11-minimal", Version: "3.11.2-6+deb12u5", SourcePkg: "python3.11"}, {Source: "dpkg", Name: "systemd", Version: "252.36-1~deb12u1"},
	{Source: "dpkg", Name: "openssh-server", Version: "1:9.2p1-2+deb12u5", SourcePkg: "openssh"}, {Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12"},
	{Source: "dpkg", Name: "sqlite3", Version: "3.40.1-2+deb12u1"}, {Source: "dpkg", Name: "libsqlite3-0", Version: "3.40.1-2+deb12u1", SourcePkg: "sqlite3"},
	{Source: "dpkg", Name: "git", Version: "1:2.39.5-0+deb12u2"}, {Source: "dpkg", Name: "tzdata", Version: "2025b-0+deb12u1"},
}

// serverPackages are products a fleet runs here and there: each host gets
// a random subset, with versions from the catalog, so verdicts vary.
var serverPackages = []struct{ name, product string }{
	{"nginx", "nginx"}, {"apache2", "apache-http-server"}, {"redis-server", "redis"}, {"mariadb-server", "mariadb"},
	{"postgresql-NN", "postgresql"}, {"phpX.Y-cli", "php"}, {"nodejs", "nodejs"}, {"tomcatNN", "tomcat"},
	{"openjdk-NN-jre-headless", "eclipse-temurin"}, {"docker-ce", "docker-engine"}, {"containerd.io", "containerd"},
	{"rabbitmq-server", "rabbitmq"}, {"haproxy", "haproxy"}, {"squid", "squid"}, {"postfix", "postfix"},
	{"exim4-daemon-light", "exim"}, {"dovecot-core", "dovecot"}, {"firefox-esr", "firefox"}, {"ruby3.1", "ruby"},
	{"golang-1.NN-go", "go"}, {"memcached", "memcached"}, {"elasticsearch", "elasticsearch"}, {"grafana", "grafana"},
	{"zabbix-agent", "zabbix"}, {"linux-image-NN-amd64", "linux"},
}

// versionPick is one version of a product a generated package may carry.
type versionPick struct {
	cycle   string
	version string
}

// Generator builds deterministic, realistic inventories: host i always
// gets the same inventory for the same seed.
type Generator struct {
	template []api.Item
	items    int
	seed     uint64
	// per template index: versions to vary matched items with (nil = keep)
	variants map[int][]versionPick
	servers  []serverPkg
}

type serverPkg struct {
	product string
	name    string
	picks   []versionPick
}

// NewGenerator prepares inventories of items items per host from template,
// varying the versions of the items that match a catalog product (and
// adding server packages) with versions from cat.
func NewGenerator(template []api.Item, items int, cat *catalog.Catalog, seed uint64) *Generator {
	if len(template) == 0 {
		template = fallbackTemplate
	}
	g := &Generator{template: template, items: items, seed: seed, variants: map[int][]versionPick{}}
	m := match.New(cat)
	for i, it := range template {
		r, ok := m.Match(it)
		if !ok {
			continue
		}
		if picks := versionsOf(cat, r.Product, r.Version); len(picks) > 0 {
			g.variants[i] = picks
		}
	}
	for _, sp := range serverPackages {
		if picks := versionsOf(cat, sp.product, ""); len(picks) > 0 {
			g.servers = append(g.servers, serverPkg{product: sp.product, name: sp.name, picks: picks})
		}
	}
	return g
}

// versionsOf lists versions of up to six recent cycles of product (their
// latest and older dated patches). When current is set, versions of its
// cycle come first so most hosts stay on the cycle the name implies.
func versionsOf(cat *catalog.Catalog, product, current string) []versionPick {
	p := cat.Product(product)
	if p == nil {
		return nil
	}
	var out []versionPick
	for i, c := range p.Cycles {
		if i >= 6 {
			break
		}
		if c.Latest != "" && !strings.ContainsAny(c.Latest, " ") {
			out = append(out, versionPick{c.Name, c.Latest})
		}
		for j, r := range c.Releases {
			if j >= 4 {
				break
			}
			if r.Version != c.Latest && !strings.ContainsAny(r.Version, " ") {
				out = append(out, versionPick{c.Name, r.Version})
			}
		}
	}
	if current != "" {
		cyc := ""
		if v := cat.Evaluate(product, current, timeZero, catalog.DefaultPolicy()); v.Cycle != "" {
			cyc = v.Cycle
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].cycle == cyc && out[j].cycle != cyc })
	}
	return out
}

// debVersion spells an upstream version as a Debian package version.
func debVersion(upstream string, rng *rand.Rand) string {
	return fmt.Sprintf("%s-%d+deb12u%d", upstream, 1+rng.IntN(3), 1+rng.IntN(9))
}

// Host returns host i's identity.
func (g *Generator) Host(i int) api.HostInfo {
	rng := rand.New(rand.NewPCG(g.seed, uint64(i)*2+1))
	oses := []struct{ id, ver, name string }{
		{"debian", "12", "Debian GNU/Linux 12 (bookworm)"}, {"debian", "11", "Debian GNU/Linux 11 (bullseye)"},
		{"ubuntu", "22.04", "Ubuntu 22.04.4 LTS"}, {"ubuntu", "24.04", "Ubuntu 24.04.1 LTS"}, {"debian", "13", "Debian GNU/Linux 13 (trixie)"},
	}
	o := oses[rng.IntN(len(oses))]
	return api.HostInfo{
		InstallID: fmt.Sprintf("loadgen-%016x-%08d", g.seed, i),
		Hostname:  fmt.Sprintf("load-%06d.example.test", i),
		MachineID: fmt.Sprintf("%032x", rng.Uint64()),
		OS:        "linux", Arch: "amd64", OSName: o.name, OSID: o.id, OSVersion: o.ver,
		Kernel: "6.1.0-28-amd64", AgentVersion: "loadgen",
	}
}

// Inventory returns host i's items (always the same for the same i) and
// the inventory hash sent with its reports. variant > 0 changes a few
// items, as an upgrade would.
func (g *Generator) Inventory(i, variant int) ([]api.Item, string) {
	rng := rand.New(rand.NewPCG(g.seed, uint64(i)*2))
	items := make([]api.Item, 0, g.items)
	seen := make(map[string]bool, g.items)
	add := func(it api.Item) {
		if len(items) < g.items && !seen[it.Name] {
			seen[it.Name] = true
			items = append(items, it)
		}
	}
	// Server packages first: 5 to 15 per host.
	n := 5 + rng.IntN(11)
	for _, k := range rng.Perm(len(g.servers)) {
		if n == 0 {
			break
		}
		sp := g.servers[k]
		pk := sp.picks[rng.IntN(len(sp.picks))]
		add(api.Item{Source: "dpkg", Name: serverName(sp.name, pk), Version: debVersion(pk.version, rng), Arch: "amd64"})
		n--
	}
	for pass := 0; len(items) < g.items; pass++ {
		for ti, t := range g.template {
			if len(items) >= g.items {
				break
			}
			it := t
			if pass > 0 { // past the template: more packages of the same shape
				it.Name = fmt.Sprintf("%s-x%d", t.Name, pass)
				it.SourcePkg = ""
			} else if picks := g.variants[ti]; picks != nil {
				// Most hosts stay on the cycle the name implies.
				k := rng.IntN(len(picks))
				if rng.IntN(10) < 7 {
					k = rng.IntN(min(len(picks), 4))
				}
				it.Version = debVersion(picks[k].version, rng)
			} else if rng.IntN(20) == 0 {
				it.Version += "+b1" // a rebuild on a few hosts: more distinct software rows
			}
			add(it)
		}
		if pass > 1000 {
			break
		}
	}
	for v := 0; v < variant && len(items) > 0; v++ {
		k := rng.IntN(len(items))
		items[k].Version += fmt.Sprintf("+upd%d", v+1)
	}
	return items, hashItems(items)
}

// serverName spells a server package for a picked cycle
// ("postgresql-NN" → "postgresql-15").
func serverName(name string, pk versionPick) string {
	if !strings.Contains(name, "NN") && !strings.Contains(name, "X.Y") {
		return name
	}
	major := pk.cycle
	if i := strings.IndexByte(major, '.'); i > 0 && !strings.Contains(name, "X.Y") && !strings.Contains(name, "1.NN") {
		major = major[:i]
	}
	if strings.Contains(name, "1.NN") {
		return strings.Replace(name, "1.NN", pk.cycle, 1)
	}
	if strings.Contains(name, "linux-image") {
		return strings.Replace(name, "NN", pk.cycle+".0-28", 1)
	}
	name = strings.Replace(name, "X.Y", pk.cycle, 1)
	return strings.Replace(name, "NN", major, 1)
}

// hashItems is the inventory hash: sha256 of the items' JSON in order.
func hashItems(items []api.Item) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, it := range items {
		enc.Encode(it)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Pairs returns (product, version) pairs found in host i's inventory, for
// eligibility queries by product and version.
func (g *Generator) Pairs(m *match.Matcher, i int) [][2]string {
	items, _ := g.Inventory(i, 0)
	var out [][2]string
	for _, it := range items {
		if r, ok := m.Match(it); ok {
			out = append(out, [2]string{r.Product, r.Version})
		}
	}
	return out
}

package agent

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

func collect(t *testing.T, c Collector, env *Env) []api.Item {
	t.Helper()
	items, err := c.Collect(context.Background(), env)
	if err != nil {
		t.Fatalf("%s.Collect: %v", c.Name(), err)
	}
	SortItems(items)
	return items
}

func TestDpkgCollectorFixture(t *testing.T) {
	got := collect(t, dpkgCollector{}, &Env{Root: "testdata/debian"})
	want := []api.Item{
		{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12", Arch: "amd64", SourcePkg: "curl",
			Summary: "command line tool for transferring data with URL syntax"},
		{Source: "dpkg", Name: "git", Version: "1:2.39.5-0+deb12u3", Arch: "amd64", SourcePkg: "git",
			Summary: "fast, scalable, distributed revision control system"},
		{Source: "dpkg", Name: "libc6", Version: "2.36-9+deb12u10", Arch: "amd64", SourcePkg: "glibc",
			Section: "libs", Summary: "GNU C Library: Shared libraries"},
		{Source: "dpkg", Name: "libc6", Version: "2.36-9+deb12u10", Arch: "i386", SourcePkg: "glibc",
			Summary: "GNU C Library: Shared libraries"},
		{Source: "dpkg", Name: "man-db", Version: "2.11.2-2", Arch: "amd64", SourcePkg: "man-db",
			Summary: "tools for reading manual pages"},
		{Source: "dpkg", Name: "postgresql-15", Version: "15.18-0+deb12u1", Arch: "amd64", SourcePkg: "postgresql-15",
			Summary: "The World's Most Advanced Open Source Relational Database"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dpkg items:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseDpkgStatusErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Package: a\nStatus: install ok\n", "line 2: Status"},
		{"Package: a\nnocolon here\n", "line 2: field"},
		{" leading continuation\n", "line 1: continuation"},
		{"Version: 1\nStatus: install ok installed\n\n", "line 1: stanza without a Package"},
	}
	for _, tt := range tests {
		err := parseDpkgStatus(strings.NewReader(tt.in), func(dpkgEntry) {})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseDpkgStatus(%q) = %v, want error containing %q", tt.in, err, tt.want)
		}
	}
}

// TestDpkgCollectorThisMachine compares the collector with dpkg-query on
// this machine's real database. dpkg may be busy (another engineer's apt),
// so a mismatch is retried a few times.
func TestDpkgCollectorThisMachine(t *testing.T) {
	if _, err := os.Stat(dpkgStatusPath); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	query := func() map[string]string {
		out, err := execCommand(context.Background(), false, "dpkg-query", "-W", "-f", "${db:Status-Status} ${Package}:${Architecture} ${Version}\n")
		if err != nil {
			t.Fatalf("dpkg-query: %v", err)
		}
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			if len(f) == 3 && dpkgInstalled(f[0]) {
				m[f[1]] = f[2]
			}
		}
		return m
	}
	var mine, theirs map[string]string
	for range 5 {
		items := collect(t, dpkgCollector{}, &Env{})
		mine = map[string]string{}
		for _, it := range items {
			mine[it.Name+":"+it.Arch] = it.Version
		}
		theirs = query()
		if reflect.DeepEqual(mine, theirs) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	if !reflect.DeepEqual(mine, theirs) {
		for k, v := range theirs {
			if mine[k] != v {
				t.Errorf("dpkg-query has %s %s, collector has %q", k, v, mine[k])
			}
		}
		for k := range mine {
			if _, ok := theirs[k]; !ok {
				t.Errorf("collector has %s, dpkg-query does not", k)
			}
		}
	}
	// The brief's own check: the count of "installed" packages, plus the
	// triggers-* states the collector also counts as installed.
	out, err := execCommand(context.Background(), false, "dpkg-query", "-W", "-f", "${db:Status-Status}\n")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range strings.Fields(string(out)) {
		if dpkgInstalled(s) {
			n++
		}
	}
	if len(mine) != n {
		t.Errorf("collector found %d packages, dpkg-query counts %d installed", len(mine), n)
	}
	t.Logf("%d installed packages", len(mine))
}

func TestRPMParse(t *testing.T) {
	f, err := os.Open("testdata/rpm/qa.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := parseRPMQuery(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []api.Item{
		{Source: "rpm", Name: "bash", Version: "5.1.8-9.el9", Arch: "x86_64", SourcePkg: "bash", Origin: "red hat, inc.",
			Summary: "The GNU Bourne Again shell"},
		{Source: "rpm", Name: "openssl", Version: "1:3.0.7-27.el9", Arch: "x86_64", SourcePkg: "openssl", Origin: "red hat, inc.",
			Summary: "Utilities from the general purpose cryptography library with TLS implementation"},
		{Source: "rpm", Name: "python3-libs", Version: "3.9.18-3.el9", Arch: "x86_64", SourcePkg: "python3.9", Origin: "red hat, inc."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseRPMQuery:\n got %+v\nwant %+v", got, want)
	}
	if _, err := parseRPMQuery(strings.NewReader("a\tb\n")); err == nil || !strings.Contains(err.Error(), "rpm line 1") {
		t.Errorf("parseRPMQuery(bad) = %v, want an error naming line 1", err)
	}
}

func TestRPMCollectorRunsRPM(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/rpm"), 0o755); err != nil {
		t.Fatal(err)
	}
	var gotArgs []string
	env := &Env{Root: root, Run: func(ctx context.Context, combined bool, name string, args ...string) ([]byte, error) {
		gotArgs = append([]string{name}, args...)
		return os.ReadFile("testdata/rpm/qa.txt")
	}}
	if _, err := (rpmCollector{}).Collect(context.Background(), env); !errors.Is(err, ErrAbsent) {
		t.Fatalf("empty rpm database: err = %v, want ErrAbsent", err)
	}
	os.WriteFile(filepath.Join(root, "var/lib/rpm/rpmdb.sqlite"), []byte("x"), 0o644)
	items := collect(t, rpmCollector{}, env)
	if len(items) != 3 {
		t.Errorf("rpm items = %d, want 3", len(items))
	}
	want := []string{"rpm", "--root", root, "-qa", "--queryformat", rpmQueryFormat}
	if !slices.Equal(gotArgs, want) {
		t.Errorf("rpm ran as %q, want %q", gotArgs, want)
	}
}

func TestAPKCollector(t *testing.T) {
	got := collect(t, apkCollector{}, &Env{Root: "testdata/alpine"})
	want := []api.Item{
		{Source: "apk", Name: "libcrypto3", Version: "3.3.2-r0", Arch: "x86_64", SourcePkg: "openssl"},
		{Source: "apk", Name: "musl", Version: "1.2.5-r0", Arch: "x86_64", SourcePkg: "musl",
			Summary: "the musl c library (libc) implementation"},
		{Source: "apk", Name: "openssl", Version: "3.3.2-r0", Arch: "x86_64", SourcePkg: "openssl"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("apk items:\n got %+v\nwant %+v", got, want)
	}
	if _, err := parseAPKInstalled(strings.NewReader("P:x\nbogus\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("parseAPKInstalled(bad) = %v, want an error naming line 2", err)
	}
	if _, err := (apkCollector{}).Collect(context.Background(), &Env{Root: "testdata/debian"}); !errors.Is(err, ErrAbsent) {
		t.Errorf("apk on a Debian tree: err = %v, want ErrAbsent", err)
	}
}

func TestExtendsVersion(t *testing.T) {
	tests := []struct {
		v, base string
		want    bool
	}{
		{"12.11", "12", true},
		{"22.04.3", "22.04", true},
		{"12", "12", false},
		{"bookworm/sid", "12", false},
		{"12.x", "12", false},
		{"123.1", "12", false},
	}
	for _, tt := range tests {
		if got := extendsVersion(tt.v, tt.base); got != tt.want {
			t.Errorf("extendsVersion(%q, %q) = %v, want %v", tt.v, tt.base, got, tt.want)
		}
	}
}

func TestOSRelease(t *testing.T) {
	tests := []struct {
		root string
		want osDetails
	}{
		{"testdata/debian", osDetails{Name: "Debian GNU/Linux 12 (bookworm)", ID: "debian", Version: "12.11", Product: "debian"}},
		{"testdata/ubuntu", osDetails{Name: "Ubuntu 22.04.3 LTS", ID: "ubuntu", Version: "22.04.3", Product: "ubuntu"}},
		{"testdata/alpine", osDetails{Name: "Alpine Linux v3.20", ID: "alpine", Version: "3.20.3", Product: "alpine-linux"}},
	}
	for _, tt := range tests {
		got, err := readOSRelease(&Env{Root: tt.root})
		if err != nil {
			t.Fatalf("readOSRelease(%s): %v", tt.root, err)
		}
		if got != tt.want {
			t.Errorf("readOSRelease(%s) = %+v, want %+v", tt.root, got, tt.want)
		}
	}
	kv, err := parseOSRelease(strings.NewReader("# c\nA=\"x \\\"y\\\" \\$z\"\nB='single $q'\nC=plain\n"))
	if err != nil {
		t.Fatal(err)
	}
	if kv["A"] != `x "y" $z` || kv["B"] != "single $q" || kv["C"] != "plain" {
		t.Errorf("parseOSRelease quoting = %q", kv)
	}
	for _, bad := range []string{"NOEQUALS\n", "A=\"open\n", "BAD KEY=1\n"} {
		if _, err := parseOSRelease(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("parseOSRelease(%q) = %v, want an error naming line 1", bad, err)
		}
	}
}

// memRegistry is a registryReader fed with recorded data: key -> values.
type memRegistry map[string]map[string]string

func loadRegistry(t *testing.T, path string) memRegistry {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	m := memRegistry{}
	for k, v := range raw {
		if strings.HasPrefix(k, "_") {
			continue
		}
		var vals map[string]string
		if err := json.Unmarshal(v, &vals); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		m[k] = vals
	}
	return m
}

func (m memRegistry) SubKeys(key string) ([]string, error) {
	seen := map[string]bool{}
	found := false
	for k := range m {
		if k == key {
			found = true
		}
		if rest, ok := strings.CutPrefix(k, key+`\`); ok {
			found = true
			seen[strings.SplitN(rest, `\`, 2)[0]] = true
		}
	}
	if !found {
		return nil, errKeyNotFound
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, nil
}

func (m memRegistry) Values(key string) (map[string]string, error) {
	v, ok := m[key]
	if !ok {
		return nil, errKeyNotFound
	}
	return v, nil
}

func TestWindowsUninstall(t *testing.T) {
	reg := loadRegistry(t, "testdata/windows/registry.json")
	got := collect(t, uninstallCollector{reg: reg}, nil)
	want := []api.Item{
		{Source: "windows-registry", Name: "7-Zip 23.01 (x64)", Version: "23.01", Arch: "x64", Publisher: "Igor Pavlov"},
		{Source: "windows-registry", Name: "Ivanti Endpoint Manager Agent", Version: "11.0.5.361", Arch: "x64", Publisher: "Ivanti"},
		{Source: "windows-registry", Name: "Java 8 Update 401", Version: "8.0.4010.10", Arch: "x86", Publisher: "Oracle Corporation"},
		{Source: "windows-registry", Name: "Mozilla Firefox (x86 en-US)", Version: "128.3.1", Arch: "x86", Publisher: "Mozilla"},
		{Source: "windows-registry", Name: "Zoom Workplace", Version: "6.2.3 (48245)", Arch: "user", Publisher: "Zoom Video Communications, Inc."},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("uninstall items:\n got %+v\nwant %+v", got, want)
	}
	if _, err := collectUninstall(context.Background(), memRegistry{}); !errors.Is(err, ErrAbsent) {
		t.Errorf("empty registry: err = %v, want ErrAbsent", err)
	}
}

func TestWindowsOS(t *testing.T) {
	reg := loadRegistry(t, "testdata/windows/registry.json")
	got, err := windowsOS(reg)
	if err != nil {
		t.Fatal(err)
	}
	want := osDetails{Name: "Windows 11 Pro", ID: "windows", Version: "23H2", Build: "10.0.22631.4317", Product: "windows", Kernel: "10.0.22631.4317"}
	if got != want {
		t.Errorf("windowsOS = %+v, want %+v", got, want)
	}
	if it := got.item(); it.Version != "10.0.22631.4317" || it.Name != "windows" {
		t.Errorf("windows os item = %+v", it)
	}
	if g := windowsMachineGUID(reg); g != "5f1c3b0e-8a7d-4c52-9f0e-2b6a1d4c7e90" {
		t.Errorf("MachineGuid = %q", g)
	}
	reg[winCurrentVersion]["InstallationType"] = "Server"
	reg[winCurrentVersion]["ProductName"] = "Windows Server 2022 Standard"
	reg[winCurrentVersion]["CurrentBuildNumber"] = "20348"
	if got, _ := windowsOS(reg); got.Product != "windows-server" || got.Name != "Windows Server 2022 Standard" {
		t.Errorf("windowsOS(server) = %+v", got)
	}
}

func TestMacApps(t *testing.T) {
	items, err := (macAppsCollector{}).Collect(context.Background(), &Env{Root: "testdata/macos"})
	if err == nil || !strings.Contains(err.Error(), "Broken.app") {
		t.Errorf("macOS apps: err = %v, want one naming Broken.app", err)
	}
	want := []api.Item{
		{Source: "macos-app", Name: "Firefox", Version: "128.3.1", BundleID: "org.mozilla.firefox", Publisher: "mozilla"},
		{Source: "macos-app", Name: "Slack", Version: "4.41.97", BundleID: "com.tinyspeck.slackmacgap", Publisher: "tinyspeck"},
	}
	if !reflect.DeepEqual(items, want) {
		t.Errorf("macOS apps:\n got %+v\nwant %+v", items, want)
	}
	d, err := readMacSystemVersion(&Env{Root: "testdata/macos"})
	if err != nil {
		t.Fatal(err)
	}
	if want := (osDetails{Name: "macOS 14.5", ID: "macos", Version: "14.5", Build: "23F79", Product: "macos"}); d != want {
		t.Errorf("SystemVersion = %+v, want %+v", d, want)
	}
	sw := parseSwVers("ProductName:\t\tmacOS\nProductVersion:\t\t14.5\nBuildVersion:\t\t23F79\n")
	if sw != d {
		t.Errorf("parseSwVers = %+v, want %+v", sw, d)
	}
	io := "+-o J316sAP  <class IOPlatformExpertDevice>\n    {\n      \"IOPlatformUUID\" = \"0A1B2C3D-1111-2222-3333-444455556666\"\n    }\n"
	if u := parseIORegUUID(io); u != "0A1B2C3D-1111-2222-3333-444455556666" {
		t.Errorf("parseIORegUUID = %q", u)
	}
}

func TestPlistValues(t *testing.T) {
	bin, err := os.Open("testdata/macos/Applications/Slack.app/Contents/Info.plist")
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	v, err := parsePlist(bin)
	if err != nil {
		t.Fatal(err)
	}
	d := v.(map[string]any)
	checks := map[string]any{
		"Count": int64(123456789), "Neg": int64(-5), "Ratio": 0.25, "LSUIElement": false, "NSHighResolutionCapable": true,
		"When": time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC), "Blob": []byte{0, 1, 2},
	}
	for k, want := range checks {
		if !reflect.DeepEqual(d[k], want) {
			t.Errorf("binary plist %s = %#v, want %#v", k, d[k], want)
		}
	}
	nested := d["Nested"].(map[string]any)
	if nested["Unicode"] != "Grüße ✓" || !reflect.DeepEqual(nested["List"], []any{"a", "b", map[string]any{"k": "v"}}) {
		t.Errorf("binary plist Nested = %#v", nested)
	}
	x, err := os.Open("testdata/macos/Applications/Firefox.app/Contents/Info.plist")
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	v, err = parsePlist(x)
	if err != nil {
		t.Fatal(err)
	}
	d = v.(map[string]any)
	xchecks := map[string]any{
		"SomeInteger": int64(42), "SomeReal": 1.5, "NSHighResolutionCapable": true, "LSFileQuarantineEnabled": false,
		"SomeDate": time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC), "SomeData": []byte("hello"), "Escaped": "AT&T <tools>",
	}
	for k, want := range xchecks {
		if !reflect.DeepEqual(d[k], want) {
			t.Errorf("XML plist %s = %#v, want %#v", k, d[k], want)
		}
	}
	for _, bad := range []string{"", "<plist><dict><key>a</key></dict></plist>", "<plist><dict><string>x</string></dict></plist>",
		"<plist><integer>x</integer></plist>", "bplist00", "<html/>"} {
		if _, err := parsePlist(strings.NewReader(bad)); err == nil {
			t.Errorf("parsePlist(%q) succeeded, want an error", bad)
		}
	}
}

func TestProbes(t *testing.T) {
	env := &Env{Root: "testdata/debian", Run: func(ctx context.Context, combined bool, name string, args ...string) ([]byte, error) {
		switch name {
		case "java":
			if !combined {
				t.Error("probe commands must capture stderr too")
			}
			return []byte("openjdk version \"17.0.9\" 2023-10-17\nOpenJDK Runtime Environment (build 17.0.9+9-Debian-1deb12u1)\n"), nil
		case "hung":
			<-ctx.Done()
			return nil, ctx.Err()
		case "exit1":
			return []byte("tool 2.3.4\n"), errors.New("exit status 1")
		}
		return nil, &os.PathError{Op: "exec", Path: name, Err: os.ErrNotExist}
	}}
	tests := []struct {
		p       Probe
		want    string
		wantErr string
	}{
		{Probe{Name: "java", Product: "java", Command: []string{"java", "-version"}, Regexp: `version "([^"]+)"`}, "17.0.9", ""},
		{Probe{Name: "debian", File: "/etc/os-release", Regexp: `VERSION_ID="(?P<version>[0-9.]+)"`}, "12", ""},
		{Probe{Name: "exit1", Command: []string{"exit1"}, Regexp: `tool (\S+)`}, "2.3.4", ""},
		{Probe{Name: "absent", Command: []string{"nothere"}, Regexp: `x`}, "", "absent"},
		{Probe{Name: "nofile", File: "/etc/none", Regexp: `x`}, "", "absent"},
		{Probe{Name: "nomatch", Command: []string{"java"}, Regexp: `nomatch (\d+)`}, "", "did not match"},
		{Probe{Name: "hung", Command: []string{"hung"}, Regexp: `x`, Timeout: 50 * time.Millisecond}, "", "deadline"},
	}
	for _, tt := range tests {
		pc, err := newProbeCollector(0, tt.p)
		if err != nil {
			t.Fatalf("newProbeCollector(%+v): %v", tt.p, err)
		}
		items, err := pc.Collect(context.Background(), env)
		switch {
		case tt.wantErr == "absent":
			if !errors.Is(err, ErrAbsent) {
				t.Errorf("probe %s: err = %v, want ErrAbsent", tt.p.Name, err)
			}
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("probe %s: err = %v, want one containing %q", tt.p.Name, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("probe %s: %v", tt.p.Name, err)
		case len(items) != 1 || items[0].Version != tt.want || items[0].Source != "probe" || items[0].Name != tt.p.Name:
			t.Errorf("probe %s = %+v, want version %q", tt.p.Name, items, tt.want)
		}
	}
	for _, bad := range []struct {
		p    Probe
		want string
	}{
		{Probe{Command: []string{"x"}, Regexp: "x"}, "probes[3].name"},
		{Probe{Name: "a", Regexp: "x"}, "set command or file"},
		{Probe{Name: "a", File: "/x", Regexp: "("}, "probes[3] (a).regexp"},
		{Probe{Name: "a", File: "/x"}, "regexp: required"},
	} {
		if _, err := newProbeCollector(3, bad.p); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("newProbeCollector(%+v) = %v, want error containing %q", bad.p, err, bad.want)
		}
	}
}

// slowCollector never returns until its context ends, and ignores it first.
type slowCollector struct{ block chan struct{} }

func (slowCollector) Name() string { return "slow" }
func (s slowCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	<-s.block
	return nil, nil
}

type failCollector struct{}

func (failCollector) Name() string { return "fail" }
func (failCollector) Collect(context.Context, *Env) ([]api.Item, error) {
	return nil, errors.New("database locked")
}

func TestRunCollectorsTimeoutAndErrors(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	items, errs := RunCollectors(context.Background(), &Env{Root: "testdata/alpine"},
		[]Collector{slowCollector{block}, failCollector{}, apkCollector{}, dpkgCollector{}}, 100*time.Millisecond)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("RunCollectors took %s with a hung collector", d)
	}
	if len(items) != 3 {
		t.Errorf("items = %d, want the 3 apk packages despite the hung and failing collectors", len(items))
	}
	want := []api.CollectorError{{Collector: "slow", Error: "timed out after 100ms"}, {Collector: "fail", Error: "database locked"}}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("errors = %+v, want %+v (dpkg absent is not an error)", errs, want)
	}
}

package packagetest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The versions of the two builds: an install and an upgrade.
const (
	v1 = "1.0.0"
	v2 = "1.0.1"
)

var workDir string // removed after the tests

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "eolwatch-packagetest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

// need skips the test when a tool is missing, or fails it when CI=true.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing(t, "%s not found: run make deps", tool)
		}
	}
}

func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func needRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		missing(t, "needs root on Linux (installs packages on this machine)")
	}
}

// run runs a command and returns its combined output, failing the test on error.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(env []string, name string, args ...string) (string, error) {
	// Generous: on a fresh machine the first package build compiles the
	// cgo SQLite driver for the server with the packaging build flags.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = nil
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// A build is one run of scripts/packages.sh into its own directory.
type build struct {
	once sync.Once
	dir  string
	err  error
	out  string
}

var builds = map[string]*build{
	"linux":   {},
	"windows": {},
	"upgrade": {},
}

// packages builds (once per test binary) and returns the directory holding
// the packages of kind: "linux" (agent and server, deb and rpm, version v1,
// this machine's architecture), "windows" (signed exe and MSI) or "upgrade"
// (the agent .deb and .rpm at version v2).
func packages(t *testing.T, kind string) string {
	t.Helper()
	need(t, "go")
	switch kind {
	case "linux", "upgrade":
		need(t, "gcc")
	case "windows":
		need(t, "wixl", "msiinfo", "msibuild", "osslsigncode", "openssl")
	}
	b := builds[kind]
	b.once.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			b.err = err
			return
		}
		b.dir = filepath.Join(workDir, kind)
		env := []string{"DIST=" + b.dir, "ARCHES=" + runtime.GOARCH, "PKG_VERSION=" + v1,
			"SIGN_PKCS12=", "SIGN_PASSWORD="}
		switch kind {
		case "linux":
			env = append(env, "TARGETS=linux")
		case "windows":
			env = append(env, "TARGETS=windows")
		case "upgrade":
			env = append(env, "TARGETS=linux", "LINUX_PACKAGES=eolwatch-agent", "FORMATS=deb rpm", "PKG_VERSION="+v2)
		}
		start := time.Now()
		b.out, b.err = runErr(env, filepath.Join(root, "scripts", "packages.sh"))
		b.out += fmt.Sprintf("(built in %s)\n", time.Since(start).Round(time.Second))
	})
	if b.err != nil {
		t.Fatalf("scripts/packages.sh (%s): %v\n%s", kind, b.err, b.out)
	}
	return b.dir
}

func debName(pkg, version string) string {
	return fmt.Sprintf("%s_%s-1_%s.deb", pkg, version, runtime.GOARCH)
}

func rpmName(pkg, version string) string {
	arch := map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]
	return fmt.Sprintf("%s-%s-1.%s.rpm", pkg, version, arch)
}

// extract unpacks a .deb into a new directory.
func extract(t *testing.T, deb string) string {
	t.Helper()
	need(t, "dpkg-deb")
	dir := t.TempDir()
	run(t, nil, "dpkg-deb", "-x", deb, dir)
	return dir
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// TestSystemdUnits checks both packaged units with systemd-analyze: verify
// must print nothing at all (its exit code misses unknown keys), and the
// security exposure must stay under 5.0. The units are verified as copies
// whose /usr/bin paths point at the packaged binaries in a temporary root.
func TestSystemdUnits(t *testing.T) {
	need(t, "systemd-analyze")
	dist := packages(t, "linux")
	for _, pkg := range []string{"eolwatch-agent", "eolwatch-server"} {
		t.Run(pkg, func(t *testing.T) {
			root := extract(t, filepath.Join(dist, debName(pkg, v1)))
			unitPath := filepath.Join(root, "usr/lib/systemd/system", pkg+".service")
			unit, err := os.ReadFile(unitPath)
			if err != nil {
				t.Fatalf("packaged unit: %v", err)
			}
			copyDir := t.TempDir()
			rooted := strings.ReplaceAll(string(unit), "/usr/bin/", root+"/usr/bin/")
			copyPath := filepath.Join(copyDir, pkg+".service")
			if err := os.WriteFile(copyPath, []byte(rooted), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runErr(nil, "systemd-analyze", "verify", "--man=no", copyPath)
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("systemd-analyze verify %s: err=%v, output (want none):\n%s", pkg, err, out)
			}
			out, err = runErr([]string{"SYSTEMD_COLORS=0"}, "systemd-analyze", "security", "--offline=true", "--no-pager", copyPath)
			m := exposure.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("systemd-analyze security %s: err=%v, no exposure level in:\n%s", pkg, err, out)
			}
			score, _ := strconv.ParseFloat(m[1], 64)
			t.Logf("systemd-analyze security --offline=true %s.service: exposure %.1f (goal < 5.0)", pkg, score)
			if score >= 5.0 {
				t.Errorf("%s.service exposure %.1f, want < 5.0:\n%s", pkg, score, out)
			}
		})
	}
	t.Run("agent unit is the agent's own", func(t *testing.T) {
		root := extract(t, filepath.Join(dist, debName("eolwatch-agent", v1)))
		unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/eolwatch-agent.service"))
		if err != nil {
			t.Fatal(err)
		}
		printed := run(t, nil, filepath.Join(root, "usr/bin/eolwatch-agent"), "service-file", "systemd")
		if printed != string(unit) {
			t.Errorf("packaged unit differs from `eolwatch-agent service-file systemd`:\npackaged:\n%s\nprinted:\n%s", unit, printed)
		}
	})
}

// TestLintian runs lintian on both .deb files: no errors allowed.
func TestLintian(t *testing.T) {
	need(t, "lintian")
	dist := packages(t, "linux")
	out, _ := runErr(nil, "lintian", "--tag-display-limit", "0",
		filepath.Join(dist, debName("eolwatch-agent", v1)), filepath.Join(dist, debName("eolwatch-server", v1)))
	var errs []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "E: ") {
			errs = append(errs, strings.TrimSpace(line))
		}
	}
	if len(errs) > 0 {
		t.Errorf("lintian errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("lintian output:\n%s", out)
}

// TestRPM inspects the .rpm files with rpm -qp: files, config, metadata and
// scriptlets.
func TestRPM(t *testing.T) {
	need(t, "rpm")
	dist := packages(t, "linux")
	tests := []struct {
		pkg      string
		files    []string
		config   string
		requires []string
		scripts  []string
	}{
		{
			pkg: "eolwatch-agent",
			files: []string{"/etc/eolwatch", "/etc/eolwatch/agent.yaml", "/usr/bin/eolwatch-agent",
				"/usr/lib/systemd/system/eolwatch-agent.service", "/usr/share/doc/eolwatch-agent",
				"/usr/share/doc/eolwatch-agent/copyright"},
			config: "/etc/eolwatch/agent.yaml",
			scripts: []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
				`systemctl enable "$unit"`, `try-restart "$unit"`, `systemctl stop "$unit"`, `systemctl disable "$unit"`,
				"EOLWATCH_ENROLL_SECRET", "rm -rf /var/lib/eolwatch-agent"},
		},
		{
			pkg: "eolwatch-server",
			files: []string{"/usr/bin/eolwatch-server", "/usr/lib/systemd/system/eolwatch-server.service",
				"/usr/share/doc/eolwatch-server", "/usr/share/doc/eolwatch-server/copyright"},
			requires: []string{"glibc", "shadow-utils"},
			scripts: []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet",
				"useradd --system", `systemctl enable "$unit"`, `try-restart "$unit"`, `systemctl stop "$unit"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			rpmFile := filepath.Join(dist, rpmName(tt.pkg, v1))
			files := strings.Fields(run(t, nil, "rpm", "-qpl", rpmFile))
			if !slices.Equal(files, tt.files) {
				t.Errorf("rpm -qpl %s = %q, want %q", tt.pkg, files, tt.files)
			}
			info := run(t, nil, "rpm", "-qpi", rpmFile)
			for _, want := range []string{"Name        : " + tt.pkg, "Version     : " + v1, "Release     : 1",
				"Architecture: " + map[string]string{"amd64": "x86_64", "arm64": "aarch64"}[runtime.GOARCH]} {
				if !strings.Contains(info, want) {
					t.Errorf("rpm -qpi %s: no %q in:\n%s", tt.pkg, want, info)
				}
			}
			conf := strings.TrimSpace(run(t, nil, "rpm", "-qpc", rpmFile))
			if conf != tt.config {
				t.Errorf("rpm -qpc %s = %q, want %q", tt.pkg, conf, tt.config)
			}
			if tt.config != "" {
				flags := run(t, nil, "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:perms}\n]", rpmFile)
				if want := tt.config + " cn -rw-r-----"; !strings.Contains(flags, want) {
					t.Errorf("rpm file flags of %s: want %q (config, noreplace, 0640) in:\n%s", tt.pkg, want, flags)
				}
			}
			req := run(t, nil, "rpm", "-qpR", rpmFile)
			for _, want := range tt.requires {
				if !strings.Contains(req, want) {
					t.Errorf("rpm -qpR %s: no %q in:\n%s", tt.pkg, want, req)
				}
			}
			scripts := run(t, nil, "rpm", "-qp", "--scripts", rpmFile)
			for _, want := range tt.scripts {
				if !strings.Contains(scripts, want) {
					t.Errorf("rpm -qp --scripts %s: no %q", tt.pkg, want)
				}
			}
		})
	}
}

// TestMSI inspects the MSI's tables with msiinfo.
func TestMSI(t *testing.T) {
	need(t, "msiinfo")
	msi := filepath.Join(packages(t, "windows"), "eolwatch-agent_"+v1+"_windows_amd64.msi")
	tables := strings.Fields(run(t, nil, "msiinfo", "tables", msi))
	for _, want := range []string{"ServiceInstall", "ServiceControl", "Registry", "File", "AppSearch", "RegLocator", "Upgrade"} {
		if !slices.Contains(tables, want) {
			t.Errorf("msiinfo tables: no %s in %q", want, tables)
		}
	}
	checks := map[string][]string{
		// Name, DisplayName, ServiceType 16 (own process), StartType 2 (auto),
		// ErrorControl 1 (normal); LocalSystem; the agent's own `run` argument.
		"ServiceInstall": {"\teolwatch-agent\teolwatch agent\t16\t2\t1\t", "\tLocalSystem\t\trun\t"},
		// Events 163: start on install, stop on install and uninstall, delete
		// on uninstall; wait for it.
		"ServiceControl": {"\teolwatch-agent\t163\t\t1\t"},
		"Registry": {"\t2\tSYSTEM\\CurrentControlSet\\Services\\eolwatch-agent\tEnvironment\t" +
			"EOLWATCH_SERVER=[SERVER_URL][~]EOLWATCH_ENROLL_SECRET=[ENROLL_SECRET]\t",
			"\t2\tSOFTWARE\\eolwatch\\agent\tServerURL\t[SERVER_URL]\t"},
		"RegLocator": {"\tSOFTWARE\\eolwatch\\agent\tServerURL\t"},
		"AppSearch":  {"SAVED_SERVER_URL\tRememberedServerURL"},
		// An immediate set-property action (type 51): the remembered URL
		// fills SERVER_URL only when the command line left it empty.
		"CustomAction":           {"RestoreServerURL\t2099\tSERVER_URL\t[SAVED_SERVER_URL]"},
		"InstallExecuteSequence": {"AppSearch\t\t50", "RestoreServerURL\tNOT SERVER_URL AND SAVED_SERVER_URL\t51"},
		"InstallUISequence":      {"RestoreServerURL\tNOT SERVER_URL AND SAVED_SERVER_URL\t51"},
		"Property": {"ProductVersion\t" + v1, "MsiHiddenProperties\tENROLL_SECRET",
			"SERVER_URL;ENROLL_SECRET", "{864ef188-10c6-4413-a51d-b78010fb31d3}"},
		"File":    {"\teolwatch-agent.exe\t", "\tagent.yaml.example\t"},
		"Upgrade": {"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"},
	}
	for table, wants := range checks {
		out := run(t, nil, "msiinfo", "export", msi, table)
		for _, want := range wants {
			if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
				t.Errorf("msiinfo export %s: no %q in:\n%s", table, want, out)
			}
		}
	}
}

// TestSignatures verifies the Authenticode signatures of the .exe and the
// .msi against the build's test certificate, and that a tampered copy fails.
func TestSignatures(t *testing.T) {
	need(t, "osslsigncode")
	dist := packages(t, "windows")
	ca := filepath.Join(dist, "eolwatch-test-codesign.crt")
	for _, f := range []string{"eolwatch-agent_" + v1 + "_windows_amd64.exe", "eolwatch-agent_" + v1 + "_windows_amd64.msi"} {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(dist, f)
			out := run(t, nil, "osslsigncode", "verify", "-CAfile", ca, "-in", path)
			if !strings.Contains(out, "Signature verification: ok") {
				t.Errorf("osslsigncode verify %s:\n%s", f, out)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/3] ^= 0xff
			bad := filepath.Join(t.TempDir(), f)
			if err := os.WriteFile(bad, b, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := runErr(nil, "osslsigncode", "verify", "-CAfile", ca, "-in", bad); err == nil {
				t.Errorf("osslsigncode verify accepted a tampered %s:\n%s", f, out)
			}
		})
	}
}

// lockMachine serializes the tests that install packages on this machine
// (two `go test` runs at once would fight over dpkg's lock).
func lockMachine(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "eolwatch-packagetest.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// footprint lists every path with "eolwatch" in it under the places a
// package or its scripts write to.
func footprint(t *testing.T) []string {
	t.Helper()
	var paths []string
	for _, root := range []string{"/etc", "/usr/bin", "/usr/lib/systemd", "/lib/systemd", "/usr/share/doc",
		"/usr/share/lintian", "/var/lib", "/var/log", "/run/systemd"} {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && (p == "/var/lib/apt" || p == "/var/lib/docker" || p == "/var/lib/containerd") {
				return filepath.SkipDir
			}
			if strings.Contains(d.Name(), "eolwatch") {
				paths = append(paths, p)
			}
			return nil
		})
	}
	for _, f := range []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"} {
		if b, err := os.ReadFile(f); err == nil {
			for line := range strings.Lines(string(b)) {
				if strings.Contains(line, "eolwatch") {
					paths = append(paths, f+": "+strings.SplitN(line, ":", 2)[0])
				}
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// checkFile checks a file's mode, owner and (when want != "") that it contains want.
func checkFile(t *testing.T, path string, mode os.FileMode, owner, group string, want ...string) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if st.Mode().Perm() != mode {
		t.Errorf("%s: mode %o, want %o", path, st.Mode().Perm(), mode)
	}
	sys := st.Sys().(*syscall.Stat_t)
	if u, err := user.LookupId(strconv.Itoa(int(sys.Uid))); err != nil || u.Username != owner {
		t.Errorf("%s: owner uid %d, want %s", path, sys.Uid, owner)
	}
	if g, err := user.LookupGroupId(strconv.Itoa(int(sys.Gid))); err != nil || g.Name != group {
		t.Errorf("%s: group gid %d, want %s", path, sys.Gid, group)
	}
	if len(want) > 0 {
		b, _ := os.ReadFile(path)
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s: no %q in:\n%s", path, w, b)
			}
		}
	}
}

func installedVersion(pkg string) string {
	out, err := runErr(nil, "dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", pkg)
	if err != nil {
		return ""
	}
	status, version, _ := strings.Cut(strings.TrimSpace(out), " ")
	if status != "installed" {
		return status
	}
	return version
}

// TestDebLifecycle installs the agent and server .deb files on this machine
// with install-time settings, checks files, users, permissions, the units
// and that the installed agent runs; installs the agent as a service with
// kardianos/service inside a private mount namespace and compares the unit
// it writes with the packaged one; upgrades the agent and checks an edited
// config survives; then removes and purges both and checks nothing is left.
func TestDebLifecycle(t *testing.T) {
	needRoot(t)
	need(t, "dpkg", "dpkg-query", "unshare", "systemd-analyze", "systemctl")
	dist := packages(t, "linux")
	upgrade := packages(t, "upgrade")
	lockMachine(t)
	for _, pkg := range []string{"eolwatch-agent", "eolwatch-server"} {
		if v := installedVersion(pkg); v != "" && v != "not-installed" {
			t.Skipf("%s is already on this machine (%s): not touching it", pkg, v)
		}
	}
	before := footprint(t)
	dpkgEnv := []string{"DEBIAN_FRONTEND=noninteractive"}
	t.Cleanup(func() {
		if out, err := runErr(dpkgEnv, "dpkg", "--purge", "eolwatch-agent", "eolwatch-server"); err != nil {
			t.Logf("cleanup: dpkg --purge: %v\n%s", err, out)
		}
	})

	// Install, with the server URL, listen address and enroll secret given
	// at install time.
	listen := freeLoopbackAddr(t)
	serverURL := "http://" + listen
	out := run(t, append(dpkgEnv, "EOLWATCH_SERVER="+serverURL, "EOLWATCH_ENROLL_SECRET=install-time-secret",
		"EOLWATCH_LISTEN="+listen), "dpkg", "-i", filepath.Join(dist, debName("eolwatch-agent", v1)), filepath.Join(dist, debName("eolwatch-server", v1)))
	t.Logf("dpkg -i:\n%s", out)
	for pkg, want := range map[string]string{"eolwatch-agent": v1 + "-1", "eolwatch-server": v1 + "-1"} {
		if got := installedVersion(pkg); got != want {
			t.Fatalf("after dpkg -i, %s is %q, want %q", pkg, got, want)
		}
	}
	checkFile(t, "/usr/bin/eolwatch-agent", 0o755, "root", "root")
	checkFile(t, "/usr/lib/systemd/system/eolwatch-agent.service", 0o644, "root", "root", "DynamicUser=yes",
		"EnvironmentFile=-/etc/default/eolwatch-agent", "ExecStart=/usr/bin/eolwatch-agent ")
	checkFile(t, "/etc/eolwatch/agent.yaml", 0o640, "root", "root", "#server:")
	checkFile(t, "/etc/default/eolwatch-agent", 0o600, "root", "root",
		"EOLWATCH_SERVER='"+serverURL+"'", "EOLWATCH_ENROLL_SECRET='install-time-secret'")
	checkFile(t, "/usr/bin/eolwatch-server", 0o755, "root", "root")
	checkFile(t, "/var/lib/eolwatch-server", 0o750, "eolwatch-server", "eolwatch-server")
	checkFile(t, "/etc/default/eolwatch-server", 0o600, "root", "root",
		"EOLWATCH_ENROLL_SECRET='install-time-secret'", "EOLWATCH_LISTEN='"+listen+"'")
	conffiles := run(t, nil, "dpkg-query", "-W", "-f=${Conffiles}", "eolwatch-agent")
	if !strings.Contains(conffiles, "/etc/eolwatch/agent.yaml") {
		t.Errorf("dpkg conffiles of eolwatch-agent = %q, want /etc/eolwatch/agent.yaml", conffiles)
	}
	// Users: the agent runs as a systemd DynamicUser (no static account);
	// the server has its own system account without a login shell.
	if _, err := user.Lookup("eolwatch-agent"); err == nil {
		t.Errorf("a static eolwatch-agent user exists; the unit uses DynamicUser=yes")
	}
	if u, err := user.Lookup("eolwatch-server"); err != nil {
		t.Errorf("eolwatch-server user: %v", err)
	} else if uid, _ := strconv.Atoi(u.Uid); uid >= 1000 || uid == 0 {
		t.Errorf("eolwatch-server uid %d, want a system uid (1..999)", uid)
	}
	// Enabled offline (no running systemd here): the wants symlinks exist.
	for _, unit := range []string{"eolwatch-agent.service", "eolwatch-server.service"} {
		link := "/etc/systemd/system/multi-user.target.wants/" + unit
		if target, err := os.Readlink(link); err != nil || !strings.HasSuffix(target, "/"+unit) {
			t.Errorf("%s not enabled: readlink %s = %q, %v", unit, link, target, err)
		}
		out, err := runErr(nil, "systemd-analyze", "verify", "--man=no", "/usr/lib/systemd/system/"+unit)
		if err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("systemd-analyze verify installed %s: err=%v, output (want none):\n%s", unit, err, out)
		}
	}

	// The installed agent runs and sees itself in the dpkg database.
	inv := run(t, nil, "/usr/bin/eolwatch-agent", "inventory", "--json")
	var report struct {
		Host  map[string]any `json:"host"`
		Items []struct {
			Source, Name, Version string
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(inv), &report); err != nil {
		t.Fatalf("eolwatch-agent inventory --json: %v\n%.2000s", err, inv)
	}
	if !slices.ContainsFunc(report.Items, func(it struct{ Source, Name, Version string }) bool {
		return it.Source == "dpkg" && it.Name == "eolwatch-agent" && it.Version == v1+"-1"
	}) {
		t.Errorf("inventory (%d items) does not list dpkg eolwatch-agent %s-1", len(report.Items), v1)
	}

	t.Run("installed agent reports to installed server", func(t *testing.T) {
		installedEndToEnd(t, listen)
	})

	t.Run("service install writes the packaged unit", func(t *testing.T) {
		serviceInstallInNamespace(t)
	})

	// Upgrade the agent with an edited config: the edit and the install-time
	// settings survive.
	const edit = "\n# edited by the upgrade test\nlog_level: debug\n"
	f, err := os.OpenFile("/etc/eolwatch/agent.yaml", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(edit)
	f.Close()
	out = run(t, dpkgEnv, "dpkg", "-i", "--force-confold", filepath.Join(upgrade, debName("eolwatch-agent", v2)))
	t.Logf("dpkg -i (upgrade):\n%s", out)
	if got := installedVersion("eolwatch-agent"); got != v2+"-1" {
		t.Fatalf("after upgrade, eolwatch-agent is %q, want %s-1", got, v2)
	}
	checkFile(t, "/etc/eolwatch/agent.yaml", 0o640, "root", "root", edit)
	checkFile(t, "/etc/default/eolwatch-agent", 0o600, "root", "root", "EOLWATCH_SERVER='"+serverURL+"'")
	for _, leftover := range []string{"/etc/eolwatch/agent.yaml.dpkg-new", "/etc/eolwatch/agent.yaml.dpkg-dist"} {
		if _, err := os.Stat(leftover); err == nil {
			t.Errorf("%s exists after upgrade", leftover)
		}
	}
	if v := run(t, nil, "/usr/bin/eolwatch-agent", "version"); !strings.Contains(v, v2) {
		t.Errorf("eolwatch-agent version after upgrade = %q, want %s", v, v2)
	}
	if _, err := os.Readlink("/etc/systemd/system/multi-user.target.wants/eolwatch-agent.service"); err != nil {
		t.Errorf("agent no longer enabled after upgrade: %v", err)
	}

	// Remove: binaries and enablement go, config and server data stay.
	run(t, dpkgEnv, "dpkg", "--remove", "eolwatch-agent", "eolwatch-server")
	for _, gone := range []string{"/usr/bin/eolwatch-agent", "/usr/bin/eolwatch-server",
		"/usr/lib/systemd/system/eolwatch-agent.service", "/etc/systemd/system/multi-user.target.wants/eolwatch-agent.service",
		"/etc/systemd/system/multi-user.target.wants/eolwatch-server.service"} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s still exists after dpkg --remove", gone)
		}
	}
	for _, kept := range []string{"/etc/eolwatch/agent.yaml", "/var/lib/eolwatch-server", "/etc/default/eolwatch-server"} {
		if _, err := os.Lstat(kept); err != nil {
			t.Errorf("%s gone after dpkg --remove (only purge deletes it): %v", kept, err)
		}
	}

	// Purge: nothing is left.
	run(t, dpkgEnv, "dpkg", "--purge", "eolwatch-agent", "eolwatch-server")
	after := footprint(t)
	if !slices.Equal(before, after) {
		t.Errorf("after purge, paths with eolwatch in them differ from before install:\nbefore: %q\nafter:  %q", before, after)
	}
}

// serviceInstallInNamespace runs the installed agent's `install` command
// with kardianos/service's systemd backend: in a private mount namespace,
// a tmpfs over /etc/systemd/system receives the unit and a tmpfs over
// /run/systemd holds a fake /run/systemd/system so systemd is picked. A
// systemctl wrapper enables units offline (systemctl --root=/) and accepts
// daemon-reload, which needs a running systemd.
func serviceInstallInNamespace(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "systemctl")
	log := filepath.Join(dir, "systemctl.log")
	script := "#!/bin/sh\necho \"$*\" >>" + log + "\ncase \"$1\" in\nenable|disable|is-enabled) exec /usr/bin/systemctl --root=/ \"$@\" ;;\n--version) exec /usr/bin/systemctl --version ;;\nesac\nexit 0\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	sh := `set -e
mount -t tmpfs -o size=4m tmpfs /etc/systemd/system
mount -t tmpfs -o size=4m tmpfs /run/systemd
mkdir -p /run/systemd/system
export PATH="` + dir + `:$PATH"
/usr/bin/eolwatch-agent install
echo ---UNIT---
cat /etc/systemd/system/eolwatch-agent.service
echo ---END---
readlink /etc/systemd/system/multi-user.target.wants/eolwatch-agent.service
/usr/bin/eolwatch-agent uninstall
test ! -e /etc/systemd/system/eolwatch-agent.service
test ! -e /etc/systemd/system/multi-user.target.wants/eolwatch-agent.service
echo UNINSTALLED
`
	out := run(t, nil, "unshare", "--mount", "--propagation", "private", "sh", "-c", sh)
	if !strings.Contains(out, "(linux-systemd)") {
		t.Errorf("install did not use kardianos's systemd backend:\n%s", out)
	}
	_, unit, ok := strings.Cut(out, "---UNIT---\n")
	unit, _, ok2 := strings.Cut(unit, "---END---\n")
	if !ok || !ok2 {
		t.Fatalf("no unit written:\n%s", out)
	}
	packaged, err := os.ReadFile("/usr/lib/systemd/system/eolwatch-agent.service")
	if err != nil {
		t.Fatal(err)
	}
	if unit != string(packaged) {
		t.Errorf("`eolwatch-agent install` wrote a unit that differs from the packaged one:\nwritten:\n%s\npackaged:\n%s", unit, packaged)
	}
	if !strings.Contains(out, "/etc/systemd/system/eolwatch-agent.service") || !strings.Contains(out, "UNINSTALLED") {
		t.Errorf("install did not enable the unit, or uninstall left it:\n%s", out)
	}
	calls, _ := os.ReadFile(log)
	for _, want := range []string{"enable eolwatch-agent.service", "daemon-reload", "disable eolwatch-agent.service"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("systemctl calls %q: no %q", calls, want)
		}
	}
	// The host's unit directory was not touched.
	if _, err := os.Stat("/etc/systemd/system/eolwatch-agent.service"); err == nil {
		t.Errorf("the namespace leaked: /etc/systemd/system/eolwatch-agent.service exists on the host")
	}
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port free right now.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// envFile reads a systemd EnvironmentFile as the packages write it
// (KEY='value' lines, # comments).
func envFile(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	return env
}

// installedEndToEnd runs the installed server the way its unit does (as
// eolwatch-server, with /etc/default/eolwatch-server and the unit's
// EOLWATCH_DATA_DIR), then the installed agent the way its unit does (with
// /etc/default/eolwatch-agent and /etc/eolwatch/agent.yaml): the agent
// enrolls with the install-time secret and its report shows up in the API.
func installedEndToEnd(t *testing.T, listen string) {
	need(t, "runuser")
	base := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	srvEnv := append(append(base, envFile(t, "/etc/default/eolwatch-server")...), "EOLWATCH_DATA_DIR=/var/lib/eolwatch-server")
	srv := exec.Command("runuser", "-u", "eolwatch-server", "--", "/usr/bin/eolwatch-server", "serve")
	srv.Env = srvEnv
	var srvLog strings.Builder
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			srv.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", srvLog.String())
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", listen, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("installed server not listening on %s after 60s: %v\n%s", listen, err, srvLog.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	agentEnv := append(append(base, envFile(t, "/etc/default/eolwatch-agent")...), "EOLWATCH_STATE_DIR="+t.TempDir())
	out := run(t, agentEnv, "/usr/bin/eolwatch-agent", "once")
	t.Logf("eolwatch-agent once:\n%s", out)

	tok := exec.Command("runuser", "-u", "eolwatch-server", "--", "/usr/bin/eolwatch-server",
		"token", "create", "--data-dir", "/var/lib/eolwatch-server", "--role", "viewer")
	var tokErr strings.Builder
	tok.Stderr = &tokErr
	tokOut, err := tok.Output()
	if err != nil {
		t.Fatalf("eolwatch-server token create: %v\n%s", err, tokErr.String())
	}
	token := strings.TrimSpace(string(tokOut))
	req, err := http.NewRequest("GET", "http://"+listen+"/api/v1/hosts", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	host, _ := os.Hostname()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), host) {
		t.Errorf("GET /api/v1/hosts = %d, want 200 listing %q:\n%.2000s", resp.StatusCode, host, body)
	}
}

// TestRPMLifecycle installs, upgrades and erases the agent .rpm on this
// machine with rpm itself (--nodeps: this Debian host's rpm database knows
// no dependencies), so the rpm scriptlets really run: install-time settings,
// offline enablement, an edited config kept on upgrade, and erase removing
// everything but the edited config (saved as .rpmsave, as rpm does).
func TestRPMLifecycle(t *testing.T) {
	needRoot(t)
	need(t, "rpm", "systemctl")
	dist := packages(t, "linux")
	upgrade := packages(t, "upgrade")
	lockMachine(t)
	if out, err := runErr(nil, "rpm", "-q", "eolwatch-agent"); err == nil {
		t.Skipf("eolwatch-agent is already installed with rpm (%s): not touching it", strings.TrimSpace(out))
	}
	if v := installedVersion("eolwatch-agent"); v != "" && v != "not-installed" {
		t.Skipf("eolwatch-agent is already installed with dpkg (%s): not touching it", v)
	}
	before := footprint(t)
	t.Cleanup(func() {
		runErr(nil, "rpm", "-e", "--nodeps", "eolwatch-agent")
		os.Remove("/etc/eolwatch/agent.yaml.rpmsave")
		os.Remove("/etc/eolwatch")
	})

	run(t, []string{"EOLWATCH_SERVER=https://eolwatch.example.test", "EOLWATCH_ENROLL_SECRET=rpm-secret"},
		"rpm", "-i", "--nodeps", filepath.Join(dist, rpmName("eolwatch-agent", v1)))
	checkFile(t, "/usr/bin/eolwatch-agent", 0o755, "root", "root")
	checkFile(t, "/etc/eolwatch/agent.yaml", 0o640, "root", "root")
	checkFile(t, "/etc/default/eolwatch-agent", 0o600, "root", "root",
		"EOLWATCH_SERVER='https://eolwatch.example.test'", "EOLWATCH_ENROLL_SECRET='rpm-secret'")
	const wants = "/etc/systemd/system/multi-user.target.wants/eolwatch-agent.service"
	if _, err := os.Readlink(wants); err != nil {
		t.Errorf("not enabled after rpm -i: %v", err)
	}

	const edit = "\n# edited by the rpm upgrade test\nlog_level: warn\n"
	f, err := os.OpenFile("/etc/eolwatch/agent.yaml", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(edit)
	f.Close()
	run(t, nil, "rpm", "-U", "--nodeps", filepath.Join(upgrade, rpmName("eolwatch-agent", v2)))
	if got := strings.TrimSpace(run(t, nil, "rpm", "-q", "--qf", "%{VERSION}-%{RELEASE}", "eolwatch-agent")); got != v2+"-1" {
		t.Errorf("after rpm -U, eolwatch-agent is %q, want %s-1", got, v2)
	}
	checkFile(t, "/etc/eolwatch/agent.yaml", 0o640, "root", "root", edit)
	checkFile(t, "/etc/default/eolwatch-agent", 0o600, "root", "root", "EOLWATCH_SERVER='https://eolwatch.example.test'")
	if _, err := os.Stat("/etc/eolwatch/agent.yaml.rpmnew"); err == nil {
		t.Errorf("agent.yaml.rpmnew created although the packaged config did not change")
	}
	if _, err := os.Readlink(wants); err != nil {
		t.Errorf("not enabled after rpm -U: %v", err)
	}

	run(t, nil, "rpm", "-e", "eolwatch-agent")
	for _, gone := range []string{"/usr/bin/eolwatch-agent", "/etc/eolwatch/agent.yaml", "/etc/default/eolwatch-agent", wants} {
		if _, err := os.Lstat(gone); err == nil {
			t.Errorf("%s still exists after rpm -e", gone)
		}
	}
	b, err := os.ReadFile("/etc/eolwatch/agent.yaml.rpmsave")
	if err != nil || !strings.Contains(string(b), edit) {
		t.Errorf("edited config not saved as agent.yaml.rpmsave: %v", err)
	}
	os.Remove("/etc/eolwatch/agent.yaml.rpmsave")
	os.Remove("/etc/eolwatch")
	if after := footprint(t); !slices.Equal(before, after) {
		t.Errorf("after rpm -e, paths with eolwatch in them differ from before install:\nbefore: %q\nafter:  %q", before, after)
	}
}

// TestAgentPostinstallSettings runs the agent's post-install script on its
// own, in a private mount namespace with tmpfs over /etc/default and
// /etc/systemd/system: install-time settings are written (the
// EOLWATCH_SERVER_URL alias too), a second run replaces rather than
// duplicates them, and a value systemd could not read back is refused
// with the variable's name.
func TestAgentPostinstallSettings(t *testing.T) {
	needRoot(t)
	need(t, "unshare", "sh")
	script, err := filepath.Abs("../../installers/linux/scripts/agent-postinstall.sh")
	if err != nil {
		t.Fatal(err)
	}
	sh := `set -e
mount -t tmpfs -o size=1m tmpfs /etc/default
mount -t tmpfs -o size=1m tmpfs /etc/systemd/system
EOLWATCH_SERVER_URL=https://first.example.test EOLWATCH_ENROLL_SECRET=one sh "$1" configure
EOLWATCH_SERVER=https://second.example.test sh "$1" configure 1.0.0
stat -c '%a %U' /etc/default/eolwatch-agent
echo ---FILE---
cat /etc/default/eolwatch-agent
echo ---END---
if EOLWATCH_ENROLL_SECRET="it's" sh "$1" configure 2>&1; then echo ACCEPTED; else echo REFUSED; fi
grep -c EOLWATCH_ENROLL_SECRET= /etc/default/eolwatch-agent
`
	out := run(t, nil, "unshare", "--mount", "--propagation", "private", "sh", "-c", sh, "sh", script)
	_, file, _ := strings.Cut(out, "---FILE---\n")
	file, rest, _ := strings.Cut(file, "---END---\n")
	if !strings.HasPrefix(out, "600 root\n") {
		t.Errorf("settings file mode/owner: want 600 root, got:\n%s", out)
	}
	for _, want := range []string{"EOLWATCH_SERVER='https://second.example.test'\n", "EOLWATCH_ENROLL_SECRET='one'\n"} {
		if strings.Count(file, want) != 1 {
			t.Errorf("settings file: want %q once, got:\n%s", want, file)
		}
	}
	if strings.Contains(file, "first.example.test") {
		t.Errorf("settings file kept the replaced server:\n%s", file)
	}
	if !strings.Contains(rest, "EOLWATCH_ENROLL_SECRET must not contain a single quote") || !strings.Contains(rest, "REFUSED") {
		t.Errorf("a secret with a quote was not refused by name:\n%s", rest)
	}
	if !strings.HasSuffix(strings.TrimSpace(rest), "\n1") {
		t.Errorf("refused value touched the settings file:\n%s", rest)
	}
}

// TestServerPostinstallRefusesWeakSecret: an enroll secret given at first
// install that the server would refuse at start (shorter than 16
// characters) is refused by the package's post-install, by the variable's
// name and with how to generate one, before anything is changed (the
// system-user commands are stand-ins here that say when they are reached);
// a good one gets past the check.
func TestServerPostinstallRefusesWeakSecret(t *testing.T) {
	needRoot(t)
	need(t, "unshare", "sh")
	script, err := filepath.Abs("../../installers/linux/scripts/server-postinstall.sh")
	if err != nil {
		t.Fatal(err)
	}
	fake := t.TempDir()
	for _, cmd := range []string{"getent", "adduser", "useradd", "groupadd"} {
		if err := os.WriteFile(filepath.Join(fake, cmd), []byte("#!/bin/sh\necho REACHED-"+cmd+"\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	sh := `mount -t tmpfs -o size=1m tmpfs /etc/default
PATH="$2:$PATH"; export PATH
for secret in hunter2 "$3"; do
	if EOLWATCH_ENROLL_SECRET="$secret" sh "$1" configure 2>&1; then echo ACCEPTED; else echo REFUSED; fi
	echo ---
done
`
	out := run(t, nil, "unshare", "--mount", "--propagation", "private", "sh", "-c", sh, "sh", script, fake, "hR0vJt7mXq2KcLw9ZsYe4NfB")
	weak, good, _ := strings.Cut(out, "---\n")
	for _, want := range []string{"EOLWATCH_ENROLL_SECRET has 7 characters, at least 16 needed", "openssl rand -base64 24", "REFUSED"} {
		if !strings.Contains(weak, want) {
			t.Errorf("a 7-character secret: want %q, got:\n%s", want, weak)
		}
	}
	if strings.Contains(weak, "REACHED") || strings.Contains(weak, "hunter2") {
		t.Errorf("a refused secret got past the check or was echoed:\n%s", weak)
	}
	if !strings.Contains(good, "REACHED-") || strings.Contains(good, "characters, at least 16") {
		t.Errorf("a 24-character secret did not get past the check:\n%s", good)
	}
}

// TestRebuildIntoExistingDist: a second `make packages` into a dist/ that
// holds the first run's packages works (osslsigncode refuses to overwrite
// its output: the script must not ask it to) and replaces them (issue 13,
// item 12).
func TestRebuildIntoExistingDist(t *testing.T) {
	first := packages(t, "windows")
	dist := filepath.Join(t.TempDir(), "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(first)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(first, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dist, e.Name()), b, 0o644)
	}
	root, _ := filepath.Abs("../..")
	msi := filepath.Join(dist, "eolwatch-agent_"+v1+"_windows_amd64.msi")
	before, _ := os.Stat(msi)
	out, err := runErr([]string{"DIST=" + dist, "ARCHES=" + runtime.GOARCH, "PKG_VERSION=" + v1, "SIGN_PKCS12=", "SIGN_PASSWORD=", "TARGETS=windows"},
		filepath.Join(root, "scripts", "packages.sh"))
	if err != nil {
		t.Fatalf("second packages.sh into the same dist: %v\n%s", err, out)
	}
	after, err := os.Stat(msi)
	if err != nil || !after.ModTime().After(before.ModTime()) {
		t.Errorf("the MSI was not rebuilt: %v", err)
	}
	run(t, nil, "osslsigncode", "verify", "-CAfile", filepath.Join(dist, "eolwatch-test-codesign.crt"), "-in", msi)
}

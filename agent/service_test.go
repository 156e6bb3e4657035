package agent

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// needTool skips when a tool is missing, unless CI=true where that fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (run make deps)", name)
		}
		t.Skipf("%s not found: run make deps", name)
	}
	return p
}

func TestSystemdUnitHardened(t *testing.T) {
	sa := needTool(t, "systemd-analyze")
	exe, err := os.Executable() // ExecStart must name an existing binary
	if err != nil {
		t.Fatal(err)
	}
	unit, err := ServiceFile("systemd", exe, []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "StateDirectory=eolwatch-agent", "ProtectSystem=strict", "NoNewPrivileges=yes",
		"PrivateTmp=yes", "ProtectHome=yes", "RestrictAddressFamilies=", "SystemCallFilter=", "Restart=on-failure", "RestartSec=5s"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %s", want)
		}
	}
	p := filepath.Join(t.TempDir(), ServiceName+".service")
	if err := os.WriteFile(p, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", "--man=no", p).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, _ = exec.Command(sa, "security", "--offline=true", p).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security gave no score:\n%s", out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	if score >= 5.0 {
		t.Errorf("systemd-analyze security score %.1f, want below 5.0:\n%s", score, out)
	}
	t.Logf("systemd-analyze security: %.1f", score)
}

func TestLaunchdPlist(t *testing.T) {
	out, err := ServiceFile("launchd", "/usr/local/bin/eolwatch-agent", []string{"run", "--config", "/a&b/agent.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := parsePlist(strings.NewReader(out))
	if err != nil {
		t.Fatalf("launchd plist does not parse: %v\n%s", err, out)
	}
	d := v.(map[string]any)
	args, _ := d["ProgramArguments"].([]any)
	want := []any{"/usr/local/bin/eolwatch-agent", "run", "--config", "/a&b/agent.yaml"}
	if d["Label"] != launchdLabel || len(args) != len(want) {
		t.Fatalf("launchd plist Label=%v ProgramArguments=%v", d["Label"], args)
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("ProgramArguments[%d] = %v, want %v", i, args[i], want[i])
		}
	}
}

package agent

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/kardianos/service"
)

// TestInstallWritesTheSameUnit installs the service through kardianos/service
// (forced to systemd) inside a private mount namespace with a tmpfs over
// /etc/systemd/system, and checks it wrote exactly what service-file prints.
func TestInstallWritesTheSameUnit(t *testing.T) {
	if os.Getenv("EOLWATCH_INSTALL_CHILD") == "1" {
		installChild()
		return
	}
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("needs root on Linux (a private mount namespace)")
	}
	unshare := needTool(t, "unshare")
	if _, err := os.Stat("/etc/systemd/system"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /etc/systemd/system to mount over (run make deps: systemd)")
		}
		t.Skip("no /etc/systemd/system to mount over: run make deps (systemd)")
	}
	cmd := exec.Command(unshare, "-m", os.Args[0], "-test.run=^TestInstallWritesTheSameUnit$")
	cmd.Env = append(os.Environ(), "EOLWATCH_INSTALL_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(string(out), "unshare failed") && os.Getenv("CI") != "true" {
		t.Skipf("no private mount namespace here: %s", bytes.TrimSpace(out))
	}
	if err != nil {
		t.Fatalf("install child: %v\n%s", err, out)
	}
	_, unit, ok := strings.Cut(string(out), "---UNIT---\n")
	if !ok {
		t.Fatalf("install child wrote no unit:\n%s", out)
	}
	unit, _, _ = strings.Cut(unit, "---END---")
	want, err := ServiceFile("systemd", DefaultBinaryPath, []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if unit != want {
		t.Errorf("install wrote:\n%s\nservice-file prints:\n%s", unit, want)
	}
}

func installChild() {
	if err := syscall.Mount("tmpfs", "/etc/systemd/system", "tmpfs", 0, "size=1m"); err != nil {
		os.Stdout.WriteString("mount: " + err.Error() + "\n")
		os.Exit(2)
	}
	if err := chooseSystem("linux-systemd"); err != nil {
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	cfg := serviceConfig("")
	cfg.Executable = DefaultBinaryPath
	s, err := service.New(&program{}, cfg)
	if err != nil {
		os.Stdout.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	// Install writes the unit, then asks systemctl to enable it, which
	// fails without a running systemd; the file is what matters here.
	ierr := s.Install()
	b, err := os.ReadFile("/etc/systemd/system/" + ServiceName + ".service")
	if err != nil {
		os.Stdout.WriteString(errors.Join(ierr, err).Error() + "\n")
		os.Exit(2)
	}
	os.Stdout.WriteString("---UNIT---\n" + string(b) + "---END---\n")
}

package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestCrossBuild compiles the agent for the six release targets with
// CGO_ENABLED=0 (what make build-all ships). The build cache makes repeated
// runs cheap; -short skips it.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the six-target cross build")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out := t.TempDir()
	for _, goos := range []string{"linux", "windows", "darwin"} {
		for _, arch := range []string{"amd64", "arm64"} {
			cmd := exec.Command(gobin, "build", "-trimpath", "-o", filepath.Join(out, goos+"-"+arch), "github.com/eolwatch/eolwatch/cmd/eolwatch-agent")
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+arch)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("GOOS=%s GOARCH=%s go build: %v\n%s", goos, arch, err, b)
			}
		}
	}
}

// TestAgentImportsStayLean keeps heavy server dependencies out of the agent.
func TestAgentImportsStayLean(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-deps", "github.com/eolwatch/eolwatch/cmd/eolwatch-agent").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, banned := range []string{"github.com/prometheus/", "github.com/mattn/go-sqlite3", "github.com/chromedp/", "github.com/emersion/", "database/sql"} {
		for _, line := range splitLines(string(out)) {
			if len(line) >= len(banned) && line[:len(banned)] == banned {
				t.Errorf("the agent imports %s", line)
			}
		}
	}
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

package agent

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
)

var (
	agentBinOnce sync.Once
	agentBin     string
	agentBinErr  error
)

// buildAgent builds bin/eolwatch-agent as make build does (CGO_ENABLED=0),
// once per test run.
func buildAgent(t *testing.T) string {
	t.Helper()
	agentBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "eolwatch-agent-bin")
		if err != nil {
			agentBinErr = err
			return
		}
		agentBin = filepath.Join(dir, "eolwatch-agent")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		cmd := exec.Command(gobin, "build", "-trimpath", "-o", agentBin, "github.com/eolwatch/eolwatch/cmd/eolwatch-agent")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			agentBinErr = err
			t.Logf("%s", out)
		}
	})
	if agentBinErr != nil {
		t.Fatalf("go build eolwatch-agent: %v", agentBinErr)
	}
	return agentBin
}

// runInventory runs `eolwatch-agent inventory --json` with args.
func runInventory(t *testing.T, args ...string) Inventory {
	t.Helper()
	cmd := exec.Command(buildAgent(t), append([]string{"inventory", "--json", "--log-level", "error"}, args...)...)
	cmd.Env = append(os.Environ(), "EOLWATCH_CONFIG=", "CREDENTIALS_DIRECTORY=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("eolwatch-agent inventory --json %v: %v\n%s", args, err, out)
	}
	var inv Inventory
	if err := json.Unmarshal(out, &inv); err != nil {
		t.Fatalf("inventory --json: %v\n%s", err, out)
	}
	return inv
}

func sourceItems(inv Inventory, source string) []api.Item {
	var out []api.Item
	for _, it := range inv.Items {
		if it.Source == source {
			out = append(out, it)
		}
	}
	return out
}

// TestBinaryInventoryRepositories runs the real binary on the fixture hosts:
// origin, suite and candidate in `inventory --json`, the host's repository
// date and extended support, the same answer from the cache on the second
// run (which writes nothing new), and nothing written without a state
// directory.
func TestBinaryInventoryRepositories(t *testing.T) {
	for _, tc := range []struct {
		root, source string
		want         []repoView
		ext          []string
	}{
		{"testdata/debian-apt", "dpkg", debianFixtureWant, nil},
		{"testdata/ubuntu-apt", "dpkg", ubuntuFixtureWant, []string{api.ExtUbuntuESMApps, api.ExtUbuntuESMInfra}},
	} {
		t.Run(tc.root, func(t *testing.T) {
			state := t.TempDir()
			cold := runInventory(t, "--root", tc.root, "--state-dir", state)
			if got := viewOf(sourceItems(cold, tc.source)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("inventory --json items:\n got %+v\nwant %+v", got, tc.want)
			}
			if cold.Host.RepoDataDate.IsZero() || !reflect.DeepEqual(cold.Host.ExtendedSupport, tc.ext) || len(cold.Errors) != 0 {
				t.Errorf("host = repo_data_date %v extended_support %v, errors %v", cold.Host.RepoDataDate, cold.Host.ExtendedSupport, cold.Errors)
			}
			cache := filepath.Join(state, aptCacheFile)
			st, err := os.Stat(cache)
			if err != nil {
				t.Fatalf("no cache in the state dir after the first run: %v", err)
			}
			warm := runInventory(t, "--root", tc.root, "--state-dir", state)
			if !reflect.DeepEqual(warm.Items, cold.Items) || !warm.Host.RepoDataDate.Equal(cold.Host.RepoDataDate) {
				t.Errorf("the warm run differs from the cold one")
			}
			if st2, _ := os.Stat(cache); !st2.ModTime().Equal(st.ModTime()) {
				t.Errorf("the warm run rewrote the cache")
			}
			none := filepath.Join(t.TempDir(), "missing")
			runInventory(t, "--root", tc.root, "--state-dir", none)
			if _, err := os.Stat(none); err == nil {
				t.Errorf("inventory created the state directory")
			}
		})
	}
	apk := runInventory(t, "--root", "testdata/alpine-apk", "--state-dir", t.TempDir())
	if items := sourceItems(apk, "apk"); len(items) != 9 || items[5].Name != "nodejs" || items[5].Candidate != "22.12.0-r0" || items[5].Suite != "edge/main" {
		t.Errorf("apk items through the binary: %+v", items)
	}
}

// TestBinaryInventoryThisMachine runs the real binary on this machine: every
// dpkg item has a candidate, and a sample agrees with apt-cache policy
// (TestAptThisMachine compares all of them in process).
func TestBinaryInventoryThisMachine(t *testing.T) {
	if _, err := os.Stat(dpkgStatusPath); err != nil {
		t.Skip("no dpkg database on this machine")
	}
	if !hasAptLists() {
		if os.Getenv("CI") == "true" {
			t.Fatal("no apt lists in /var/lib/apt/lists (run make deps)")
		}
		t.Skip("no apt lists in /var/lib/apt/lists: run make deps")
	}
	var inv Inventory
	var items []api.Item
	withOrigin := 0
	sample := againstThisMachine(t, func() []api.Item {
		inv = runInventory(t, "--state-dir", t.TempDir())
		for _, e := range inv.Errors {
			if e.Collector == "dpkg" {
				t.Fatalf("dpkg collector error: %s", e.Error)
			}
		}
		items = sourceItems(inv, "dpkg")
		var sample []api.Item
		withOrigin = 0
		for i, it := range items {
			if it.Origin != "" {
				withOrigin++
			}
			if i%25 == 0 || it.Name == "nodejs" || it.Name == "curl" || it.Name == "libc6" {
				sample = append(sample, it)
			}
		}
		return sample
	})
	for _, it := range items {
		if it.Candidate == "" {
			t.Errorf("%s %s: no candidate", it.Name, it.Version)
		}
	}
	if withOrigin == 0 || inv.Host.RepoDataDate.IsZero() {
		t.Errorf("no dpkg item with an origin (%d items) or no repository date (%v)", len(items), inv.Host.RepoDataDate)
	}
	t.Logf("%d dpkg items, %d offered by a configured repository; %d compared with apt-cache policy; repository data of %s",
		len(items), withOrigin, len(sample), inv.Host.RepoDataDate.Format("2006-01-02"))
}

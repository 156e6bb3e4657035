package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// getBody returns a GET's status and body, with an admin token.
func getBody(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestMigrateMakeRunDataDir moves a data directory made by `make run`
// (scripts/run.sh with the real binaries: the server, this machine's agent,
// an admin token), enriched through the API with a group, a subscriber, a
// published release and a customer, into PostgreSQL with `eolwatch-server
// migrate`, then serves it from PostgreSQL: every API answer is the same
// as before, with the same token, and the dashboard's session key moved.
func TestMigrateMakeRunDataDir(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("scripts/run.sh is a bash script")
	}
	for _, tool := range []string{"bash", "curl", "od"} {
		needTool(t, tool) // scripts/run.sh runs them
	}
	srvBin, agentBin := buildBinaries(t)
	db := pgtest.DatabaseURL(t)
	// A checkout as make run sees it: bin/ and scripts/run.sh.
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	os.MkdirAll(filepath.Join(root, "scripts"), 0o755)
	for src, dst := range map[string]string{srvBin: "bin/eolwatch-server", agentBin: "bin/eolwatch-agent", "../scripts/run.sh": "scripts/run.sh"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dst), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	url := "http://127.0.0.1:" + port
	run := exec.Command("bash", "scripts/run.sh")
	run.Dir = root
	run.Env = append(os.Environ(), "EOLWATCH_RUN_ADDR=127.0.0.1:"+port, "EOLWATCH_CONFIG=")
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := run.StdoutPipe()
	var runErr bytes.Buffer
	run.Stderr = &runErr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if run.ProcessState == nil {
			syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
			run.Wait()
		}
	})
	tokenRE := regexp.MustCompile(`Admin token: (ewt_\S+)`)
	token := ""
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := tokenRE.FindStringSubmatch(sc.Text()); m != nil {
			token = m[1]
			break
		}
	}
	if token == "" {
		t.Fatalf("scripts/run.sh printed no admin token:\n%s", runErr.String())
	}
	go io.Copy(io.Discard, stdout)

	// Enrich the data directory through the API.
	for _, c := range []struct {
		path string
		body any
		auth bool
	}{
		{"/api/v1/groups", map[string]any{"name": "web", "products": []string{"python", "nginx"}, "events": []string{"release", "eol"}}, true},
		{"/api/v1/subscriptions", map[string]string{"group": "web", "email": "ops@example.com"}, false},
		{api.PathCatalogReleases, map[string]string{"product": "python", "cycle": "3.12", "version": "3.12.96", "date": time.Now().UTC().Format(time.DateOnly)}, true},
		{"/api/v1/customers", map[string]any{"name": "Acme", "tier": "premium", "contract_start": "2025-01-01", "contract_end": "2099-12-31",
			"timezone": "UTC", "contacts": []string{"ops@acme.example"}}, true},
	} {
		tok := ""
		if c.auth {
			tok = token
		}
		if code, b, err := postJSON(url+c.path, tok, c.body); err != nil || code >= 300 {
			t.Fatalf("POST %s: %d %s %v", c.path, code, b, err)
		}
	}
	// The published release made the server re-evaluate the fleet: wait for
	// the stored verdicts to be the catalog's in force.
	waitFor(t, 60*time.Second, "the fleet re-evaluated with the published release", func() bool {
		var ready struct {
			CatalogVersion string `json:"catalog_version"`
		}
		var c api.Compliance
		getJSON(t, url+"/readyz", token, &ready)
		getJSON(t, url+api.PathCompliance, token, &c)
		return ready.CatalogVersion != "" && c.CatalogVersion == ready.CatalogVersion
	})
	var hosts api.HostList
	if code := getJSON(t, url+api.PathHosts, token, &hosts); code != 200 || hosts.Total != 1 {
		t.Fatalf("make run's server has %d hosts (%d), want this machine", hosts.Total, code)
	}
	paths := []string{api.PathHosts, api.PathHosts + "/" + hosts.Hosts[0].ID, api.PathProducts, api.PathCompliance,
		"/api/v1/customers", "/api/v1/groups", "/api/v1/subscriptions", "/api/v1/outbox?limit=100",
		api.PathEligibility + "?host=" + hosts.Hosts[0].ID + "&product=python", api.PathEligibility + "?product=python&version=3.12.96"}
	before := map[string][]byte{}
	for _, p := range paths {
		code, b := getBody(t, url+p, token)
		if code != 200 && !(code == 404 && strings.Contains(p, "host=")) {
			t.Fatalf("GET %s before: %d %s", p, code, b)
		}
		before[p] = b
	}
	// Stop make run as Ctrl-C does.
	syscall.Kill(-run.Process.Pid, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- run.Wait() }()
	select {
	case <-done:
	case <-time.After(40 * time.Second):
		t.Fatal("make run did not stop on SIGINT")
	}
	dataDir := filepath.Join(root, ".run")

	out, err := exec.Command(srvBin, "migrate", "--from-data-dir", dataDir, "--database", db).CombinedOutput()
	if err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	for _, table := range []string{"hosts", "host_software", "software", "verdicts", "tokens", "notifier_outbox", "catalog_releases", "customers"} {
		if !regexp.MustCompile(`(?m)^` + table + `\s+[1-9]`).Match(out) {
			t.Errorf("migrate's table lacks %s with rows:\n%s", table, out)
		}
	}
	t.Logf("migrate:\n%s", out)

	// Served from PostgreSQL (an empty data directory), at make run's
	// address: the same answers, with the same token.
	p := startServer(t, srvBin, t.TempDir(), "--database", db, "--listen", "127.0.0.1:"+port)
	for _, path := range paths {
		code, b := getBody(t, p.url+path, token)
		if code != 200 && !(code == 404 && strings.Contains(path, "host=")) {
			t.Errorf("GET %s after: %d %s", path, code, b)
			continue
		}
		if !bytes.Equal(b, before[path]) {
			t.Errorf("GET %s differs after the move:\nbefore %s\nafter  %s", path, before[path], b)
		}
	}
	// The agent that make run enrolled reports with the node key it has,
	// to the same URL: no new enrolment, no approval needed.
	secret, err := os.ReadFile(filepath.Join(dataDir, "enroll-secret"))
	if err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(agentBin, "once", "--server", url, "--enroll-secret", strings.TrimSpace(string(secret)),
		"--state-dir", filepath.Join(dataDir, "agent")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "delivered") {
		t.Errorf("make run's agent reporting after the move: %v\n%s", err, out)
	}
	var after api.HostList
	if code := getJSON(t, p.url+api.PathHosts, token, &after); code != 200 || after.Total != 1 || after.Hosts[0].ID != hosts.Hosts[0].ID {
		t.Errorf("hosts after the agent reported to PostgreSQL: %d %+v; want the one host it was", code, after)
	}
	// The dashboard's cookies stay valid: the session key moved.
	st, err := store.OpenPostgres(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, err := st.SharedKey(context.Background(), "session_key", 32)
	file, _ := os.ReadFile(filepath.Join(dataDir, "session.key"))
	if err != nil || hex.EncodeToString(key) != hex.EncodeToString(file) {
		t.Errorf("session key in PostgreSQL %x (%v), want the data directory's %x", key, err, file)
	}
	// A second move into the database, now in use, is refused.
	out, err = exec.Command(srvBin, "migrate", "--from-data-dir", dataDir, "--database", db).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already holds data") {
		t.Errorf("migrating into a database in use: %v\n%s; want a refusal", err, out)
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := strings.Cut(ln.Addr().String(), "127.0.0.1:")
	return port
}

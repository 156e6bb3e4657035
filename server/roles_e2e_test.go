package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/agent"
	"github.com/eolwatch/eolwatch/server/api"
)

// TestAgentPackageMetadataDecidesRoles runs the real agent over a dpkg
// database and the real server: the agent reports each package's section
// and summary, the server stores them, and the matcher reads a package's
// role from them. nginx-extras here is an empty transitional package stuck
// at an old version, which its name alone would match: its summary keeps it
// from giving the host a second, stale nginx verdict.
func TestAgentPackageMetadataDecidesRoles(t *testing.T) {
	e := newTestEnv(t)
	root := t.TempDir()
	for path, body := range map[string]string{
		"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
		"var/lib/dpkg/status": `Package: nginx
Status: install ok installed
Section: httpd
Architecture: amd64
Version: 1.22.1-9+deb12u1
Description: small, powerful, scalable web/proxy server
 Nginx ("engine X") is a high-performance web and reverse proxy server.

Package: nginx-extras
Status: install ok installed
Section: oldlibs
Architecture: all
Source: nginx
Version: 1.18.0-6.1
Description: transitional dummy package
 This package can be removed.

Package: haproxy
Status: install ok installed
Section: net
Architecture: amd64
Version: 2.6.12-1+deb12u1
Description: fast and reliable load balancing reverse proxy
`,
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := agent.Config{Server: e.ts.URL, EnrollSecret: testSecret, StateDir: t.TempDir(), Root: root,
		RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, Splay: time.Hour, RequestTimeout: 5 * time.Second}
	if err := cfg.Validate(true); err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Once(t.Context()); err != nil {
		t.Fatalf("agent report: %v", err)
	}
	tok := e.tokens["viewer"]
	var hosts api.HostList
	_, b := e.do(t, "GET", api.PathHosts, tok, nil, nil)
	if err := json.Unmarshal(b, &hosts); err != nil || len(hosts.Hosts) != 1 {
		t.Fatalf("hosts = %s (%v)", b, err)
	}
	var d api.HostDetail
	_, b = e.do(t, "GET", api.PathHosts+"/"+hosts.Hosts[0].ID, tok, nil, nil)
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	got := map[string]api.InventoryItem{}
	for _, it := range d.Inventory {
		got[it.Name] = it
	}
	if it := got["nginx"]; it.MatchProduct != "nginx" || it.Section != "httpd" {
		t.Errorf("nginx = %+v, want matched to nginx with its section", it)
	}
	if it := got["nginx-extras"]; it.MatchProduct != "" || it.Summary != "transitional dummy package" {
		t.Errorf("nginx-extras = %+v, want it stored with its summary and unmatched (a transitional package)", it)
	}
	if it := got["haproxy"]; it.MatchProduct != "haproxy" {
		t.Errorf("haproxy = %+v, want matched", it)
	}
}

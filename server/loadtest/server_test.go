package loadtest_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/cli"
	"github.com/eolwatch/eolwatch/server/loadtest"
)

// startServer runs the real server (SQLite store, catalog, notifier, HTTP
// API) in-process on a loopback port, and returns its URL, the enroll
// secret and a support token.
func startServer(t testing.TB) (url, secret, token string) {
	t.Helper()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	secret = "load-secret-0123456789"
	cfg, err := cli.ParseServeConfig([]string{"--listen", addr, "--data-dir", dir, "--enroll-secret", secret, "--log-level", "warn"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("ParseServeConfig: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server.Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	url = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready at %s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var out bytes.Buffer
	if err := cli.Main(context.Background(), []string{"token", "create", "--data-dir", dir, "--role", "support", "--name", "loadgen"},
		cli.Stdio{In: strings.NewReader(""), Out: &out, Err: io.Discard}); err != nil {
		t.Fatalf("token create: %v", err)
	}
	return url, secret, strings.TrimSpace(out.String())
}

// TestLoadgenAgainstRealServer runs the generator at small scale against the
// real server over loopback and checks every phase went through.
func TestLoadgenAgainstRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real server; skipped with -short")
	}
	url, secret, token := startServer(t)
	res, err := loadtest.Run(context.Background(), loadtest.Config{Server: url, EnrollSecret: secret, Hosts: 40, Items: 300,
		Concurrency: 4, Checkins: 2, ChangeRate: 0.1, Eligibility: 100, Token: token, Seed: 11})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var buf bytes.Buffer
	res.Print(&buf)
	t.Logf("\n%s", buf.String())
	for _, name := range []string{"enroll", "full", "checkin", "eligibility"} {
		p := res.Phase(name)
		if p.Requests == 0 || p.Errors != 0 {
			t.Errorf("phase %s: %d requests, %d errors (%s)", name, p.Requests, p.Errors, p.FirstError)
		}
	}
	if p := res.Phase("checkin"); p.NeedFull != 0 {
		t.Errorf("%d check-ins were answered need_full: the server did not keep the inventory hashes", p.NeedFull)
	}
	// The server now knows the fleet: its compliance summary counts the hosts.
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v1/hosts?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "load-") {
		t.Errorf("GET /hosts = %d %s, want the simulated hosts", resp.StatusCode, body)
	}
	// The same seed again: its install ids are enrolled, and re-enrolling
	// without their keys only asks an admin; the generator says so.
	again, err := loadtest.Run(context.Background(), loadtest.Config{Server: url, EnrollSecret: secret, Hosts: 2, Items: 10,
		Concurrency: 2, Checkins: 0, Seed: 11})
	if err == nil {
		if p := again.Phase("enroll"); p.Errors != 2 || !strings.Contains(p.FirstError, "another --seed") {
			t.Errorf("a second run with the same seed: enroll phase %+v, want 2 errors naming the seed", p)
		}
	} else if !strings.Contains(err.Error(), "another --seed") {
		t.Errorf("a second run with the same seed: %v, want an error naming the seed", err)
	}
}

// BenchmarkLoadgen runs the generator against the real server and reports
// the figures: full reports and check-ins per second, eligibility p50/p99.
// Scale with LOADGEN_HOSTS / LOADGEN_ITEMS (defaults 200 x 1000).
func BenchmarkLoadgen(b *testing.B) {
	hosts, items := envInt("LOADGEN_HOSTS", 200), envInt("LOADGEN_ITEMS", 1000)
	for i := 0; i < b.N; i++ {
		url, secret, token := startServer(b)
		res, err := loadtest.Run(context.Background(), loadtest.Config{Server: url, EnrollSecret: secret, Hosts: hosts, Items: items,
			Concurrency: 4, Checkins: 2, Eligibility: 2000, Token: token, Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		full, ci, el := res.Phase("full"), res.Phase("checkin"), res.Phase("eligibility")
		b.ReportMetric(full.PerSecond, "full-reports/s")
		b.ReportMetric(full.ItemsPerS, "items/s")
		b.ReportMetric(ci.PerSecond, "checkins/s")
		b.ReportMetric(float64(el.P50.Microseconds())/1000, "elig-p50-ms")
		b.ReportMetric(float64(el.P99.Microseconds())/1000, "elig-p99-ms")
		if full.Errors+ci.Errors+el.Errors > 0 {
			b.Errorf("errors: full %d, check-in %d, eligibility %d", full.Errors, ci.Errors, el.Errors)
		}
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

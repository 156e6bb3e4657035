package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// The end-to-end tests run the real binaries as child processes.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// engine is the engine the in-process tests (newTestEnv) run on in this
// pass, and sqlitePassRan says a SQLite pass ran before it.
var (
	engine        = sqldb.SQLite
	sqlitePassRan bool
)

// TestMain runs the package's tests on SQLite, then again on a throwaway
// PostgreSQL cluster (EOLWATCH_TEST_ENGINES=sqlite or =postgres for one
// pass): the in-process HTTP tests then run over a PostgreSQL store. The
// tests of the real binaries run once (they choose their own database;
// the replica and migration tests use PostgreSQL in either pass).
func TestMain(m *testing.M) {
	code := pgtest.RunBoth(m, func(d sqldb.Dialect) {
		if d == sqldb.SQLite {
			sqlitePassRan = true // by the time a PostgreSQL pass starts
		}
		engine = d
	})
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinaries builds eolwatch-server and eolwatch-agent once per test run.
func buildBinaries(t *testing.T) (server, agent string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the real binaries; skipped with -short")
	}
	if engine == sqldb.Postgres && sqlitePassRan {
		t.Skip("the real binaries' tests ran in the SQLite pass")
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "eolwatch-e2e-")
		if binErr != nil {
			return
		}
		for _, b := range []struct {
			out, pkg string
			cgo      string
		}{{"eolwatch-server", "github.com/eolwatch/eolwatch/cmd/eolwatch-server", "1"}, {"eolwatch-agent", "github.com/eolwatch/eolwatch/cmd/eolwatch-agent", "0"}} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "eolwatch-server"), filepath.Join(binDir, "eolwatch-agent")
}

type serverProc struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
}

var listenRE = regexp.MustCompile(`msg=listening .*addr=(\S+)`)

// startServer starts the server binary on a free loopback port and waits until it is ready.
func startServer(t *testing.T, bin, dataDir string, extra ...string) *serverProc {
	t.Helper()
	p, wait := launchServer(t, bin, dataDir, extra...)
	wait()
	return p
}

// launchServer starts the server binary on a free loopback port; wait
// waits until it listens (so several servers can start at the same time).
func launchServer(t *testing.T, bin, dataDir string, extra ...string) (p *serverProc, wait func()) {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--enroll-secret", testSecret}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "EOLWATCH_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p = &serverProc{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.logs.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return p, func() {
		t.Helper()
		select {
		case a := <-addr:
			p.url = "http://" + a
		case <-time.After(60 * time.Second):
			t.Fatalf("server did not start:\n%s", p.logText())
		}
	}
}

func (p *serverProc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

func postJSON(url, key string, v any) (int, []byte, error) {
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// itemsFor is the deterministic inventory of report seq of a host.
func itemsFor(seq int) []api.Item {
	n := 200 + seq%50
	items := make([]api.Item, n)
	for i := range items {
		items[i] = api.Item{Source: "dpkg", Name: fmt.Sprintf("pkg-%d", i), Version: fmt.Sprintf("1.%d", (i+seq)%7)}
	}
	items[0] = api.Item{Source: "dpkg", Name: "python3.11", Version: fmt.Sprintf("3.11.%d-1", seq%5)}
	return items
}

// ackedHost is one reporting agent's host: its id and node key, and the
// reports the server acknowledged to it (lastSeq -1 before any).
type ackedHost struct {
	uid, key string
	lastSeq  int
	ids      []string
}

// reporting is a set of agents sending full reports in a loop.
type reporting struct {
	mu    sync.Mutex
	hosts []ackedHost
	done  chan struct{}
	wg    sync.WaitGroup
}

// startReporting enrolls n hosts (install id prefix-i, hostname
// prefix-host-i, host i through urlFor(i, 0)) and starts each sending full
// reports r-000000, r-000001, ... (the seq-th with itemsFor(seq)) through
// urlFor(i, seq) until stop. With quitOnError a host stops at its first
// transport error (the server is gone); without, it tries the next report.
func startReporting(t *testing.T, n int, prefix string, urlFor func(host, seq int) string, quitOnError bool) *reporting {
	t.Helper()
	a := &reporting{hosts: make([]ackedHost, n), done: make(chan struct{})}
	for i := range n {
		code, b, err := postJSON(urlFor(i, 0)+api.PathEnroll, "", api.EnrollRequest{EnrollSecret: testSecret, Host: testHost(fmt.Sprint(prefix, "-", i), fmt.Sprint(prefix, "-host-", i))})
		if err != nil || code != 200 {
			t.Fatalf("enroll: %d %s %v", code, b, err)
		}
		var er api.EnrollResponse
		json.Unmarshal(b, &er)
		a.hosts[i] = ackedHost{uid: er.HostID, key: er.NodeKey, lastSeq: -1}
	}
	for i := range n {
		key := a.hosts[i].key
		a.wg.Go(func() {
			for seq := 0; ; seq++ {
				select {
				case <-a.done:
					return
				default:
				}
				id := fmt.Sprintf("r-%06d", seq)
				r := fullReport(id, fmt.Sprint(prefix, "-", i), fmt.Sprint(prefix, "-host-", i), itemsFor(seq)...)
				code, _, err := postJSON(urlFor(i, seq)+api.PathReport, key, r)
				if err != nil && quitOnError {
					return // the server is gone
				}
				if err == nil && code == 200 {
					a.mu.Lock()
					a.hosts[i].lastSeq = seq
					a.hosts[i].ids = append(a.hosts[i].ids, id)
					a.mu.Unlock()
				}
			}
		})
	}
	return a
}

// acked returns the hosts' acknowledgements so far.
func (a *reporting) acked() []ackedHost {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ackedHost, len(a.hosts))
	for i, h := range a.hosts {
		h.ids = slices.Clone(h.ids)
		out[i] = h
	}
	return out
}

// stop ends every host's loop, waits for them and returns what each had
// acknowledged.
func (a *reporting) stop() []ackedHost {
	close(a.done)
	a.wg.Wait()
	return a.hosts
}

// TestKill9LosesNoAcknowledgedReport kills the real server with SIGKILL
// while agents are reporting, then checks every acknowledged report is in
// the database and the server restarts cleanly.
func TestKill9LosesNoAcknowledgedReport(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("SIGKILL semantics")
	}
	srvBin, _ := buildBinaries(t)
	dir := t.TempDir()
	p := startServer(t, srvBin, dir)
	const hosts = 6
	agents := startReporting(t, hosts, "kill", func(int, int) string { return p.url }, true)
	// Kill once every sender has had reports acknowledged, so the kill lands
	// mid-stream on a fast machine and a slow one alike.
	ackedAll := func() bool {
		for _, r := range agents.acked() {
			if len(r.ids) < 2 {
				return false
			}
		}
		return true
	}
	for deadline := time.Now().Add(60 * time.Second); !ackedAll(); {
		if time.Now().After(deadline) {
			t.Fatalf("senders got too few acknowledgements within 60s; server log:\n%s", p.logText())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	results := agents.stop()
	total := 0
	for _, r := range results {
		total += len(r.ids)
	}
	if total == 0 {
		t.Fatalf("no report was acknowledged before the kill; server log:\n%s", p.logText())
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	for _, r := range results {
		if r.lastSeq < 0 {
			continue
		}
		_, hostRow, err := st.FindHost(ctx, r.uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range r.ids {
			if seen, err := st.ReportSeen(ctx, hostRow, id); err != nil || !seen {
				t.Errorf("host %s: acknowledged report %s missing after kill -9 (err %v)", r.uid, id, err)
			}
		}
		d, err := st.HostDetail(ctx, store.Scope{}, r.uid)
		if err != nil {
			t.Fatal(err)
		}
		// The stored inventory is the last acknowledged report's, or a later one
		// the server committed but could not acknowledge before dying.
		if d.LastReportAt.IsZero() || d.Items < len(itemsFor(r.lastSeq)) {
			t.Errorf("host %s: stored %d items, last acknowledged report had %d", r.uid, d.Items, len(itemsFor(r.lastSeq))+1)
		}
	}
	st.Close()
	t.Logf("%d reports acknowledged before kill -9; all present", total)
	// The server comes back on the same data and answers repeats as duplicates.
	p2 := startServer(t, srvBin, dir)
	last := results[0]
	if last.lastSeq >= 0 {
		r := fullReport(last.ids[len(last.ids)-1], "kill-0", "kill-host-0", itemsFor(last.lastSeq)...)
		code, b, err := postJSON(p2.url+api.PathReport, last.key, r)
		var rr api.ReportResponse
		json.Unmarshal(b, &rr)
		if err != nil || code != 200 || !rr.Duplicate {
			t.Errorf("repeat of an acknowledged report after restart: %d %s %v, want a duplicate", code, b, err)
		}
	}
	// Graceful stop.
	p2.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit after SIGTERM: %v\n%s", err, p2.logText())
		}
	case <-time.After(40 * time.Second):
		t.Errorf("server did not stop after SIGTERM")
	}
}

// TestEndToEndAgentServerEligibility runs the real agent on this machine's
// real inventory against the real server, then asks for the eligibility of
// this machine's OS through the API and the CLI and compares the answers.
func TestEndToEndAgentServerEligibility(t *testing.T) {
	srvBin, agentBin := buildBinaries(t)
	dir := t.TempDir()
	p := startServer(t, srvBin, dir)
	out, err := exec.Command(agentBin, "once", "--server", p.url, "--enroll-secret", testSecret, "--state-dir", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("agent once: %v\n%s\nserver:\n%s", err, out, p.logText())
	}
	tok, err := exec.Command(srvBin, "token", "create", "--data-dir", dir, "--role", "support").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	if !strings.HasPrefix(token, "ewt_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q, want the token alone", tok)
	}
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest("GET", p.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	var hosts api.HostList
	get("/api/v1/hosts", &hosts)
	if len(hosts.Hosts) != 1 || hosts.Hosts[0].Items < 2 {
		t.Fatalf("hosts after one agent report = %+v", hosts)
	}
	h := hosts.Hosts[0]
	var detail api.HostDetail
	get("/api/v1/hosts/"+h.ID, &detail)
	// What the agent read from this machine's apt lists reached the store.
	if lists, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*"); len(lists) > 0 {
		withCandidate, withOrigin := 0, 0
		for _, it := range detail.Inventory {
			if it.Source == "dpkg" && it.Candidate != "" {
				withCandidate++
			}
			if it.Source == "dpkg" && it.Origin != "" {
				withOrigin++
			}
		}
		if withCandidate == 0 || withOrigin == 0 || detail.Info.RepoDataDate.IsZero() {
			t.Errorf("stored inventory: %d dpkg items with a candidate, %d with an origin, repo_data_date %v; want some of each",
				withCandidate, withOrigin, detail.Info.RepoDataDate)
		}
	}
	osProduct := ""
	for _, it := range detail.Inventory {
		if it.Source == "os" {
			osProduct = it.MatchProduct
		}
	}
	if osProduct == "" {
		t.Skipf("this machine's OS (%s) matched no catalog product; inventory of %d items", detail.Info.OSName, len(detail.Inventory))
	}
	var apiAns api.Eligibility
	get("/api/v1/eligibility?host="+h.ID+"&product="+osProduct, &apiAns)
	if apiAns.Reason == "" || apiAns.Status == "" || apiAns.HostID != h.ID {
		t.Errorf("API eligibility = %+v", apiAns)
	}
	cli, err := exec.Command(srvBin, "eligibility", "--data-dir", dir, "--host", h.ID, "--product", osProduct, "--json").Output()
	if err != nil {
		t.Fatalf("eligibility CLI: %v", err)
	}
	var cliAns api.Eligibility
	if err := json.Unmarshal(cli, &cliAns); err != nil {
		t.Fatalf("eligibility CLI output: %v\n%s", err, cli)
	}
	a, _ := json.Marshal(apiAns)
	c, _ := json.Marshal(cliAns)
	if !bytes.Equal(a, c) {
		t.Errorf("CLI and API answers differ:\nAPI %s\nCLI %s", a, c)
	}
	human, err := exec.Command(srvBin, "eligibility", "--data-dir", dir, "--host", h.Hostname, "--product", osProduct).Output()
	if err != nil || !bytes.Contains(human, []byte("ELIGIBLE")) {
		t.Errorf("eligibility CLI (human): %v\n%s", err, human)
	}
	t.Logf("this machine: %s %s -> %s (eligible=%v): %s", osProduct, apiAns.Version, apiAns.Status, apiAns.Eligible, apiAns.Reason)
}

// TestServeTLS runs the real binary with --tls-cert/--tls-key and talks HTTPS
// to it, trusting only the test certificate.
func TestServeTLS(t *testing.T) {
	srvBin, _ := buildBinaries(t)
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	p := startServer(t, srvBin, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile)
	u := strings.Replace(p.url, "http://", "https://", 1)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Get(u + "/readyz")
	if err != nil {
		t.Fatalf("GET %s/readyz over TLS: %v\n%s", u, err, p.logText())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("readyz over TLS: %d, tls=%v", resp.StatusCode, resp.TLS != nil)
	}
	if resp, err := http.Get(p.url + "/readyz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS listener")
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// inProcessConfig is the configuration of a server run in this process:
// a random loopback port, a fresh data directory, the test's enrolment
// secret and, under Postgres, a fresh database of the engine's.
func inProcessConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Listen, cfg.DataDir, cfg.EnrollSecret = "127.0.0.1:0", t.TempDir(), testSecret
	if engine == sqldb.Postgres {
		cfg.Database = pgtest.URL(t)
	}
	return cfg
}

// runInProcess runs the server with cfg in this process and returns its
// URL once it has logged its address, waiting up to a minute (migrations
// and the catalog load on a loaded 2-core machine). cancel stops it as
// SIGTERM does; done then receives Run's result.
func runInProcess(t *testing.T, cfg Config) (url string, logs *syncBuffer, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &syncBuffer{}
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, cfg, logs) }()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(25 * time.Millisecond) {
		if m := listenRE.FindStringSubmatch(logs.String()); m != nil {
			return "http://" + m[1], logs, cancel, ran
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start:\n%s", logs.String())
		}
	}
}

// TestGracefulShutdownFinishesInFlightReport stops the server (as SIGTERM
// does) while a report's body is still arriving: the report is stored and
// acknowledged before Run returns.
func TestGracefulShutdownFinishesInFlightReport(t *testing.T) {
	cfg := inProcessConfig(t)
	url, logs, cancel, done := runInProcess(t, cfg)
	defer cancel()
	code, b, err := postJSON(url+api.PathEnroll, "", api.EnrollRequest{EnrollSecret: testSecret, Host: testHost("g-1", "graceful")})
	if err != nil || code != 200 {
		t.Fatalf("enroll: %d %s %v", code, b, err)
	}
	var er api.EnrollResponse
	json.Unmarshal(b, &er)
	body, _ := json.Marshal(fullReport("inflight", "g-1", "graceful", itemsFor(1)...))
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url+api.PathReport, pr)
	req.Header.Set("Authorization", "Bearer "+er.NodeKey)
	req.ContentLength = int64(len(body))
	type result struct {
		code int
		body []byte
		err  error
	}
	res := make(chan result, 1)
	// On a connection of its own: the enroll's, idle in the default
	// client's pool, would be closed by the shutdown if the server had not
	// read this request's header yet.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		resp, err := fresh.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{code: resp.StatusCode, body: b}
	}()
	pw.Write(body[:len(body)/2]) // returns once the client has it, on a connected socket
	// The server accepts connections in the order they were made (one
	// listener's queue, one accept loop) and tracks each as it accepts it:
	// once a request on a later connection is answered, the report's
	// connection is one the shutdown waits for (not a sleep's guess).
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := probe.Get(url + "/healthz"); err != nil {
		t.Fatalf("healthz: %v", err)
	} else {
		resp.Body.Close()
	}
	cancel() // SIGTERM
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), "shutting down"); {
		if time.Now().After(deadline) {
			t.Fatalf("shutdown did not begin:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	pw.Write(body[len(body)/2:])
	pw.Close()
	r := <-res
	if r.err != nil || r.code != 200 {
		t.Fatalf("in-flight report during shutdown: %d %s %v\n%s", r.code, r.body, r.err, logs.String())
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	st, err := store.OpenDatabase(context.Background(), cfg.Database, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.HostDetail(context.Background(), store.Scope{}, "graceful")
	if err != nil || d.Items != len(itemsFor(1))+1 {
		t.Errorf("after shutdown: %d items stored (%v), want %d", d.Items, err, len(itemsFor(1))+1)
	}
	if !strings.Contains(logs.String(), "finishing in-flight requests") {
		t.Errorf("no shutdown log:\n%s", logs.String())
	}
}

// TestServeBehindTLSProxy: the real server behind a TLS-terminating proxy
// (--public-url https://..., --trusted-proxies): every answer carries HSTS,
// the dashboard's cookies are Secure, and the enroll limiter counts the
// client's address from X-Forwarded-For (issue 13, items 5 and 9).
func TestServeBehindTLSProxy(t *testing.T) {
	srvBin, _ := buildBinaries(t)
	p := startServer(t, srvBin, t.TempDir(), "--public-url", "https://eolwatch.example.com", "--trusted-proxies", "127.0.0.1/32,::1/128")
	get := func(path string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", p.url+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/login", "/healthz", "/api/v1/hosts"} {
		if h := get(path, nil).Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
			t.Errorf("GET %s: Strict-Transport-Security %q", path, h)
		}
	}
	resp := get("/login", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"})
	if len(resp.Cookies()) == 0 {
		t.Fatal("GET /login set no cookie")
	}
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s is not Secure behind the TLS proxy", c.Name)
		}
	}
	enroll := func(secret, from string) int {
		body := `{"enroll_secret":"` + secret + `","host":{"install_id":"i-` + from + `","hostname":"h"}}`
		req, _ := http.NewRequest("POST", p.url+"/api/v1/enroll", strings.NewReader(body))
		req.Header.Set("X-Forwarded-For", from)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 21 {
		enroll("guess", "198.51.100.1")
	}
	if c := enroll("guess", "198.51.100.1"); c != http.StatusTooManyRequests {
		t.Errorf("the guesser: %d, want 429", c)
	}
	if c := enroll(testSecret, "198.51.100.1"); c != http.StatusOK {
		t.Errorf("the correct secret from the guesser's address: %d, want 200", c)
	}
	if c := enroll("wrong", "198.51.100.2"); c != http.StatusUnauthorized {
		t.Errorf("another client behind the proxy with a wrong secret: %d, want 401 (its own budget, not the guesser's)", c)
	}
	if c := enroll(testSecret, "198.51.100.2"); c != http.StatusOK {
		t.Errorf("another agent behind the proxy: %d, want 200", c)
	}
}

// TestServeTrustedProxiesOnly: the real server with --trusted-proxies
// 127.0.0.1/32 and a plain-http public URL believes X-Forwarded-Proto and
// -For from 127.0.0.1 only. A client connecting from 127.0.0.2 (another
// loopback address: an untrusted peer) cannot make its cookies Secure, nor
// pick its own enroll-limit budget by forging X-Forwarded-For; without an
// https public URL there is no HSTS (issue 13, items 5 and 9).
func TestServeTrustedProxiesOnly(t *testing.T) {
	srvBin, _ := buildBinaries(t)
	p := startServer(t, srvBin, t.TempDir(), "--trusted-proxies", "127.0.0.1/32")
	from := func(local string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	proxy, stranger := from("127.0.0.1"), from("127.0.0.2")
	send := func(c *http.Client, method, path, body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	https := map[string]string{"X-Forwarded-Proto": "https"}
	for _, tc := range []struct {
		name   string
		client *http.Client
		hdr    map[string]string
		secure bool
	}{
		{"the trusted proxy says https", proxy, https, true},
		{"the trusted proxy says nothing", proxy, nil, false},
		{"an untrusted peer says https", stranger, https, false},
	} {
		resp := send(tc.client, "GET", "/login", "", tc.hdr)
		if len(resp.Cookies()) == 0 {
			t.Fatalf("%s: GET /login set no cookie", tc.name)
		}
		for _, c := range resp.Cookies() {
			if c.Secure != tc.secure {
				t.Errorf("%s: cookie %s Secure = %t, want %t", tc.name, c.Name, c.Secure, tc.secure)
			}
		}
		if h := resp.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("%s: Strict-Transport-Security %q with an http public URL", tc.name, h)
		}
	}
	enroll := func(c *http.Client, secret, xff string) int {
		body := `{"enroll_secret":"` + secret + `","host":{"install_id":"i-` + xff + `","hostname":"h"}}`
		return send(c, "POST", "/api/v1/enroll", body, map[string]string{"X-Forwarded-For": xff}).StatusCode
	}
	for i := range 21 {
		enroll(stranger, "guess", fmt.Sprintf("203.0.113.%d", i+1))
	}
	if c := enroll(stranger, "guess", "203.0.113.99"); c != http.StatusTooManyRequests {
		t.Errorf("an untrusted peer forging a fresh X-Forwarded-For after 21 wrong secrets: %d, want 429 (the header is not believed)", c)
	}
	if c := enroll(proxy, "guess", "198.51.100.1"); c != http.StatusUnauthorized {
		t.Errorf("a client behind the trusted proxy: %d, want 401 (its own budget)", c)
	}
	if c := enroll(stranger, testSecret, "203.0.113.99"); c != http.StatusOK {
		t.Errorf("the correct secret from the limited peer: %d, want 200", c)
	}
}

// TestDataDirFilesPrivate: in a pre-existing world-readable data
// directory, the real server keeps the database (and -wal, -shm) and the
// session key 0600, also a session key an older version left readable
// (issue 13, item 11).
func TestDataDirFilesPrivate(t *testing.T) {
	srvBin, agentBin := buildBinaries(t)
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "session.key"), bytes.Repeat([]byte{7}, 32), 0o644)
	os.Chmod(filepath.Join(dir, "session.key"), 0o644)
	p := startServer(t, srvBin, dir)
	if out, err := exec.Command(agentBin, "once", "--server", p.url, "--enroll-secret", testSecret, "--state-dir", t.TempDir()).CombinedOutput(); err != nil {
		t.Fatalf("agent once: %v\n%s", err, out)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		seen[e.Name()] = true
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: readable by others", e.Name(), info.Mode().Perm())
		}
	}
	for _, want := range []string{"eolwatch.db", "eolwatch.db-wal", "eolwatch.db-shm", "session.key"} {
		if !seen[want] {
			t.Errorf("%s missing from the data directory (%v)", want, seen)
		}
	}
}

package agent

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// fakeServer is an httptest server that checks the agent's wire format
// strictly and remembers what it applied.
type fakeServer struct {
	secret string

	mu        sync.Mutex
	keys      map[string]string // node key -> install id
	enrolls   []api.EnrollRequest
	applied   map[string]int // report id -> times applied
	reports   []api.Report   // applied, in order
	knownHash map[string]string
	fail5xx   map[string]bool   // report ids to answer 500 after applying (lost ack)
	pending   map[string]string // install id -> key held for an admin's approval (holdEnroll)
	holdAll   bool              // answer every enrollment "pending" until approve

	errs []string
}

func newFakeServer(t *testing.T) *fakeServer {
	return &fakeServer{secret: "Fk3q9ZtVx2LmW7pR", keys: map[string]string{}, applied: map[string]int{},
		knownHash: map[string]string{}, fail5xx: map[string]bool{}, pending: map[string]string{}}
}

func (f *fakeServer) fail(w http.ResponseWriter, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.mu.Lock()
	if code == http.StatusBadRequest {
		f.errs = append(f.errs, msg)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(api.Error{Error: msg})
}

func decodeStrict(r io.Reader, v any) error {
	d := json.NewDecoder(r)
	d.DisallowUnknownFields()
	return d.Decode(v)
}

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f *fakeServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+api.PathEnroll, func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			f.fail(w, 400, "enroll content-type %q", ct)
			return
		}
		var req api.EnrollRequest
		if err := decodeStrict(io.LimitReader(r.Body, 1<<20), &req); err != nil {
			f.fail(w, 400, "enroll body: %v", err)
			return
		}
		if req.EnrollSecret != f.secret {
			f.fail(w, 401, "bad enroll secret")
			return
		}
		if req.Host.InstallID == "" || req.Host.Hostname == "" || req.Host.OS == "" {
			f.fail(w, 400, "enroll host incomplete: %+v", req.Host)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.enrolls = append(f.enrolls, req)
		if f.holdAll {
			w.WriteHeader(http.StatusAccepted)
			if held := f.pending[req.Host.InstallID]; held != "" && held == req.NodeKey {
				json.NewEncoder(w).Encode(api.EnrollResponse{Status: api.EnrollPending})
				return
			}
			key := newID()
			f.pending[req.Host.InstallID] = key
			json.NewEncoder(w).Encode(api.EnrollResponse{NodeKey: key, Status: api.EnrollPending})
			return
		}
		key := newID()
		f.keys[key] = req.Host.InstallID
		json.NewEncoder(w).Encode(api.EnrollResponse{HostID: "h-" + req.Host.InstallID[:8], NodeKey: key, Status: api.EnrollEnrolled})
	})
	mux.HandleFunc("POST "+api.PathReport, func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		install, known := f.keys[key]
		f.mu.Unlock()
		if !ok || !known {
			f.fail(w, 401, "unknown node key")
			return
		}
		if r.Header.Get("Content-Encoding") != "gzip" {
			f.fail(w, 400, "report not gzip-encoded")
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			f.fail(w, 400, "gzip: %v", err)
			return
		}
		var rep api.Report
		if err := decodeStrict(io.LimitReader(zr, api.MaxReportBytes), &rep); err != nil {
			f.fail(w, 400, "report body: %v", err)
			return
		}
		switch {
		case rep.ReportID == "":
			f.fail(w, 400, "report_id empty")
			return
		case rep.Host.InstallID != install:
			f.fail(w, 400, "install_id %q does not match the node key's %q", rep.Host.InstallID, install)
			return
		case !hexHash.MatchString(rep.InventoryHash):
			f.fail(w, 400, "inventory_hash %q", rep.InventoryHash)
			return
		case rep.Kind == api.ReportFull && len(rep.Items) == 0:
			f.fail(w, 400, "full report without items")
			return
		case rep.Kind == api.ReportCheckin && len(rep.Items) != 0:
			f.fail(w, 400, "check-in with items")
			return
		case rep.Kind != api.ReportFull && rep.Kind != api.ReportCheckin:
			f.fail(w, 400, "kind %q", rep.Kind)
			return
		case rep.CollectedAt.IsZero():
			f.fail(w, 400, "collected_at empty")
			return
		}
		for i, it := range rep.Items {
			if it.Source == "" || it.Name == "" {
				f.fail(w, 400, "items[%d] without source or name", i)
				return
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		resp := api.ReportResponse{Accepted: true, HostID: "h-" + install[:8]}
		if f.applied[rep.ReportID] > 0 {
			resp.Duplicate = true
		} else {
			f.applied[rep.ReportID]++
			f.reports = append(f.reports, rep)
			if rep.Kind == api.ReportFull {
				f.knownHash[install] = rep.InventoryHash
			} else if f.knownHash[install] != rep.InventoryHash {
				resp.NeedFull = true
			}
		}
		if f.fail5xx[rep.ReportID] {
			delete(f.fail5xx, rep.ReportID)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(resp)
	})
	return mux
}

func (f *fakeServer) snapshot() (enrolls int, reports []api.Report, applied map[string]int, errs []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := map[string]int{}
	for k, v := range f.applied {
		a[k] = v
	}
	return len(f.enrolls), append([]api.Report(nil), f.reports...), a, append([]string(nil), f.errs...)
}

// copyTree copies a fixture tree so a test can change it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func testAgent(t *testing.T, server, root, stateDir string) *Agent {
	t.Helper()
	cfg := Config{Server: server, EnrollSecret: "Fk3q9ZtVx2LmW7pR", StateDir: stateDir, Root: root,
		RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, Splay: time.Hour, RequestTimeout: 5 * time.Second}
	if err := cfg.Validate(true); err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, newTextLogger(io.Discard, "debug"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestEndToEnd(t *testing.T) {
	fs := newFakeServer(t)
	ts := httptest.NewServer(fs.handler())
	defer ts.Close()
	root := copyTree(t, "testdata/debian")
	state := t.TempDir()
	a := testAgent(t, ts.URL, root, state)
	ctx := context.Background()

	// 1. Enrollment and a full report.
	r1, err := a.Once(ctx)
	if err != nil {
		t.Fatalf("first Once: %v", err)
	}
	enrolls, reports, _, errs := fs.snapshot()
	if enrolls != 1 || len(reports) != 1 || reports[0].Kind != api.ReportFull || reports[0].ReportID != r1.ReportID {
		t.Fatalf("after first Once: %d enrollments, reports %+v; want 1 enrollment and 1 full report", enrolls, reports)
	}
	if n := len(reports[0].Items); n != 7 { // 6 dpkg packages + the OS
		t.Errorf("full report has %d items, want 7", n)
	}
	st, err := os.Stat(filepath.Join(state, identityFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("identity file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	if st, _ := os.Stat(state); st.Mode().Perm() != 0o700 {
		t.Errorf("state dir mode %v, want 0700", st.Mode().Perm())
	}
	id, _ := (&State{dir: state}).LoadIdentity()
	if id.NodeKey == "" || id.InstallID == "" || id.InstallID != reports[0].Host.InstallID {
		t.Errorf("identity = %+v", id)
	}
	if p, _ := (&State{dir: state}).Pending(); p != nil {
		t.Errorf("spool still holds %s after delivery", p.ReportID)
	}

	// 2. Nothing changed: a check-in.
	if _, err := a.Once(ctx); err != nil {
		t.Fatalf("second Once: %v", err)
	}
	_, reports, _, _ = fs.snapshot()
	if last := reports[len(reports)-1]; last.Kind != api.ReportCheckin || last.InventoryHash != reports[0].InventoryHash {
		t.Errorf("second report = %s with hash %s, want a check-in with the same hash", last.Kind, last.InventoryHash)
	}

	// 3. The inventory changes: a full report again.
	f, _ := os.OpenFile(filepath.Join(root, dpkgStatusPath), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\nPackage: nginx\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.22.1-9\n")
	f.Close()
	if _, err := a.Once(ctx); err != nil {
		t.Fatalf("third Once: %v", err)
	}
	_, reports, _, _ = fs.snapshot()
	if last := reports[len(reports)-1]; last.Kind != api.ReportFull || len(last.Items) != 8 {
		t.Errorf("after a change: %s with %d items, want full with 8", last.Kind, len(last.Items))
	}

	// 4. The server forgets the key: 401 → enroll again with the same install id.
	fs.mu.Lock()
	fs.keys = map[string]string{}
	fs.mu.Unlock()
	if _, err := a.Once(ctx); err != nil {
		t.Fatalf("Once after key revocation: %v", err)
	}
	enrolls, reports, _, _ = fs.snapshot()
	if enrolls != 2 {
		t.Errorf("enrollments = %d, want 2 after a 401", enrolls)
	}
	fs.mu.Lock()
	second := fs.enrolls[1]
	fs.mu.Unlock()
	if second.Host.InstallID != id.InstallID {
		t.Errorf("re-enrollment install id %q, want the same %q", second.Host.InstallID, id.InstallID)
	}
	if second.NodeKey != id.NodeKey || second.NodeKey == "" {
		t.Errorf("re-enrollment sent node key %q, want the refused key %q as proof", second.NodeKey, id.NodeKey)
	}
	// The report was built before the 401, so it may be a check-in; the
	// enrollment forgets the acknowledged hash, so the next one is full.
	if _, err := a.Once(ctx); err != nil {
		t.Fatal(err)
	}
	_, reports, _, _ = fs.snapshot()
	if last := reports[len(reports)-1]; last.Kind != api.ReportFull {
		t.Errorf("report after re-enrollment is %s, want full", last.Kind)
	}

	// 5. The server lost the hash: a check-in gets need_full and a full follows.
	fs.mu.Lock()
	fs.knownHash = map[string]string{}
	fs.mu.Unlock()
	before := len(reports)
	if _, err := a.Once(ctx); err != nil {
		t.Fatalf("Once with need_full: %v", err)
	}
	_, reports, _, _ = fs.snapshot()
	if got := reports[before:]; len(got) != 2 || got[0].Kind != api.ReportCheckin || got[1].Kind != api.ReportFull {
		t.Errorf("need_full: reports %v, want a check-in then a full", kinds(got))
	}

	// 6. The ack is lost (500 after applying): the retry has the same id and
	// the server counts it once.
	_, rep, err := a.CollectAndSpool(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	fs.mu.Lock()
	fs.fail5xx[rep.ReportID] = true
	fs.mu.Unlock()
	if _, err := a.Deliver(ctx); err == nil {
		t.Fatal("Deliver with a lost ack succeeded, want an error")
	}
	if p, _ := a.state.Pending(); p == nil || p.ReportID != rep.ReportID {
		t.Fatalf("spool after a lost ack = %v, want report %s", p, rep.ReportID)
	}
	if _, err := a.Deliver(ctx); err != nil {
		t.Fatalf("retry after a lost ack: %v", err)
	}
	_, _, applied, errs := fs.snapshot()
	if applied[rep.ReportID] != 1 {
		t.Errorf("report %s applied %d times, want 1", rep.ReportID, applied[rep.ReportID])
	}
	if len(errs) > 0 {
		t.Errorf("wire format errors: %q", errs)
	}
}

// approve makes the held keys valid, as an admin's approval does.
func (f *fakeServer) approve() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for install, key := range f.pending {
		f.keys[key] = install
	}
	f.pending = map[string]string{}
	f.holdAll = false
}

// TestEnrollPendingKeepsReport: an enrollment held for an admin's approval
// keeps the report spooled and the held key; once approved, the agent asks
// again with that key and delivers.
func TestEnrollPendingKeepsReport(t *testing.T) {
	fs := newFakeServer(t)
	fs.holdAll = true
	ts := httptest.NewServer(fs.handler())
	defer ts.Close()
	state := t.TempDir()
	a := testAgent(t, ts.URL, copyTree(t, "testdata/debian"), state)
	ctx := context.Background()
	r, err := a.Once(ctx)
	if !errors.Is(err, ErrEnrollPending) {
		t.Fatalf("Once while pending: %v, want ErrEnrollPending", err)
	}
	id, _ := (&State{dir: state}).LoadIdentity()
	held := fs.pending[id.InstallID]
	if !id.Pending || id.NodeKey == "" || id.NodeKey != held {
		t.Errorf("identity while pending = %+v, want the held key %q", id, held)
	}
	if p, _ := (&State{dir: state}).Pending(); p == nil || p.ReportID != r.ReportID {
		t.Errorf("spool while pending: %+v, want report %s", p, r.ReportID)
	}
	// Asking again while still pending keeps the same key.
	if _, err := a.Deliver(ctx); !errors.Is(err, ErrEnrollPending) {
		t.Errorf("Deliver while pending: %v", err)
	}
	if id2, _ := (&State{dir: state}).LoadIdentity(); id2.NodeKey != held {
		t.Errorf("key changed while pending: %q, want %q", id2.NodeKey, held)
	}
	fs.approve()
	if _, err := a.Deliver(ctx); err != nil {
		t.Fatalf("Deliver once approved: %v", err)
	}
	enrolls, reports, _, _ := fs.snapshot()
	last := fs.enrolls[enrolls-1]
	if len(reports) != 1 || reports[0].ReportID != r.ReportID || last.NodeKey != held {
		t.Errorf("after approval: %d reports, last enrollment sent key %q; want the spooled report and the held key %q", len(reports), last.NodeKey, held)
	}
	if id3, _ := (&State{dir: state}).LoadIdentity(); id3.Pending || id3.NodeKey == held {
		t.Errorf("identity after approval = %+v, want a new key, not pending", id3)
	}
}

func kinds(rs []api.Report) []string {
	var k []string
	for _, r := range rs {
		k = append(k, r.Kind)
	}
	return k
}

// TestServerDownSpoolDeliveredOnce: the server is down, the report goes to
// the spool; the server comes back and Run delivers it exactly once, with
// the same ReportID.
func TestServerDownSpoolDeliveredOnce(t *testing.T) {
	fs := newFakeServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: the server is down
	state := t.TempDir()
	a := testAgent(t, "http://"+addr, "testdata/debian", state)
	ctx := context.Background()

	_, err = a.Once(ctx)
	if err == nil {
		t.Fatal("Once with the server down succeeded")
	}
	spooled, _ := a.state.Pending()
	if spooled == nil {
		t.Fatalf("nothing spooled after a failed delivery (%v)", err)
	}

	// Back up, on the same address.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	srv := &http.Server{Handler: fs.handler()}
	go srv.Serve(ln)
	defer srv.Close()

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(rctx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		_, reports, _, _ := fs.snapshot()
		if len(reports) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // give a wrong second delivery a chance
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, reports, applied, errs := fs.snapshot()
	if len(reports) != 1 || reports[0].ReportID != spooled.ReportID || applied[spooled.ReportID] != 1 {
		t.Fatalf("server got %d reports (%v), want exactly the spooled %s once", len(reports), applied, spooled.ReportID)
	}
	if p, _ := a.state.Pending(); p != nil {
		t.Errorf("spool still holds %s", p.ReportID)
	}
	if len(errs) > 0 {
		t.Errorf("wire format errors: %q", errs)
	}
}

// TestNewestStateWins: a newer inventory replaces an undelivered report;
// the spool holds one report at most.
func TestNewestStateWins(t *testing.T) {
	a := testAgent(t, "http://127.0.0.1:1", "testdata/debian", t.TempDir())
	_, r1, err := a.CollectAndSpool(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := a.CollectAndSpool(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.state.Pending()
	if err != nil || p == nil || p.ReportID != r2.ReportID || r1.ReportID == r2.ReportID {
		t.Fatalf("pending = %v (%v), want the newer %s", p, err, r2.ReportID)
	}
	if p.Kind != api.ReportFull {
		t.Errorf("pending kind %s, want full: the server never acknowledged the first full report", p.Kind)
	}
	ents, _ := os.ReadDir(a.state.Dir())
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != identityFile || names[1] != pendingFile {
		t.Errorf("state dir holds %q, want only %s and %s (no temp files)", names, identityFile, pendingFile)
	}
	if r1.Host.InstallID == "" || r1.Host.InstallID != r2.Host.InstallID {
		t.Errorf("install ids %q and %q before enrollment, want one stable id", r1.Host.InstallID, r2.Host.InstallID)
	}
}

func TestBackoff(t *testing.T) {
	lo, hi := time.Second, time.Minute
	maxRnd := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	prev := time.Duration(0)
	for n := 0; n < 12; n++ {
		top, bottom := backoff(n, lo, hi, maxRnd), backoff(n, lo, hi, zero)
		if top > hi || bottom < lo/2 || bottom > top {
			t.Errorf("backoff(%d) in [%s, %s], want within [%s, %s]", n, bottom, top, lo/2, hi)
		}
		if top < prev {
			t.Errorf("backoff(%d) = %s shrank from %s", n, top, prev)
		}
		prev = top
	}
	if got := backoff(20, lo, hi, maxRnd); got != hi {
		t.Errorf("backoff(20) = %s, want the cap %s", got, hi)
	}
}

// TestCLIOnceAndInventory drives the fixed command-line contract.
func TestCLIOnceAndInventory(t *testing.T) {
	fs := newFakeServer(t)
	ts := httptest.NewServer(fs.handler())
	defer ts.Close()
	t.Setenv("EOLWATCH_CONFIG", "")
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	cfgPath := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(cfgPath, []byte("root: testdata/debian\nlog_level: warn\n"), 0o600)
	var out, errb bytes.Buffer
	state := t.TempDir()
	err := Main(context.Background(), []string{"once", "--config", cfgPath, "--server", ts.URL, "--enroll-secret", "Fk3q9ZtVx2LmW7pR", "--state-dir", state}, &out, &errb)
	if err != nil {
		t.Fatalf("once: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "delivered (full, 7 items") {
		t.Errorf("once printed %q", out.String())
	}
	out.Reset()
	if err := Main(context.Background(), []string{"inventory", "--json", "--config", cfgPath}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var inv struct {
		Host  map[string]any   `json:"host"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(out.Bytes(), &inv); err != nil {
		t.Fatalf("inventory --json: %v\n%s", err, out.String())
	}
	if inv.Host["os_id"] != "debian" || len(inv.Items) != 7 || inv.Items[0]["source"] == nil || inv.Items[0]["name"] == nil || inv.Items[0]["version"] == nil {
		t.Errorf("inventory --json = %s", out.String())
	}
	out.Reset()
	if err := Main(context.Background(), []string{"inventory", "--root", "testdata/debian", "--config", cfgPath}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "postgresql-15") || !strings.Contains(out.String(), "SOURCE") {
		t.Errorf("inventory table = %s", out.String())
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"once", "--config", cfgPath, "--state-dir", state}, "server: required"},
		{[]string{"once", "--config", cfgPath, "--server", "http://example.com"}, "plain http"},
		{[]string{"bogus"}, "unknown command"},
		{[]string{"inventory", "--config", "/nonexistent/agent.yaml"}, "no such file"},
		{[]string{"service-file", "upstart"}, "not systemd or launchd"},
	} {
		err := Main(context.Background(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Main(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

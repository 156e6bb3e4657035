package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	rtmetrics "runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/agent"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/service"
)

// itemBomb is a gzip report for install whose items array holds n copies
// of item (11 million `{}` inflate to 33 MB from a 32 KB body). hostFirst
// puts the host block before the items, as agents do.
func itemBomb(t testing.TB, install string, n int, item string, hostFirst bool) []byte {
	t.Helper()
	host, _ := json.Marshal(testHost(install, "bomb"))
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	fmt.Fprintf(zw, `{"report_id":"bomb","kind":"full",`)
	if hostFirst {
		fmt.Fprintf(zw, `"host":%s,`, host)
	}
	io.WriteString(zw, `"items":[`+item)
	chunk := []byte(strings.Repeat(","+item, 4096))
	for i := 1; i < n; i += 4096 {
		zw.Write(chunk[:(len(item)+1)*min(4096, n-i)])
	}
	io.WriteString(zw, "]")
	if !hostFirst {
		fmt.Fprintf(zw, `,"host":%s`, host)
	}
	io.WriteString(zw, "}")
	zw.Close()
	return buf.Bytes()
}

// allocated returns the bytes the process allocated while fn ran (every
// goroutine counts: the server runs in this process).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReportItemBombRefusedWhileDecoding: the item limit applies while the
// report is decoded, so an item bomb costs what 100,001 items cost, not
// what 1.2 million do, and a bomb of empty items ends at the first one
// (issue 13, item 1).
func TestReportItemBombRefusedWhileDecoding(t *testing.T) {
	e := newTestEnv(t)
	_, key := e.enroll(t, "install-1", "web1")
	for _, tc := range []struct {
		name, item string
		n          int
		code       int
		field      string
		maxAlloc   uint64
	}{
		// 100,001 decoded items cost about 40 MB with the slice's growth;
		// 1.2 million would cost ten times as much.
		{"small valid items", `{"source":"x","name":"y"}`, 1_200_000, 413, "items", 100 << 20},
		{"empty items", `{}`, 11_000_000, 400, "items[0].source", 16 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := itemBomb(t, "install-1", tc.n, tc.item, true)
			var resp *http.Response
			var b []byte
			n := allocated(func() {
				resp, b = e.do(t, "POST", api.PathReport, key, bytes.NewReader(body), map[string]string{"Content-Encoding": "gzip"})
			})
			if resp.StatusCode != tc.code || !strings.Contains(string(b), `"field":"`+tc.field+`"`) {
				t.Errorf("%d items %s (%d bytes gzip): %d %s, want %d on %s", tc.n, tc.item, len(body), resp.StatusCode, b, tc.code, tc.field)
			}
			if n > tc.maxAlloc {
				t.Errorf("the item bomb made the server allocate %d MiB, want < %d MiB", n>>20, tc.maxAlloc>>20)
			}
		})
	}
}

// TestReportHostCheckedBeforeItems: a report for another host is refused
// when its host block is read, before any item is decoded, and a report
// whose items come before its host is refused.
func TestReportHostCheckedBeforeItems(t *testing.T) {
	e := newTestEnv(t)
	e.enroll(t, "install-2", "web2")
	_, key := e.enroll(t, "install-1", "web1")
	gzipped := map[string]string{"Content-Encoding": "gzip"}
	var resp *http.Response
	var b []byte
	n := allocated(func() {
		resp, b = e.do(t, "POST", api.PathReport, key, bytes.NewReader(itemBomb(t, "install-2", 1_200_000, `{"source":"x","name":"y"}`, true)), gzipped)
	})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), `"field":"host.install_id"`) {
		t.Errorf("another host's report: %d %s, want 403 on host.install_id", resp.StatusCode, b)
	}
	if n > 16<<20 {
		t.Errorf("a report for another host made the server allocate %d MiB before refusing it, want < 16 MiB", n>>20)
	}
	resp, b = e.do(t, "POST", api.PathReport, key, bytes.NewReader(itemBomb(t, "install-1", 3, `{"source":"x","name":"y"}`, false)), gzipped)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"field":"items"`) {
		t.Errorf("items before host: %d %s, want 400 on items", resp.StatusCode, b)
	}
}

// TestReportFieldLimitWhileDecoding: an item field over its byte limit is
// refused as soon as its item is decoded, naming it (the apt fields origin,
// suite, candidate... included), not after the rest of the report is read.
func TestReportFieldLimitWhileDecoding(t *testing.T) {
	e := newTestEnv(t)
	_, key := e.enroll(t, "install-1", "web1")
	long := strings.Repeat("x", 1025)
	rest := strings.Repeat(`,{"source":"dpkg","name":"n"}`, 200_000)
	for _, field := range []string{"name", "version", "arch", "source_pkg", "publisher", "bundle_id", "product", "origin", "suite",
		"candidate", "candidate_origin", "candidate_suite", "section", "summary"} {
		t.Run(field, func(t *testing.T) {
			it := map[string]string{"source": "dpkg", "name": "a", field: long}
			items, _ := json.Marshal([]any{map[string]string{"source": "dpkg", "name": "ok"}, it})
			host, _ := json.Marshal(testHost("install-1", "web1"))
			body := fmt.Sprintf(`{"report_id":"f-%s","kind":"full","host":%s,"items":%s%s]}`, field, host, items[:len(items)-1], rest)
			resp, b := e.do(t, "POST", api.PathReport, key, strings.NewReader(body), nil)
			if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"items[1].`+field+`"`) {
				t.Errorf("%s of %d bytes: %d %s, want 400 on items[1].%s", field, len(long), resp.StatusCode, b, field)
			}
		})
	}
}

// slowBody sends head, then blocks until release is closed, then sends tail.
type slowBody struct {
	parts   [][]byte
	release chan struct{}
	sent    chan struct{}
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	if len(s.parts) == 1 && s.release != nil {
		close(s.sent)
		<-s.release
		s.release = nil
	}
	n := copy(p, s.parts[0])
	s.parts[0] = s.parts[0][n:]
	if len(s.parts[0]) == 0 {
		s.parts = s.parts[1:]
	}
	return n, nil
}

// TestReportBudgetBoundsBytesInFlight: reports hold the global budget while
// they are read and stored; a report that finds it spent waits, then gets a
// 503 with Retry-After, and the report holding it still succeeds.
func TestReportBudgetBoundsBytesInFlight(t *testing.T) {
	e := newTestEnv(t)
	_, key1 := e.enroll(t, "install-1", "web1")
	_, key2 := e.enroll(t, "install-2", "web2")
	// Report 1: 3,000 items of about 450 bytes, all but its last 200 bytes
	// sent at once; the budget holds it and a third more, and report 2 (half
	// of it) would need a half more.
	items := make([]api.Item, 3000)
	for i := range items {
		items[i] = api.Item{Source: "dpkg", Name: fmt.Sprintf("p%04d", i), Version: "1", Publisher: strings.Repeat("p", 400)}
	}
	full, _ := json.Marshal(fullReport("big", "install-1", "web1", items...))
	budget := (int64(len(full)) + int64(len(items))*service.ItemCharge) * 4 / 3
	e.s.setReportBudget(budget, 300*time.Millisecond)
	slow := &slowBody{parts: [][]byte{full[:len(full)-200], full[len(full)-200:]}, release: make(chan struct{}), sent: make(chan struct{})}
	done := make(chan string)
	go func() {
		req, _ := http.NewRequest("POST", e.ts.URL+api.PathReport, slow)
		req.Header.Set("Authorization", "Bearer "+key1)
		req.ContentLength = int64(len(full))
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	items2 := items[:1500]
	second, _ := json.Marshal(fullReport("second", "install-2", "web2", items2...))
	<-slow.sent
	// The server reads and charges what was sent: wait until report 1
	// holds its whole charge (the body takes the budget in steps of up to
	// 1 MiB ahead of need: 8 MiB here), so it never needs more and report 2
	// meets a spent budget, not one report 1 is still taking (both would
	// then wait, and report 2 would be refused at once as the smaller).
	full1 := int64(len(full)) + int64(len(items))*service.ItemCharge
	waitFor(t, time.Minute, fmt.Sprintf("report 1 to hold its charge of %d bytes", full1), func() bool { return e.s.reportBudget.InUse() >= full1 })
	start := time.Now()
	resp, b := e.do(t, "POST", api.PathReport, key2, bytes.NewReader(second), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("report while the budget is spent: %d (Retry-After %q) %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("refused after %v: the budget's wait is 300ms", waited)
	}
	close(slow.release)
	if got := <-done; !strings.HasPrefix(got, "200 ") {
		t.Errorf("report holding the budget: %s, want 200", got)
	}
	if code, _, b := e.report(t, key2, fullReport("third", "install-2", "web2", items2...)); code != 200 {
		t.Errorf("report after the budget was released: %d %s", code, b)
	}
	if used := e.s.reportBudget.InUse(); used != 0 {
		t.Errorf("budget in use after every report finished: %d bytes", used)
	}
}

// enrollAs enrolls install with an optional previous node key and returns
// the status and the answer.
func (e *testEnv) enrollAs(t testing.TB, install, hostname, previous string) (int, api.EnrollResponse, string) {
	t.Helper()
	body, _ := json.Marshal(api.EnrollRequest{EnrollSecret: testSecret, Host: testHost(install, hostname), NodeKey: previous})
	resp, b := e.do(t, "POST", api.PathEnroll, "", bytes.NewReader(body), nil)
	var er api.EnrollResponse
	json.Unmarshal(b, &er)
	return resp.StatusCode, er, string(b)
}

// TestReEnrollNeedsProof: knowing the enroll secret and a host's
// install_id is not enough to take the host over; re-enrolling needs the
// previous node key or an admin's approval, and a revoked host stays
// revoked until an admin restores it (issue 13, item 2).
func TestReEnrollNeedsProof(t *testing.T) {
	e := newTestEnv(t)
	admin := e.tokens["admin"]
	hostID, key1 := e.enroll(t, "install-1", "web1")
	rep := func(key, id string) int {
		code, _, _ := e.report(t, key, fullReport(id, "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6"}))
		return code
	}
	if c := rep(key1, "r1"); c != 200 {
		t.Fatalf("first report: %d", c)
	}
	// An attacker with the secret and the install id gets a pending request, not the host.
	code, er, b := e.enrollAs(t, "install-1", "URGENT evil", "")
	if code != http.StatusAccepted || er.Status != api.EnrollPending || er.NodeKey == "" || er.RequestID == "" {
		t.Fatalf("re-enroll without proof: %d %s, want 202 pending with a key and a request id", code, b)
	}
	attackerKey, attackerReq := er.NodeKey, er.RequestID
	action := func(act, token, reqID string) (*http.Response, []byte) {
		t.Helper()
		body, _ := json.Marshal(api.EnrollmentAction{RequestID: reqID})
		return e.do(t, "POST", "/api/v1/hosts/"+hostID+"/"+act, token, bytes.NewReader(body), nil)
	}
	if c := rep(key1, "r2"); c != 200 {
		t.Errorf("the real agent's key after a pending re-enrolment: %d, want 200", c)
	}
	if c := rep(attackerKey, "r3"); c != 401 {
		t.Errorf("a pending key reports: %d, want 401", c)
	}
	var d api.HostDetail
	resp, body := e.do(t, "GET", "/api/v1/hosts/"+hostID, admin, nil, nil)
	json.Unmarshal(body, &d)
	if resp.StatusCode != 200 || d.Hostname != "web1" || d.PendingRequests != 1 || len(d.PendingEnrollments) != 1 ||
		d.PendingEnrollments[0].Hostname != "URGENT evil" || d.PendingEnrollments[0].ID != attackerReq || d.PendingEnrollments[0].From == "" {
		t.Errorf("host after a pending re-enrolment: %d hostname %q pending %+v", resp.StatusCode, d.Hostname, d.PendingEnrollments)
	}
	// Where the request came from is shown to admins only (issue 13,
	// follow-up): viewers and support see the request without its source.
	for _, role := range []string{"viewer", "support"} {
		var d api.HostDetail
		resp, body := e.do(t, "GET", "/api/v1/hosts/"+hostID, e.tokens[role], nil, nil)
		json.Unmarshal(body, &d)
		if resp.StatusCode != 200 || len(d.PendingEnrollments) != 1 || d.PendingEnrollments[0].ID != attackerReq ||
			d.PendingEnrollments[0].From != "" || strings.Contains(string(body), `"from"`) {
			t.Errorf("%s: GET host = %d %s, want the request without its source", role, resp.StatusCode, body)
		}
	}
	// Asking again with the pending key keeps it pending, without a new key.
	if code, er, b := e.enrollAs(t, "install-1", "URGENT evil", attackerKey); code != http.StatusAccepted || er.NodeKey != "" || er.RequestID != attackerReq {
		t.Errorf("re-ask with the pending key: %d %s, want 202 without a key, request %s", code, b, attackerReq)
	}
	// The admin denies it, naming it: the attacker's key never works.
	if resp, b := action("deny", admin, ""); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "request_id") {
		t.Errorf("deny without a request id: %d %s, want 400 naming request_id", resp.StatusCode, b)
	}
	if resp, b := action("deny", admin, attackerReq); resp.StatusCode != 200 {
		t.Errorf("deny: %d %s", resp.StatusCode, b)
	}
	if resp, b := action("deny", admin, attackerReq); resp.StatusCode != http.StatusConflict {
		t.Errorf("deny with nothing pending: %d %s, want 409", resp.StatusCode, b)
	}
	if c := rep(attackerKey, "r4"); c != 401 {
		t.Errorf("a denied key reports: %d, want 401", c)
	}
	// The real agent proves itself with its key: a new key, the old one ends.
	code, er, b = e.enrollAs(t, "install-1", "web1", key1)
	if code != 200 || er.Status != api.EnrollEnrolled || er.HostID != hostID || er.NodeKey == "" || er.NodeKey == key1 {
		t.Fatalf("re-enroll with the previous key: %d %s, want 200 with a new key for %s", code, b, hostID)
	}
	key2 := er.NodeKey
	if c := rep(key1, "r5"); c != 401 {
		t.Errorf("the replaced key: %d, want 401", c)
	}
	if c := rep(key2, "r6"); c != 200 {
		t.Errorf("the new key: %d, want 200", c)
	}
	// An approved request replaces the key (a reinstalled machine that
	// kept its install id). A later request for the same host with the same
	// hostname (an attacker's) is listed beside it with its own id, and the
	// approval of the first grants the first only.
	_, er, _ = e.enrollAs(t, "install-1", "web1", "")
	_, later, _ := e.enrollAs(t, "install-1", "web1", "")
	if er.RequestID == "" || later.RequestID == "" || er.RequestID == later.RequestID {
		t.Fatalf("two requests' ids %q, %q: want distinct ids", er.RequestID, later.RequestID)
	}
	var pl api.PendingEnrollmentList
	resp, body = e.do(t, "GET", "/api/v1/enrollments", admin, nil, nil)
	json.Unmarshal(body, &pl)
	if resp.StatusCode != 200 || len(pl.Pending) != 2 || pl.Pending[0].ID != er.RequestID || pl.Pending[1].ID != later.RequestID ||
		pl.Pending[0].HostID != hostID || pl.Pending[0].From == "" || pl.Pending[1].RequestedAt.Before(pl.Pending[0].RequestedAt) {
		t.Errorf("GET /api/v1/enrollments = %d %s, want both requests, oldest first, with host, time and source", resp.StatusCode, body)
	}
	if resp, b := e.do(t, "GET", "/api/v1/enrollments", e.tokens["support"], nil, nil); resp.StatusCode != 403 {
		t.Errorf("support lists the pending requests: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := action("approve", e.tokens["viewer"], er.RequestID); resp.StatusCode != 403 {
		t.Errorf("a viewer approves: %d %s, want 403", resp.StatusCode, b)
	}
	if resp, b := action("approve", admin, "enr_not_this_hosts"); resp.StatusCode != http.StatusConflict {
		t.Errorf("approve an unknown request: %d %s, want 409", resp.StatusCode, b)
	}
	if resp, b := action("approve", admin, er.RequestID); resp.StatusCode != 200 || !strings.Contains(string(b), er.RequestID) {
		t.Errorf("approve: %d %s", resp.StatusCode, b)
	}
	if c := rep(later.NodeKey, "r7b"); c != 401 {
		t.Errorf("the later request's key after the approval of the earlier one: %d, want 401", c)
	}
	if resp, b := action("approve", admin, later.RequestID); resp.StatusCode != http.StatusConflict {
		t.Errorf("approve the dropped later request: %d %s, want 409", resp.StatusCode, b)
	}
	if c := rep(key2, "r7"); c != 401 {
		t.Errorf("the key an approval replaced: %d, want 401", c)
	}
	key3 := er.NodeKey
	if c := rep(key3, "r8"); c != 200 {
		t.Errorf("the approved key: %d, want 200", c)
	}
	// A revoked host stays revoked: neither proof nor secret undoes it.
	if resp, b := e.do(t, "POST", "/api/v1/hosts/"+hostID+"/revoke", admin, nil, nil); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, b)
	}
	for _, prev := range []string{"", key3} {
		if code, _, b := e.enrollAs(t, "install-1", "web1", prev); code != http.StatusForbidden {
			t.Errorf("re-enroll a revoked host (previous key %t): %d %s, want 403", prev != "", code, b)
		}
	}
	if c := rep(key3, "r9"); c != 401 {
		t.Errorf("a revoked key: %d, want 401", c)
	}
	if resp, b := e.do(t, "POST", "/api/v1/hosts/"+hostID+"/restore", admin, nil, nil); resp.StatusCode != 200 {
		t.Errorf("restore: %d %s", resp.StatusCode, b)
	}
	if c := rep(key3, "r10"); c != 200 {
		t.Errorf("the key of a restored host: %d, want 200", c)
	}
	// A new install id is a new host and needs nothing more than the secret.
	if code, er, b := e.enrollAs(t, "install-new", "web1", ""); code != 200 || er.HostID == hostID {
		t.Errorf("a new install id: %d %s", code, b)
	}
}

// TestAgentReEnrollmentEndToEnd: the real agent against the real server:
// a revoked host waits (report kept) until an admin restores it; an agent
// that lost its key (but kept its install id) waits for an admin's
// approval and then delivers; a copy of the install id without the key
// never displaces the real agent.
func TestAgentReEnrollmentEndToEnd(t *testing.T) {
	e := newTestEnv(t)
	admin := e.tokens["admin"]
	newAgent := func(state string) *agent.Agent {
		cfg := agent.Config{Server: e.ts.URL, EnrollSecret: testSecret, StateDir: state, Root: "../agent/testdata/debian",
			RetryMin: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, Splay: time.Hour, RequestTimeout: 5 * time.Second}
		if err := cfg.Validate(true); err != nil {
			t.Fatal(err)
		}
		a, err := agent.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ctx := t.Context()
	state := t.TempDir()
	real := newAgent(state)
	if _, err := real.Once(ctx); err != nil {
		t.Fatalf("first report: %v", err)
	}
	var hosts api.HostList
	_, b := e.do(t, "GET", "/api/v1/hosts", admin, nil, nil)
	json.Unmarshal(b, &hosts)
	if len(hosts.Hosts) != 1 {
		t.Fatalf("hosts = %s", b)
	}
	hostID := hosts.Hosts[0].ID
	post := func(action string, body ...byte) {
		t.Helper()
		if resp, b := e.do(t, "POST", "/api/v1/hosts/"+hostID+"/"+action, admin, bytes.NewReader(body), nil); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", action, resp.StatusCode, b)
		}
	}
	// Revoked: the agent's re-enrolment (with its key) is refused, its report stays spooled.
	post("revoke")
	if _, err := real.Once(ctx); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("report of a revoked host: %v, want a refusal naming the revocation", err)
	}
	post("restore")
	if _, err := real.Deliver(ctx); err != nil {
		t.Fatalf("delivery once restored: %v", err)
	}
	// A copy of the identity without the key asks, and does not displace the real agent.
	raw, _ := os.ReadFile(filepath.Join(state, "identity.json"))
	var id map[string]any
	json.Unmarshal(raw, &id)
	id["node_key"] = ""
	clone := t.TempDir()
	b, _ = json.Marshal(id)
	os.WriteFile(filepath.Join(clone, "identity.json"), b, 0o600)
	if _, err := newAgent(clone).Once(ctx); !errors.Is(err, agent.ErrEnrollPending) {
		t.Fatalf("a copy of the install id without the key: %v, want ErrEnrollPending", err)
	}
	if _, err := real.Once(ctx); err != nil {
		t.Errorf("the real agent after a copy asked to enroll: %v", err)
	}
	// The real agent loses its key but keeps its install id (a reinstall
	// that kept identity.json's install id): pending until approved.
	os.WriteFile(filepath.Join(state, "identity.json"), b, 0o600)
	if _, err := real.Once(ctx); !errors.Is(err, agent.ErrEnrollPending) {
		t.Fatalf("the agent without its key: %v, want ErrEnrollPending", err)
	}
	var d api.HostDetail
	_, b = e.do(t, "GET", "/api/v1/hosts/"+hostID, admin, nil, nil)
	json.Unmarshal(b, &d)
	// The copy's request and the real agent's, oldest first: the admin
	// approves the real agent's (the newer) by its id.
	if len(d.PendingEnrollments) != 2 {
		t.Fatalf("host detail shows %d pending enrolments, want the copy's and the agent's: %s", len(d.PendingEnrollments), b)
	}
	approve, _ := json.Marshal(api.EnrollmentAction{RequestID: d.PendingEnrollments[1].ID})
	post("approve", approve...)
	if _, err := real.Deliver(ctx); err != nil {
		t.Fatalf("delivery once approved: %v", err)
	}
	if _, err := real.Once(ctx); err != nil {
		t.Errorf("the next report: %v", err)
	}
	_, b = e.do(t, "GET", "/api/v1/hosts", admin, nil, nil)
	json.Unmarshal(b, &hosts)
	if len(hosts.Hosts) != 1 {
		t.Errorf("hosts after the re-enrolments: %d, want 1", len(hosts.Hosts))
	}
}

// TestGroupsHideWebhooksFromNonAdmins: a group's webhook URL (which may
// carry credentials) is shown to admins only; subscribers and the outbox
// stay admin-only (issue 13, item 6).
func TestGroupsHideWebhooksFromNonAdmins(t *testing.T) {
	e := newTestEnvWith(t, func(c *Config) { c.WebhookAllow = []string{"hooks.example"} }) // resolves nowhere here
	body := `{"name":"web","products":["nginx"],"events":["release"],"webhook":"https://user:pw@hooks.example/in"}`
	if resp, b := e.do(t, "POST", "/api/v1/groups", e.tokens["admin"], strings.NewReader(body), nil); resp.StatusCode != 201 {
		t.Fatalf("create group: %d %s", resp.StatusCode, b)
	}
	for role, see := range map[string]bool{"admin": true, "support": false, "viewer": false} {
		resp, b := e.do(t, "GET", "/api/v1/groups", e.tokens[role], nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"web"`) {
			t.Fatalf("%s: GET /api/v1/groups = %d %s", role, resp.StatusCode, b)
		}
		if got := strings.Contains(string(b), "hooks.example"); got != see {
			t.Errorf("%s sees the webhook URL: %t, want %t (%s)", role, got, see, b)
		}
		for _, path := range []string{"/api/v1/subscriptions", "/api/v1/outbox"} {
			if resp, _ := e.do(t, "GET", path, e.tokens[role], nil, nil); (resp.StatusCode == 200) != see {
				t.Errorf("%s: GET %s = %d", role, path, resp.StatusCode)
			}
		}
	}
}

// TestWebhookAllowSetting: --webhook-allow lets a group's webhook reach an
// internal address that is refused without it (issue 13, item 8).
func TestWebhookAllowSetting(t *testing.T) {
	body := `{"name":"ops","products":["nginx"],"events":["release"],"webhook":"http://10.20.30.40/hook"}`
	for _, tc := range []struct {
		allow []string
		code  int
	}{{nil, 400}, {[]string{"10.20.0.0/16"}, 201}} {
		t.Run("allow="+strings.Join(tc.allow, ","), func(t *testing.T) {
			e := newTestEnvWith(t, func(c *Config) { c.WebhookAllow = tc.allow })
			if resp, b := e.do(t, "POST", "/api/v1/groups", e.tokens["admin"], strings.NewReader(body), nil); resp.StatusCode != tc.code {
				t.Errorf("webhook-allow %v: %d %s, want %d", tc.allow, resp.StatusCode, b, tc.code)
			}
		})
	}
}

// TestAmbiguousHostnameListsCandidates: a hostname is not an identity: when
// two hosts report the same one, asking by it lists each candidate (id,
// system, last report) so the caller can ask by host id (issue 13, item 10).
func TestAmbiguousHostnameListsCandidates(t *testing.T) {
	e := newTestEnv(t)
	id1, key1 := e.enroll(t, "install-1", "web1")
	e.report(t, key1, fullReport("r1", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6"}))
	id2, _ := e.enroll(t, "install-2", "web1") // another host claims the name
	resp, b := e.do(t, "GET", "/api/v1/eligibility?host=web1&product=python", e.tokens["support"], nil, nil)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("eligibility by a shared hostname: %d %s, want 409", resp.StatusCode, b)
	}
	for _, want := range []string{id1, id2, "Debian GNU/Linux 12", "last report", "never reported", "host id"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("409 answer lacks %q: %s", want, b)
		}
	}
	if resp, b := e.do(t, "GET", "/api/v1/eligibility?host="+id1+"&product=python", e.tokens["support"], nil, nil); resp.StatusCode != 200 {
		t.Errorf("eligibility by host id: %d %s", resp.StatusCode, b)
	}
}

// TestDiskFullAnswers507AndNotReady: when the database cannot grow (a full
// disk: SQLite's SQLITE_FULL, injected with max_page_count; PostgreSQL's
// disk_full error, raised by a trigger), a report is answered 507 and
// /readyz reports the failing store until writes work again (issue 13,
// item 12).
func TestDiskFullAnswers507AndNotReady(t *testing.T) {
	e := newTestEnv(t)
	_, key := e.enroll(t, "install-1", "web1")
	ready := func() int {
		resp, _ := e.do(t, "GET", "/readyz", "", nil, nil)
		return resp.StatusCode
	}
	if c := ready(); c != 200 {
		t.Fatalf("readyz before: %d", c)
	}
	diskFull, diskFree := []string{}, []string{`PRAGMA max_page_count = 1073741823`}
	if engine == sqldb.Postgres {
		diskFull = []string{`CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`,
			`CREATE TRIGGER disk_full BEFORE INSERT ON host_software FOR EACH STATEMENT EXECUTE FUNCTION disk_full()`}
		diskFree = []string{`DROP TRIGGER disk_full ON host_software`}
	} else {
		var pages int
		if err := e.st.DB().QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		diskFull = append(diskFull, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages))
	}
	for _, q := range diskFull {
		if _, err := e.st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	items := make([]api.Item, 3000)
	for i := range items {
		items[i] = api.Item{Source: "dpkg", Name: fmt.Sprintf("package-%05d", i), Version: "1.0-1", Publisher: strings.Repeat("x", 200)}
	}
	code, _, b := e.report(t, key, fullReport("full-1", "install-1", "web1", items...))
	if code != http.StatusInsufficientStorage {
		t.Errorf("report on a full disk: %d %s, want 507", code, b)
	}
	if c := ready(); c != http.StatusServiceUnavailable {
		t.Errorf("readyz while writes fail: %d, want 503", c)
	}
	for _, q := range diskFree {
		if _, err := e.st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if code, _, b := e.report(t, key, fullReport("full-2", "install-1", "web1", items...)); code != 200 {
		t.Errorf("report once the disk has room: %d %s", code, b)
	}
	if c := ready(); c != 200 {
		t.Errorf("readyz once writes work again: %d, want 200", c)
	}
}

// TestSBOMUploadUsesReportBudget: SBOM uploads are held to the agent
// reports' budget rules (issue 15's "same budget rules as agent reports",
// issue 13 item 1): an upload that finds the global budget spent waits,
// then gets a 503 with Retry-After, and works once the budget comes back;
// a gzip upload is charged what it inflates to, not its bytes on the wire,
// so a small gzip body that inflates past the whole budget is refused.
func TestSBOMUploadUsesReportBudget(t *testing.T) {
	t.Run("spent budget", func(t *testing.T) {
		e := newTestEnv(t)
		e.s.setReportBudget(4<<20, 300*time.Millisecond)
		hold := e.s.reportBudget.Reader(context.Background(), nil) // another upload holding the whole budget
		if err := hold.Charge(4 << 20); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		resp, b := e.do(t, "POST", api.PathSBOMs+"?name=app", e.tokens[auth.RoleCI], strings.NewReader(imageV2), nil)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("upload while the budget is spent: %d (Retry-After %q) %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		if waited := time.Since(start); waited < 250*time.Millisecond {
			t.Errorf("refused after %v: the budget's wait is 300ms", waited)
		}
		hold.Close()
		if resp, b := e.do(t, "POST", api.PathSBOMs+"?name=app", e.tokens[auth.RoleCI], strings.NewReader(imageV2), nil); resp.StatusCode != http.StatusCreated {
			t.Errorf("upload once the budget came back: %d %s, want 201", resp.StatusCode, b)
		}
		if used := e.s.reportBudget.InUse(); used != 0 {
			t.Errorf("budget in use after the upload finished: %d bytes", used)
		}
	})
	t.Run("charged inflated", func(t *testing.T) {
		// a 6 MiB document (one component and a long annotation) in a gzip body of a few KB
		doc := strings.Replace(imageV2, `"components":[`, `"annotations":"`+strings.Repeat("a", 6<<20)+`","components":[`, 1)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		io.WriteString(zw, doc)
		zw.Close()
		for _, tc := range []struct {
			budget int64
			code   int
		}{{4 << 20, http.StatusRequestEntityTooLarge}, {64 << 20, http.StatusCreated}} {
			t.Run(fmt.Sprintf("budget=%dMiB", tc.budget>>20), func(t *testing.T) {
				e := newTestEnv(t)
				e.s.setReportBudget(tc.budget, 300*time.Millisecond)
				resp, b := e.do(t, "POST", api.PathSBOMs+"?name=app", e.tokens[auth.RoleCI], bytes.NewReader(gz.Bytes()), map[string]string{"Content-Encoding": "gzip"})
				if resp.StatusCode != tc.code {
					t.Errorf("budget %d MiB: a %d-byte gzip body inflating to %d bytes: %d %s, want %d", tc.budget>>20, gz.Len(), len(doc), resp.StatusCode, b, tc.code)
				}
				if used := e.s.reportBudget.InUse(); used != 0 {
					t.Errorf("budget in use after the upload finished: %d bytes", used)
				}
			})
		}
	})
}

// TestDocsReportBudgetFigures: docs/api.md gives the report budget's real
// figures (the per-item charge and the smallest budget), which move when
// api.Item grows.
func TestDocsReportBudgetFigures(t *testing.T) {
	b, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("at\nleast %d:", MinReportBudgetMiB), fmt.Sprintf("plus %d bytes per\nitem", service.ItemCharge),
		fmt.Sprintf("%d bytes per component", service.ItemCharge)} {
		if !strings.Contains(strings.ReplaceAll(string(b), "\n", " "), strings.ReplaceAll(want, "\n", " ")) {
			t.Errorf("docs/api.md does not say %q", want)
		}
	}
}

// reachableHeap collects garbage and returns the bytes reachable when that
// collection began. /gc/heap/live:bytes alone is not that: the collector
// marks every object allocated while it marks as live, so a report being
// decoded and stored during the collection adds the garbage it made
// meanwhile (5-10 MB a collection for 20,000 long items, 250-500 bytes an
// item, more on a loaded machine where marking takes longer). What was
// allocated between the two reads of /gc/heap/allocs:bytes is taken off:
// the rest is what the collection found reachable at its start (a little
// less when the window is wider than the marking, never more).
func reachableHeap() int64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	before := s[1].Value.Uint64()
	runtime.GC()
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64()) - int64(s[1].Value.Uint64()-before)
}

// quietHeap is the live heap when nothing allocates: collected twice, so
// what sync.Pools keep for one more cycle (encoding/json's buffer from
// marshalling a test's report body: 8 MB for 20,000 long items) is gone.
func quietHeap() int64 {
	runtime.GC()
	runtime.GC()
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestReportChargeCoversLiveMemory: what a report is charged to the budget
// is at least the memory it really holds while it is decoded, matched and
// stored (the heap reachable from a collection run every millisecond, less
// the heap before the report: reachableHeap, quietHeap), for
// small items (where the per-item cost dominates) and long ones; otherwise
// the budget would let several worst-case reports in at once and "N
// concurrent reports hold at most the budget" would not be true (issue 13
// item 1). Measured as a ratio in one process, not a time.
func TestReportChargeCoversLiveMemory(t *testing.T) {
	pad := strings.Repeat("a package with a long description ", 8)
	for _, tc := range []struct {
		name string
		item func(i int) api.Item
	}{
		{"small items", func(i int) api.Item { return api.Item{Source: "npm", Name: fmt.Sprintf("p%d", i), Version: "1"} }},
		{"long items", func(i int) api.Item {
			return api.Item{Source: "dpkg", Name: fmt.Sprintf("package-%07d", i), Version: fmt.Sprintf("1:2.%d.%d-1+deb12u%d", i%97, i%13, i%7),
				Arch: "amd64", Publisher: pad[:60], Summary: fmt.Sprintf("%s %d", pad[:150], i)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			_, key := e.enroll(t, "install-1", "web1")
			// the catalog and the matcher load on the first report
			e.report(t, key, fullReport("warm", "install-1", "web1", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6"}))
			const n = 20000
			items := make([]api.Item, n)
			for i := range items {
				items[i] = tc.item(i)
			}
			body, _ := json.Marshal(fullReport("big", "install-1", "web1", items...))
			items = nil
			var peakLive, peakCharged int64
			base := quietHeap()
			stop, done := make(chan struct{}), make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					charged := e.s.reportBudget.InUse()
					peakLive = max(peakLive, reachableHeap()-base)
					peakCharged = max(peakCharged, charged)
					time.Sleep(time.Millisecond) // the sampling period: a heap sample a millisecond while the report is handled
				}
			}()
			resp, b := e.do(t, "POST", api.PathReport, key, bytes.NewReader(body), nil)
			close(stop)
			<-done
			if resp.StatusCode != 200 {
				t.Fatalf("report: %d %s", resp.StatusCode, b)
			}
			t.Logf("%d items, %d bytes: live heap at most %d bytes an item, charged %d", n, len(body), peakLive/n, peakCharged/n)
			if peakLive > peakCharged {
				t.Errorf("the report held %d MiB of live heap but was charged %d MiB (%d vs %d bytes an item): raise service.ItemCharge",
					peakLive>>20, peakCharged>>20, peakLive/n, peakCharged/n)
			}
		})
	}
}

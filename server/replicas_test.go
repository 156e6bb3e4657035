package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	neturl "net/url"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// The replica tests run two real `serve` processes on one PostgreSQL
// database (a throwaway cluster, internal/pgtest), each with its own real
// SMTP server (go-smtp) recording into one shared mailbox.

// sink is a mailbox shared by the replicas' SMTP servers.
type sink struct {
	mu   sync.Mutex
	msgs []sunk
	// onData, when set, runs for every message before it is accepted,
	// with the name of the SMTP server that received it; an error rejects
	// the message (the connection is then usually gone).
	onData func(server string, raw []byte) error
}

type sunk struct {
	server string // which replica's SMTP server got it
	to     string
	raw    []byte
}

func (s *sink) all() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.msgs...)
}

type sinkBackend struct {
	s    *sink
	name string
}

func (b *sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &sinkSession{b: b}, nil
}

type sinkSession struct {
	b  *sinkBackend
	to string
}

func (x *sinkSession) Mail(string, *smtp.MailOptions) error      { return nil }
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error { x.to = to; return nil }
func (x *sinkSession) Reset()                                    {}
func (x *sinkSession) Logout() error                             { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.b.s.mu.Lock()
	hook := x.b.s.onData
	x.b.s.mu.Unlock()
	if hook != nil {
		if err := hook(x.b.name, raw); err != nil {
			return err
		}
	}
	x.b.s.mu.Lock()
	x.b.s.msgs = append(x.b.s.msgs, sunk{server: x.b.name, to: x.to, raw: raw})
	x.b.s.mu.Unlock()
	return nil
}

// startSink starts a go-smtp server on a loopback port delivering into s.
func startSink(t *testing.T, s *sink, name string) string {
	t.Helper()
	srv := smtp.NewServer(&sinkBackend{s: s, name: name})
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// mailText returns a message's decoded subject and text part.
func mailText(t *testing.T, raw []byte) (subject, text, msgID string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(quotedprintable.NewReader(p))
			text = string(b)
		}
	}
	return subject, text, m.Header.Get("Message-ID")
}

// replicas are two servers on one database.
type replicas struct {
	bin, agent string
	db         string
	a, b       *serverProc
	token      string // admin
	mails      *sink
}

// startReplicas starts two `serve` processes at once on a fresh PostgreSQL
// database, each mailing through its own SMTP server into one sink.
func startReplicas(t *testing.T, extra ...string) *replicas {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the replica tests signal processes")
	}
	bin, agent := buildBinaries(t)
	r := &replicas{bin: bin, agent: agent, db: pgtest.DatabaseURL(t), mails: &sink{}}
	args := func(smtpAddr string) []string {
		return append([]string{"--database", r.db, "--smtp-addr", smtpAddr, "--smtp-tls", "none", "--smtp-from", "eolwatch@example.com"}, extra...)
	}
	// Both start at the same moment on the empty database: they migrate it
	// together (under the migrations' advisory lock) and create its shared
	// keys once.
	var waitA, waitB func()
	r.a, waitA = launchServer(t, bin, t.TempDir(), args(startSink(t, r.mails, "a"))...)
	r.b, waitB = launchServer(t, bin, t.TempDir(), args(startSink(t, r.mails, "b"))...)
	waitA()
	waitB()
	tok, err := exec.Command(bin, "token", "create", "--database", r.db, "--role", "admin", "--name", "replica-test").Output()
	if err != nil {
		t.Fatalf("token create --database: %v", err)
	}
	r.token = strings.TrimSpace(string(tok))
	return r
}

// getJSON is getBody that decodes a 200's body into v (when not nil).
func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	code, b := getBody(t, url, token)
	if v != nil && code == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, b)
		}
	}
	return code
}

// waitFor polls cond every 50 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
	}
}

// settled waits until the outbox, read through the replica at url, has no
// message pending: every message queued so far was delivered and recorded,
// so from then on only a duplicate could reach the mailbox. It then lets
// both notifiers poll again, so that a duplicate would show.
func (r *replicas) settled(t *testing.T, url string) {
	t.Helper()
	waitFor(t, time.Minute, "an outbox with no message pending", func() bool {
		var o struct {
			Counts notifier.OutboxCounts `json:"counts"`
		}
		return getJSON(t, url+"/api/v1/outbox", r.token, &o) == 200 && o.Counts.Pending == 0
	})
	time.Sleep(3 * time.Second) // time must pass: the notifiers poll every 2 s, room for a duplicate to show
}

// subscribeConfirmed subscribes addrs to group through one replica and
// follows each confirmation link through the other.
func (r *replicas) subscribeConfirmed(t *testing.T, group string, addrs []string) {
	t.Helper()
	for _, a := range addrs {
		code, b, err := postJSON(r.b.url+"/api/v1/subscriptions", "", map[string]string{"group": group, "email": a})
		if err != nil || code != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d %s %v", a, code, b, err)
		}
	}
	links := map[string]string{}
	waitFor(t, time.Minute, "the confirmation emails", func() bool {
		for _, m := range r.mails.all() {
			subj, text, _ := mailText(t, m.raw)
			if !strings.HasPrefix(subj, "Confirm your subscription") {
				continue
			}
			if i := strings.Index(text, notifier.PathConfirm+"?token="); i >= 0 {
				start := strings.LastIndex(text[:i], "http")
				end := i + strings.IndexAny(text[i:], " \r\n")
				links[m.to] = text[start:end]
			}
		}
		return len(links) == len(addrs)
	})
	for to, link := range links {
		// The link names the replica that sent the mail; confirm through the other.
		other := r.a.url
		if strings.HasPrefix(link, r.a.url) {
			other = r.b.url
		}
		resp, err := http.Get(other + link[strings.Index(link, notifier.PathConfirm):])
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "is confirmed") {
			t.Fatalf("confirm %s through the other replica: %d\n%s", to, resp.StatusCode, body)
		}
	}
}

// releaseMails returns, per recipient, the release emails for version.
func releaseMails(t *testing.T, s *sink, version string) map[string][]sunk {
	out := map[string][]sunk{}
	for _, m := range s.all() {
		if subj, _, _ := mailText(t, m.raw); strings.Contains(subj, version+" released") {
			out[m.to] = append(out[m.to], m)
		}
	}
	return out
}

func addresses(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("sub%02d@example.com", i))
	}
	return out
}

// TestReplicasShareOneDatabase: an agent enrolled through one replica is
// seen through the other, and a release published through one reaches
// every confirmed subscriber exactly once while both notifiers run.
func TestReplicasShareOneDatabase(t *testing.T) {
	r := startReplicas(t)
	// The real agent enrolls and reports through replica a.
	out, err := exec.Command(r.agent, "once", "--server", r.a.url, "--enroll-secret", testSecret, "--state-dir", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("agent once: %v\n%s", err, out)
	}
	var hosts api.HostList
	if code := getJSON(t, r.b.url+api.PathHosts, r.token, &hosts); code != 200 || hosts.Total != 1 {
		t.Fatalf("GET /hosts through replica b = %d, %+v; want the host enrolled through a", code, hosts)
	}
	var detail api.HostDetail
	if code := getJSON(t, r.b.url+api.PathHosts+"/"+hosts.Hosts[0].ID, r.token, &detail); code != 200 || len(detail.Inventory) == 0 {
		t.Fatalf("GET /hosts/%s through b = %d with %d items; want the inventory a stored", hosts.Hosts[0].ID, code, len(detail.Inventory))
	}

	out, err = exec.Command(r.bin, "group", "create", "--database", r.db, "--name", "py", "--product", "python", "--events", "release").CombinedOutput()
	if err != nil {
		t.Fatalf("group create: %v\n%s", err, out)
	}
	subs := addresses(12)
	r.subscribeConfirmed(t, "py", subs)

	const version = "3.12.98"
	code, b, err := postJSON(r.a.url+api.PathCatalogReleases, r.token, map[string]string{"product": "python", "cycle": "3.12",
		"version": version, "date": time.Now().UTC().Format(time.DateOnly)})
	if err != nil || code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("publish through a: %d %s %v", code, b, err)
	}
	waitFor(t, 60*time.Second, "the release email to every subscriber", func() bool {
		return len(releaseMails(t, r.mails, version)) == len(subs)
	})
	r.settled(t, r.b.url)
	got := releaseMails(t, r.mails, version)
	senders := map[string]int{}
	for _, a := range subs {
		switch ms := got[a]; {
		case len(ms) == 0:
			t.Errorf("%s: no release email", a)
		case len(ms) > 1:
			t.Errorf("%s: %d release emails, want exactly one", a, len(ms))
		default:
			senders[ms[0].server]++
		}
	}
	t.Logf("release emails sent by replica: %v", senders)
	// A dashboard session opened on one replica works on the other, and a
	// logout through either ends it on both.
	r.dashboardSessionShared(t)
	// Replica b reloaded the catalog a changed: it judges the new version current.
	waitFor(t, time.Minute, "replica b to see the published release", func() bool {
		var e api.Eligibility
		getJSON(t, r.b.url+api.PathEligibility+"?product=python&version="+version, r.token, &e)
		return e.Status == "current"
	})
	// Wrong enroll secrets count across replicas: twenty guesses spread
	// over both use up one budget, and the next is refused by either.
	enroll := func(url string) int {
		code, _, err := postJSON(url+"/api/v1/enroll", "", map[string]any{"enroll_secret": "wrong-secret-guess-0123456789",
			"host": map[string]string{"install_id": "guesser", "hostname": "guesser", "os": "linux"}})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	for i := range 20 {
		if code := enroll([]string{r.a.url, r.b.url}[i%2]); code != http.StatusUnauthorized {
			t.Fatalf("wrong enroll secret %d: %d, want 401", i+1, code)
		}
	}
	for _, url := range []string{r.a.url, r.b.url} {
		if code := enroll(url); code != http.StatusTooManyRequests {
			t.Errorf("the 21st wrong enroll secret through %s: %d, want 429 (the replicas share one budget)", url, code)
		}
	}
}

// TestReplicaKill9 kills one of two replicas (SIGKILL) while agents report
// through both and it is sending a release to subscribers: every report
// either replica acknowledged is stored, and every subscriber gets the
// release exactly once (the survivor sends what the dead one had claimed
// once its lease runs out).
func TestReplicaKill9(t *testing.T) {
	// A short outbox lease so the survivor takes over quickly.
	r := startReplicas(t, "--outbox-lease", "8s", "--smtp-timeout", "1s")
	out, err := exec.Command(r.bin, "group", "create", "--database", r.db, "--name", "py", "--product", "python", "--events", "release").CombinedOutput()
	if err != nil {
		t.Fatalf("group create: %v\n%s", err, out)
	}
	subs := addresses(16)
	r.subscribeConfirmed(t, "py", subs)

	// Agents report through both replicas, alternating.
	const hosts = 6
	urls := []string{r.a.url, r.b.url}
	agents := startReporting(t, hosts, "rk", func(i, seq int) string { return urls[(i+seq)%2] }, false)

	// The replica delivering the release dies while its mail server holds
	// the fifth release email (before accepting it).
	const version = "3.12.97"
	procs := map[string]*serverProc{"a": r.a, "b": r.b}
	var killed string
	releases := 0
	var hookMu sync.Mutex
	r.mails.mu.Lock()
	r.mails.onData = func(server string, raw []byte) error {
		hookMu.Lock()
		defer hookMu.Unlock()
		if killed != "" || !bytes.Contains(raw, []byte(version)) {
			return nil
		}
		if releases++; releases < 5 {
			return nil
		}
		killed = server
		p := procs[server]
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
		return &smtp.SMTPError{Code: 421, Message: "connection gone"}
	}
	r.mails.mu.Unlock()
	code, b, err := postJSON(r.a.url+api.PathCatalogReleases, r.token, map[string]string{"product": "python", "cycle": "3.12",
		"version": version, "date": time.Now().UTC().Format(time.DateOnly)})
	if err != nil || code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("publish: %d %s %v", code, b, err)
	}
	waitFor(t, 60*time.Second, "a replica to be killed mid-delivery", func() bool {
		hookMu.Lock()
		defer hookMu.Unlock()
		return killed != ""
	})
	survivor := map[string]string{"a": "b", "b": "a"}[killed]
	t.Logf("replica %s killed after %d release emails; %s carries on", killed, releases-1, survivor)
	waitFor(t, 60*time.Second, "every subscriber's release email after the kill", func() bool {
		return len(releaseMails(t, r.mails, version)) == len(subs)
	})
	results := agents.stop()
	r.settled(t, procs[survivor].url)
	got := releaseMails(t, r.mails, version)
	ids := map[string]bool{}
	bySurvivor := 0
	for _, a := range subs {
		ms := got[a]
		if len(ms) != 1 {
			t.Errorf("%s: %d release emails, want exactly one", a, len(ms))
			continue
		}
		_, _, id := mailText(t, ms[0].raw)
		ids[id] = true
		if ms[0].server == survivor {
			bySurvivor++
		}
	}
	if len(ids) != len(subs) {
		t.Errorf("%d distinct Message-IDs, want %d", len(ids), len(subs))
	}
	if bySurvivor == 0 {
		t.Error("the survivor sent none of the release emails: the dead replica's claim was never taken over")
	}

	// Every acknowledged report is stored, whichever replica took it.
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, r.db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for _, res := range results {
		_, row, err := st.FindHost(ctx, res.uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range res.ids {
			if seen, err := st.ReportSeen(ctx, row, id); err != nil || !seen {
				t.Errorf("host %s: acknowledged report %s missing (err %v)", res.uid, id, err)
			}
		}
		total += len(res.ids)
	}
	if total == 0 {
		t.Fatal("no report was acknowledged")
	}
	t.Logf("%d reports acknowledged through both replicas; all stored", total)
	var hl api.HostList
	live := procs[survivor]
	if code := getJSON(t, live.url+api.PathHosts, r.token, &hl); code != 200 || hl.Total != hosts {
		t.Errorf("GET /hosts through the survivor = %d, %d hosts; want %d", code, hl.Total, hosts)
	}
	sort.Strings(subs)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// dashboardSessionShared logs in to the dashboard through replica a, opens
// it through b with the same cookie, logs out through b and checks that a
// refuses the old cookie.
func (r *replicas) dashboardSessionShared(t *testing.T) {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string, cookies ...*http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest("GET", url, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	post := func(url string, form neturl.Values, cookies ...*http.Cookie) *http.Response {
		req, _ := http.NewRequest("POST", url, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	cookie := func(resp *http.Response, name string) *http.Cookie {
		for _, c := range resp.Cookies() {
			if c.Name == name && c.Value != "" {
				return c
			}
		}
		t.Fatalf("%s answered no %s cookie", resp.Request.URL, name)
		return nil
	}
	resp, page := get(r.a.url + "/login")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("login page through a has no csrf field:\n%s", page)
	}
	resp = post(r.a.url+"/login", neturl.Values{"csrf": {m[1]}, "token": {r.token}}, cookie(resp, "eolwatch_login"))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login through a: %d", resp.StatusCode)
	}
	session := cookie(resp, "eolwatch_session")
	resp, page = get(r.b.url+"/", session)
	m = csrfRE.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("the dashboard through b with a's session cookie: %d %s; want the overview", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := post(r.b.url+"/logout", neturl.Values{"csrf": {m[1]}}, session); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout through b: %d", resp.StatusCode)
	}
	if resp, _ := get(r.a.url+"/", session); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("a's dashboard with the cookie logged out through b: %d %s; want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestReplicasJudgeWithOneCatalog: two servers on one database whose own
// catalogs differ (a rolling upgrade brings a new build's catalog; here b
// has a --catalog file a lacks) re-evaluate the fleet with the catalog of
// the one started last, instead of each re-evaluating the whole fleet
// back to its own catalog in turn (every verdict the catalogs disagree on
// flipping, with its fleet mail, at every turn).
func TestReplicasJudgeWithOneCatalog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the replica tests signal processes")
	}
	bin, agent := buildBinaries(t)
	db := pgtest.DatabaseURL(t)
	a := startServer(t, bin, t.TempDir(), "--database", db)
	out, err := exec.Command(agent, "once", "--server", a.url, "--enroll-secret", testSecret, "--state-dir", t.TempDir()).CombinedOutput()
	if err != nil {
		t.Fatalf("agent once: %v\n%s", err, out)
	}
	b := startServer(t, bin, t.TempDir(), "--database", db, "--catalog", "../catalog/testdata/vendor-acme.yaml")
	tok, err := exec.Command(bin, "token", "create", "--database", db, "--role", "admin", "--name", "judge-test").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	version := func(p *serverProc) string {
		var ready struct {
			CatalogVersion string `json:"catalog_version"`
		}
		getJSON(t, p.url+"/readyz", token, &ready)
		return ready.CatalogVersion
	}
	fleet := func() string {
		var c api.Compliance
		getJSON(t, a.url+api.PathCompliance, token, &c)
		return c.CatalogVersion
	}
	va, vb := version(a), version(b)
	if va == "" || va == vb {
		t.Fatalf("catalog versions a %q, b %q: want two different ones", va, vb)
	}
	waitFor(t, 60*time.Second, "b, started last, to re-evaluate the fleet with its catalog", func() bool { return fleet() == vb })

	// A release published through a: both reload, both are kicked to
	// re-evaluate; only b does, a says why it does not.
	mark := len(a.logText())
	code, body, err := postJSON(a.url+api.PathCatalogReleases, token, map[string]string{"product": "python", "cycle": "3.12",
		"version": "3.12.97", "date": time.Now().UTC().Format(time.DateOnly)})
	if err != nil || code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("publish through a: %d %s %v", code, body, err)
	}
	waitFor(t, time.Minute, "both servers to load the release", func() bool { return version(a) != va && version(b) != vb })
	va, vb = version(a), version(b)
	waitFor(t, 60*time.Second, "the fleet re-evaluated with b's catalog and the release", func() bool { return fleet() == vb })
	// a was kicked first (it published): by now it re-evaluated, or said
	// why not.
	waitFor(t, time.Minute, "a to re-evaluate or leave the fleet to b", func() bool {
		logs := a.logText()[mark:]
		return strings.Contains(logs, "not re-evaluating the fleet") || strings.Contains(logs, "fleet re-evaluated")
	})
	if logs := a.logText()[mark:]; strings.Contains(logs, "fleet re-evaluated") || !strings.Contains(logs, "not re-evaluating the fleet") {
		t.Errorf("a re-evaluated the fleet with its own catalog after b, started later with another, had:\n%s", logs)
	}
	if got := fleet(); got != vb {
		t.Errorf("the fleet is judged with catalog %s, want b's %s (a's is %s)", got, vb, va)
	}
}

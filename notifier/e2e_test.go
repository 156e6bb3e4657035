package notifier

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// testEnv is a notifier behind a real HTTP server, mailing a real go-smtp
// server over loopback with STARTTLS and AUTH.
//
// Its helpers take the *testing.T they report to (the test's, or a
// subtest's inside t.Run): the env keeps none.
type testEnv struct {
	svc   *Service
	mb    *mailbox
	smtp  *smtpServer
	http  *httptest.Server
	clock *testClock
}

// routes registers the notifier handlers the way the server core does.
func routes(get func() *Service) *http.ServeMux {
	mux := http.NewServeMux()
	h := func(f func(*Service) http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { f(get())(w, r) }
	}
	jsonRoute := func(f func(*Service) httpjson.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { httpjson.Handle(get().log, f(get()))(w, r) }
	}
	mux.HandleFunc("POST /api/v1/groups", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleCreateGroup }))
	mux.HandleFunc("GET /api/v1/groups", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleListGroups }))
	mux.HandleFunc("DELETE /api/v1/groups/{name}", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleDeleteGroup }))
	mux.HandleFunc("POST /api/v1/subscriptions", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleSubscribe }))
	mux.HandleFunc("GET /api/v1/subscriptions", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleListSubscriptions }))
	mux.HandleFunc("GET /api/v1/outbox", jsonRoute(func(s *Service) httpjson.HandlerFunc { return s.HandleListOutbox }))
	mux.HandleFunc("GET "+PathConfirm, h(func(s *Service) http.HandlerFunc { return s.HandleConfirm }))
	mux.HandleFunc(PathUnsubscribe, h(func(s *Service) http.HandlerFunc { return s.HandleUnsubscribe }))
	mux.HandleFunc(PathPreferences, h(func(s *Service) http.HandlerFunc { return s.HandlePreferences }))
	return mux
}

func newEnv(t *testing.T, cfg Config) *testEnv {
	t.Helper()
	e := &testEnv{mb: &mailbox{user: "mailer", pass: "s3cret"}, clock: newClock("2026-03-02T10:00:00Z")}
	cert, pool, _, _ := testCert(t)
	e.smtp = startSMTP(t, e.mb, "", &cert, false)
	e.http = httptest.NewServer(routes(func() *Service { return e.svc }))
	t.Cleanup(e.http.Close)
	w, r, _ := openTestDB(t)
	cfg.SMTPAddr = e.smtp.addr
	cfg.SMTPTLS = TLSStartTLS
	cfg.SMTPUsername, cfg.SMTPPassword = "mailer", "s3cret"
	cfg.TLSConfig = &tls.Config{RootCAs: pool}
	cfg.PublicURL = e.http.URL
	cfg.Now = e.clock.Now
	e.svc = newTestService(t, w, r, cfg)
	return e
}

// do sends a JSON request to the test server and decodes the answer.
func (e *testEnv) do(t testing.TB, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// subscribe runs the whole double opt-in for email in group and returns
// the confirmation message.
func (e *testEnv) subscribe(t testing.TB, group, email string) parsedMail {
	t.Helper()
	before := len(e.mb.all())
	if code := e.do(t, "POST", "/api/v1/subscriptions", `{"group":"`+group+`","email":"`+email+`"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/subscriptions = %d, want 202", code)
	}
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != before+1 {
		t.Fatalf("after subscribing: %d messages, want %d", len(msgs), before+1)
	}
	pm := parseMail(t, msgs[len(msgs)-1].Data)
	link := pm.link(t, e.http.URL+PathConfirm)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "is confirmed") {
		t.Fatalf("GET confirmation link = %d\n%s", resp.StatusCode, body)
	}
	return pm
}

func TestEndToEndReleaseFlow(t *testing.T) {
	e := newEnv(t, Config{})
	if code := e.do(t, "POST", "/api/v1/groups", `{"name":"Python-Team","products":["python"],"events":["release","eol"]}`, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/groups = %d, want 201", code)
	}

	// Before confirmation nothing but the confirmation itself is sent.
	if code := e.do(t, "POST", "/api/v1/subscriptions", `{"group":"python-team","email":"alice@example.com"}`, nil); code != http.StatusAccepted {
		t.Fatalf("subscribe = %d, want 202", code)
	}
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.12", Version: "3.12.9", Date: "2026-03-01"})
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != 1 {
		t.Fatalf("before confirmation: %d messages, want only the confirmation", len(msgs))
	}
	confirm := parseMail(t, msgs[0].Data)
	if got := confirm.subject(t); got != "Confirm your subscription to python-team" {
		t.Errorf("confirmation subject = %q", got)
	}
	if confirm.Header.Get("List-Unsubscribe") != "" {
		t.Errorf("confirmation carries List-Unsubscribe; it must not (not subscribed yet)")
	}
	if !msgs[0].TLS || msgs[0].Auth == "" {
		t.Errorf("delivery TLS=%v auth=%q, want STARTTLS and AUTH", msgs[0].TLS, msgs[0].Auth)
	}
	if got := msgs[0].To; len(got) != 1 || got[0] != "alice@example.com" {
		t.Errorf("RCPT = %v, want [alice@example.com]", got)
	}

	// Follow the link from the email.
	link := confirm.link(t, e.http.URL+PathConfirm)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "is confirmed") {
		t.Fatalf("GET %s = %d\n%s", link, resp.StatusCode, body)
	}

	// A release event: exactly one email with the right content.
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.13", Version: "3.13.2", Date: "2026-03-02",
		Link: "https://docs.python.org/release/3.13.2/whatsnew/changelog.html"})
	drain(t, e.svc)
	drain(t, e.svc)
	msgs = e.mb.all()
	if len(msgs) != 2 {
		t.Fatalf("after the release: %d messages, want 2", len(msgs))
	}
	pm := parseMail(t, msgs[1].Data)
	if got, want := pm.subject(t), "python 3.13.2 released (3.13)"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	for _, h := range []string{"Date", "Message-ID", "From", "To", "MIME-Version", "List-Unsubscribe", "List-Unsubscribe-Post"} {
		if pm.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if got := pm.Header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if _, err := pm.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	for _, want := range []string{"python 3.13.2 was published on 2026-03-02", "Change level: patch", "changelog.html", PathPreferences + "?token="} {
		if !strings.Contains(pm.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, pm.Text)
		}
	}
	if !strings.Contains(pm.HTML, `href="https://docs.python.org/release/3.13.2/whatsnew/changelog.html"`) {
		t.Errorf("HTML part lacks the release notes link:\n%s", pm.HTML)
	}

	// Admin listings.
	var out struct {
		Counts   OutboxCounts  `json:"counts"`
		Messages []OutboxEntry `json:"messages"`
	}
	if code := e.do(t, "GET", "/api/v1/outbox", "", &out); code != 200 || out.Counts.Sent != 2 || out.Counts.Pending != 0 {
		t.Errorf("GET /api/v1/outbox = %d %+v, want 2 sent", code, out.Counts)
	}
	var subs struct {
		Subscriptions []Subscription `json:"subscriptions"`
		Total         int            `json:"total"`
	}
	if code := e.do(t, "GET", "/api/v1/subscriptions?group=python-team", "", &subs); code != 200 || subs.Total != 1 || subs.Subscriptions[0].State != StateConfirmed {
		t.Errorf("GET /api/v1/subscriptions = %d %+v", code, subs)
	}

	// One-click unsubscribe, as a mail client does it (RFC 8058).
	unsub := strings.Trim(pm.Header.Get("List-Unsubscribe"), "<>")
	resp, err = http.Post(unsub, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click POST = %d, want 200", resp.StatusCode)
	}
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.13", Version: "3.13.3"})
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 2 {
		t.Errorf("after unsubscribing: %d messages, want still 2", n)
	}
	// The GET of the same link only shows a page and never unsubscribes.
	resp, err = http.Get(unsub)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "You are unsubscribed") {
		t.Errorf("GET unsubscribe page after unsubscribing:\n%s", body)
	}
}

func TestUnsubscribePageNeedsPost(t *testing.T) {
	e := newEnv(t, Config{})
	e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nodejs"],"events":["release"]}`, nil)
	e.subscribe(t, "g", "bob@example.com")
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "nodejs", Cycle: "22", Version: "22.14.0"})
	drain(t, e.svc)
	pm := parseMail(t, e.mb.all()[1].Data)
	link := pm.link(t, e.http.URL+PathUnsubscribe)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `<form method="post"`) {
		t.Fatalf("GET unsubscribe: no form:\n%s", body)
	}
	subs, _, _ := e.svc.ListSubscriptions(context.Background(), SubscriptionFilter{State: StateConfirmed})
	if len(subs) != 1 {
		t.Fatalf("GET unsubscribed the address; it must only show the button")
	}
	// A forged token is refused without detail.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("token", q.Get("token")+"x")
	u.RawQuery = q.Encode()
	resp, err = http.PostForm(u.String(), url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("POST with a forged token = %d, want 400", resp.StatusCode)
	}
}

func TestDigestMode(t *testing.T) {
	e := newEnv(t, Config{DigestHour: 7})
	e.do(t, "POST", "/api/v1/groups", `{"name":"web","products":["nginx","nodejs"],"events":["release","eol"]}`, nil)
	confirm := e.subscribe(t, "web", "carol@example.com")
	_ = confirm
	// Switch to a daily digest through the preferences page (a form POST).
	subs, _, _ := e.svc.ListSubscriptions(context.Background(), SubscriptionFilter{})
	sub, _ := e.svc.db.subscription(context.Background(), subs[0].ID)
	prefs := e.svc.baseData(sub).PreferencesURL
	resp, err := http.PostForm(prefs, url.Values{"mode": {"daily"}, "levels": {"major", "minor", "patch"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Saved") {
		t.Fatalf("POST preferences = %d\n%s", resp.StatusCode, body)
	}
	enqueue(t, e.svc.db.w,
		events.Event{Kind: events.KindRelease, Product: "nginx", Cycle: "1.27", Version: "1.27.4"},
		events.Event{Kind: events.KindRelease, Product: "nodejs", Cycle: "23", Version: "23.9.0"},
		events.Event{Kind: events.KindEOL, Product: "nodejs", Cycle: "18", Date: "2025-04-30", Days: 30},
		events.Event{Kind: events.KindRelease, Product: "postgresql", Cycle: "17", Version: "17.4"}, // not in the group
	)
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 1 {
		t.Fatalf("digest sent before its hour: %d messages", n)
	}
	e.clock.Advance(20*time.Hour + time.Minute) // 2026-03-03 06:01
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 1 {
		t.Fatalf("digest sent before 07:00: %d messages", n)
	}
	e.clock.Advance(time.Hour)
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != 2 {
		t.Fatalf("after 07:00: %d messages, want 2 (confirmation + one digest)", len(msgs))
	}
	pm := parseMail(t, msgs[1].Data)
	if got, want := pm.subject(t), "eolwatch daily digest for web: 3 updates"; got != want {
		t.Errorf("digest subject = %q, want %q", got, want)
	}
	for _, want := range []string{"nginx 1.27.4", "nodejs 23.9.0", "nodejs 18: end of life in 30 days"} {
		if !strings.Contains(pm.Text, want) {
			t.Errorf("digest lacks %q:\n%s", want, pm.Text)
		}
	}
	if strings.Contains(pm.Text, "postgresql") {
		t.Errorf("digest mentions a product outside the group:\n%s", pm.Text)
	}
	e.clock.Advance(24 * time.Hour)
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 2 {
		t.Errorf("an empty digest was sent: %d messages", n)
	}
}

func TestFleetBatchedPerGroup(t *testing.T) {
	e := newEnv(t, Config{FleetBatchWindow: 10 * time.Minute})
	e.do(t, "POST", "/api/v1/groups", `{"name":"ops","products":["debian","openssl"],"events":["fleet"]}`, nil)
	e.subscribe(t, "ops", "ops@example.com")
	var evs []events.Event
	for i, h := range []string{"web-1", "web-2", "web-3", "db-1", "db-2"} {
		evs = append(evs, events.Event{Kind: events.KindFleet, Product: "openssl", Cycle: "1.1.1", Version: "1.1.1w", HostID: "h" + h, Host: h,
			From: "eol-soon", To: "eol", Reason: "OpenSSL 1.1.1 reached end of life on 2023-09-11.", Maintainer: "upstream",
			CatalogDate: "2026-08-22", Warnings: []string{fmt.Sprintf("The catalog data is %d days old (taken on 2026-08-22).", 101+i)}})
	}
	// Getting better is not an alert.
	evs = append(evs, events.Event{Kind: events.KindFleet, Product: "debian", Cycle: "12", Version: "12.9", HostID: "hx", Host: "fixed-1", From: "eol", To: "current"})
	enqueue(t, e.svc.db.w, evs[:3]...)
	drain(t, e.svc)
	e.clock.Advance(5 * time.Minute)
	enqueue(t, e.svc.db.w, evs[3:]...)
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 1 {
		t.Fatalf("fleet alert sent before the batch window closed: %d messages", n)
	}
	e.clock.Advance(5 * time.Minute)
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one batched fleet alert after the confirmation", len(msgs))
	}
	pm := parseMail(t, msgs[1].Data)
	if got, want := pm.subject(t), "5 fleet changes for ops"; got != want {
		t.Errorf("subject = %q, want %q", got, want)
	}
	for _, h := range []string{"web-1", "web-2", "web-3", "db-1", "db-2"} {
		if !strings.Contains(pm.Text, `host "`+h+`" (h`+h+`): openssl 1.1.1w`) {
			t.Errorf("fleet alert lacks host %s:\n%s", h, pm.Text)
		}
	}
	if strings.Contains(pm.Text, "fixed-1") {
		t.Errorf("fleet alert lists a host that got better:\n%s", pm.Text)
	}
	// every verdict in the alert carries its catalog date and warnings
	for _, want := range []string{"Warning: The catalog data is 101 days old", "Warning: The catalog data is 105 days old", "(catalog data of 2026-08-22)"} {
		if !strings.Contains(pm.Text, want) || !strings.Contains(pm.HTML, strings.TrimPrefix(strings.Trim(want, "()"), "Warning: ")) {
			t.Errorf("fleet alert lacks %q:\ntext:\n%s\nhtml:\n%s", want, pm.Text, pm.HTML)
		}
	}
}

func TestPreferencesFilterReleases(t *testing.T) {
	e := newEnv(t, Config{Fleet: fleetSet{"python@3.12": true}})
	e.do(t, "POST", "/api/v1/groups", `{"name":"py","products":["python"],"cycles":["python@3.12","3.13"],"events":["release"]}`, nil)
	e.subscribe(t, "py", "dave@example.com")
	subs, _, _ := e.svc.ListSubscriptions(context.Background(), SubscriptionFilter{})
	sub, _ := e.svc.db.subscription(context.Background(), subs[0].ID)
	tok := strings.SplitN(e.svc.baseData(sub).PreferencesURL, "token=", 2)[1]
	var got Preferences
	code := e.do(t, "POST", PathPreferences+"?token="+tok, `{"mode":"immediate","levels":["minor","major"],"prereleases":false}`, &got)
	if code != 200 || len(got.Levels) != 2 {
		t.Fatalf("POST preferences JSON = %d %+v", code, got)
	}
	var fe api.Error
	if code := e.do(t, "POST", PathPreferences+"?token="+tok, `{"mode":"hourly","levels":["patch"]}`, &fe); code != 400 || fe.Field != "mode" {
		t.Errorf("bad mode = %d %+v, want 400 naming mode", code, fe)
	}
	enqueue(t, e.svc.db.w,
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.12", Version: "3.12.10"},   // patch: filtered
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.14", Version: "3.14.0rc1"}, // pre-release, and cycle not in group
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.13", Version: "3.13.0b3"},  // pre-release: filtered
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.13", Version: "3.13.0"},    // minor: sent
	)
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want confirmation + 3.13.0 only", len(msgs))
	}
	if s := parseMail(t, msgs[1].Data).subject(t); s != "python 3.13.0 released (3.13)" {
		t.Errorf("subject = %q", s)
	}
	// Fleet only: the fleet runs 3.12 but not 3.13.
	e.do(t, "POST", PathPreferences+"?token="+tok, `{"mode":"immediate","levels":["major","minor","patch"],"fleet_only":true}`, &got)
	enqueue(t, e.svc.db.w,
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.13", Version: "3.13.1"},
		events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.12", Version: "3.12.11"},
	)
	drain(t, e.svc)
	msgs = e.mb.all()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want one more (3.12.11)", len(msgs))
	}
	if s := parseMail(t, msgs[2].Data).subject(t); s != "python 3.12.11 released (3.12)" {
		t.Errorf("subject = %q", s)
	}
}

// fleetSet is an in-memory FleetLookup: "product@cycle" or "product".
type fleetSet map[string]bool

func (f fleetSet) FleetRuns(_ context.Context, product, cycle string) (bool, error) {
	return f[product] || f[product+"@"+cycle], nil
}

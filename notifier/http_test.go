package notifier

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

func TestSubscribeNoEnumeration(t *testing.T) {
	e := newEnv(t, Config{})
	e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"]}`, nil)
	e.subscribe(t, "g", "known@example.com")
	answer := func(email string) (int, string) {
		req, _ := http.NewRequest("POST", e.http.URL+"/api/v1/subscriptions", strings.NewReader(`{"group":"g","email":"`+email+`"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	c1, b1 := answer("known@example.com")
	c2, b2 := answer("unknown@example.com")
	if c1 != http.StatusAccepted || c1 != c2 || b1 != b2 {
		t.Errorf("known address: %d %s; unknown: %d %s; want identical 202 answers", c1, b1, c2, b2)
	}
	drain(t, e.svc)
	// The known address got a reminder with its management link, not a second confirmation.
	msgs := e.mb.all()
	last := parseMail(t, msgs[len(msgs)-2].Data)
	if msgs[len(msgs)-2].To[0] != "known@example.com" || !strings.Contains(last.subject(t), "already subscribed") {
		t.Errorf("message to the known address: %q", last.subject(t))
	}
}

func TestSubscribeRateLimits(t *testing.T) {
	e := newEnv(t, Config{SubscribeRatePerIP: 5, SubscribeRatePerAddress: 2})
	e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"]}`, nil)
	codes := []int{}
	for range 7 {
		codes = append(codes, e.do(t, "POST", "/api/v1/subscriptions", `{"group":"g","email":"target@example.com"}`, nil))
	}
	for i, c := range codes {
		want := http.StatusAccepted
		if i >= 5 {
			want = http.StatusTooManyRequests
		}
		if c != want {
			t.Errorf("request %d = %d, want %d (codes %v)", i+1, c, want, codes)
		}
	}
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 2 {
		t.Errorf("%d confirmation emails to one address, want the per-address limit of 2", n)
	}
	e.clock.Advance(25 * time.Hour)
	if c := e.do(t, "POST", "/api/v1/subscriptions", `{"group":"g","email":"target@example.com"}`, nil); c != http.StatusAccepted {
		t.Errorf("after the window: %d, want 202", c)
	}
}

func TestHTTPValidation(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		method, path, body string
		code               int
		field              string
	}{
		{"POST", "/api/v1/groups", `{"name":"g","products":["p"],"events":["release"],"colour":"red"}`, 400, "colour"},
		{"POST", "/api/v1/groups", `{"name":"g","products":"p","events":["release"]}`, 400, "products"},
		{"POST", "/api/v1/groups", `{"name":"g","products":["p"],"events":["rel"]}`, 400, "events[0]"},
		{"POST", "/api/v1/groups", `not json`, 400, "body"},
		{"POST", "/api/v1/groups", `{"name":"g","products":["` + strings.Repeat("p", 70000) + `"],"events":["release"]}`, 413, ""},
		{"POST", "/api/v1/subscriptions", `{"group":"nope","email":"a@example.com"}`, 400, "group"},
		{"POST", "/api/v1/subscriptions", `{"group":"g","email":"` + strings.Repeat("a", 5000) + `"}`, 413, ""},
		{"GET", "/api/v1/outbox?state=lost", "", 400, "state"},
		{"GET", "/api/v1/subscriptions?limit=-1", "", 400, "limit"},
		{"DELETE", "/api/v1/groups/none", "", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path[:min(len(tc.path), 40)], func(t *testing.T) {
			var ae api.Error
			code := e.do(t, tc.method, tc.path, tc.body, &ae)
			if code != tc.code || ae.Field != tc.field {
				t.Errorf("%s %s = %d %+v, want %d naming %q", tc.method, tc.path[:min(len(tc.path), 40)], code, ae, tc.code, tc.field)
			}
		})
	}
	if c := e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["p"],"events":["release"]}`, nil); c != 201 {
		t.Fatalf("create = %d", c)
	}
	if c := e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["p"],"events":["release"]}`, nil); c != 409 {
		t.Errorf("create twice = %d, want 409", c)
	}
	var list struct {
		Groups []GroupInfo
		Total  int
	}
	if c := e.do(t, "GET", "/api/v1/groups", "", &list); c != 200 || list.Total != 1 || list.Groups[0].Name != "g" {
		t.Errorf("GET groups = %d %+v", c, list)
	}
}

func TestConfirmLinkExpires(t *testing.T) {
	e := newEnv(t, Config{ConfirmTTL: time.Hour})
	e.do(t, "POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"]}`, nil)
	e.do(t, "POST", "/api/v1/subscriptions", `{"group":"g","email":"late@example.com"}`, nil)
	drain(t, e.svc)
	link := parseMail(t, e.mb.all()[0].Data).link(t, e.http.URL+PathConfirm)
	e.clock.Advance(2 * time.Hour)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("expired confirmation link = %d, want 400", resp.StatusCode)
	}
	subs, _, _ := e.svc.ListSubscriptions(context.Background(), SubscriptionFilter{State: StatePending})
	if len(subs) != 1 {
		t.Errorf("pending subscriptions = %d, want 1 (not confirmed)", len(subs))
	}
}

func TestDeleteGroupCancelsPending(t *testing.T) {
	w, r, _ := openTestDB(t)
	s := newTestService(t, w, r, Config{})
	fanOutTo(t, s, "a@example.com", "b@example.com")
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "8.0", Version: "8.0.2"})
	if _, err := s.ProcessEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(context.Background(), "g"); err != nil {
		t.Fatal(err)
	}
	if st := outboxStates(t, s); st["cancelled"] != 2 || st["pending"] != 0 {
		t.Errorf("outbox after deleting the group: %v", st)
	}
	if err := s.DeleteGroup(context.Background(), "g"); err == nil {
		t.Error("deleting a missing group succeeded")
	}
}

func TestSubscribeNeedsJSON(t *testing.T) {
	e := newEnv(t, Config{})
	resp, err := http.Post(e.http.URL+"/api/v1/subscriptions", "application/x-www-form-urlencoded", strings.NewReader(`{"group":"g","email":"a@example.com"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("form-encoded subscribe = %d, want 415 (a cross-site form cannot post JSON)", resp.StatusCode)
	}
}

func TestPruneKeepsPendingWork(t *testing.T) {
	w, r, _ := openTestDB(t)
	clock := newClock("2026-03-02T10:00:00Z")
	mb := &mailbox{}
	srv := startSMTP(t, mb, "", nil, false)
	s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone, Now: clock.Now})
	fanOutTo(t, s, "a@example.com")
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "8.0", Version: "8.0.1", Created: clock.Now()})
	drain(t, s) // sent
	srv.stop()
	clock.Advance(24 * time.Hour)
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "8.0", Version: "8.0.2"})
	s.ProcessEvents(context.Background()) // pending: the server is down
	n, err := s.Prune(context.Background(), clock.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 { // the sent row, its body, its event
		t.Errorf("pruned %d rows, want 3", n)
	}
	if st := outboxStates(t, s); st["pending"] != 1 || st["sent"] != 0 {
		t.Errorf("outbox after prune: %v", st)
	}
	if _, err := s.message(context.Background(), mustPending(t, s)); err != nil {
		t.Errorf("pending message lost its body: %v", err)
	}
}

func mustPending(t *testing.T, s *Service) outboxRow {
	t.Helper()
	var r outboxRow
	var created int64
	if err := s.db.w.QueryRow(`SELECT id, recipient, kind, grp, token, body_id, list_headers, message_id, created FROM notifier_outbox WHERE state = 'pending'`).
		Scan(&r.ID, &r.Recipient, &r.Kind, &r.Group, &r.Token, &r.BodyID, &r.ListHeaders, &r.MessageID, &created); err != nil {
		t.Fatal(err)
	}
	r.Created = time.UnixMilli(created)
	return r
}

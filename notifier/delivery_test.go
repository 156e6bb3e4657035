package notifier

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// fanOutTo sets up a group "g" over product "redis" with confirmed
// subscribers, without going through email (for delivery tests).
func fanOutTo(t *testing.T, s *Service, emails ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateGroup(ctx, Group{Name: "g", Products: []string{"redis"}, Events: []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	for _, e := range emails {
		_, err := s.db.w.Exec(`INSERT INTO notifier_subscriptions (group_id, email, state, nonce, created, updated)
			VALUES ((SELECT id FROM notifier_groups WHERE name = 'g'), ?, 'confirmed', ?, 0, 0)`, e, newNonce())
		if err != nil {
			t.Fatal(err)
		}
	}
}

func outboxStates(t *testing.T, s *Service) map[string]int {
	t.Helper()
	c, err := s.OutboxCount(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return map[string]int{"pending": c.Pending, "sent": c.Sent, "failed": c.Failed, "cancelled": c.Cancelled}
}

func TestSMTPDownThenBack(t *testing.T) {
	w, r, _ := openTestDB(t)
	clock := newClock("2026-03-02T10:00:00Z")
	mb := &mailbox{}
	srv := startSMTP(t, mb, "", nil, false)
	addr := srv.addr
	srv.stop() // the mail server is down
	s := newTestService(t, w, r, Config{SMTPAddr: addr, SMTPTLS: TLSNone, Now: clock.Now, RetryBase: time.Minute, RetryMax: 10 * time.Minute, BatchSize: 7})
	var emails []string
	for i := range 20 {
		emails = append(emails, fmt.Sprintf("user%02d@example.com", i))
	}
	fanOutTo(t, s, emails...)
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "7.4", Version: "7.4.3"})
	ctx := context.Background()
	if _, err := s.ProcessEvents(ctx); err != nil {
		t.Fatal(err)
	}
	// Several attempts while down: each fails and backs off further.
	for round := 1; round <= 3; round++ {
		for {
			n, err := s.SendPending(ctx)
			if err == nil && n == 0 {
				break
			}
			if err == nil {
				t.Fatalf("round %d: SendPending succeeded with the server down", round)
			}
		}
		list, _, _, err := s.ListOutbox(ctx, OutboxFilter{State: OutboxPending, Page: Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 20 {
			t.Fatalf("round %d: %d pending, want 20", round, len(list))
		}
		e := list[0]
		if e.Attempts != round || !strings.Contains(e.LastError, "connect") || e.NextAttempt == nil || !e.NextAttempt.After(clock.Now()) {
			t.Fatalf("round %d: pending entry %+v, want attempts=%d, a connect error and a later retry", round, e, round)
		}
		clock.Advance(time.Duration(round) * 3 * time.Minute)
	}
	// Back up: everything is delivered exactly once.
	srv2 := startSMTP(t, mb, addr, nil, false)
	_ = srv2
	clock.Advance(15 * time.Minute)
	drain(t, s)
	got := map[string]int{}
	for _, m := range mb.all() {
		got[m.To[0]]++
	}
	for _, e := range emails {
		if got[e] != 1 {
			t.Errorf("%s received %d messages, want 1", e, got[e])
		}
	}
	if st := outboxStates(t, s); st["sent"] != 20 || st["pending"] != 0 {
		t.Errorf("outbox %v, want 20 sent", st)
	}
}

func TestBackoffGrows(t *testing.T) {
	s := &Service{cfg: Config{RetryBase: 30 * time.Second, RetryMax: time.Hour}}
	prev := time.Duration(0)
	for a := 1; a <= 6; a++ {
		d := s.backoff(a)
		base := 30 * time.Second * time.Duration(1<<(a-1))
		if d < base*8/10 || d > base*12/10 {
			t.Errorf("backoff(%d) = %v, want %v ±20%%", a, d, base)
		}
		if d <= prev*8/10 {
			t.Errorf("backoff(%d) = %v, not growing from %v", a, d, prev)
		}
		prev = d
	}
	if d := s.backoff(30); d > time.Hour*12/10 {
		t.Errorf("backoff(30) = %v, want capped at 1h", d)
	}
}

func TestPermanentAndTemporaryRejections(t *testing.T) {
	w, r, _ := openTestDB(t)
	clock := newClock("2026-03-02T10:00:00Z")
	mb := &mailbox{onRcpt: func(to string) error {
		switch to {
		case "nobody@example.com":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		case "full@example.com":
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full, try later"}
		}
		return nil
	}}
	srv := startSMTP(t, mb, "", nil, false)
	s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone, Now: clock.Now})
	fanOutTo(t, s, "a@example.com", "nobody@example.com", "full@example.com", "b@example.com")
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "7.4", Version: "7.4.3"})
	drain(t, s)
	if n := len(mb.all()); n != 2 {
		t.Fatalf("%d messages accepted, want 2 (the rest rejected, same connection reused)", n)
	}
	failed, _, _, _ := s.ListOutbox(context.Background(), OutboxFilter{State: OutboxFailed})
	if len(failed) != 1 || failed[0].Recipient != "nobody@example.com" || failed[0].LastError != "550 5.1.1 No such user here" {
		t.Errorf("failed = %+v, want nobody@ with the server's answer", failed)
	}
	pending, _, _, _ := s.ListOutbox(context.Background(), OutboxFilter{State: OutboxPending})
	if len(pending) != 1 || pending[0].Recipient != "full@example.com" || !strings.HasPrefix(pending[0].LastError, "452 4.2.2") {
		t.Errorf("pending = %+v, want full@ rescheduled with the 452 answer", pending)
	}
	// Temporary failures give up after RetryFor.
	clock.Advance(73 * time.Hour)
	drain(t, s)
	failed, _, _, _ = s.ListOutbox(context.Background(), OutboxFilter{State: OutboxFailed})
	if len(failed) != 2 || !strings.HasPrefix(failed[0].LastError, "gave up after 72h0m0s: 452") {
		t.Errorf("after 73h: failed = %+v", failed)
	}
}

func TestTransports(t *testing.T) {
	cert, pool, _, _ := testCert(t)
	tests := []struct {
		name     string
		mode     string
		auth     string
		srvTLS   bool // server offers STARTTLS
		implicit bool
		user     string
		wantTLS  bool
		wantAuth string
		wantErr  string
	}{
		{name: "starttls+plain", mode: TLSStartTLS, srvTLS: true, user: "u", wantTLS: true, wantAuth: "PLAIN"},
		{name: "starttls+login", mode: TLSStartTLS, auth: AuthLogin, srvTLS: true, user: "u", wantTLS: true, wantAuth: "LOGIN"},
		{name: "implicit tls+plain", mode: TLSImplicit, implicit: true, user: "u", wantTLS: true, wantAuth: "PLAIN"},
		{name: "opportunistic with starttls", mode: TLSOpportunistic, srvTLS: true, wantTLS: true},
		{name: "opportunistic without starttls", mode: TLSOpportunistic, wantTLS: false},
		{name: "starttls required, not offered", mode: TLSStartTLS, wantErr: "STARTTLS"},
		{name: "plain, no auth", mode: TLSNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, r, _ := openTestDB(t)
			mb := &mailbox{user: tc.user, pass: "pw"}
			var c *tls.Certificate
			if tc.srvTLS || tc.implicit {
				c = &cert
			}
			srv := startSMTP(t, mb, "", c, tc.implicit)
			s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: tc.mode, SMTPAuth: tc.auth,
				SMTPUsername: tc.user, SMTPPassword: "pw", TLSConfig: &tls.Config{RootCAs: pool}})
			fanOutTo(t, s, "x@example.com")
			enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "8.0", Version: "8.0.1"})
			if _, err := s.ProcessEvents(context.Background()); err != nil {
				t.Fatal(err)
			}
			_, err := s.SendPending(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("SendPending error = %v, want one mentioning %s", err, tc.wantErr)
				}
				if st := outboxStates(t, s); st["pending"] != 1 {
					t.Errorf("outbox %v, want the message still pending", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("SendPending: %v", err)
			}
			msgs := mb.all()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			if msgs[0].TLS != tc.wantTLS || msgs[0].Auth != tc.wantAuth {
				t.Errorf("TLS=%v auth=%q, want TLS=%v auth=%q", msgs[0].TLS, msgs[0].Auth, tc.wantTLS, tc.wantAuth)
			}
		})
	}
}

func TestSMTPTimeout(t *testing.T) {
	// A server that accepts the connection and never speaks.
	ln := mustListen(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	w, r, _ := openTestDB(t)
	s := newTestService(t, w, r, Config{SMTPAddr: ln.Addr().String(), SMTPTLS: TLSNone, SMTPTimeout: 300 * time.Millisecond})
	fanOutTo(t, s, "x@example.com")
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "8.0", Version: "8.0.1"})
	s.ProcessEvents(context.Background())
	start := time.Now()
	_, err := s.SendPending(context.Background())
	if err == nil {
		t.Fatal("SendPending to a silent server succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SendPending took %v against a silent server; the step timeout is 300ms", d)
	}
}

func TestHeaderInjection(t *testing.T) {
	e := newEnv(t, Config{FleetBatchWindow: time.Minute})
	// Subscriber data: refused, naming the field.
	for _, email := range []string{"a@example.com\r\nBcc: evil@example.com", "a@example.com\nBcc: evil@example.com", "Evil <a@example.com>", "a@example.com, b@example.com"} {
		var fe api.Error
		body := fmt.Sprintf(`{"group":"x","email":%q}`, email)
		if code := e.do(t, "POST", "/api/v1/subscriptions", body, &fe); code != 400 || fe.Field != "email" {
			t.Errorf("subscribe %q = %d %+v, want 400 naming email", email, code, fe)
		}
	}
	var fe api.Error
	if code := e.do(t, "POST", "/api/v1/groups", `{"name":"x\r\nBcc: a@b.c","products":["p"],"events":["release"]}`, &fe); code != 400 || fe.Field != "name" {
		t.Errorf("group with CRLF = %d %+v, want 400 naming name", code, fe)
	}
	// Catalog and agent data: encoded, never a header.
	e.do(t, "POST", "/api/v1/groups", `{"name":"inj","products":["redis"],"events":["release","fleet"]}`, nil)
	e.subscribe(t, "inj", "victim@example.com")
	evil := "7.4.3\r\nBcc: evil@example.com\r\nX-Injected: yes\r\n\r\nbody"
	enqueue(t, e.svc.db.w,
		events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "7.4\nBcc: evil2@example.com", Version: evil, Link: "javascript:alert(1)"},
		events.Event{Kind: events.KindFleet, Product: "redis", Version: evil, Host: "h1\r\nBcc: evil3@example.com", HostID: "h1", To: "eol", Reason: "<script>x</script>"},
	)
	drain(t, e.svc)
	e.clock.Advance(2 * time.Minute)
	drain(t, e.svc)
	msgs := e.mb.all()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want confirmation + release + fleet", len(msgs))
	}
	for _, m := range msgs[1:] {
		if len(m.To) != 1 || m.To[0] != "victim@example.com" {
			t.Errorf("RCPT = %v, want only the subscriber", m.To)
		}
		pm := parseMail(t, m.Data)
		for _, h := range []string{"Bcc", "X-Injected"} {
			if v := pm.Header.Get(h); v != "" {
				t.Errorf("injected header %s: %q", h, v)
			}
		}
		if len(pm.Header["Subject"]) != 1 {
			t.Errorf("Subject headers: %q", pm.Header["Subject"])
		}
		subj := pm.subject(t)
		if strings.ContainsAny(subj, "\r\n") {
			t.Errorf("subject has a line break: %q", subj)
		}
		if strings.Contains(pm.HTML, "<script>") || strings.Contains(pm.HTML, `href="javascript:`) {
			t.Errorf("HTML part carries active content:\n%s", pm.HTML)
		}
		hdrEnd := strings.Index(string(m.Data), "\r\n\r\n")
		if strings.Contains(string(m.Data[:hdrEnd]), "evil") && !strings.Contains(pm.Header.Get("Subject"), "evil") {
			t.Errorf("evil text in headers outside the encoded subject:\n%s", m.Data[:hdrEnd])
		}
		if _, err := mail.ParseAddress(pm.Header.Get("To")); err != nil {
			t.Errorf("To: %v", err)
		}
	}
}

package notifier

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

func TestWebhook(t *testing.T) {
	var mu sync.Mutex
	var got []WebhookPayload
	calls := 0
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // first try fails: retried
			return
		}
		sec, _ := strconv.ParseInt(r.Header.Get(HeaderWebhookTimestamp), 10, 64)
		want := SignWebhook(secret, time.Unix(sec, 0), body)
		if !hmac.Equal([]byte(r.Header.Get(HeaderWebhookSignature)), []byte(want)) {
			t.Errorf("bad signature %q, want %q", r.Header.Get(HeaderWebhookSignature), want)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			t.Errorf("payload %s: %v", body, err)
		}
		got = append(got, p)
	}))
	defer hook.Close()
	admin := true
	// The receiver listens on loopback: an admin allows it.
	e := newEnv(t, Config{RetryBase: time.Minute, IsAdmin: func(*http.Request) bool { return admin }, WebhookAllow: []string{"127.0.0.1"}})
	var g Group
	if c := e.do(t, "POST", "/api/v1/groups", `{"name":"chat","products":["nginx"],"events":["release","eol"],"webhook":"`+hook.URL+`/hook"}`, &g); c != 201 || g.WebhookSecret == "" {
		t.Fatalf("create group with webhook = %d %+v", c, g)
	}
	secret = g.WebhookSecret
	var list struct{ Groups []GroupInfo }
	e.do(t, "GET", "/api/v1/groups", "", &list)
	if list.Groups[0].WebhookSecret != "" || list.Groups[0].Webhook == "" {
		t.Errorf("listing shows %+v; want the URL and never the secret", list.Groups[0])
	}
	admin = false
	var other struct{ Groups []GroupInfo }
	e.do(t, "GET", "/api/v1/groups", "", &other)
	if other.Groups[0].Webhook != "" {
		t.Errorf("listing for a caller who is not an admin shows the webhook URL %q", other.Groups[0].Webhook)
	}
	admin = true
	var fe api.Error
	if c := e.do(t, "POST", "/api/v1/groups", `{"name":"bad","products":["nginx"],"events":["release"],"webhook":"file:///etc/passwd"}`, &fe); c != 400 || fe.Field != "webhook" {
		t.Errorf("bad webhook URL = %d %+v", c, fe)
	}
	enqueue(t, e.svc.db.w, events.Event{Kind: events.KindRelease, Product: "nginx", Cycle: "1.27", Version: "1.27.5"})
	ctx := context.Background()
	e.svc.ProcessEvents(ctx)
	if _, err := e.svc.SendWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Minute)
	if _, err := e.svc.SendWebhooks(ctx); err != nil {
		t.Fatal(err)
	}
	e.svc.SendWebhooks(ctx) // nothing left: no repeat
	mu.Lock()
	defer mu.Unlock()
	if calls != 2 || len(got) != 1 || got[0].Event.Version != "1.27.5" || got[0].Group != "chat" {
		t.Errorf("calls=%d deliveries=%+v, want one delivery after one retry", calls, got)
	}
}

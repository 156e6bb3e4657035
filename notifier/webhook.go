package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// Webhook request headers. The signature is
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), where
// timestamp is the X-Eolwatch-Timestamp value (Unix seconds): a receiver
// recomputes it, compares in constant time and rejects old timestamps.
const (
	HeaderWebhookSignature = "X-Eolwatch-Signature"
	HeaderWebhookTimestamp = "X-Eolwatch-Timestamp"
	HeaderWebhookID        = "X-Eolwatch-Delivery"
)

// WebhookPayload is the JSON body of a webhook delivery.
type WebhookPayload struct {
	ID    string       `json:"id"`    // stable per group and event: a receiver can drop repeats
	Group string       `json:"group"` // the group whose webhook this is
	Event events.Event `json:"event"`
}

// SignWebhook returns the signature header value for body sent at ts.
func SignWebhook(secret string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// queueWebhook records one delivery of ev to g's webhook in the fan-out transaction.
func (s *Service) queueWebhook(ctx context.Context, t *storeTx, g *storedGroup, evID int64, ev *events.Event, now time.Time) error {
	payload, err := json.Marshal(WebhookPayload{ID: fmt.Sprintf("%s-%d-%d", s.msgDomain, g.ID, evID), Group: g.Name, Event: *ev})
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	return t.insertWebhook(ctx, g.ID, evID, g.Webhook, string(payload), now)
}

// SendWebhooks claims due webhook deliveries with a lease (as the SMTP
// sender does) and POSTs them. A 2xx answer is a delivery; 408, 429, 5xx
// and network errors are retried with backoff; other 4xx answers fail the
// delivery with the status recorded. It returns how many it handled.
func (s *Service) SendWebhooks(ctx context.Context) (int, error) {
	token := newLeaseToken()
	now := s.now()
	ds, err := s.db.claimWebhooks(ctx, token, now, now.Add(s.cfg.LeaseDuration), s.cfg.BatchSize)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	hold := s.holdLease(now.Add(s.cfg.LeaseDuration), func(ctx context.Context, until time.Time) (int64, error) {
		return s.db.renewWebhooks(ctx, token, until)
	})
	defer hold.end()
	for i := range ds {
		ds[i].secret = s.db.webhookSecret(ctx, ds[i].group)
	}
	client := s.hooks.client(s.cfg.SMTPTimeout)
	defer client.CloseIdleConnections()
	for i, d := range ds {
		if ctx.Err() != nil || !hold.ok() {
			// The rest stay leased and come back once the lease lapses.
			return i, ctx.Err()
		}
		status, err := s.postWebhook(ctx, client, d.url, d.secret, []byte(d.payload), fmt.Sprint(d.id))
		if err := s.recordWebhook(context.WithoutCancel(ctx), token, d, status, err); err != nil {
			return 0, fmt.Errorf("record webhook %d: %w", d.id, err)
		}
	}
	return len(ds), nil
}

// recordWebhook records how a delivery went: sent on a 2xx, failed for good
// on another 4xx (but 408 and 429), else retried later, or failed once it
// has been retried for longer than RetryFor.
func (s *Service) recordWebhook(ctx context.Context, token string, d delivery, status int, postErr error) error {
	switch {
	case postErr == nil && status/100 == 2:
		return s.db.webhookSent(ctx, token, d.id, s.now())
	case postErr == nil && status/100 == 4 && status != 408 && status != 429:
		return s.db.webhookFailed(ctx, token, d.id, fmt.Sprintf("HTTP %d", status))
	}
	msg := fmt.Sprintf("HTTP %d", status)
	if postErr != nil {
		msg = postErr.Error()
	}
	state := "pending"
	if s.now().Sub(d.created) > s.cfg.RetryFor {
		state, msg = "failed", "gave up after "+s.cfg.RetryFor.String()+": "+msg
	}
	return s.db.webhookRetry(ctx, token, d.id, state, s.now().Add(s.backoff(int(d.attempts)+1)), msg)
}

// postWebhook sends one signed delivery and returns the HTTP status.
func (s *Service) postWebhook(ctx context.Context, client *http.Client, url, secret string, body []byte, id string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := s.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "eolwatch-notifier")
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(HeaderWebhookSignature, SignWebhook(secret, ts, body))
	req.Header.Set(HeaderWebhookID, id)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

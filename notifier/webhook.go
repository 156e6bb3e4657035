package notifier

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
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
func (s *Service) queueWebhook(ctx context.Context, tx *sql.Tx, g *storedGroup, evID int64, ev *events.Event, now time.Time) error {
	payload, err := json.Marshal(WebhookPayload{ID: fmt.Sprintf("%s-%d-%d", s.msgDomain, g.ID, evID), Group: g.Name, Event: *ev})
	if err != nil {
		return fmt.Errorf("webhook payload: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notifier_webhooks (group_id, event_id, url, payload, next_attempt, created)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, event_id) DO NOTHING`, g.ID, evID, g.Webhook, string(payload), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("queue webhook: %w", err)
	}
	return nil
}

// SendWebhooks claims due webhook deliveries with a lease (as the SMTP
// sender does) and POSTs them. A 2xx answer is a delivery; 408, 429, 5xx
// and network errors are retried with backoff; other 4xx answers fail the
// delivery with the status recorded. It returns how many it handled.
func (s *Service) SendWebhooks(ctx context.Context) (int, error) {
	b := make([]byte, 12)
	rand.Read(b)
	token := hex.EncodeToString(b)
	now := s.now()
	nowMs := now.UnixMilli()
	rows, err := s.w.QueryContext(ctx, `UPDATE notifier_webhooks SET lease_token = ?, lease_until = ?
		WHERE id IN (SELECT id FROM notifier_webhooks WHERE state = 'pending' AND next_attempt <= ? AND lease_until < ? ORDER BY next_attempt, id LIMIT ?)
		  AND state = 'pending' AND lease_until < ?
		RETURNING id, group_id, url, payload, attempts, created`, token, now.Add(s.cfg.LeaseDuration).UnixMilli(), nowMs, nowMs, s.cfg.BatchSize, nowMs)
	if err != nil {
		return 0, fmt.Errorf("claim webhooks: %w", err)
	}
	type delivery struct {
		id, group, attempts int64
		url, payload        string
		secret              string
		created             int64
	}
	var ds []delivery
	for rows.Next() {
		var d delivery
		if err := rows.Scan(&d.id, &d.group, &d.url, &d.payload, &d.attempts, &d.created); err != nil {
			rows.Close()
			return 0, fmt.Errorf("claim webhooks: %w", err)
		}
		ds = append(ds, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("claim webhooks: %w", err)
	}
	for i := range ds {
		// A deleted group leaves an empty secret; such deliveries were cancelled with it.
		s.r.QueryRowContext(ctx, `SELECT webhook_secret FROM notifier_groups WHERE id = ?`, ds[i].group).Scan(&ds[i].secret)
	}
	client := &http.Client{Timeout: s.cfg.SMTPTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, d := range ds {
		status, err := s.postWebhook(ctx, client, d.url, d.secret, []byte(d.payload), fmt.Sprint(d.id))
		switch {
		case err == nil && status/100 == 2:
			_, err = s.w.ExecContext(context.WithoutCancel(ctx), `UPDATE notifier_webhooks SET state = 'sent', sent_at = ?, attempts = attempts + 1,
				last_error = '', lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, s.now().UnixMilli(), d.id, token)
		case err == nil && status/100 == 4 && status != 408 && status != 429:
			_, err = s.w.ExecContext(context.WithoutCancel(ctx), `UPDATE notifier_webhooks SET state = 'failed', attempts = attempts + 1,
				last_error = ?, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, fmt.Sprintf("HTTP %d", status), d.id, token)
		default:
			msg := fmt.Sprintf("HTTP %d", status)
			if err != nil {
				msg = err.Error()
			}
			state := "pending"
			if s.now().Sub(time.UnixMilli(d.created)) > s.cfg.RetryFor {
				state, msg = "failed", "gave up after "+s.cfg.RetryFor.String()+": "+msg
			}
			_, err = s.w.ExecContext(context.WithoutCancel(ctx), `UPDATE notifier_webhooks SET state = ?, attempts = attempts + 1, next_attempt = ?,
				last_error = ?, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`,
				state, s.now().Add(s.backoff(int(d.attempts)+1)).UnixMilli(), msg, d.id, token)
		}
		if err != nil {
			return 0, fmt.Errorf("record webhook %d: %w", d.id, err)
		}
	}
	return len(ds), nil
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

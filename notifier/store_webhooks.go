package notifier

import (
	"context"
	"fmt"
	"time"
)

// delivery is a claimed webhook delivery.
type delivery struct {
	id, group, attempts int64
	url, payload        string
	secret              string
	created             time.Time
}

// insertWebhook records one delivery of event evID to a group's webhook
// (once: a repeat is ignored).
func (t *storeTx) insertWebhook(ctx context.Context, groupID, evID int64, url, payload string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO notifier_webhooks (group_id, event_id, url, payload, next_attempt, created)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_id, event_id) DO NOTHING`, groupID, evID, url, payload, now.UnixMilli(), now.UnixMilli()); err != nil {
		return fmt.Errorf("queue webhook: %w", err)
	}
	return nil
}

// claimWebhooks leases up to limit deliveries due at now under token until
// until (as claimOutbox does for mail, in one batch of at most limit).
func (s *store) claimWebhooks(ctx context.Context, token string, now, until time.Time, limit int) ([]delivery, error) {
	nowMs := now.UnixMilli()
	rows, err := s.w.QueryContext(ctx, `WITH due AS MATERIALIZED (SELECT id FROM notifier_webhooks
		    WHERE state = 'pending' AND next_attempt <= ? AND lease_until < ? ORDER BY next_attempt, id LIMIT ?`+s.skipLocked()+`)
		UPDATE notifier_webhooks SET lease_token = ?, lease_until = ?
		WHERE id IN (SELECT id FROM due) AND state = 'pending' AND lease_until < ?
		RETURNING id, group_id, url, payload, attempts, created`, nowMs, nowMs, limit, token, until.UnixMilli(), nowMs)
	if err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	defer rows.Close()
	var ds []delivery
	for rows.Next() {
		var d delivery
		var created int64
		if err := rows.Scan(&d.id, &d.group, &d.url, &d.payload, &d.attempts, &created); err != nil {
			return nil, fmt.Errorf("claim webhooks: %w", err)
		}
		d.created = fromMillis(created)
		ds = append(ds, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim webhooks: %w", err)
	}
	return ds, nil
}

// webhookSent records a delivery the receiver accepted.
func (s *store) webhookSent(ctx context.Context, token string, id int64, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_webhooks SET state = 'sent', sent_at = ?, attempts = attempts + 1,
		last_error = '', lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, now.UnixMilli(), id, token)
	return err
}

// webhookFailed records a delivery refused for good.
func (s *store) webhookFailed(ctx context.Context, token string, id int64, lastError string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_webhooks SET state = 'failed', attempts = attempts + 1,
		last_error = ?, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, lastError, id, token)
	return err
}

// webhookRetry counts a failed attempt and sets the delivery's state
// (pending, or failed once retried too long) and next attempt.
func (s *store) webhookRetry(ctx context.Context, token string, id int64, state string, next time.Time, lastError string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_webhooks SET state = ?, attempts = attempts + 1, next_attempt = ?,
		last_error = ?, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, state, next.UnixMilli(), lastError, id, token)
	return err
}

// renewWebhooks moves the lease of the deliveries claimed under token to
// until (lease.renewNow), and returns how many it still holds.
func (s *store) renewWebhooks(ctx context.Context, token string, until time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE notifier_webhooks SET lease_until = ? WHERE lease_token = ? AND state = 'pending'`, until.UnixMilli(), token)
	if err != nil {
		return 0, fmt.Errorf("renew webhook lease: %w", err)
	}
	return res.RowsAffected()
}

package notifier

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Digest item buckets.
const (
	bucketDigest = "digest" // a daily or weekly digest
	bucketFleet  = "fleet"  // an immediate subscriber's batch of fleet changes
)

// digestItem is one event waiting in a subscription's digest or fleet batch.
type digestItem struct {
	SubID  int64
	Bucket string
	Due    time.Time
}

// fleetBatchDue returns when a subscription's pending fleet batch goes
// out; false when it has none.
func (t *storeTx) fleetBatchDue(ctx context.Context, subID int64) (time.Time, bool, error) {
	var due sql.NullInt64
	if err := t.tx.QueryRowContext(ctx, `SELECT MIN(due_at) FROM notifier_digest_items WHERE subscription_id = ? AND bucket = 'fleet'`, subID).Scan(&due); err != nil {
		return time.Time{}, false, fmt.Errorf("read fleet batch: %w", err)
	}
	return time.UnixMilli(due.Int64), due.Valid, nil
}

// insertDigestItem queues event evID for a subscription's digest or batch
// (once: a repeat is ignored).
func (t *storeTx) insertDigestItem(ctx context.Context, it digestItem, evID int64, now time.Time) error {
	if _, err := t.execPrepared(ctx, `INSERT INTO notifier_digest_items (subscription_id, event_id, bucket, due_at, created)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING`, it.SubID, evID, it.Bucket, it.Due.UnixMilli(), now.UnixMilli()); err != nil {
		return fmt.Errorf("queue digest item: %w", err)
	}
	return nil
}

// dueDigests returns up to limit subscriptions with digest items due at now.
func (t *storeTx) dueDigests(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT DISTINCT subscription_id FROM notifier_digest_items WHERE due_at <= ? ORDER BY subscription_id LIMIT ?`,
		now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("flush digests: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("flush digests: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flush digests: %w", err)
	}
	return ids, nil
}

// dueItem is a due digest item with its event.
type dueItem struct {
	id     int64
	bucket string
	event  storedEvent
}

// dueItems returns a subscription's items due at now with their events,
// oldest event first.
func (t *storeTx) dueItems(ctx context.Context, subID int64, now time.Time) ([]dueItem, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT d.id, d.bucket, e.id, e.payload FROM notifier_digest_items d
		JOIN notifier_events e ON e.id = d.event_id WHERE d.subscription_id = ? AND d.due_at <= ? ORDER BY e.id`, subID, now.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	defer rows.Close()
	var out []dueItem
	for rows.Next() {
		var it dueItem
		if err := rows.Scan(&it.id, &it.bucket, &it.event.id, &it.event.payload); err != nil {
			return nil, fmt.Errorf("flush digest %d: %w", subID, err)
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	return out, nil
}

// deleteDueItems drops a subscription's items due at now, up to item id maxID.
func (t *storeTx) deleteDueItems(ctx context.Context, subID int64, now time.Time, maxID int64) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM notifier_digest_items WHERE subscription_id = ? AND due_at <= ? AND id <= ?`,
		subID, now.UnixMilli(), maxID); err != nil {
		return fmt.Errorf("flush digest %d: %w", subID, err)
	}
	return nil
}

// rescheduleDigest moves a subscription's waiting digest items to due.
func (t *storeTx) rescheduleDigest(ctx context.Context, subID int64, due time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE notifier_digest_items SET due_at = ? WHERE subscription_id = ? AND bucket = 'digest'`,
		due.UnixMilli(), subID); err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	return nil
}

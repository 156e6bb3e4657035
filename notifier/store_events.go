package notifier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// storedEvent is an event row: its id and its JSON payload (events.Event).
type storedEvent struct {
	id      int64
	payload string
}

// cursor returns the last event id the consumer name has handled,
// creating the cursor at 0 on first use. On PostgreSQL it locks the cursor
// row for the transaction, so servers fan out in turn.
func (t *storeTx) cursor(ctx context.Context, name string, now time.Time) (int64, error) {
	var last int64
	err := t.tx.QueryRowContext(ctx, `SELECT last_id FROM notifier_cursor WHERE name = ?`+t.s.forUpdate(), name).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := t.tx.ExecContext(ctx, `INSERT INTO notifier_cursor (name, last_id, updated) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING`, name, now.UnixMilli())
		if err != nil {
			return 0, fmt.Errorf("fan-out: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return 0, errCursorMoved // another server created it just now
		}
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("fan-out: read cursor: %w", err)
	}
	return last, nil
}

// eventsAfter returns up to limit events after id last, oldest first.
func (t *storeTx) eventsAfter(ctx context.Context, last int64, limit int) ([]storedEvent, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, payload FROM notifier_events WHERE id > ? ORDER BY id LIMIT ?`, last, limit)
	if err != nil {
		return nil, fmt.Errorf("fan-out: read events: %w", err)
	}
	defer rows.Close()
	var evs []storedEvent
	for rows.Next() {
		var e storedEvent
		if err := rows.Scan(&e.id, &e.payload); err != nil {
			return nil, fmt.Errorf("fan-out: read events: %w", err)
		}
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fan-out: read events: %w", err)
	}
	return evs, nil
}

// advanceCursor moves the consumer name from event id from to id to, a
// compare-and-set: it reports false when another instance moved it first.
func (t *storeTx) advanceCursor(ctx context.Context, name string, from, to int64, now time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `UPDATE notifier_cursor SET last_id = ?, updated = ? WHERE name = ? AND last_id = ?`,
		to, now.UnixMilli(), name, from)
	if err != nil {
		return false, fmt.Errorf("fan-out: advance cursor: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

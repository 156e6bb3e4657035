package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// digestDue returns when an item queued now for a subscriber in mode goes
// out: now for immediate, the next DigestHour (UTC) for daily, the next
// DigestWeekday at DigestHour for weekly.
func (s *Service) digestDue(mode string, now time.Time) time.Time {
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), s.cfg.DigestHour, 0, 0, 0, time.UTC)
	switch mode {
	case ModeDaily:
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at
	case ModeWeekly:
		days := (int(s.cfg.DigestWeekday) - int(at.Weekday()) + 7) % 7
		at = at.AddDate(0, 0, days)
		if !at.After(now) {
			at = at.AddDate(0, 0, 7)
		}
		return at
	default:
		return now
	}
}

// FlushDigests turns digest items that are due into one message per
// subscription (a digest, or a fleet alert listing every affected host)
// and deletes the items in the same transaction. It returns how many
// messages it queued.
func (s *Service) FlushDigests(ctx context.Context) (int, error) {
	now := s.now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("flush digests: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT subscription_id FROM notifier_digest_items WHERE due_at <= ? ORDER BY subscription_id LIMIT ?`,
		now.UnixMilli(), s.cfg.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("flush digests: %w", err)
	}
	var subIDs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("flush digests: %w", err)
		}
		subIDs = append(subIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("flush digests: %w", err)
	}
	queued := 0
	for _, id := range subIDs {
		ok, err := s.flushOne(ctx, tx, id, now)
		if err != nil {
			return 0, err
		}
		if ok {
			queued++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("flush digests: %w", err)
	}
	if queued > 0 {
		s.Kick()
	}
	return queued, nil
}

// flushOne queues the due items of one subscription as one message.
func (s *Service) flushOne(ctx context.Context, tx *sql.Tx, subID int64, now time.Time) (bool, error) {
	sub, err := getSubscription(ctx, tx, subID)
	if err != nil {
		return false, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.bucket, e.id, e.payload FROM notifier_digest_items d
		JOIN notifier_events e ON e.id = d.event_id WHERE d.subscription_id = ? AND d.due_at <= ? ORDER BY e.id`, subID, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	var maxItem int64
	digest := false
	d := s.baseData(sub)
	for rows.Next() {
		var itemID, evID int64
		var bucket, payload string
		if err := rows.Scan(&itemID, &bucket, &evID, &payload); err != nil {
			rows.Close()
			return false, fmt.Errorf("flush digest %d: %w", subID, err)
		}
		maxItem = max(maxItem, itemID)
		if bucket == "digest" {
			digest = true
		}
		var ev events.Event
		if err := json.Unmarshal([]byte(payload), &ev); err != nil {
			s.log.Error("skipping unreadable event in digest", "event", evID, "err", err)
			continue
		}
		v := s.view(evID, &ev)
		switch ev.Kind {
		case events.KindRelease:
			d.Releases = append(d.Releases, v)
		case events.KindEOL:
			d.EOLs = append(d.EOLs, v)
		case events.KindFleet:
			d.Fleet = append(d.Fleet, v)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM notifier_digest_items WHERE subscription_id = ? AND due_at <= ? AND id <= ?`, subID, now.UnixMilli(), maxItem); err != nil {
		return false, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	d.Count = len(d.Releases) + len(d.EOLs) + len(d.Fleet)
	if d.Count == 0 || sub.State != StateConfirmed {
		return false, nil
	}
	kind := events.KindFleet
	if digest || len(d.Releases)+len(d.EOLs) > 0 {
		kind = kindDigest
		d.Period = "immediate"
		switch sub.Prefs.Mode {
		case ModeDaily:
			d.Period = "daily"
		case ModeWeekly:
			d.Period = "weekly"
		}
	}
	parts, err := renderParts(kind, d)
	if err != nil {
		return false, err
	}
	q := queued{Key: fmt.Sprintf("digest:%d:%d", subID, maxItem), SubID: subID, Kind: kind, To: sub.Email, Group: sub.Group,
		Token: s.manageToken(sub), ListHeaders: true}
	if err := s.queueOne(ctx, tx, q, parts, now); err != nil {
		return false, err
	}
	return true, nil
}

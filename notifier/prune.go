package notifier

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes history older than before: finished outbox rows (sent,
// failed, cancelled) and webhook deliveries, message bodies no row uses,
// and events already fanned out that no digest still waits for. Pending
// work is never touched. It returns how many rows it deleted.
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	defer tx.Rollback()
	cut := before.UnixMilli()
	var total int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM notifier_outbox WHERE state IN ('sent', 'failed', 'cancelled') AND created < ?`, []any{cut}},
		{`DELETE FROM notifier_webhooks WHERE state IN ('sent', 'failed', 'cancelled') AND created < ?`, []any{cut}},
		{`DELETE FROM notifier_bodies WHERE created < ? AND NOT EXISTS (SELECT 1 FROM notifier_outbox o WHERE o.body_id = notifier_bodies.id)`, []any{cut}},
		{`DELETE FROM notifier_events WHERE created < ?
			AND id <= COALESCE((SELECT last_id FROM notifier_cursor WHERE name = ?), 0)
			AND NOT EXISTS (SELECT 1 FROM notifier_digest_items d WHERE d.event_id = notifier_events.id)`, []any{cut, fanoutCursor}},
	} {
		res, err := tx.ExecContext(ctx, q.sql, q.args...)
		if err != nil {
			return 0, fmt.Errorf("prune: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("prune: %w", err)
	}
	if total > 0 {
		s.log.Info("pruned notifier history", "rows", total, "before", before.Format(time.DateOnly))
	}
	return total, nil
}

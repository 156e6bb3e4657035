package notifier

import (
	"context"
	"fmt"
	"time"
)

// prune deletes, in one transaction, what is older than before and
// finished: sent, failed and cancelled messages and webhook deliveries,
// bodies no message uses, and events the consumer cursor has passed that
// no digest item waits for. It returns how many rows it deleted.
func (s *store) prune(ctx context.Context, before time.Time, cursor string) (int64, error) {
	cut := before.UnixMilli()
	var total int64
	err := s.inTx(ctx, "prune", func(t *storeTx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM notifier_outbox WHERE state IN ('sent', 'failed', 'cancelled') AND created < ?`, []any{cut}},
			{`DELETE FROM notifier_webhooks WHERE state IN ('sent', 'failed', 'cancelled') AND created < ?`, []any{cut}},
			{`DELETE FROM notifier_bodies WHERE created < ? AND NOT EXISTS (SELECT 1 FROM notifier_outbox o WHERE o.body_id = notifier_bodies.id)`, []any{cut}},
			{`DELETE FROM notifier_events WHERE created < ?
				AND id <= COALESCE((SELECT last_id FROM notifier_cursor WHERE name = ?), 0)
				AND NOT EXISTS (SELECT 1 FROM notifier_digest_items d WHERE d.event_id = notifier_events.id)`, []any{cut, cursor}},
		} {
			res, err := t.tx.ExecContext(ctx, q.sql, q.args...)
			if err != nil {
				return fmt.Errorf("prune: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	return total, err
}

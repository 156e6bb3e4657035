package notifier

import (
	"context"
	"time"
)

// Prune deletes history older than before: finished outbox rows (sent,
// failed, cancelled) and webhook deliveries, message bodies no row uses,
// and events already fanned out that no digest still waits for. Pending
// work is never touched. It returns how many rows it deleted.
func (s *Service) Prune(ctx context.Context, before time.Time) (int64, error) {
	total, err := s.db.prune(ctx, before, fanoutCursor)
	if err != nil {
		return 0, err
	}
	if total > 0 {
		s.log.Info("pruned notifier history", "rows", total, "before", before.Format(time.DateOnly))
	}
	return total, nil
}

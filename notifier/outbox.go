package notifier

import (
	"context"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// OutboxEntry is one message in the outbox, for admins.
type OutboxEntry struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Recipient   string     `json:"recipient"`
	Subject     string     `json:"subject"`
	MessageID   string     `json:"message_id"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"` // the SMTP server's answer or the network error
	Created     time.Time  `json:"created"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"` // pending messages
	SentAt      *time.Time `json:"sent_at,omitempty"`
}

// OutboxCounts counts outbox messages by state.
type OutboxCounts struct {
	Pending   int `json:"pending"`
	Sent      int `json:"sent"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
}

// OutboxFilter selects outbox messages for ListOutbox.
type OutboxFilter struct {
	State string `json:"state,omitempty"` // pending | sent | failed | cancelled; empty: all
	Page
}

// OutboxCount returns the number of messages in each state.
func (s *Service) OutboxCount(ctx context.Context) (OutboxCounts, error) {
	return s.db.outboxCounts(ctx)
}

// ListOutbox returns messages newest first, the counts by state and the
// number matching the filter.
func (s *Service) ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxEntry, OutboxCounts, int, error) {
	counts, err := s.db.outboxCounts(ctx)
	if err != nil {
		return nil, counts, 0, err
	}
	switch f.State {
	case "", OutboxPending, OutboxSent, OutboxFailed, OutboxCancelled:
	default:
		return nil, counts, 0, fault.InvalidField("state", fmt.Sprintf("%q is not one of pending, sent, failed, cancelled", f.State))
	}
	out, total, err := s.db.listOutbox(ctx, f.State, f.Page.norm())
	return out, counts, total, err
}

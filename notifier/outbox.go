package notifier

import (
	"context"
	"database/sql"
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
	var c OutboxCounts
	rows, err := s.r.QueryContext(ctx, `SELECT state, COUNT(*) FROM notifier_outbox GROUP BY state`)
	if err != nil {
		return c, fmt.Errorf("count outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return c, fmt.Errorf("count outbox: %w", err)
		}
		switch st {
		case OutboxPending:
			c.Pending = n
		case OutboxSent:
			c.Sent = n
		case OutboxFailed:
			c.Failed = n
		case OutboxCancelled:
			c.Cancelled = n
		}
	}
	return c, rows.Err()
}

// ListOutbox returns messages newest first, the counts by state and the
// number matching the filter.
func (s *Service) ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxEntry, OutboxCounts, int, error) {
	p := f.Page.norm()
	counts, err := s.OutboxCount(ctx)
	if err != nil {
		return nil, counts, 0, err
	}
	cond, args := "1 = 1", []any{}
	switch f.State {
	case "":
	case OutboxPending, OutboxSent, OutboxFailed, OutboxCancelled:
		cond, args = "o.state = ?", []any{f.State}
	default:
		return nil, counts, 0, fault.InvalidField("state", fmt.Sprintf("%q is not one of pending, sent, failed, cancelled", f.State))
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_outbox o WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, counts, 0, fmt.Errorf("list outbox: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, o.kind, o.recipient, b.subject, o.message_id, o.state, o.attempts, o.last_error, o.created, o.next_attempt, o.sent_at
		FROM notifier_outbox o JOIN notifier_bodies b ON b.id = o.body_id WHERE `+cond+` ORDER BY o.id DESC LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, counts, 0, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxEntry{}
	for rows.Next() {
		var e OutboxEntry
		var created, next int64
		var sent sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Kind, &e.Recipient, &e.Subject, &e.MessageID, &e.State, &e.Attempts, &e.LastError, &created, &next, &sent); err != nil {
			return nil, counts, 0, fmt.Errorf("list outbox: %w", err)
		}
		e.Created = time.UnixMilli(created).UTC()
		if e.State == OutboxPending {
			t := time.UnixMilli(next).UTC()
			e.NextAttempt = &t
		}
		e.SentAt = nullTime(sent)
		out = append(out, e)
	}
	return out, counts, total, rows.Err()
}

package notifier

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// queued is one outbox row to write.
type queued struct {
	Key         string // dedupe key: a second insert with the same key is ignored
	SubID       int64  // 0 for none
	Kind        string
	To          string
	Group       string
	Token       string // the subscriber's management token, "" for none
	BodyID      int64
	ListHeaders bool
	MessageID   string
}

// outboxRow is a claimed message.
type outboxRow struct {
	ID          int64
	Recipient   string
	Kind        string
	Group       string
	Token       string
	BodyID      int64
	ListHeaders bool
	MessageID   string
	Attempts    int
	Created     time.Time
}

// insertBody stores rendered parts shared by the outbox rows of one event
// and group (with placeholders), or by one message, and returns its id.
func (t *storeTx) insertBody(ctx context.Context, kind string, p msgParts, now time.Time) (int64, error) {
	var id int64
	if err := t.tx.QueryRowContext(ctx, `INSERT INTO notifier_bodies (kind, subject, text_body, html_body, created) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		kind, p.Subject, p.Text, p.HTML, now.UnixMilli()).Scan(&id); err != nil {
		return 0, fmt.Errorf("store message body: %w", err)
	}
	return id, nil
}

// insertOutbox adds one message to the outbox unless a row with the same
// dedupe key exists (so a re-run of the same fan-out cannot queue twice).
func (t *storeTx) insertOutbox(ctx context.Context, q queued, now time.Time) error {
	_, err := t.insertOutboxOnce(ctx, q, now)
	return err
}

// insertOutboxOnce is insertOutbox, reporting whether the row was added
// (false: a message with the same dedupe key was queued before).
func (t *storeTx) insertOutboxOnce(ctx context.Context, q queued, now time.Time) (bool, error) {
	var sub any
	if q.SubID > 0 {
		sub = q.SubID
	}
	res, err := t.execPrepared(ctx, `INSERT INTO notifier_outbox (dedupe_key, subscription_id, kind, recipient, recipient_key, grp, token, body_id, list_headers, message_id, next_attempt, created)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
		q.Key, sub, q.Kind, q.To, addressKey(q.To), q.Group, q.Token, q.BodyID, q.ListHeaders, q.MessageID, now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("queue message: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// outboxChunk is the number of messages one PostgreSQL INSERT carries.
const outboxChunk = 2000

// insertOutboxMany is insertOutbox for many messages, kept in their order.
// On PostgreSQL, where every statement is a round trip, it writes them as
// arrays, outboxChunk rows a statement (a release to 10,000 subscribers is
// five statements, not 10,000); on SQLite, one prepared INSERT a row.
func (t *storeTx) insertOutboxMany(ctx context.Context, qs []queued, now time.Time) error {
	if t.s.d != sqldb.Postgres {
		for _, q := range qs {
			if err := t.insertOutbox(ctx, q, now); err != nil {
				return err
			}
		}
		return nil
	}
	for start := 0; start < len(qs); start += outboxChunk {
		part := qs[start:min(start+outboxChunk, len(qs))]
		n := len(part)
		keys, kinds, tos, toKeys, groups, tokens, msgIDs := make([]string, n), make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		subs, bodies, lists := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, q := range part {
			keys[i], kinds[i], tos[i], toKeys[i], groups[i], tokens[i], msgIDs[i] = q.Key, q.Kind, q.To, addressKey(q.To), q.Group, q.Token, q.MessageID
			subs[i], bodies[i] = q.SubID, q.BodyID
			if q.ListHeaders {
				lists[i] = 1
			}
		}
		if _, err := t.tx.ExecContext(ctx, `INSERT INTO notifier_outbox (dedupe_key, subscription_id, kind, recipient, recipient_key, grp, token,
				body_id, list_headers, message_id, next_attempt, created)
			SELECT k, NULLIF(s, 0), kd, r, rk, g, tk, b, l, m, ?, ?
			FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::int[], ?::text[])
				WITH ORDINALITY AS u(k, s, kd, r, rk, g, tk, b, l, m, n)
			ORDER BY n
			ON CONFLICT (dedupe_key) DO NOTHING`,
			now.UnixMilli(), now.UnixMilli(), keys, subs, kinds, tos, toKeys, groups, tokens, bodies, lists, msgIDs); err != nil {
			return fmt.Errorf("queue messages %d-%d: %w", start, start+n-1, err)
		}
	}
	return nil
}

// outboxKeys reports which of the dedupe keys are in the outbox already.
func (t *storeTx) outboxKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	have := map[string]bool{}
	if len(keys) == 0 {
		return have, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT dedupe_key FROM notifier_outbox WHERE dedupe_key IN (`+placeholders(len(keys))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("outbox keys: %w", err)
		}
		have[k] = true
	}
	return have, rows.Err()
}

// noticesSince counts the confirmation and reminder emails queued for addr
// (whatever the case of its letters: addressKey) after since.
func (t *storeTx) noticesSince(ctx context.Context, addr string, since time.Time) (int, error) {
	key := addressKey(addr)
	// PostgreSQL: requests for one address through several servers take
	// turns, so a count checked against a limit cannot be raced past.
	if err := sqldb.LockXact(ctx, t.tx, t.s.d, "subscribe:"+key); err != nil {
		return 0, fmt.Errorf("subscribe: %w", err)
	}
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_outbox WHERE recipient_key = ? AND kind IN ('confirm', 'reminder') AND created > ?`,
		key, since.UnixMilli()).Scan(&n); err != nil {
		return 0, fmt.Errorf("subscribe: %w", err)
	}
	return n, nil
}

// outboxCounts returns the number of messages in each state.
func (s *store) outboxCounts(ctx context.Context) (OutboxCounts, error) {
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

// listOutbox returns a page of messages in state ("" for all), newest
// first, and the number matching.
func (s *store) listOutbox(ctx context.Context, state string, p Page) ([]OutboxEntry, int, error) {
	cond, args := "1 = 1", []any{}
	if state != "" {
		cond, args = "o.state = ?", []any{state}
	}
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_outbox o WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list outbox: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT o.id, o.kind, o.recipient, b.subject, o.message_id, o.state, o.attempts, o.last_error, o.created, o.next_attempt, o.sent_at
		FROM notifier_outbox o JOIN notifier_bodies b ON b.id = o.body_id WHERE `+cond+` ORDER BY o.id DESC LIMIT ? OFFSET ?`, append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxEntry{}
	for rows.Next() {
		var e OutboxEntry
		var created, next int64
		var sent sql.NullInt64
		if err := rows.Scan(&e.ID, &e.Kind, &e.Recipient, &e.Subject, &e.MessageID, &e.State, &e.Attempts, &e.LastError, &created, &next, &sent); err != nil {
			return nil, 0, fmt.Errorf("list outbox: %w", err)
		}
		e.Created = fromMillis(created)
		if e.State == OutboxPending {
			t := fromMillis(next)
			e.NextAttempt = &t
		}
		e.SentAt = nullTime(sent)
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// claimOutbox leases up to limit messages due at now to owner under token
// until until, and returns them by id. The UPDATE re-checks state and lease
// in its own WHERE, so two instances can never hold the same row; on
// PostgreSQL the inner SELECT adds FOR UPDATE SKIP LOCKED, so servers
// claiming at the same moment take different rows instead of queueing
// behind each other. The inner SELECT is a MATERIALIZED CTE, run once: as
// a plain IN (SELECT ... LIMIT n) subquery PostgreSQL may run it again
// for every row it updates, each run skipping the rows the statement has
// just leased, and so lease every due row, not n. RETURNING (SQLite 3.35+, PostgreSQL) hands back
// exactly the rows this claim took, and the token guards every later
// update of them. A server that dies keeps its rows until their lease
// passes; then any server claims them again.
func (s *store) claimOutbox(ctx context.Context, owner, token string, now, until time.Time, limit int) ([]outboxRow, error) {
	nowMs := now.UnixMilli()
	q, err := s.w.QueryContext(ctx, `WITH due AS MATERIALIZED (SELECT id FROM notifier_outbox
		    WHERE state = 'pending' AND next_attempt <= ? AND lease_until < ? ORDER BY next_attempt, id LIMIT ?`+s.skipLocked()+`)
		UPDATE notifier_outbox SET lease_owner = ?, lease_token = ?, lease_until = ?
		WHERE id IN (SELECT id FROM due) AND state = 'pending' AND lease_until < ?
		RETURNING id, recipient, kind, grp, token, body_id, list_headers, message_id, attempts, created`,
		nowMs, nowMs, limit, owner, token, until.UnixMilli(), nowMs)
	if err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	defer q.Close()
	var rows []outboxRow
	for q.Next() {
		var r outboxRow
		var created int64
		if err := q.Scan(&r.ID, &r.Recipient, &r.Kind, &r.Group, &r.Token, &r.BodyID, &r.ListHeaders, &r.MessageID, &r.Attempts, &created); err != nil {
			return nil, fmt.Errorf("claim outbox: %w", err)
		}
		r.Created = fromMillis(created)
		rows = append(rows, r)
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("claim outbox: %w", err)
	}
	slices.SortFunc(rows, func(a, b outboxRow) int { return cmp.Compare(a.ID, b.ID) })
	return rows, nil
}

// renewOutbox moves the lease of the rows claimed under token to until
// (lease.renewNow), and returns how many it still holds.
func (s *store) renewOutbox(ctx context.Context, token string, until time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `UPDATE notifier_outbox SET lease_until = ? WHERE lease_token = ? AND state = 'pending'`, until.UnixMilli(), token)
	if err != nil {
		return 0, fmt.Errorf("renew outbox lease: %w", err)
	}
	return res.RowsAffected()
}

// body reads a message's stored parts.
func (s *store) body(ctx context.Context, id int64) (msgParts, error) {
	var p msgParts
	if err := s.r.QueryRowContext(ctx, `SELECT subject, text_body, html_body FROM notifier_bodies WHERE id = ?`, id).Scan(&p.Subject, &p.Text, &p.HTML); err != nil {
		return p, fmt.Errorf("read message body %d: %w", id, err)
	}
	return p, nil
}

// markSentSQL records one message as sent, guarded by its lease token.
const markSentSQL = `UPDATE notifier_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,
	last_error = '', lease_owner = NULL, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`

// markSent records accepted messages as sent at now in one transaction
// (on PostgreSQL one statement), each guarded by the claim's token; it
// returns the rows whose lease was lost meanwhile (not marked).
func (s *store) markSent(ctx context.Context, token string, rows []outboxRow, now time.Time) ([]outboxRow, error) {
	var lost []outboxRow
	if len(rows) == 1 { // one statement is its own transaction: the cheapest commit
		res, err := s.w.ExecContext(ctx, markSentSQL, now.UnixMilli(), rows[0].ID, token)
		if err != nil {
			return nil, fmt.Errorf("mark message %d sent: %w", rows[0].ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			lost = rows
		}
		return lost, nil
	}
	if s.d == sqldb.Postgres { // one statement, not one round trip a message
		ids := make([]int64, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		q, err := s.w.QueryContext(ctx, `UPDATE notifier_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,
			last_error = '', lease_owner = NULL, lease_token = NULL, lease_until = 0 WHERE id = ANY(?::bigint[]) AND lease_token = ?
			RETURNING id`, now.UnixMilli(), ids, token)
		if err != nil {
			return nil, fmt.Errorf("mark %d messages sent: %w", len(rows), err)
		}
		defer q.Close()
		marked := make(map[int64]bool, len(rows))
		for q.Next() {
			var id int64
			if err := q.Scan(&id); err != nil {
				return nil, fmt.Errorf("mark %d messages sent: %w", len(rows), err)
			}
			marked[id] = true
		}
		if err := q.Err(); err != nil {
			return nil, fmt.Errorf("mark %d messages sent: %w", len(rows), err)
		}
		for _, r := range rows {
			if !marked[r.ID] {
				lost = append(lost, r)
			}
		}
		return lost, nil
	}
	err := s.inTx(ctx, "mark sent", func(t *storeTx) error {
		for _, r := range rows {
			res, err := t.execPrepared(ctx, markSentSQL, now.UnixMilli(), r.ID, token)
			if err != nil {
				return fmt.Errorf("mark message %d sent: %w", r.ID, err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				lost = append(lost, r)
			}
		}
		return nil
	})
	return lost, err
}

// markFailed records a message as failed for good with the server's answer.
func (s *store) markFailed(ctx context.Context, token string, id int64, answer string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_outbox SET state = 'failed', attempts = attempts + 1, last_error = ?,
		lease_owner = NULL, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, answer, id, token)
	return err
}

// reschedule counts a failed attempt and sets the next one.
func (s *store) reschedule(ctx context.Context, token string, id int64, next time.Time, lastError string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_outbox SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
		lease_owner = NULL, lease_token = NULL, lease_until = 0 WHERE id = ? AND lease_token = ?`, next.UnixMilli(), lastError, id, token)
	return err
}

// release gives a claimed, untried message back without counting an attempt.
func (s *store) release(ctx context.Context, token string, id int64) error {
	_, err := s.w.ExecContext(ctx, `UPDATE notifier_outbox SET lease_owner = NULL, lease_token = NULL, lease_until = 0
		WHERE id = ? AND lease_token = ?`, id, token)
	return err
}

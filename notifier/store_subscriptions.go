package notifier

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// subscriptionKey is what Subscribe needs to know of an existing
// subscription of an address to a group.
type subscriptionKey struct {
	ID    int64
	State string
	Nonce string
}

// subscriptionOf returns the subscription of addr to a group; false when
// there is none.
func (t *storeTx) subscriptionOf(ctx context.Context, groupID int64, addr string) (subscriptionKey, bool, error) {
	var k subscriptionKey
	err := t.tx.QueryRowContext(ctx, `SELECT id, state, nonce FROM notifier_subscriptions WHERE group_id = ? AND email = ?`, groupID, addr).
		Scan(&k.ID, &k.State, &k.Nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return k, false, nil
	}
	if err != nil {
		return k, false, fmt.Errorf("subscribe: %w", err)
	}
	return k, true, nil
}

// insertSubscription records a pending subscription with preferences p
// and returns its id.
func (t *storeTx) insertSubscription(ctx context.Context, groupID int64, addr, nonce string, p Preferences, now time.Time) (int64, error) {
	var id int64
	if err := t.tx.QueryRowContext(ctx, `INSERT INTO notifier_subscriptions (group_id, email, state, nonce, mode, levels, created, updated)
		VALUES (?, ?, 'pending', ?, ?, ?, ?, ?) RETURNING id`, groupID, addr, nonce, p.Mode, strings.Join(p.Levels, ","),
		now.UnixMilli(), now.UnixMilli()).Scan(&id); err != nil {
		return 0, fmt.Errorf("subscribe: %w", err)
	}
	return id, nil
}

// reopenSubscription makes an unsubscribed subscription pending again,
// with a new nonce (old links stay dead).
func (t *storeTx) reopenSubscription(ctx context.Context, id int64, nonce string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'pending', nonce = ?, updated = ?, unsubscribed_at = NULL WHERE id = ?`,
		nonce, now.UnixMilli(), id); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	return nil
}

// subscription reads one subscription by id (ErrNotFound when there is none).
func (s *store) subscription(ctx context.Context, id int64) (*Subscription, error) {
	return readSubscription(ctx, s.r, id)
}

// subscription reads one subscription by id inside the transaction.
func (t *storeTx) subscription(ctx context.Context, id int64) (*Subscription, error) {
	return readSubscription(ctx, t.tx, id)
}

func readSubscription(ctx context.Context, q querier, id int64) (*Subscription, error) {
	var sub Subscription
	var levels string
	var created int64
	var confirmed, unsub sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT s.id, s.group_id, g.name, s.email, s.state, s.nonce, s.mode, s.levels, s.prereleases, s.fleet_only,
		s.created, s.confirmed_at, s.unsubscribed_at
		FROM notifier_subscriptions s JOIN notifier_groups g ON g.id = s.group_id WHERE s.id = ?`, id).
		Scan(&sub.ID, &sub.groupID, &sub.Group, &sub.Email, &sub.State, &sub.nonce, &sub.Prefs.Mode, &levels,
			&sub.Prefs.Prereleases, &sub.Prefs.FleetOnly, &created, &confirmed, &unsub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	sub.Prefs.Levels = splitList(levels)
	sub.Created = fromMillis(created)
	sub.ConfirmedAt = nullTime(confirmed)
	sub.Unsubscribed = nullTime(unsub)
	return &sub, nil
}

// confirmSubscription marks a pending subscription confirmed.
func (t *storeTx) confirmSubscription(ctx context.Context, id int64, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'confirmed', confirmed_at = ?, updated = ? WHERE id = ? AND state = 'pending'`,
		now.UnixMilli(), now.UnixMilli(), id); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	return nil
}

// unsubscribe ends a subscription: its unsent messages are cancelled and
// its digest items dropped.
func (t *storeTx) unsubscribe(ctx context.Context, id int64, now time.Time) error {
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE notifier_subscriptions SET state = 'unsubscribed', unsubscribed_at = ?, updated = ? WHERE id = ?`, []any{now.UnixMilli(), now.UnixMilli(), id}},
		{`UPDATE notifier_outbox SET state = 'cancelled', last_error = 'unsubscribed', lease_owner = NULL, lease_token = NULL
			WHERE subscription_id = ? AND state = 'pending'`, []any{id}},
		{`DELETE FROM notifier_digest_items WHERE subscription_id = ?`, []any{id}},
	} {
		if _, err := t.tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
	}
	return nil
}

// setPreferences stores a subscription's preferences.
func (t *storeTx) setPreferences(ctx context.Context, id int64, p Preferences, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET mode = ?, levels = ?, prereleases = ?, fleet_only = ?, updated = ? WHERE id = ?`,
		p.Mode, strings.Join(p.Levels, ","), p.Prereleases, p.FleetOnly, now.UnixMilli(), id); err != nil {
		return fmt.Errorf("preferences: %w", err)
	}
	return nil
}

// listSubscriptions returns a page of subscriptions newest first, in
// group (a name) and state when not empty, and the number matching.
func (s *store) listSubscriptions(ctx context.Context, group, state string, p Page) ([]Subscription, int, error) {
	where := []string{"1 = 1"}
	var args []any
	if group != "" {
		where = append(where, "g.name = ?")
		args = append(args, group)
	}
	if state != "" {
		where = append(where, "s.state = ?")
		args = append(args, state)
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_subscriptions s JOIN notifier_groups g ON g.id = s.group_id WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list subscriptions: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT s.id, g.name, s.email, s.state, s.mode, s.levels, s.prereleases, s.fleet_only, s.created, s.confirmed_at, s.unsubscribed_at
		FROM notifier_subscriptions s JOIN notifier_groups g ON g.id = s.group_id WHERE `+cond+` ORDER BY s.id DESC LIMIT ? OFFSET ?`,
		append(args, p.Limit, p.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	for rows.Next() {
		var sub Subscription
		var levels string
		var created int64
		var confirmed, unsub sql.NullInt64
		if err := rows.Scan(&sub.ID, &sub.Group, &sub.Email, &sub.State, &sub.Prefs.Mode, &levels, &sub.Prefs.Prereleases, &sub.Prefs.FleetOnly,
			&created, &confirmed, &unsub); err != nil {
			return nil, 0, fmt.Errorf("list subscriptions: %w", err)
		}
		sub.Prefs.Levels = splitList(levels)
		sub.Created = fromMillis(created)
		sub.ConfirmedAt, sub.Unsubscribed = nullTime(confirmed), nullTime(unsub)
		out = append(out, sub)
	}
	return out, total, rows.Err()
}

// confirmedSubscriptions returns the confirmed subscriptions of the groups
// (by id), by subscription id; names gives each group's name.
func (t *storeTx) confirmedSubscriptions(ctx context.Context, names map[int64]string) ([]Subscription, error) {
	ids := make([]any, 0, len(names))
	for id := range names {
		ids = append(ids, id)
	}
	rows, err := t.tx.QueryContext(ctx, `SELECT id, group_id, email, nonce, mode, levels, prereleases, fleet_only
		FROM notifier_subscriptions WHERE state = 'confirmed' AND group_id IN (`+placeholders(len(ids))+`) ORDER BY id`, ids...)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	defer rows.Close()
	var subs []Subscription
	for rows.Next() {
		sub := Subscription{State: StateConfirmed}
		var levels string
		if err := rows.Scan(&sub.ID, &sub.groupID, &sub.Email, &sub.nonce, &sub.Prefs.Mode, &levels, &sub.Prefs.Prereleases, &sub.Prefs.FleetOnly); err != nil {
			return nil, fmt.Errorf("read subscriptions: %w", err)
		}
		sub.Group = names[sub.groupID]
		sub.Prefs.Levels = splitList(levels)
		subs = append(subs, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return subs, nil
}

// splitList reads a stored comma-separated list.
func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

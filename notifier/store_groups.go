package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// storedGroup is a group row as the workers use it.
type storedGroup struct {
	ID int64
	Group
}

// insertGroup stores a new group; it reports false when the name is taken.
func (s *store) insertGroup(ctx context.Context, g Group) (bool, error) {
	products, _ := json.Marshal(g.Products)
	cycles, _ := json.Marshal(g.Cycles)
	events, _ := json.Marshal(g.Events)
	res, err := s.w.ExecContext(ctx, `INSERT INTO notifier_groups (name, products, cycles, events, webhook_url, webhook_secret, created)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, g.Name, string(products), string(cycles), string(events),
		g.Webhook, g.WebhookSecret, g.Created.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("create group: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// deleteGroup removes a group, its subscriptions and their digest items,
// and cancels the messages and webhook deliveries not yet sent to them, in
// one transaction. It reports false when there is no such group.
func (s *store) deleteGroup(ctx context.Context, name string) (bool, error) {
	found := false
	err := s.inTx(ctx, "delete group", func(t *storeTx) error {
		var id int64
		err := t.tx.QueryRowContext(ctx, `SELECT id FROM notifier_groups WHERE name = ?`, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		found = true
		for _, q := range []string{
			`UPDATE notifier_outbox SET state = 'cancelled', last_error = 'group deleted'
				WHERE state = 'pending' AND subscription_id IN (SELECT id FROM notifier_subscriptions WHERE group_id = ?)`,
			`DELETE FROM notifier_digest_items WHERE subscription_id IN (SELECT id FROM notifier_subscriptions WHERE group_id = ?)`,
			`DELETE FROM notifier_subscriptions WHERE group_id = ?`,
			`UPDATE notifier_webhooks SET state = 'cancelled', last_error = 'group deleted' WHERE group_id = ? AND state = 'pending'`,
			`DELETE FROM notifier_groups WHERE id = ?`,
		} {
			if _, err := t.tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete group: %w", err)
			}
		}
		return nil
	})
	return found, err
}

// listGroups returns a page of groups by name with their subscriber
// counts, and the total number of groups.
func (s *store) listGroups(ctx context.Context, p Page) ([]GroupInfo, int, error) {
	var total int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_groups`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT g.name, g.products, g.cycles, g.events, g.webhook_url, g.created,
		(SELECT COUNT(*) FROM notifier_subscriptions s WHERE s.group_id = g.id AND s.state = 'confirmed'),
		(SELECT COUNT(*) FROM notifier_subscriptions s WHERE s.group_id = g.id AND s.state = 'pending'),
		(SELECT COUNT(*) FROM notifier_subscriptions s WHERE s.group_id = g.id AND s.state = 'unsubscribed')
		FROM notifier_groups g ORDER BY g.name LIMIT ? OFFSET ?`, p.Limit, p.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	out := []GroupInfo{}
	for rows.Next() {
		var gi GroupInfo
		var products, cycles, events string
		var created int64
		if err := rows.Scan(&gi.Name, &products, &cycles, &events, &gi.Webhook, &created, &gi.Confirmed, &gi.Pending, &gi.Unsubscribed); err != nil {
			return nil, 0, fmt.Errorf("list groups: %w", err)
		}
		if err := decodeGroupLists(&gi.Group, products, cycles, events); err != nil {
			return nil, 0, err
		}
		gi.Created = fromMillis(created)
		out = append(out, gi)
	}
	return out, total, rows.Err()
}

// groups reads every group, oldest first.
func (t *storeTx) groups(ctx context.Context) ([]storedGroup, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT id, name, products, cycles, events, webhook_url, created FROM notifier_groups ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load groups: %w", err)
	}
	defer rows.Close()
	var out []storedGroup
	for rows.Next() {
		var g storedGroup
		var products, cycles, events string
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &products, &cycles, &events, &g.Webhook, &created); err != nil {
			return nil, fmt.Errorf("load groups: %w", err)
		}
		if err := decodeGroupLists(&g.Group, products, cycles, events); err != nil {
			return nil, err
		}
		g.Created = fromMillis(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// groupID returns the id of the group called name; false when there is none.
func (t *storeTx) groupID(ctx context.Context, name string) (int64, bool, error) {
	var id int64
	err := t.tx.QueryRowContext(ctx, `SELECT id FROM notifier_groups WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// webhookSecret returns a group's webhook signing secret ("" for a
// deleted group, whose deliveries were cancelled with it).
func (s *store) webhookSecret(ctx context.Context, groupID int64) string {
	var secret string
	s.r.QueryRowContext(ctx, `SELECT webhook_secret FROM notifier_groups WHERE id = ?`, groupID).Scan(&secret)
	return secret
}

// decodeGroupLists reads a group's stored JSON lists.
func decodeGroupLists(g *Group, products, cycles, events string) error {
	for _, f := range []struct {
		src string
		dst *[]string
	}{{products, &g.Products}, {cycles, &g.Cycles}, {events, &g.Events}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return fmt.Errorf("group %q: stored list: %w", g.Name, err)
		}
	}
	return nil
}

package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// Group is a notification group: the products (optionally specific cycles)
// and event kinds its subscribers hear about.
type Group struct {
	Name     string   `json:"name"`
	Products []string `json:"products"`
	// Cycles, when not empty, limits the group to these cycles: "3.12"
	// applies to every product of the group, "python@3.12" to one.
	Cycles []string `json:"cycles,omitempty"`
	Events []string `json:"events"`
	// Webhook, when set, receives every event the group covers as a signed
	// JSON POST (see docs/notifier.md).
	Webhook string `json:"webhook,omitempty"`
	// WebhookSecret is the HMAC-SHA256 key of the webhook's signature. It
	// is generated at creation and returned only then.
	WebhookSecret string    `json:"webhook_secret,omitempty"`
	Created       time.Time `json:"created"`
}

// GroupInfo is a group with its subscriber counts, for listings.
type GroupInfo struct {
	Group
	Confirmed    int `json:"confirmed"`
	Pending      int `json:"pending"`
	Unsubscribed int `json:"unsubscribed"`
}

// ErrNotFound is returned when a named group or subscription does not
// exist (a fault.NotFound).
var ErrNotFound error = &fault.Error{Code: fault.NotFound, Msg: "not found"}

// ErrExists is returned when creating a group whose name is taken (a
// fault.Conflict on the name).
var ErrExists error = &fault.Error{Code: fault.Conflict, Field: "name", Msg: "already exists"}

var (
	groupNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	productRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9._+-]{0,99}$`)
	cycleRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+ -]{0,63}$`)
)

// Normalize cleans g (lower-cases, sorts, removes duplicates) and reports
// the first invalid field.
func (g *Group) Normalize() error {
	g.Name = strings.ToLower(strings.TrimSpace(g.Name))
	if !groupNameRE.MatchString(g.Name) {
		return fault.InvalidField("name", fmt.Sprintf("%q must be 1-64 characters of a-z, 0-9, '.', '_' or '-'", g.Name))
	}
	if len(g.Products) == 0 {
		return fault.InvalidField("products", "at least one product is required")
	}
	if len(g.Products) > 500 {
		return fault.InvalidField("products", "at most 500 products")
	}
	for i, p := range g.Products {
		p = strings.ToLower(strings.TrimSpace(p))
		if !productRE.MatchString(p) {
			return fault.InvalidField(fmt.Sprintf("products[%d]", i), fmt.Sprintf("%q is not a product id", g.Products[i]))
		}
		g.Products[i] = p
	}
	for i, c := range g.Cycles {
		c = strings.TrimSpace(c)
		prod, cyc, scoped := strings.Cut(c, "@")
		if scoped {
			prod = strings.ToLower(prod)
			if !productRE.MatchString(prod) || !slices.Contains(g.Products, prod) {
				return fault.InvalidField(fmt.Sprintf("cycles[%d]", i), fmt.Sprintf("%q names a product that is not in products", g.Cycles[i]))
			}
			c = prod + "@" + cyc
		} else {
			cyc = c
		}
		if !cycleRE.MatchString(cyc) {
			return fault.InvalidField(fmt.Sprintf("cycles[%d]", i), fmt.Sprintf("%q is not a cycle name", g.Cycles[i]))
		}
		g.Cycles[i] = c
	}
	if len(g.Events) == 0 {
		return fault.InvalidField("events", "at least one of release, eol, fleet is required")
	}
	for i, e := range g.Events {
		e = strings.ToLower(strings.TrimSpace(e))
		if !slices.Contains(events.Kinds, e) {
			return fault.InvalidField(fmt.Sprintf("events[%d]", i), fmt.Sprintf("%q is not one of release, eol, fleet", g.Events[i]))
		}
		g.Events[i] = e
	}
	if g.Webhook != "" {
		u, err := url.Parse(g.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(g.Webhook) > 2048 {
			return fault.InvalidField("webhook", fmt.Sprintf("%q is not an http(s) URL", g.Webhook))
		}
	}
	for _, l := range []*[]string{&g.Products, &g.Cycles, &g.Events} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return nil
}

// covers reports whether the group wants to hear about ev.
func (g *Group) covers(ev *events.Event) bool {
	if !slices.Contains(g.Events, ev.Kind) || !slices.Contains(g.Products, ev.Product) {
		return false
	}
	if len(g.Cycles) == 0 {
		return true
	}
	return slices.Contains(g.Cycles, ev.Cycle) || slices.Contains(g.Cycles, ev.Product+"@"+ev.Cycle)
}

// CreateGroup stores a new group after validating it.
func (s *Service) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if err := g.Normalize(); err != nil {
		return g, err
	}
	if g.Cycles == nil {
		g.Cycles = []string{}
	}
	g.Created = s.now()
	g.WebhookSecret = ""
	if g.Webhook != "" {
		g.WebhookSecret = "whsec_" + newNonce() + newNonce()
	}
	products, _ := json.Marshal(g.Products)
	cycles, _ := json.Marshal(g.Cycles)
	events, _ := json.Marshal(g.Events)
	res, err := s.w.ExecContext(ctx, `INSERT INTO notifier_groups (name, products, cycles, events, webhook_url, webhook_secret, created)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`, g.Name, string(products), string(cycles), string(events),
		g.Webhook, g.WebhookSecret, g.Created.UnixMilli())
	if err != nil {
		return g, fmt.Errorf("create group: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return g, fmt.Errorf("group %q: %w", g.Name, ErrExists)
	}
	s.log.Info("group created", "group", g.Name, "products", g.Products, "events", g.Events)
	return g, nil
}

// DeleteGroup removes a group and its subscriptions; messages not yet sent
// to them are cancelled.
func (s *Service) DeleteGroup(ctx context.Context, name string) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	defer tx.Rollback()
	var id int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM notifier_groups WHERE name = ?`, strings.ToLower(name)).Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("group %q: %w", name, ErrNotFound)
		}
		return fmt.Errorf("delete group: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notifier_outbox SET state = 'cancelled', last_error = 'group deleted'
		WHERE state = 'pending' AND subscription_id IN (SELECT id FROM notifier_subscriptions WHERE group_id = ?)`, id); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	for _, q := range []string{
		`DELETE FROM notifier_digest_items WHERE subscription_id IN (SELECT id FROM notifier_subscriptions WHERE group_id = ?)`,
		`DELETE FROM notifier_subscriptions WHERE group_id = ?`,
		`UPDATE notifier_webhooks SET state = 'cancelled', last_error = 'group deleted' WHERE group_id = ? AND state = 'pending'`,
		`DELETE FROM notifier_groups WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete group: %w", err)
	}
	s.log.Info("group deleted", "group", name)
	return nil
}

// Page selects a slice of a listing. Limit defaults to 50 and is capped at 1000.
type Page struct {
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
}

func (p Page) norm() Page {
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > 1000 {
		p.Limit = 1000
	}
	if p.Offset < 0 {
		p.Offset = 0
	}
	return p
}

// ListGroups returns groups by name with their subscriber counts, and the total number of groups.
func (s *Service) ListGroups(ctx context.Context, p Page) ([]GroupInfo, int, error) {
	p = p.norm()
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
		gi.Created = time.UnixMilli(created).UTC()
		out = append(out, gi)
	}
	return out, total, rows.Err()
}

// storedGroup is a group row as the workers use it.
type storedGroup struct {
	ID int64
	Group
}

// loadGroups reads every group through q (a transaction or a pool).
func loadGroups(ctx context.Context, q querier) ([]storedGroup, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, name, products, cycles, events, webhook_url, created FROM notifier_groups ORDER BY id`)
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
		g.Created = time.UnixMilli(created).UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

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

// querier is what both *sql.DB and *sql.Tx offer for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

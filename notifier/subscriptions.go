package notifier

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// Subscription states.
const (
	StatePending      = "pending"      // waiting for the confirmation link
	StateConfirmed    = "confirmed"    // receives messages
	StateUnsubscribed = "unsubscribed" // left; kept for the record
)

// Preferences are a subscriber's choices.
type Preferences struct {
	// Mode is immediate, daily or weekly.
	Mode string `json:"mode"`
	// Levels lists the release change levels to hear about (major, minor, patch).
	Levels []string `json:"levels"`
	// Prereleases includes alpha/beta/rc releases.
	Prereleases bool `json:"prereleases"`
	// FleetOnly limits release and eol news to products and cycles the fleet runs.
	FleetOnly bool `json:"fleet_only"`
}

// DefaultPreferences are what a new subscription starts with.
func DefaultPreferences() Preferences {
	return Preferences{Mode: ModeImmediate, Levels: []string{LevelMajor, LevelMinor, LevelPatch}}
}

// Validate reports the first invalid preference, naming the field.
func (p *Preferences) Validate() error {
	switch p.Mode {
	case ModeImmediate, ModeDaily, ModeWeekly:
	default:
		return fault.InvalidField("mode", fmt.Sprintf("%q is not one of immediate, daily, weekly", p.Mode))
	}
	if len(p.Levels) == 0 {
		return fault.InvalidField("levels", "choose at least one of major, minor, patch")
	}
	for i, l := range p.Levels {
		if l != LevelMajor && l != LevelMinor && l != LevelPatch {
			return fault.InvalidField(fmt.Sprintf("levels[%d]", i), fmt.Sprintf("%q is not one of major, minor, patch", l))
		}
	}
	slices.Sort(p.Levels)
	p.Levels = slices.Compact(p.Levels)
	return nil
}

// Subscription is one address subscribed to one group.
type Subscription struct {
	ID           int64       `json:"id"`
	Group        string      `json:"group"`
	Email        string      `json:"email"`
	State        string      `json:"state"`
	Prefs        Preferences `json:"preferences"`
	Created      time.Time   `json:"created"`
	ConfirmedAt  *time.Time  `json:"confirmed_at,omitempty"`
	Unsubscribed *time.Time  `json:"unsubscribed_at,omitempty"`
	nonce        string
	groupID      int64
}

// ParseEmail validates a subscriber address: a bare address (no display
// name), no line breaks, at most 254 bytes. It returns the address as stored.
func ParseEmail(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", fault.InvalidField("email", "contains a line break or NUL")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fault.InvalidField("email", "is empty")
	}
	if len(s) > 254 {
		return "", fault.InvalidField("email", "is longer than 254 bytes")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(a.Address, "@") {
		return "", fault.InvalidField("email", fmt.Sprintf("%q is not a plain email address", s))
	}
	local, domain, _ := strings.Cut(a.Address, "@")
	if local == "" || !strings.Contains(domain, ".") && domain != "localhost" {
		return "", fault.InvalidField("email", fmt.Sprintf("%q has no valid domain", s))
	}
	return local + "@" + strings.ToLower(domain), nil
}

func newNonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Subscribe starts a double opt-in for email in group: it records a pending
// subscription and queues a confirmation email. It answers the same way
// whether or not the address is known (an already-confirmed address gets a
// reminder with its management link instead), and silently stops mailing
// an address after SubscribeRatePerAddress messages a day. Only an invalid
// address or an unknown group are errors.
func (s *Service) Subscribe(ctx context.Context, group, email string) error {
	addr, err := ParseEmail(email)
	if err != nil {
		return err
	}
	group = strings.ToLower(strings.TrimSpace(group))
	if group == "" {
		return fault.InvalidField("group", "is empty")
	}
	now := s.now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer tx.Rollback()
	var groupID int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM notifier_groups WHERE name = ?`, group).Scan(&groupID); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fault.InvalidField("group", fmt.Sprintf("%q does not exist", group))
		}
		return fmt.Errorf("subscribe: %w", err)
	}
	var sent int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifier_outbox WHERE recipient = ? AND kind IN ('confirm', 'reminder') AND created > ?`,
		addr, now.Add(-24*time.Hour).UnixMilli()).Scan(&sent); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if sent >= s.cfg.SubscribeRatePerAddress {
		s.log.Warn("subscription request over the per-address limit", "group", group)
		return nil
	}
	var sub Subscription
	var id int64
	err = tx.QueryRowContext(ctx, `SELECT id, state, nonce FROM notifier_subscriptions WHERE group_id = ? AND email = ?`, groupID, addr).
		Scan(&id, &sub.State, &sub.nonce)
	kind := "confirm"
	switch {
	case errors.Is(err, sql.ErrNoRows):
		sub.nonce = newNonce()
		p := DefaultPreferences()
		res, err := tx.ExecContext(ctx, `INSERT INTO notifier_subscriptions (group_id, email, state, nonce, mode, levels, created, updated)
			VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)`, groupID, addr, sub.nonce, p.Mode, strings.Join(p.Levels, ","), now.UnixMilli(), now.UnixMilli())
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	case err != nil:
		return fmt.Errorf("subscribe: %w", err)
	case sub.State == StateConfirmed:
		kind = "reminder"
	case sub.State == StateUnsubscribed:
		sub.nonce = newNonce()
		if _, err := tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'pending', nonce = ?, updated = ?, unsubscribed_at = NULL WHERE id = ?`,
			sub.nonce, now.UnixMilli(), id); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
	}
	sub.ID, sub.Group, sub.Email = id, group, addr
	if err := s.queueNotice(ctx, tx, kind, &sub, now); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	s.Kick()
	return nil
}

// queueNotice writes a confirmation or reminder email for sub into the outbox.
func (s *Service) queueNotice(ctx context.Context, tx *sql.Tx, kind string, sub *Subscription, now time.Time) error {
	d := s.baseData(sub)
	d.Group = sub.Group
	if kind == "confirm" {
		tok := signToken(s.key, claims{Purpose: purposeConfirm, SubID: sub.ID, Nonce: sub.nonce, Expires: now.Add(s.cfg.ConfirmTTL)})
		d.ConfirmURL = s.cfg.PublicURL + PathConfirm + "?token=" + tok
		d.Expires = now.Add(s.cfg.ConfirmTTL).Format("2006-01-02 15:04 MST")
	}
	parts, err := renderParts(kind, d)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	q := queued{Key: fmt.Sprintf("%s:%d:%s", kind, sub.ID, newNonce()), SubID: sub.ID, Kind: kind, To: sub.Email, Group: sub.Group}
	if kind != kindConfirm {
		q.Token, q.ListHeaders = s.manageToken(sub), true
	}
	return s.queueOne(ctx, tx, q, parts, now)
}

// getSubscription reads one subscription by id through q.
func getSubscription(ctx context.Context, q querier, id int64) (*Subscription, error) {
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
	sub.Created = time.UnixMilli(created).UTC()
	sub.ConfirmedAt = nullTime(confirmed)
	sub.Unsubscribed = nullTime(unsub)
	return &sub, nil
}

func splitList(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.UnixMilli(n.Int64).UTC()
	return &t
}

// subscriptionByToken resolves a token of the given purpose to its subscription.
func (s *Service) subscriptionByToken(ctx context.Context, q querier, tok, purpose string) (*Subscription, error) {
	c, err := parseToken(s.key, tok, purpose, s.now())
	if err != nil {
		return nil, err
	}
	sub, err := getSubscription(ctx, q, c.SubID)
	if errors.Is(err, ErrNotFound) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	if sub.nonce != c.Nonce {
		return nil, errBadToken
	}
	return sub, nil
}

// Confirm completes a double opt-in with the token from the confirmation
// email. Confirming twice is harmless; a subscription that was
// unsubscribed since is not revived by an old link.
func (s *Service) Confirm(ctx context.Context, token string) (*Subscription, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	defer tx.Rollback()
	sub, err := s.subscriptionByToken(ctx, tx, token, purposeConfirm)
	if err != nil {
		return nil, err
	}
	switch sub.State {
	case StateUnsubscribed:
		return nil, errBadToken
	case StatePending:
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'confirmed', confirmed_at = ?, updated = ? WHERE id = ? AND state = 'pending'`,
			now.UnixMilli(), now.UnixMilli(), sub.ID); err != nil {
			return nil, fmt.Errorf("confirm: %w", err)
		}
		sub.State, sub.ConfirmedAt = StateConfirmed, &now
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("confirm: %w", err)
	}
	s.log.Info("subscription confirmed", "group", sub.Group, "subscription", sub.ID)
	return sub, nil
}

// Unsubscribe ends the subscription a management token names, cancelling
// its unsent messages and digest items. Unsubscribing twice is harmless.
func (s *Service) Unsubscribe(ctx context.Context, token string) (*Subscription, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	defer tx.Rollback()
	sub, err := s.subscriptionByToken(ctx, tx, token, purposeManage)
	if err != nil {
		return nil, err
	}
	if sub.State != StateUnsubscribed {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET state = 'unsubscribed', unsubscribed_at = ?, updated = ? WHERE id = ?`,
			now.UnixMilli(), now.UnixMilli(), sub.ID); err != nil {
			return nil, fmt.Errorf("unsubscribe: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE notifier_outbox SET state = 'cancelled', last_error = 'unsubscribed', lease_owner = NULL, lease_token = NULL
			WHERE subscription_id = ? AND state = 'pending'`, sub.ID); err != nil {
			return nil, fmt.Errorf("unsubscribe: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifier_digest_items WHERE subscription_id = ?`, sub.ID); err != nil {
			return nil, fmt.Errorf("unsubscribe: %w", err)
		}
		sub.State, sub.Unsubscribed = StateUnsubscribed, &now
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	s.log.Info("unsubscribed", "group", sub.Group, "subscription", sub.ID)
	return sub, nil
}

// SubscriptionByToken returns the subscription a management token names.
func (s *Service) SubscriptionByToken(ctx context.Context, token string) (*Subscription, error) {
	return s.subscriptionByToken(ctx, s.r, token, purposeManage)
}

// SetPreferences stores new preferences for the subscription a management token names.
func (s *Service) SetPreferences(ctx context.Context, token string, p Preferences) (*Subscription, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	defer tx.Rollback()
	sub, err := s.subscriptionByToken(ctx, tx, token, purposeManage)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notifier_subscriptions SET mode = ?, levels = ?, prereleases = ?, fleet_only = ?, updated = ? WHERE id = ?`,
		p.Mode, strings.Join(p.Levels, ","), p.Prereleases, p.FleetOnly, s.now().UnixMilli(), sub.ID); err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	if p.Mode != sub.Prefs.Mode {
		// Items waiting for the old schedule move to the new one.
		due := s.digestDue(p.Mode, s.now())
		if _, err := tx.ExecContext(ctx, `UPDATE notifier_digest_items SET due_at = ? WHERE subscription_id = ? AND bucket = 'digest'`, due.UnixMilli(), sub.ID); err != nil {
			return nil, fmt.Errorf("preferences: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("preferences: %w", err)
	}
	sub.Prefs = p
	return sub, nil
}

// SubscriptionFilter selects subscriptions for ListSubscriptions.
type SubscriptionFilter struct {
	Group string `json:"group,omitempty"` // a group name; empty: all
	State string `json:"state,omitempty"` // pending | confirmed | unsubscribed; empty: all
	Page
}

// ListSubscriptions returns subscriptions newest first and the number matching the filter.
func (s *Service) ListSubscriptions(ctx context.Context, f SubscriptionFilter) ([]Subscription, int, error) {
	p := f.Page.norm()
	where := []string{"1 = 1"}
	var args []any
	if f.Group != "" {
		where = append(where, "g.name = ?")
		args = append(args, strings.ToLower(f.Group))
	}
	if f.State != "" {
		if f.State != StatePending && f.State != StateConfirmed && f.State != StateUnsubscribed {
			return nil, 0, fault.InvalidField("state", fmt.Sprintf("%q is not one of pending, confirmed, unsubscribed", f.State))
		}
		where = append(where, "s.state = ?")
		args = append(args, f.State)
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
		sub.Created = time.UnixMilli(created).UTC()
		sub.ConfirmedAt, sub.Unsubscribed = nullTime(confirmed), nullTime(unsub)
		out = append(out, sub)
	}
	return out, total, rows.Err()
}

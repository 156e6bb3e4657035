package notifier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/mailaddr"
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
// name), no line breaks, at most 254 bytes, and a mail domain as
// mailaddr.Domain wants it (a dot, a valid internationalised name; not
// localhost, an IP address or a [literal]). It returns the address as
// stored, its domain lower-cased.
func ParseEmail(s string) (string, error) {
	addr, err := bareAddress(s)
	if err != nil {
		return "", err
	}
	norm, err := mailaddr.Normalize(addr)
	if err != nil {
		return "", fault.InvalidField("email", fmt.Sprintf("%q %v", addr, err))
	}
	return norm, nil
}

// bareAddress checks the syntax ParseEmail wants (a bare address without
// line breaks, at most 254 bytes) and returns the address trimmed, with
// its domain lower-cased. Mail is rendered to any stored address that
// passes it, also one of a domain ParseEmail refuses today.
func bareAddress(s string) (string, error) {
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
	at := strings.LastIndexByte(a.Address, '@')
	local, domain := a.Address[:at], strings.ToLower(a.Address[at+1:])
	if local == "" || strings.HasPrefix(domain, "[") {
		return "", fault.InvalidField("email", fmt.Sprintf("%q has no valid domain (a host name; not an address or a [literal])", s))
	}
	return local + "@" + domain, nil
}

// addressKey is the per-address cap's key of an address: the whole
// address lower-cased, so Bomb@x and bOmb@x count as one mailbox (most
// mail systems ignore the local part's case).
func addressKey(addr string) string { return strings.ToLower(addr) }

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
	noticed := false
	err = s.db.inTx(ctx, "subscribe", func(t *storeTx) error {
		groupID, ok, err := t.groupID(ctx, group)
		if err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if !ok {
			return fault.InvalidField("group", fmt.Sprintf("%q does not exist", group))
		}
		sent, err := t.noticesSince(ctx, addr, now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		if sent >= s.cfg.SubscribeRatePerAddress {
			s.log.Warn("subscription request over the per-address limit", "group", group)
			return nil
		}
		sub, kind, err := s.openSubscription(ctx, t, groupID, group, addr, now)
		if err != nil {
			return err
		}
		noticed = true
		return s.queueNotice(ctx, t, kind, sub, now)
	})
	if err != nil {
		return err
	}
	if noticed {
		s.Kick()
	}
	return nil
}

// openSubscription finds addr's subscription to the group, or records a
// pending one, and says which notice it gets: a confirmation link (new,
// pending, or unsubscribed and now pending again with a fresh nonce) or a
// reminder (already confirmed).
func (s *Service) openSubscription(ctx context.Context, t *storeTx, groupID int64, group, addr string, now time.Time) (*Subscription, string, error) {
	k, found, err := t.subscriptionOf(ctx, groupID, addr)
	if err != nil {
		return nil, "", err
	}
	sub := &Subscription{ID: k.ID, Group: group, Email: addr, State: k.State, nonce: k.Nonce}
	kind := kindConfirm
	switch {
	case !found:
		sub.nonce = newNonce()
		sub.ID, err = t.insertSubscription(ctx, groupID, addr, sub.nonce, DefaultPreferences(), now)
	case k.State == StateConfirmed:
		kind = kindReminder
	case k.State == StateUnsubscribed:
		sub.nonce = newNonce()
		err = t.reopenSubscription(ctx, k.ID, sub.nonce, now)
	}
	return sub, kind, err
}

// queueNotice writes a confirmation or reminder email for sub into the outbox.
func (s *Service) queueNotice(ctx context.Context, t *storeTx, kind string, sub *Subscription, now time.Time) error {
	d := s.baseData(sub)
	d.Group = sub.Group
	if kind == kindConfirm {
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
	return s.queueOne(ctx, t, q, parts, now)
}

// subscriptionByToken resolves a token of the given purpose to its
// subscription, read with read.
func (s *Service) subscriptionByToken(tok, purpose string, read func(id int64) (*Subscription, error)) (*Subscription, error) {
	c, err := parseToken(s.key, tok, purpose, s.now())
	if err != nil {
		return nil, err
	}
	sub, err := read(c.SubID)
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

// byTokenIn changes the subscription a token of purpose names, in one
// transaction: change runs with it unless the token is bad.
func (s *Service) byTokenIn(ctx context.Context, op, tok, purpose string, change func(t *storeTx, sub *Subscription) error) (*Subscription, error) {
	var sub *Subscription
	err := s.db.inTx(ctx, op, func(t *storeTx) error {
		var err error
		sub, err = s.subscriptionByToken(tok, purpose, func(id int64) (*Subscription, error) { return t.subscription(ctx, id) })
		if err != nil {
			return err
		}
		return change(t, sub)
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// Confirm completes a double opt-in with the token from the confirmation
// email. Confirming twice is harmless; a subscription that was
// unsubscribed since is not revived by an old link.
func (s *Service) Confirm(ctx context.Context, token string) (*Subscription, error) {
	sub, err := s.byTokenIn(ctx, "confirm", token, purposeConfirm, func(t *storeTx, sub *Subscription) error {
		switch sub.State {
		case StateUnsubscribed:
			return errBadToken
		case StatePending:
			now := s.now()
			if err := t.confirmSubscription(ctx, sub.ID, now); err != nil {
				return err
			}
			sub.State, sub.ConfirmedAt = StateConfirmed, &now
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("subscription confirmed", "group", sub.Group, "subscription", sub.ID)
	return sub, nil
}

// Unsubscribe ends the subscription a management token names, cancelling
// its unsent messages and digest items. Unsubscribing twice is harmless.
func (s *Service) Unsubscribe(ctx context.Context, token string) (*Subscription, error) {
	sub, err := s.byTokenIn(ctx, "unsubscribe", token, purposeManage, func(t *storeTx, sub *Subscription) error {
		if sub.State == StateUnsubscribed {
			return nil
		}
		now := s.now()
		if err := t.unsubscribe(ctx, sub.ID, now); err != nil {
			return err
		}
		sub.State, sub.Unsubscribed = StateUnsubscribed, &now
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("unsubscribed", "group", sub.Group, "subscription", sub.ID)
	return sub, nil
}

// SubscriptionByToken returns the subscription a management token names.
func (s *Service) SubscriptionByToken(ctx context.Context, token string) (*Subscription, error) {
	return s.subscriptionByToken(token, purposeManage, func(id int64) (*Subscription, error) { return s.db.subscription(ctx, id) })
}

// SetPreferences stores new preferences for the subscription a management
// token names; items waiting for the old digest schedule move to the new one.
func (s *Service) SetPreferences(ctx context.Context, token string, p Preferences) (*Subscription, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sub, err := s.byTokenIn(ctx, "preferences", token, purposeManage, func(t *storeTx, sub *Subscription) error {
		if err := t.setPreferences(ctx, sub.ID, p, s.now()); err != nil {
			return err
		}
		if p.Mode != sub.Prefs.Mode {
			return t.rescheduleDigest(ctx, sub.ID, s.digestDue(p.Mode, s.now()))
		}
		return nil
	})
	if err != nil {
		return nil, err
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
	switch f.State {
	case "", StatePending, StateConfirmed, StateUnsubscribed:
	default:
		return nil, 0, fault.InvalidField("state", fmt.Sprintf("%q is not one of pending, confirmed, unsubscribed", f.State))
	}
	return s.db.listSubscriptions(ctx, strings.ToLower(f.Group), f.State, f.Page.norm())
}

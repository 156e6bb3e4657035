package notifier

import (
	"context"
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

// CreateGroup stores a new group after validating it. A webhook may not
// target an internal address (loopback, link-local, private, unique-local;
// a literal or a name that resolves there) unless Config.WebhookAllow
// names it.
func (s *Service) CreateGroup(ctx context.Context, g Group) (Group, error) {
	if err := g.Normalize(); err != nil {
		return g, err
	}
	if g.Webhook != "" {
		if err := s.hooks.checkURL(ctx, g.Webhook); err != nil {
			return g, err
		}
	}
	if g.Cycles == nil {
		g.Cycles = []string{}
	}
	g.Created = s.now()
	g.WebhookSecret = ""
	if g.Webhook != "" {
		g.WebhookSecret = "whsec_" + newNonce() + newNonce()
	}
	inserted, err := s.db.insertGroup(ctx, g)
	if err != nil {
		return g, err
	}
	if !inserted {
		return g, fmt.Errorf("group %q: %w", g.Name, ErrExists)
	}
	s.log.Info("group created", "group", g.Name, "products", g.Products, "events", g.Events)
	return g, nil
}

// DeleteGroup removes a group and its subscriptions; messages not yet sent
// to them are cancelled.
func (s *Service) DeleteGroup(ctx context.Context, name string) error {
	found, err := s.db.deleteGroup(ctx, strings.ToLower(name))
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("group %q: %w", name, ErrNotFound)
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
	return s.db.listGroups(ctx, p.norm())
}

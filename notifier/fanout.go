package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// fanoutCursor names the consumer cursor of the event fan-out worker.
const fanoutCursor = "fanout"

// errCursorMoved means another instance consumed the same events first.
var errCursorMoved = errors.New("event cursor moved under us (another instance is fanning out)")

// ProcessEvents turns the next batch of events into outbox rows (immediate
// subscribers), digest items (digest subscribers and fleet batches) and
// webhook deliveries, and advances the consumer cursor in the same
// transaction: each event is fanned out exactly once. It returns how many
// events it consumed.
func (s *Service) ProcessEvents(ctx context.Context) (int, error) {
	now := s.now()
	var consumed, queued int
	var last int64
	err := s.db.inTx(ctx, "fan-out", func(t *storeTx) error {
		from, err := t.cursor(ctx, fanoutCursor, now)
		if err != nil {
			return err
		}
		evs, err := t.eventsAfter(ctx, from, s.cfg.BatchSize)
		if err != nil || len(evs) == 0 {
			return err
		}
		groups, err := t.groups(ctx)
		if err != nil {
			return err
		}
		for _, e := range evs {
			ev, ok := s.decodeEvent(e)
			if !ok {
				continue
			}
			n, err := s.fanOut(ctx, t, groups, e.id, &ev, now)
			if err != nil {
				return fmt.Errorf("fan-out event %d: %w", e.id, err)
			}
			queued += n
		}
		last = evs[len(evs)-1].id
		moved, err := t.advanceCursor(ctx, fanoutCursor, from, last, now)
		if err != nil {
			return err
		}
		if !moved {
			return errCursorMoved
		}
		consumed = len(evs)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		s.Kick()
	}
	if consumed > 0 {
		s.log.Debug("events fanned out", "events", consumed, "queued", queued, "cursor", last)
	}
	return consumed, nil
}

// decodeEvent reads a stored event. A corrupt payload cannot become valid
// later: it is logged and skipped.
func (s *Service) decodeEvent(e storedEvent) (events.Event, bool) {
	var ev events.Event
	if err := json.Unmarshal([]byte(e.payload), &ev); err != nil {
		s.log.Error("skipping unreadable event", "event", e.id, "err", err)
		return ev, false
	}
	return ev, true
}

// fanOutPlan is what one event becomes: deliveries to group webhooks,
// items waiting in digests and fleet batches, and immediate messages.
type fanOutPlan struct {
	evID     int64
	ev       *events.Event
	webhooks []*storedGroup
	items    []digestItem
	messages []*Subscription // one per address
	view     eventView       // the event as the templates see it
}

// fanOut queues one event for every group and subscription that wants it,
// in two steps: plan who gets what, then write the plan. It returns how
// many outbox rows, digest items and webhook deliveries it wrote.
func (s *Service) fanOut(ctx context.Context, t *storeTx, groups []storedGroup, evID int64, ev *events.Event, now time.Time) (int, error) {
	p, err := s.planFanOut(ctx, t, groups, evID, ev, now)
	if err != nil {
		return 0, err
	}
	return s.writeFanOut(ctx, t, p, now)
}

// planFanOut decides where an event goes: the webhooks of the groups that
// cover it, and for each confirmed subscriber of those groups (once per
// address) whose preferences want it, either an immediate message or an
// item in a digest or fleet batch. Fleet events that are not news go
// nowhere.
func (s *Service) planFanOut(ctx context.Context, t *storeTx, groups []storedGroup, evID int64, ev *events.Event, now time.Time) (fanOutPlan, error) {
	p := fanOutPlan{evID: evID, ev: ev}
	if ev.Kind == events.KindFleet && !fleetAlert(ev) {
		return p, nil
	}
	names := map[int64]string{}
	for i := range groups {
		if groups[i].covers(ev) {
			names[groups[i].ID] = groups[i].Name
			if groups[i].Webhook != "" {
				p.webhooks = append(p.webhooks, &groups[i])
			}
		}
	}
	if len(names) == 0 {
		return p, nil
	}
	subs, err := t.confirmedSubscriptions(ctx, names)
	if err != nil || len(subs) == 0 {
		return p, err
	}
	p.view = s.view(evID, ev)
	runs := s.fleetRunsOnce(ctx, ev)
	seen := map[string]bool{}
	for i := range subs {
		sub := &subs[i]
		if seen[sub.Email] || !wants(sub.Prefs, p.view, runs) {
			continue
		}
		seen[sub.Email] = true
		if ev.Kind != events.KindFleet && sub.Prefs.Mode == ModeImmediate {
			p.messages = append(p.messages, sub)
			continue
		}
		it, err := s.batchItem(ctx, t, sub, now)
		if err != nil {
			return p, err
		}
		p.items = append(p.items, it)
	}
	return p, nil
}

// batchItem decides where an event for sub waits: in its daily or weekly
// digest, or (fleet changes for an immediate subscriber) in the fleet
// batch already open for it, else a new one that closes FleetBatchWindow
// from now.
func (s *Service) batchItem(ctx context.Context, t *storeTx, sub *Subscription, now time.Time) (digestItem, error) {
	if sub.Prefs.Mode != ModeImmediate {
		return digestItem{SubID: sub.ID, Bucket: bucketDigest, Due: s.digestDue(sub.Prefs.Mode, now)}, nil
	}
	due, open, err := t.fleetBatchDue(ctx, sub.ID)
	if err != nil {
		return digestItem{}, err
	}
	if !open {
		due = now.Add(s.cfg.FleetBatchWindow)
	}
	return digestItem{SubID: sub.ID, Bucket: bucketFleet, Due: due}, nil
}

// writeFanOut writes a plan: webhook deliveries, digest items, and the
// immediate messages, whose body is rendered once per group (with
// placeholders for each subscriber's address and links).
func (s *Service) writeFanOut(ctx context.Context, t *storeTx, p fanOutPlan, now time.Time) (int, error) {
	for _, g := range p.webhooks {
		if err := s.queueWebhook(ctx, t, g, p.evID, p.ev, now); err != nil {
			return 0, err
		}
	}
	for _, it := range p.items {
		if err := t.insertDigestItem(ctx, it, p.evID, now); err != nil {
			return 0, err
		}
	}
	bodies := map[string]int64{} // by group
	qs := make([]queued, 0, len(p.messages))
	for _, sub := range p.messages {
		bodyID, ok := bodies[sub.Group]
		if !ok {
			d := s.placeholderData(sub.Group)
			d.Events = []eventView{p.view}
			parts, err := renderParts(p.ev.Kind, d)
			if err != nil {
				return 0, err
			}
			if bodyID, err = t.insertBody(ctx, p.ev.Kind, parts, now); err != nil {
				return 0, err
			}
			bodies[sub.Group] = bodyID
		}
		qs = append(qs, queued{Key: fmt.Sprintf("ev:%d:%s", p.evID, sub.Email), SubID: sub.ID, Kind: p.ev.Kind, To: sub.Email, Group: sub.Group,
			Token: s.manageToken(sub), BodyID: bodyID, ListHeaders: true, MessageID: s.newMessageID(p.ev.Kind)})
	}
	if err := t.insertOutboxMany(ctx, qs, now); err != nil {
		return 0, err
	}
	return len(p.webhooks) + len(p.items) + len(p.messages), nil
}

// fleetRunsOnce returns a function answering "does the fleet run the
// event's product (and cycle)?", asked of the fleet at most once. Without a
// fleet lookup, or when it fails, the answer is yes (better a message too
// many than a missed one).
func (s *Service) fleetRunsOnce(ctx context.Context, ev *events.Event) func() bool {
	var answer *bool
	return func() bool {
		if answer == nil {
			ok := true
			if s.cfg.Fleet != nil {
				var err error
				if ok, err = s.cfg.Fleet.FleetRuns(ctx, ev.Product, ev.Cycle); err != nil {
					s.log.Warn("fleet lookup failed; sending to fleet-only subscribers anyway", "product", ev.Product, "err", err)
					ok = true
				}
			}
			answer = &ok
		}
		return *answer
	}
}

// fleetAlert reports whether a fleet event is news: the host got worse and
// is now patch-overdue, eol-soon or eol.
func fleetAlert(ev *events.Event) bool {
	switch ev.To {
	case catalog.StatusEOL, catalog.StatusEOLSoon, catalog.StatusPatchOverdue:
	default:
		return false
	}
	return ev.From == "" || catalog.StatusRank(ev.To) < catalog.StatusRank(ev.From)
}

// wants applies a subscriber's preferences to one event.
func wants(p Preferences, v eventView, fleetRuns func() bool) bool {
	switch v.Kind {
	case events.KindRelease:
		if !slices.Contains(p.Levels, v.Level) {
			return false
		}
		if v.Prerelease && !p.Prereleases {
			return false
		}
		if p.FleetOnly && !fleetRuns() {
			return false
		}
	case events.KindEOL:
		if p.FleetOnly && !fleetRuns() {
			return false
		}
	}
	return true
}

// view prepares an event for templates: product label, change level, pre-release flag.
func (s *Service) view(id int64, ev *events.Event) eventView {
	v := eventView{Event: *ev, ID: id, ProductLabel: ev.Product}
	if s.cfg.Catalog != nil {
		if cat := s.cfg.Catalog(); cat != nil {
			if p := cat.Product(ev.Product); p != nil && p.Label != "" {
				v.ProductLabel = p.Label
			}
		}
	}
	if ev.Kind == events.KindRelease {
		v.Level = releaseLevel(ev.Version)
		v.Prerelease = isPrerelease(ev.Version)
	}
	return v
}

// queueOne stores one message's rendered parts and its outbox row.
func (s *Service) queueOne(ctx context.Context, t *storeTx, q queued, p msgParts, now time.Time) error {
	id, err := t.insertBody(ctx, q.Kind, p, now)
	if err != nil {
		return err
	}
	q.BodyID, q.MessageID = id, s.newMessageID(q.Kind)
	return t.insertOutbox(ctx, q, now)
}

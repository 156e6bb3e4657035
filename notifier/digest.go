package notifier

import (
	"context"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// digestDue returns when an item queued now for a subscriber in mode goes
// out: now for immediate, the next DigestHour (UTC) for daily, the next
// DigestWeekday at DigestHour for weekly.
func (s *Service) digestDue(mode string, now time.Time) time.Time {
	now = now.UTC()
	at := time.Date(now.Year(), now.Month(), now.Day(), s.cfg.DigestHour, 0, 0, 0, time.UTC)
	switch mode {
	case ModeDaily:
		if !at.After(now) {
			at = at.AddDate(0, 0, 1)
		}
		return at
	case ModeWeekly:
		days := (int(s.cfg.DigestWeekday) - int(at.Weekday()) + 7) % 7
		at = at.AddDate(0, 0, days)
		if !at.After(now) {
			at = at.AddDate(0, 0, 7)
		}
		return at
	default:
		return now
	}
}

// FlushDigests turns digest items that are due into one message per
// subscription (a digest, or a fleet alert listing every affected host)
// and deletes the items in the same transaction. It returns how many
// messages it queued.
func (s *Service) FlushDigests(ctx context.Context) (int, error) {
	now := s.now()
	queued := 0
	err := s.db.inTx(ctx, "flush digests", func(t *storeTx) error {
		subIDs, err := t.dueDigests(ctx, now, s.cfg.BatchSize)
		if err != nil {
			return err
		}
		for _, id := range subIDs {
			ok, err := s.flushOne(ctx, t, id, now)
			if err != nil {
				return err
			}
			if ok {
				queued++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if queued > 0 {
		s.Kick()
	}
	return queued, nil
}

// flushOne queues the due items of one subscription as one message (none
// when it is no longer confirmed) and drops the items.
func (s *Service) flushOne(ctx context.Context, t *storeTx, subID int64, now time.Time) (bool, error) {
	sub, err := t.subscription(ctx, subID)
	if err != nil {
		return false, fmt.Errorf("flush digest %d: %w", subID, err)
	}
	items, err := t.dueItems(ctx, subID, now)
	if err != nil {
		return false, err
	}
	kind, d, maxItem := s.digestOf(sub, items)
	if err := t.deleteDueItems(ctx, subID, now, maxItem); err != nil {
		return false, err
	}
	if d.Count == 0 || sub.State != StateConfirmed {
		return false, nil
	}
	parts, err := renderParts(kind, d)
	if err != nil {
		return false, err
	}
	q := queued{Key: fmt.Sprintf("digest:%d:%d", subID, maxItem), SubID: subID, Kind: kind, To: sub.Email, Group: sub.Group,
		Token: s.manageToken(sub), ListHeaders: true}
	if err := s.queueOne(ctx, t, q, parts, now); err != nil {
		return false, err
	}
	return true, nil
}

// digestOf turns a subscription's due items into the message they make: a
// fleet alert when they are only fleet changes of an immediate subscriber,
// else a digest for its period. It also returns the highest item id.
func (s *Service) digestOf(sub *Subscription, items []dueItem) (kind string, d msgData, maxItem int64) {
	digest := false
	d = s.baseData(sub)
	for _, it := range items {
		maxItem = max(maxItem, it.id)
		if it.bucket == bucketDigest {
			digest = true
		}
		ev, ok := s.decodeEvent(it.event)
		if !ok {
			continue
		}
		v := s.view(it.event.id, &ev)
		switch ev.Kind {
		case events.KindRelease:
			d.Releases = append(d.Releases, v)
		case events.KindEOL:
			d.EOLs = append(d.EOLs, v)
		case events.KindFleet:
			d.Fleet = append(d.Fleet, v)
		}
	}
	d.Count = len(d.Releases) + len(d.EOLs) + len(d.Fleet)
	kind = events.KindFleet
	if digest || len(d.Releases)+len(d.EOLs) > 0 {
		kind = kindDigest
		d.Period = "immediate"
		switch sub.Prefs.Mode {
		case ModeDaily:
			d.Period = "daily"
		case ModeWeekly:
			d.Period = "weekly"
		}
	}
	return kind, d, maxItem
}

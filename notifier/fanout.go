package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// fanoutCursor names the consumer cursor of the event fan-out worker.
const fanoutCursor = "fanout"

// errCursorMoved means another instance consumed the same events first.
var errCursorMoved = errors.New("event cursor moved under us (another instance is fanning out)")

// recipient is a confirmed subscription as the fan-out needs it.
type recipient struct {
	Subscription
	levels []string
}

// ProcessEvents turns the next batch of events into outbox rows (immediate
// subscribers) and digest items (digest subscribers and fleet batches),
// and advances the consumer cursor in the same transaction: each event is
// fanned out exactly once. It returns how many events it consumed.
func (s *Service) ProcessEvents(ctx context.Context) (int, error) {
	now := s.now()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("fan-out: %w", err)
	}
	defer tx.Rollback()
	var last int64
	err = tx.QueryRowContext(ctx, `SELECT last_id FROM notifier_cursor WHERE name = ?`, fanoutCursor).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifier_cursor (name, last_id, updated) VALUES (?, 0, ?)`, fanoutCursor, now.UnixMilli()); err != nil {
			return 0, fmt.Errorf("fan-out: %w", err)
		}
	} else if err != nil {
		return 0, fmt.Errorf("fan-out: read cursor: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, payload FROM notifier_events WHERE id > ? ORDER BY id LIMIT ?`, last, s.cfg.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("fan-out: read events: %w", err)
	}
	type rawEvent struct {
		id      int64
		payload string
	}
	var evs []rawEvent
	for rows.Next() {
		var e rawEvent
		if err := rows.Scan(&e.id, &e.payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("fan-out: read events: %w", err)
		}
		evs = append(evs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("fan-out: read events: %w", err)
	}
	if len(evs) == 0 {
		return 0, tx.Commit()
	}
	groups, err := loadGroups(ctx, tx)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, e := range evs {
		var ev events.Event
		if err := json.Unmarshal([]byte(e.payload), &ev); err != nil {
			// A corrupt payload cannot become valid later: log it and move on.
			s.log.Error("skipping unreadable event", "event", e.id, "err", err)
			continue
		}
		n, err := s.fanOut(ctx, tx, groups, e.id, &ev, now)
		if err != nil {
			return 0, fmt.Errorf("fan-out event %d: %w", e.id, err)
		}
		queued += n
	}
	newLast := evs[len(evs)-1].id
	res, err := tx.ExecContext(ctx, `UPDATE notifier_cursor SET last_id = ?, updated = ? WHERE name = ? AND last_id = ?`,
		newLast, now.UnixMilli(), fanoutCursor, last)
	if err != nil {
		return 0, fmt.Errorf("fan-out: advance cursor: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, errCursorMoved
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("fan-out: commit: %w", err)
	}
	if queued > 0 {
		s.Kick()
	}
	s.log.Debug("events fanned out", "events", len(evs), "queued", queued, "cursor", newLast)
	return len(evs), nil
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

// fanOut queues one event for every subscription that wants it and returns
// how many outbox rows or digest items it wrote.
func (s *Service) fanOut(ctx context.Context, tx *sql.Tx, groups []storedGroup, evID int64, ev *events.Event, now time.Time) (int, error) {
	if ev.Kind == events.KindFleet && !fleetAlert(ev) {
		return 0, nil
	}
	var ids []any
	names := map[int64]string{}
	hooks := 0
	for i := range groups {
		if groups[i].covers(ev) {
			ids = append(ids, groups[i].ID)
			names[groups[i].ID] = groups[i].Name
			if groups[i].Webhook != "" {
				if err := s.queueWebhook(ctx, tx, &groups[i], evID, ev, now); err != nil {
					return 0, err
				}
				hooks++
			}
		}
	}
	if len(ids) == 0 {
		return hooks, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, group_id, email, nonce, mode, levels, prereleases, fleet_only
		FROM notifier_subscriptions WHERE state = 'confirmed' AND group_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`) ORDER BY id`, ids...)
	if err != nil {
		return 0, fmt.Errorf("read subscriptions: %w", err)
	}
	var subs []recipient
	for rows.Next() {
		var r recipient
		var levels string
		if err := rows.Scan(&r.ID, &r.groupID, &r.Email, &r.nonce, &r.Prefs.Mode, &levels, &r.Prefs.Prereleases, &r.Prefs.FleetOnly); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read subscriptions: %w", err)
		}
		r.Group = names[r.groupID]
		r.Prefs.Levels = splitList(levels)
		subs = append(subs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read subscriptions: %w", err)
	}
	if len(subs) == 0 {
		return hooks, nil
	}
	view := s.view(evID, ev)
	var fleetRuns *bool
	runs := func() bool {
		if fleetRuns == nil {
			ok := true
			if s.cfg.Fleet != nil {
				var err error
				if ok, err = s.cfg.Fleet.FleetRuns(ctx, ev.Product, ev.Cycle); err != nil {
					s.log.Warn("fleet lookup failed; sending to fleet-only subscribers anyway", "product", ev.Product, "err", err)
					ok = true
				}
			}
			fleetRuns = &ok
		}
		return *fleetRuns
	}
	seen := map[string]bool{}
	n := hooks
	bodies := map[string]int64{} // by group: the event rendered once, with placeholders
	var insDigest, insOutbox *sql.Stmt
	for i := range subs {
		sub := &subs[i]
		if seen[sub.Email] || !wants(sub.Prefs, view, runs) {
			continue
		}
		seen[sub.Email] = true
		if ev.Kind == events.KindFleet || sub.Prefs.Mode != ModeImmediate {
			bucket, due := "digest", s.digestDue(sub.Prefs.Mode, now)
			if sub.Prefs.Mode == ModeImmediate {
				bucket = "fleet"
				var pending sql.NullInt64
				if err := tx.QueryRowContext(ctx, `SELECT MIN(due_at) FROM notifier_digest_items WHERE subscription_id = ? AND bucket = 'fleet'`, sub.ID).Scan(&pending); err != nil {
					return 0, fmt.Errorf("read fleet batch: %w", err)
				}
				due = now.Add(s.cfg.FleetBatchWindow)
				if pending.Valid {
					due = time.UnixMilli(pending.Int64)
				}
			}
			if insDigest == nil {
				if insDigest, err = tx.PrepareContext(ctx, `INSERT INTO notifier_digest_items (subscription_id, event_id, bucket, due_at, created)
					VALUES (?, ?, ?, ?, ?) ON CONFLICT (subscription_id, event_id) DO NOTHING`); err != nil {
					return 0, fmt.Errorf("queue digest item: %w", err)
				}
				defer insDigest.Close()
			}
			if _, err := insDigest.ExecContext(ctx, sub.ID, evID, bucket, due.UnixMilli(), now.UnixMilli()); err != nil {
				return 0, fmt.Errorf("queue digest item: %w", err)
			}
			n++
			continue
		}
		bodyID, ok := bodies[sub.Group]
		if !ok {
			d := s.placeholderData(sub.Group)
			d.Events = []eventView{view}
			parts, err := renderParts(ev.Kind, d)
			if err != nil {
				return 0, err
			}
			if bodyID, err = insertBody(ctx, tx, ev.Kind, parts, now); err != nil {
				return 0, err
			}
			bodies[sub.Group] = bodyID
		}
		if insOutbox == nil {
			if insOutbox, err = tx.PrepareContext(ctx, insertOutboxSQL); err != nil {
				return 0, fmt.Errorf("queue message: %w", err)
			}
			defer insOutbox.Close()
		}
		q := queued{Key: fmt.Sprintf("ev:%d:%s", evID, sub.Email), SubID: sub.ID, Kind: ev.Kind, To: sub.Email, Group: sub.Group,
			Token: s.manageToken(&sub.Subscription), BodyID: bodyID, ListHeaders: true}
		if err := s.queue(ctx, insOutbox.ExecContext, q, now); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
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

// insertBody stores rendered parts shared by the outbox rows of one
// event and group (with placeholders), or by one message.
func insertBody(ctx context.Context, tx *sql.Tx, kind string, p msgParts, now time.Time) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO notifier_bodies (kind, subject, text_body, html_body, created) VALUES (?, ?, ?, ?, ?)`,
		kind, p.Subject, p.Text, p.HTML, now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store message body: %w", err)
	}
	return res.LastInsertId()
}

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
}

// insertOutboxSQL adds one message to the outbox unless a row with the
// same dedupe key exists (so a re-run of the same fan-out cannot queue twice).
const insertOutboxSQL = `INSERT INTO notifier_outbox (dedupe_key, subscription_id, kind, recipient, grp, token, body_id, list_headers, message_id, next_attempt, created)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`

// execer runs insertOutboxSQL: a transaction's or a prepared statement's Exec.
type execer func(ctx context.Context, args ...any) (sql.Result, error)

// queue writes q with a new Message-ID.
func (s *Service) queue(ctx context.Context, exec execer, q queued, now time.Time) error {
	var sub any
	if q.SubID > 0 {
		sub = q.SubID
	}
	if _, err := exec(ctx, q.Key, sub, q.Kind, q.To, q.Group, q.Token, q.BodyID, q.ListHeaders, s.newMessageID(q.Kind), now.UnixMilli(), now.UnixMilli()); err != nil {
		return fmt.Errorf("queue message: %w", err)
	}
	return nil
}

// queueOne renders nothing: it stores one message's parts and its row.
func (s *Service) queueOne(ctx context.Context, tx *sql.Tx, q queued, p msgParts, now time.Time) error {
	id, err := insertBody(ctx, tx, q.Kind, p, now)
	if err != nil {
		return err
	}
	q.BodyID = id
	return s.queue(ctx, func(ctx context.Context, args ...any) (sql.Result, error) {
		return tx.ExecContext(ctx, insertOutboxSQL, args...)
	}, q, now)
}

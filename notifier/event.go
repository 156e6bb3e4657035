package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event kinds.
const (
	KindRelease = "release" // a new patch or version was published in a cycle
	KindEOL     = "eol"     // a cycle reached end of life, or is 90/30/7 days from it
	KindFleet   = "fleet"   // a host's verdict for a product changed
)

// Kinds lists every event kind a group may cover.
var Kinds = []string{KindRelease, KindEOL, KindFleet}

// Event is something subscribers may hear about. Events are written by the
// server in the same transaction as the change that caused them.
type Event struct {
	Kind    string    `json:"kind"`
	Product string    `json:"product"`
	Cycle   string    `json:"cycle,omitempty"`
	Version string    `json:"version,omitempty"` // release: the new version; fleet: the installed version
	Date    string    `json:"date,omitempty"`    // release date or eol date, YYYY-MM-DD
	Days    int       `json:"days,omitempty"`    // eol warnings: days before eol (90, 30, 7); 0 = reached
	Link    string    `json:"link,omitempty"`    // release notes link
	HostID  string    `json:"host_id,omitempty"` // fleet events
	Host    string    `json:"host,omitempty"`    // fleet events: hostname
	From    string    `json:"from,omitempty"`    // fleet events: previous status
	To      string    `json:"to,omitempty"`      // fleet events: new status
	Reason  string    `json:"reason,omitempty"`
	Created time.Time `json:"created"`
}

// maxEventField bounds every text field of an event, so a hostile catalog
// or agent cannot bloat the outbox.
const maxEventField = 2048

// Validate reports the first problem with ev, naming the field.
func (ev Event) Validate() error {
	switch ev.Kind {
	case KindRelease, KindEOL, KindFleet:
	default:
		return fmt.Errorf("event: kind %q is not one of %s", ev.Kind, strings.Join(Kinds, ", "))
	}
	if strings.TrimSpace(ev.Product) == "" {
		return errors.New("event: product is empty")
	}
	fields := map[string]string{"product": ev.Product, "cycle": ev.Cycle, "version": ev.Version, "date": ev.Date,
		"link": ev.Link, "host_id": ev.HostID, "host": ev.Host, "from": ev.From, "to": ev.To, "reason": ev.Reason}
	for name, v := range fields {
		if len(v) > maxEventField {
			return fmt.Errorf("event: %s is longer than %d bytes", name, maxEventField)
		}
	}
	if ev.Kind == KindRelease && ev.Version == "" {
		return errors.New("event: version is empty for a release event")
	}
	if ev.Kind == KindFleet && ev.HostID == "" && ev.Host == "" {
		return errors.New("event: host_id and host are both empty for a fleet event")
	}
	if ev.Days < 0 {
		return fmt.Errorf("event: days %d is negative", ev.Days)
	}
	return nil
}

// Enqueue records events inside the caller's transaction, so an event exists
// exactly when the change that caused it was committed. The notifier's
// worker picks them up after the commit (call Service.Kick to wake it
// early). An invalid event fails the whole call, naming the field.
func Enqueue(ctx context.Context, tx *sql.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO notifier_events (kind, product, payload, created) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("enqueue events: %w", err)
	}
	defer stmt.Close()
	now := time.Now().UTC()
	for i, ev := range evs {
		if err := ev.Validate(); err != nil {
			return fmt.Errorf("enqueue event %d: %w", i, err)
		}
		if ev.Created.IsZero() {
			ev.Created = now
		}
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("enqueue event %d: %w", i, err)
		}
		if _, err := stmt.ExecContext(ctx, ev.Kind, ev.Product, string(payload), ev.Created.UnixMilli()); err != nil {
			return fmt.Errorf("enqueue event %d: %w", i, err)
		}
	}
	return nil
}

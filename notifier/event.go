package notifier

import (
	"context"
	"database/sql"
	"time"
)

// SKELETON: Event, Enqueue and Migrate are the contract the server builds
// against; the notifier work fills them in.

// Event kinds.
const (
	KindRelease = "release" // a new patch or version was published in a cycle
	KindEOL     = "eol"     // a cycle reached end of life, or is 90/30/7 days from it
	KindFleet   = "fleet"   // a host's verdict for a product changed
)

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

// Migrate creates or upgrades the notifier's tables in db.
func Migrate(ctx context.Context, db *sql.DB) error { return nil }

// Enqueue records events inside the caller's transaction, so an event exists
// exactly when the change that caused it was committed.
func Enqueue(ctx context.Context, tx *sql.Tx, evs ...Event) error { return nil }

// Package events is the notifier's inbox, and all that storage needs of it:
// the Event type and Enqueue, which writes events into the notifier_events
// table inside the caller's transaction, so an event exists exactly when the
// change that caused it was committed. It has no mail code: the server store
// and the catalog service import it, the notifier (which creates the table
// in its migrations and fans the events out) reads what it wrote.
package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// Event kinds.
const (
	KindRelease = "release" // a new patch or version was published in a cycle
	KindEOL     = "eol"     // a cycle reached end of life, or is 90/30/7 days from it
	KindFleet   = "fleet"   // a host's verdict for a product changed
)

// HostKindAsset is Event.HostKind for an asset (the server's api.KindAsset).
const HostKindAsset = "asset"

// Kinds lists every event kind a group may cover.
var Kinds = []string{KindRelease, KindEOL, KindFleet}

// Event is something subscribers may hear about. Events are written by the
// server in the same transaction as the change that caused them.
type Event struct {
	Kind    string `json:"kind"`
	Product string `json:"product"`
	Cycle   string `json:"cycle,omitempty"`
	Version string `json:"version,omitempty"` // release: the new version; fleet: the installed version
	Date    string `json:"date,omitempty"`    // release date or eol date, YYYY-MM-DD
	Days    int    `json:"days,omitempty"`    // eol warnings: days before eol (90, 30, 7); 0 = reached
	Link    string `json:"link,omitempty"`    // release notes link
	HostID  string `json:"host_id,omitempty"` // fleet events
	Host    string `json:"host,omitempty"`    // fleet events: hostname, or an asset's name
	// HostKind is, for a fleet event, HostKindAsset when HostID is an asset
	// (an image or artefact registered by its SBOM) rather than an agent's
	// host; empty for a host.
	HostKind string `json:"host_kind,omitempty"`
	From     string `json:"from,omitempty"` // fleet events: previous status
	To       string `json:"to,omitempty"`   // fleet events: new status
	Reason   string `json:"reason,omitempty"`
	// Maintainer, CatalogDate and Warnings are a fleet event's verdict's:
	// whose support it follows ("upstream" or a distribution, "debian"),
	// the day its catalog data was taken, and the sentences to show beside
	// the reason (the catalog's or the host's repository data's age...).
	Maintainer  string    `json:"maintainer,omitempty"`
	CatalogDate string    `json:"catalog_date,omitempty"`
	Warnings    []string  `json:"warnings,omitempty"`
	Created     time.Time `json:"created"`
}

// maxWarnings bounds an event's warnings.
const maxWarnings = 16

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
	fields := [...]struct{ name, v string }{{"product", ev.Product}, {"cycle", ev.Cycle}, {"version", ev.Version},
		{"date", ev.Date}, {"link", ev.Link}, {"host_id", ev.HostID}, {"host", ev.Host}, {"from", ev.From}, {"to", ev.To},
		{"reason", ev.Reason}, {"maintainer", ev.Maintainer}, {"catalog_date", ev.CatalogDate}}
	for _, f := range fields {
		if len(f.v) > maxEventField {
			return fmt.Errorf("event: %s is longer than %d bytes", f.name, maxEventField)
		}
	}
	if len(ev.Warnings) > maxWarnings {
		return fmt.Errorf("event: %d warnings, at most %d", len(ev.Warnings), maxWarnings)
	}
	for i, w := range ev.Warnings {
		if len(w) > maxEventField {
			return fmt.Errorf("event: warnings[%d] is longer than %d bytes", i, maxEventField)
		}
	}
	if ev.Kind == KindRelease && ev.Version == "" {
		return errors.New("event: version is empty for a release event")
	}
	if ev.Kind == KindFleet && ev.HostID == "" && ev.Host == "" {
		return errors.New("event: host_id and host are both empty for a fleet event")
	}
	if ev.HostKind != "" && ev.HostKind != HostKindAsset && ev.HostKind != "host" {
		return fmt.Errorf("event: host_kind %q is not host or %s", ev.HostKind, HostKindAsset)
	}
	if ev.Days < 0 {
		return fmt.Errorf("event: days %d is negative", ev.Days)
	}
	return nil
}

// Enqueue records events inside the caller's transaction, so an event exists
// exactly when the change that caused it was committed. The notifier's
// worker picks them up after the commit (call notifier.Service.Kick to wake it
// early). An invalid event fails the whole call, naming the field, before
// anything is written.
//
// Events are written in order (ascending ids, as the fan-out cursor reads
// them) with multi-row INSERTs of up to enqueueChunk rows, so a batch of
// thousands costs a few hundred statements, not one per event: pass a
// change's events in one call rather than one call each.
func Enqueue(ctx context.Context, tx *sql.Tx, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return fmt.Errorf("enqueue event %d: %w", i, err)
		}
	}
	return insertRows(ctx, tx, evs)
}

// EnqueueOn is Enqueue for a transaction on engine d. On PostgreSQL each
// statement carries up to pgChunk events as four arrays (one round trip
// for a few thousand events, where Enqueue's portable multi-row INSERT
// needs one per 200); on SQLite it is Enqueue.
func EnqueueOn(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, evs ...Event) error {
	if d != sqldb.Postgres || len(evs) <= enqueueChunk {
		return Enqueue(ctx, tx, evs...)
	}
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return fmt.Errorf("enqueue event %d: %w", i, err)
		}
	}
	now := time.Now().UTC()
	var buf []byte
	for start := 0; start < len(evs); start += pgChunk {
		part := evs[start:min(start+pgChunk, len(evs))]
		kinds, products, payloads := make([]string, len(part)), make([]string, len(part)), make([]string, len(part))
		created := make([]int64, len(part))
		for i := range part {
			ev := &part[i]
			at := ev.Created
			if at.IsZero() {
				at = now
			}
			var err error
			if buf, err = appendEventJSON(buf[:0], ev, at); err != nil {
				return fmt.Errorf("enqueue event %d: %w", start+i, err)
			}
			kinds[i], products[i], payloads[i], created[i] = ev.Kind, ev.Product, string(buf), at.UnixMilli()
		}
		// WITH ORDINALITY ... ORDER BY n: ids in the events' order.
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifier_events (kind, product, payload, created)
			SELECT k, p, pl, c FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[]) WITH ORDINALITY AS u(k, p, pl, c, n) ORDER BY n`,
			kinds, products, payloads, created); err != nil {
			return fmt.Errorf("enqueue events %d-%d: %w", start, start+len(part)-1, err)
		}
	}
	return nil
}

// pgChunk is the number of events one PostgreSQL statement carries.
const pgChunk = 5000

// insertRows writes validated events with portable multi-row INSERTs.
func insertRows(ctx context.Context, tx *sql.Tx, evs []Event) error {
	now := time.Now().UTC()
	chunk := min(len(evs), enqueueChunk)
	full, err := tx.PrepareContext(ctx, insertEventsSQL(chunk))
	if err != nil {
		return fmt.Errorf("enqueue events: %w", err)
	}
	defer full.Close()
	args := make([]any, 0, 4*chunk)
	// One buffer holds the payloads of a chunk; each payload is a string
	// cut from it, so a chunk costs one allocation for its JSON.
	var buf []byte
	for start := 0; start < len(evs); start += chunk {
		part := evs[start:min(start+chunk, len(evs))]
		args, buf = args[:0], buf[:0]
		ends := make([]int, 0, len(part))
		for i := range part {
			ev := &part[i]
			created := ev.Created
			if created.IsZero() {
				created = now
			}
			if buf, err = appendEventJSON(buf, ev, created); err != nil {
				return fmt.Errorf("enqueue event %d: %w", start+i, err)
			}
			ends = append(ends, len(buf))
		}
		payloads := string(buf)
		from := 0
		for i := range part {
			ev := &part[i]
			created := ev.Created
			if created.IsZero() {
				created = now
			}
			args = append(args, ev.Kind, ev.Product, payloads[from:ends[i]], created.UnixMilli())
			from = ends[i]
		}
		stmt := full
		if len(part) < chunk {
			// The last, shorter chunk of a long batch.
			if stmt, err = tx.PrepareContext(ctx, insertEventsSQL(len(part))); err != nil {
				return fmt.Errorf("enqueue events: %w", err)
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("enqueue events %d-%d: %w", start, start+len(part)-1, err)
		}
	}
	return nil
}

// enqueueChunk is the number of events one INSERT writes: 4 parameters a
// row keeps a statement under SQLite's historical limit of 999 parameters
// (and PostgreSQL's 65,535).
const enqueueChunk = 200

// insertEventsSQL is a portable multi-row INSERT of n events.
func insertEventsSQL(n int) string {
	var b strings.Builder
	b.Grow(70 + 14*n)
	b.WriteString(`INSERT INTO notifier_events (kind, product, payload, created) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?)`)
	}
	return b.String()
}

// appendEventJSON appends ev's JSON payload, with created as its Created
// time, to dst. The result is byte for byte what json.Marshal writes for
// the event (same field order, omitempty, escaping and time format): the
// common case (plain ASCII text, a UTC time) is written directly, anything
// else goes through encoding/json.
func appendEventJSON(dst []byte, ev *Event, created time.Time) ([]byte, error) {
	if created.Location() != time.UTC || created.Year() < 0 || created.Year() > 9999 {
		e := *ev
		e.Created = created
		js, err := json.Marshal(e)
		return append(dst, js...), err
	}
	dst = append(dst, `{"kind":`...)
	dst = appendJSONString(dst, ev.Kind)
	dst = append(dst, `,"product":`...)
	dst = appendJSONString(dst, ev.Product)
	dst = appendOptString(dst, `,"cycle":`, ev.Cycle)
	dst = appendOptString(dst, `,"version":`, ev.Version)
	dst = appendOptString(dst, `,"date":`, ev.Date)
	if ev.Days != 0 {
		dst = append(dst, `,"days":`...)
		dst = strconv.AppendInt(dst, int64(ev.Days), 10)
	}
	dst = appendOptString(dst, `,"link":`, ev.Link)
	dst = appendOptString(dst, `,"host_id":`, ev.HostID)
	dst = appendOptString(dst, `,"host":`, ev.Host)
	dst = appendOptString(dst, `,"host_kind":`, ev.HostKind)
	dst = appendOptString(dst, `,"from":`, ev.From)
	dst = appendOptString(dst, `,"to":`, ev.To)
	dst = appendOptString(dst, `,"reason":`, ev.Reason)
	dst = appendOptString(dst, `,"maintainer":`, ev.Maintainer)
	dst = appendOptString(dst, `,"catalog_date":`, ev.CatalogDate)
	if len(ev.Warnings) > 0 {
		dst = append(dst, `,"warnings":[`...)
		for i, w := range ev.Warnings {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, w)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"created":"`...)
	dst = created.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...), nil
}

// appendOptString appends an omitempty string field.
func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	return appendJSONString(append(dst, key...), s)
}

// appendJSONString appends s as a JSON string the way encoding/json does:
// printable ASCII other than the characters it escapes is copied as is,
// and a string with anything else is handed to json.Marshal.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			js, _ := json.Marshal(s) // a string always encodes
			return append(dst, js...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

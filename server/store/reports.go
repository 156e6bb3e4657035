package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// ReportInput is an authenticated report ready to store: its items already
// matched and the verdict of every matched (product, version) computed.
type ReportInput struct {
	Host   HostRef
	Report api.Report // Items is ignored: see Items below
	// Items is the full inventory with matches (the OS included as a source
	// "os" item); ignored for a check-in.
	Items []MatchedItem
	// Verdicts holds one entry per distinct matched (product, version).
	Verdicts []Verdict
	// CatalogVersion is the catalog that produced Verdicts.
	CatalogVersion string
	AsOf           string // YYYY-MM-DD the verdicts are for
	// Candidates are the host's packages whose candidate is newer than the
	// installed version, with when each candidate was first seen: the
	// host's remembered candidates become these (see Candidates), except
	// that an unchanged candidate keeps its stored first-seen time.
	Candidates []Candidate
}

// ReportResult says what happened to a report.
type ReportResult struct {
	Duplicate bool // the report id was already applied: nothing changed
	NeedFull  bool // a check-in whose hash does not match the stored inventory
	Added     int  // inventory items added
	Removed   int  // inventory items removed
	Changes   int  // verdicts that changed (one fleet event each, see ApplyReport)
}

// ApplyReport stores a report in one transaction: the host's info and times,
// the inventory diff, the verdict diff and one events.KindFleet event per
// changed verdict. A report id the host already sent is acknowledged with
// Duplicate and not applied again.
func (s *Store) ApplyReport(ctx context.Context, in ReportInput) (ReportResult, error) {
	if in.Report.Kind == api.ReportCheckin {
		return s.checkin(ctx, in)
	}
	var res ReportResult
	var fresh map[swKey]int64
	now := s.now()
	err := s.ingestTx(ctx, func(tx *sql.Tx) error {
		res, fresh = ReportResult{}, nil
		// PostgreSQL: reports of one host apply one at a time (SQLite's
		// single writer does that already).
		if err := s.lockHost(ctx, tx, in.Host.ID); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO reports (host_id, report_id, kind, received_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (host_id, report_id) DO NOTHING`, in.Host.ID, in.Report.ReportID, in.Report.Kind, now.UnixNano())
		if err != nil {
			return fmt.Errorf("record report: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return nil
		}
		var inv inventoryResult
		inv, err = s.applyInventory(ctx, tx, in.Host, in.Items, in.Verdicts, in.CatalogVersion, in.AsOf, now)
		if err != nil {
			return err
		}
		fresh = inv.fresh
		res.Added, res.Removed, res.Changes = inv.added, inv.removed, inv.changes
		if err := diffCandidates(ctx, tx, in.Host.ID, in.Candidates); err != nil {
			return err
		}
		info, err := json.Marshal(in.Report.Host)
		if err != nil {
			return fmt.Errorf("host info: %w", err)
		}
		var errs []byte
		if len(in.Report.Errors) > 0 {
			if errs, err = json.Marshal(in.Report.Errors); err != nil {
				return fmt.Errorf("collector errors: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET hostname = ?, info = ?, last_report_id = ?, last_report_at = ?,
			last_checkin_at = ?, inventory_hash = ?, item_count = ?, unmatched_count = ?, collector_errors = ?, status_rank = ?
			WHERE id = ?`, in.Report.Host.Hostname, string(info), in.Report.ReportID, now.UnixNano(), now.UnixNano(),
			in.Report.InventoryHash, inv.items, inv.unmatched, string(errs), inv.rank, in.Host.ID)
		if err != nil {
			return fmt.Errorf("update host: %w", err)
		}
		return nil
	})
	if err != nil {
		return ReportResult{}, fmt.Errorf("apply report %s: %w", in.Report.ReportID, err)
	}
	s.remember(fresh)
	if !res.Duplicate && in.Report.Kind != api.ReportCheckin {
		s.sawEvaluations(in.Verdicts, in.CatalogVersion, in.AsOf)
	}
	return res, nil
}

// inventoryResult is what applyInventory did.
type inventoryResult struct {
	fresh            map[swKey]int64 // software rows created (cached after commit)
	items, unmatched int             // the inventory's size, and its items no product matched
	added, removed   int             // inventory links added and removed
	rank, changes    int             // the host's worst status rank; verdicts that changed
}

// applyInventory makes a host's (or an asset's) stored inventory and
// verdicts those of a full inventory, inside tx: the software rows, the
// inventory diff, the evaluations, and the verdict diff with one
// events.KindFleet event per changed verdict.
func (s *Store) applyInventory(ctx context.Context, tx *sql.Tx, h HostRef, items []MatchedItem, vs []Verdict,
	catalogVersion, asOf string, now time.Time) (inventoryResult, error) {
	var res inventoryResult
	ids, fresh, err := s.softwareIDs(ctx, tx, items)
	if err != nil {
		return res, err
	}
	res.fresh, res.items = fresh, len(ids)
	if res.added, res.removed, err = s.diffInventory(ctx, tx, h.ID, ids); err != nil {
		return res, err
	}
	if _, err := s.upsertEvaluations(ctx, tx, s.unseenEvaluations(vs, catalogVersion, asOf), catalogVersion, asOf); err != nil {
		return res, err
	}
	if res.rank, res.changes, err = s.diffVerdicts(ctx, tx, h, vs, catalogVersion, now); err != nil {
		return res, err
	}
	for _, it := range items {
		if it.Match.Product == "" {
			res.unmatched++
		}
	}
	return res, nil
}

// diffInventory makes the host's links equal to ids, touching only what changed.
func (s *Store) diffInventory(ctx context.Context, tx *sql.Tx, hostID int64, ids []int64) (added, removed int, err error) {
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT software_id FROM host_software WHERE host_id = ?`, hostID)
	if err != nil {
		return 0, 0, fmt.Errorf("read inventory: %w", err)
	}
	have := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read inventory: %w", err)
		}
		have[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read inventory: %w", err)
	}
	var gone []int64
	for id := range have {
		if !want[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) > 0 && s.d == sqldb.Postgres {
		if err := pgDeleteLinks(ctx, tx, hostID, gone); err != nil {
			return 0, 0, err
		}
	} else if len(gone) > 0 {
		del, err := tx.PrepareContext(ctx, `DELETE FROM host_software WHERE host_id = ? AND software_id = ?`)
		if err != nil {
			return 0, 0, fmt.Errorf("prepare delete: %w", err)
		}
		defer del.Close()
		for _, id := range gone {
			if _, err := del.ExecContext(ctx, hostID, id); err != nil {
				return 0, 0, fmt.Errorf("remove item: %w", err)
			}
		}
	}
	var fresh []int64
	for id := range want {
		if !have[id] {
			fresh = append(fresh, id)
		}
	}
	slices.Sort(fresh)
	insert := insertLinks
	if s.d == sqldb.Postgres {
		insert = pgInsertLinks
	}
	if err := insert(ctx, tx, hostID, fresh); err != nil {
		return 0, 0, err
	}
	added = len(fresh)
	return added, len(gone), nil
}

// linkBatch is how many links one INSERT statement carries.
const linkBatch = 250

// insertLinks adds host->software links with multi-row INSERTs (one
// statement per linkBatch rows rather than one per row).
func insertLinks(ctx context.Context, tx *sql.Tx, hostID int64, ids []int64) error {
	var full *sql.Stmt
	for len(ids) > 0 {
		n := min(len(ids), linkBatch)
		args := make([]any, 0, 2*n)
		for _, id := range ids[:n] {
			args = append(args, hostID, id)
		}
		var err error
		if n == linkBatch {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, linkInsertSQL(linkBatch)); err != nil {
					return fmt.Errorf("prepare links: %w", err)
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, linkInsertSQL(n), args...)
		}
		if err != nil {
			return fmt.Errorf("add items: %w", err)
		}
		ids = ids[n:]
	}
	return nil
}

func linkInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO host_software (host_id, software_id) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?)")
	}
	return b.String()
}

// PruneReports forgets report ids received before cutoff (the idempotency
// window) and returns how many were removed.
func (s *Store) PruneReports(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM reports WHERE received_at < ?`, cutoff.UnixNano())
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("prune reports: %w", err)
	}
	return n, nil
}

// ReportSeen reports whether a host already sent a report id.
func (s *Store) ReportSeen(ctx context.Context, hostID int64, reportID string) (bool, error) {
	var x int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM reports WHERE host_id = ? AND report_id = ?`, hostID, reportID).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("report seen: %w", err)
	}
	return true, nil
}

var _ = events.Enqueue

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Candidate is a package on a host whose package manager offers a newer
// version (the candidate), with the time the server first saw that
// candidate for the host: a distribution's package is patch-overdue once
// the grace period has passed since then.
type Candidate struct {
	Source, Name, Arch string // the package, as in api.Item
	Candidate          string
	FirstSeen          time.Time
}

// Candidates returns the candidates remembered for a host (by its row id),
// in no particular order.
func (s *Store) Candidates(ctx context.Context, hostID int64) ([]Candidate, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT source, name, arch, candidate, first_seen FROM candidates WHERE host_id = ?`, hostID)
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	defer rows.Close()
	return scanCandidates(rows)
}

func scanCandidates(rows *sql.Rows) ([]Candidate, error) {
	var out []Candidate
	for rows.Next() {
		var c Candidate
		var seen int64
		if err := rows.Scan(&c.Source, &c.Name, &c.Arch, &c.Candidate, &seen); err != nil {
			return nil, fmt.Errorf("candidates: %w", err)
		}
		c.FirstSeen = unixNano(seen)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	return out, nil
}

// txCandidates reads a host's candidates inside tx.
func txCandidates(ctx context.Context, tx *sql.Tx, hostID int64) ([]Candidate, error) {
	rows, err := tx.QueryContext(ctx, `SELECT source, name, arch, candidate, first_seen FROM candidates WHERE host_id = ?`, hostID)
	if err != nil {
		return nil, fmt.Errorf("candidates: %w", err)
	}
	defer rows.Close()
	return scanCandidates(rows)
}

// diffCandidates makes a host's remembered candidates those of cs, inside
// tx, touching only what changed. A package whose candidate is unchanged
// keeps its stored first-seen time, even when cs says otherwise (two
// reports of one host racing), so the grace period never restarts while
// the candidate stays the same.
func diffCandidates(ctx context.Context, tx *sql.Tx, hostID int64, cs []Candidate) error {
	have, err := txCandidates(ctx, tx, hostID)
	if err != nil {
		return err
	}
	type key struct{ source, name, arch string }
	old := make(map[key]string, len(have))
	for _, c := range have {
		old[key{c.Source, c.Name, c.Arch}] = c.Candidate
	}
	var up *sql.Stmt
	for _, c := range cs {
		k := key{c.Source, c.Name, c.Arch}
		cand, ok := old[k]
		delete(old, k)
		if ok && cand == c.Candidate {
			continue
		}
		if up == nil {
			if up, err = tx.PrepareContext(ctx, `INSERT INTO candidates (host_id, source, name, arch, candidate, first_seen)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (host_id, source, name, arch) DO UPDATE SET candidate = excluded.candidate, first_seen = excluded.first_seen
				WHERE candidates.candidate <> excluded.candidate`); err != nil {
				return fmt.Errorf("prepare candidates: %w", err)
			}
			defer up.Close()
		}
		if _, err := up.ExecContext(ctx, hostID, c.Source, c.Name, c.Arch, c.Candidate, c.FirstSeen.UnixNano()); err != nil {
			return fmt.Errorf("store candidate %s %s: %w", c.Source, c.Name, err)
		}
	}
	if len(old) == 0 {
		return nil
	}
	del, err := tx.PrepareContext(ctx, `DELETE FROM candidates WHERE host_id = ? AND source = ? AND name = ? AND arch = ?`)
	if err != nil {
		return fmt.Errorf("prepare candidates: %w", err)
	}
	defer del.Close()
	for k := range old {
		if _, err := del.ExecContext(ctx, hostID, k.source, k.name, k.arch); err != nil {
			return fmt.Errorf("forget candidate %s %s: %w", k.source, k.name, err)
		}
	}
	return nil
}

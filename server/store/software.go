package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
)

// swKey is the identity of a distinct software row.
type swKey struct {
	source, name, version, arch, extra string
}

// itemExtra is the part of an item's identity beyond source/name/version/arch.
// The repository fields (origin, suite, candidate) are part of it too: a
// package whose candidate changes is a changed item, and the row keeps what
// the agent last reported. An old row without them reads back as before.
type itemExtra struct {
	SourcePkg       string `json:"source_pkg,omitempty"`
	Publisher       string `json:"publisher,omitempty"`
	BundleID        string `json:"bundle_id,omitempty"`
	Product         string `json:"product,omitempty"`
	Origin          string `json:"origin,omitempty"`
	Suite           string `json:"suite,omitempty"`
	Candidate       string `json:"candidate,omitempty"`
	CandidateOrigin string `json:"candidate_origin,omitempty"`
	CandidateSuite  string `json:"candidate_suite,omitempty"`
	// Section and Summary are what the matcher reads a package's role from
	// (a debug or transitional package): kept so a re-match agrees.
	Section string `json:"section,omitempty"`
	Summary string `json:"summary,omitempty"`
}

func keyOf(it api.Item) swKey {
	k := swKey{source: it.Source, name: it.Name, version: it.Version, arch: it.Arch}
	x := itemExtra{it.SourcePkg, it.Publisher, it.BundleID, it.Product, it.Origin, it.Suite, it.Candidate, it.CandidateOrigin, it.CandidateSuite, it.Section, it.Summary}
	if x != (itemExtra{}) {
		b, _ := json.Marshal(x)
		k.extra = string(b)
	}
	return k
}

func (k swKey) item() api.Item {
	it := api.Item{Source: k.source, Name: k.name, Version: k.version, Arch: k.arch}
	if k.extra != "" {
		var x itemExtra
		if json.Unmarshal([]byte(k.extra), &x) == nil {
			it.SourcePkg, it.Publisher, it.BundleID, it.Product = x.SourcePkg, x.Publisher, x.BundleID, x.Product
			it.Origin, it.Suite, it.Candidate = x.Origin, x.Suite, x.Candidate
			it.CandidateOrigin, it.CandidateSuite = x.CandidateOrigin, x.CandidateSuite
			it.Section, it.Summary = x.Section, x.Summary
		}
	}
	return it
}

// Match is what an item matched in the catalog; Product is "" when unmatched.
type Match struct {
	Product string // catalog product id
	Version string // upstream version used for the verdict
	Rule    string // rule that matched
}

// MatchedItem is an inventory item with its match.
type MatchedItem struct {
	Item  api.Item
	Match Match
}

// softwareIDs resolves (inserting when new) the row ids of items inside tx.
// New ids are returned in fresh so the caller can cache them after commit.
func (s *Store) softwareIDs(ctx context.Context, tx *sql.Tx, items []MatchedItem) (ids []int64, fresh map[swKey]int64, err error) {
	ids = make([]int64, len(items))
	var sel, ins *sql.Stmt
	s.mu.RLock()
	var missing []int
	for i, it := range items {
		if id, ok := s.swIDs[keyOf(it.Item)]; ok {
			ids[i] = id
		} else {
			missing = append(missing, i)
		}
	}
	s.mu.RUnlock()
	if len(missing) == 0 {
		return ids, nil, nil
	}
	if s.d == sqldb.Postgres {
		fresh, err = pgSoftwareIDs(ctx, tx, items, missing, ids)
		return ids, fresh, err
	}
	// Insert first: the cache holds every row this process committed, so a
	// miss is usually a new row. On a conflict nothing is returned and the
	// row is looked up.
	ins, err = tx.PrepareContext(ctx, `INSERT INTO software (source, name, version, arch, extra, product, match_version, rule)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, name, version, arch, extra) DO NOTHING RETURNING id`)
	if err != nil {
		return nil, nil, fmt.Errorf("prepare software insert: %w", err)
	}
	defer ins.Close()
	fresh = map[swKey]int64{}
	for _, i := range missing {
		k := keyOf(items[i].Item)
		if id, ok := fresh[k]; ok {
			ids[i] = id
			continue
		}
		var id int64
		m := items[i].Match
		err := ins.QueryRowContext(ctx, k.source, k.name, k.version, k.arch, k.extra, m.Product, m.Version, m.Rule).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			if sel == nil {
				if sel, err = tx.PrepareContext(ctx, `SELECT id FROM software WHERE source = ? AND name = ? AND version = ? AND arch = ? AND extra = ?`); err != nil {
					return nil, nil, fmt.Errorf("prepare software lookup: %w", err)
				}
				defer sel.Close()
			}
			err = sel.QueryRowContext(ctx, k.source, k.name, k.version, k.arch, k.extra).Scan(&id)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("software %s %q %q: %w", k.source, k.name, k.version, err)
		}
		fresh[k] = id
		ids[i] = id
	}
	return ids, fresh, nil
}

// swCacheMax bounds the software id cache. Past it the cache starts over
// (a miss costs a lookup inside the report's transaction), so hosts
// reporting fresh software in every report, an endpoint sending junk
// included, cannot grow the server's memory without end. A fleet's
// distinct software usually fits many times over (about 170 bytes an id:
// some 45 MB when full).
const swCacheMax = 1 << 18

// swCacheLen is how many software ids the cache holds.
func (s *Store) swCacheLen() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.swIDs)
}

// warmCache loads the newest software row ids (up to the cache's bound),
// so ingestion rarely needs a lookup.
func (s *Store) warmCache(ctx context.Context) error {
	rows, err := s.r.QueryContext(ctx, `SELECT id, source, name, version, arch, extra FROM software ORDER BY id DESC LIMIT ?`, s.swMax)
	if err != nil {
		return fmt.Errorf("load software ids: %w", err)
	}
	defer rows.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for rows.Next() {
		var id int64
		var k swKey
		if err := rows.Scan(&id, &k.source, &k.name, &k.version, &k.arch, &k.extra); err != nil {
			return fmt.Errorf("load software ids: %w", err)
		}
		s.swIDs[k] = id
	}
	return rows.Err()
}

// remember caches software ids after the transaction that created them
// committed; a cache that would pass its bound starts over.
func (s *Store) remember(fresh map[swKey]int64) {
	if len(fresh) == 0 {
		return
	}
	s.mu.Lock()
	if len(s.swIDs)+len(fresh) > s.swMax {
		s.swIDs = map[swKey]int64{}
	}
	for k, id := range fresh {
		if len(s.swIDs) >= s.swMax {
			break
		}
		s.swIDs[k] = id
	}
	s.mu.Unlock()
}

// hostInventory lists a host's items with their matches, sorted by source then name.
func (s *Store) hostInventory(ctx context.Context, hostID int64) ([]api.InventoryItem, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT s.source, s.name, s.version, s.arch, s.extra, s.product, s.match_version, s.rule
		FROM host_software hs JOIN software s ON s.id = hs.software_id
		WHERE hs.host_id = ? ORDER BY s.source, s.name, s.version`, hostID)
	if err != nil {
		return nil, fmt.Errorf("host inventory: %w", err)
	}
	defer rows.Close()
	out := []api.InventoryItem{}
	for rows.Next() {
		var k swKey
		var it api.InventoryItem
		if err := rows.Scan(&k.source, &k.name, &k.version, &k.arch, &k.extra, &it.MatchProduct, &it.MatchVersion, &it.MatchRule); err != nil {
			return nil, fmt.Errorf("host inventory: %w", err)
		}
		it.Item = k.item()
		out = append(out, it)
	}
	return out, rows.Err()
}

// Rematch re-runs matching over every distinct software row (after a catalog
// change) and returns the ids of hosts holding a row whose match changed.
func (s *Store) rematch(ctx context.Context, match func(api.Item) Match) (changedHosts []int64, err error) {
	type change struct {
		id int64
		m  Match
	}
	var changes []change
	rows, err := s.r.QueryContext(ctx, `SELECT id, source, name, version, arch, extra, product, match_version, rule FROM software`)
	if err != nil {
		return nil, fmt.Errorf("rematch: %w", err)
	}
	for rows.Next() {
		var id int64
		var k swKey
		var old Match
		if err := rows.Scan(&id, &k.source, &k.name, &k.version, &k.arch, &k.extra, &old.Product, &old.Version, &old.Rule); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rematch: %w", err)
		}
		if m := match(k.item()); m != old {
			changes = append(changes, change{id, m})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rematch: %w", err)
	}
	if len(changes) == 0 {
		return nil, nil
	}
	hosts := map[int64]bool{}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `UPDATE software SET product = ?, match_version = ?, rule = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer up.Close()
		for _, c := range changes {
			if _, err := up.ExecContext(ctx, c.m.Product, c.m.Version, c.m.Rule, c.id); err != nil {
				return err
			}
		}
		// host_software has no index by software (it would slow every
		// ingest); one scan per chunk of changed rows is fine for this rare path.
		for start := 0; start < len(changes); start += 500 {
			chunk := changes[start:min(start+500, len(changes))]
			args := make([]any, len(chunk))
			for i, c := range chunk {
				args[i] = c.id
			}
			hr, err := tx.QueryContext(ctx, `SELECT DISTINCT host_id FROM host_software WHERE software_id IN (`+placeholders(len(chunk))+`)`, args...)
			if err != nil {
				return err
			}
			for hr.Next() {
				var h int64
				if err := hr.Scan(&h); err != nil {
					hr.Close()
					return err
				}
				hosts[h] = true
			}
			hr.Close()
			if err := hr.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rematch: %w", err)
	}
	for h := range hosts {
		changedHosts = append(changedHosts, h)
	}
	return changedHosts, nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	b := make([]byte, 0, 3*n)
	for i := range n {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '?')
	}
	return string(b)
}

// InventoryPage returns one page of a host's inventory, by name, version
// then source, with each item's match, and the size of the whole
// inventory. hostID is the public host id; an unknown one is ErrNotFound.
// A negative offset is 0; limit 0 or less means 100, and at most 1000.
func (s *Store) InventoryPage(ctx context.Context, hostID string, offset, limit int) ([]api.InventoryItem, int, error) {
	var id int64
	var total int
	err := s.r.QueryRowContext(ctx, `SELECT h.id, (SELECT COUNT(*) FROM host_software hs WHERE hs.host_id = h.id)
		FROM hosts h WHERE h.uid = ?`, hostID).Scan(&id, &total)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("host %q: %w", hostID, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("inventory page: %w", err)
	}
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, `SELECT s.source, s.name, s.version, s.arch, s.extra, s.product, s.match_version, s.rule
		FROM host_software hs JOIN software s ON s.id = hs.software_id
		WHERE hs.host_id = ? ORDER BY s.name, s.version, s.source LIMIT ? OFFSET ?`, id, min(limit, 1000), max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("inventory page: %w", err)
	}
	defer rows.Close()
	var out []api.InventoryItem
	for rows.Next() {
		var k swKey
		var it api.InventoryItem
		if err := rows.Scan(&k.source, &k.name, &k.version, &k.arch, &k.extra, &it.MatchProduct, &it.MatchVersion, &it.MatchRule); err != nil {
			return nil, 0, fmt.Errorf("inventory page: %w", err)
		}
		it.Item = k.item()
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("inventory page: %w", err)
	}
	return out, total, nil
}

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
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

// pruneBatch is how many software rows one pruning transaction looks at
// on PostgreSQL, so a prune never holds many row locks for long.
const pruneBatch = 1000

// PruneSoftware deletes the software rows that no host and no asset links
// any more (a package upgraded away everywhere, a deleted asset's SBOM
// components) and returns how many it deleted. It is safe beside
// ingestion: a row an ingest is about to link is either kept (the link
// exists, or on PostgreSQL the ingest holds the row's lock and the prune
// skips it) or deleted before the ingest links it, which then fails with
// a foreign-key violation and runs again, storing the row anew
// (ingestTx); no report is lost.
//
// On SQLite it is one statement on the single writer connection (no
// report is applied meanwhile): it reads every link once. On PostgreSQL
// it walks the table in id order, pruneBatch rows a transaction, through
// the links' software id index.
func (s *Store) PruneSoftware(ctx context.Context) (int64, error) {
	if s.d != sqldb.Postgres {
		return s.sqlitePruneSoftware(ctx)
	}
	var total int64
	var after int64
	for {
		var last int64
		var n int
		err := s.pruneTx(ctx, func(tx *sql.Tx) error {
			var err error
			n, last, err = s.pgPruneSoftware(ctx, tx, after, pruneBatch)
			return err
		})
		if err != nil {
			return total, err
		}
		total += int64(n)
		if last == 0 {
			return total, nil
		}
		after = last
	}
}

// sqlitePruneSoftware deletes every unlinked software row in one
// transaction on the writer connection, with foreign-key checks off for
// it: a deleted row's check would scan every link, and the transaction,
// holding the only write lock, has just read that none is left. The
// deleted rows' cached ids are forgotten before the commit.
//
// The row with the highest id is kept even when unlinked (a later prune
// takes it): SQLite gives a new row the highest id plus one, so deleting
// the highest would let the next new row take a deleted row's id, and an
// id still cached for the deleted row (a report's remember after the
// prune, another process) would then name another package. Kept, no id is
// ever given twice, and a stale id only fails its link (and the report
// runs again, ingestTx).
func (s *Store) sqlitePruneSoftware(ctx context.Context) (n int64, err error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune software: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return 0, fmt.Errorf("prune software: %w", err)
	}
	defer func() {
		if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); ferr != nil {
			// Never hand a connection without its checks back to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("prune software: foreign keys on again: %w", ferr))
		}
	}()
	err = s.noteWrite(func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		rows, err := tx.QueryContext(ctx, `DELETE FROM software WHERE id < (SELECT MAX(id) FROM software)
			AND id NOT IN (SELECT software_id FROM host_software)
			RETURNING source, name, version, arch, extra`)
		if err != nil {
			return err
		}
		gone, err := scanKeys(rows)
		if err != nil {
			return err
		}
		// Forgotten before the commit: no report is applied until then,
		// so none reads a deleted row's id from the cache.
		s.forget(gone)
		n = int64(len(gone))
		return tx.Commit()
	}())
	if err != nil {
		return 0, fmt.Errorf("prune software: %w", err)
	}
	return n, nil
}

// scanKeys reads (source, name, version, arch, extra) rows and closes them.
func scanKeys(rows *sql.Rows) ([]swKey, error) {
	defer rows.Close()
	var out []swKey
	for rows.Next() {
		var k swKey
		if err := rows.Scan(&k.source, &k.name, &k.version, &k.arch, &k.extra); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// pruneTx runs a PostgreSQL pruning transaction, again (up to three
// times) when a link to a row it deletes was committed meanwhile (the
// deletion's foreign-key check sees it and fails; the row is kept).
func (s *Store) pruneTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt >= 3 || !sqldb.ForeignKeyViolation(err) {
			if err != nil {
				return fmt.Errorf("prune software: %w", err)
			}
			return nil
		}
	}
}

// pgPruneSoftware deletes, inside tx, the unlinked rows among the limit
// software rows after id after, forgetting their cached ids; rows whose
// lock an ingest holds (it is linking them now) are skipped. It returns
// how many it deleted and the highest id it looked at (0: none left).
func (s *Store) pgPruneSoftware(ctx context.Context, tx *sql.Tx, after int64, limit int) (deleted int, last int64, err error) {
	var max sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(id) FROM (SELECT id FROM software WHERE id > ? ORDER BY id LIMIT ?) c`,
		after, limit).Scan(&max); err != nil {
		return 0, 0, err
	}
	if !max.Valid {
		return 0, 0, nil
	}
	rows, err := tx.QueryContext(ctx, `DELETE FROM software WHERE id IN (SELECT s.id FROM software s WHERE s.id > ? AND s.id <= ?
		AND NOT EXISTS (SELECT 1 FROM host_software hs WHERE hs.software_id = s.id) FOR UPDATE SKIP LOCKED)
		RETURNING source, name, version, arch, extra`, after, max.Int64)
	if err != nil {
		return 0, 0, err
	}
	gone, err := scanKeys(rows)
	if err != nil {
		return 0, 0, err
	}
	s.forget(gone)
	return len(gone), max.Int64, nil
}

// forget drops software keys from the id cache.
func (s *Store) forget(keys []swKey) {
	if len(keys) == 0 {
		return
	}
	s.mu.Lock()
	for _, k := range keys {
		delete(s.swIDs, k)
	}
	s.mu.Unlock()
}

// ingestTx runs an ingesting transaction (a report, an SBOM upload): when
// it fails because a software row it linked was pruned meanwhile (its id
// came from this process's cache, or another server pruned it), the cache
// is dropped and the transaction runs again, resolving the rows anew (up
// to three times).
func (s *Store) ingestTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTx(ctx, fn)
		if err == nil || attempt >= 3 || !sqldb.ForeignKeyViolation(err) {
			return err
		}
		s.mu.Lock()
		s.swIDs = map[swKey]int64{}
		s.mu.Unlock()
	}
}

package store

// The PostgreSQL side of the store: the statements that differ from the
// portable ones beside each method. Several server processes write at once
// here, so what SQLite's single writer gave for free is explicit: a host's
// reports take its row lock, and statements that touch many rows lock them
// in a fixed order (transactions that still deadlock are retried by
// sqldb.InTx). Work that SQLite does with one cheap in-process statement
// per row is batched into one statement with array parameters, because
// every PostgreSQL statement is a network round trip.

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// pgHostOSName is hostOSName in PostgreSQL.
const pgHostOSName = `(h.info::json ->> 'os_name')`

// pgHostnameLike is hostnameLike in PostgreSQL: ILIKE ignores case as
// SQLite's LIKE does.
const pgHostnameLike = `h.hostname ILIKE ? ESCAPE '\'`

// lockHost takes host id's row lock for the rest of tx on PostgreSQL, so
// two reports of one host (sent to two servers) apply one after the other.
// SQLite's writer is serialised already.
func (s *Store) lockHost(ctx context.Context, tx *sql.Tx, id int64) error {
	if s.d != sqldb.Postgres {
		return nil
	}
	var x int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM hosts WHERE id = ? FOR UPDATE`, id).Scan(&x); err != nil {
		return fmt.Errorf("lock host %d: %w", id, err)
	}
	return nil
}

// pgSoftwareChunk is how many software rows one statement inserts or looks up.
const pgSoftwareChunk = 2000

// pgSoftwareIDs resolves the items at the indexes in missing (ids not
// cached) with an INSERT for the new rows and a SELECT for rows that
// existed, pgSoftwareChunk rows at a time, filling ids; it returns the ids
// learnt. Keys are inserted in sorted order so concurrent reports never
// deadlock on them.
func pgSoftwareIDs(ctx context.Context, tx *sql.Tx, items []MatchedItem, missing []int, ids []int64) (map[swKey]int64, error) {
	type row = swRow
	byKey := make(map[swKey]Match, len(missing))
	for _, i := range missing {
		k := keyOf(items[i].Item)
		if _, ok := byKey[k]; !ok {
			byKey[k] = items[i].Match
		}
	}
	rows := make([]row, 0, len(byKey))
	for k, m := range byKey {
		rows = append(rows, row{k, m})
	}
	slices.SortFunc(rows, func(a, b row) int { return compareKeys(a.k, b.k) })
	all := rows
	fresh := make(map[swKey]int64, len(rows))
	scan := func(q *sql.Rows) error {
		defer q.Close()
		for q.Next() {
			var id int64
			var k swKey
			if err := q.Scan(&id, &k.source, &k.name, &k.version, &k.arch, &k.extra); err != nil {
				return err
			}
			// keep the report's own strings, not the copies just read
			if i, ok := slices.BinarySearchFunc(all, k, func(r row, k swKey) int { return compareKeys(r.k, k) }); ok {
				k = all[i].k
			}
			fresh[k] = id
		}
		return q.Err()
	}
	// In chunks, in key order (as concurrent reports take the rows' locks):
	// the statement's parameters are copies of every string, twice over
	// once encoded, so one statement for a report's 100,000 items held
	// several times the report's size.
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), pgSoftwareChunk)]
		rows = rows[len(chunk):]
		// A row the INSERT found existing can be pruned (PruneSoftware)
		// before the SELECT reads it: then it is inserted again. The
		// SELECT locks what it finds (FOR KEY SHARE), so a prune skips or
		// waits for those rows until this report commits.
		for round := 0; round < 3 && len(chunk) > 0; round++ {
			if err := pgInsertSoftware(ctx, tx, chunk, scan); err != nil {
				return nil, err
			}
			var lookup [5][]string
			var left []row
			for _, r := range chunk {
				if _, ok := fresh[r.k]; !ok {
					left = append(left, r)
					lookup[0] = append(lookup[0], r.k.source)
					lookup[1] = append(lookup[1], r.k.name)
					lookup[2] = append(lookup[2], r.k.version)
					lookup[3] = append(lookup[3], r.k.arch)
					lookup[4] = append(lookup[4], r.k.extra)
				}
			}
			if len(left) == 0 {
				break
			}
			q, err := tx.QueryContext(ctx, `SELECT s.id, s.source, s.name, s.version, s.arch, s.extra
				FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS k(source, name, version, arch, extra)
				JOIN software s ON s.source = k.source AND s.name = k.name AND s.version = k.version AND s.arch = k.arch AND s.extra = k.extra
				ORDER BY s.id FOR KEY SHARE OF s`,
				lookup[0], lookup[1], lookup[2], lookup[3], lookup[4])
			if err != nil {
				return nil, fmt.Errorf("look up software: %w", err)
			}
			if err := scan(q); err != nil {
				return nil, fmt.Errorf("look up software: %w", err)
			}
			chunk = chunk[:0:0]
			for _, r := range left {
				if _, ok := fresh[r.k]; !ok {
					chunk = append(chunk, r)
				}
			}
		}
	}
	for _, i := range missing {
		k := keyOf(items[i].Item)
		id, ok := fresh[k]
		if !ok {
			return nil, fmt.Errorf("software %s %q %q: not found after insert", k.source, k.name, k.version)
		}
		ids[i] = id
	}
	return fresh, nil
}

// swRow is a software row to resolve: its key and its match.
type swRow struct {
	k swKey
	m Match
}

// pgInsertSoftware inserts the rows of chunk that do not exist, reading
// the new ids with scan.
func pgInsertSoftware(ctx context.Context, tx *sql.Tx, chunk []swRow, scan func(*sql.Rows) error) error {
	cols := make([][]string, 8)
	for i := range cols {
		cols[i] = make([]string, len(chunk))
	}
	for i, r := range chunk {
		cols[0][i], cols[1][i], cols[2][i], cols[3][i], cols[4][i] = r.k.source, r.k.name, r.k.version, r.k.arch, r.k.extra
		cols[5][i], cols[6][i], cols[7][i] = r.m.Product, r.m.Version, r.m.Rule
	}
	q, err := tx.QueryContext(ctx, `INSERT INTO software (source, name, version, arch, extra, product, match_version, rule)
		SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
		ON CONFLICT (source, name, version, arch, extra) DO NOTHING
		RETURNING id, source, name, version, arch, extra`,
		cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6], cols[7])
	if err != nil {
		return fmt.Errorf("insert software: %w", err)
	}
	if err := scan(q); err != nil {
		return fmt.Errorf("insert software: %w", err)
	}
	return nil
}

func compareKeys(a, b swKey) int {
	for _, c := range [...]int{
		strings.Compare(a.source, b.source), strings.Compare(a.name, b.name), strings.Compare(a.version, b.version),
		strings.Compare(a.arch, b.arch), strings.Compare(a.extra, b.extra),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// pgInsertLinks adds host->software links in one statement.
func pgInsertLinks(ctx context.Context, tx *sql.Tx, hostID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO host_software (host_id, software_id) SELECT ?, unnest(?::bigint[])`, hostID, ids); err != nil {
		return fmt.Errorf("add items: %w", err)
	}
	return nil
}

// pgDeleteLinks removes host->software links in one statement.
func pgDeleteLinks(ctx context.Context, tx *sql.Tx, hostID int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM host_software WHERE host_id = ? AND software_id = ANY(?::bigint[])`, hostID, ids); err != nil {
		return fmt.Errorf("remove items: %w", err)
	}
	return nil
}

// pgCheckins applies a batch of check-ins with two statements: one INSERT
// of every report id (those it did not insert are duplicates) and one
// UPDATE of the hosts, in host id order, returning their inventory hashes.
func pgCheckins(ctx context.Context, tx *sql.Tx, batch []checkinReq, now time.Time, results []ReportResult) error {
	inserted, err := pgRecordReports(ctx, tx, batch, now)
	if err != nil {
		return err
	}
	var ups []reportKey // the hosts' new last reports, in the batch's order
	fresh := make([]bool, len(batch))
	for i, r := range batch {
		results[i] = ReportResult{}
		k := reportKey{r.in.Host.ID, r.in.Report.ReportID}
		if !inserted[k] {
			results[i].Duplicate = true
			continue
		}
		delete(inserted, k) // the same id twice in one batch: the second is a duplicate
		fresh[i] = true
		ups = append(ups, k)
	}
	if len(ups) == 0 {
		return nil
	}
	hashes, err := pgTouchHosts(ctx, tx, ups, now)
	if err != nil {
		return err
	}
	for i, r := range batch {
		if !fresh[i] {
			continue
		}
		h, ok := hashes[r.in.Host.ID]
		if !ok {
			return fmt.Errorf("check in: host %d: %w", r.in.Host.ID, sql.ErrNoRows)
		}
		results[i].NeedFull = h == "" || h != r.in.Report.InventoryHash
	}
	return nil
}

// reportKey is a host's report id.
type reportKey struct {
	host int64
	rid  string
}

// pgRecordReports inserts the batch's report ids in one statement and
// returns those it inserted (the others were seen before).
func pgRecordReports(ctx context.Context, tx *sql.Tx, batch []checkinReq, now time.Time) (map[reportKey]bool, error) {
	n := len(batch)
	hosts, rids, kinds, at := make([]int64, n), make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range batch {
		hosts[i], rids[i], kinds[i], at[i] = r.in.Host.ID, r.in.Report.ReportID, api.ReportCheckin, now.UnixNano()
	}
	inserted := map[reportKey]bool{}
	q, err := tx.QueryContext(ctx, `INSERT INTO reports (host_id, report_id, kind, received_at)
		SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::bigint[])
		ON CONFLICT (host_id, report_id) DO NOTHING RETURNING host_id, report_id`, hosts, rids, kinds, at)
	if err != nil {
		return nil, fmt.Errorf("record reports: %w", err)
	}
	defer q.Close()
	for q.Next() {
		var k reportKey
		if err := q.Scan(&k.host, &k.rid); err != nil {
			return nil, fmt.Errorf("record reports: %w", err)
		}
		inserted[k] = true
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("record reports: %w", err)
	}
	return inserted, nil
}

// pgTouchHosts records the check-ins on their hosts in one UPDATE, in host
// id order (a host's last report id is its last in ups), and returns the
// hosts' inventory hashes.
func pgTouchHosts(ctx context.Context, tx *sql.Tx, ups []reportKey, now time.Time) (map[int64]string, error) {
	ups = slices.Clone(ups)
	slices.SortStableFunc(ups, func(a, b reportKey) int { return cmp.Compare(a.host, b.host) })
	ids, last := make([]int64, 0, len(ups)), make([]string, 0, len(ups))
	for i, u := range ups {
		if i > 0 && ups[i-1].host == u.host {
			last[len(last)-1] = u.rid
			continue
		}
		ids, last = append(ids, u.host), append(last, u.rid)
	}
	q, err := tx.QueryContext(ctx, `UPDATE hosts h SET last_checkin_at = ?, last_report_id = u.rid
		FROM unnest(?::bigint[], ?::text[]) AS u(id, rid) WHERE h.id = u.id
		RETURNING h.id, h.inventory_hash`, now.UnixNano(), ids, last)
	if err != nil {
		return nil, fmt.Errorf("check in: %w", err)
	}
	defer q.Close()
	hashes := make(map[int64]string, len(ids))
	for q.Next() {
		var id int64
		var h string
		if err := q.Scan(&id, &h); err != nil {
			return nil, fmt.Errorf("check in: %w", err)
		}
		hashes[id] = h
	}
	if err := q.Err(); err != nil {
		return nil, fmt.Errorf("check in: %w", err)
	}
	return hashes, nil
}

// pgReEvalPair updates one key's verdict rows whose status or cycle
// differs, and returns each updated row's host and previous status (from
// the self-join: the row as the statement found it) for the events and the
// hosts' worst status. One statement instead of a read and a write.
const pgReEvalPair = `UPDATE verdicts v SET status = ?, status_rank = ?, cycle = ?, catalog_version = ?, changed_at = ?
	FROM verdicts o
	WHERE v.product = ? AND v.version = ? AND v.context = ? AND (v.status <> ? OR v.cycle <> ?)
	  AND o.product = v.product AND o.version = v.version AND o.context = v.context AND o.host_id = v.host_id
	RETURNING v.host_id, o.status`

// pgHostsOf reads the public id, name, kind and worst status of the hosts of
// updated verdict rows.
const pgHostsOf = `SELECT id, uid, hostname, kind, status_rank FROM hosts WHERE id = ANY(?::bigint[])`

// pgReEvalKey is reEvalProduct's rewrite of one key on PostgreSQL: one
// statement updates the rows and returns them, then one query reads their
// hosts; the second result closes its statement.
func pgReEvalKey(ctx context.Context, tx *sql.Tx, catalogVersion string, now time.Time) (reEvalKeyFunc, func(), error) {
	up, err := tx.PrepareContext(ctx, pgReEvalPair)
	if err != nil {
		return nil, nil, err
	}
	return func(v *Verdict, newRank int, rows []changedRow) ([]changedRow, error) {
		r, err := up.QueryContext(ctx, v.V.Status, newRank, v.V.Cycle, catalogVersion, now.UnixNano(), v.V.Product, v.V.Version,
			v.Context, v.V.Status, v.V.Cycle)
		if err != nil {
			return rows, err
		}
		n := len(rows)
		ids := make([]int64, 0)
		for r.Next() {
			var c changedRow
			if err := r.Scan(&c.hostID, &c.status); err != nil {
				r.Close()
				return rows, err
			}
			rows = append(rows, c)
			ids = append(ids, c.hostID)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return rows, err
		}
		if len(rows) == n {
			return rows, nil
		}
		type hostInfo struct {
			uid, name, kind string
			rank            int
		}
		hosts := make(map[int64]hostInfo, len(ids))
		hr, err := tx.QueryContext(ctx, pgHostsOf, ids)
		if err != nil {
			return rows, err
		}
		for hr.Next() {
			var id int64
			var h hostInfo
			if err := hr.Scan(&id, &h.uid, &h.name, &h.kind, &h.rank); err != nil {
				hr.Close()
				return rows, err
			}
			hosts[id] = h
		}
		hr.Close()
		if err := hr.Err(); err != nil {
			return rows, err
		}
		for i := n; i < len(rows); i++ {
			h := hosts[rows[i].hostID]
			rows[i].uid, rows[i].hostname, rows[i].kind, rows[i].hostRank = h.uid, h.name, h.kind, h.rank
		}
		return rows, nil
	}, func() { up.Close() }, nil
}

// pgReEvaluate is the end of ReEvaluate on PostgreSQL: one transaction per
// product (retried after a deadlock with a report), then one for the hosts'
// worst status and the fleet state.
func (s *Store) pgReEvaluate(ctx context.Context, in ReEvalInput, products []string, byProduct map[string][]Verdict, now time.Time, ranks *rankChanges, res ReEvalResult) (ReEvalResult, error) {
	var buf []events.Event
	for _, p := range products {
		var n, ev int
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			n, ev, err = s.reEvalProduct(ctx, tx, byProduct[p], in.CatalogVersion, in.AsOf, now, ranks, &buf)
			return err
		})
		if err != nil {
			return res, fmt.Errorf("re-evaluate: %s: %w", p, err)
		}
		res.Rows += n
		res.Events += ev
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := ranks.apply(ctx, tx); err != nil {
			return err
		}
		if err := setMeta(ctx, tx, metaFleetCatalog, in.CatalogVersion); err != nil {
			return err
		}
		return setMeta(ctx, tx, metaFleetAsOf, in.AsOf)
	})
	if err != nil {
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	return res, nil
}

// pgUpsertEvaluations is upsertEvaluations in one statement, keys sorted
// (and each once) so concurrent reports lock them in the same order.
func pgUpsertEvaluations(ctx context.Context, tx *sql.Tx, vs []Verdict, catalogVersion, asOf string) (int, error) {
	type key struct{ p, v, c string }
	seen := make(map[key]bool, len(vs))
	sorted := make([]Verdict, 0, len(vs))
	for _, v := range vs {
		k := key{v.V.Product, v.V.Version, v.Context}
		if !seen[k] {
			seen[k] = true
			sorted = append(sorted, v)
		}
	}
	slices.SortFunc(sorted, func(a, b Verdict) int {
		return cmp.Or(strings.Compare(a.V.Product, b.V.Product), strings.Compare(a.V.Version, b.V.Version), strings.Compare(a.Context, b.Context))
	})
	n := len(sorted)
	products, versions, contexts, statuses, verdicts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, v := range sorted {
		b, err := json.Marshal(v.V)
		if err != nil {
			return 0, fmt.Errorf("encode verdict: %w", err)
		}
		products[i], versions[i], contexts[i], statuses[i], verdicts[i] = v.V.Product, v.V.Version, v.Context, v.V.Status, string(b)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO evaluations (product, version, context, status, verdict, catalog_version, as_of)
		SELECT p, v, c, st, vd, ?, ? FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) AS u(p, v, c, st, vd)
		ON CONFLICT (product, version, context) DO UPDATE SET status = excluded.status, verdict = excluded.verdict,
			catalog_version = excluded.catalog_version, as_of = excluded.as_of
		WHERE evaluations.catalog_version <> excluded.catalog_version OR evaluations.as_of <> excluded.as_of`,
		catalogVersion, asOf, products, versions, contexts, statuses, verdicts)
	if err != nil {
		return 0, fmt.Errorf("store evaluations: %w", err)
	}
	c, _ := res.RowsAffected()
	return int(c), nil
}

// pgDeleteVerdicts deletes a host's verdict rows of the (product, version) pairs.
func pgDeleteVerdicts(ctx context.Context, tx *sql.Tx, host int64, products, versions []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM verdicts v USING unnest(?::text[], ?::text[]) AS d(p, ver)
		WHERE v.host_id = ? AND v.product = d.p AND v.version = d.ver`, products, versions, host); err != nil {
		return fmt.Errorf("delete verdicts: %w", err)
	}
	return nil
}

// pgInsertVerdicts inserts a host's new verdict rows in one statement.
func pgInsertVerdicts(ctx context.Context, tx *sql.Tx, host int64, vs []Verdict, catalogVersion string, now time.Time) error {
	n := len(vs)
	products, versions, installed, cycles, statuses, contexts := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ranks := make([]int64, n)
	for i, v := range vs {
		products[i], versions[i], installed[i], cycles[i], statuses[i], contexts[i] = v.V.Product, v.V.Version, v.Installed, v.V.Cycle, v.V.Status, v.Context
		ranks[i] = int64(catalog.StatusRank(v.V.Status))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at, context)
		SELECT ?, p, v, i, c, st, r, ?, ?, ctx FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[]) AS u(p, v, i, c, st, r, ctx)`,
		host, catalogVersion, now.UnixNano(), products, versions, installed, cycles, statuses, ranks, contexts); err != nil {
		return fmt.Errorf("insert verdicts: %w", err)
	}
	return nil
}

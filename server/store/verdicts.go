package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/eolwatch/eolwatch/server/api"
)

// Verdict is the verdict for one matched (product, version) on a host.
type Verdict struct {
	Installed string // the version as installed (display), e.g. "3.11.2-6+deb12u1"
	// Context is the install's evaluation context as the domain encodes it
	// (the distribution maintaining the package, its package versions...;
	// "" for an upstream install): V depends on it, so evaluations are
	// stored per (product, version, context) and a re-evaluation passes it
	// back to ReEvalInput.Evaluate.
	Context string
	V       catalog.Verdict // V.Product and V.Version (upstream) are the key
}

type pv struct{ product, version string }

// pvc is a verdict's evaluation key: (product, version) in a context.
type pvc struct{ product, version, context string }

// eventWorthy reports whether a newly seen install deserves a fleet event:
// only when it needs attention (eol-soon or worse).
func eventWorthy(status string) bool {
	return catalog.StatusRank(status) <= catalog.StatusRank(catalog.StatusEOLSoon)
}

// evalKey identifies a stored evaluation: a pair under one catalog and day.
type evalKey struct {
	pvc
	catalog, asOf string
}

// unseenEvaluations drops the verdicts whose evaluation this process already
// committed under the same catalog and day (most reports repeat them).
func (s *Store) unseenEvaluations(vs []Verdict, catalogVersion, asOf string) []Verdict {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := vs[:0:0]
	for _, v := range vs {
		if !s.evalSeen[evalKey{pvc{v.V.Product, v.V.Version, v.Context}, catalogVersion, asOf}] {
			out = append(out, v)
		}
	}
	return out
}

// sawEvaluations remembers committed evaluations (see unseenEvaluations).
func (s *Store) sawEvaluations(vs []Verdict, catalogVersion, asOf string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.evalSeen) > 1<<18 {
		s.evalSeen = map[evalKey]bool{}
	}
	for _, v := range vs {
		s.evalSeen[evalKey{pvc{v.V.Product, v.V.Version, v.Context}, catalogVersion, asOf}] = true
	}
}

// upsertEvaluations records the verdict of each distinct (product, version,
// context) under the catalog version and day that produced it.
func (s *Store) upsertEvaluations(ctx context.Context, tx *sql.Tx, vs []Verdict, catalogVersion, asOf string) (int, error) {
	if len(vs) == 0 {
		return 0, nil
	}
	if s.d == sqldb.Postgres {
		return pgUpsertEvaluations(ctx, tx, vs, catalogVersion, asOf)
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO evaluations (product, version, context, status, verdict, catalog_version, as_of)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (product, version, context) DO UPDATE SET status = excluded.status, verdict = excluded.verdict,
			catalog_version = excluded.catalog_version, as_of = excluded.as_of
		WHERE evaluations.catalog_version <> excluded.catalog_version OR evaluations.as_of <> excluded.as_of`)
	if err != nil {
		return 0, fmt.Errorf("prepare evaluations: %w", err)
	}
	defer st.Close()
	n := 0
	for _, v := range vs {
		b, err := json.Marshal(v.V)
		if err != nil {
			return n, fmt.Errorf("encode verdict: %w", err)
		}
		res, err := st.ExecContext(ctx, v.V.Product, v.V.Version, v.Context, v.V.Status, string(b), catalogVersion, asOf)
		if err != nil {
			return n, fmt.Errorf("store evaluation %s %s: %w", v.V.Product, v.V.Version, err)
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}

type oldVerdict struct {
	pv
	cycle, status, context string
	used                   bool
}

// diffVerdicts makes the host's verdict rows equal to vs and enqueues one
// fleet event per install whose status changed. An install replaced by
// another version of the same product (an upgrade) counts as a change of
// that install; a new install is news only when eventWorthy. It returns the
// host's worst status rank.
func (s *Store) diffVerdicts(ctx context.Context, tx *sql.Tx, h HostRef, vs []Verdict, catalogVersion string, now time.Time) (rank, changes int, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT product, version, cycle, status, context FROM verdicts WHERE host_id = ?`, h.ID)
	if err != nil {
		return 0, 0, fmt.Errorf("read verdicts: %w", err)
	}
	old := map[pv]*oldVerdict{}
	var oldList []*oldVerdict
	for rows.Next() {
		o := &oldVerdict{}
		if err := rows.Scan(&o.product, &o.version, &o.cycle, &o.status, &o.context); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read verdicts: %w", err)
		}
		old[o.pv] = o
		oldList = append(oldList, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read verdicts: %w", err)
	}
	vw := &verdictWriter{s: s, tx: tx, host: h.ID, catalogVersion: catalogVersion, now: now}
	rank = rankNone
	var evs []events.Event
	event := func(v catalog.Verdict, from string) {
		evs = append(evs, fleetEvent(&v, h.UID, h.Hostname, h.Kind, from, now.UTC()))
	}
	var fresh []Verdict
	var ups []Verdict
	for _, v := range vs {
		rank = min(rank, catalog.StatusRank(v.V.Status))
		o, ok := old[pv{v.V.Product, v.V.Version}]
		if !ok {
			fresh = append(fresh, v)
			continue
		}
		o.used = true
		if o.status != v.V.Status {
			event(v.V, o.status)
			ups = append(ups, v)
		} else if o.cycle != v.V.Cycle || o.context != v.Context {
			ups = append(ups, v)
		}
	}
	// Pair new installs with removed installs of the same product (same cycle first).
	for _, v := range fresh {
		var pair *oldVerdict
		for _, o := range oldList {
			if o.used || o.product != v.V.Product {
				continue
			}
			if pair == nil || (o.cycle == v.V.Cycle && pair.cycle != v.V.Cycle) {
				pair = o
			}
		}
		switch {
		case pair != nil:
			pair.used = true
			if pair.status != v.V.Status {
				event(v.V, pair.status)
			}
			if err := vw.remove(ctx, pair.product, pair.version); err != nil {
				return 0, 0, err
			}
		case eventWorthy(v.V.Status):
			event(v.V, "")
		}
		if err := vw.insert(ctx, v); err != nil {
			return 0, 0, err
		}
	}
	for _, v := range ups {
		_, err := tx.ExecContext(ctx, `UPDATE verdicts SET installed = ?, cycle = ?, status = ?, status_rank = ?, catalog_version = ?, changed_at = ?, context = ?
			WHERE host_id = ? AND product = ? AND version = ?`, v.Installed, v.V.Cycle, v.V.Status, catalog.StatusRank(v.V.Status),
			catalogVersion, now.UnixNano(), v.Context, h.ID, v.V.Product, v.V.Version)
		if err != nil {
			return 0, 0, fmt.Errorf("update verdict %s %s: %w", v.V.Product, v.V.Version, err)
		}
	}
	for _, o := range oldList {
		if o.used {
			continue
		}
		if err := vw.remove(ctx, o.product, o.version); err != nil {
			return 0, 0, err
		}
	}
	if err := vw.flush(ctx); err != nil {
		return 0, 0, err
	}
	if len(evs) > 0 {
		if err := s.enqueue(ctx, tx, evs); err != nil {
			return 0, 0, err
		}
	}
	return rank, len(evs), nil
}

// StoredVerdict is a host's verdict as stored, with the context it was
// judged in.
type StoredVerdict struct {
	api.HostVerdict
	Context string // see Verdict.Context
}

// fillHostVerdict copies a stored evaluation's fields into hv (status and
// cycle stay those of the host's row).
func fillHostVerdict(hv *api.HostVerdict, v *catalog.Verdict) {
	hv.Support, hv.Phase, hv.Patch, hv.Latest, hv.EOL = v.Support, v.Phase, v.Patch, v.Latest, v.EOL
	hv.DaysToEOL, hv.UpgradeTo, hv.Newest, hv.Reason = v.DaysToEOL, v.UpgradeTo, v.Newest, v.Reason
	hv.MaintainerRelease, hv.Candidate, hv.CatalogDate = v.MaintainerRelease, v.Candidate, v.CatalogDate
	if v.Maintainer != "" {
		hv.Maintainer = v.Maintainer
	}
	if v.Warnings != nil {
		hv.Warnings = v.Warnings
	}
	if v.Upstream != nil {
		hv.Upstream = &api.UpstreamVerdict{Support: v.Upstream.Support, Phase: v.Upstream.Phase, Patch: v.Upstream.Patch,
			Status: v.Upstream.Status, Cycle: v.Upstream.Cycle, Latest: v.Upstream.Latest, EOL: v.Upstream.EOL,
			UpgradeTo: v.Upstream.UpgradeTo, Reason: v.Upstream.Reason}
	}
}

// fleetEvent is the fleet event of a host's verdict v that changed from
// status from ("" for a new install): it carries the verdict's reason,
// maintainer, catalog date and warnings for the alert email.
func fleetEvent(v *catalog.Verdict, hostUID, hostname, kind, from string, created time.Time) events.Event {
	ev := events.Event{Kind: events.KindFleet, Product: v.Product, Cycle: v.Cycle, Version: v.Version,
		HostID: hostUID, Host: hostname, From: from, To: v.Status, Reason: v.Reason, Maintainer: v.Maintainer,
		CatalogDate: v.CatalogDate, Created: created}
	if kind == api.KindAsset {
		ev.HostKind = events.HostKindAsset
	}
	if len(v.Warnings) > 0 {
		ev.Warnings = v.Warnings[:min(len(v.Warnings), 16)]
	}
	return ev
}

// hostVerdicts lists a host's verdicts, worst first.
func (s *Store) hostVerdicts(ctx context.Context, hostID int64) ([]StoredVerdict, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT v.product, v.version, v.installed, v.cycle, v.status, v.catalog_version, v.changed_at,
			v.context, COALESCE(e.verdict, '')
		FROM verdicts v LEFT JOIN evaluations e ON e.product = v.product AND e.version = v.version AND e.context = v.context
		WHERE v.host_id = ? ORDER BY v.status_rank, v.product, v.version`, hostID)
	if err != nil {
		return nil, fmt.Errorf("host verdicts: %w", err)
	}
	defer rows.Close()
	out := []StoredVerdict{}
	for rows.Next() {
		var hv StoredVerdict
		var changed int64
		var js string
		if err := rows.Scan(&hv.Product, &hv.Version, &hv.Installed, &hv.Cycle, &hv.Status, &hv.CatalogVersion, &changed, &hv.Context, &js); err != nil {
			return nil, fmt.Errorf("host verdicts: %w", err)
		}
		hv.ChangedAt = unixNano(changed)
		hv.Maintainer, hv.Warnings = catalog.MaintainerUpstream, []string{}
		if js != "" {
			var v catalog.Verdict
			if err := json.Unmarshal([]byte(js), &v); err != nil {
				return nil, fmt.Errorf("host verdicts %s %s: %w", hv.Product, hv.Version, err)
			}
			fillHostVerdict(&hv.HostVerdict, &v)
		}
		out = append(out, hv)
	}
	return out, rows.Err()
}

// FleetState is what the fleet's verdicts were last evaluated against.
type FleetState struct {
	CatalogVersion string
	AsOf           string
}

const (
	metaFleetCatalog = "fleet_catalog_version"
	metaFleetAsOf    = "fleet_as_of"
)

// FleetState returns the catalog version and day of the last full re-evaluation.
func (s *Store) FleetState(ctx context.Context) (FleetState, error) {
	var st FleetState
	var err error
	if st.CatalogVersion, err = s.GetMeta(ctx, metaFleetCatalog); err != nil {
		return st, err
	}
	st.AsOf, err = s.GetMeta(ctx, metaFleetAsOf)
	return st, err
}

// ReEvalInput drives a fleet re-evaluation.
type ReEvalInput struct {
	CatalogVersion string
	AsOf           string // YYYY-MM-DD
	// Evaluate returns the verdict for a (product, upstream version) in a
	// stored context (Verdict.Context).
	Evaluate func(product, version, context string) catalog.Verdict
	// Match re-matches an item; nil skips re-matching (the catalog's products
	// and identifiers did not change).
	Match func(api.Item) Match
	// Rejudge judges a host's whole stored inventory again, after some of
	// its items matched differently: one verdict per distinct matched
	// (product, version), each with its context. Required with Match.
	Rejudge func(HostInventory) []Verdict
}

// HostInventory is a host's stored inventory, as ReEvalInput.Rejudge
// judges it: what the host last reported of itself, its items with their
// matches (its OS as a source "os" item) and its remembered candidates.
type HostInventory struct {
	Info api.HostInfo
	// Kind is api.KindHost (an agent's endpoint) or api.KindAsset (an
	// SBOM's subject, whose OS is judged without candidates).
	Kind       string
	Items      []MatchedItem
	Candidates []Candidate
}

// ReEvalResult counts what a re-evaluation did.
type ReEvalResult struct {
	Pairs        int // distinct (product, version, context) evaluated
	Rows         int // host verdict rows updated
	Events       int // fleet events enqueued
	RematchHosts int // hosts whose inventory matched differently
}

// ReEvaluate re-computes every verdict in the fleet for a new catalog or a
// new day: each distinct (product, version) is evaluated once and the host
// rows whose status changed are updated in bulk, one transaction per
// product, with one fleet event per changed row in the same transaction.
// It is idempotent: running it again changes nothing.
func (s *Store) ReEvaluate(ctx context.Context, in ReEvalInput) (ReEvalResult, error) {
	var res ReEvalResult
	now := s.now()
	if in.Match != nil {
		hosts, err := s.rematch(ctx, in.Match)
		if err != nil {
			return res, err
		}
		res.RematchHosts = len(hosts)
		for _, h := range hosts {
			if err := s.recomputeHost(ctx, h, in, now); err != nil {
				return res, err
			}
		}
	}
	prev, err := s.FleetState(ctx)
	if err != nil {
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	known, err := s.evaluations(ctx, prev)
	if err != nil {
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	keys, err := s.verdictKeys(ctx)
	if err != nil {
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	byProduct := map[string][]Verdict{}
	var products []string
	for _, p := range keys {
		if _, ok := byProduct[p.product]; !ok {
			products = append(products, p.product)
		}
		v := Verdict{Context: p.context, V: in.Evaluate(p.product, p.version, p.context)}
		res.Pairs++
		if k, ok := known[p]; ok && k.status == v.V.Status && k.cycle == v.V.Cycle {
			// Every host row of this key already has this status and cycle:
			// only the stored evaluation (dates, reason) needs refreshing.
			byProduct[p.product] = append(byProduct[p.product], Verdict{V: v.V, Context: p.context, Installed: unchangedPair})
			continue
		}
		byProduct[p.product] = append(byProduct[p.product], v)
	}
	sort.Strings(products)
	ranks := &rankChanges{recompute: map[int64]bool{}}
	var evBuf []events.Event
	if s.d == sqldb.Postgres {
		return s.pgReEvaluate(ctx, in, products, byProduct, now, ranks, res)
	}
	// Products share a transaction until it has rewritten reEvalTxRows rows:
	// few commits when little changes, and the writer is never held long
	// when much does (reports keep flowing in between).
	var tx *sql.Tx
	inTx := 0
	fail := func(err error) (ReEvalResult, error) {
		if tx != nil {
			tx.Rollback()
		}
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	for _, p := range products {
		if tx == nil {
			if tx, err = s.w.BeginTx(ctx, nil); err != nil {
				return fail(err)
			}
		}
		n, ev, err := s.reEvalProduct(ctx, tx, byProduct[p], in.CatalogVersion, in.AsOf, now, ranks, &evBuf)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", p, err))
		}
		res.Rows += n
		res.Events += ev
		if inTx += n; inTx >= reEvalTxRows {
			if err := tx.Commit(); err != nil {
				tx = nil
				return fail(err)
			}
			tx, inTx = nil, 0
		}
	}
	if tx == nil {
		if tx, err = s.w.BeginTx(ctx, nil); err != nil {
			return fail(err)
		}
	}
	if err := ranks.apply(ctx, tx); err != nil {
		return fail(err)
	}
	if err := setMeta(ctx, tx, metaFleetCatalog, in.CatalogVersion); err != nil {
		return fail(err)
	}
	if err := setMeta(ctx, tx, metaFleetAsOf, in.AsOf); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("re-evaluate: %w", err)
	}
	return res, nil
}

// reEvalTxRows bounds the verdict rows one re-evaluation transaction rewrites.
const reEvalTxRows = 50000

// reEvalProduct applies new verdicts for one product's versions (each in
// its context): per changed key, the engine's rewrite of the rows that
// change (sqliteReEvalKey, pgReEvalKey), which returns them for their events
// and the hosts' worst status; then the product's events in one Enqueue. buf is scratch space for the events, reused across
// products.
func (s *Store) reEvalProduct(ctx context.Context, tx *sql.Tx, vs []Verdict, catalogVersion, asOf string, now time.Time, ranks *rankChanges, buf *[]events.Event) (rowsChanged, queued int, err error) {
	if _, err := s.upsertEvaluations(ctx, tx, vs, catalogVersion, asOf); err != nil {
		return 0, 0, err
	}
	var changeKey reEvalKeyFunc
	var closeKey func()
	if s.d == sqldb.Postgres {
		changeKey, closeKey, err = pgReEvalKey(ctx, tx, catalogVersion, now)
	} else {
		changeKey, closeKey, err = sqliteReEvalKey(ctx, tx, catalogVersion, now)
	}
	if err != nil {
		return 0, 0, err
	}
	defer closeKey()
	created := now.UTC()
	evs := (*buf)[:0]
	defer func() { *buf = evs[:0] }()
	var rows []changedRow
	for _, v := range vs {
		if v.Installed == unchangedPair {
			continue
		}
		newRank := catalog.StatusRank(v.V.Status)
		rows, err = changeKey(&v, newRank, rows[:0])
		if err != nil {
			return 0, 0, err
		}
		for _, c := range rows {
			rowsChanged++
			ranks.note(c.hostID, c.hostRank, catalog.StatusRank(c.status), newRank)
			if c.status != v.V.Status {
				evs = append(evs, fleetEvent(&v.V, c.uid, c.hostname, c.kind, c.status, created))
			}
		}
	}
	if len(evs) > 0 {
		if err := s.enqueue(ctx, tx, evs); err != nil {
			return 0, 0, err
		}
	}
	return rowsChanged, len(evs), nil
}

// changedRow is one verdict row a re-evaluation rewrote: its host (id,
// public id, name, kind, worst status rank) and the status it had.
type changedRow struct {
	hostID              int64
	uid, hostname, kind string
	hostRank            int
	status              string
}

// reEvalKeyFunc rewrites the verdict rows of v's key whose status or cycle
// differs from v's (newRank is v's status rank) and appends them to rows.
type reEvalKeyFunc func(v *Verdict, newRank int, rows []changedRow) ([]changedRow, error)

// sqliteReEvalKey is reEvalProduct's rewrite of one key on SQLite: a read
// of the rows that will change, then one UPDATE of them; the second result
// closes its statements.
func sqliteReEvalKey(ctx context.Context, tx *sql.Tx, catalogVersion string, now time.Time) (reEvalKeyFunc, func(), error) {
	sel, err := tx.PrepareContext(ctx, `SELECT v.host_id, h.uid, h.hostname, h.kind, v.status, h.status_rank FROM verdicts v JOIN hosts h ON h.id = v.host_id
		WHERE v.product = ? AND v.version = ? AND v.context = ? AND (v.status <> ? OR v.cycle <> ?)`)
	if err != nil {
		return nil, nil, err
	}
	up, err := tx.PrepareContext(ctx, `UPDATE verdicts SET status = ?, status_rank = ?, cycle = ?, catalog_version = ?, changed_at = ?
		WHERE product = ? AND version = ? AND context = ? AND (status <> ? OR cycle <> ?)`)
	if err != nil {
		sel.Close()
		return nil, nil, err
	}
	return func(v *Verdict, newRank int, rows []changedRow) ([]changedRow, error) {
		r, err := sel.QueryContext(ctx, v.V.Product, v.V.Version, v.Context, v.V.Status, v.V.Cycle)
		if err != nil {
			return rows, err
		}
		n := len(rows)
		for r.Next() {
			var c changedRow
			if err := r.Scan(&c.hostID, &c.uid, &c.hostname, &c.kind, &c.status, &c.hostRank); err != nil {
				r.Close()
				return rows, err
			}
			rows = append(rows, c)
		}
		r.Close()
		if err := r.Err(); err != nil {
			return rows, err
		}
		if len(rows) == n {
			return rows, nil
		}
		if _, err := up.ExecContext(ctx, v.V.Status, newRank, v.V.Cycle, catalogVersion, now.UnixNano(), v.V.Product, v.V.Version,
			v.Context, v.V.Status, v.V.Cycle); err != nil {
			return rows, err
		}
		return rows, nil
	}, func() { sel.Close(); up.Close() }, nil
}

// verdictKeys lists the distinct (product, version, context) keys of the
// fleet's verdicts in order. It walks the (product, version, context, ...)
// index from one key to the next (a seek per key: the next context of the
// pair, else the first context of the product's next version, else the
// first key of the next product) instead of reading every row.
func (s *Store) verdictKeys(ctx context.Context) ([]pvc, error) {
	// One read transaction: the seeks see one snapshot, as one query would
	// (PostgreSQL needs REPEATABLE READ for that).
	var opts *sql.TxOptions
	if s.d == sqldb.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	conn, err := s.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer conn.Rollback()
	nextContext, err := conn.PrepareContext(ctx, `SELECT context FROM verdicts WHERE product = ? AND version = ? AND context > ? ORDER BY context LIMIT 1`)
	if err != nil {
		return nil, err
	}
	defer nextContext.Close()
	nextVersion, err := conn.PrepareContext(ctx, `SELECT version, context FROM verdicts WHERE product = ? AND version > ? ORDER BY version, context LIMIT 1`)
	if err != nil {
		return nil, err
	}
	defer nextVersion.Close()
	nextProduct, err := conn.PrepareContext(ctx, `SELECT product, version, context FROM verdicts WHERE product > ? ORDER BY product, version, context LIMIT 1`)
	if err != nil {
		return nil, err
	}
	defer nextProduct.Close()
	var out []pvc
	var p pvc
	err = conn.QueryRowContext(ctx, `SELECT product, version, context FROM verdicts ORDER BY product, version, context LIMIT 1`).Scan(&p.product, &p.version, &p.context)
	for {
		if err == sql.ErrNoRows {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		for { // the product's versions
			for { // the version's contexts
				out = append(out, p)
				err := nextContext.QueryRowContext(ctx, p.product, p.version, p.context).Scan(&p.context)
				if err == sql.ErrNoRows {
					break
				}
				if err != nil {
					return nil, err
				}
			}
			err := nextVersion.QueryRowContext(ctx, p.product, p.version).Scan(&p.version, &p.context)
			if err == sql.ErrNoRows {
				break
			}
			if err != nil {
				return nil, err
			}
		}
		err = nextProduct.QueryRowContext(ctx, p.product).Scan(&p.product, &p.version, &p.context)
	}
}

// unchangedPair marks, in reEvalProduct's input, a pair whose status and
// cycle did not change: its host rows are left alone.
const unchangedPair = "\x00unchanged"

type knownEval struct{ status, cycle string }

// evaluations returns the stored evaluations that were written under the
// fleet's current catalog and day: for those, every host row of the key
// agrees with the evaluation's status and cycle.
func (s *Store) evaluations(ctx context.Context, st FleetState) (map[pvc]knownEval, error) {
	out := map[pvc]knownEval{}
	if st.CatalogVersion == "" {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT product, version, context, status, verdict FROM evaluations WHERE catalog_version = ? AND as_of = ?`,
		st.CatalogVersion, st.AsOf)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p pvc
		var k knownEval
		var js string
		if err := rows.Scan(&p.product, &p.version, &p.context, &k.status, &js); err != nil {
			return nil, err
		}
		var v catalog.Verdict
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			continue // re-evaluated in full
		}
		k.cycle = v.Cycle
		out[p] = k
	}
	return out, rows.Err()
}

// rankChanges collects how a re-evaluation moves hosts' worst status
// without re-reading every host's verdicts: a row that got worse than the
// host's worst sets it directly (hosts grouped by their new rank, many ids a
// statement); only a host whose worst row got better needs its minimum
// recomputed.
type rankChanges struct {
	direct    []hostWorse // a host's row got worse than its worst (a host may repeat)
	recompute map[int64]bool
}

type hostWorse struct {
	host int64
	rank int
}

func (rc *rankChanges) note(host int64, hostRank, oldRank, newRank int) {
	switch {
	case newRank < hostRank:
		rc.direct = append(rc.direct, hostWorse{host, newRank})
	case oldRank <= hostRank && newRank > oldRank:
		rc.recompute[host] = true
	}
}

// rankChunk is the number of host ids one rank UPDATE names.
const rankChunk = 500

func (rc *rankChanges) apply(ctx context.Context, tx *sql.Tx) error {
	var again []int64
	for h := range rc.recompute {
		again = append(again, h)
	}
	sort.Slice(again, func(i, j int) bool { return again[i] < again[j] })
	if err := updateHostRanks(ctx, tx, again); err != nil {
		return err
	}
	// Each host once, with its worst new rank.
	slices.SortFunc(rc.direct, func(a, b hostWorse) int {
		if a.host != b.host {
			return cmp.Compare(a.host, b.host)
		}
		return cmp.Compare(a.rank, b.rank)
	})
	byRank := map[int][]int64{}
	for i, d := range rc.direct {
		if (i > 0 && rc.direct[i-1].host == d.host) || rc.recompute[d.host] {
			continue
		}
		byRank[d.rank] = append(byRank[d.rank], d.host)
	}
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for r, ids := range byRank {
		for start := 0; start < len(ids); start += rankChunk {
			part := ids[start:min(start+rankChunk, len(ids))]
			st, ok := stmts[len(part)]
			if !ok {
				var err error
				if st, err = tx.PrepareContext(ctx, `UPDATE hosts SET status_rank = ? WHERE status_rank > ? AND id IN (?`+
					strings.Repeat(", ?", len(part)-1)+`)`); err != nil {
					return fmt.Errorf("prepare host ranks: %w", err)
				}
				stmts[len(part)] = st
			}
			args := make([]any, 0, 2+len(part))
			args = append(args, r, r)
			for _, h := range part {
				args = append(args, h)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("update host ranks: %w", err)
			}
		}
	}
	return nil
}

// updateHostRanks recomputes the worst status of the given hosts.
func updateHostRanks(ctx context.Context, tx *sql.Tx, hostIDs []int64) error {
	if len(hostIDs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `UPDATE hosts SET status_rank = COALESCE((SELECT MIN(status_rank) FROM verdicts WHERE host_id = ?), ?) WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("prepare host ranks: %w", err)
	}
	defer st.Close()
	for _, h := range hostIDs {
		if _, err := st.ExecContext(ctx, h, rankNone, h); err != nil {
			return fmt.Errorf("update host rank: %w", err)
		}
	}
	return nil
}

// recomputeHost rebuilds one host's verdicts from its stored inventory (after
// its items matched differently), judged by in.Rejudge.
func (s *Store) recomputeHost(ctx context.Context, hostID int64, in ReEvalInput, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockHost(ctx, tx, hostID); err != nil {
			return err
		}
		var h HostRef
		h.ID = hostID
		var info string
		var inv HostInventory
		if err := tx.QueryRowContext(ctx, `SELECT uid, install_id, hostname, info, kind FROM hosts WHERE id = ?`, hostID).Scan(&h.UID, &h.InstallID, &h.Hostname, &info, &inv.Kind); err != nil {
			return fmt.Errorf("recompute host: %w", err)
		}
		h.Kind = inv.Kind
		if err := json.Unmarshal([]byte(info), &inv.Info); err != nil {
			return fmt.Errorf("recompute host %s: info: %w", h.UID, err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT s.source, s.name, s.version, s.arch, s.extra, s.product, s.match_version, s.rule
			FROM host_software hs JOIN software s ON s.id = hs.software_id
			WHERE hs.host_id = ? ORDER BY s.product, s.match_version, s.source, s.name`, hostID)
		if err != nil {
			return fmt.Errorf("recompute host: %w", err)
		}
		unmatched := 0
		for rows.Next() {
			var k swKey
			var m Match
			if err := rows.Scan(&k.source, &k.name, &k.version, &k.arch, &k.extra, &m.Product, &m.Version, &m.Rule); err != nil {
				rows.Close()
				return fmt.Errorf("recompute host: %w", err)
			}
			if m.Product == "" {
				unmatched++
			}
			inv.Items = append(inv.Items, MatchedItem{Item: k.item(), Match: m})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("recompute host: %w", err)
		}
		if inv.Candidates, err = txCandidates(ctx, tx, hostID); err != nil {
			return fmt.Errorf("recompute host: %w", err)
		}
		vs := in.Rejudge(inv)
		if _, err := s.upsertEvaluations(ctx, tx, vs, in.CatalogVersion, in.AsOf); err != nil {
			return err
		}
		rank, _, err := s.diffVerdicts(ctx, tx, h, vs, in.CatalogVersion, now)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET status_rank = ?, unmatched_count = ? WHERE id = ?`, rank, unmatched, hostID)
		return err
	})
}

// RejudgeHosts matches (when in.Match is set) and judges the stored
// inventory of each host again with in's catalog, with the events of the
// verdicts that changed: what a server does for the hosts it judged just
// before it learnt of a newer catalog. Re-matching updates the shared
// software rows of those hosts whose match changed.
func (s *Store) RejudgeHosts(ctx context.Context, ids []int64, in ReEvalInput) error {
	now := s.now()
	for _, id := range ids {
		if in.Match != nil {
			if err := s.rematchHost(ctx, id, in.Match); err != nil {
				return err
			}
		}
		if err := s.recomputeHost(ctx, id, in, now); err != nil {
			return fmt.Errorf("judge host %d again: %w", id, err)
		}
	}
	return nil
}

// rematchHost re-matches the software rows of one host's inventory.
func (s *Store) rematchHost(ctx context.Context, hostID int64, match func(api.Item) Match) error {
	rows, err := s.r.QueryContext(ctx, `SELECT s.id, s.source, s.name, s.version, s.arch, s.extra, s.product, s.match_version, s.rule
		FROM host_software hs JOIN software s ON s.id = hs.software_id WHERE hs.host_id = ?`, hostID)
	if err != nil {
		return fmt.Errorf("rematch host: %w", err)
	}
	type change struct {
		id int64
		m  Match
	}
	var changes []change
	for rows.Next() {
		var id int64
		var k swKey
		var old Match
		if err := rows.Scan(&id, &k.source, &k.name, &k.version, &k.arch, &k.extra, &old.Product, &old.Version, &old.Rule); err != nil {
			rows.Close()
			return fmt.Errorf("rematch host: %w", err)
		}
		if m := match(k.item()); m != old {
			changes = append(changes, change{id, m})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rematch host: %w", err)
	}
	if len(changes) == 0 {
		return nil
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].id < changes[j].id })
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range changes {
			if _, err := tx.ExecContext(ctx, `UPDATE software SET product = ?, match_version = ?, rule = ? WHERE id = ?`,
				c.m.Product, c.m.Version, c.m.Rule, c.id); err != nil {
				return fmt.Errorf("rematch host: %w", err)
			}
		}
		return nil
	})
}

// verdictWriter inserts and deletes a host's verdict rows for diffVerdicts:
// at once on SQLite; on PostgreSQL gathered and written by flush in two
// statements (deletes, then inserts).
type verdictWriter struct {
	s              *Store
	tx             *sql.Tx
	host           int64
	catalogVersion string
	now            time.Time
	delProducts    []string
	delVersions    []string
	ins            []Verdict
}

func (w *verdictWriter) remove(ctx context.Context, product, version string) error {
	if w.s.d == sqldb.Postgres {
		w.delProducts, w.delVersions = append(w.delProducts, product), append(w.delVersions, version)
		return nil
	}
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM verdicts WHERE host_id = ? AND product = ? AND version = ?`, w.host, product, version); err != nil {
		return fmt.Errorf("delete verdict: %w", err)
	}
	return nil
}

func (w *verdictWriter) insert(ctx context.Context, v Verdict) error {
	if w.s.d == sqldb.Postgres {
		w.ins = append(w.ins, v)
		return nil
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at, context)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, w.host, v.V.Product, v.V.Version, v.Installed, v.V.Cycle, v.V.Status,
		catalog.StatusRank(v.V.Status), w.catalogVersion, w.now.UnixNano(), v.Context)
	if err != nil {
		return fmt.Errorf("insert verdict %s %s: %w", v.V.Product, v.V.Version, err)
	}
	return nil
}

// flush writes what PostgreSQL gathered.
func (w *verdictWriter) flush(ctx context.Context) error {
	if len(w.delProducts) > 0 {
		if err := pgDeleteVerdicts(ctx, w.tx, w.host, w.delProducts, w.delVersions); err != nil {
			return err
		}
	}
	if len(w.ins) > 0 {
		return pgInsertVerdicts(ctx, w.tx, w.host, w.ins, w.catalogVersion, w.now)
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
)

// NonCompliantStatuses are the install statuses that void support
// eligibility: not supported (eol, unknown-version) or patch-overdue.
var NonCompliantStatuses = []string{catalog.StatusEOL, catalog.StatusUnknownVersion, catalog.StatusUnknownProduct, catalog.StatusPatchOverdue}

// Products lists the products installed in the scope's hosts with their
// versions and how many hosts run each, by product then version.
func (s *Store) Products(ctx context.Context, sc Scope) ([]api.FleetProduct, error) {
	cond, args := sc.hostIDs("host_id")
	rows, err := s.r.QueryContext(ctx, `SELECT product, version, MIN(cycle), MIN(status), COUNT(DISTINCT host_id)
		FROM verdicts WHERE 1 = 1`+cond+` GROUP BY product, version ORDER BY product, version`, args...)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	defer rows.Close()
	out := []api.FleetProduct{}
	idx := map[string]int{}
	for rows.Next() {
		var p string
		var v api.ProductVersion
		if err := rows.Scan(&p, &v.Version, &v.Cycle, &v.Status, &v.Hosts); err != nil {
			return nil, fmt.Errorf("products: %w", err)
		}
		i, ok := idx[p]
		if !ok {
			i = len(out)
			idx[p] = i
			out = append(out, api.FleetProduct{Product: p})
		}
		out[i].Versions = append(out[i].Versions, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	rows.Close()
	hr, err := s.r.QueryContext(ctx, `SELECT product, COUNT(DISTINCT host_id) FROM verdicts WHERE 1 = 1`+cond+` GROUP BY product`, args...)
	if err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	defer hr.Close()
	for hr.Next() {
		var p string
		var n int
		if err := hr.Scan(&p, &n); err != nil {
			return nil, fmt.Errorf("products: %w", err)
		}
		if i, ok := idx[p]; ok {
			out[i].Hosts = n
		}
	}
	return out, hr.Err()
}

// Compliance counts the scope's hosts and assets per worst status, installs
// (of hosts and assets alike) per status, and installs per product cycle
// and status.
func (s *Store) Compliance(ctx context.Context, sc Scope) (api.Compliance, error) {
	c := api.Compliance{HostsByStatus: map[string]int{}, AssetsByStatus: map[string]int{}, InstallsByStatus: map[string]int{}, Cycles: []api.CycleCount{}}
	hcond, hargs := sc.hosts("h")
	rows, err := s.r.QueryContext(ctx, `SELECT h.kind, h.status_rank, COUNT(*), COALESCE(SUM(h.item_count), 0), COALESCE(SUM(h.unmatched_count), 0)
		FROM hosts h WHERE 1 = 1`+hcond+` GROUP BY h.kind, h.status_rank`, hargs...)
	if err != nil {
		return c, fmt.Errorf("compliance: %w", err)
	}
	for rows.Next() {
		var kind string
		var rank, n, items, unmatched int
		if err := rows.Scan(&kind, &rank, &n, &items, &unmatched); err != nil {
			rows.Close()
			return c, fmt.Errorf("compliance: %w", err)
		}
		if kind == api.KindAsset {
			c.AssetsByStatus[statusOfRank(rank)] += n
			c.Assets += n
		} else {
			c.HostsByStatus[statusOfRank(rank)] += n
			c.Hosts += n
		}
		c.Items += items
		c.UnmatchedItems += unmatched
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("compliance: %w", err)
	}
	vcond, vargs := sc.hostIDs("host_id")
	rows, err = s.r.QueryContext(ctx, `SELECT product, cycle, status, COUNT(*) FROM verdicts WHERE 1 = 1`+vcond+`
		GROUP BY product, cycle, status ORDER BY product, cycle`, vargs...)
	if err != nil {
		return c, fmt.Errorf("compliance: %w", err)
	}
	defer rows.Close()
	idx := map[[2]string]int{}
	for rows.Next() {
		var p, cy, st string
		var n int
		if err := rows.Scan(&p, &cy, &st, &n); err != nil {
			return c, fmt.Errorf("compliance: %w", err)
		}
		k := [2]string{p, cy}
		i, ok := idx[k]
		if !ok {
			i = len(c.Cycles)
			idx[k] = i
			c.Cycles = append(c.Cycles, api.CycleCount{Product: p, Cycle: cy, ByStatus: map[string]int{}})
		}
		c.Cycles[i].ByStatus[st] += n
		c.Cycles[i].Installs += n
		c.InstallsByStatus[st] += n
		c.Installs += n
	}
	if err := rows.Err(); err != nil {
		return c, fmt.Errorf("compliance: %w", err)
	}
	c.CatalogVersion, _ = s.GetMeta(ctx, metaFleetCatalog)
	c.AsOf, _ = s.GetMeta(ctx, metaFleetAsOf)
	return c, nil
}

// HostsByStatus counts hosts (not assets) per worst status (for metrics).
func (s *Store) HostsByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT status_rank, COUNT(*) FROM hosts WHERE kind = 'host' GROUP BY status_rank`)
	if err != nil {
		return nil, fmt.Errorf("hosts by status: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var rank, n int
		if err := rows.Scan(&rank, &n); err != nil {
			return nil, fmt.Errorf("hosts by status: %w", err)
		}
		out[statusOfRank(rank)] += n
	}
	return out, rows.Err()
}

// NonCompliantInstall is one row of the non-compliance export.
type NonCompliantInstall struct {
	HostID, Hostname, Kind, Product, Version, Installed, Cycle, Status string
	EOL                                                                any
	UpgradeTo, Reason                                                  string
}

// EachNonCompliant calls fn for every install of the scope's hosts whose
// status voids support eligibility, by hostname, product and version; it
// stops at fn's first error.
func (s *Store) EachNonCompliant(ctx context.Context, sc Scope, fn func(NonCompliantInstall) error) error {
	cond, args := sc.hosts("h")
	rows, err := s.r.QueryContext(ctx, `SELECT h.uid, h.hostname, h.kind, v.product, v.version, v.installed, v.cycle, v.status, COALESCE(e.verdict, '')
		FROM verdicts v JOIN hosts h ON h.id = v.host_id
		LEFT JOIN evaluations e ON e.product = v.product AND e.version = v.version AND e.context = v.context
		WHERE v.status IN (?, ?, ?, ?)`+cond+` ORDER BY h.hostname, h.uid, v.product, v.version`,
		append([]any{NonCompliantStatuses[0], NonCompliantStatuses[1], NonCompliantStatuses[2], NonCompliantStatuses[3]}, args...)...)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r NonCompliantInstall
		var js string
		if err := rows.Scan(&r.HostID, &r.Hostname, &r.Kind, &r.Product, &r.Version, &r.Installed, &r.Cycle, &r.Status, &js); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if js != "" {
			var v catalog.Verdict
			if json.Unmarshal([]byte(js), &v) == nil {
				r.EOL, r.UpgradeTo, r.Reason = v.EOL, v.UpgradeTo, v.Reason
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// HostVerdictFor returns the stored verdict of product on a host (the worst
// when several versions are installed) and all of them; ok is false when the
// product is not installed there.
func (s *Store) HostVerdictFor(ctx context.Context, hostID int64, product string) (api.HostVerdict, []api.HostVerdict, bool, error) {
	all, err := s.hostVerdicts(ctx, hostID)
	if err != nil {
		return api.HostVerdict{}, nil, false, err
	}
	var match []api.HostVerdict
	for _, v := range all {
		if v.Product == product {
			match = append(match, v.HostVerdict)
		}
	}
	if len(match) == 0 {
		return api.HostVerdict{}, nil, false, nil
	}
	return match[0], match, true, nil // hostVerdicts sorts worst first
}

// Install is one installed version of a product on a host.
type Install struct {
	Version   string // upstream version the verdict is for
	Installed string // as installed
	Context   string // the context it is judged in (Verdict.Context)
}

// HostInstalls lists the versions of product installed on a host (from its
// last full report), by version.
func (s *Store) HostInstalls(ctx context.Context, hostID int64, product string) ([]Install, error) {
	// No ORDER BY: sorting by version would steer the planner to the
	// (product, version, host_id) key and a scan of every install of the
	// product, instead of the (host_id, product) index.
	rows, err := s.r.QueryContext(ctx, `SELECT version, installed, context FROM verdicts WHERE host_id = ? AND product = ?`, hostID, product)
	if err != nil {
		return nil, fmt.Errorf("host installs: %w", err)
	}
	defer rows.Close()
	var out []Install
	for rows.Next() {
		var in Install
		if err := rows.Scan(&in.Version, &in.Installed, &in.Context); err != nil {
			return nil, fmt.Errorf("host installs: %w", err)
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Install) int { return strings.Compare(a.Version, b.Version) })
	return out, rows.Err()
}

// Optimize refreshes the query planner's statistics (cheap; run it now and
// then). On PostgreSQL autovacuum does this, and Optimize does nothing.
func (s *Store) Optimize(ctx context.Context) error {
	if s.d == sqldb.Postgres {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA optimize`); err != nil {
		return fmt.Errorf("optimize: %w", err)
	}
	return nil
}

// FleetRuns reports whether at least one host runs product, in cycle when
// cycle is not empty (notifier.FleetLookup).
func (s *Store) FleetRuns(ctx context.Context, product, cycle string) (bool, error) {
	q := `SELECT 1 FROM verdicts WHERE product = ? LIMIT 1`
	args := []any{product}
	if cycle != "" {
		q = `SELECT 1 FROM verdicts WHERE product = ? AND cycle = ? LIMIT 1`
		args = append(args, cycle)
	}
	var x int
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("fleet runs %s: %w", product, err)
	}
	return true, nil
}

// UnmatchedItem is an inventory item no catalog product matched, with how
// many hosts have it (any version).
type UnmatchedItem struct {
	Source   string `json:"source"`
	Name     string `json:"name"`
	Versions int    `json:"versions"`
	Hosts    int    `json:"hosts"`
}

// Unmatched lists the unmatched items installed on the scope's hosts, most hosts
// first: the coverage report an admin reads to add matching rules. It scans
// the whole inventory, so it is an occasional report, not a dashboard tile.
func (s *Store) Unmatched(ctx context.Context, sc Scope, limit int) ([]UnmatchedItem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	cond, args := sc.hostIDs("hs.host_id")
	rows, err := s.r.QueryContext(ctx, `SELECT s.source, s.name, COUNT(DISTINCT s.id), COUNT(DISTINCT hs.host_id)
		FROM software s JOIN host_software hs ON hs.software_id = s.id
		WHERE s.product = ''`+cond+` GROUP BY s.source, s.name ORDER BY 4 DESC, 1, 2 LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("unmatched: %w", err)
	}
	defer rows.Close()
	out := []UnmatchedItem{}
	for rows.Next() {
		var u UnmatchedItem
		if err := rows.Scan(&u.Source, &u.Name, &u.Versions, &u.Hosts); err != nil {
			return nil, fmt.Errorf("unmatched: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// InstalledProducts lists the catalog products matched anywhere in the
// scope's hosts, sorted.
func (s *Store) InstalledProducts(ctx context.Context, sc Scope) ([]string, error) {
	cond, args := sc.hostIDs("host_id")
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT product FROM verdicts WHERE 1 = 1`+cond+` ORDER BY product`, args...)
	if err != nil {
		return nil, fmt.Errorf("installed products: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("installed products: %w", err)
		}
		if p != "" {
			out = append(out, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("installed products: %w", err)
	}
	return out, nil
}

// ProductVersions counts the scope's hosts on each installed version of one
// product, by version, from the (product, version) index. A version's
// Status is the worst over its hosts; an uninstalled product has none.
func (s *Store) ProductVersions(ctx context.Context, sc Scope, product string) ([]api.ProductVersion, error) {
	cond, args := sc.hostIDs("host_id")
	rows, err := s.r.QueryContext(ctx, `SELECT version, MIN(cycle), MIN(status_rank), COUNT(*) FROM verdicts
		WHERE product = ?`+cond+` GROUP BY version ORDER BY version`, append([]any{product}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("product versions: %w", err)
	}
	defer rows.Close()
	var out []api.ProductVersion
	for rows.Next() {
		var v api.ProductVersion
		var rank int
		if err := rows.Scan(&v.Version, &v.Cycle, &rank, &v.Hosts); err != nil {
			return nil, fmt.Errorf("product versions: %w", err)
		}
		v.Status = statusOfRank(rank)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("product versions: %w", err)
	}
	return out, nil
}

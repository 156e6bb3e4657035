package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// The queries below read the store's tables for what the dashboard needs
// and store.Store has no method for yet (host search, OS filter, staleness,
// sorting, offset paging, the distinct OS names, a page of one host's
// inventory). They are read-only, run on the store's reader pool, and do
// their filtering, counting and paging in SQL. They belong in server/store
// as methods; move them there when the store grows a HostQuery method.
// json_extract is SQLite's; a PostgreSQL backend would use info->>'os_name'.

// statusOf maps a stored status rank back to its word.
func statusOf(rank int) string {
	if rank >= 0 && rank < len(catalog.Statuses) {
		return catalog.Statuses[rank]
	}
	return "none"
}

func (b *Backend) queryHosts(ctx context.Context, q HostQuery) (HostPage, error) {
	var where []string
	var args []any
	from := `hosts h`
	rankCol := `h.status_rank`
	versionCol := `''`
	var colArgs []any // arguments of the select list, before the WHERE arguments
	if q.Product != "" {
		// The (product, version) index holds host_id: a range scan, no table reads.
		if q.Status == "" {
			where = append(where, `h.id IN (SELECT v.host_id FROM verdicts v WHERE v.product = ?)`)
			args = append(args, q.Product)
		}
		rankCol = `(SELECT MIN(v.status_rank) FROM verdicts v WHERE v.host_id = h.id AND v.product = ?)`
		versionCol = `(SELECT MIN(v.version) FROM verdicts v WHERE v.host_id = h.id AND v.product = ?)`
	}
	if q.Search != "" {
		where = append(where, `h.hostname LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(q.Search)+"%")
	}
	if q.OS != "" {
		where = append(where, `json_extract(h.info, '$.os_name') = ?`)
		args = append(args, q.OS)
	}
	if q.Stale {
		where = append(where, `h.last_checkin_at < ?`)
		args = append(args, q.StaleBefore.UnixNano())
	}
	if q.Status != "" {
		if q.Product != "" {
			// Hosts with an install of the product in that status.
			where = append(where, `h.id IN (SELECT v.host_id FROM verdicts v WHERE v.product = ? AND v.status_rank = ?)`)
			args = append(args, q.Product, catalog.StatusRank(q.Status))
		} else {
			where = append(where, `h.status_rank = ?`)
			args = append(args, catalog.StatusRank(q.Status))
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, ` AND `)
	}
	var page HostPage
	r := b.Store.Reader()
	if err := r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+from+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count hosts: %w", err)
	}
	var orderArgs []any
	order := map[string]string{
		SortHostname: `h.hostname`,
		SortStatus:   rankCol,
		SortOS:       `json_extract(h.info, '$.os_name')`,
		SortLastSeen: `h.last_checkin_at`,
	}[q.Sort]
	if order == "" {
		order = `h.hostname`
	}
	if order == rankCol && q.Product != "" {
		orderArgs = append(orderArgs, q.Product)
	}
	if q.Product != "" {
		colArgs = append(colArgs, q.Product, q.Product)
	}
	dir := ` ASC`
	if q.Desc {
		dir = ` DESC`
	}
	// Ties break on hostname then the row id, which the hostname index
	// holds, so the default order needs no sort.
	tie := `, h.hostname` + dir + `, h.id` + dir
	if order == `h.hostname` {
		tie = `, h.id` + dir
	}
	limit := min(max(q.Limit, 1), maxPerPage)
	all := append(append(append(colArgs, args...), orderArgs...), limit, max(q.Offset, 0))
	rows, err := r.QueryContext(ctx, `SELECT h.uid, h.hostname, COALESCE(json_extract(h.info, '$.os_name'), ''), `+rankCol+`, h.last_checkin_at, `+versionCol+`,
		(SELECT COUNT(DISTINCT v.product) FROM verdicts v WHERE v.host_id = h.id)
		FROM `+from+cond+` ORDER BY `+order+dir+tie+` LIMIT ? OFFSET ?`, all...)
	if err != nil {
		return page, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h HostRow
		var rank int
		var seen int64
		if err := rows.Scan(&h.ID, &h.Hostname, &h.OSName, &rank, &seen, &h.Version, &h.Installs); err != nil {
			return page, fmt.Errorf("list hosts: %w", err)
		}
		h.Status = statusOf(rank)
		if seen > 0 {
			h.LastSeen = time.Unix(0, seen).UTC()
		}
		page.Rows = append(page.Rows, h)
	}
	return page, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (b *Backend) queryFacets(ctx context.Context) (Facets, error) {
	var f Facets
	r := b.Store.Reader()
	list := func(q string) ([]string, error) {
		rows, err := r.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s sql.NullString
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			if s.String != "" {
				out = append(out, s.String)
			}
		}
		return out, rows.Err()
	}
	var err error
	if f.Products, err = list(`SELECT DISTINCT product FROM verdicts ORDER BY product`); err != nil {
		return f, fmt.Errorf("host facets: %w", err)
	}
	if f.OSes, err = list(`SELECT DISTINCT json_extract(info, '$.os_name') AS os FROM hosts ORDER BY os`); err != nil {
		return f, fmt.Errorf("host facets: %w", err)
	}
	return f, nil
}

func (b *Backend) staleHosts(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := b.Store.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts WHERE last_checkin_at < ?`, before.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count stale hosts: %w", err)
	}
	return n, nil
}

// productVersions counts hosts per installed version of one product, from
// the verdicts index on (product, version).
func (b *Backend) productVersions(ctx context.Context, product string) ([]VersionCount, error) {
	rows, err := b.Store.Reader().QueryContext(ctx, `SELECT version, MIN(cycle), MIN(status_rank), COUNT(*) FROM verdicts
		WHERE product = ? GROUP BY version`, product)
	if err != nil {
		return nil, fmt.Errorf("product versions: %w", err)
	}
	defer rows.Close()
	var out []VersionCount
	for rows.Next() {
		var v VersionCount
		var rank int
		if err := rows.Scan(&v.Version, &v.Cycle, &rank, &v.Hosts); err != nil {
			return nil, fmt.Errorf("product versions: %w", err)
		}
		v.Status = statusOf(rank)
		out = append(out, v)
	}
	return out, rows.Err()
}

func (b *Backend) enrolledHosts(ctx context.Context) (int, error) {
	var n int
	if err := b.Store.Reader().QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count hosts: %w", err)
	}
	return n, nil
}

// itemExtra mirrors the store's JSON of an item's extra identity fields.
type itemExtra struct {
	SourcePkg string `json:"source_pkg,omitempty"`
	Publisher string `json:"publisher,omitempty"`
	BundleID  string `json:"bundle_id,omitempty"`
}

func (b *Backend) queryInventory(ctx context.Context, hostID string, offset, limit int) ([]api.Item, int, error) {
	r := b.Store.Reader()
	var id int64
	var total int
	err := r.QueryRowContext(ctx, `SELECT h.id, (SELECT COUNT(*) FROM host_software hs WHERE hs.host_id = h.id) FROM hosts h WHERE h.uid = ?`, hostID).Scan(&id, &total)
	if err == sql.ErrNoRows {
		return nil, 0, fmt.Errorf("host %q: %w", hostID, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("host inventory: %w", err)
	}
	rows, err := r.QueryContext(ctx, `SELECT s.source, s.name, s.version, s.arch, s.extra, s.product
		FROM host_software hs JOIN software s ON s.id = hs.software_id
		WHERE hs.host_id = ? ORDER BY s.name, s.version, s.source LIMIT ? OFFSET ?`, id, min(max(limit, 1), 1000), max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("host inventory: %w", err)
	}
	defer rows.Close()
	var out []api.Item
	for rows.Next() {
		var it api.Item
		var extra string
		if err := rows.Scan(&it.Source, &it.Name, &it.Version, &it.Arch, &extra, &it.Product); err != nil {
			return nil, 0, fmt.Errorf("host inventory: %w", err)
		}
		if extra != "" {
			var x itemExtra
			if json.Unmarshal([]byte(extra), &x) == nil {
				it.SourcePkg, it.Publisher, it.BundleID = x.SourcePkg, x.Publisher, x.BundleID
			}
		}
		out = append(out, it)
	}
	return out, total, rows.Err()
}

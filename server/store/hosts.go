package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
)

// StatusNone is a host's status when none of its items matched a product.
const StatusNone = "none"

// rankNone is the status rank of a host without verdicts (after "current").
var rankNone = len(catalog.Statuses)

// statusOfRank maps a stored rank back to its status word.
func statusOfRank(r int) string {
	if r >= 0 && r < len(catalog.Statuses) {
		return catalog.Statuses[r]
	}
	return StatusNone
}

// Enroll registers a host (or re-enrolls one with the same install id) and
// returns its public id and a new node key; only the key's hash is stored and
// any previous key of the host stops working.
func (s *Store) Enroll(ctx context.Context, h api.HostInfo) (hostID, nodeKey string, err error) {
	info, err := json.Marshal(h)
	if err != nil {
		return "", "", fmt.Errorf("enroll: %w", err)
	}
	nodeKey = "ewn_" + randomHex(32)
	now := s.now().UnixNano()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT uid FROM hosts WHERE install_id = ?`, h.InstallID).Scan(&hostID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			hostID = randomHex(8)
			_, err = tx.ExecContext(ctx, `INSERT INTO hosts (uid, install_id, hostname, info, node_key_hash, enrolled_at)
				VALUES (?, ?, ?, ?, ?, ?)`, hostID, h.InstallID, h.Hostname, string(info), HashSecret(nodeKey), now)
		case err == nil:
			_, err = tx.ExecContext(ctx, `UPDATE hosts SET hostname = ?, info = ?, node_key_hash = ?, revoked = 0
				WHERE uid = ?`, h.Hostname, string(info), HashSecret(nodeKey), hostID)
		}
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("enroll: %w", err)
	}
	return hostID, nodeKey, nil
}

// HostRef is the identity a valid node key resolves to.
type HostRef struct {
	ID        int64  // internal row id
	UID       string // public host id
	InstallID string
	Hostname  string
}

// HostByNodeKey returns the host owning an unrevoked node key, or ErrUnauthorized.
func (s *Store) HostByNodeKey(ctx context.Context, nodeKey string) (HostRef, error) {
	var h HostRef
	if nodeKey == "" {
		return h, ErrUnauthorized
	}
	err := s.r.QueryRowContext(ctx, `SELECT id, uid, install_id, hostname FROM hosts WHERE node_key_hash = ? AND revoked = 0`,
		HashSecret(nodeKey)).Scan(&h.ID, &h.UID, &h.InstallID, &h.Hostname)
	if errors.Is(err, sql.ErrNoRows) {
		return h, ErrUnauthorized
	}
	if err != nil {
		return h, fmt.Errorf("host by node key: %w", err)
	}
	return h, nil
}

// RevokeHost invalidates a host's node key; the host keeps its data and may
// enroll again with the enroll secret.
func (s *Store) RevokeHost(ctx context.Context, uid string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET revoked = 1 WHERE uid = ?`, uid)
		if err != nil {
			return fmt.Errorf("revoke host: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("host %q: %w", uid, ErrNotFound)
		}
		return nil
	})
}

const hostColumns = `h.id, h.uid, h.hostname, h.info, h.enrolled_at, h.last_report_at, h.last_checkin_at,
	h.item_count, h.unmatched_count, h.status_rank, h.revoked, h.collector_errors`

type hostRow struct {
	id     int64
	host   api.Host
	info   api.HostInfo
	errors []api.CollectorError
}

func scanHost(sc interface{ Scan(...any) error }) (hostRow, error) {
	var r hostRow
	var info, errs string
	var enrolled, report, checkin int64
	var rank int
	err := sc.Scan(&r.id, &r.host.ID, &r.host.Hostname, &info, &enrolled, &report, &checkin,
		&r.host.Items, &r.host.Unmatched, &rank, &r.host.Revoked, &errs)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(info), &r.info); err != nil {
		return r, fmt.Errorf("host %s info: %w", r.host.ID, err)
	}
	if errs != "" {
		if err := json.Unmarshal([]byte(errs), &r.errors); err != nil {
			return r, fmt.Errorf("host %s errors: %w", r.host.ID, err)
		}
	}
	r.host.Status = statusOfRank(rank)
	r.host.OS = strings.TrimSpace(r.info.OSID + " " + r.info.OSVersion)
	r.host.OSName = r.info.OSName
	r.host.EnrolledAt = unixNano(enrolled)
	r.host.LastReportAt = unixNano(report)
	r.host.LastCheckinAt = unixNano(checkin)
	return r, nil
}

func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// FindHost resolves a host by public id or, failing that, by hostname. A
// hostname shared by several hosts is an error listing their ids.
func (s *Store) FindHost(ctx context.Context, ref string) (api.Host, int64, error) {
	r, err := scanHost(s.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.uid = ?`, ref))
	if err == nil {
		return r.host, r.id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return api.Host{}, 0, fmt.Errorf("find host: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.hostname = ? ORDER BY h.uid LIMIT 10`, ref)
	if err != nil {
		return api.Host{}, 0, fmt.Errorf("find host: %w", err)
	}
	defer rows.Close()
	var found []hostRow
	for rows.Next() {
		r, err := scanHost(rows)
		if err != nil {
			return api.Host{}, 0, fmt.Errorf("find host: %w", err)
		}
		found = append(found, r)
	}
	if err := rows.Err(); err != nil {
		return api.Host{}, 0, fmt.Errorf("find host: %w", err)
	}
	switch len(found) {
	case 0:
		return api.Host{}, 0, fmt.Errorf("host %q: %w", ref, ErrNotFound)
	case 1:
		return found[0].host, found[0].id, nil
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = f.host.ID
	}
	return api.Host{}, 0, fmt.Errorf("%w: hostname %q is shared by hosts %s; use a host id", ErrAmbiguous, ref, strings.Join(ids, ", "))
}

// ErrAmbiguous is returned when a hostname names several hosts.
var ErrAmbiguous = errors.New("ambiguous host")

// HostFilter selects hosts to list. Empty fields do not filter.
type HostFilter struct {
	Status  string // worst status on the host, or the status of Product's install when Product is set
	Product string // hosts with this product installed
	Cycle   string // with Product: hosts with this cycle installed
	Limit   int    // page size (default 100, at most 1000)
	After   string // cursor: the Next of the previous page
}

// ListHosts lists hosts ordered by hostname then id, one page at a time.
func (s *Store) ListHosts(ctx context.Context, f HostFilter) (api.HostList, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	if f.Limit > 1000 {
		f.Limit = 1000
	}
	var where []string
	var args []any
	if f.Product != "" {
		sub := `SELECT v.host_id FROM verdicts v WHERE v.product = ?`
		args = append(args, f.Product)
		if f.Cycle != "" {
			sub += ` AND v.cycle = ?`
			args = append(args, f.Cycle)
		}
		if f.Status != "" {
			sub += ` AND v.status = ?`
			args = append(args, f.Status)
		}
		where = append(where, `h.id IN (`+sub+`)`)
	} else if f.Status != "" {
		where = append(where, `h.status_rank = ?`)
		args = append(args, statusRank(f.Status))
	}
	countWhere, countArgs := append([]string(nil), where...), append([]any(nil), args...)
	if f.After != "" {
		name, id, ok := strings.Cut(f.After, "\x00")
		if !ok {
			return api.HostList{}, fmt.Errorf("%w: bad cursor", ErrInvalid)
		}
		where = append(where, `(h.hostname > ? OR (h.hostname = ? AND h.uid > ?))`)
		args = append(args, name, name, id)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out api.HostList
	q := `SELECT ` + hostColumns + ` FROM hosts h` + cond + ` ORDER BY h.hostname, h.uid LIMIT ` + strconv.Itoa(f.Limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return out, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	out.Hosts = []api.Host{}
	for rows.Next() {
		r, err := scanHost(rows)
		if err != nil {
			return out, fmt.Errorf("list hosts: %w", err)
		}
		out.Hosts = append(out.Hosts, r.host)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("list hosts: %w", err)
	}
	if len(out.Hosts) > f.Limit {
		out.Hosts = out.Hosts[:f.Limit]
		last := out.Hosts[f.Limit-1]
		out.Next = last.Hostname + "\x00" + last.ID
	}
	cc := ""
	if len(countWhere) > 0 {
		cc = " WHERE " + strings.Join(countWhere, " AND ")
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts h`+cc, countArgs...).Scan(&out.Total); err != nil {
		return out, fmt.Errorf("count hosts: %w", err)
	}
	return out, nil
}

// ErrInvalid marks bad input to a store method (a bad cursor, an unknown status).
var ErrInvalid = errors.New("invalid")

// statusRank returns the rank of a status word, with "none" after "current".
func statusRank(s string) int {
	if s == StatusNone {
		return rankNone
	}
	return catalog.StatusRank(s)
}

// HostDetail returns a host with its verdicts and inventory.
func (s *Store) HostDetail(ctx context.Context, ref string) (api.HostDetail, error) {
	var d api.HostDetail
	_, id, err := s.FindHost(ctx, ref)
	if err != nil {
		return d, err
	}
	r, err := scanHost(s.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.id = ?`, id))
	if err != nil {
		return d, fmt.Errorf("host detail: %w", err)
	}
	d.Host, d.Info, d.Errors = r.host, r.info, r.errors
	if d.Verdicts, err = s.hostVerdicts(ctx, id); err != nil {
		return d, err
	}
	if d.Inventory, err = s.hostInventory(ctx, id); err != nil {
		return d, err
	}
	return d, nil
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/sqldb"
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

// EnrollInput is one enrolment request.
type EnrollInput struct {
	Host api.HostInfo
	// Customer is the id of the customer whose enroll secret was used, ""
	// for the server-wide secret.
	Customer string
	// PreviousKey is the node key the agent had, its proof of being the
	// host already enrolled under Host.InstallID.
	PreviousKey string
	// From is the requester's address, shown to the admin with a pending
	// request.
	From string
}

// EnrollResult is what an enrolment gave.
type EnrollResult struct {
	HostID  string // set when enrolled
	NodeKey string // a new key; "" when a pending request was asked about again
	Pending bool   // an admin must approve the request (ApproveEnrollment)
	// RequestID names the pending request, new or asked about again: the
	// id an admin approves.
	RequestID string
}

// MaxPendingRequests is how many re-enrolment requests one host may have
// waiting for an admin.
const MaxPendingRequests = 20

// ErrTooManyPending refuses a re-enrolment request while the host has
// MaxPendingRequests waiting: an admin must deny some first.
var ErrTooManyPending error = &fault.Error{Code: fault.TooMany, Field: "host.install_id",
	Msg: "this host has too many re-enrolment requests awaiting an admin: ask an admin to deny the unknown ones"}

// ErrHostRevoked refuses to enroll a revoked host again: only an admin
// restores it (RestoreHost).
var ErrHostRevoked error = &fault.Error{Code: fault.Forbidden, Field: "host.install_id",
	Msg: "this host is revoked: an admin must restore it before it can report again"}

// ErrNothingPending is returned when approving or denying a host that has
// no pending enrolment, or restoring one that is not revoked.
var ErrNothingPending error = &fault.Error{Code: fault.Conflict, Msg: "nothing to do"}

// Enroll enrolls a host of no customer; see EnrollHost.
func (s *Store) Enroll(ctx context.Context, h api.HostInfo) (hostID, nodeKey string, err error) {
	return s.EnrollCustomer(ctx, h, "")
}

// EnrollCustomer enrolls a host with a customer's secret ("" for the
// server-wide one) without a previous key: a new install id becomes a
// host; a known one only becomes a pending request (ErrPendingApproval).
func (s *Store) EnrollCustomer(ctx context.Context, h api.HostInfo, customer string) (hostID, nodeKey string, err error) {
	res, err := s.EnrollHost(ctx, EnrollInput{Host: h, Customer: customer})
	if err == nil && res.Pending {
		return "", "", fmt.Errorf("enroll %s: %w", h.InstallID, ErrPendingApproval)
	}
	return res.HostID, res.NodeKey, err
}

// ErrPendingApproval is EnrollCustomer's answer for a known install id:
// the request waits for an admin.
var ErrPendingApproval error = &fault.Error{Code: fault.Conflict, Field: "host.install_id", Msg: "this install id is enrolled already: the request awaits an admin's approval"}

// EnrollHost decides an enrolment. A new install id becomes a host (of
// in.Customer) with a new node key. For a known one:
//   - a revoked host is refused (ErrHostRevoked) until an admin restores it;
//   - in.PreviousKey equal to the host's key proves the caller is the host:
//     it gets a new key (the old one stops working), its host facts and
//     customer are updated, and any pending request is dropped;
//   - in.PreviousKey equal to the key of one of the host's pending
//     requests: still pending (Pending, no new key);
//   - otherwise the request becomes one more pending request of the host
//     (a new key and request id, beside any earlier ones, which stay as
//     they were), waiting for an admin to approve or deny exactly that
//     request; the host, its key and its inventory stay as they are. A
//     host holds at most MaxPendingRequests (ErrTooManyPending beyond):
//     a flood of requests cannot push out the real machine's.
//
// Only hashes of keys are stored.
func (s *Store) EnrollHost(ctx context.Context, in EnrollInput) (EnrollResult, error) {
	var res EnrollResult
	info, err := json.Marshal(in.Host)
	if err != nil {
		return res, fmt.Errorf("enroll: %w", err)
	}
	key := "ewn_" + randomHex(32)
	now := s.now().UnixNano()
	var cust any // NULL: no customer
	if in.Customer != "" {
		cust = in.Customer
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res = EnrollResult{}
		// One statement for a new host, so two enrolments of one install
		// id at once (on PostgreSQL, through two servers) end as one host.
		err := tx.QueryRowContext(ctx, `INSERT INTO hosts (uid, install_id, hostname, info, node_key_hash, enrolled_at, customer_id)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (install_id) DO NOTHING RETURNING uid`,
			randomHex(8), in.Host.InstallID, in.Host.Hostname, string(info), HashSecret(key), now, cust).Scan(&res.HostID)
		if err == nil {
			res.NodeKey = key
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		q := `SELECT uid, node_key_hash, revoked FROM hosts WHERE install_id = ?`
		if s.d == sqldb.Postgres {
			q += ` FOR UPDATE`
		}
		var uid, keyHash string
		var revoked bool
		if err := tx.QueryRowContext(ctx, q, in.Host.InstallID).Scan(&uid, &keyHash, &revoked); err != nil {
			return err
		}
		var hostID int64
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT h.id, (SELECT COUNT(*) FROM enroll_requests q WHERE q.host_id = h.id)
			FROM hosts h WHERE h.uid = ?`, uid).Scan(&hostID, &pending); err != nil {
			return err
		}
		prev := ""
		if in.PreviousKey != "" {
			prev = HashSecret(in.PreviousKey)
		}
		switch {
		case revoked:
			return ErrHostRevoked
		case prev != "" && prev == keyHash:
			res.HostID, res.NodeKey = uid, key
			_, err := tx.ExecContext(ctx, `UPDATE hosts SET hostname = ?, info = ?, node_key_hash = ?, customer_id = ?,
				pending_key_hash = NULL, pending_info = '', pending_customer_id = NULL, pending_at = 0, pending_from = ''
				WHERE uid = ?`, in.Host.Hostname, string(info), HashSecret(key), cust, uid)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `DELETE FROM enroll_requests WHERE host_id = ?`, hostID)
			return err
		case prev != "":
			err := tx.QueryRowContext(ctx, `SELECT id FROM enroll_requests WHERE host_id = ? AND key_hash = ?`, hostID, prev).Scan(&res.RequestID)
			if err == nil {
				res.Pending = true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if pending >= MaxPendingRequests {
			return ErrTooManyPending
		}
		res.Pending, res.NodeKey, res.RequestID = true, key, "enr_"+randomHex(12)
		_, err = tx.ExecContext(ctx, `INSERT INTO enroll_requests (id, host_id, key_hash, info, customer_id, requested_at, from_addr)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, res.RequestID, hostID, HashSecret(key), string(info), cust, now, in.From)
		return err
	})
	if err != nil {
		if _, ok := fault.As(err); ok {
			return EnrollResult{}, err
		}
		return EnrollResult{}, fmt.Errorf("enroll: %w", err)
	}
	return res, nil
}

// ApproveEnrollment grants exactly the pending request reqID of host uid:
// its key becomes the host's node key (the previous one stops working),
// the request's host facts and customer become the host's, and the host's
// other pending requests are dropped. ErrNotFound for an unknown host,
// ErrNothingPending when reqID is not a pending request of this host
// (approved, denied, dropped or never made): a request made after the
// admin looked is never approved in its place.
func (s *Store) ApproveEnrollment(ctx context.Context, uid, reqID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var hostID int64
		var info, keyHash string
		var cust sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT h.id, q.info, q.key_hash, q.customer_id FROM enroll_requests q
			JOIN hosts h ON h.id = q.host_id WHERE h.uid = ? AND q.id = ?`, uid, reqID).Scan(&hostID, &info, &keyHash, &cust)
		if errors.Is(err, sql.ErrNoRows) {
			return s.noHostOr(ctx, tx, uid, noSuchRequest(reqID))
		}
		if err != nil {
			return fmt.Errorf("approve enrolment: %w", err)
		}
		var h api.HostInfo
		if err := json.Unmarshal([]byte(info), &h); err != nil {
			return fmt.Errorf("approve enrolment: stored request: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM enroll_requests WHERE host_id = ?`, hostID); err != nil {
			return fmt.Errorf("approve enrolment: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE hosts SET node_key_hash = ?, hostname = ?, info = ?, customer_id = ? WHERE id = ?`,
			keyHash, h.Hostname, info, cust, hostID)
		if err != nil {
			return fmt.Errorf("approve enrolment: %w", err)
		}
		return nil
	})
}

// noSuchRequest is the conflict message for a request id that is not
// pending.
func noSuchRequest(reqID string) string {
	if reqID == "" {
		return "name the pending request (request_id): the host's pending requests are listed with their ids"
	}
	return fmt.Sprintf("request %q is not pending for this host (approved, denied or never made): list the pending requests again", reqID)
}

// DenyEnrollment drops exactly the pending request reqID of host uid: its
// key never works. The host's other requests stay.
func (s *Store) DenyEnrollment(ctx context.Context, uid, reqID string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM enroll_requests WHERE id = ?
			AND host_id = (SELECT id FROM hosts WHERE uid = ?)`, reqID, uid)
		if err != nil {
			return fmt.Errorf("deny enrolment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.noHostOr(ctx, tx, uid, noSuchRequest(reqID))
		}
		return nil
	})
}

// RestoreHost lifts a host's revocation: its node key works again.
func (s *Store) RestoreHost(ctx context.Context, uid string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET revoked = 0 WHERE uid = ? AND revoked = 1`, uid)
		if err != nil {
			return fmt.Errorf("restore host: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return s.noHostOr(ctx, tx, uid, "this host is not revoked")
		}
		return nil
	})
}

// noHostOr returns ErrNotFound when uid is no host, else ErrNothingPending
// with msg.
func (s *Store) noHostOr(ctx context.Context, tx *sql.Tx, uid, msg string) error {
	var x int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM hosts WHERE uid = ?`, uid).Scan(&x); errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("host %q: %w", uid, ErrNotFound)
	} else if err != nil {
		return err
	}
	return &fault.Error{Code: fault.Conflict, Msg: msg, Err: ErrNothingPending}
}

// PendingEnrollments lists every pending re-enrolment request, oldest
// first (at most 1000), each with its id, host, time and source address.
func (s *Store) PendingEnrollments(ctx context.Context) ([]api.PendingEnrollment, error) {
	return s.pendingRequests(ctx, `ORDER BY q.requested_at, q.id LIMIT 1000`)
}

// hostPendingRequests lists the pending requests of one host, oldest first.
func (s *Store) hostPendingRequests(ctx context.Context, hostID int64) ([]api.PendingEnrollment, error) {
	return s.pendingRequests(ctx, `AND q.host_id = ? ORDER BY q.requested_at, q.id`, hostID)
}

func (s *Store) pendingRequests(ctx context.Context, tail string, args ...any) ([]api.PendingEnrollment, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT q.id, h.uid, h.hostname, q.info, q.requested_at, q.from_addr
		FROM enroll_requests q JOIN hosts h ON h.id = q.host_id WHERE 1 = 1 `+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("pending enrolments: %w", err)
	}
	defer rows.Close()
	var out []api.PendingEnrollment
	for rows.Next() {
		var p api.PendingEnrollment
		var info string
		var at int64
		if err := rows.Scan(&p.ID, &p.HostID, &p.HostHostname, &info, &at, &p.From); err != nil {
			return nil, fmt.Errorf("pending enrolments: %w", err)
		}
		var h api.HostInfo
		if err := json.Unmarshal([]byte(info), &h); err != nil {
			return nil, fmt.Errorf("pending enrolment %s: %w", p.ID, err)
		}
		p.RequestedAt, p.Hostname, p.OSName = unixNano(at), h.Hostname, h.OSName
		out = append(out, p)
	}
	return out, rows.Err()
}

// HostRef is the identity a valid node key resolves to.
type HostRef struct {
	ID        int64  // internal row id
	UID       string // public host id
	InstallID string
	Hostname  string
	// Kind is api.KindAsset for an asset (an SBOM's subject), so its fleet
	// events say so; empty or api.KindHost for an agent's host.
	Kind string
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

// RevokeHost invalidates a host's node key and drops any pending
// enrolment; the host keeps its data, and stays revoked (enrolling again
// is refused) until an admin restores it (RestoreHost).
func (s *Store) RevokeHost(ctx context.Context, uid string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE hosts SET revoked = 1 WHERE uid = ?`, uid)
		if err != nil {
			return fmt.Errorf("revoke host: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("host %q: %w", uid, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM enroll_requests WHERE host_id = (SELECT id FROM hosts WHERE uid = ?)`, uid); err != nil {
			return fmt.Errorf("revoke host: %w", err)
		}
		return nil
	})
}

const hostColumns = `h.id, h.uid, h.hostname, h.info, h.enrolled_at, h.last_report_at, h.last_checkin_at,
	h.item_count, h.unmatched_count, h.status_rank, h.revoked, h.collector_errors, h.kind, h.labels, COALESCE(h.customer_id, ''),
	COALESCE((SELECT c.name FROM customers c WHERE c.id = h.customer_id), ''),
	(SELECT COUNT(*) FROM enroll_requests q WHERE q.host_id = h.id)`

type hostRow struct {
	id     int64
	host   api.Host
	info   api.HostInfo
	errors []api.CollectorError
}

func scanHost(sc interface{ Scan(...any) error }) (hostRow, error) {
	var r hostRow
	var info, errs, labels string
	var enrolled, report, checkin int64
	var rank int
	err := sc.Scan(&r.id, &r.host.ID, &r.host.Hostname, &info, &enrolled, &report, &checkin,
		&r.host.Items, &r.host.Unmatched, &rank, &r.host.Revoked, &errs, &r.host.Kind, &labels, &r.host.CustomerID,
		&r.host.Customer, &r.host.PendingRequests)
	if err != nil {
		return r, err
	}
	if labels != "" {
		if err := json.Unmarshal([]byte(labels), &r.host.Labels); err != nil {
			return r, fmt.Errorf("host %s labels: %w", r.host.ID, err)
		}
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

// FindHost resolves a host by public id, an asset by "asset:NAME", or,
// failing that, either by hostname (an asset's name). A hostname shared by
// several hosts is an error listing their ids.
func (s *Store) FindHost(ctx context.Context, ref string) (api.Host, int64, error) {
	return s.FindHostIn(ctx, Scope{}, ref)
}

// FindHostIn is FindHost among the scope's hosts only: another customer's
// host is not found, and is never listed as sharing a hostname.
func (s *Store) FindHostIn(ctx context.Context, sc Scope, ref string) (api.Host, int64, error) {
	cond, args := sc.hosts("h")
	q, arg := `SELECT `+hostColumns+` FROM hosts h WHERE h.uid = ?`+cond, ref
	if strings.HasPrefix(ref, assetPrefix) {
		q = `SELECT ` + hostColumns + ` FROM hosts h WHERE h.install_id = ? AND h.kind = 'asset'` + cond
	}
	r, err := scanHost(s.r.QueryRowContext(ctx, q, append([]any{arg}, args...)...))
	if err == nil {
		return r.host, r.id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return api.Host{}, 0, fmt.Errorf("find host: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.hostname = ?`+cond+` ORDER BY h.uid LIMIT 10`, append([]any{ref}, args...)...)
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
	// A hostname is whatever an agent reports: list the candidates so the
	// caller can ask by host id, the identity.
	cands := make([]string, len(found))
	for i, f := range found {
		os := cmp.Or(f.host.OSName, f.host.OS, "unknown system")
		seen := "never reported"
		if !f.host.LastReportAt.IsZero() {
			seen = "last report " + f.host.LastReportAt.Format("2006-01-02 15:04 UTC")
		}
		cands[i] = fmt.Sprintf("%s (%s, enrolled %s, %s)", f.host.ID, os, f.host.EnrolledAt.Format(time.DateOnly), seen)
	}
	more := ""
	if len(found) == 10 {
		more = " (the first 10)"
	}
	return api.Host{}, 0, fmt.Errorf("%w: hostname %q is reported by %d hosts%s; ask by host id: %s", ErrAmbiguous, ref, len(found), more,
		strings.Join(cands, "; "))
}

// ErrAmbiguous is returned when a hostname names several hosts (a
// conflict about the field "host").
var ErrAmbiguous error = &fault.Error{Code: fault.Conflict, Field: "host", Msg: "ambiguous host"}

// HostFilter selects hosts to list. Empty fields do not filter.
type HostFilter struct {
	Status  string // worst status on the host, or the status of Product's install when Product is set
	Product string // hosts with this product installed
	Cycle   string // with Product: hosts with this cycle installed
	Kind    string // api.KindHost or api.KindAsset; "" for both
	Scope   Scope  // hosts of one customer
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
	if f.Kind != "" {
		where = append(where, `h.kind = ?`)
		args = append(args, f.Kind)
	}
	if f.Scope.Customer != "" {
		where = append(where, `h.customer_id = ?`)
		args = append(args, f.Scope.Customer)
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
var ErrInvalid error = &fault.Error{Code: fault.Invalid, Msg: "invalid"}

// statusRank returns the rank of a status word, with "none" after "current".
func statusRank(s string) int {
	if s == StatusNone {
		return rankNone
	}
	return catalog.StatusRank(s)
}

// HostDetail returns a host of the scope (by id or hostname) with its
// verdicts and inventory.
func (s *Store) HostDetail(ctx context.Context, sc Scope, ref string) (api.HostDetail, error) {
	var d api.HostDetail
	_, id, err := s.FindHostIn(ctx, sc, ref)
	if err != nil {
		return d, err
	}
	r, err := scanHost(s.r.QueryRowContext(ctx, `SELECT `+hostColumns+` FROM hosts h WHERE h.id = ?`, id))
	if err != nil {
		return d, fmt.Errorf("host detail: %w", err)
	}
	d.Host, d.Info, d.Errors = r.host, r.info, r.errors
	if r.host.PendingRequests > 0 {
		if d.Host.PendingEnrollments, err = s.hostPendingRequests(ctx, id); err != nil {
			return d, err
		}
	}
	vs, err := s.hostVerdicts(ctx, id)
	if err != nil {
		return d, err
	}
	d.Verdicts = make([]api.HostVerdict, len(vs))
	for i := range vs {
		d.Verdicts[i] = vs[i].HostVerdict
	}
	if d.Inventory, err = s.hostInventory(ctx, id); err != nil {
		return d, err
	}
	if d.Kind == api.KindAsset {
		if d.Uploads, err = s.assetUploads(ctx, id); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Sort keys of HostSearch.Sort.
const (
	HostSortHostname = "hostname"
	HostSortStatus   = "status"    // worst first when ascending
	HostSortOS       = "os"        // by OS name
	HostSortLastSeen = "last_seen" // oldest check-in first when ascending
)

// HostSearch selects one page of hosts for browsing (the dashboard's hosts
// table). Empty fields do not filter.
type HostSearch struct {
	// Search matches a substring of the hostname, ignoring ASCII case.
	Search string
	// Status is the host's worst status (StatusNone for hosts without
	// verdicts); with Product, hosts with an install of Product in this status.
	Status string
	// Product keeps hosts where this catalog product is installed; each
	// summary's Status and Version are then those of that product's install.
	Product string
	// OS is an exact OS name (api.HostInfo.OSName).
	OS string
	// Kind keeps hosts (api.KindHost) or assets (api.KindAsset); "" both.
	Kind string
	// StaleBefore, when set, keeps hosts whose last check-in is before it
	// (hosts that never checked in included; assets never).
	StaleBefore time.Time
	// Sort is one of the HostSort* keys (default HostSortHostname); ties
	// break on hostname, then on enrollment order.
	Sort string
	// Desc reverses the order, ties included.
	Desc bool
	// Scope keeps one customer's hosts.
	Scope Scope
	// Offset is how many matching hosts to skip (negative: 0).
	Offset int
	// Limit is the page size (0 or less: 100; at most 1000).
	Limit int
}

// HostSummary is one host in a HostSearch page.
type HostSummary struct {
	ID            string // public host id
	Hostname      string
	Kind          string // api.KindHost or api.KindAsset
	OSName        string
	Status        string    // worst status, or the status of HostSearch.Product's install
	Version       string    // the installed version of HostSearch.Product, when set
	Installs      int       // distinct products matched on the host
	LastCheckinAt time.Time // zero when the host never checked in
}

// HostSearchPage is one page of a HostSearch.
type HostSearchPage struct {
	Hosts []HostSummary
	Total int // hosts matching the search, all pages
}

// hostOSName is the host's OS name inside its stored api.HostInfo JSON
// (PostgreSQL's spelling: pgHostOSName).
const hostOSName = `json_extract(h.info, '$.os_name')`

// hostnameLike matches the hostname against a LIKE pattern escaped with
// likeEscape, ignoring ASCII case as SQLite's LIKE does (PostgreSQL's
// spelling: pgHostnameLike). LOWER() on both sides would be portable but
// makes a search over 100,000 hosts about 1.7 times slower in SQLite.
const hostnameLike = `h.hostname LIKE ? ESCAPE '\'`

// osNameExpr and nameLike are hostOSName and hostnameLike in the store's engine.
func (s *Store) osNameExpr() string {
	if s.d == sqldb.Postgres {
		return pgHostOSName
	}
	return hostOSName
}

func (s *Store) nameLike() string {
	if s.d == sqldb.Postgres {
		return pgHostnameLike
	}
	return hostnameLike
}

// SearchHosts returns one page of hosts matching q, counted, filtered,
// sorted and paged in SQL, and how many hosts match in all.
func (s *Store) SearchHosts(ctx context.Context, q HostSearch) (HostSearchPage, error) {
	var where []string
	var args []any
	rankCol, versionCol := `h.status_rank`, `''`
	var colArgs []any // arguments of the select list, before the WHERE arguments
	if q.Product != "" {
		// The verdicts_product index holds host_id: a range scan, no table reads.
		if q.Status == "" {
			where = append(where, `h.id IN (SELECT v.host_id FROM verdicts v WHERE v.product = ?)`)
			args = append(args, q.Product)
		}
		rankCol = `(SELECT MIN(v.status_rank) FROM verdicts v WHERE v.host_id = h.id AND v.product = ?)`
		versionCol = `(SELECT MIN(v.version) FROM verdicts v WHERE v.host_id = h.id AND v.product = ?)`
		colArgs = append(colArgs, q.Product, q.Product)
	}
	if q.Search != "" {
		where = append(where, s.nameLike())
		args = append(args, "%"+likeEscape(q.Search)+"%")
	}
	if q.OS != "" {
		where = append(where, s.osNameExpr()+` = ?`)
		args = append(args, q.OS)
	}
	if q.Kind != "" {
		where = append(where, `h.kind = ?`)
		args = append(args, q.Kind)
	}
	if !q.StaleBefore.IsZero() {
		// assets are seen when their SBOM is uploaded, not on a schedule: never stale
		where = append(where, `h.kind = 'host' AND h.last_checkin_at < ?`)
		args = append(args, q.StaleBefore.UnixNano())
	}
	if q.Scope.Customer != "" {
		where = append(where, `h.customer_id = ?`)
		args = append(args, q.Scope.Customer)
	}
	if q.Status != "" {
		if q.Product != "" {
			// Hosts with an install of the product in that status.
			where = append(where, `h.id IN (SELECT v.host_id FROM verdicts v WHERE v.product = ? AND v.status_rank = ?)`)
			args = append(args, q.Product, statusRank(q.Status))
		} else {
			where = append(where, `h.status_rank = ?`)
			args = append(args, statusRank(q.Status))
		}
	}
	cond := ""
	if len(where) > 0 {
		cond = ` WHERE ` + strings.Join(where, ` AND `)
	}
	var page HostSearchPage
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts h`+cond, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count hosts: %w", err)
	}
	var orderArgs []any
	order := `h.hostname`
	switch q.Sort {
	case HostSortStatus:
		order = rankCol
		if q.Product != "" {
			orderArgs = append(orderArgs, q.Product)
		}
	case HostSortOS:
		order = s.osNameExpr()
		if s.d == sqldb.Postgres {
			order = `COALESCE(` + order + `, '')` // SQLite sorts NULL (no OS name) first
		}
	case HostSortLastSeen:
		order = `h.last_checkin_at`
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
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	all := append(append(append(colArgs, args...), orderArgs...), limit, max(q.Offset, 0))
	rows, err := s.r.QueryContext(ctx, `SELECT h.uid, h.hostname, h.kind, COALESCE(`+s.osNameExpr()+`, ''), `+rankCol+`, h.last_checkin_at, `+versionCol+`,
		(SELECT COUNT(DISTINCT v.product) FROM verdicts v WHERE v.host_id = h.id)
		FROM hosts h`+cond+` ORDER BY `+order+dir+tie+` LIMIT ? OFFSET ?`, all...)
	if err != nil {
		return page, fmt.Errorf("search hosts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h HostSummary
		var rank int
		var seen int64
		if err := rows.Scan(&h.ID, &h.Hostname, &h.Kind, &h.OSName, &rank, &seen, &h.Version, &h.Installs); err != nil {
			return page, fmt.Errorf("search hosts: %w", err)
		}
		h.Status = statusOfRank(rank)
		h.LastCheckinAt = unixNano(seen)
		page.Hosts = append(page.Hosts, h)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("search hosts: %w", err)
	}
	return page, nil
}

// likeEscape escapes LIKE's wildcards (and the escape character '\') in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// HostOSNames lists the distinct OS names of the enrolled hosts in the
// scope, sorted, without the empty name.
func (s *Store) HostOSNames(ctx context.Context, sc Scope) ([]string, error) {
	cond, args := sc.hosts("h")
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT `+s.osNameExpr()+` AS os FROM hosts h WHERE 1 = 1`+cond+` ORDER BY os`, args...)
	if err != nil {
		return nil, fmt.Errorf("host os names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name sql.NullString
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("host os names: %w", err)
		}
		if name.String != "" {
			out = append(out, name.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("host os names: %w", err)
	}
	return out, nil
}

// CountHosts returns how many hosts are enrolled (revoked ones included),
// assets not included.
func (s *Store) CountHosts(ctx context.Context) (int, error) {
	return s.countKind(ctx, api.KindHost)
}

// HostsPerCustomer counts the hosts (not assets) of each customer by its
// id; "" counts the hosts of no customer.
func (s *Store) HostsPerCustomer(ctx context.Context) (map[string]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT COALESCE(customer_id, ''), COUNT(*) FROM hosts WHERE kind = ? GROUP BY COALESCE(customer_id, '')`, api.KindHost)
	if err != nil {
		return nil, fmt.Errorf("hosts per customer: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("hosts per customer: %w", err)
		}
		out[id] = n
	}
	return out, rows.Err()
}

// CountAssets returns how many assets have been registered by SBOM.
func (s *Store) CountAssets(ctx context.Context) (int, error) {
	return s.countKind(ctx, api.KindAsset)
}

func (s *Store) countKind(ctx context.Context, kind string) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts WHERE kind = ?`, kind).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %ss: %w", kind, err)
	}
	return n, nil
}

// CountStaleHosts returns how many hosts in the scope last checked in
// before the given time, hosts that never checked in included. Assets are
// never stale: they are seen when their SBOM is uploaded, not on a schedule.
func (s *Store) CountStaleHosts(ctx context.Context, sc Scope, before time.Time) (int, error) {
	var n int
	cond, args := sc.hosts("h")
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts h WHERE h.kind = 'host' AND h.last_checkin_at < ?`+cond, append([]any{before.UnixNano()}, args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count stale hosts: %w", err)
	}
	return n, nil
}

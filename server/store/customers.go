package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

// enrollSecretPrefix marks a customer's enroll secret.
const enrollSecretPrefix = "ewe_"

// NewEnrollSecret returns a new high-entropy customer enroll secret; store
// only its HashSecret.
func NewEnrollSecret() string { return enrollSecretPrefix + randomHex(24) }

// IsEnrollSecret reports whether s is spelled like a customer's enroll secret.
func IsEnrollSecret(s string) bool { return strings.HasPrefix(s, enrollSecretPrefix) }

// ErrDuplicateName is returned when a customer name is taken (ignoring case).
var ErrDuplicateName error = &fault.Error{Code: fault.Conflict, Field: "name", Msg: "a customer with this name exists"}

// ErrHasHosts is returned when deleting a customer that still has hosts
// without detaching them.
var ErrHasHosts error = &fault.Error{Code: fault.Conflict, Msg: "the customer has hosts"}

// nameKey is the unique spelling of a customer name: names are unique
// ignoring case.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

const customerColumns = `c.id, c.name, c.tier, c.contract_start, c.contract_end, c.auto_renew, c.notice_given, c.sold_by,
	c.timezone, c.business_hours, c.holidays, c.contacts, c.created_at, c.updated_at,
	(SELECT COUNT(*) FROM hosts h WHERE h.customer_id = c.id)`

func scanCustomer(sc interface{ Scan(...any) error }) (api.Customer, error) {
	var c api.Customer
	var renew int
	var hours, holidays, contacts string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.Tier, &c.ContractStart, &c.ContractEnd, &renew, &c.NoticeGiven, &c.SoldBy,
		&c.Timezone, &hours, &holidays, &contacts, &created, &updated, &c.Hosts); err != nil {
		return c, err
	}
	c.AutoRenew = renew != 0
	c.BusinessHours = &api.BusinessHours{}
	for _, f := range []struct {
		js string
		v  any
	}{{hours, c.BusinessHours}, {holidays, &c.Holidays}, {contacts, &c.Contacts}} {
		if err := json.Unmarshal([]byte(f.js), f.v); err != nil {
			return c, fmt.Errorf("customer %s: %w", c.ID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = unixNano(created), unixNano(updated)
	return c, nil
}

// specArgs are the column values of a customer's spec, in customerColumns order.
func specArgs(s api.CustomerSpec) ([]any, error) {
	hours, err := json.Marshal(s.BusinessHours)
	if err != nil {
		return nil, err
	}
	holidays, _ := json.Marshal(nonNil(s.Holidays))
	contacts, _ := json.Marshal(nonNil(s.Contacts))
	renew := 0
	if s.AutoRenew {
		renew = 1
	}
	return []any{s.Name, nameKey(s.Name), s.Tier, s.ContractStart, s.ContractEnd, renew, s.NoticeGiven, s.SoldBy, s.Timezone,
		string(hours), string(holidays), string(contacts)}, nil
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// isUniqueViolation reports whether err is a unique-constraint failure
// (SQLite's and PostgreSQL's wording).
func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "duplicate key value")
}

// CreateCustomer stores a new customer from a validated spec, with the hash
// of its enroll secret; ErrDuplicateName when the name is taken.
func (s *Store) CreateCustomer(ctx context.Context, spec api.CustomerSpec, secretHash string) (api.Customer, error) {
	args, err := specArgs(spec)
	if err != nil {
		return api.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	id := randomHex(8)
	now := s.now().UnixNano()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var x int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE name_key = ?`, nameKey(spec.Name)).Scan(&x); err == nil {
			return fmt.Errorf("customer name %q: %w", spec.Name, ErrDuplicateName)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO customers (id, name, name_key, tier, contract_start, contract_end, auto_renew,
			notice_given, sold_by, timezone, business_hours, holidays, contacts, secret_hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(append([]any{id}, args...), secretHash, now, now)...)
		if err != nil && isUniqueViolation(err) {
			return fmt.Errorf("customer name %q: %w", spec.Name, ErrDuplicateName)
		}
		return err
	})
	if err != nil {
		if fault.CodeOf(err) != "" {
			return api.Customer{}, err
		}
		return api.Customer{}, fmt.Errorf("create customer: %w", err)
	}
	return s.Customer(ctx, id)
}

// Customer returns a customer by id or, failing that, by name (ignoring
// case); ErrNotFound when there is none.
func (s *Store) Customer(ctx context.Context, ref string) (api.Customer, error) {
	c, err := scanCustomer(s.r.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers c WHERE c.id = ? OR c.name_key = ?
		ORDER BY CASE WHEN c.id = ? THEN 0 ELSE 1 END LIMIT 1`, ref, nameKey(ref), ref))
	if errors.Is(err, sql.ErrNoRows) {
		return api.Customer{}, fmt.Errorf("customer %q: %w", ref, ErrNotFound)
	}
	if err != nil {
		return api.Customer{}, fmt.Errorf("customer %q: %w", ref, err)
	}
	return c, nil
}

// ListCustomers lists every customer by name.
func (s *Store) ListCustomers(ctx context.Context) ([]api.Customer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+customerColumns+` FROM customers c ORDER BY c.name_key, c.id`)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	out := []api.Customer{}
	for rows.Next() {
		c, err := scanCustomer(rows)
		if err != nil {
			return nil, fmt.Errorf("list customers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// UpdateCustomer replaces a customer's spec (validated by the caller) and,
// when secretHash is not empty, its enroll secret; ErrNotFound for an
// unknown id, ErrDuplicateName when the new name is another customer's.
func (s *Store) UpdateCustomer(ctx context.Context, id string, spec api.CustomerSpec, secretHash string) (api.Customer, error) {
	args, err := specArgs(spec)
	if err != nil {
		return api.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var other string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE id = ?`, id).Scan(&other); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("customer %q: %w", id, ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE name_key = ?`, nameKey(spec.Name)).Scan(&other); err == nil && other != id {
			return fmt.Errorf("customer name %q: %w", spec.Name, ErrDuplicateName)
		} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		q := `UPDATE customers SET name = ?, name_key = ?, tier = ?, contract_start = ?, contract_end = ?, auto_renew = ?,
			notice_given = ?, sold_by = ?, timezone = ?, business_hours = ?, holidays = ?, contacts = ?, updated_at = ?`
		args = append(args, s.now().UnixNano())
		if secretHash != "" {
			q += `, secret_hash = ?`
			args = append(args, secretHash)
		}
		res, err := tx.ExecContext(ctx, q+` WHERE id = ?`, append(args, id)...)
		if err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("customer name %q: %w", spec.Name, ErrDuplicateName)
			}
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("customer %q: %w", id, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		if fault.CodeOf(err) != "" {
			return api.Customer{}, err
		}
		return api.Customer{}, fmt.Errorf("update customer: %w", err)
	}
	return s.Customer(ctx, id)
}

// DeleteCustomer deletes a customer. With hosts it is refused (ErrHasHosts)
// unless force, which detaches them (they become hosts of no customer). The
// viewer tokens limited to the customer are revoked and its mail record
// forgotten, in the same transaction. It returns how many hosts were detached.
func (s *Store) DeleteCustomer(ctx context.Context, id string, force bool) (detached int, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var hosts int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM hosts WHERE customer_id = ?`, id).Scan(&hosts); err != nil {
			return err
		}
		if hosts > 0 && !force {
			return fmt.Errorf("customer %q has %d host(s): delete with force to detach them: %w", id, hosts, ErrHasHosts)
		}
		if hosts > 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE hosts SET customer_id = NULL WHERE customer_id = ?`, id); err != nil {
				return err
			}
		}
		// A pending re-enrolment asked for by this customer's secret would
		// be approved into no customer.
		if _, err := tx.ExecContext(ctx, `UPDATE hosts SET pending_customer_id = NULL WHERE pending_customer_id = ?`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE customer_id = ? AND revoked_at = 0`, s.now().Unix(), id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_mail WHERE customer_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("customer %q: %w", id, ErrNotFound)
		}
		detached = hosts
		return nil
	})
	if err != nil && fault.CodeOf(err) == "" {
		return 0, fmt.Errorf("delete customer: %w", err)
	}
	return detached, err
}

// CustomerByEnrollSecret returns the id of the customer whose enroll secret
// this is, or ErrUnauthorized.
func (s *Store) CustomerByEnrollSecret(ctx context.Context, secret string) (string, error) {
	if !IsEnrollSecret(secret) {
		return "", ErrUnauthorized
	}
	var id string
	err := s.r.QueryRowContext(ctx, `SELECT id FROM customers WHERE secret_hash = ?`, HashSecret(secret)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("enroll secret: %w", err)
	}
	return id, nil
}

// CustomerMailSent reports whether the mail (kind, period) of a customer
// was queued already.
func (s *Store) CustomerMailSent(ctx context.Context, customerID, kind, period string) (bool, error) {
	var x int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM customer_mail WHERE customer_id = ? AND kind = ? AND period = ?`, customerID, kind, period).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("customer mail: %w", err)
	}
	return true, nil
}

// MarkCustomerMail records that the mail (kind, period) of a customer was
// queued for recipients addresses; a second mark of the same mail is a no-op.
func (s *Store) MarkCustomerMail(ctx context.Context, customerID, kind, period string, recipients int) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO customer_mail (customer_id, kind, period, queued_at, recipients) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (customer_id, kind, period) DO NOTHING`, customerID, kind, period, s.now().UnixNano(), recipients)
		if err != nil {
			return fmt.Errorf("mark customer mail: %w", err)
		}
		return nil
	})
}

// Scope limits a fleet read to the hosts of one customer; the zero Scope
// reads the whole fleet.
type Scope struct {
	// Customer is the customer's id ("" for every host).
	Customer string
}

// hostIDs returns a condition "AND col IN (the scope's host row ids)" and
// its arguments, or nothing for the whole fleet.
func (sc Scope) hostIDs(col string) (string, []any) {
	if sc.Customer == "" {
		return "", nil
	}
	return ` AND ` + col + ` IN (SELECT id FROM hosts WHERE customer_id = ?)`, []any{sc.Customer}
}

// hosts returns a condition "AND alias.customer_id = ?" and its arguments,
// or nothing for the whole fleet.
func (sc Scope) hosts(alias string) (string, []any) {
	if sc.Customer == "" {
		return "", nil
	}
	return ` AND ` + alias + `.customer_id = ?`, []any{sc.Customer}
}

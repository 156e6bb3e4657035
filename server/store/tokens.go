package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/auth"
)

// tokenPrefix marks eolwatch API tokens so they are recognisable in logs and
// secret scanners.
const tokenPrefix = "ewt_"

// IsTokenSecret reports whether s has the form of an API token's secret
// (as create prints it), not of a token id.
func IsTokenSecret(s string) bool { return strings.HasPrefix(s, tokenPrefix) }

// Token describes an API token (never the secret itself).
type Token struct {
	ID   string `json:"id"`
	Role string `json:"role"`
	Name string `json:"name,omitempty"`
	// Customer is the id of the customer a viewer token is limited to ("" for none).
	Customer string `json:"customer,omitempty"`
	// CustomerName is that customer's name.
	CustomerName string    `json:"customer_name,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	RevokedAt    time.Time `json:"revoked_at,omitzero"`
}

// CreateToken creates a token with a role and returns the secret once; only
// its hash is stored.
func (s *Store) CreateToken(ctx context.Context, role, name string) (Token, string, error) {
	return s.createToken(ctx, role, name, "")
}

// CreateCustomerToken creates a viewer token limited to one customer (by
// id): it sees only that customer's hosts. ErrNotFound when there is no
// such customer.
func (s *Store) CreateCustomerToken(ctx context.Context, name, customer string) (Token, string, error) {
	if customer == "" {
		return Token{}, "", fault.Invalidf("customer", "customer is required")
	}
	return s.createToken(ctx, auth.RoleViewer, name, customer)
}

func (s *Store) createToken(ctx context.Context, role, name, customer string) (Token, string, error) {
	if !auth.ValidRole(role) {
		return Token{}, "", fault.Invalidf("role", "role %q: want admin, support, viewer or ci", role)
	}
	if customer != "" && !auth.CanScope(role) {
		return Token{}, "", fault.Invalidf("customer", "only viewer tokens can be limited to a customer, not %s", role)
	}
	t := Token{ID: randomHex(4), Role: role, Name: name, Customer: customer, CreatedAt: s.now().UTC().Truncate(time.Second)}
	secret := tokenPrefix + randomHex(24)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if customer != "" {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM customers WHERE id = ?`, customer).Scan(&x); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("customer %q: %w", customer, ErrNotFound)
			} else if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, role, hash, name, created_at, customer_id) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Role, HashSecret(secret), t.Name, t.CreatedAt.Unix(), customer)
		return err
	})
	if err != nil {
		if fault.CodeOf(err) != "" {
			return Token{}, "", err
		}
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// Authenticate returns who a valid, unrevoked token speaks for (its role
// and, for a token limited to a customer, the customer's id), or
// ErrUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (auth.Principal, error) {
	if secret == "" {
		return auth.Principal{}, ErrUnauthorized
	}
	var p auth.Principal
	err := s.r.QueryRowContext(ctx, `SELECT t.role, t.customer_id, t.id, t.name, COALESCE(c.name, '') FROM tokens t
		LEFT JOIN customers c ON c.id = t.customer_id WHERE t.hash = ? AND t.revoked_at = 0`,
		HashSecret(secret)).Scan(&p.Role, &p.Customer, &p.TokenID, &p.TokenName, &p.CustomerName)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, ErrUnauthorized
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return p, nil
}

// ListTokens lists every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT t.id, t.role, t.name, t.customer_id, COALESCE(c.name, ''), t.created_at, t.revoked_at
		FROM tokens t LEFT JOIN customers c ON c.id = t.customer_id ORDER BY t.created_at, t.id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, revoked int64
		if err := rows.Scan(&t.ID, &t.Role, &t.Name, &t.Customer, &t.CustomerName, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.CreatedAt = time.Unix(created, 0).UTC()
		if revoked != 0 {
			t.RevokedAt = time.Unix(revoked, 0).UTC()
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token by id; ErrNotFound when there is no such token.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, s.now().Unix(), id)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var x int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM tokens WHERE id = ?`, id).Scan(&x); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("token %q: %w", id, ErrNotFound)
			}
		}
		return nil
	})
}

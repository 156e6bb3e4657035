package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/eolwatch/eolwatch/server/auth"
)

// tokenPrefix marks eolwatch API tokens so they are recognisable in logs and
// secret scanners.
const tokenPrefix = "ewt_"

// Token describes an API token (never the secret itself).
type Token struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// CreateToken creates a token with a role and returns the secret once; only
// its hash is stored.
func (s *Store) CreateToken(ctx context.Context, role, name string) (Token, string, error) {
	if !auth.ValidRole(role) {
		return Token{}, "", fmt.Errorf("role %q: want admin, support, viewer or ci", role)
	}
	t := Token{ID: randomHex(4), Role: role, Name: name, CreatedAt: s.now().UTC().Truncate(time.Second)}
	secret := tokenPrefix + randomHex(24)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, role, hash, name, created_at) VALUES (?, ?, ?, ?, ?)`,
			t.ID, t.Role, HashSecret(secret), t.Name, t.CreatedAt.Unix())
		return err
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("create token: %w", err)
	}
	return t, secret, nil
}

// Authenticate returns the role of a valid, unrevoked token, or ErrUnauthorized.
func (s *Store) Authenticate(ctx context.Context, secret string) (string, error) {
	if secret == "" {
		return "", ErrUnauthorized
	}
	var role string
	err := s.r.QueryRowContext(ctx, `SELECT role FROM tokens WHERE hash = ? AND revoked_at = 0`, HashSecret(secret)).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("authenticate: %w", err)
	}
	return role, nil
}

// ListTokens lists every token, oldest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, role, name, created_at, revoked_at FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created, revoked int64
		if err := rows.Scan(&t.ID, &t.Role, &t.Name, &created, &revoked); err != nil {
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

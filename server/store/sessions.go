package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RevokeSession records that dashboard session id ended (a logout), so the
// session's cookie is refused by every server process, also after a
// restart. expires is when the session would have ended anyway; the
// record is forgotten after that (revocations that expired are pruned here).
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now().Unix()
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions_revoked WHERE expires_at < ?`, now); err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions_revoked (id_hash, expires_at) VALUES (?, ?)
			ON CONFLICT (id_hash) DO UPDATE SET expires_at = excluded.expires_at`, HashSecret(id), expires.Unix())
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		return nil
	})
}

// SessionRevoked reports whether dashboard session id was revoked.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var x int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM sessions_revoked WHERE id_hash = ?`, HashSecret(id)).Scan(&x)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("session revoked: %w", err)
	}
	return true, nil
}

package notifier

import (
	"context"
	"fmt"
)

// signingKey returns the token signing key kept in notifier_meta, storing
// fresh first when there is none (the first process to start wins).
func (s *store) signingKey(ctx context.Context, fresh []byte) ([]byte, error) {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO notifier_meta (key, value) VALUES ('signing_key', ?) ON CONFLICT (key) DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	var key []byte
	if err := s.w.QueryRowContext(ctx, `SELECT value FROM notifier_meta WHERE key = 'signing_key'`).Scan(&key); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

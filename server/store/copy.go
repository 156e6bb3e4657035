package store

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/jackc/pgx/v5"
)

// CopyToPostgres copies every table of s, a SQLite store whose owners'
// tables are all migrated, into dst, a new PostgreSQL database migrated to
// the same schema versions, in one transaction (sqldb.CopyToPostgres):
// nothing is changed in dst when it fails. seeded are the tables a fresh
// database may already hold rows in (sqldb.CopyOptions). keys are shared
// keys kept outside the SQLite database (the dashboard's session key file),
// by name: dst keeps them where SharedKey finds them.
func (s *Store) CopyToPostgres(ctx context.Context, dst *Store, seeded []string, keys map[string][]byte) ([]sqldb.CopyTable, error) {
	putKeys := func(ctx context.Context, tx pgx.Tx) error {
		for name, key := range keys {
			_, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
				ON CONFLICT (key) DO UPDATE SET value = excluded.value`, sharedKeyMeta(name), hex.EncodeToString(key))
			if err != nil {
				return fmt.Errorf("shared key %s: %w", name, err)
			}
		}
		return nil
	}
	return sqldb.CopyToPostgres(ctx, s.r, dst.w, sqldb.CopyOptions{Seeded: seeded, Extra: putKeys})
}

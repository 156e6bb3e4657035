package pgtest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/jackc/pgx/v5"
)

// CopyTx runs fn in a pgx transaction on one of db's (PostgreSQL)
// connections, commits, and returns how long fn and the commit took: the
// raw baseline the benchmarks measure the store's and the notifier's bulk
// writes against.
func CopyTx(tb testing.TB, db *sql.DB, fn func(ctx context.Context, tx pgx.Tx) error) time.Duration {
	tb.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	var d time.Duration
	err = conn.Raw(func(dc any) error {
		c, _ := sqldb.PgxConn(dc)
		tx, err := c.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		start := time.Now()
		if err := fn(ctx, tx); err != nil {
			return err
		}
		err = tx.Commit(ctx)
		d = time.Since(start)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

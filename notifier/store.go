package notifier

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// store is the notifier's storage. Its tables live in the server's database
// (created by Migrate). Every SQL statement of the notifier is in a method
// of store (reads on the reader pool, single-statement writes) or of
// storeTx (the steps of one write transaction), in the file of the table it
// is about: store_meta.go, store_groups.go, store_subscriptions.go,
// store_events.go, store_digest.go, store_outbox.go, store_webhooks.go and
// store_prune.go. The rest of the package decides and renders; it runs no
// SQL. The SQL sticks to what SQLite and PostgreSQL both speak (see
// migrations.go); the few PostgreSQL-only clauses (row locks, SKIP LOCKED)
// are chosen by d.
type store struct {
	w *sql.DB // the writer: SQLite, one connection, immediate transactions; PostgreSQL, the pool
	r *sql.DB // readers (PostgreSQL: the same pool)
	d sqldb.Dialect
}

// forUpdate ends a SELECT whose rows the transaction will change, on
// PostgreSQL (several servers write at once); SQLite's writer is
// serialised and has no such clause.
func (s *store) forUpdate() string {
	if s.d == sqldb.Postgres {
		return ` FOR UPDATE`
	}
	return ``
}

// skipLocked ends a claim's inner SELECT on PostgreSQL: rows another
// server is claiming right now are skipped, not waited for.
func (s *store) skipLocked() string {
	if s.d == sqldb.Postgres {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}

// storeTx is one write transaction. Statements it runs for many rows are
// prepared once per transaction (execPrepared).
type storeTx struct {
	tx    *sql.Tx
	s     *store
	stmts map[string]*sql.Stmt
}

// inTx runs fn in a write transaction and commits it when fn returns nil;
// op names the work in errors about the transaction itself. On PostgreSQL
// a deadlock or serialization failure runs fn again (a few times), so fn
// must reset whatever it computes.
func (s *store) inTx(ctx context.Context, op string, fn func(t *storeTx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.inTxOnce(ctx, op, fn)
		if err == nil || attempt >= 5 || !sqldb.Retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
}

func (s *store) inTxOnce(ctx context.Context, op string, fn func(t *storeTx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	t := &storeTx{tx: tx, s: s, stmts: map[string]*sql.Stmt{}}
	defer t.end()
	if err := fn(t); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}

// end closes the prepared statements and rolls back unless committed.
func (t *storeTx) end() {
	for _, st := range t.stmts {
		st.Close()
	}
	t.tx.Rollback()
}

// execPrepared runs query with args through a statement prepared once for
// this transaction.
func (t *storeTx) execPrepared(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := t.stmts[query]
	if !ok {
		var err error
		if st, err = t.tx.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		t.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

// querier is what both *sql.DB and *sql.Tx offer for reads, for the reads
// made both inside a transaction and on the reader pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// fromMillis reads a stored time (times are stored as Unix milliseconds).
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// nullTime reads a stored time that may be NULL.
func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMillis(n.Int64)
	return &t
}

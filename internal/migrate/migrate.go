// Package migrate is eolwatch's one schema migration runner. Each owner of
// tables in the database (the server store, the notifier, the catalog
// service) keeps its own ordered list of steps and its own version table;
// Apply brings one owner's tables up to date the same way for all of them:
//
//   - the schema version is the number of steps applied, kept in a
//     one-row table of the owner;
//   - each pending step runs in its own transaction together with the
//     version bump, and the version is read inside that transaction, so two
//     processes starting at once never apply a step twice;
//   - a database whose version is newer than the build's list is refused
//     (an older binary must not write to a newer schema).
//
// The steps are SQL text. A step that both engines (SQLite and PostgreSQL)
// speak is written once in Steps; a step whose PostgreSQL text differs
// (identity columns, BYTEA, WITHOUT ROWID...) gets that text in Postgres
// under the same step number, beside the SQLite one, so both engines count
// the same versions. On PostgreSQL every step runs under a transaction
// advisory lock, so replicas starting together apply each step once.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// Set is one owner's schema history.
type Set struct {
	// Owner names the owner in errors ("store", "notifier", "catalog").
	Owner string
	// Table is the owner's version table: one row, one INTEGER column
	// named version. Created when missing.
	Table string
	// Steps are the migrations, oldest first. Append, never edit or
	// reorder: the schema version is len(Steps).
	Steps []string
	// Postgres holds the PostgreSQL text of the steps that differ there,
	// by step number (1 is Steps[0]); other steps run as in Steps.
	Postgres map[int]string
}

// Step returns the text of step n (1-based) for the engine d.
func (s Set) Step(d sqldb.Dialect, n int) string {
	if d == sqldb.Postgres {
		if q, ok := s.Postgres[n]; ok {
			return q
		}
	}
	return s.Steps[n-1]
}

// Version is the schema version the build writes: the number of steps.
func (s Set) Version() int { return len(s.Steps) }

// Locker is run first in every migration transaction, before the version is
// read. Nil means the engine's own: nothing on SQLite (the writer's
// transactions are immediate: BEGIN takes the write lock), the transaction
// advisory lock "migrate" on PostgreSQL.
type Locker func(ctx context.Context, tx *sql.Tx) error

// ErrNewer is returned (wrapped) when the database's schema is newer than
// the build.
var ErrNewer = errors.New("database schema is newer than this build")

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Apply applies s's pending steps to db, one transaction each; lock, when
// not nil, runs first in each transaction. It is safe to call at every
// start-up and from several processes at once.
func Apply(ctx context.Context, db *sql.DB, s Set, lock Locker) error {
	if !tableName.MatchString(s.Table) {
		return fmt.Errorf("%s migrate: bad version table name %q", s.Owner, s.Table)
	}
	for n := range s.Postgres {
		if n < 1 || n > len(s.Steps) {
			return fmt.Errorf("%s migrate: PostgreSQL text for step %d, but there are %d steps", s.Owner, n, len(s.Steps))
		}
	}
	d := sqldb.DialectOf(db)
	if lock == nil {
		lock = func(ctx context.Context, tx *sql.Tx) error { return sqldb.LockXact(ctx, tx, d, "migrate") }
	}
	for {
		done, err := step(ctx, db, d, s, lock)
		if err != nil || done {
			return err
		}
	}
}

// step applies the next pending step, if any; done reports that none was
// left.
func step(ctx context.Context, db *sql.DB, d sqldb.Dialect, s Set, lock Locker) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("%s migrate: %w", s.Owner, err)
	}
	defer tx.Rollback()
	if err := lock(ctx, tx); err != nil {
		return false, fmt.Errorf("%s migrate: lock: %w", s.Owner, err)
	}
	// Under the lock: two PostgreSQL processes creating the table at once
	// would otherwise collide.
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.Table+` (version INTEGER NOT NULL)`); err != nil {
		return false, fmt.Errorf("%s migrate: create %s: %w", s.Owner, s.Table, err)
	}
	var have int
	err = tx.QueryRowContext(ctx, `SELECT version FROM `+s.Table).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.Table+` (version) VALUES (0)`); err != nil {
			return false, fmt.Errorf("%s migrate: init %s: %w", s.Owner, s.Table, err)
		}
	case err != nil:
		return false, fmt.Errorf("%s migrate: read schema version: %w", s.Owner, err)
	}
	switch {
	case have > len(s.Steps):
		return false, fmt.Errorf("%s migrate: schema version %d, this build knows %d: %w", s.Owner, have, len(s.Steps), ErrNewer)
	case have == len(s.Steps):
		return true, tx.Commit()
	}
	if _, err := tx.ExecContext(ctx, s.Step(d, have+1)); err != nil {
		return false, fmt.Errorf("%s migration %d: %w", s.Owner, have+1, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+s.Table+` SET version = ?`, have+1); err != nil {
		return false, fmt.Errorf("%s migration %d: %w", s.Owner, have+1, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("%s migration %d: %w", s.Owner, have+1, err)
	}
	return false, nil
}

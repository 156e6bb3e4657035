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
// The steps are SQL text. Keep them to what every supported engine speaks,
// or give each engine its own list.
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
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
}

// Version is the schema version the build writes: the number of steps.
func (s Set) Version() int { return len(s.Steps) }

// Locker is run first in every migration transaction, before the version is
// read. SQLite needs none (the writer's transactions are immediate: BEGIN
// takes the write lock); PostgreSQL takes a transaction advisory lock here.
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
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.Table+` (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("%s migrate: create %s: %w", s.Owner, s.Table, err)
	}
	for {
		done, err := step(ctx, db, s, lock)
		if err != nil || done {
			return err
		}
	}
}

// step applies the next pending step, if any; done reports that none was
// left.
func step(ctx context.Context, db *sql.DB, s Set, lock Locker) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("%s migrate: %w", s.Owner, err)
	}
	defer tx.Rollback()
	if lock != nil {
		if err := lock(ctx, tx); err != nil {
			return false, fmt.Errorf("%s migrate: lock: %w", s.Owner, err)
		}
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
	if _, err := tx.ExecContext(ctx, s.Steps[have]); err != nil {
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

package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// ErrDiskFull is returned (wrapped, with the database's own error as the
// cause) when a write fails because the disk or the database's quota is
// full: the HTTP API answers 507.
var ErrDiskFull error = &fault.Error{Code: fault.InsufficientStorage, Msg: "the database cannot grow: its disk is full"}

// writeHealth remembers the last write that failed for want of disk or for
// an I/O error, until a write succeeds again (readiness, Ping).
type writeHealth struct {
	mu     sync.Mutex
	err    error
	failed time.Time
}

// diskFull reports whether err says the disk (or the database's size
// limit) is full: SQLite's SQLITE_FULL, ENOSPC, PostgreSQL's disk_full.
func diskFull(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrFull {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "53100" || pe.Code == "53400") { // disk_full, configuration_limit_exceeded
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

// storageFailure reports whether err is the storage failing under the
// database (rather than a constraint or a bad statement): a full disk, an
// I/O error, a read-only or corrupt file, PostgreSQL's resource and system
// errors.
func storageFailure(err error) bool {
	if diskFull(err) {
		return true
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrIoErr, sqlite3.ErrReadonly, sqlite3.ErrCorrupt, sqlite3.ErrCantOpen, sqlite3.ErrNotADB:
			return true
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && len(pe.Code) == 5 && (pe.Code[:2] == "53" || pe.Code[:2] == "58") {
		return true
	}
	return errors.Is(err, syscall.EIO) || errors.Is(err, syscall.EROFS)
}

// noteWrite records how a write transaction ended: a success clears the
// failure remembered, a storage failure is remembered (and a full disk is
// returned as ErrDiskFull); other errors (a constraint, a caller's fault)
// say nothing about the storage and change nothing.
func (s *Store) noteWrite(err error) error {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	switch {
	case err == nil:
		s.health.err = nil
	case storageFailure(err):
		s.health.err, s.health.failed = err, s.now()
		if diskFull(err) {
			return &fault.Error{Code: fault.InsufficientStorage, Msg: ErrDiskFull.Error(), Err: err}
		}
	}
	return err
}

// writeFailure is the storage failure of the last write, nil when the last
// write worked (or failed for another reason).
func (s *Store) writeFailure() (error, time.Time) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.err, s.health.failed
}

// writeRetryAfter is how long after a storage failure Ping reports the
// store as failing before it tries a small write of its own: a real write
// that works clears the failure at once.
const writeRetryAfter = 30 * time.Second

// checkWrites is Ping's write check: after a write failed for want of disk
// or for an I/O error, the store is failing until a write works again;
// once writeRetryAfter has passed without one, Ping tries a small write
// itself.
func (s *Store) checkWrites(ctx context.Context) error {
	failure, since := s.writeFailure()
	if failure == nil {
		return nil
	}
	failing := fmt.Errorf("database writes fail since %s: %w", since.UTC().Format(time.RFC3339), failure)
	if s.now().Sub(since) < writeRetryAfter {
		return failing
	}
	if err := s.SetMeta(ctx, "write_probe", s.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("database writes fail since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	return nil
}

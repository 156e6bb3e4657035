// Package store keeps eolwatch's server state: hosts and their node keys,
// the inventory (distinct software plus a host<->software link, updated by
// diff), reports for idempotency, the verdicts per host and product with the
// catalog version that produced them, and API tokens.
//
// One Store, two engines. By default the database is an embedded SQLite
// file in the data directory: writes go through one connection in
// immediate transactions, reads use a separate pool. Given a postgres://
// URL (OpenPostgres), the same Store runs on PostgreSQL, shared by any
// number of server processes: one pool, row locks where SQLite relied on
// its single writer, and transactions retried after a deadlock.
//
// Every SQL statement lives next to the method that runs it, one file per
// entity, and is written once for both engines (internal/sqldb rewrites
// the `?` placeholders for PostgreSQL). What differs is beside each engine:
// the PostgreSQL texts of migration steps in migrations.go, and the
// PostgreSQL-only statements (batched ingest with arrays, row locks) in
// postgres.go.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/migrate"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/mattn/go-sqlite3" // also registers the database/sql driver "sqlite3"
)

// ErrNotFound is returned when a host, token or row does not exist.
var ErrNotFound error = &fault.Error{Code: fault.NotFound, Msg: "not found"}

// ErrUnauthorized is returned for an unknown, forged or revoked key or token.
var ErrUnauthorized error = &fault.Error{Code: fault.Unauthorized, Msg: "unauthorized"}

// FileName is the database file inside the data directory.
const FileName = "eolwatch.db"

// Store is the server's database. Safe for concurrent use. Close it when done.
type Store struct {
	w *sql.DB // writer: SQLite, one connection, immediate transactions; PostgreSQL, the pool
	r *sql.DB // readers: SQLite, a read-only pool; PostgreSQL, the same pool as w
	d sqldb.Dialect
	// health remembers a write that failed for want of disk or I/O (Ping).
	health writeHealth
	// swIDs caches software row ids by identity; software rows are never
	// deleted, so a cached id stays valid. It holds at most swMax ids.
	mu       sync.RWMutex
	swIDs    map[swKey]int64
	swMax    int
	evalSeen map[evalKey]bool // evaluations committed by this process
	now      func() time.Time

	// Group commit of check-ins (checkins.go).
	checkins  chan checkinReq
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
}

// writerDriver is go-sqlite3 with the writer's connection settings that have
// no DSN parameter: checkpoints every ~40 MB of WAL rather than every 4 MB,
// so a page rewritten by many small report transactions reaches the
// database file once per checkpoint.
const writerDriver = "sqlite3-eolwatch-writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA wal_autocheckpoint = 10000`, nil)
		return err
	}})
}

// Open opens (creating if needed) the database in dir and applies the
// migrations.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return OpenFile(ctx, filepath.Join(dir, FileName))
}

// OpenFile opens (creating if needed) the database file at path. The file
// and its -wal and -shm companions are private (0600) whatever the
// directory's mode: it holds node key hashes, the notifier's signing key,
// webhook secrets and subscriber addresses.
func OpenFile(ctx context.Context, path string) (*Store, error) {
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	// NORMAL in WAL mode is durable against a process crash (kill -9): a
	// commit is in the OS once it returns. Only a power loss may roll back
	// the last transactions.
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	// Fleet-wide updates touch rows all over the verdict table: a larger
	// page cache (grown only as used) keeps them off the disk.
	q.Set("_cache_size", "-131072") // KiB
	w, err := sql.Open(writerDriver, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := migrate.Apply(ctx, w, Schema, nil); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	rq := url.Values{}
	rq.Set("_busy_timeout", "10000")
	rq.Set("_foreign_keys", "on")
	rq.Set("_query_only", "true")
	rq.Set("_cache_size", "-32768")
	r, err := sql.Open("sqlite3", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return start(ctx, w, r, sqldb.SQLite)
}

// OpenPostgres opens the store on a PostgreSQL database (a postgres://
// URL) and applies the migrations under an advisory lock, so several
// server processes may start at once.
func OpenPostgres(ctx context.Context, url string) (*Store, error) {
	db, err := sqldb.OpenPostgres(ctx, url, sqldb.Options{})
	if err != nil {
		return nil, err
	}
	if err := migrate.Apply(ctx, db, Schema, nil); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", sqldb.Redact(url), err)
	}
	return start(ctx, db, db, sqldb.Postgres)
}

// OpenDatabase opens the store the server's settings ask for: PostgreSQL
// when database is a postgres:// URL, else SQLite in dataDir.
func OpenDatabase(ctx context.Context, database, dataDir string) (*Store, error) {
	if database != "" {
		if err := sqldb.CheckURL(database); err != nil {
			return nil, err
		}
		return OpenPostgres(ctx, database)
	}
	return Open(ctx, dataDir)
}

func start(ctx context.Context, w, r *sql.DB, d sqldb.Dialect) (*Store, error) {
	s := &Store{w: w, r: r, d: d, swIDs: map[swKey]int64{}, swMax: swCacheMax, evalSeen: map[evalKey]bool{}, now: time.Now}
	s.startCheckins()
	if err := s.warmCache(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// privateFiles creates the database file at path with mode 0600 before
// SQLite does (SQLite gives its -wal and -shm files the database file's
// mode), and makes an existing database and its -wal and -shm files 0600.
func privateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("make %s private: %w", p, err)
		}
	}
	return nil
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.stopped
	})
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// DB returns the writer database, for other components that keep their own
// tables in the same database (the notifier's Migrate). On SQLite use it
// for writes only in short transactions: it has a single connection.
func (s *Store) DB() *sql.DB { return s.w }

// Dialect says which engine the store runs on.
func (s *Store) Dialect() sqldb.Dialect { return s.d }

// Ping checks that both pools answer and, when the last write failed
// for want of disk or for an I/O error, that a write works again (for
// /readyz: a store whose writes fail is not ready).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return err
	}
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err != nil {
		return err
	}
	return s.checkWrites(ctx)
}

// inTx runs fn in a write transaction and commits it when fn returns nil.
// On PostgreSQL a deadlock or serialization failure runs fn again (see
// sqldb.InTx): fn must reset whatever it computes.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.noteWrite(sqldb.InTx(ctx, s.w, fn))
}

// HashSecret returns the hex sha256 of a high-entropy secret (node keys, API
// tokens). Low-entropy secrets must not be stored this way.
func HashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// GetMeta returns a stored setting, or "" when unset.
func (s *Store) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a setting.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return setMeta(ctx, tx, key, value) })
}

func setMeta(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("set meta %s: %w", key, err)
	}
	return nil
}

// Reader returns the read-only pool, for components that list their own
// tables (the notifier).
func (s *Store) Reader() *sql.DB { return s.r }

// SharedKey returns the random n-byte secret kept in the database under
// name, creating it on first use; servers sharing a database get the same
// key (the dashboard's session key, for instance).
func (s *Store) SharedKey(ctx context.Context, name string, n int) ([]byte, error) {
	key := sharedKeyMeta(name)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, randomHex(n))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("shared key %s: %w", name, err)
	}
	v, err := s.GetMeta(ctx, key)
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("shared key %s: stored value is not %d hex bytes", name, n)
	}
	return b, nil
}

// sharedKeyMeta is the meta key SharedKey keeps the key name under.
func sharedKeyMeta(name string) string { return "key:" + name }

// enqueue writes fleet events in tx (events.EnqueueOn: in one statement
// per few thousand events on PostgreSQL).
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, evs []events.Event) error {
	if err := events.EnqueueOn(ctx, tx, s.d, evs...); err != nil {
		return fmt.Errorf("enqueue events: %w", err)
	}
	return nil
}

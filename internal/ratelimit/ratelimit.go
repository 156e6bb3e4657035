// Package ratelimit counts events per key (a client address, an email
// address) in fixed windows: at most N events a key per window.
//
// Memory keeps the counts in the process (one server, as with SQLite).
// SQL keeps them in the database, so every server sharing it (several
// servers on PostgreSQL behind a load balancer) counts against one budget:
// ten guesses through ten servers are ten guesses, not one each.
package ratelimit

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/internal/migrate"
)

// Limiter allows at most N events per key in each window. Safe for
// concurrent use.
type Limiter interface {
	// Allow records one event for key and reports whether it is within
	// the limit.
	Allow(ctx context.Context, key string) (bool, error)
	// Exceeded reports whether key has used up its events in the current
	// window, without recording one.
	Exceeded(ctx context.Context, key string) (bool, error)
}

// Factory makes the limiter name of n events per key per window; the
// server picks Memory or SQL for all its limiters at once.
type Factory func(name string, n int, window time.Duration) Limiter

// InMemory is the Factory of Memory limiters. It ignores the name on
// purpose: a Memory limiter is its own object with its own counts, so two
// limiters never share keys whatever their names. The name exists in the
// Factory signature for InDatabase, whose limiters share one table and are
// told apart by it.
func InMemory(_ string, n int, window time.Duration) Limiter { return NewMemory(n, window) }

// InDatabase returns the Factory of SQL limiters in db (migrated).
func InDatabase(db *sql.DB) Factory {
	return func(name string, n int, window time.Duration) Limiter { return NewSQL(db, name, n, window) }
}

// Memory is a Limiter in process memory. It forgets keys whose window has
// passed, so memory stays bounded by the keys seen in one window.
type Memory struct {
	n      int
	window time.Duration
	now    func() time.Time
	mu     sync.Mutex
	seen   map[string]*entry
	swept  time.Time
}

type entry struct {
	start time.Time
	count int
}

// NewMemory returns a Limiter of n events per key per window, in memory.
func NewMemory(n int, window time.Duration) *Memory {
	return &Memory{n: n, window: window, now: time.Now, seen: map[string]*entry{}}
}

// SetClock replaces the clock (tests).
func (l *Memory) SetClock(now func() time.Time) { l.now = now }

// Allow implements Limiter.
func (l *Memory) Allow(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > l.window {
		for k, e := range l.seen {
			if now.Sub(e.start) >= l.window {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	e := l.seen[key]
	if e == nil || now.Sub(e.start) >= l.window {
		e = &entry{start: now}
		l.seen[key] = e
	}
	e.count++
	return e.count <= l.n, nil
}

// Exceeded implements Limiter.
func (l *Memory) Exceeded(_ context.Context, key string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.seen[key]
	return e != nil && l.now().Sub(e.start) < l.window && e.count >= l.n, nil
}

// Schema is the table history of the SQL limiters.
var Schema = migrate.Set{Owner: "ratelimit", Table: "ratelimit_schema", Steps: []string{
	// 1: one row per limiter and key: the current window's start and count.
	`CREATE TABLE rate_limits (
		key          TEXT PRIMARY KEY,
		window_start BIGINT NOT NULL,
		hits         BIGINT NOT NULL
	)`,
}}

// Migrate creates or upgrades the limiters' table in db.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate.Apply(ctx, db, Schema, nil)
}

// SQL is a Limiter whose counts live in the database (migrated). Keys of
// one limiter are stored under its name, so limiters share the table.
type SQL struct {
	db     *sql.DB
	name   string
	n      int
	window time.Duration
	now    func() time.Time
}

// NewSQL returns the limiter name of n events per key per window in db.
func NewSQL(db *sql.DB, name string, n int, window time.Duration) *SQL {
	return &SQL{db: db, name: name, n: n, window: window, now: time.Now}
}

// SetClock replaces the clock (tests).
func (l *SQL) SetClock(now func() time.Time) { l.now = now }

// Allow implements Limiter: one statement counts the event, starting a new
// window when the stored one has passed.
func (l *SQL) Allow(ctx context.Context, key string) (bool, error) {
	now := l.now()
	expired := now.Add(-l.window).UnixMilli()
	var hits int64
	err := l.db.QueryRowContext(ctx, `INSERT INTO rate_limits (key, window_start, hits) VALUES (?, ?, 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start <= ? THEN 1 ELSE rate_limits.hits + 1 END,
			window_start = CASE WHEN rate_limits.window_start <= ? THEN excluded.window_start ELSE rate_limits.window_start END
		RETURNING hits`, l.name+":"+key, now.UnixMilli(), expired, expired).Scan(&hits)
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", l.name, err)
	}
	if rand.IntN(256) == 0 { // now and then, forget passed windows
		if _, err := l.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE key >= ? AND key < ? AND window_start <= ?`,
			l.name+":", l.name+";", expired); err != nil {
			return false, fmt.Errorf("rate limit %s: %w", l.name, err)
		}
	}
	return hits <= int64(l.n), nil
}

// Exceeded implements Limiter.
func (l *SQL) Exceeded(ctx context.Context, key string) (bool, error) {
	var hits int64
	err := l.db.QueryRowContext(ctx, `SELECT hits FROM rate_limits WHERE key = ? AND window_start > ?`,
		l.name+":"+key, l.now().Add(-l.window).UnixMilli()).Scan(&hits)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rate limit %s: %w", l.name, err)
	}
	return hits >= int64(l.n), nil
}

// Package jobs runs scheduled work (fleet re-evaluation, feed sync, digests,
// pruning...) on exactly one of the servers sharing a database at a time.
//
// A job is guarded by a lease: a row of job_leases naming the holder and
// the time the lease runs out. Do takes the lease when it is free or run
// out, renews it while the job runs, and gives it back when the job ends;
// a server that dies mid-job keeps it only until it runs out (TTL), then
// the next server to try takes over. A holder that cannot renew in time
// has its job's context cancelled before the lease can run out, so two
// servers never run one job at once (as long as their clocks agree to
// within a few seconds; the jobs are idempotent anyway).
//
// The table is portable SQL, so the same code serves SQLite (one server:
// it always wins) and PostgreSQL.
package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/eolwatch/eolwatch/internal/migrate"
)

// Schema is the jobs' table history.
var Schema = migrate.Set{Owner: "jobs", Table: "jobs_schema", Steps: []string{
	// 1: one lease per job name.
	`CREATE TABLE job_leases (
		name     TEXT PRIMARY KEY,
		holder   TEXT NOT NULL,
		until_ms BIGINT NOT NULL,
		runs     BIGINT NOT NULL DEFAULT 0,
		last_run BIGINT NOT NULL DEFAULT 0
	)`,
}}

// Migrate creates or upgrades the jobs' table in db.
func Migrate(ctx context.Context, db *sql.DB) error {
	return migrate.Apply(ctx, db, Schema, nil)
}

// Runner runs a job on at most one of the servers sharing a database at a
// time: *Leases. Do runs it when no other server holds it; DoEvery, when
// also no server ran it less than every ago. ran is false when the job
// was left to another server.
type Runner interface {
	Do(ctx context.Context, name string, fn func(ctx context.Context) error) (ran bool, err error)
	DoEvery(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) (ran bool, err error)
}

// Run runs the scheduled job name: through r when servers share a database
// (every > 0: r.DoEvery, at most once every that long across them; else
// r.Do), here and now when r is nil (one server on its own database). A
// failure is logged on log, naming the job, unless ctx has ended (the
// server is stopping); the job runs again at its next turn.
func Run(ctx context.Context, r Runner, log *slog.Logger, name string, every time.Duration, fn func(ctx context.Context) error) {
	var err error
	switch {
	case r == nil:
		err = fn(ctx)
	case every > 0:
		_, err = r.DoEvery(ctx, name, every, fn)
	default:
		_, err = r.Do(ctx, name, fn)
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		log.Error("scheduled job failed", "job", name, "err", err)
	}
}

// DefaultTTL is how long a lease lasts without renewal.
const DefaultTTL = time.Minute

// Leases runs jobs under leases in one database. Safe for concurrent use.
type Leases struct {
	db     *sql.DB
	holder string
	ttl    time.Duration
	now    func() time.Time
	log    *slog.Logger
}

// New returns the leases of db (migrated) held in the name of holder (a
// server's instance name; empty: a random one). ttl is the lease length
// (0: DefaultTTL).
func New(db *sql.DB, holder string, ttl time.Duration, log *slog.Logger) *Leases {
	if holder == "" {
		b := make([]byte, 8)
		rand.Read(b)
		holder = hex.EncodeToString(b)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if log == nil {
		log = slog.Default()
	}
	return &Leases{db: db, holder: holder, ttl: ttl, now: time.Now, log: log.With("component", "jobs")}
}

// Holder is the name the leases are held in.
func (l *Leases) Holder() string { return l.holder }

// acquire takes or renews lease name until now+ttl and reports whether
// this holder has it.
func (l *Leases) acquire(ctx context.Context, name string) (bool, error) {
	return l.acquireIfDue(ctx, name, 0)
}

// acquireIfDue is acquire, except that a lease that is not this holder's
// is only taken when its last run ended at least every ago.
func (l *Leases) acquireIfDue(ctx context.Context, name string, every time.Duration) (bool, error) {
	now := l.now()
	var holder string
	err := l.db.QueryRowContext(ctx, `INSERT INTO job_leases (name, holder, until_ms) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
		WHERE job_leases.holder = excluded.holder AND job_leases.until_ms > 0
		   OR job_leases.until_ms < ? AND job_leases.last_run <= ?
		RETURNING holder`, name, l.holder, now.Add(l.ttl).UnixMilli(), now.UnixMilli(), now.Add(-every).UnixMilli()).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // another holder's lease is running
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return holder == l.holder, nil
}

// release gives lease name back (when this holder has it) and counts the run.
func (l *Leases) release(ctx context.Context, name string) error {
	_, err := l.db.ExecContext(ctx, `UPDATE job_leases SET until_ms = 0, runs = runs + 1, last_run = ? WHERE name = ? AND holder = ?`,
		l.now().UnixMilli(), name, l.holder)
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// Do runs fn under lease name when this server can take it, and reports
// whether it ran. The lease is renewed every TTL/4 while fn runs; when a
// renewal fails or finds the lease lost, fn's context is cancelled and Do
// returns fn's error (or the renewal's).
func (l *Leases) Do(ctx context.Context, name string, fn func(ctx context.Context) error) (bool, error) {
	return l.DoEvery(ctx, name, 0, fn)
}

// DoEvery is Do for a periodic job: it runs fn only when no server ran it
// in the last every (hourly pruning runs once an hour in all, not once an
// hour on each server).
func (l *Leases) DoEvery(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) (bool, error) {
	ok, err := l.acquireIfDue(ctx, name, every)
	if err != nil || !ok {
		return false, err
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(l.ttl / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			ok, err := l.acquire(jctx, name)
			if err == nil && !ok {
				err = errors.New("lease " + name + " lost")
			}
			if err != nil {
				l.log.Error("job lease renewal failed; stopping the job", "job", name, "err", err)
				cancel(err)
				return
			}
		}
	}()
	ferr := fn(jctx)
	close(done)
	<-renewed
	if cause := context.Cause(jctx); cause != nil && ctx.Err() == nil && !errors.Is(cause, context.Canceled) {
		if ferr == nil {
			ferr = cause
		}
	}
	if err := l.release(context.WithoutCancel(ctx), name); err != nil && ferr == nil {
		ferr = err
	}
	return true, ferr
}

// Lease describes one job's lease (for admins and tests).
type Lease struct {
	Name    string
	Holder  string
	Until   time.Time // zero: free
	Runs    int64
	LastRun time.Time
}

// List returns every job's lease, by name.
func (l *Leases) List(ctx context.Context) ([]Lease, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT name, holder, until_ms, runs, last_run FROM job_leases ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("job leases: %w", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		var x Lease
		var until, last int64
		if err := rows.Scan(&x.Name, &x.Holder, &until, &x.Runs, &last); err != nil {
			return nil, fmt.Errorf("job leases: %w", err)
		}
		if until > 0 {
			x.Until = time.UnixMilli(until).UTC()
		}
		if last > 0 {
			x.LastRun = time.UnixMilli(last).UTC()
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

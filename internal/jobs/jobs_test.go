package jobs

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	_ "github.com/mattn/go-sqlite3"
)

var engine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { engine = d }))
}

// openDBs returns n handles on one fresh database, as n servers have.
func openDBs(t *testing.T, n int) []*sql.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jobs.db")
	if engine == sqldb.Postgres {
		path = pgtest.URL(t)
	}
	var dbs []*sql.DB
	for range n {
		var db *sql.DB
		var err error
		if engine == sqldb.Postgres {
			db, err = sqldb.OpenPostgres(ctx, path, sqldb.Options{MaxConns: 4})
		} else {
			db, err = sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate")
			if err == nil {
				db.SetMaxOpenConns(1)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// clock is a settable clock shared by the test's leases.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestOneHolderAtATime(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 3)
	var running, most, runs atomic.Int32
	var wg sync.WaitGroup
	for i, db := range dbs {
		l := New(db, "", time.Minute, nil)
		wg.Go(func() {
			for range 20 {
				_, err := l.Do(ctx, "reevaluate", func(ctx context.Context) error {
					n := running.Add(1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(time.Millisecond)
					running.Add(-1)
					runs.Add(1)
					return nil
				})
				if err != nil {
					t.Errorf("server %d: Do: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d servers ran the job at once, want 1", most.Load())
	}
	if runs.Load() == 0 {
		t.Error("the job never ran")
	}
	ls, err := New(dbs[0], "", 0, nil).List(ctx)
	if err != nil || len(ls) != 1 || ls[0].Runs != int64(runs.Load()) || !ls[0].Until.IsZero() {
		t.Errorf("List = %+v, %v; want one free lease with %d runs", ls, err, runs.Load())
	}
}

func TestDeadHolderIsReplacedAfterTTL(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 2)
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	a, b := New(dbs[0], "a", time.Minute, nil), New(dbs[1], "b", time.Minute, nil)
	a.now, b.now = c.now, c.now
	// a takes the lease and "dies" (never releases it).
	if ok, err := a.acquire(ctx, "digests"); err != nil || !ok {
		t.Fatalf("a.acquire = %v, %v", ok, err)
	}
	ran, err := b.Do(ctx, "digests", func(context.Context) error { return nil })
	if err != nil || ran {
		t.Fatalf("b.Do while a's lease runs = %v, %v; want not run", ran, err)
	}
	c.add(61 * time.Second)
	ran, err = b.Do(ctx, "digests", func(context.Context) error { return nil })
	if err != nil || !ran {
		t.Fatalf("b.Do after a's lease ran out = %v, %v; want run", ran, err)
	}
	// a comes back: its lease is gone, b released it: a may run again.
	if ran, err := a.Do(ctx, "digests", func(context.Context) error { return nil }); err != nil || !ran {
		t.Errorf("a.Do after b released = %v, %v", ran, err)
	}
}

func TestLostLeaseCancelsTheJob(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 2)
	a := New(dbs[0], "a", 200*time.Millisecond, nil)
	b := New(dbs[1], "b", 200*time.Millisecond, nil)
	ran, err := a.Do(ctx, "feeds", func(ctx context.Context) error {
		// b steals the lease as if a's had run out.
		if _, err := dbs[1].ExecContext(ctx, `UPDATE job_leases SET holder = ?, until_ms = ? WHERE name = ?`,
			b.holder, time.Now().Add(time.Hour).UnixMilli(), "feeds"); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Second):
			return errors.New("the job was not cancelled")
		}
	})
	if !ran || err == nil {
		t.Fatalf("Do = %v, %v; want the job cancelled with an error", ran, err)
	}
	t.Logf("job stopped: %v", err)
}

func TestDoEveryRunsOncePerPeriodAcrossServers(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 2)
	c := &clock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	a, b := New(dbs[0], "a", time.Minute, nil), New(dbs[1], "b", time.Minute, nil)
	a.now, b.now = c.now, c.now
	runs := 0
	job := func(context.Context) error { runs++; return nil }
	for _, l := range []*Leases{a, b, a} {
		if _, err := l.DoEvery(ctx, "prune", time.Hour, job); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 1 {
		t.Fatalf("ran %d times within the hour, want 1", runs)
	}
	c.add(61 * time.Minute)
	if ran, err := b.DoEvery(ctx, "prune", time.Hour, job); err != nil || !ran || runs != 2 {
		t.Errorf("an hour later: ran %v, %v, runs %d; want a second run", ran, err, runs)
	}
}

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
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

// openDBs returns n handles on one fresh, migrated database, as n servers have.
func openDBs(t *testing.T, n int) []*sql.DB {
	t.Helper()
	return pgtest.OpenShared(t, engine, n, Migrate)
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
	c := pgtest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	a, b := New(dbs[0], "a", time.Minute, nil), New(dbs[1], "b", time.Minute, nil)
	a.now, b.now = c.Now, c.Now
	// a takes the lease and "dies" (never releases it).
	if ok, err := a.acquire(ctx, "digests"); err != nil || !ok {
		t.Fatalf("a.acquire = %v, %v", ok, err)
	}
	ran, err := b.Do(ctx, "digests", func(context.Context) error { return nil })
	if err != nil || ran {
		t.Fatalf("b.Do while a's lease runs = %v, %v; want not run", ran, err)
	}
	c.Add(61 * time.Second)
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
		case <-time.After(time.Minute): // the renewal every 50ms cancels it at once; generous for a loaded machine
			return errors.New("the job was not cancelled")
		}
	})
	if !ran || !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, %v; want the job cancelled (its context's error)", ran, err)
	}
	t.Logf("job stopped: %v", err)
}

func TestDoEveryRunsOncePerPeriodAcrossServers(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 2)
	c := pgtest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	a, b := New(dbs[0], "a", time.Minute, nil), New(dbs[1], "b", time.Minute, nil)
	a.now, b.now = c.Now, c.Now
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
	c.Add(61 * time.Minute)
	if ran, err := b.DoEvery(ctx, "prune", time.Hour, job); err != nil || !ran || runs != 2 {
		t.Errorf("an hour later: ran %v, %v, runs %d; want a second run", ran, err, runs)
	}
}

// recorder is a Runner that records which of its methods ran a job.
type recorder struct{ calls []string }

func (r *recorder) Do(ctx context.Context, name string, fn func(context.Context) error) (bool, error) {
	r.calls = append(r.calls, "Do "+name)
	return true, fn(ctx)
}

func (r *recorder) DoEvery(ctx context.Context, name string, every time.Duration, fn func(context.Context) error) (bool, error) {
	r.calls = append(r.calls, fmt.Sprintf("DoEvery %s %s", name, every))
	return true, fn(ctx)
}

// TestRun: a scheduled job runs here without a runner, through Do or
// DoEvery with one; its failure is logged once, naming the job, unless the
// server is stopping.
func TestRun(t *testing.T) {
	failing := func(context.Context) error { return errors.New("disk on fire") }
	for _, tc := range []struct {
		name    string
		runner  bool
		every   time.Duration
		fn      func(context.Context) error
		stopped bool
		call    string
		logged  bool
	}{
		{name: "here", fn: failing, logged: true},
		{name: "lease", runner: true, fn: failing, call: "Do job", logged: true},
		{name: "lease every hour", runner: true, every: time.Hour, fn: func(context.Context) error { return nil }, call: "DoEvery job 1h0m0s"},
		{name: "stopping", runner: true, fn: failing, stopped: true, call: "Do job"},
		{name: "cancelled", fn: func(context.Context) error { return context.Canceled }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, nil))
			ctx, cancel := context.WithCancel(context.Background())
			if tc.stopped {
				cancel()
			}
			defer cancel()
			rec := &recorder{}
			var r Runner
			if tc.runner {
				r = rec
			}
			ran := false
			Run(ctx, r, log, "job", tc.every, func(ctx context.Context) error { ran = true; return tc.fn(ctx) })
			if !ran {
				t.Error("the job did not run")
			}
			if got := strings.Join(rec.calls, ","); got != tc.call {
				t.Errorf("runner calls %q, want %q", got, tc.call)
			}
			n := strings.Count(logs.String(), `msg="scheduled job failed" job=job err="disk on fire"`)
			if want := map[bool]int{true: 1}[tc.logged]; n != want || (!tc.logged && logs.Len() > 0) {
				t.Errorf("logs %q: %d failure lines, want %d", logs.String(), n, want)
			}
		})
	}
}

package ratelimit

import (
	"context"
	"database/sql"
	"os"
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

type clocked interface {
	Limiter
	SetClock(func() time.Time)
}

func TestLimiters(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		make func(t *testing.T) clocked
	}{
		{"memory", func(*testing.T) clocked { return NewMemory(3, time.Hour) }},
		{"sql", func(t *testing.T) clocked { return NewSQL(openDBs(t, 1)[0], "subscribe", 3, time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := tc.make(t)
			c := pgtest.NewClock(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			l.SetClock(c.Now)
			for i := 1; i <= 5; i++ {
				ok, err := l.Allow(ctx, "10.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				if want := i <= 3; ok != want {
					t.Errorf("event %d: Allow = %v, want %v", i, ok, want)
				}
			}
			if ex, _ := l.Exceeded(ctx, "10.0.0.1"); !ex {
				t.Error("Exceeded = false after 5 events of 3")
			}
			if ok, _ := l.Allow(ctx, "10.0.0.2"); !ok {
				t.Error("another key was limited")
			}
			if ex, _ := l.Exceeded(ctx, "10.0.0.3"); ex {
				t.Error("an unseen key is exceeded")
			}
			c.Add(time.Hour)
			if ex, _ := l.Exceeded(ctx, "10.0.0.1"); ex {
				t.Error("still exceeded in the next window")
			}
			if ok, _ := l.Allow(ctx, "10.0.0.1"); !ok {
				t.Error("the next window starts limited")
			}
		})
	}
}

// TestSharedBudget: servers on one database share one budget per key,
// even when they count at the same moment.
func TestSharedBudget(t *testing.T) {
	ctx := context.Background()
	dbs := openDBs(t, 4)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i, db := range dbs {
		l := NewSQL(db, "enroll-failures", 20, 10*time.Minute)
		wg.Go(func() {
			for range 15 {
				ok, err := l.Allow(ctx, "192.0.2.7")
				if err != nil {
					t.Errorf("server %d: %v", i, err)
					return
				}
				if ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 20 {
		t.Errorf("%d events allowed through 4 servers, want the budget of 20", got)
	}
	other := NewSQL(dbs[0], "subscribe", 20, time.Hour)
	if ex, err := other.Exceeded(ctx, "192.0.2.7"); err != nil || ex {
		t.Errorf("another limiter's budget for the key: exceeded %v, %v; want its own", ex, err)
	}
}

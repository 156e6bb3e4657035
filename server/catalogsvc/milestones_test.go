package catalogsvc

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/notifier/events"
)

func TestMilestones(t *testing.T) {
	cat := mustParse(t, "acme.json", acmeCatalog) // 2.0 ends 2026-12-31
	eol := time.Date(2026, 12, 31, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		days int // asOf = eol + days
		want int // days of the milestone listed for 2.0; -1 = none
	}{
		{-95, -1}, {-91, -1}, {-90, 90}, {-60, 90}, {-31, 90}, {-30, 30}, {-8, 30}, {-7, 7}, {-1, 7},
		{0, 7},  // on the eol day the cycle is still supported
		{1, 0},  // the day after: reached
		{7, 0},  // still within the catch-up window
		{8, -1}, // old news
		{400, -1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.days, " days"), func(t *testing.T) {
			asOf := eol.AddDate(0, 0, tt.days)
			var got *Milestone
			for _, m := range Milestones(cat, asOf, 0) {
				if m.Product == "acme" && m.Cycle == "2.0" {
					m := m
					got = &m
				}
			}
			switch {
			case tt.want < 0 && got != nil:
				t.Errorf("Milestones(eol%+d days) lists %+v, want nothing for 2.0", tt.days, *got)
			case tt.want >= 0 && (got == nil || got.Days != tt.want):
				t.Errorf("Milestones(eol%+d days) = %+v, want the %d-day milestone", tt.days, got, tt.want)
			case got != nil && got.Key != "eol/acme/2.0/2026-12-31/"+strconv.Itoa(tt.want):
				t.Errorf("Milestones(eol%+d days).Key = %q", tt.days, got.Key)
			}
		})
	}
	// 1.0 ended in 2025: never announced by a first start in 2026.
	for _, m := range Milestones(cat, testNow, 0) {
		if m.Cycle == "1.0" {
			t.Errorf("Milestones lists %+v, an end of life long past", m)
		}
	}
}

func TestTickMilestonesOnce(t *testing.T) {
	ctx := context.Background()
	st := NewMemStore()
	now := time.Date(2026, 12, 20, 9, 0, 0, 0, time.UTC) // 11 days before 2.0's eol: the 30-day warning
	s, err := New(ctx, Config{Store: st, Base: mustParse(t, "acme.json", acmeCatalog), Now: func() time.Time { return now }, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.TickMilestones(ctx, now)
	// 2.0 ends 2026-12-31 (30-day warning due), 2.1 on 2027-03-01 (90-day warning due).
	if err != nil || len(fresh) != 2 || fresh[0].Days != 30 || fresh[0].Cycle != "2.0" || fresh[1].Days != 90 || fresh[1].Cycle != "2.1" {
		t.Fatalf("TickMilestones = %+v, %v; want the 30-day warning of acme 2.0 and the 90-day one of 2.1", fresh, err)
	}
	for i := 0; i < 3; i++ { // hourly ticks the same day, and the next day
		if again, err := s.TickMilestones(ctx, now.Add(time.Duration(i)*12*time.Hour)); err != nil || len(again) != 0 {
			t.Errorf("tick %d = %+v, %v; want nothing new", i, again, err)
		}
	}
	evs := st.Events()
	if len(evs) != 2 || evs[0].Kind != events.KindEOL || evs[0].Days != 30 || evs[0].Date != "2026-12-31" {
		t.Errorf("events = %+v, want two eol warnings, the first for 2.0", evs)
	}
	if err := evs[0].Validate(); err != nil {
		t.Error(err)
	}
	// Seven days before: the next milestone, once.
	if fresh, _ := s.TickMilestones(ctx, time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)); len(fresh) != 1 || fresh[0].Days != 7 {
		t.Errorf("TickMilestones(7 days before) = %+v, want the 7-day warning", fresh)
	}
}

// engine is the engine this pass of the suite runs on: TestMain runs every
// test on SQLite, then again on a throwaway PostgreSQL cluster.
var engine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { engine = d }))
}

// testDBPath is where a test's database lives: a SQLite file in dir, or a
// fresh PostgreSQL schema's URL in the PostgreSQL pass.
func testDBPath(t *testing.T, dir string) string {
	if engine == sqldb.Postgres {
		return pgtest.URL(t)
	}
	return filepath.Join(dir, "eolwatch.db")
}

// openDB opens a database (a SQLite file, or a postgres:// URL) with the
// notifier's and the catalog service's tables, the way the server does.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	if sqldb.IsPostgresURL(path) {
		db, err = sqldb.OpenPostgres(context.Background(), path, sqldb.Options{})
	} else {
		db, err = sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate")
		if db != nil {
			db.SetMaxOpenConns(1)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	if err := notifier.Migrate(ctx, db); err != nil {
		t.Fatalf("notifier.Migrate: %v", err)
	}
	for i := 0; i < 2; i++ { // idempotent
		if err := Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate (run %d): %v", i+1, err)
		}
	}
	return db
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestSQLStore(t *testing.T) {
	ctx := context.Background()
	path := testDBPath(t, t.TempDir())
	db := openDB(t, path)
	st := NewSQLStore(db)
	v1, v2 := fixture(t)
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	cfg := Config{Store: st, Base: mustParse(t, "base.json", string(v1)), Now: func() time.Time { return now }, Logger: quietLogger()}
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, Release{Product: "python", Cycle: "3.12", Version: "3.12.15", Date: "2026-11-28", Link: "https://python.org/x", By: "cli"}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if _, err := s.ImportData(ctx, "update.json", v2); err != nil {
		t.Fatalf("ImportData: %v", err)
	}
	// Debian 12's moved eol (2026-12-31) is 31 days away: the 90-day warning is due.
	ms, err := s.TickMilestones(ctx, now)
	if err != nil || len(ms) == 0 {
		t.Fatalf("TickMilestones = %+v, %v", ms, err)
	}
	if again, err := s.TickMilestones(ctx, now); err != nil || len(again) != 0 {
		t.Errorf("second TickMilestones = %+v, %v; want nothing", again, err)
	}
	// 1 release + 3 feed changes + the milestones, all in the outbox's event table.
	if got, want := countRows(t, db, "notifier_events"), 1+3+len(ms); got != want {
		t.Errorf("notifier_events rows = %d, want %d", got, want)
	}
	if countRows(t, db, "catalog_releases") != 1 || countRows(t, db, "catalog_documents") != 1 {
		t.Error("the release and the document were not stored")
	}
	// A duplicate release is refused by the service before the store.
	if _, err := s.Publish(ctx, Release{Product: "python", Cycle: "3.12", Version: "3.12.15", Date: "2026-11-28"}); err == nil {
		t.Error("publishing the same release twice succeeded")
	}

	// Restart on the same file: same catalog, no new events.
	db.Close()
	db2 := openDB(t, path)
	s2, err := New(ctx, Config{Store: NewSQLStore(db2), Base: cfg.Base, Now: cfg.Now, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if v := s2.Current().Evaluate("python", "3.12.15", now, catalog.DefaultPolicy()); v.Patch != "current" {
		t.Errorf("after restart python 3.12.15 = %+v, want current", v)
	}
	if v := s2.Current().Evaluate("python", "3.13.16", now, catalog.DefaultPolicy()); v.Patch != "current" {
		t.Errorf("after restart python 3.13.16 (from the import) = %+v, want current", v)
	}
	if pubs := s2.Published(); len(pubs) != 1 || pubs[0].Link != "https://python.org/x" || pubs[0].By != "cli" {
		t.Errorf("Published after restart = %+v", pubs)
	}
	if again, _ := s2.TickMilestones(ctx, now); len(again) != 0 {
		t.Errorf("milestones after restart = %+v, want none (already sent)", again)
	}
}

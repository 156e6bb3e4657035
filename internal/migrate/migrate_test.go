package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	_ "github.com/mattn/go-sqlite3"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// openDB opens a SQLite file the way the store's writer does: one
// connection, immediate transactions.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func version(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var v int
	if err := db.QueryRow(`SELECT version FROM ` + table).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

var twoSteps = Set{Owner: "test", Table: "test_schema", Steps: []string{
	`CREATE TABLE a (id INTEGER PRIMARY KEY)`,
	`CREATE TABLE b (id INTEGER PRIMARY KEY); CREATE INDEX b_id ON b(id)`,
}}

func TestApply(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "db"))
	one := Set{Owner: twoSteps.Owner, Table: twoSteps.Table, Steps: twoSteps.Steps[:1]}
	t.Run("fresh database", func(t *testing.T) {
		if err := Apply(ctx, db, one, nil); err != nil {
			t.Fatal(err)
		}
		if v := version(t, db, one.Table); v != 1 || one.Version() != 1 {
			t.Errorf("version %d, want 1", v)
		}
	})
	t.Run("a newer build adds its step", func(t *testing.T) {
		if err := Apply(ctx, db, twoSteps, nil); err != nil {
			t.Fatal(err)
		}
		if v := version(t, db, twoSteps.Table); v != 2 {
			t.Errorf("version %d, want 2", v)
		}
		if _, err := db.Exec(`INSERT INTO b (id) VALUES (1)`); err != nil {
			t.Errorf("step 2 did not run: %v", err)
		}
	})
	t.Run("again: nothing to do", func(t *testing.T) {
		if err := Apply(ctx, db, twoSteps, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an older build is refused", func(t *testing.T) {
		err := Apply(ctx, db, one, nil)
		if !errors.Is(err, ErrNewer) || !strings.Contains(err.Error(), "schema version 2, this build knows 1") {
			t.Errorf("Apply with an older list = %v, want ErrNewer naming both versions", err)
		}
	})
	t.Run("owners keep their own versions", func(t *testing.T) {
		other := Set{Owner: "other", Table: "other_schema", Steps: []string{`CREATE TABLE c (id INTEGER)`}}
		if err := Apply(ctx, db, other, nil); err != nil {
			t.Fatal(err)
		}
		if version(t, db, "other_schema") != 1 || version(t, db, twoSteps.Table) != 2 {
			t.Error("one owner's migration moved another's version")
		}
	})
}

func TestFailedStepLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "db"))
	bad := Set{Owner: "test", Table: "test_schema", Steps: []string{
		`CREATE TABLE a (id INTEGER)`,
		`CREATE TABLE b (id INTEGER); CREATE TABLE a (id INTEGER)`, // the second statement fails
	}}
	err := Apply(ctx, db, bad, nil)
	if err == nil || !strings.Contains(err.Error(), "test migration 2") {
		t.Fatalf("Apply = %v, want migration 2 to fail", err)
	}
	if v := version(t, db, bad.Table); v != 1 {
		t.Errorf("version %d after a failed step, want 1", v)
	}
	if _, err := db.Exec(`SELECT * FROM b`); err == nil {
		t.Error("the failed step's first statement was kept")
	}
}

func TestLockRunsInEveryTransaction(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "db"))
	calls := 0
	lock := func(ctx context.Context, tx *sql.Tx) error { calls++; return nil }
	if err := Apply(ctx, db, twoSteps, lock); err != nil {
		t.Fatal(err)
	}
	if calls != 3 { // two steps, then the transaction that finds nothing to do
		t.Errorf("lock ran %d times, want 3", calls)
	}
	refuse := func(ctx context.Context, tx *sql.Tx) error { return fmt.Errorf("busy") }
	if err := Apply(ctx, db, twoSteps, refuse); err == nil || !strings.Contains(err.Error(), "lock: busy") {
		t.Errorf("Apply with a failing lock = %v", err)
	}
}

// TestConcurrentStarts has several processes' worth of connections migrate
// one file at once: every step runs exactly once.
func TestConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		db := openDB(t, path)
		wg.Go(func() { errs[i] = Apply(ctx, db, twoSteps, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("start %d: %v", i, err) // a second CREATE TABLE a would fail here
		}
	}
	if v := version(t, openDB(t, path), twoSteps.Table); v != 2 {
		t.Errorf("version %d, want 2", v)
	}
}

func TestBadTableName(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "db"))
	if err := Apply(context.Background(), db, Set{Owner: "x", Table: "v; DROP TABLE a"}, nil); err == nil {
		t.Error("a table name with SQL in it was accepted")
	}
}

func openPG(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sqldb.OpenPostgres(context.Background(), url, sqldb.Options{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withPostgres has a PostgreSQL text for step 2 that SQLite would refuse.
var withPostgres = Set{Owner: "test", Table: "test_schema", Steps: twoSteps.Steps,
	Postgres: map[int]string{2: `CREATE TABLE b (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, data BYTEA); CREATE INDEX b_id ON b(id)`}}

func TestPostgresSteps(t *testing.T) {
	ctx := context.Background()
	db := openPG(t, pgtest.URL(t))
	if err := Apply(ctx, db, withPostgres, nil); err != nil {
		t.Fatal(err)
	}
	if v := version(t, db, withPostgres.Table); v != 2 {
		t.Errorf("version %d, want 2", v)
	}
	var id int64
	if err := db.QueryRow(`INSERT INTO b (data) VALUES (?) RETURNING id`, []byte{1}).Scan(&id); err != nil || id != 1 {
		t.Errorf("the PostgreSQL text of step 2 did not run: id %d, %v", id, err)
	}
	t.Run("SQLite runs the portable text", func(t *testing.T) {
		lite := openDB(t, filepath.Join(t.TempDir(), "db"))
		if err := Apply(ctx, lite, withPostgres, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an older build is refused", func(t *testing.T) {
		one := Set{Owner: "test", Table: "test_schema", Steps: twoSteps.Steps[:1]}
		if err := Apply(ctx, db, one, nil); !errors.Is(err, ErrNewer) {
			t.Errorf("Apply with an older list = %v, want ErrNewer", err)
		}
	})
	t.Run("a failed step leaves nothing behind", func(t *testing.T) {
		bad := Set{Owner: "bad", Table: "bad_schema", Steps: []string{
			`CREATE TABLE c (id INTEGER)`,
			`CREATE TABLE d (id INTEGER); CREATE TABLE c (id INTEGER)`,
		}}
		if err := Apply(ctx, db, bad, nil); err == nil || !strings.Contains(err.Error(), "bad migration 2") {
			t.Fatalf("Apply = %v, want migration 2 to fail", err)
		}
		if v := version(t, db, bad.Table); v != 1 {
			t.Errorf("version %d after a failed step, want 1", v)
		}
		if _, err := db.Exec(`SELECT * FROM d`); err == nil {
			t.Error("the failed step's first statement was kept")
		}
	})
	t.Run("a step number past the list is refused", func(t *testing.T) {
		odd := Set{Owner: "odd", Table: "odd_schema", Steps: []string{`SELECT 1`}, Postgres: map[int]string{2: `SELECT 2`}}
		if err := Apply(ctx, db, odd, nil); err == nil || !strings.Contains(err.Error(), "step 2") {
			t.Errorf("Apply = %v, want an error naming step 2", err)
		}
	})
}

// TestPostgresConcurrentStarts has several replicas' pools migrate one
// database at once: the advisory lock makes each step run exactly once.
func TestPostgresConcurrentStarts(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		db := openPG(t, url)
		wg.Go(func() { errs[i] = Apply(ctx, db, withPostgres, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("start %d: %v", i, err)
		}
	}
	db := openPG(t, url)
	if v := version(t, db, withPostgres.Table); v != 2 {
		t.Errorf("version %d, want 2", v)
	}
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM ` + withPostgres.Table).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("version table has %d rows (%v), want 1", rows, err)
	}
}

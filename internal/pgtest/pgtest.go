// Package pgtest runs a throwaway PostgreSQL cluster for tests: initdb in a
// temporary directory (as the postgres user when the tests run as root), a
// server listening on a unix socket in that directory and a free loopback
// port, tuned for speed over durability (fsync off), stopped and deleted at
// the end. One cluster serves a whole test binary; each test gets a fresh
// database of its own (URL).
//
// A package whose whole suite runs on both engines calls RunBoth from its
// TestMain; a package with a few PostgreSQL tests calls Main and URL.
// Without PostgreSQL's binaries (Debian's postgresql package, installed by
// `make deps`), tests skip with a message saying so, and fail when CI=true.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	dir   string // temporary directory: data/, the socket, server.log
	port  int
	cmd   *exec.Cmd
	admin *sql.DB
	n     atomic.Int64
	done  chan struct{} // closed when the server process exits

	testDBOnce sync.Once
	testDBConn *sql.DB
	testDBErr  error
}

// ErrNoPostgres is returned (wrapped) when PostgreSQL's binaries are missing.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, postgres) not found: run `make deps` (Debian package postgresql)")

// BinDir returns the directory holding initdb and postgres: $EOLWATCH_PG_BINDIR,
// else the newest /usr/lib/postgresql/N/bin (Debian's layout), else the
// directory of an initdb found on PATH.
func BinDir() (string, error) {
	ok := func(d string) bool {
		for _, b := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(d, b)); err != nil || fi.IsDir() {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("EOLWATCH_PG_BINDIR"); d != "" {
		if ok(d) {
			return d, nil
		}
		return "", fmt.Errorf("EOLWATCH_PG_BINDIR=%s: %w", d, ErrNoPostgres)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if ok(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && ok(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if ok(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a cluster. Stop it when done.
func Start() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "eolwatch-pg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, done: make(chan struct{})}
	fail := func(err error) (*Cluster, error) {
		c.Stop()
		return nil, err
	}
	if err := cred.own(dir); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
	initdb.Dir = dir
	cred.apply(initdb)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close()
	if err := cred.own(logf.Name()); err != nil {
		return fail(err)
	}
	for attempt := 0; ; attempt++ {
		if c.port, err = freePort(); err != nil {
			return fail(err)
		}
		c.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-p", strconv.Itoa(c.port),
			"-h", "127.0.0.1",
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=400", "-c", "shared_buffers=128MB", "-c", "max_locks_per_transaction=256",
			"-c", "log_min_messages=warning", "-c", "logging_collector=off", "-c", "autovacuum=off",
			"-c", "deadlock_timeout=100ms")
		c.cmd.Dir = dir
		c.cmd.Stdout, c.cmd.Stderr = logf, logf
		cred.apply(c.cmd)
		dieWithParent(c.cmd)
		if err := c.cmd.Start(); err != nil {
			return fail(fmt.Errorf("start postgres: %w", err))
		}
		c.done = make(chan struct{})
		go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.done)
		err = c.waitReady(30 * time.Second)
		if err == nil {
			return c, nil
		}
		c.kill()
		if attempt >= 2 {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return fail(fmt.Errorf("postgres did not start: %w\n%s", err, log))
		}
	}
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			return errors.New("the server exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		db, err := sqldb.OpenPostgres(ctx, c.URL("postgres"), sqldb.Options{MaxConns: 4, AppName: "pgtest"})
		cancel()
		if err == nil {
			c.admin = db
			return nil
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %w", timeout, last)
}

// URL is the connection URL of database db over the cluster's unix socket.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=%d&sslmode=disable", db, c.dir, c.port)
}

// TCPURL is the connection URL of database db over loopback TCP.
func (c *Cluster) TCPURL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewDatabase creates an empty database with a fresh name and returns its
// name. It takes a second or so on a busy machine; NewSchema is instant.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d_%d", os.Getpid(), c.n.Add(1))
	if _, err := c.admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return name, nil
}

// testDB is the database that holds the tests' schemas.
const testDB = "eolwatch_test"

// NewSchema creates an empty schema with a fresh name in the cluster's
// test database and returns a URL whose connections use it (search_path),
// so to the code under test it looks like an empty database of its own.
// Advisory locks are per database, so tests using schemas share them.
func (c *Cluster) NewSchema(ctx context.Context) (string, error) {
	c.testDBOnce.Do(func() {
		if _, err := c.admin.ExecContext(ctx, `CREATE DATABASE `+testDB); err != nil {
			c.testDBErr = fmt.Errorf("create database %s: %w", testDB, err)
			return
		}
		c.testDBConn, c.testDBErr = sqldb.OpenPostgres(ctx, c.URL(testDB), sqldb.Options{MaxConns: 2, AppName: "pgtest"})
	})
	if c.testDBErr != nil {
		return "", c.testDBErr
	}
	name := fmt.Sprintf("s%d", c.n.Add(1))
	if _, err := c.testDBConn.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		return "", fmt.Errorf("create schema %s: %w", name, err)
	}
	return c.URL(testDB) + "&search_path=" + name, nil
}

// Exec runs one administrative statement on the cluster's postgres database.
func (c *Cluster) Exec(ctx context.Context, query string, args ...any) error {
	_, err := c.admin.ExecContext(ctx, query, args...)
	return err
}

// Stop stops the server (fast shutdown) and deletes its directory.
func (c *Cluster) Stop() {
	if c.testDBConn != nil {
		c.testDBConn.Close()
	}
	if c.admin != nil {
		c.admin.Close()
	}
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Signal(os.Interrupt)
		select {
		case <-c.done:
		case <-time.After(15 * time.Second):
			c.kill()
		}
	}
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

func (c *Cluster) kill() {
	if c.cmd != nil && c.cmd.Process != nil {
		c.cmd.Process.Kill()
		<-c.done
	}
}

// The package's shared cluster, started on first use.
var (
	sharedOnce sync.Once
	shared     *Cluster
	sharedErr  error
	sharedMu   sync.Mutex
	stopped    bool
)

// Shared returns the test binary's cluster, starting it on first use.
func Shared() (*Cluster, error) {
	sharedOnce.Do(func() {
		start := time.Now()
		shared, sharedErr = Start()
		if sharedErr == nil {
			fmt.Fprintf(os.Stderr, "pgtest: PostgreSQL cluster in %s (port %d) started in %s\n", shared.dir, shared.port, time.Since(start).Round(time.Millisecond))
		}
	})
	return shared, sharedErr
}

// stopShared stops the shared cluster if it was started.
func stopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil && !stopped {
		shared.Stop()
		stopped = true
	}
}

// ci reports whether missing tools must fail the tests (CI=true).
func ci() bool { return os.Getenv("CI") == "true" }

// Require returns the shared cluster, or skips t (fails it under CI=true)
// when PostgreSQL is not installed.
func Require(t testing.TB) *Cluster {
	t.Helper()
	c, err := Shared()
	if err == nil {
		return c
	}
	if errors.Is(err, ErrNoPostgres) && !ci() {
		t.Skipf("skipping: %v", err)
	}
	t.Fatalf("PostgreSQL test cluster: %v", err)
	return nil
}

// URL returns the URL of a fresh, empty schema on the shared cluster (see
// NewSchema; Require for when PostgreSQL is missing).
func URL(t testing.TB) string {
	t.Helper()
	c := Require(t)
	u, err := c.NewSchema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Location is where a test's store lives on engine d: a fresh data
// directory (SQLite: dir, database empty) or the URL of a fresh schema on
// the shared cluster (PostgreSQL: database, dir empty), as
// store.OpenDatabase takes them. Opening the same location again is a
// server restart.
func Location(t testing.TB, d sqldb.Dialect) (database, dir string) {
	t.Helper()
	if d == sqldb.Postgres {
		return URL(t), ""
	}
	return "", t.TempDir()
}

// OpenShared returns n handles on one fresh database of engine d, as n
// servers sharing a database hold: a SQLite file in a test directory (WAL,
// immediate transactions, one connection a handle; the test binary
// registers the sqlite3 driver) or a fresh schema on the shared cluster
// (URL). Each handle is migrated with migrate (which must tolerate being run
// again, as the migration runner does) and closed when the test ends.
func OpenShared(t testing.TB, d sqldb.Dialect, n int, migrate func(context.Context, *sql.DB) error) []*sql.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "shared.db")
	if d == sqldb.Postgres {
		path = URL(t)
	}
	var dbs []*sql.DB
	for range n {
		var db *sql.DB
		var err error
		if d == sqldb.Postgres {
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
		if err := migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// DatabaseURL returns the URL of a fresh, empty database of its own on the
// shared cluster, for tests that need one (slower than URL).
func DatabaseURL(t testing.TB) string {
	t.Helper()
	c := Require(t)
	name, err := c.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c.URL(name)
}

// Main runs a package's tests and stops the shared cluster afterwards, if
// a test started it. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	stopShared()
	return code
}

// engines returns which engines EOLWATCH_TEST_ENGINES asks for (default both).
func engines() (sqlite, postgres bool) {
	switch strings.ToLower(os.Getenv("EOLWATCH_TEST_ENGINES")) {
	case "sqlite":
		return true, false
	case "postgres", "postgresql":
		return false, true
	default:
		return true, true
	}
}

// RunBoth runs a package's whole test suite twice: on SQLite, then, after
// use(sqldb.Postgres), on the shared PostgreSQL cluster; the tests open
// their store on the engine use was last given. EOLWATCH_TEST_ENGINES=sqlite
// or =postgres runs one pass only. Without PostgreSQL the second pass is
// skipped with a message (a failure when CI=true). Call it from TestMain:
// os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { engine = d })).
func RunBoth(m *testing.M, use func(sqldb.Dialect)) int {
	doSQLite, doPG := engines()
	code := 0
	if doSQLite {
		use(sqldb.SQLite)
		code = m.Run()
	}
	if !doPG {
		return code
	}
	if _, err := Shared(); err != nil {
		switch {
		case !errors.Is(err, ErrNoPostgres):
			fmt.Fprintf(os.Stderr, "pgtest: FAIL: the PostgreSQL pass cannot start its cluster: %v\n", err)
			return 1
		case ci():
			fmt.Fprintf(os.Stderr, "pgtest: FAIL: the PostgreSQL pass cannot run (CI=true: a missing tool is a failure): %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "pgtest: the PostgreSQL pass is skipped: %v\n", err)
		return code
	}
	fmt.Println("pgtest: running the suite again on PostgreSQL")
	use(sqldb.Postgres)
	if c := m.Run(); c != 0 {
		code = c
	}
	stopShared()
	return code
}

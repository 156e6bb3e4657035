package service

import (
	"context"
	"os"
	"testing"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/store"
)

// dbEngine is the database engine this pass of the suite runs on: TestMain
// runs every test on SQLite, then again on a throwaway PostgreSQL cluster, so the
// tests over a real store (customers, contracts, tickets, contract and risk
// mail) hold on both.
var dbEngine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { dbEngine = d }))
}

// storeLocation is where a test's store lives on this pass's engine: a
// data directory (SQLite) or a fresh database's URL (PostgreSQL).
func storeLocation(t testing.TB) (database, dir string) {
	t.Helper()
	return pgtest.Location(t, dbEngine)
}

// openStore opens the store at a storeLocation, closed when t ends;
// opening the same location again is a server restart.
func openStore(t testing.TB, database, dir string) *store.Store {
	t.Helper()
	st, err := store.OpenDatabase(context.Background(), database, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

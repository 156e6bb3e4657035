package webdata

import (
	"context"
	"os"
	"testing"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/store"
)

// dbEngine is the database engine this pass of the suite runs on: TestMain
// runs every test on SQLite, then again on a throwaway PostgreSQL cluster,
// so the dashboard over the real store (fleet, customers, sessions and
// logouts, host approvals, notifications) holds on both.
var dbEngine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { dbEngine = d }))
}

// openStore opens a fresh store on this pass's engine: SQLite in a test
// directory or a fresh PostgreSQL database (pgtest.URL), closed when tb ends.
func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	database, dir := pgtest.Location(tb, dbEngine)
	st, err := store.OpenDatabase(context.Background(), database, dir)
	if err != nil {
		tb.Fatalf("store.OpenDatabase: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

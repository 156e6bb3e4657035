package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

// seededTables may hold rows in a PostgreSQL database no server has used
// yet (migrations and a first start write them): the copy replaces them.
var seededTables = []string{"meta", "notifier_meta", "notifier_cursor", "catalog_state", "job_leases", "rate_limits"}

// runMigrate moves a SQLite data directory's database into a new
// PostgreSQL database, for running several servers on it.
func runMigrate(ctx context.Context, args []string, io Stdio) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	from := fs.String("from-data-dir", "", "data directory of the SQLite server to move (stop that server first)")
	database := fs.String("database", os.Getenv("EOLWATCH_DATABASE"), "PostgreSQL URL to move it to, postgres://... (a new, empty database; env EOLWATCH_DATABASE)")
	config := fs.String("config", os.Getenv("EOLWATCH_CONFIG"), "the servers' YAML config file (env EOLWATCH_CONFIG): its database applies unless --database or EOLWATCH_DATABASE is given")
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if *database == "" && *config != "" {
		loc := &storeLocation{config: *config}
		if err := loc.resolve(); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		*database = loc.database
	}
	switch {
	case fs.NArg() > 0:
		return usageErrorf("migrate: unexpected argument %q", fs.Arg(0))
	case *from == "":
		return usageErrorf("migrate: --from-data-dir is required (the SQLite server's data directory)")
	case *database == "":
		return usageErrorf("migrate: --database is required (the PostgreSQL URL to move to)")
	}
	if err := sqldb.CheckURL(*database); err != nil {
		return usageErrorf("migrate: %s", err)
	}
	if _, err := os.Stat(filepath.Join(*from, store.FileName)); err != nil {
		return fmt.Errorf("migrate: no database in %s (--from-data-dir): %w", *from, err)
	}
	start := time.Now()
	// Both sides at this build's schema versions, as serve would leave them.
	src, err := store.Open(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate: open %s: %w", *from, err)
	}
	defer src.Close()
	if err := migrateOwners(ctx, src, false); err != nil {
		return fmt.Errorf("migrate: %s: %w", *from, err)
	}
	dst, err := store.OpenPostgres(ctx, *database)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer dst.Close()
	if err := migrateOwners(ctx, dst, true); err != nil {
		return fmt.Errorf("migrate: %s: %w", sqldb.Redact(*database), err)
	}
	// The dashboard's session key is a file beside SQLite and a shared key
	// in the database with PostgreSQL: moved, sessions stay valid.
	keys := map[string][]byte{}
	if key, err := os.ReadFile(filepath.Join(*from, server.SessionKeyFile)); err == nil && len(key) == 32 {
		keys[server.SessionKeyName] = key
	}
	tables, err := src.CopyToPostgres(ctx, dst, seededTables, keys)
	if errors.Is(err, sqldb.ErrTargetInUse) {
		return fmt.Errorf("migrate: %w (nothing was changed)", err)
	}
	if err != nil {
		return fmt.Errorf("migrate: %w (nothing was changed in PostgreSQL)", err)
	}
	tw := tabwriter.NewWriter(io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tROWS")
	var rows int64
	for _, t := range tables {
		fmt.Fprintf(tw, "%s\t%d\n", t.Name, t.Rows)
		rows += t.Rows
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(io.Err, "moved %d rows in %d tables from %s to %s in %s; start the servers with --database (the data directory is left as it was)\n",
		rows, len(tables), *from, sqldb.Redact(*database), time.Since(start).Round(time.Millisecond))
	return nil
}

// migrateOwners brings the tables of every other owner up to date in st's
// database (the store's own are, once it is open); postgres adds the
// tables only servers sharing a database use.
func migrateOwners(ctx context.Context, st *store.Store, postgres bool) error {
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		return err
	}
	if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
		return err
	}
	if !postgres {
		return nil
	}
	if err := jobs.Migrate(ctx, st.DB()); err != nil {
		return err
	}
	return ratelimit.Migrate(ctx, st.DB())
}

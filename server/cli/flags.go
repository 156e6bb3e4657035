package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/store"
)

// listFlag is a repeatable string flag (--catalog a.yaml --catalog b.yaml).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// csvFlag is a comma-separated list flag whose value replaces the list
// (the config file's list, then the environment's, then the flag's).
type csvFlag []string

func (l *csvFlag) String() string { return strings.Join(*l, ",") }

func (l *csvFlag) Set(v string) error {
	*l = nil
	return (*commaList)(l).Set(v)
}

// commaList is a repeatable flag that also splits on commas
// (--events release,eol --product nginx --product nodejs).
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }

func (l *commaList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// extendedForFlag is --extended-support-for PRODUCT=MODE: repeatable, and
// each value may list several settings separated by commas
// ("ubuntu=all,rhel=none", as the environment variable gives them). A later
// setting of a product replaces an earlier one.
type extendedForFlag map[string]string

func (e *extendedForFlag) String() string {
	if e == nil || len(*e) == 0 {
		return ""
	}
	parts := make([]string, 0, len(*e))
	for k, v := range *e {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func (e *extendedForFlag) Set(v string) error {
	if *e == nil {
		*e = map[string]string{}
	}
	return catalog.ParseExtendedFor(v, *e)
}

// policyFlags adds the support-policy flags of the commands that judge
// versions against the fleet's settings (serve, eligibility): --warn-days,
// --grace-days, --extended-support and --extended-support-for, starting
// from the values the pointers hold.
func policyFlags(fs *flag.FlagSet, warn, grace *int, extended *string, extendedFor *map[string]string) {
	fs.IntVar(warn, "warn-days", *warn, "days before eol an install is eol-soon")
	fs.IntVar(grace, "grace-days", *grace, "days a newer patch may stay uninstalled before patch-overdue")
	fs.StringVar(extended, "extended-support", *extended,
		"which extended-support programmes keep a release supported: free (free ones such as Debian LTS; paid ones only for enrolled hosts), all, none")
	fs.Var((*extendedForFlag)(extendedFor), "extended-support-for", "PRODUCT=free|all|none: --extended-support for one product (repeatable or comma-separated)")
}

// storeLocation is where a command finds the server's store, as serve
// does: the PostgreSQL database of --database, or else the SQLite file in
// --data-dir.
type storeLocation struct {
	dataDir  string
	database string
}

// storeFlags adds --data-dir (default EOLWATCH_DATA_DIR, else ./data) and
// --database (default EOLWATCH_DATABASE) to fs.
func storeFlags(fs *flag.FlagSet) *storeLocation {
	l := &storeLocation{}
	def := os.Getenv("EOLWATCH_DATA_DIR")
	if def == "" {
		def = server.DefaultConfig().DataDir
	}
	fs.StringVar(&l.dataDir, "data-dir", def, "data directory of the server (env EOLWATCH_DATA_DIR)")
	fs.StringVar(&l.database, "database", os.Getenv("EOLWATCH_DATABASE"),
		"PostgreSQL URL of the server's database, postgres://... (env EOLWATCH_DATABASE); empty: SQLite in --data-dir")
	return l
}

// exists reports whether the store is there: the SQLite file in the data
// directory (a missing one is not created), or a valid PostgreSQL URL
// (open then connects).
func (l *storeLocation) exists() error {
	if l.database != "" {
		return sqldb.CheckURL(l.database)
	}
	_, err := os.Stat(filepath.Join(l.dataDir, store.FileName))
	return err
}

// open opens the store.
func (l *storeLocation) open(ctx context.Context) (*store.Store, error) {
	return store.OpenDatabase(ctx, l.database, l.dataDir)
}

// String names the store in messages, without a password.
func (l *storeLocation) String() string {
	if l.database != "" {
		return sqldb.Redact(l.database) + " (--database)"
	}
	return l.dataDir + " (--data-dir)"
}

// loadCatalog returns the embedded default catalog with the extra files
// merged over it.
func loadCatalog(files []string) (*catalog.Catalog, error) {
	base, err := catalog.Default()
	if err != nil {
		return nil, fmt.Errorf("default catalog: %w", err)
	}
	if len(files) == 0 {
		return base, nil
	}
	extra, err := catalog.LoadFiles(files...)
	if err != nil {
		return nil, fmt.Errorf("catalog files: %w", err)
	}
	return catalog.Merge(base, extra), nil
}

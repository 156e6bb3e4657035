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
	"go.yaml.in/yaml/v3"
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
	config   string
	fs       *flag.FlagSet
	resolved bool
	err      error
}

// storeFlags adds --data-dir (default EOLWATCH_DATA_DIR, else ./data),
// --database (default EOLWATCH_DATABASE) and --config (default
// EOLWATCH_CONFIG) to fs. As for serve, a flag wins over its environment
// variable, which wins over the config file's data_dir and database.
func storeFlags(fs *flag.FlagSet) *storeLocation {
	l := &storeLocation{fs: fs}
	def := os.Getenv("EOLWATCH_DATA_DIR")
	if def == "" {
		def = server.DefaultConfig().DataDir
	}
	fs.StringVar(&l.dataDir, "data-dir", def, "data directory of the server (env EOLWATCH_DATA_DIR)")
	fs.StringVar(&l.database, "database", os.Getenv("EOLWATCH_DATABASE"),
		"PostgreSQL URL of the server's database, postgres://... (env EOLWATCH_DATABASE); empty: SQLite in --data-dir")
	fs.StringVar(&l.config, "config", os.Getenv("EOLWATCH_CONFIG"),
		"the server's YAML config file (env EOLWATCH_CONFIG): its database and data_dir apply unless given as flags or in the environment")
	return l
}

// resolve completes the location once the flags are parsed: data_dir and
// database from the config file where neither a flag nor the environment
// set them, then a check of the database URL.
func (l *storeLocation) resolve() error {
	if l.resolved {
		return l.err
	}
	l.resolved = true
	if l.config != "" {
		set := map[string]bool{}
		if l.fs != nil {
			l.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		}
		data, err := os.ReadFile(l.config)
		if err != nil {
			l.err = fmt.Errorf("config: %w", err)
			return l.err
		}
		var file struct {
			DataDir  string `yaml:"data_dir"`
			Database string `yaml:"database"`
		}
		if err := yaml.Unmarshal(data, &file); err != nil {
			l.err = fmt.Errorf("config %s: %w", l.config, err)
			return l.err
		}
		if !set["database"] && os.Getenv("EOLWATCH_DATABASE") == "" && file.Database != "" {
			l.database = file.Database
		}
		if !set["data-dir"] && os.Getenv("EOLWATCH_DATA_DIR") == "" && file.DataDir != "" {
			l.dataDir = file.DataDir
		}
	}
	if l.database != "" {
		l.err = sqldb.CheckURL(l.database)
	}
	return l.err
}

// exists reports whether the store is there: the SQLite file in the data
// directory (a missing one is not created), or a valid PostgreSQL URL
// (open then connects). A bad config file or URL is reported by resolve.
func (l *storeLocation) exists() error {
	if err := l.resolve(); err != nil {
		return err
	}
	if l.database != "" {
		return nil
	}
	_, err := os.Stat(filepath.Join(l.dataDir, store.FileName))
	return err
}

// open opens the store.
func (l *storeLocation) open(ctx context.Context) (*store.Store, error) {
	if err := l.resolve(); err != nil {
		return nil, err
	}
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

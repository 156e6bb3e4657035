package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/store"
)

// listFlag is a repeatable string flag (--catalog a.yaml --catalog b.yaml).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

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

// dataDirFlag adds --data-dir with its EOLWATCH_DATA_DIR default.
func dataDirFlag(fs *flag.FlagSet) *string {
	def := os.Getenv("EOLWATCH_DATA_DIR")
	if def == "" {
		def = server.DefaultConfig().DataDir
	}
	return fs.String("data-dir", def, "data directory of the server (env EOLWATCH_DATA_DIR)")
}

// hasDatabase reports whether dir holds the server's database.
func hasDatabase(dir string) error {
	_, err := os.Stat(filepath.Join(dir, store.FileName))
	return err
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

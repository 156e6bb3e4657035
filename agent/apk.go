package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/eolwatch/eolwatch/server/api"
)

// apkInstalledPath is Alpine's database of installed packages.
const apkInstalledPath = "/lib/apk/db/installed"

// apkCollector reads Alpine's installed database directly.
type apkCollector struct{}

func (apkCollector) Name() string { return "apk" }

func (apkCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	f, err := openOptional(env, apkInstalledPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	items, err := parseAPKInstalled(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", apkInstalledPath, err)
	}
	// Where each package came from and what apk upgrade would install, from
	// the cached indexes: the items stand even when they cannot be read.
	if err := apkEnrich(ctx, env, items); err != nil {
		return items, fmt.Errorf("apk: %w", err)
	}
	return items, nil
}

// parseAPKInstalled parses apk's installed database: blank-line separated
// stanzas of "X:value" lines (P name, V version, A arch, o origin, T description).
func parseAPKInstalled(r io.Reader) ([]api.Item, error) {
	var items []api.Item
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	var it api.Item
	line, start := 0, 0
	flush := func() error {
		if it == (api.Item{Source: "apk"}) || it == (api.Item{}) {
			it = api.Item{}
			return nil
		}
		if it.Name == "" || it.Version == "" {
			return fmt.Errorf("line %d: package without P: or V:", start)
		}
		items = append(items, it)
		it = api.Item{}
		return nil
	}
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if it == (api.Item{}) {
			start = line
			it.Source = "apk"
		}
		if len(b) < 2 || b[1] != ':' {
			return nil, fmt.Errorf("line %d: %q is not a \"X:value\" line", line, truncate(string(b), 40))
		}
		switch b[0] {
		case 'P':
			it.Name = string(b[2:])
		case 'V':
			it.Version = string(b[2:])
		case 'A':
			it.Arch = string(b[2:])
		case 'T':
			it.Summary = string(b[2:])
		case 'o':
			it.SourcePkg = string(b[2:])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return items, nil
}

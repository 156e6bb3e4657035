package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// Collector reads one source of installed software (a package database, the
// Windows registry, application bundles, a probe). Collect is called once per
// inventory run, possibly concurrently with other collectors but never with
// itself; it must honour ctx and read every path through env so the agent can
// run against a fixture tree. A collector whose source does not exist on this
// host returns ErrAbsent, which is not reported as a failure.
type Collector interface {
	// Name is the collector's short, stable name (dpkg, rpm, os, probe:java).
	Name() string
	// Collect returns the items found, or an error describing why it could not.
	Collect(ctx context.Context, env *Env) ([]api.Item, error)
}

// ErrAbsent is returned by a collector whose source does not exist here
// (no rpm database on a Debian host, no /Applications on Linux).
var ErrAbsent = errors.New("source not present on this host")

// CommandRunner runs an external program and returns its standard output (and,
// when combined is true, its standard error too). Tests replace it with
// recorded output.
type CommandRunner func(ctx context.Context, combined bool, name string, args ...string) ([]byte, error)

// Env is what collectors read the host through: a re-rootable file system, a
// command runner and a logger.
type Env struct {
	// Root re-roots every absolute path a collector reads ("" or "/" is the
	// real root).
	Root string
	// Run runs external commands; nil means execCommand.
	Run CommandRunner
	// Log is the collector's logger; nil means slog.Default().
	Log *slog.Logger
	// CacheDir is where collectors may keep what is costly to recompute
	// (parsed package lists), keyed by what it was computed from. Empty, or
	// a directory that does not exist, disables caching: collectors never
	// create it.
	CacheDir string

	facts *hostFacts // host-level facts collectors learn during one run
}

// hostFacts gathers host-level facts collectors learn while collecting
// (collectors run concurrently, hence the lock).
type hostFacts struct {
	mu       sync.Mutex
	repoDate time.Time
}

// addRepoDate records a repository metadata date; the newest wins.
func (e *Env) addRepoDate(t time.Time) {
	if e == nil || e.facts == nil {
		return
	}
	e.facts.mu.Lock()
	if t.After(e.facts.repoDate) {
		e.facts.repoDate = t.UTC()
	}
	e.facts.mu.Unlock()
}

// withFacts returns a copy of e that gathers host facts for one run.
func (e *Env) withFacts() (*Env, *hostFacts) {
	c := Env{}
	if e != nil {
		c = *e
	}
	c.facts = &hostFacts{}
	return &c, c.facts
}

// Path maps an absolute host path into Root.
func (e *Env) Path(p string) string {
	if e == nil || e.Root == "" || e.Root == "/" {
		return p
	}
	return filepath.Join(e.Root, filepath.FromSlash(p))
}

// Open opens a host path through Root.
func (e *Env) Open(p string) (*os.File, error) { return os.Open(e.Path(p)) }

// Command runs a program through the configured runner.
func (e *Env) Command(ctx context.Context, combined bool, name string, args ...string) ([]byte, error) {
	if e != nil && e.Run != nil {
		return e.Run(ctx, combined, name, args...)
	}
	return execCommand(ctx, combined, name, args...)
}

func (e *Env) logger() *slog.Logger {
	if e == nil || e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

// maxCommandOutput bounds what the agent reads from any command.
const maxCommandOutput = 64 << 20

// execCommand is the real CommandRunner: it runs name with args, kills it
// when ctx ends, and bounds its output.
func execCommand(ctx context.Context, combined bool, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var out limitedBuffer
	out.max = maxCommandOutput
	cmd.Stdout = &out
	if combined {
		cmd.Stderr = &out
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.buf, fmt.Errorf("%s: %w", name, ctx.Err())
	}
	if err != nil {
		return out.buf, fmt.Errorf("%s: %w", name, err)
	}
	if out.over {
		return out.buf, fmt.Errorf("%s: output larger than %d bytes", name, out.max)
	}
	return out.buf, nil
}

type limitedBuffer struct {
	buf  []byte
	max  int
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	room := b.max - len(b.buf)
	if len(p) > room {
		b.over = true
		p = p[:max(room, 0)]
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// builtins holds the collectors built into this GOOS, filled by the
// collectors_<goos>.go files.
var builtins []Collector

// register adds built-in collectors; it is called from init functions only.
func register(cs ...Collector) { builtins = append(builtins, cs...) }

// BuiltinCollectors returns the names of the collectors compiled in for this
// operating system, in registration order.
func BuiltinCollectors() []string {
	names := make([]string, len(builtins))
	for i, c := range builtins {
		names[i] = c.Name()
	}
	return names
}

// collectResult is one collector's outcome.
type collectResult struct {
	name  string
	items []api.Item
	err   error
}

// RunCollectors runs every collector concurrently, each bounded by timeout,
// and returns the items (sorted canonically) and the failures. A collector
// that hangs past its timeout is abandoned and reported; it cannot stop the
// others.
func RunCollectors(ctx context.Context, env *Env, cs []Collector, timeout time.Duration) ([]api.Item, []api.CollectorError) {
	results := make([]collectResult, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = runOne(ctx, env, c, timeout)
		}()
	}
	wg.Wait()
	var items []api.Item
	var errs []api.CollectorError
	for _, r := range results {
		items = append(items, r.items...)
		if r.err != nil && !errors.Is(r.err, ErrAbsent) {
			env.logger().Warn("collector failed", "collector", r.name, "err", r.err)
			errs = append(errs, api.CollectorError{Collector: r.name, Error: r.err.Error()})
		}
	}
	SortItems(items)
	return items, errs
}

func runOne(ctx context.Context, env *Env, c Collector, timeout time.Duration) collectResult {
	name := c.Name()
	if timeout <= 0 {
		timeout = DefaultCollectorTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan collectResult, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- collectResult{name: name, err: fmt.Errorf("panic: %v", p)}
			}
		}()
		items, err := c.Collect(cctx, env)
		for i := range items {
			if items[i].Source == "" {
				items[i].Source = name
			}
		}
		done <- collectResult{name: name, items: items, err: err}
	}()
	select {
	case r := <-done:
		if r.err != nil && cctx.Err() != nil && !errors.Is(r.err, ErrAbsent) {
			r.err = fmt.Errorf("timed out after %s: %w", timeout, r.err)
		}
		return r
	case <-cctx.Done():
		return collectResult{name: name, err: fmt.Errorf("timed out after %s", timeout)}
	}
}

// SortItems orders items canonically (source, name, arch, version, then the
// remaining fields) so equal inventories hash equally.
func SortItems(items []api.Item) {
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Arch != b.Arch {
			return a.Arch < b.Arch
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Publisher != b.Publisher {
			return a.Publisher < b.Publisher
		}
		return a.BundleID < b.BundleID
	})
}

// openOptional opens a host path and maps "does not exist" to ErrAbsent.
func openOptional(env *Env, p string) (*os.File, error) {
	f, err := env.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrAbsent
	}
	return f, err
}

// readAllLimited reads r up to limit bytes and fails beyond it.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return b, nil
}

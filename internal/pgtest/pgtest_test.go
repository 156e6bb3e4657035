package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinDirMissing: binaries missing where EOLWATCH_PG_BINDIR points is
// ErrNoPostgres, whose message tells what to run.
func TestBinDirMissing(t *testing.T) {
	t.Setenv("EOLWATCH_PG_BINDIR", t.TempDir())
	_, err := BinDir()
	if !errors.Is(err, ErrNoPostgres) || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("BinDir with no binaries = %v; want ErrNoPostgres naming make deps", err)
	}
	dir := t.TempDir()
	for _, b := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, b), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("EOLWATCH_PG_BINDIR", dir)
	if got, err := BinDir(); err != nil || got != dir {
		t.Errorf("BinDir = %q, %v; want %q", got, err, dir)
	}
}

package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/eolwatch/eolwatch/"

// goList runs `go list -f format pkg` from the module root and returns the
// output's fields.
func goList(t *testing.T, format string, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-f", format}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.Fields(string(out))
}

// deps returns every package pkg links, itself included.
func deps(t *testing.T, pkg string) []string {
	return goList(t, `{{.ImportPath}} {{join .Deps " "}}`, pkg)
}

// imports returns the packages pkg imports directly (tests excluded).
func imports(t *testing.T, pkg string) []string {
	return goList(t, `{{join .Imports " "}}`, pkg)
}

func TestServerBinaryLeavesOutTheLoadGenerator(t *testing.T) {
	ds := deps(t, "./cmd/eolwatch-server")
	if !slices.Contains(ds, module+"server") {
		t.Fatalf("go list -deps ./cmd/eolwatch-server does not list the server package: %v", ds)
	}
	for _, d := range ds {
		if d == module+"server/loadtest" || strings.HasPrefix(d, module+"cmd/eolwatch-loadgen") {
			t.Errorf("the production server binary links %s; the load generator is cmd/eolwatch-loadgen", d)
		}
	}
	if ds := deps(t, "./cmd/eolwatch-loadgen"); !slices.Contains(ds, module+"server/loadtest") {
		t.Errorf("cmd/eolwatch-loadgen does not link server/loadtest: %v", ds)
	}
}

func TestServerRootHoldsNoCommandLine(t *testing.T) {
	if slices.Contains(imports(t, "./server"), "flag") {
		t.Error("package server imports flag: command-line parsing belongs in server/cli")
	}
	files, err := filepath.Glob("../../server/cmd_*.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) > 0 {
		t.Errorf("server/ still holds command files %v: they belong in server/cli", files)
	}
	if _, err := os.Stat("../../server/cli/cli.go"); err != nil {
		t.Errorf("server/cli/cli.go: %v", err)
	}
}

// mailPackages are the packages that send mail or render it.
var mailPackages = []string{module + "notifier", "net/smtp", "github.com/emersion/go-smtp"}

func TestStorageSendsNoMail(t *testing.T) {
	for _, pkg := range []string{"./server/store", "./server/catalogsvc", "./notifier/events", "./internal/migrate"} {
		for _, d := range deps(t, pkg) {
			if slices.Contains(mailPackages, d) {
				t.Errorf("%s links %s: storage writes events through notifier/events, never the mail code", pkg, d)
			}
		}
	}
}

func TestOneMigrationRunner(t *testing.T) {
	for _, pkg := range []string{"./server/store", "./notifier", "./server/catalogsvc"} {
		if !slices.Contains(imports(t, pkg), module+"internal/migrate") {
			t.Errorf("%s does not use internal/migrate for its schema", pkg)
		}
	}
}

func TestDashboardDependsOnItsInterfaces(t *testing.T) {
	for _, d := range deps(t, "./server/web") {
		switch d {
		case module + "server/store", module + "notifier", module + "server/catalogsvc", module + "server/service", "github.com/mattn/go-sqlite3":
			t.Errorf("server/web links %s: the dashboard depends on its own interfaces, wired by server/webdata", d)
		}
	}
	// Its unit tests run without cgo SQLite.
	for _, d := range goList(t, `{{join .Deps " "}}`, "-test", "./server/web") {
		if d == "github.com/mattn/go-sqlite3" {
			t.Error("the tests of server/web link go-sqlite3: the tests over the real store belong in server/webdata")
		}
	}
}

// sqlCalls are the calls that run a statement: database/sql's, and pgx's
// (a pgx.Tx or *pgx.Conn reached through sqldb.PgxConn or a CopyOptions
// hook runs SQL just the same).
var sqlCalls = []string{"ExecContext(", "QueryContext(", "QueryRowContext(", "PrepareContext(", "BeginTx(",
	".Exec(ctx", ".Query(ctx", ".QueryRow(ctx", ".CopyFrom(", ".SendBatch("}

// TestSQLSitsBesideStoreMethods checks that statements run only in the
// storage files: every other file decides, renders or serves.
func TestSQLSitsBesideStoreMethods(t *testing.T) {
	allowed := map[string]func(file string) bool{
		module + "server/store":       func(string) bool { return true },
		module + "server/catalogsvc":  func(f string) bool { return f == "sqlstore.go" },
		module + "notifier":           func(f string) bool { return strings.HasPrefix(f, "store") },
		module + "notifier/events":    func(f string) bool { return f == "events.go" },
		module + "internal/migrate":   func(string) bool { return true },
		module + "internal/sqldb":     func(string) bool { return true },   // the engines' database/sql layer
		module + "internal/pgtest":    func(string) bool { return true },   // the test clusters
		module + "internal/jobs":      func(string) bool { return true },   // the job leases' table
		module + "internal/ratelimit": func(f string) bool { return true }, // the shared rate limits' table
	}
	// One line per package: import path, directory, Go files.
	lines := goList(t, `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles "|"}}`, "./server/...", "./notifier/...", "./internal/...", "./cmd/...")
	for _, line := range lines {
		parts := strings.Split(line, "|")
		pkg, dir, files := parts[0], parts[1], parts[2:]
		ok := allowed[pkg]
		for _, f := range files {
			if f == "" || (ok != nil && ok(f)) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			for _, call := range sqlCalls {
				if strings.Contains(string(b), call) {
					t.Errorf("%s/%s runs SQL (%s): statements belong beside the store methods", pkg, f, strings.TrimSuffix(call, "("))
				}
			}
		}
	}
}

// TestReadmeShowsTheLayers reads the server's layers from README.md's
// layout table (the indented rows under server/, top to bottom) and checks
// that every server package is in one of them and imports server packages
// only of its own row or the rows below it, and that the internal/ row
// names every internal package: the table is the architecture, so it must
// stay true.
func TestReadmeShowsTheLayers(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(b), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no ## Layout section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	layer := map[string]int{} // package path → its row, counted from the top
	rows := 0
	var internalRow string
	for _, line := range strings.Split(layout, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 3 {
			continue
		}
		first := cells[1]
		if strings.TrimSpace(first) == "`internal/`" {
			internalRow = cells[2]
		}
		if !strings.Contains(first, "&nbsp;") {
			continue
		}
		rows++
		for _, tok := range strings.Split(first, "`")[1:] {
			if strings.HasPrefix(tok, "server") && !strings.ContainsAny(tok, " ,&;") {
				layer[module+tok] = rows
			}
		}
	}
	if len(layer) == 0 {
		t.Fatal("README.md's layout table lists no server layers (indented rows under server/)")
	}
	for _, line := range goList(t, `{{.ImportPath}}|{{join .Imports "|"}}`, "./server/...") {
		parts := strings.Split(line, "|")
		pkg, imps := parts[0], parts[1:]
		at, ok := layer[pkg]
		if !ok {
			t.Errorf("README.md's layout table does not show %s in a server layer", strings.TrimPrefix(pkg, module))
			continue
		}
		for _, imp := range imps {
			if below, ok := layer[imp]; ok && below < at {
				t.Errorf("%s imports %s, a layer above it in README.md's layout table", strings.TrimPrefix(pkg, module), strings.TrimPrefix(imp, module))
			}
		}
	}
	for _, dir := range goList(t, `{{.Dir}}`, "./internal/...") {
		if name := filepath.Base(dir); !strings.Contains(internalRow, "`"+name+"`") {
			t.Errorf("README.md's internal/ row does not name internal/%s", name)
		}
	}
}

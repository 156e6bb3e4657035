package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

// TestEveryStoreCommandOnPostgres: every family of commands that opens the
// store (token, group, subscription, outbox, customer, ticket,
// eligibility) acts on the PostgreSQL database that --database,
// EOLWATCH_DATABASE or database: in the config file names, never on the
// SQLite database in the data directory beside it, which holds things of
// its own a command reading it would show. A flag wins over the
// environment, which wins over the file; a bad URL or file is an error.
func TestEveryStoreCommandOnPostgres(t *testing.T) {
	ctx := context.Background()
	for _, env := range []string{"EOLWATCH_DATABASE", "EOLWATCH_CONFIG", "EOLWATCH_DATA_DIR"} {
		t.Setenv(env, "")
	}
	url := pgtest.URL(t)
	dir := t.TempDir()

	// The SQLite database in the data directory: a token, a group with a
	// subscriber (and its confirmation mail), a customer.
	sq, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := sq.CreateToken(ctx, "admin", "sqlite-token"); err != nil {
		t.Fatal(err)
	}
	sqN := openNotifierOn(t, sq)
	if _, err := sqN.CreateGroup(ctx, notifier.Group{Name: "sqlite-group", Products: []string{"nginx"}, Events: []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	if err := sqN.Subscribe(ctx, "sqlite-group", "someone@sqlite.example"); err != nil {
		t.Fatal(err)
	}
	sq.Close()
	if _, stderr, err := cliRun(t, "customer", "create", "--data-dir", dir, "--name", "SqliteCo", "--tier", "standard", "--contract-start", "2025-01-01",
		"--contract-end", "2099-12-31", "--timezone", "UTC", "--contact", "it@sqliteco.example"); err != nil {
		t.Fatalf("customer create on SQLite: %v\n%s", err, stderr)
	}
	// PostgreSQL: a host and a release published through the API, which
	// only a command reading PostgreSQL knows.
	pg, err := store.OpenPostgres(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := pg.Enroll(ctx, api.HostInfo{InstallID: "pg-install-1", Hostname: "pg-host-1", OSID: "debian", OSVersion: "12"}); err != nil {
		t.Fatal(err)
	}
	openNotifierOn(t, pg)
	if err := catalogsvc.Migrate(ctx, pg.DB()); err != nil {
		t.Fatal(err)
	}
	cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(pg.DB()), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cats.Publish(ctx, catalogsvc.Release{Product: "python", Cycle: "3.12", Version: "3.12.96", Date: "2026-01-10"}); err != nil {
		t.Fatal(err)
	}
	pg.Close()

	config := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(config, []byte("listen: 127.0.0.1:0\ndata_dir: "+dir+"\ndatabase: "+url+"\nenroll_secret: s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// ways run a command with the database named by a flag, by the
	// environment, or by the config file; the data directory is always
	// the SQLite one. The location's flags go after the command's words
	// (eligibility has one, the others two), before its own flags.
	withFlags := func(args []string, loc ...string) []string {
		n := 2
		if args[0] == "eligibility" {
			n = 1
		}
		return append(append(append([]string{}, args[:n]...), loc...), args[n:]...)
	}
	ways := []struct {
		name string
		run  func(t *testing.T, args ...string) (string, string, error)
	}{
		{"--database", func(t *testing.T, args ...string) (string, string, error) {
			return cliRun(t, withFlags(args, "--data-dir", dir, "--database", url)...)
		}},
		{"EOLWATCH_DATABASE", func(t *testing.T, args ...string) (string, string, error) {
			t.Setenv("EOLWATCH_DATABASE", url)
			defer os.Setenv("EOLWATCH_DATABASE", "")
			return cliRun(t, withFlags(args, "--data-dir", dir)...)
		}},
		{"config database:", func(t *testing.T, args ...string) (string, string, error) {
			return cliRun(t, withFlags(args, "--config", config)...)
		}},
		{"EOLWATCH_CONFIG", func(t *testing.T, args ...string) (string, string, error) {
			t.Setenv("EOLWATCH_CONFIG", config)
			defer os.Setenv("EOLWATCH_CONFIG", "")
			return cliRun(t, args...)
		}},
	}
	way := func(i int) func(t *testing.T, args ...string) (string, string, error) { return ways[i%len(ways)].run }
	// check runs a read-only command every way: each must show what
	// PostgreSQL holds (want) and nothing of SQLite's (not).
	check := func(t *testing.T, args []string, want, not string) {
		t.Helper()
		for _, w := range ways {
			out, stderr, err := w.run(t, args...)
			if err != nil || !strings.Contains(out+stderr, want) || (not != "" && strings.Contains(out+stderr, not)) {
				t.Errorf("%s with %s = %v\n%s%s\nwant %q and not %q", strings.Join(args, " "), w.name, err, out, stderr, want, not)
			}
		}
	}

	t.Run("token", func(t *testing.T) {
		for i := range ways {
			if tok, stderr, err := way(i)(t, "token", "create", "--role", "viewer", "--name", "pg-"+ways[i].name); err != nil || !strings.HasPrefix(tok, "ewt_") {
				t.Fatalf("token create with %s: %q %v\n%s", ways[i].name, tok, err, stderr)
			}
		}
		check(t, []string{"token", "list"}, "pg-config database:", "sqlite-token")
		out, _, _ := cliRun(t, "token", "list", "--database", url)
		id := strings.Fields(strings.Split(out, "\n")[1])[0]
		if _, _, err := way(2)(t, "token", "revoke", id); err != nil {
			t.Fatalf("token revoke: %v", err)
		}
		out, _, _ = cliRun(t, "token", "list", "--database", url)
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) > 6 && f[0] == id && f[5] == "-" {
				t.Errorf("token revoke through the config file did not revoke %s in PostgreSQL:\n%s", id, out)
			}
		}
	})
	t.Run("group subscription outbox", func(t *testing.T) {
		if _, stderr, err := way(1)(t, "group", "create", "--name", "pg-group", "--product", "python", "--events", "release"); err != nil {
			t.Fatalf("group create: %v\n%s", err, stderr)
		}
		check(t, []string{"group", "list"}, "pg-group", "sqlite-group")
		pg, err := store.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		if err := openNotifierOn(t, pg).Subscribe(ctx, "pg-group", "ops@pg.example"); err != nil {
			t.Fatal(err)
		}
		check(t, []string{"subscription", "list"}, "ops@pg.example", "sqlite.example")
		check(t, []string{"outbox", "list"}, "ops@pg.example", "sqlite.example")
		if _, _, err := way(3)(t, "group", "create", "--name", "pg-doomed", "--product", "nginx", "--events", "eol"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := way(2)(t, "group", "delete", "pg-doomed"); err != nil {
			t.Fatalf("group delete: %v", err)
		}
		check(t, []string{"group", "list"}, "pg-group", "pg-doomed")
	})
	t.Run("customer ticket", func(t *testing.T) {
		if _, stderr, err := way(2)(t, "customer", "create", "--name", "PgCo", "--tier", "premium", "--contract-start", "2025-01-01",
			"--contract-end", "2099-12-31", "--timezone", "UTC", "--contact", "it@pgco.example"); err != nil {
			t.Fatalf("customer create: %v\n%s", err, stderr)
		}
		if _, _, err := way(3)(t, "customer", "create", "--name", "Doomed", "--tier", "standard", "--contract-start", "2025-01-01",
			"--contract-end", "2099-12-31", "--timezone", "UTC", "--contact", "it@doomed.example"); err != nil {
			t.Fatal(err)
		}
		if _, stderr, err := way(0)(t, "customer", "update", "pgco", "--tier", "enterprise"); err != nil {
			t.Fatalf("customer update: %v\n%s", err, stderr)
		}
		if _, stderr, err := way(1)(t, "customer", "delete", "doomed"); err != nil {
			t.Fatalf("customer delete: %v\n%s", err, stderr)
		}
		check(t, []string{"customer", "list"}, "enterprise", "SqliteCo")
		check(t, []string{"customer", "list"}, "PgCo", "Doomed")
		check(t, []string{"ticket", "check", "--customer", "pgco", "--product", "python", "--version", "2.7.18", "--severity", "3",
			"--at", "2026-03-07T22:00:00Z"}, "REFUSE: severity 3", "")
	})
	t.Run("eligibility", func(t *testing.T) {
		// The host and the published release are PostgreSQL's alone: the
		// host is found (it has reported nothing yet), and python 3.12's
		// latest patch is the published one.
		for _, w := range ways {
			_, _, err := w.run(t, "eligibility", "--host", "pg-host-1", "--product", "debian")
			if err == nil || !strings.Contains(err.Error(), "not installed on host pg-host-1") {
				t.Errorf("eligibility --host pg-host-1 with %s = %v; want the PostgreSQL host found, without debian", w.name, err)
			}
		}
		check(t, []string{"eligibility", "--product", "python", "--version", "3.12.14"}, "latest 3.12.96", "")
		if out, _, err := cliRun(t, "eligibility", "--data-dir", dir, "--product", "python", "--version", "3.12.14"); err != nil ||
			strings.Contains(out, "3.12.96") {
			t.Errorf("the same question on SQLite, where 3.12.96 was never published = %v\n%s", err, out)
		}
	})
	t.Run("precedence and bad settings", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(bad, []byte("database: postgres://u:hunter2@127.0.0.1:1/none?connect_timeout=1\n"), 0o600)
		// The flag and the environment win over the file's unreachable database.
		if out, _, err := cliRun(t, "token", "list", "--config", bad, "--database", url); err != nil || !strings.Contains(out, "pg-") {
			t.Errorf("--database over the file: %v\n%s", err, out)
		}
		t.Setenv("EOLWATCH_DATABASE", url)
		if out, _, err := cliRun(t, "token", "list", "--config", bad); err != nil || !strings.Contains(out, "pg-") {
			t.Errorf("EOLWATCH_DATABASE over the file: %v\n%s", err, out)
		}
		t.Setenv("EOLWATCH_DATABASE", "")
		if _, _, err := cliRun(t, "token", "list", "--config", bad); err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the file's unreachable database: %v; want an error without its password", err)
		}
		for _, args := range [][]string{
			{"eligibility", "--database", "mysql://u:hunter2@db/x", "--product", "python", "--version", "3.12.1"},
			{"eligibility", "--config", filepath.Join(t.TempDir(), "missing.yaml"), "--product", "python", "--version", "3.12.1"},
			{"group", "list", "--config", bad + ".missing"},
		} {
			if _, _, err := cliRun(t, args...); err == nil || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%v: err = %v; want an error (not an answer from elsewhere), without the password", args, err)
			}
		}
	})
}

// openNotifierOn is a notifier on st (no SMTP).
func openNotifierOn(t *testing.T, st *store.Store) *notifier.Service {
	t.Helper()
	ctx := context.Background()
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	n, err := notifier.New(ctx, st.DB(), st.Reader(), notifier.Config{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

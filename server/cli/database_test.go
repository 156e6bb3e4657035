package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/server/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestServeDatabaseSetting: --database, EOLWATCH_DATABASE and database: in
// the config file select PostgreSQL, with the usual precedence; a URL of
// another kind is refused naming the setting, without its password.
func TestServeDatabaseSetting(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.yaml")
	os.WriteFile(file, []byte("database: postgres://eolwatch@db.example/file\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"none: SQLite", nil, nil, ""},
		{"file", nil, map[string]string{"EOLWATCH_CONFIG": file}, "postgres://eolwatch@db.example/file"},
		{"env over file", nil, map[string]string{"EOLWATCH_CONFIG": file, "EOLWATCH_DATABASE": "postgres://e@db/env"}, "postgres://e@db/env"},
		{"flag over env", []string{"--database", "postgresql://f@db/flag"}, map[string]string{"EOLWATCH_DATABASE": "postgres://e@db/env"}, "postgresql://f@db/flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseServeConfig(tc.args, func(k string) string { return tc.env[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database != tc.want {
				t.Errorf("Database = %q, want %q", cfg.Database, tc.want)
			}
		})
	}
	_, err := ParseServeConfig([]string{"--database", "mysql://root:hunter2@db/x"}, func(string) string { return "" }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a MySQL URL: err = %v, want a refusal naming postgres:// and hiding the password", err)
	}
}

// TestStoreCommandsOnPostgres: the commands that open the store take
// --database (or EOLWATCH_DATABASE) and then work on PostgreSQL, leaving
// --data-dir alone.
func TestStoreCommandsOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	dir := t.TempDir() // must stay empty
	tok, stderr, err := cliRun(t, "token", "create", "--database", url, "--data-dir", dir, "--role", "admin", "--name", "ops")
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, stderr)
	}
	tok = strings.TrimSpace(tok)
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	role, err := st.Authenticate(context.Background(), tok)
	st.Close()
	if err != nil || role.Role != "admin" {
		t.Errorf("the token made with --database authenticates as %q, %v; want admin in PostgreSQL", role, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("--data-dir got %d files, want none with --database", len(entries))
	}
	t.Setenv("EOLWATCH_DATABASE", url)
	out, _, err := cliRun(t, "token", "list")
	if err != nil || !strings.Contains(out, "ops") {
		t.Errorf("token list with EOLWATCH_DATABASE = %q, %v; want the token made before", out, err)
	}
	if _, _, err := cliRun(t, "group", "create", "--name", "web", "--product", "nginx", "--events", "release"); err != nil {
		t.Fatalf("group create: %v", err)
	}
	if out, _, err := cliRun(t, "group", "list"); err != nil || !strings.Contains(out, "web") {
		t.Errorf("group list = %q, %v", out, err)
	}
	if _, stderr, err := cliRun(t, "outbox", "list"); err != nil || !strings.Contains(stderr, "pending 0") {
		t.Errorf("outbox list: %q, %v", stderr, err)
	}
	if _, stderr, err := cliRun(t, "customer", "create", "--name", "Acme", "--tier", "standard", "--contract-start", "2025-01-01",
		"--contract-end", "2099-12-31", "--timezone", "UTC", "--contact", "ops@acme.example"); err != nil {
		t.Fatalf("customer create: %v\n%s", err, stderr)
	}
	if out, _, err := cliRun(t, "customer", "list"); err != nil || !strings.Contains(out, "Acme") {
		t.Errorf("customer list = %q, %v", out, err)
	}
	if _, stderr, err := cliRun(t, "subscription", "list", "--group", "web"); err != nil || !strings.Contains(stderr, "0 of 0 subscriptions") {
		t.Errorf("subscription list: %q, %v", stderr, err)
	}
	if out, _, err := cliRun(t, "ticket", "check", "--customer", "acme", "--product", "python", "--version", "2.7.18", "--severity", "3",
		"--at", "2026-03-07T22:00:00Z"); err != nil || !strings.HasPrefix(out, "REFUSE: severity 3") {
		t.Errorf("ticket check on PostgreSQL = %v\n%s", err, out)
	}
	if tok, stderr, err := cliRun(t, "token", "create", "--role", "viewer", "--customer", "Acme", "--name", "acme it"); err != nil ||
		!strings.HasPrefix(tok, "ewt_") || !strings.Contains(stderr, "limited to customer Acme") {
		t.Errorf("token create --customer on PostgreSQL = %q, %v (%s)", tok, err, stderr)
	}
	if _, _, err := cliRun(t, "eligibility", "--host", "nope", "--product", "python"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("eligibility --host on PostgreSQL: %v, want the unknown host named", err)
	}
	if _, _, err := cliRun(t, "token", "list", "--database", "postgres://u:pw@127.0.0.1:1/none?connect_timeout=2"); err == nil || strings.Contains(err.Error(), ":pw@") {
		t.Errorf("an unreachable database: err = %v, want an error without the password", err)
	}
}

// TestServeOutboxSettings: --smtp-timeout and --outbox-lease reach the
// configuration, and a lease too short for one SMTP step is refused.
func TestServeOutboxSettings(t *testing.T) {
	none := func(string) string { return "" }
	cfg, err := ParseServeConfig([]string{"--smtp-timeout", "2s", "--outbox-lease", "1m"}, none, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPTimeout.String() != "2s" || cfg.OutboxLease.String() != "1m0s" {
		t.Errorf("smtp timeout %v, outbox lease %v; want 2s and 1m", cfg.SMTPTimeout, cfg.OutboxLease)
	}
	// A dead server's mail is sent by another within a minute by default
	// (issue 13): the lease is renewed while a live server sends.
	if cfg, _ := ParseServeConfig(nil, none, &bytes.Buffer{}); cfg.OutboxLease.String() != "45s" || cfg.SMTPTimeout.String() != "30s" {
		t.Errorf("defaults: lease %v, timeout %v; want 45s and 30s", cfg.OutboxLease, cfg.SMTPTimeout)
	}
	_, err = ParseServeConfig([]string{"--outbox-lease", "2s"}, none, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "outbox-lease") {
		t.Errorf("a lease of 2s: err = %v, want one naming outbox-lease", err)
	}
}

// TestMigrateSettings: migrate takes the PostgreSQL URL from --database or
// EOLWATCH_DATABASE, refuses to run without one or with another kind of
// URL (without showing its password), and moves the data directory into
// the database the environment names.
func TestMigrateSettings(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("EOLWATCH_DATABASE", "")
	tok, _, err := cliRun(t, "token", "create", "--data-dir", dir, "--role", "admin", "--name", "before the move")
	if err != nil {
		t.Fatal(err)
	}
	tok = strings.TrimSpace(tok)
	_, _, err = cliRun(t, "migrate", "--from-data-dir", dir)
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "--database") {
		t.Errorf("migrate without a database: %v (exit %d), want a usage error naming --database", err, ExitCode(err))
	}
	t.Setenv("EOLWATCH_DATABASE", "mysql://root:hunter2@db/x")
	_, _, err = cliRun(t, "migrate", "--from-data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("migrate to a MySQL URL from the environment: %v, want a refusal naming postgres:// without the password", err)
	}
	url := pgtest.URL(t)
	// The config file's database: where neither the flag nor the
	// environment names one (this one is refused before anything moves).
	t.Setenv("EOLWATCH_DATABASE", "")
	config := filepath.Join(t.TempDir(), "server.yaml")
	os.WriteFile(config, []byte("database: postgresql://u:hunter2@127.0.0.1:1/none?connect_timeout=1\n"), 0o600)
	if _, _, err := cliRun(t, "migrate", "--from-data-dir", dir, "--config", config); err == nil || strings.Contains(err.Error(), "hunter2") ||
		!strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("migrate to the config file's unreachable database: %v; want it tried, named without the password", err)
	}
	t.Setenv("EOLWATCH_DATABASE", url)
	out, stderr, err := cliRun(t, "migrate", "--from-data-dir", dir, "--config", config)
	if err != nil || !strings.Contains(out, "tokens") || !strings.Contains(stderr, "moved") {
		t.Fatalf("migrate with EOLWATCH_DATABASE: %v\n%s%s", err, out, stderr)
	}
	st, err := store.OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if p, err := st.Authenticate(context.Background(), tok); err != nil || p.Role != "admin" {
		t.Errorf("the SQLite token on PostgreSQL after the move: %+v, %v; want admin", p, err)
	}
}

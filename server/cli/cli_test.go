package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseServeConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:1111\ndata_dir: /from/file\nenroll_secret: file-secret-0Tq7zL4wKx\nsmtp_addr: mail:25\ngrace_days: 10\ncatalog: [a.yaml]\n"), 0o600)
	env := map[string]string{"EOLWATCH_CONFIG": file, "EOLWATCH_DATA_DIR": "/from/env", "EOLWATCH_ENROLL_SECRET": "env-secret-9Vb2mR6pNc"}
	getenv := func(k string) string { return env[k] }
	cfg, err := ParseServeConfig([]string{"--enroll-secret", "flag-secret-3Hs8dY1uJe", "--catalog", "b.yaml", "--catalog", "c.yaml"}, getenv, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, got, want string }{
		{"listen (file)", cfg.Listen, "127.0.0.1:1111"},
		{"data dir (env over file)", cfg.DataDir, "/from/env"},
		{"enroll secret (flag over env)", cfg.EnrollSecret, "flag-secret-3Hs8dY1uJe"},
		{"smtp addr (file)", cfg.SMTPAddr, "mail:25"},
		{"smtp tls (default)", cfg.SMTPTLS, "starttls"},
		{"catalogs (flags)", strings.Join(cfg.Catalogs, ","), "b.yaml,c.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
			}
		})
	}
	if cfg.GraceDays != 10 || cfg.WarnDays != 90 {
		t.Errorf("grace/warn days = %d/%d, want 10/90", cfg.GraceDays, cfg.WarnDays)
	}
	for _, tc := range []struct {
		name string
		args []string
		yaml string
		want string
	}{
		{"unknown yaml key", nil, "listen: x\nlisten_port: 1\n", "listen_port"},
		{"bad smtp tls", []string{"--smtp-tls", "ssl"}, "", "smtp-tls"},
		{"tls cert without key", []string{"--tls-cert", "c.pem"}, "", "tls-key"},
		{"bad log level", []string{"--log-level", "loud"}, "", "log-level"},
		{"stray argument", []string{"extra"}, "", "extra"},
		{"unknown flag", []string{"--colour"}, "", "colour"},
		{"report budget below one report", []string{"--report-budget-mib", "16"}, "", "report-budget-mib"},
		// issue 13, item 12: a config file without settings is a mistake, not the defaults.
		{"empty config file", nil, "\x00", "no settings"},
		{"whitespace-only config file", nil, " \n\t\n", "no settings"},
		{"comments-only config file", nil, "# listen: 0.0.0.0:8480\n", "no settings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ""
			if tc.yaml != "" {
				f = filepath.Join(dir, "bad.yaml")
				os.WriteFile(f, []byte(strings.TrimPrefix(tc.yaml, "\x00")), 0o600) // "\x00" alone: a 0-byte file
			}
			_, err := ParseServeConfig(tc.args, func(k string) string {
				if k == "EOLWATCH_CONFIG" {
					return f
				}
				return ""
			}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: err = %v, want one naming %q", tc.name, err, tc.want)
			}
		})
	}
}

// TestServeRefusesWeakEnrollSecret: the enroll secret is checked before
// the failure limiter (a correct one always gets in), so only its length
// and variety keep guessing infeasible: serve refuses a weak one from the
// flag, the environment and the config file alike, naming the setting and
// how to generate a good one.
func TestServeRefusesWeakEnrollSecret(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, flag, env, file, want string }{
		{"short flag", "s3cret", "", "", "6 characters"},
		{"short env", "", "bomb-secret", "", "11 characters"},
		{"short file", "", "", "hunter2", "7 characters"},
		{"one character repeated", "aaaaaaaaaaaaaaaaaaaaaaaa", "", "", "different characters"},
		{"a run", "", "0123456789abcdefghij", "", "run"},
		{"a word repeated", "", "", "Secret42Secret42Secret42", "repeats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.flag != "" {
				args = []string{"--enroll-secret", tc.flag}
			}
			f := ""
			if tc.file != "" {
				f = filepath.Join(dir, "server.yaml")
				os.WriteFile(f, []byte("enroll_secret: "+tc.file+"\n"), 0o600)
			}
			_, err := ParseServeConfig(args, func(k string) string {
				switch k {
				case "EOLWATCH_CONFIG":
					return f
				case "EOLWATCH_ENROLL_SECRET":
					return tc.env
				}
				return ""
			}, &bytes.Buffer{})
			if err == nil {
				t.Fatal("a weak enroll secret was accepted")
			}
			for _, want := range []string{"enroll-secret", tc.want, "openssl rand -base64 24"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %v, want it to name %q", err, want)
				}
			}
			if strings.Contains(err.Error(), tc.flag+tc.env+tc.file) {
				t.Errorf("err = %v: it repeats the secret", err)
			}
		})
	}
}

// TestServeHardeningSettings: the settings issue 13 added come from flags,
// the environment and the config file like every other.
func TestServeHardeningSettings(t *testing.T) {
	cfg, err := ParseServeConfig([]string{"--report-budget-mib", "512"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil || cfg.ReportBudgetMiB != 512 {
		t.Errorf("--report-budget-mib 512: %d, %v", cfg.ReportBudgetMiB, err)
	}
	cfg, err = ParseServeConfig(nil, func(k string) string { return map[string]string{"EOLWATCH_REPORT_BUDGET_MIB": "300"}[k] }, &bytes.Buffer{})
	if err != nil || cfg.ReportBudgetMiB != 300 {
		t.Errorf("EOLWATCH_REPORT_BUDGET_MIB=300: %d, %v", cfg.ReportBudgetMiB, err)
	}
	// Trusted proxies: a YAML list, EOLWATCH_TRUSTED_PROXIES and the flag
	// (comma-separated), each replacing the one before.
	dir := t.TempDir()
	file := filepath.Join(dir, "s.yaml")
	os.WriteFile(file, []byte("trusted_proxies: [10.0.0.0/8, 192.0.2.1]\n"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"file", nil, map[string]string{"EOLWATCH_CONFIG": file}, "10.0.0.0/8,192.0.2.1"},
		{"env over file", nil, map[string]string{"EOLWATCH_CONFIG": file, "EOLWATCH_TRUSTED_PROXIES": "172.16.0.0/12, ::1"}, "172.16.0.0/12,::1"},
		{"flag over env", []string{"--trusted-proxies", "127.0.0.1/32"}, map[string]string{"EOLWATCH_TRUSTED_PROXIES": "172.16.0.0/12"}, "127.0.0.1/32"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseServeConfig(tc.args, func(k string) string { return tc.env[k] }, &bytes.Buffer{})
			if got := strings.Join(cfg.TrustedProxies, ","); err != nil || got != tc.want {
				t.Errorf("trusted proxies = %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	cfg, err = ParseServeConfig([]string{"--webhook-allow", "hooks.internal, 10.20.0.0/16"}, func(string) string { return "" }, &bytes.Buffer{})
	if got := strings.Join(cfg.WebhookAllow, ","); err != nil || got != "hooks.internal,10.20.0.0/16" {
		t.Errorf("--webhook-allow = %q, %v", got, err)
	}
	if _, err := ParseServeConfig([]string{"--trusted-proxies", "10.0.0.0/40"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil ||
		!strings.Contains(err.Error(), "trusted-proxies") {
		t.Errorf("a bad CIDR: %v, want an error naming trusted-proxies", err)
	}
}

func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	run := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		err := Main(ctx, args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String(), err
	}
	tok, err := run("token", "create", "--data-dir", dir, "--role", "viewer", "--name", "grafana")
	if err != nil {
		t.Fatal(err)
	}
	tok = strings.TrimSuffix(tok, "\n")
	if !strings.HasPrefix(tok, "ewt_") || strings.ContainsAny(tok, " \n") {
		t.Errorf("token create printed %q, want the token alone", tok)
	}
	list, err := run("token", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(list, "viewer") || !strings.Contains(list, "grafana") || strings.Contains(list, tok) {
		t.Errorf("token list = %q, %v; want the token's id and role, never the secret", list, err)
	}
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if _, err := run("token", "revoke", "--data-dir", dir, id); err != nil {
		t.Errorf("token revoke: %v", err)
	}
	if _, err := run("token", "revoke", "--data-dir", dir, "nope"); err == nil {
		t.Error("token revoke of an unknown id succeeded")
	}
	// Given the token itself (a leaked one whose id nobody noted), revoke
	// revokes it, and an unknown one is refused without printing it back.
	leaked, err := run("token", "create", "--data-dir", dir, "--role", "support", "--name", "leaked")
	if err != nil {
		t.Fatal(err)
	}
	leaked = strings.TrimSpace(leaked)
	if _, err := run("token", "revoke", "--data-dir", dir, leaked); err != nil {
		t.Errorf("token revoke TOKEN: %v", err)
	}
	list, _ = run("token", "list", "--data-dir", dir)
	for _, line := range strings.Split(list, "\n") {
		// ID ROLE CUSTOMER CREATED(date time) REVOKED NAME
		if f := strings.Fields(line); len(f) > 5 && f[len(f)-1] == "leaked" && f[5] == "-" {
			t.Errorf("token revoke TOKEN left it unrevoked:\n%s", list)
		}
	}
	for _, secret := range []string{leaked, "ewt_0123456789abcdef0123456789abcdef0123456789abcdef"} {
		_, err := run("token", "revoke", "--data-dir", dir, secret)
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "unknown or already revoked") {
			t.Errorf("token revoke of a revoked or unknown token = %v; want an error that does not print it", err)
		}
	}
	for _, args := range [][]string{{"token"}, {"token", "create", "--data-dir", dir, "--role", "root"}, {"token", "bogus"}} {
		if _, err := run(args...); err == nil || ExitCode(err) != 2 {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestEligibilityCommand(t *testing.T) {
	var out bytes.Buffer
	err := Main(context.Background(), []string{"eligibility", "--data-dir", t.TempDir(), "--product", "python", "--version", "3.8.10"},
		Stdio{Out: &out, Err: &bytes.Buffer{}})
	if err != nil || !strings.HasPrefix(out.String(), "NOT ELIGIBLE: python 3.8.10") || !strings.Contains(out.String(), "upgrade to:") ||
		!strings.Contains(out.String(), "end of life: 2024-10-07 (") || !strings.Contains(out.String(), " days ago)\n") {
		t.Errorf("eligibility python 3.8.10 = %v\n%s", err, out.String())
	}
	for d, want := range map[int]string{577: "in 577 days", 1: "tomorrow", 0: "today", -1: "yesterday", -785: "785 days ago"} {
		if got := daysFromNow(d); got != want {
			t.Errorf("daysFromNow(%d) = %q, want %q", d, got, want)
		}
	}
	for _, args := range [][]string{{"eligibility", "--product", "python"}, {"eligibility", "--version", "1"}, {"eligibility", "--product", "p", "--version", "1", "--host", "h"}} {
		if err := Main(context.Background(), args, Stdio{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}); ExitCode(err) != 2 {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	err = Main(context.Background(), []string{"eligibility", "--data-dir", t.TempDir(), "--host", "h", "--product", "p"}, Stdio{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("eligibility --host without a database: %v", err)
	}
}

// TestHelp checks every way of asking for help: "help", "help COMMAND",
// "COMMAND -h" and "COMMAND SUBCOMMAND -h" succeed, print a usage, and run
// nothing (no data directory is made); a bad flag stays a usage error.
func TestHelp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name string
		args []string
		want string // in stdout or stderr
	}{
		{"help", []string{"help"}, "usage: eolwatch-server COMMAND"},
		{"--help", []string{"--help"}, "usage: eolwatch-server COMMAND"},
		{"help token", []string{"help", "token"}, "subcommands: create, list, revoke"},
		{"token --help", []string{"token", "--help"}, "subcommands: create, list, revoke"},
		{"customer -h", []string{"customer", "-h"}, "subcommands: create, list, update, delete"},
		{"ticket help", []string{"ticket", "help"}, "subcommands: check"},
		{"group -h", []string{"group", "-h"}, "subcommands: create, list, delete"},
		{"subscription -h", []string{"subscription", "-h"}, "subcommands: list"},
		{"outbox -h", []string{"outbox", "-h"}, "subcommands: list"},
		{"token create -h", []string{"token", "create", "--data-dir", dir, "-h"}, "-role string"},
		{"customer create -h", []string{"customer", "create", "--data-dir", dir, "-h"}, "-contract-start"},
		{"ticket check -h", []string{"ticket", "check", "--data-dir", dir, "-h"}, "-severity"},
		{"group create -h", []string{"group", "create", "--data-dir", dir, "-h"}, "-events"},
		{"outbox list -h", []string{"outbox", "list", "--data-dir", dir, "-h"}, "-state"},
		{"eligibility -h", []string{"eligibility", "-h"}, "-product string"},
		{"help eligibility", []string{"help", "eligibility"}, "-product string"},
		{"serve -h", []string{"serve", "-h"}, "-enroll-secret"},
		{"migrate -h", []string{"migrate", "-h"}, "-from-data-dir"},
		{"help catalog", []string{"help", "catalog"}, "usage: eolwatch-server catalog"},
		{"catalog evaluate -h", []string{"catalog", "evaluate", "-h"}, "Usage of catalog evaluate"},
		{"match explain -h", []string{"match", "explain", "-h"}, "match explain [flags]"},
		{"match -h", []string{"match", "-h"}, "flags:\n  -all"},
		{"sbom check -h", []string{"sbom", "check", "-h"}, "-fail-on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := Main(context.Background(), tc.args, Stdio{In: strings.NewReader(`{"product":"python","version":"3.8.10"}`), Out: &out, Err: &errb})
			if err != nil || !strings.Contains(out.String()+errb.String(), tc.want) || strings.Contains(errb.String(), "help requested") {
				t.Errorf("%v = %v, stdout %q, stderr %q; want success and %q", tc.args, err, out.String(), errb.String(), tc.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Fatalf("%v ran: it made %s", tc.args, dir)
			}
		})
	}
	var out, errb bytes.Buffer
	if err := Main(context.Background(), []string{"token", "create", "--bogus"}, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb}); ExitCode(err) != 2 {
		t.Errorf("token create --bogus = %v (exit %d), want a usage error (exit 2)", err, ExitCode(err))
	}
}

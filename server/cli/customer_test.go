package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
)

// cliRun runs the command line and returns stdout, stderr and the error.
func cliRun(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
	return out.String(), errb.String(), err
}

func TestCustomerCommands(t *testing.T) {
	dir := t.TempDir()
	// Reading needs a database; creating the first customer makes one, as
	// the first token does (an admin may set up customers before serve).
	if _, _, err := cliRun(t, "customer", "list", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "start the server once") {
		t.Errorf("customer list in an empty directory: %v, want no database and what to do", err)
	}
	secret, stderr, err := cliRun(t, "customer", "create", "--data-dir", dir, "--name", "Acme GmbH", "--tier", "premium",
		"--contract-start", "2025-01-01", "--contract-end", "2099-12-31", "--timezone", "Europe/Berlin", "--sold-by", "Contoso Ltd",
		"--holiday", "2025-12-25,2025-12-26", "--contact", "ops@acme.example", "--days", "mon,tue,wed,thu", "--close", "17:00")
	if err != nil {
		t.Fatalf("customer create: %v\n%s", err, stderr)
	}
	secret = strings.TrimSuffix(secret, "\n")
	if !strings.HasPrefix(secret, "ewe_") || strings.ContainsAny(secret, " \n") || !strings.Contains(stderr, "shown once") {
		t.Errorf("customer create printed %q (stderr %q), want the enroll secret alone", secret, stderr)
	}
	st, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.CustomerByEnrollSecret(context.Background(), secret)
	st.Close()
	if err != nil {
		t.Fatalf("the printed secret does not enroll: %v", err)
	}
	var c api.Customer
	out, _, err := cliRun(t, "customer", "update", "acme gmbh", "--data-dir", dir, "--tier", "enterprise", "--open", "08:00", "--json")
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(out), &c)
	if c.ID != id || c.Tier != "enterprise" || c.SoldBy != "Contoso Ltd" || c.BusinessHours.Open != "08:00" || c.BusinessHours.Close != "17:00" ||
		len(c.BusinessHours.Days) != 4 || len(c.Holidays) != 2 {
		t.Errorf("update --tier --open changed more or less than asked: %s", out)
	}
	// Flags before the name work too; an empty --holiday clears the list.
	if out, _, err = cliRun(t, "customer", "update", "--data-dir", dir, id, "--holiday", "", "--json"); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal([]byte(out), &c)
	if len(c.Holidays) != 0 || c.Tier != "enterprise" {
		t.Errorf("update --holiday '': %s", out)
	}
	out, _, err = cliRun(t, "customer", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "Acme GmbH") || !strings.Contains(out, "enterprise") || !strings.Contains(out, "Contoso Ltd") {
		t.Errorf("customer list = %v\n%s", err, out)
	}
	// Bad input is a usage error naming the field.
	for _, args := range [][]string{
		{"customer", "create", "--data-dir", dir, "--name", "X", "--tier", "gold", "--contract-start", "2025-01-01", "--contract-end", "2025-12-31"},
		{"customer", "create", "--data-dir", dir, "--name", "X", "--tier", "standard", "--contract-start", "2025-01-01", "--contract-end", "2024-12-31"},
		{"customer", "update", "acme gmbh", "--data-dir", dir, "--timezone", "Nowhere"},
		{"customer", "update", "--data-dir", dir},
		{"customer", "frobnicate"},
		{"ticket", "check", "--data-dir", dir, "--customer", "acme gmbh", "--product", "python", "--version", "3.12.1", "--severity", "7"},
		{"token", "create", "--data-dir", dir, "--role", "support", "--customer", "acme gmbh"},
	} {
		if _, _, err := cliRun(t, args...); ExitCode(err) != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	if _, _, err := cliRun(t, "customer", "create", "--data-dir", dir, "--name", "ACME GMBH", "--tier", "standard", "--contract-start", "2025-01-01",
		"--contract-end", "2025-12-31"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("duplicate name: %v", err)
	}

	// The ticket check: severity 1 on a Saturday night is covered 24x7.
	cat, _ := catalog.Default()
	py := cat.Product("python").Cycles[0].Latest
	out, _, err = cliRun(t, "ticket", "check", "--data-dir", dir, "--customer", "Acme GmbH", "--product", "python", "--version", py,
		"--severity", "1", "--at", "2026-03-07T22:00:00Z")
	if err != nil || !strings.HasPrefix(out, "ACCEPT: severity 1 ticket for python") || !strings.Contains(out, "route:       partner (Contoso Ltd)") ||
		!strings.Contains(out, "phone now:   yes") || !strings.Contains(out, "covered 24x7") {
		t.Errorf("ticket check = %v\n%s", err, out)
	}
	out, _, err = cliRun(t, "ticket", "check", "--data-dir", dir, "--customer", "Acme GmbH", "--product", "python", "--version", "2.7.18",
		"--severity", "3", "--at", "2026-03-07T22:00:00Z")
	if err != nil || !strings.HasPrefix(out, "REFUSE: severity 3") || !strings.Contains(out, "work would start: Monday 2026-03-09 08:00 Europe/Berlin (2026-03-09 07:00 UTC)") {
		t.Errorf("ticket check (eol version, Saturday) = %v\n%s", err, out)
	}
	out, _, err = cliRun(t, "ticket", "check", "--data-dir", dir, "--customer", "Acme GmbH", "--product", "python", "--version", "2.7.18",
		"--severity", "3", "--at", "2026-03-07T22:00:00Z", "--json")
	var a api.TicketCheck
	if err != nil || json.Unmarshal([]byte(out), &a) != nil || a.Accept || a.WorkStarts.Format("2006-01-02T15:04") != "2026-03-09T07:00" {
		t.Errorf("ticket check --json (eol version, Saturday) = %v\n%s", err, out)
	}

	// A viewer token limited to the customer.
	tok, stderr, err := cliRun(t, "token", "create", "--data-dir", dir, "--role", "viewer", "--customer", "acme gmbh", "--name", "acme it")
	if err != nil || !strings.HasPrefix(tok, "ewt_") || !strings.Contains(stderr, "limited to customer Acme GmbH") {
		t.Fatalf("token create --customer = %q, %v (%s)", tok, err, stderr)
	}
	st, _ = store.Open(context.Background(), dir)
	p, err := st.Authenticate(context.Background(), strings.TrimSpace(tok))
	st.Close()
	if err != nil || p.Role != auth.RoleViewer || p.Customer != id || p.TokenName != "acme it" || p.CustomerName != "Acme GmbH" {
		t.Errorf("the limited token authenticates as %+v, %v", p, err)
	}
	if out, _, _ := cliRun(t, "token", "list", "--data-dir", dir); !strings.Contains(out, "Acme GmbH ("+id+")") {
		t.Errorf("token list does not show the customer by name and id:\n%s", out)
	}
	if _, _, err := cliRun(t, "token", "create", "--data-dir", dir, "--role", "viewer", "--customer", "nobody"); err == nil {
		t.Error("token for an unknown customer was created")
	}

	// Delete: refused with hosts, --force detaches them.
	st, _ = store.Open(context.Background(), dir)
	st.EnrollCustomer(context.Background(), api.HostInfo{InstallID: "i", Hostname: "h"}, id)
	st.Close()
	if _, _, err := cliRun(t, "customer", "delete", "acme gmbh", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "add --force to detach them") {
		t.Errorf("delete with hosts: %v", err)
	}
	if _, stderr, err := cliRun(t, "customer", "delete", "acme gmbh", "--data-dir", dir, "--force"); err != nil || !strings.Contains(stderr, "1 host(s) detached") {
		t.Errorf("delete --force: %v %s", err, stderr)
	}
	if _, _, err := cliRun(t, "customer", "list", "--data-dir", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Errorf("customer list without a database: %v", err)
	}
}

// TestServeAdminEmail: --admin-email is repeatable and comma-separated, the
// environment variable too, and a bad address is refused naming the flag.
func TestServeAdminEmail(t *testing.T) {
	cfg, err := ParseServeConfig([]string{"--admin-email", "a@x.example,b@x.example", "--admin-email", "c@x.example"}, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil || strings.Join(cfg.AdminEmails, " ") != "a@x.example b@x.example c@x.example" {
		t.Errorf("flags: %q, %v", cfg.AdminEmails, err)
	}
	env := map[string]string{"EOLWATCH_ADMIN_EMAIL": "ops@x.example,sec@x.example"}
	cfg, err = ParseServeConfig(nil, func(k string) string { return env[k] }, &bytes.Buffer{})
	if err != nil || strings.Join(cfg.AdminEmails, " ") != "ops@x.example sec@x.example" {
		t.Errorf("environment: %q, %v", cfg.AdminEmails, err)
	}
	if _, err := ParseServeConfig([]string{"--admin-email", "Ops <ops@x.example>"}, func(string) string { return "" }, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "admin-email") {
		t.Errorf("a display name: %v, want an error naming admin-email", err)
	}
}

package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
)

// TestEndToEndCustomerTicket runs the real server and the real agent: a
// customer is created through the API, the agent enrolls with the
// customer's own secret (so the host belongs to that customer) and reports
// this machine's inventory, the ticket check is asked by host through the
// API and the command line (same answer), and a viewer token limited to
// the customer sees its host but not a host enrolled with the server-wide
// secret.
func TestEndToEndCustomerTicket(t *testing.T) {
	srvBin, agentBin := buildBinaries(t)
	dir := t.TempDir()
	p := startServer(t, srvBin, dir, "--admin-email", "admin@vendor.example")
	token := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(srvBin, append([]string{"token", "create", "--data-dir", dir}, args...)...).Output()
		if err != nil {
			t.Fatalf("token create %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	admin := token("--role", "admin")
	call := func(method, path, tok, body string, want int, v any) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		return b
	}
	var acme api.Customer
	call("POST", api.PathCustomers, admin, `{"name":"Acme GmbH","tier":"premium","contract_start":"2025-01-01","contract_end":"2099-12-31",
		"auto_renew":false,"sold_by":"Contoso Ltd","timezone":"Europe/Berlin","holidays":["2026-12-25"],"contacts":["it@acme.example"]}`, http.StatusCreated, &acme)
	if !strings.HasPrefix(acme.EnrollSecret, "ewe_") {
		t.Fatalf("no enroll secret in %+v", acme)
	}
	// The real agent enrolls with the customer's secret; another one with the server-wide secret.
	for _, secret := range []string{acme.EnrollSecret, testSecret} {
		if out, err := exec.Command(agentBin, "once", "--server", p.url, "--enroll-secret", secret, "--state-dir", t.TempDir()).CombinedOutput(); err != nil {
			t.Fatalf("agent once: %v\n%s\nserver:\n%s", err, out, p.logText())
		}
	}
	var hosts api.HostList
	call("GET", api.PathHosts, admin, "", 200, &hosts)
	var mine, other api.Host
	for _, h := range hosts.Hosts {
		if h.CustomerID == acme.ID {
			mine = h
		} else {
			other = h
		}
	}
	if len(hosts.Hosts) != 2 || mine.ID == "" || other.ID == "" {
		t.Fatalf("hosts after two agents: %+v (want one of Acme's, one of no customer)", hosts.Hosts)
	}
	// Which product does this machine's OS match? (The ticket check asks about it.)
	var detail api.HostDetail
	call("GET", api.PathHosts+"/"+mine.ID, admin, "", 200, &detail)
	product := ""
	for _, it := range detail.Inventory {
		if it.Source == "os" {
			product = it.MatchProduct
		}
	}
	if product == "" {
		t.Skipf("this machine's OS (%s) matched no catalog product", detail.Info.OSName)
	}
	// The ticket check by host: Acme's contract decides (Saturday night, severity 1 on Premium).
	q := url.Values{"host": {mine.ID}, "product": {product}, "severity": {"1"}, "at": {"2026-03-07T22:00:00Z"}}
	support := token("--role", "support")
	var a api.TicketCheck
	apiAnswer := call("GET", api.PathTicketCheck+"?"+q.Encode(), support, "", 200, &a)
	if a.Customer == nil || a.Customer.ID != acme.ID || a.Route != api.RoutePartner || a.Eligibility.HostID != mine.ID || a.Eligibility.Installed == "" {
		t.Errorf("ticket check by host = %s", apiAnswer)
	}
	if a.Accept != a.Eligibility.Eligible || a.PhoneNow != a.Accept || (a.Accept && !a.WorkStarts.Equal(a.At)) {
		t.Errorf("a 24x7 severity 1 ticket on an active Premium contract: accept %v phone %v starts %s (eligible %v)", a.Accept, a.PhoneNow, a.WorkStarts, a.Eligibility.Eligible)
	}
	if !strings.Contains(strings.Join(a.Reasons, " "), "covered 24x7") || !strings.Contains(strings.Join(a.Reasons, " "), "Contoso Ltd") {
		t.Errorf("reasons: %q", a.Reasons)
	}
	// By hostname: both agents run on this machine, so the hostname names
	// two hosts and the answer asks for a host id.
	q.Set("host", mine.Hostname)
	if b := call("GET", api.PathTicketCheck+"?"+q.Encode(), support, "", http.StatusConflict, nil); !bytes.Contains(b, []byte(`"field":"host"`)) {
		t.Errorf("a shared hostname: %s", b)
	}
	// The same answer on the command line.
	cli, err := exec.Command(srvBin, "ticket", "check", "--data-dir", dir, "--host", mine.ID, "--product", product, "--severity", "1",
		"--at", "2026-03-07T22:00:00Z", "--json").Output()
	if err != nil {
		t.Fatalf("ticket check CLI: %v", err)
	}
	var cliAnswer api.TicketCheck
	if err := json.Unmarshal(cli, &cliAnswer); err != nil {
		t.Fatalf("ticket check CLI output: %v\n%s", err, cli)
	}
	ja, _ := json.Marshal(a)
	jc, _ := json.Marshal(cliAnswer)
	// The customer's host count and contract state are the same; only
	// timestamps of the record could differ, and they do not.
	if !bytes.Equal(ja, jc) {
		t.Errorf("CLI and API answers differ:\nAPI %s\nCLI %s", ja, jc)
	}
	// The host of no customer: refused, with the reason.
	q.Set("host", other.ID)
	var none api.TicketCheck
	call("GET", api.PathTicketCheck+"?"+q.Encode(), support, "", 200, &none)
	if none.Accept || none.Customer != nil || !strings.Contains(none.Reasons[0], "belongs to no customer") {
		t.Errorf("host of no customer = %+v", none)
	}
	// A viewer token limited to Acme sees Acme's host only, and no other route.
	limited := token("--role", "viewer", "--customer", "acme gmbh")
	call("GET", api.PathHosts, limited, "", 200, &hosts)
	if hosts.Total != 1 || hosts.Hosts[0].ID != mine.ID {
		t.Errorf("hosts as Acme's viewer = %+v", hosts)
	}
	call("GET", api.PathHosts+"/"+other.ID, limited, "", 404, nil)
	call("GET", api.PathTicketCheck+"?"+q.Encode(), limited, "", 403, nil)
	t.Logf("%s on this machine: accept=%v (%s): %s", product, a.Accept, a.Eligibility.Status, strings.Join(a.Reasons, " | "))
}

package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

// createCustomer creates a customer through the API as admin.
func (e *testEnv) createCustomer(t testing.TB, body string) api.Customer {
	t.Helper()
	resp, b := e.do(t, "POST", api.PathCustomers, e.tokens[auth.RoleAdmin], strings.NewReader(body), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create customer: %d %s", resp.StatusCode, b)
	}
	var c api.Customer
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollWith enrolls a host with an enroll secret and returns its id and key.
func (e *testEnv) enrollWith(t testing.TB, secret, install, hostname string) (string, string) {
	t.Helper()
	body, _ := json.Marshal(api.EnrollRequest{EnrollSecret: secret, Host: testHost(install, hostname)})
	resp, b := e.do(t, "POST", api.PathEnroll, "", bytes.NewReader(body), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("enroll %s: %d %s", hostname, resp.StatusCode, b)
	}
	var er api.EnrollResponse
	json.Unmarshal(b, &er)
	return er.HostID, er.NodeKey
}

// call calls a route and decodes the answer, failing on another status.
func (e *testEnv) call(t testing.TB, method, path, token, body string, wantCode int, v any) []byte {
	t.Helper()
	resp, b := e.do(t, method, path, token, strings.NewReader(body), nil)
	if resp.StatusCode != wantCode {
		t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, wantCode)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	return b
}

func TestCustomersAPI(t *testing.T) {
	e := newTestEnv(t)
	admin := e.tokens[auth.RoleAdmin]
	resp, b := e.do(t, "POST", api.PathCustomers, admin, strings.NewReader(`{"name":"Acme GmbH","tier":"premium","contract_start":"2025-01-01",
		"contract_end":"2026-12-31","auto_renew":false,"sold_by":"","timezone":"Europe/Berlin","holidays":["2025-12-25"],"contacts":["ops@acme.example"]}`), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST customers: %d %s", resp.StatusCode, b)
	}
	var acme api.Customer
	json.Unmarshal(b, &acme)
	if !strings.HasPrefix(acme.EnrollSecret, "ewe_") || acme.ID == "" || resp.Header.Get("Location") != api.PathCustomers+"/"+acme.ID {
		t.Errorf("created: %s (Location %q)", b, resp.Header.Get("Location"))
	}
	if acme.BusinessHours == nil || acme.BusinessHours.Open != "09:00" || acme.Contract == nil || acme.Contract.Status == "" {
		t.Errorf("defaults and contract state missing: %s", b)
	}
	// Bad input names the field; a duplicate name is 409; nothing is stored.
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"unknown tier", `{"name":"X","tier":"platinum","contract_start":"2025-01-01","contract_end":"2025-12-31"}`, 400, "tier"},
		{"end before start", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2024-01-01"}`, 400, "contract_end"},
		{"invalid timezone", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","timezone":"Europe/Atlantis"}`, 400, "timezone"},
		{"malformed holiday", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","holidays":["2025-12-24","2025-13-01"]}`, 400, "holidays[1]"},
		{"bad contact", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","contacts":["nobody"]}`, 400, "contacts[0]"},
		{"bad hours", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","business_hours":{"days":["mon"],"open":"18:00","close":"09:00"}}`, 400, "business_hours.close"},
		{"unknown field", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","secret":"mine"}`, 400, "secret"},
		{"wrong type", `{"name":"X","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31","auto_renew":"yes"}`, 400, "auto_renew"},
		{"duplicate name", `{"name":"ACME GMBH","tier":"standard","contract_start":"2025-01-01","contract_end":"2025-12-31"}`, 409, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := e.do(t, "POST", api.PathCustomers, admin, strings.NewReader(tc.body), nil)
			var ae api.Error
			json.Unmarshal(b, &ae)
			if resp.StatusCode != tc.code || ae.Field != tc.field {
				t.Errorf("status %d field %q (%s), want %d naming %q", resp.StatusCode, ae.Field, b, tc.code, tc.field)
			}
		})
	}
	var list struct{ Customers []api.Customer }
	e.call(t, "GET", api.PathCustomers, admin, "", 200, &list)
	if len(list.Customers) != 1 || list.Customers[0].EnrollSecret != "" {
		t.Errorf("list = %+v (one customer, no secret)", list.Customers)
	}
	var got api.Customer
	e.call(t, "GET", api.PathCustomers+"/"+url.PathEscape("acme gmbh"), admin, "", 200, &got)
	if got.ID != acme.ID || got.EnrollSecret != "" {
		t.Errorf("GET by name = %+v", got)
	}
	e.call(t, "GET", api.PathCustomers+"/nobody", admin, "", 404, nil)
	// PATCH changes what is given; rotating the secret shows the new one.
	var up api.Customer
	e.call(t, "PATCH", api.PathCustomers+"/"+acme.ID, admin, `{"tier":"enterprise","sold_by":"Contoso Ltd","rotate_enroll_secret":true}`, 200, &up)
	if up.Tier != "enterprise" || up.SoldBy != "Contoso Ltd" || up.Timezone != "Europe/Berlin" || up.EnrollSecret == "" || up.EnrollSecret == acme.EnrollSecret {
		t.Errorf("PATCH = %+v", up)
	}
	e.call(t, "PATCH", api.PathCustomers+"/"+acme.ID, admin, `{"timezone":"Moon/Base"}`, 400, nil)
	e.call(t, "PATCH", api.PathCustomers+"/nobody", admin, `{"tier":"standard"}`, 404, nil)
	// Delete: refused with hosts, force detaches them.
	hostID, _ := e.enrollWith(t, up.EnrollSecret, "i-acme", "acme-web")
	body := e.call(t, "DELETE", api.PathCustomers+"/"+acme.ID, admin, "", 409, nil)
	if !bytes.Contains(body, []byte("force=true")) {
		t.Errorf("409 body does not say how: %s", body)
	}
	e.call(t, "DELETE", api.PathCustomers+"/"+acme.ID+"?force=maybe", admin, "", 400, nil)
	var del struct {
		Deleted       bool `json:"deleted"`
		DetachedHosts int  `json:"detached_hosts"`
	}
	e.call(t, "DELETE", api.PathCustomers+"/"+acme.ID+"?force=true", admin, "", 200, &del)
	if !del.Deleted || del.DetachedHosts != 1 {
		t.Errorf("forced delete = %+v", del)
	}
	var h api.HostDetail
	e.call(t, "GET", api.PathHosts+"/"+hostID, admin, "", 200, &h)
	if h.CustomerID != "" {
		t.Errorf("detached host still belongs to %q", h.CustomerID)
	}
}

func TestEnrollWithCustomerSecret(t *testing.T) {
	e := newTestEnv(t)
	acme := e.createCustomer(t, `{"name":"Acme","tier":"standard","contract_start":"2025-01-01","contract_end":"2030-12-31"}`)
	a, _ := e.enrollWith(t, acme.EnrollSecret, "i-1", "acme-1")
	n, _ := e.enrollWith(t, testSecret, "i-2", "plain-1")
	admin := e.tokens[auth.RoleAdmin]
	for id, want := range map[string]string{a: acme.ID, n: ""} {
		var h api.HostDetail
		e.call(t, "GET", api.PathHosts+"/"+id, admin, "", 200, &h)
		if h.CustomerID != want {
			t.Errorf("host %s customer = %q, want %q", h.Hostname, h.CustomerID, want)
		}
	}
	var c api.Customer
	e.call(t, "GET", api.PathCustomers+"/"+acme.ID, admin, "", 200, &c)
	if c.Hosts != 1 {
		t.Errorf("customer hosts = %d, want 1", c.Hosts)
	}
	// A wrong customer secret is refused like any wrong secret.
	resp, _ := e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"ewe_`+strings.Repeat("0", 48)+`","host":{"install_id":"x","hostname":"x"}}`), nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong customer secret: %d, want 401", resp.StatusCode)
	}
	// Without a server-wide secret, customers' secrets still enroll.
	e.s.enrollSet = false
	e.enrollWith(t, acme.EnrollSecret, "i-3", "acme-2")
	resp, _ = e.do(t, "POST", api.PathEnroll, "", strings.NewReader(`{"enroll_secret":"`+testSecret+`","host":{"install_id":"y","hostname":"y"}}`), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("server-wide secret when none is configured: %d, want 403", resp.StatusCode)
	}
}

func TestTicketCheckAPI(t *testing.T) {
	e := newTestEnv(t)
	support := e.tokens[auth.RoleSupport]
	py := testCatalog(t).Product("python").Cycles[0].Latest
	acme := e.createCustomer(t, `{"name":"Acme","tier":"premium","contract_start":"2025-01-01","contract_end":"2099-12-31","auto_renew":true,
		"sold_by":"Contoso Ltd","timezone":"America/New_York","holidays":["2026-07-03"]}`)
	hostID, key := e.enrollWith(t, acme.EnrollSecret, "i-1", "acme-web")
	if code, _, b := e.report(t, key, fullReport("r1", "i-1", "acme-web", api.Item{Source: "probe", Name: "python", Product: "python", Version: py})); code != 200 {
		t.Fatalf("report: %d %s", code, b)
	}
	// By customer: Saturday 2026-03-07 23:00 EST, Severity 1 on Premium: 24x7.
	q := url.Values{"customer": {"acme"}, "product": {"python"}, "version": {py}, "severity": {"1"}, "at": {"2026-03-07T23:00:00-05:00"}}
	b := e.call(t, "GET", api.PathTicketCheck+"?"+q.Encode(), support, "", 200, nil)
	var raw map[string]json.RawMessage
	json.Unmarshal(b, &raw)
	for _, k := range []string{"accept", "phone_now", "work_starts", "route", "customer", "reasons", "eligibility"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer lacks %q: %s", k, b)
		}
	}
	var a api.TicketCheck
	json.Unmarshal(b, &a)
	if !a.Accept || !a.PhoneNow || a.Route != "partner" || a.Customer == nil || a.Customer.Name != "Acme" || !a.Eligibility.Eligible {
		t.Errorf("answer = %s", b)
	}
	if ws := string(raw["work_starts"]); ws != `"2026-03-08T04:00:00Z"` {
		t.Errorf("work_starts = %s, want the moment asked, in UTC", ws)
	}
	// Severity 2 at the same moment waits for Monday 09:00 EDT (the clocks
	// changed on Sunday): 13:00 UTC.
	q.Set("severity", "2")
	e.call(t, "GET", api.PathTicketCheck+"?"+q.Encode(), support, "", 200, &a)
	if !a.Accept || a.PhoneNow || a.WorkStarts.Format(time.RFC3339) != "2026-03-09T13:00:00Z" {
		t.Errorf("severity 2 = accept %v phone %v starts %s", a.Accept, a.PhoneNow, a.WorkStarts.Format(time.RFC3339))
	}
	if !slices.ContainsFunc(a.Reasons, func(r string) bool { return strings.Contains(r, "Contoso Ltd") }) {
		t.Errorf("reasons do not name the partner: %q", a.Reasons)
	}
	// By host (id or hostname): the same customer decides.
	for _, ref := range []string{hostID, "acme-web"} {
		hq := url.Values{"host": {ref}, "product": {"python"}, "severity": {"1"}, "at": {"2026-03-07T23:00:00-05:00"}}
		e.call(t, "GET", api.PathTicketCheck+"?"+hq.Encode(), support, "", 200, &a)
		if !a.Accept || a.Customer == nil || a.Customer.ID != acme.ID || a.Eligibility.HostID != hostID {
			t.Errorf("by host %s = %+v", ref, a)
		}
	}
	// Bad input: 400 naming the field.
	for _, tc := range []struct {
		query string
		field string
	}{
		{"customer=acme&product=python&version=3.12.1&severity=0", "severity"},
		{"customer=acme&product=python&version=3.12.1&severity=5", "severity"},
		{"customer=acme&product=python&version=3.12.1", "severity"},
		{"customer=acme&product=python&version=3.12.1&severity=1&at=yesterday", "at"},
		{"customer=acme&version=3.12.1&severity=1", "product"},
		{"product=python&version=3.12.1&severity=1", "customer"},
		{"customer=acme&host=acme-web&product=python&severity=1", "host"},
		{"customer=acme&product=python&severity=1", "version"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			resp, b := e.do(t, "GET", api.PathTicketCheck+"?"+tc.query, support, nil, nil)
			var ae api.Error
			json.Unmarshal(b, &ae)
			if resp.StatusCode != 400 || ae.Field != tc.field {
				t.Errorf("?%s: %d %s, want 400 naming %q", tc.query, resp.StatusCode, b, tc.field)
			}
		})
	}
	if resp, _ := e.do(t, "GET", api.PathTicketCheck+"?customer=nobody&product=python&version=3.12.1&severity=1", support, nil, nil); resp.StatusCode != 404 {
		t.Errorf("unknown customer: %d, want 404", resp.StatusCode)
	}
}

// TestScopedViewerSeesOnlyItsCustomer calls every route a viewer token
// limited to one customer may call, with ids and names of another
// customer's hosts and of hosts of no customer, and checks that nothing of
// them shows; every other route refuses the token.
func TestScopedViewerSeesOnlyItsCustomer(t *testing.T) {
	e := newTestEnv(t)
	ctx := t.Context()
	acme := e.createCustomer(t, `{"name":"Acme","tier":"premium","contract_start":"2025-01-01","contract_end":"2099-12-31"}`)
	globex := e.createCustomer(t, `{"name":"Globex","tier":"standard","contract_start":"2025-01-01","contract_end":"2099-12-31"}`)
	type host struct{ id, name string }
	mk := func(secret, install, hostname string, items ...api.Item) host {
		id, key := e.enrollWith(t, secret, install, hostname)
		if code, _, b := e.report(t, key, fullReport("r-"+install, install, hostname, items...)); code != 200 {
			t.Fatalf("report: %d %s", code, b)
		}
		return host{id, hostname}
	}
	own := mk(acme.EnrollSecret, "ia", "acme-web", api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6"},
		api.Item{Source: "dpkg", Name: "acme-private-tool", Version: "1.0"})
	other := mk(globex.EnrollSecret, "ig", "globex-db", api.Item{Source: "dpkg", Name: "nginx", Version: "1.18.0-6"},
		api.Item{Source: "dpkg", Name: "globex-secret-tool", Version: "1.0"})
	none := mk(testSecret, "in", "nobody-box", api.Item{Source: "dpkg", Name: "redis-server", Version: "5:7.0.15-1"})
	// An asset registered from an SBOM belongs to no customer either.
	code, asset, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name=registry.example%2Fsecret-image%3A1", []byte(imageV1),
		map[string]string{"Content-Type": "application/vnd.cyclonedx+json"})
	if code != http.StatusCreated {
		t.Fatalf("upload SBOM: %d %s", code, b)
	}
	// Assets uploaded for a customer: Acme's is Acme's to see, Globex's is not.
	code, ownAsset, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name=registry.example%2Facme-image%3A1&customer=Acme", []byte(imageV1),
		map[string]string{"Content-Type": "application/vnd.cyclonedx+json"})
	if code != http.StatusCreated {
		t.Fatalf("upload Acme's SBOM: %d %s", code, b)
	}
	code, otherAsset, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name=registry.example%2Fglobex-image%3A1&customer=Globex", []byte(imageV1),
		map[string]string{"Content-Type": "application/vnd.cyclonedx+json"})
	if code != http.StatusCreated {
		t.Fatalf("upload Globex's SBOM: %d %s", code, b)
	}
	_, scoped, err := e.st.CreateCustomerToken(ctx, "acme it", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	forbidden := []string{other.id, other.name, none.id, none.name, "globex", "nginx", "redis", asset.AssetID, "secret-image", otherAsset.AssetID}
	checkBody := func(what string, b []byte) {
		t.Helper()
		low := strings.ToLower(string(b))
		for _, f := range forbidden {
			if strings.Contains(low, strings.ToLower(f)) {
				t.Errorf("%s as Acme's viewer shows %q:\n%.400s", what, f, b)
			}
		}
	}
	// Every route open to the limited token, with every way to name a host.
	calls := map[string][]string{
		"GET /api/v1/hosts":                 {"", "?product=nginx", "?status=eol", "?limit=1000", "?kind=asset"},
		"GET /api/v1/hosts/{id}":            {own.id, own.name, ownAsset.AssetID, "asset:registry.example/acme-image:1"},
		"GET /api/v1/products":              {""},
		"GET /api/v1/compliance":            {""},
		"GET /api/v1/compliance/export.csv": {""},
		"GET /api/v1/unmatched":             {"", "?limit=1000"},
		"GET /api/v1/catalog":               {""},
	}
	for _, r := range e.s.routeTable() {
		method, path, _ := strings.Cut(r.pattern, " ")
		if r.access != auth.CustomerViewer {
			if r.access == auth.Public || r.access == auth.Agent {
				continue
			}
			p := strings.NewReplacer("{id}", other.id, "{name}", "x").Replace(path)
			resp, b := e.do(t, method, p, scoped, strings.NewReader("{}"), map[string]string{"Content-Type": "application/json"})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s as Acme's viewer: %d %s, want 403", method, p, resp.StatusCode, b)
			}
			continue
		}
		args, ok := calls[r.pattern]
		if !ok {
			t.Errorf("route %s is open to customer-limited tokens but this test does not call it: add it", r.pattern)
			continue
		}
		for _, a := range args {
			p := path + a
			if strings.Contains(path, "{id}") {
				p = strings.Replace(path, "{id}", url.PathEscape(a), 1)
			}
			resp, b := e.do(t, method, p, scoped, nil, nil)
			if resp.StatusCode != 200 {
				t.Errorf("%s %s as Acme's viewer: %d %s", method, p, resp.StatusCode, b)
				continue
			}
			checkBody(method+" "+p, b)
		}
	}
	// Another customer's host, by id or hostname, and a host of no
	// customer, do not exist for the limited token: the answer is the one
	// for a host that does not exist at all (it repeats only what was asked).
	for _, ref := range []string{other.id, other.name, none.id, none.name, asset.AssetID, "asset:registry.example/secret-image:1",
		otherAsset.AssetID, "asset:registry.example/globex-image:1"} {
		resp, b := e.do(t, "GET", api.PathHosts+"/"+url.PathEscape(ref), scoped, nil, nil)
		if want := `{"error":"host \"` + ref + `\": not found"}`; resp.StatusCode != http.StatusNotFound || strings.TrimSpace(string(b)) != want {
			t.Errorf("GET host %s as Acme's viewer: %d %s, want 404 %s", ref, resp.StatusCode, b, want)
		}
	}
	// The limited views do show the customer's own host and counts.
	var list api.HostList
	e.call(t, "GET", api.PathHosts, scoped, "", 200, &list)
	if list.Total != 2 || !slices.ContainsFunc(list.Hosts, func(h api.Host) bool { return h.ID == own.id }) ||
		!slices.ContainsFunc(list.Hosts, func(h api.Host) bool { return h.ID == ownAsset.AssetID }) {
		t.Errorf("hosts as Acme's viewer = %+v, want its host and its asset", list)
	}
	var c api.Compliance
	e.call(t, "GET", api.PathCompliance, scoped, "", 200, &c)
	if c.Hosts != 1 || c.Assets != 1 {
		t.Errorf("compliance as Acme's viewer = %d hosts, %d assets; want 1, 1", c.Hosts, c.Assets)
	}
	var un struct{ Unmatched []struct{ Name string } }
	e.call(t, "GET", "/api/v1/unmatched", scoped, "", 200, &un)
	if !slices.ContainsFunc(un.Unmatched, func(u struct{ Name string }) bool { return u.Name == "acme-private-tool" }) {
		t.Errorf("unmatched as Acme's viewer lacks its own item: %+v", un)
	}
	// An unlimited viewer still sees everything.
	e.call(t, "GET", api.PathHosts, e.tokens[auth.RoleViewer], "", 200, &list)
	if list.Total != 6 {
		t.Errorf("hosts and assets as an unlimited viewer: %d, want 6", list.Total)
	}
}

// TestSBOMOfCustomer: an SBOM upload names the customer its asset belongs
// to (?customer=, a name or id); that customer's limited viewers see the
// asset through every route, other customers' do not, the ticket check by
// asset uses the customer's contract, and an upload without customer
// leaves the asset to no customer (as labels, each upload says it anew).
func TestSBOMOfCustomer(t *testing.T) {
	e := newTestEnv(t)
	ctx := t.Context()
	acme := e.createCustomer(t, `{"name":"Acme","tier":"premium","contract_start":"2025-01-01","contract_end":"2099-12-31"}`)
	globex := e.createCustomer(t, `{"name":"Globex","tier":"standard","contract_start":"2025-01-01","contract_end":"2099-12-31"}`)
	ci := e.tokens[auth.RoleCI]
	cdx := map[string]string{"Content-Type": "application/vnd.cyclonedx+json"}
	code, mine, b := e.uploadSBOM(t, ci, "?name=registry.example%2Facme-app%3A1&customer=acme", []byte(imageV1), cdx)
	if code != http.StatusCreated || mine.CustomerID != acme.ID || mine.Customer != "Acme" {
		t.Fatalf("upload for Acme: %d %s", code, b)
	}
	code, theirs, b := e.uploadSBOM(t, ci, "?name=registry.example%2Fglobex-app%3A1&customer="+globex.ID, []byte(imageV1), cdx)
	if code != http.StatusCreated || theirs.CustomerID != globex.ID || theirs.Customer != "Globex" {
		t.Fatalf("upload for Globex by id: %d %s", code, b)
	}
	// Bad input: the field is named and nothing is stored.
	for _, q := range []string{"?name=x1&customer=Nobody", "?name=x2&customer=" + url.QueryEscape("a\x01b")} {
		code, _, b := e.uploadSBOM(t, ci, q, []byte(imageV1), cdx)
		var fe struct{ Field string }
		json.Unmarshal(b, &fe)
		if code != http.StatusBadRequest || fe.Field != "customer" {
			t.Errorf("upload %s = %d %s, want 400 naming customer", q, code, b)
		}
	}
	var all api.HostList
	e.call(t, "GET", api.PathHosts+"?kind=asset", e.tokens[auth.RoleAdmin], "", 200, &all)
	if all.Total != 2 {
		t.Errorf("assets after refused uploads: %d, want 2", all.Total)
	}
	var h api.HostDetail
	e.call(t, "GET", api.PathHosts+"/"+mine.AssetID, e.tokens[auth.RoleAdmin], "", 200, &h)
	if h.CustomerID != acme.ID || h.Customer != "Acme" {
		t.Errorf("asset detail: customer %q (%q), want Acme", h.Customer, h.CustomerID)
	}

	_, scoped, err := e.st.CreateCustomerToken(ctx, "acme it", acme.ID)
	if err != nil {
		t.Fatal(err)
	}
	var list api.HostList
	e.call(t, "GET", api.PathHosts+"?kind=asset", scoped, "", 200, &list)
	if list.Total != 1 || list.Hosts[0].ID != mine.AssetID {
		t.Errorf("assets as Acme's viewer = %+v, want Acme's only", list.Hosts)
	}
	e.call(t, "GET", api.PathHosts+"/"+mine.AssetID, scoped, "", 200, nil)
	e.call(t, "GET", api.PathHosts+"/"+url.PathEscape("asset:registry.example/acme-app:1"), scoped, "", 200, nil)
	e.call(t, "GET", api.PathHosts+"/"+theirs.AssetID, scoped, "", 404, nil)
	var c api.Compliance
	e.call(t, "GET", api.PathCompliance, scoped, "", 200, &c)
	if c.Assets != 1 || c.Hosts != 0 {
		t.Errorf("compliance as Acme's viewer: %d hosts, %d assets; want 0, 1", c.Hosts, c.Assets)
	}
	csv := string(e.call(t, "GET", "/api/v1/compliance/export.csv", scoped, "", 200, nil))
	if !strings.Contains(csv, "acme-app") || strings.Contains(csv, "globex") {
		t.Errorf("compliance CSV as Acme's viewer:\n%s", csv)
	}

	// The ticket check by asset: the customer's contract decides.
	var tc api.TicketCheck
	e.call(t, "GET", api.PathTicketCheck+"?host="+mine.AssetID+"&product=python&severity=1", e.tokens[auth.RoleSupport], "", 200, &tc)
	if tc.Customer == nil || tc.Customer.ID != acme.ID {
		t.Errorf("ticket check by Acme's asset: customer %+v, want Acme", tc.Customer)
	}

	// A new upload without customer: the asset belongs to no customer.
	code, again, b := e.uploadSBOM(t, ci, "?name=registry.example%2Facme-app%3A1", []byte(imageV1), cdx)
	if code != http.StatusOK || again.CustomerID != "" || again.Customer != "" {
		t.Fatalf("upload again without customer: %d %s", code, b)
	}
	e.call(t, "GET", api.PathHosts+"/"+mine.AssetID, scoped, "", 404, nil)
	e.call(t, "GET", api.PathTicketCheck+"?host="+mine.AssetID+"&product=python&severity=1", e.tokens[auth.RoleSupport], "", 200, &tc)
	if tc.Customer != nil || tc.Accept || !strings.Contains(tc.Reasons[0], "was uploaded without a customer") {
		t.Errorf("ticket check by an asset of no customer: %+v", tc)
	}

	// Deleting a customer with assets: refused unless force, which detaches them.
	e.call(t, "DELETE", api.PathCustomers+"/"+globex.ID, e.tokens[auth.RoleAdmin], "", 409, nil)
	e.call(t, "DELETE", api.PathCustomers+"/"+globex.ID+"?force=true", e.tokens[auth.RoleAdmin], "", 200, nil)
	h = api.HostDetail{}
	e.call(t, "GET", api.PathHosts+"/"+theirs.AssetID, e.tokens[auth.RoleAdmin], "", 200, &h)
	if h.CustomerID != "" {
		t.Errorf("Globex's asset after the forced delete belongs to %q", h.CustomerID)
	}
}

package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestTicketCheckPage asks the ticket check page the cases a support desk
// meets; the severity, the time, the customer or host each change the answer.
func TestTicketCheckPage(t *testing.T) {
	e := newEnv(t, 20)
	b := e.as(t, auth.RoleSupport)
	sat := "2025-09-13T21:00:00Z" // Saturday 23:00 in Berlin
	tests := []struct {
		name  string
		query url.Values
		code  int
		want  []string
		not   []string
	}{
		{"premium sev1 on a saturday night", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.13.7"}, "severity": {"1"}, "at": {sat}},
			200, []string{"✔</span> ACCEPT", `<strong id="work-starts">now</strong>`, `<dd id="phone-now">yes</dd>`, "covered 24x7", "Webshop AG — Premium contract",
				`<dd id="asked-at">Saturday 2025-09-13 23:00 Europe/Berlin (21:00 UTC)</dd>`},
			[]string{"REFUSE"}},
		{"premium sev2 waits for monday", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.13.7"}, "severity": {"2"}, "at": {sat}},
			200, []string{"ACCEPT", "Monday 2025-09-15 09:00 Europe/Berlin (07:00 UTC)", `<dd id="phone-now">no</dd>`, "business hours only"},
			[]string{`<strong id="work-starts">now</strong>`}},
		{"expired contract sold by a partner", url.Values{"customer": {"databank bv"}, "product": {"python"}, "version": {"3.13.7"}, "severity": {"3"}},
			200, []string{"✘</span> REFUSE", "ended on 2024-12-31", "partner — Contoso Ltd takes the ticket first", "Work would start"}, []string{"ACCEPT"}},
		{"version past its end of life", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.8.10"}, "severity": {"3"}},
			200, []string{"REFUSE", "The customer must upgrade to 3.9.23 or later first."}, nil},
		{"by host of a customer", url.Values{"host": {"web-0001.example.net"}, "product": {"python"}, "severity": {"3"}},
			200, []string{"Webshop AG", "on web-0001.example.net"}, nil},
		{"by host of no customer", url.Values{"host": {"app-0003.example.net"}, "product": {"openssl"}, "severity": {"3"}},
			200, []string{"REFUSE", "belongs to no customer"}, nil},
		{"no severity", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.13.7"}},
			400, []string{"Choose the ticket&#39;s severity.", `id="e-sev" name="severity" aria-invalid="true"`}, []string{"ACCEPT"}},
		{"severity out of range", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.13.7"}, "severity": {"7"}},
			400, []string{"severity &#34;7&#34;: want 1, 2, 3 or 4"}, []string{"ACCEPT"}},
		{"bad time", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "version": {"3.13.7"}, "severity": {"1"}, "at": {"saturday"}},
			400, []string{"want an RFC 3339 time", `id="e-at" name="at"`}, []string{"ACCEPT"}},
		{"neither customer nor host", url.Values{"product": {"python"}, "severity": {"1"}}, 400, []string{"Enter the customer"}, nil},
		{"both customer and host", url.Values{"customer": {"x"}, "host": {"y"}, "product": {"python"}, "severity": {"1"}}, 400, []string{"not both"}, nil},
		{"customer without version", url.Values{"customer": {"Webshop AG"}, "product": {"python"}, "severity": {"1"}}, 400, []string{"Enter the version"}, nil},
		{"unknown customer", url.Values{"customer": {"Nobody"}, "product": {"python"}, "version": {"1"}, "severity": {"1"}}, 404, []string{"No customer with that name"}, nil},
		{"unknown host", url.Values{"host": {"nope"}, "product": {"python"}, "severity": {"1"}}, 404, []string{"No host with that id"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := b.Get(t, "/eligibility?"+tt.query.Encode())
			if code != tt.code {
				t.Fatalf("GET /eligibility?%s = %d, want %d", tt.query.Encode(), code, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("body has %q", n)
				}
			}
		})
	}
	// The form keeps what was asked, the severity included, and offers the customers' names.
	_, body := b.Get(t, "/eligibility?customer=Webshop+AG&product=python&version=3.13.7&severity=2")
	if !strings.Contains(body, `<option value="2" selected>`) || !strings.Contains(body, `<option value="Databank BV">`) {
		t.Error("the form does not keep the severity or offer the customer names")
	}
	e.f.mu.Lock()
	last := e.f.tickets[len(e.f.tickets)-1]
	e.f.mu.Unlock()
	if last.Severity != "2" || last.Customer != "Webshop AG" {
		t.Errorf("the checker was asked %+v", last)
	}
}

// TestCustomersPages creates, changes and deletes customers through the
// dashboard's forms.
func TestCustomersPages(t *testing.T) {
	e := newEnv(t, 5)
	b := e.as(t, auth.RoleAdmin)
	csrf := b.CSRF(t, "/customers")
	form := url.Values{"csrf": {csrf}, "name": {"Initech"}, "tier": {"enterprise"}, "contract_start": {"2025-01-01"}, "contract_end": {"2025-12-31"},
		"auto_renew": {"on"}, "timezone": {"America/New_York"}, "days": {"mon", "tue", "wed", "thu", "fri"}, "open": {"08:00"}, "close": {"17:00"},
		"holidays": {"2025-07-04\n2025-11-27"}, "contacts": {"it@initech.example, boss@initech.example"}}
	resp, body := b.Post(t, "/customers", form)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create customer = %d", resp.StatusCode)
	}
	m := regexp.MustCompile(`id="newsecret" class="secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil || !strings.HasPrefix(m[1], "ewe_") {
		t.Fatalf("the new enroll secret is not shown:\n%s", body)
	}
	c, err := e.f.Customer(t.Context(), "initech")
	if err != nil || c.Tier != "enterprise" || !c.AutoRenew || len(c.Holidays) != 2 || len(c.Contacts) != 2 || c.BusinessHours.Open != "08:00" {
		t.Fatalf("stored = %+v, %v", c, err)
	}
	// Bad input: shown next to the field, nothing stored.
	for _, tc := range []struct {
		name, key, value string
		code             int
		text             string
	}{
		{"unknown tier", "tier", "platinum", 400, "tier &#34;platinum&#34;"},
		{"end before start", "contract_end", "2024-01-01", 400, "is before contract_start"},
		{"bad zone", "timezone", "Mars/Base", 400, "not an IANA time zone"},
		{"bad holiday", "holidays", "2025-07-04\n4 July", 400, "holidays[1]"},
		{"bad contact", "contacts", "nobody", 400, "not an email address"},
		{"close before open", "close", "07:00", 400, "business_hours.close"},
		{"duplicate", "name", "INITECH", 409, "exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := cloneValues(form)
			if tc.name != "duplicate" {
				f.Set("name", "Other "+tc.name)
			}
			f.Set(tc.key, tc.value)
			resp, body := b.Post(t, "/customers", f)
			if resp.StatusCode != tc.code || !strings.Contains(body, tc.text) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Errorf("POST /customers = %d, want %d with %q next to the field", resp.StatusCode, tc.code, tc.text)
			}
			if _, err := e.f.Customer(t.Context(), "Other "+tc.name); err == nil {
				t.Error("refused input was stored")
			}
		})
	}
	// Edit: only what changed is sent (turning auto-renew off alone, so the
	// service records the notice itself).
	edit := url.Values{"csrf": {csrf}, "name": {c.Name}, "tier": {c.Tier}, "contract_start": {c.ContractStart}, "contract_end": {c.ContractEnd},
		"timezone": {c.Timezone}, "days": c.BusinessHours.Days, "open": {c.BusinessHours.Open}, "close": {c.BusinessHours.Close},
		"holidays": {strings.Join(c.Holidays, "\n")}, "contacts": {strings.Join(c.Contacts, "\n")}}
	resp, _ = b.Post(t, "/customers/"+c.ID, edit)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d, want 303", resp.StatusCode)
	}
	e.f.mu.Lock()
	p := e.f.patches[len(e.f.patches)-1]
	e.f.mu.Unlock()
	if p.AutoRenew == nil || *p.AutoRenew || p.Name != nil || p.Tier != nil || p.NoticeGiven != nil || p.Holidays != nil || p.BusinessHours != nil {
		t.Errorf("edit sent %+v, want only auto_renew=false", p)
	}
	edit.Set("rotate", "on")
	resp, body = b.Post(t, "/customers/"+c.ID, edit)
	if resp.StatusCode != 200 || !strings.Contains(body, `id="newsecret"`) {
		t.Errorf("rotate the secret = %d, want the new secret shown", resp.StatusCode)
	}
	edit.Del("rotate")
	edit.Set("open", "25:00")
	if resp, body := b.Post(t, "/customers/"+c.ID, edit); resp.StatusCode != 400 || !strings.Contains(body, "business_hours.open") {
		t.Errorf("edit with a bad opening time = %d", resp.StatusCode)
	}
	// Delete: a customer with hosts needs the detach box.
	resp, body = b.Post(t, "/customers/c-web/delete", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "detach its hosts") {
		t.Errorf("delete with hosts = %d, want 409 saying how", resp.StatusCode)
	}
	resp, _ = b.Post(t, "/customers/c-web/delete", url.Values{"csrf": {csrf}, "force": {"on"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("forced delete = %d, want 303", resp.StatusCode)
	}
	if _, body := b.Get(t, resp.Header.Get("Location")); !strings.Contains(body, "Customer Webshop AG deleted; 2 host(s) detached") {
		t.Error("the customers page does not confirm the deletion")
	}
}

// TestScopedViewerDashboard: a viewer token limited to one customer sees
// only that customer's hosts on every fleet page, and no other page.
func TestScopedViewerDashboard(t *testing.T) {
	e := newEnv(t, 40)
	tok := e.f.addCustomerToken("webshop it", "c-web")
	b := newBrowserWith(t, e, tok)
	code, body := b.Get(t, "/hosts?per=200")
	if code != 200 {
		t.Fatalf("GET /hosts = %d", code)
	}
	rows := regexp.MustCompile(`<th scope="row"><a href="/hosts/(h\d+)">([^<]+)</a>`).FindAllStringSubmatch(body, -1)
	if len(rows) != 10 {
		t.Errorf("hosts page shows %d hosts, want the 10 web hosts", len(rows))
	}
	for _, r := range rows {
		if !strings.HasPrefix(r[2], "web-") {
			t.Errorf("hosts page shows %s, another customer's host", r[2])
		}
	}
	if !strings.Contains(body, "viewer · Webshop AG") || strings.Contains(body, `href="/settings"`) || strings.Contains(body, `href="/notifications"`) {
		t.Error("the navigation of a limited session offers pages it cannot open")
	}
	for path, want := range map[string]int{
		"/":                 200,
		"/products":         200,
		"/products/python":  200,
		"/hosts/h00001":     200, // web-0001
		"/hosts/h00002":     404, // db-0002
		"/hosts/h00003":     404, // app-0003, no customer
		"/notifications":    403,
		"/settings":         403,
		"/eligibility":      403,
		"/customers":        403,
		"/customers/c-web":  403,
		"/hosts?q=db-":      200,
		"/hosts?status=eol": 200,
	} {
		code, body := b.Get(t, path)
		if code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
		for _, other := range []string{"db-0002", "app-0003", "build-0004"} {
			if strings.Contains(body, other) {
				t.Errorf("GET %s shows %s", path, other)
			}
		}
	}
	if _, body := b.Get(t, "/"); !strings.Contains(body, `<p class="num">10</p>`) && !strings.Contains(body, ">10<") {
		t.Error("the overview does not count the customer's 10 hosts")
	}
}

// newBrowserWith is a browser logged in with a given token.
func newBrowserWith(t *testing.T, e *testEnv, token string) *webtest.Browser {
	b := webtest.NewBrowser(t, e.srv.URL)
	b.Login(t, token)
	return b
}

// TestTokenForCustomer: an admin creates, on the settings page, a viewer
// token limited to one customer (the customer's own IT team); the token
// list and the limited session name the customer; a limit on another role
// or an unknown customer is refused next to the field, creating nothing.
func TestTokenForCustomer(t *testing.T) {
	e := newEnv(t, 40)
	b := e.as(t, auth.RoleAdmin)
	csrf := b.CSRF(t, "/settings")
	if _, body := b.Get(t, "/settings"); !strings.Contains(body, `<option value="c-web">Webshop AG</option>`) {
		t.Fatal("the token form does not offer the customers")
	}
	before, _ := e.f.Tokens(t.Context())
	for _, tc := range []struct {
		name, role, customer, text string
	}{
		{"support limited", auth.RoleSupport, "c-web", "Only viewer tokens can be limited"},
		{"admin limited", auth.RoleAdmin, "c-web", "Only viewer tokens can be limited"},
		{"unknown customer", auth.RoleViewer, "c-nope", "No such customer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := b.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"x"}, "role": {tc.role}, "customer": {tc.customer}})
			if resp.StatusCode != 400 || !strings.Contains(body, tc.text) || !strings.Contains(body, `id="t-customer" name="customer" aria-invalid="true"`) {
				t.Errorf("create %s token for %s = %d, want 400 with %q next to the customer field", tc.role, tc.customer, resp.StatusCode, tc.text)
			}
		})
	}
	if after, _ := e.f.Tokens(t.Context()); len(after) != len(before) {
		t.Fatalf("refused tokens were created: %d → %d", len(before), len(after))
	}
	resp, body := b.Post(t, "/settings/tokens", url.Values{"csrf": {csrf}, "name": {"webshop it"}, "role": {auth.RoleViewer}, "customer": {"c-web"}})
	m := regexp.MustCompile(`id="newtoken" class="secret" readonly value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(body, "(viewer, limited to Webshop AG)") {
		t.Fatalf("create a limited viewer token = %d", resp.StatusCode)
	}
	if _, body := b.Get(t, "/settings"); !strings.Contains(body, "viewer · Webshop AG only") {
		t.Error("the token list does not name the token's customer")
	}
	it := newBrowserWith(t, e, m[1])
	if _, body := it.Get(t, "/"); !strings.Contains(body, "viewer · Webshop AG") {
		t.Error("the limited session does not say whose hosts it sees")
	}
	code, body := it.Get(t, "/hosts?per=200")
	if n := strings.Count(body, `<th scope="row"><a href="/hosts/`); code != 200 || n != 10 || strings.Contains(body, "db-0002") {
		t.Errorf("the new limited token's hosts page = %d with %d hosts, want Webshop AG's 10", code, n)
	}
	if code, _ := it.Get(t, "/eligibility"); code != 403 {
		t.Errorf("the new limited token opens the ticket check: %d", code)
	}
}

// TestHostPageCustomer: a host's page says whose it is (a link to the
// customer for admins, the name for others, "none" for a host of no
// customer).
func TestHostPageCustomer(t *testing.T) {
	e := newEnv(t, 5)
	for _, tc := range []struct {
		role, host, want string
	}{
		{auth.RoleAdmin, "h00001", `<dd id="customer"><a href="/customers/c-web">Webshop AG</a></dd>`},
		{auth.RoleSupport, "h00001", `<dd id="customer">Webshop AG</dd>`},
		{auth.RoleViewer, "h00003", `<dd id="customer">none</dd>`},
	} {
		t.Run(tc.role, func(t *testing.T) {
			if code, body := e.as(t, tc.role).Get(t, "/hosts/"+tc.host); code != 200 || !strings.Contains(body, tc.want) {
				t.Errorf("%s: GET /hosts/%s = %d, want %s", tc.role, tc.host, code, tc.want)
			}
		})
	}
}

package service

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// now is the service clock of these tests: Thursday 2026-01-15 10:00 UTC.
var now = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)

// sqlService is a service over a real store (SQLite or PostgreSQL, see
// dbEngine), customers included.
func sqlService(t *testing.T) (*Service, *store.Store) {
	t.Helper()
	database, dir := storeLocation(t)
	st := openStore(t, database, dir)
	catOnce.Do(func() { cat, catErr = catalog.Default() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	s, err := New(Config{Store: st, Customers: st, Catalog: func() *catalog.Catalog { return cat }, Policy: catalog.DefaultPolicy(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// supportedPython is the newest python patch of the newest cycle: eligible.
func supportedPython(t *testing.T) string {
	t.Helper()
	p := cat.Product("python")
	if p == nil || len(p.Cycles) == 0 {
		t.Fatal("no python in the default catalog")
	}
	return p.Cycles[0].Latest
}

func TestCustomerLifecycle(t *testing.T) {
	ctx := context.Background()
	s, st := sqlService(t)
	c, err := s.CreateCustomer(ctx, api.CustomerSpec{Name: " Acme ", Tier: "Premium", ContractStart: "2025-06-01", ContractEnd: "2026-05-31",
		AutoRenew: true, Timezone: "Europe/Berlin", Contacts: []string{"ops@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Acme" || c.Tier != "premium" || !strings.HasPrefix(c.EnrollSecret, "ewe_") || c.BusinessHours.Open != "09:00" {
		t.Errorf("created = %+v", c)
	}
	if c.Contract == nil || *c.Contract != (api.ContractState{Status: "active", AsOf: "2026-01-15", TermEnd: "2026-05-31", Renews: true, NoticeBy: "2026-04-01", DaysLeft: 136}) {
		t.Errorf("contract state = %+v", c.Contract)
	}
	if id, err := st.CustomerByEnrollSecret(ctx, c.EnrollSecret); err != nil || id != c.ID {
		t.Errorf("the returned secret does not enroll for the customer: %q, %v", id, err)
	}
	got, err := s.Customer(ctx, "acme")
	if err != nil || got.EnrollSecret != "" || got.ID != c.ID {
		t.Errorf("Customer = %+v, %v (the secret is shown once only)", got, err)
	}
	// Bad input names the field; a duplicate name is a conflict.
	for _, tc := range []struct {
		spec  api.CustomerSpec
		code  fault.Code
		field string
	}{
		{api.CustomerSpec{Name: "X", Tier: "gold", ContractStart: "2025-01-01", ContractEnd: "2025-12-31"}, fault.Invalid, "tier"},
		{api.CustomerSpec{Name: "X", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2024-12-31"}, fault.Invalid, "contract_end"},
		{api.CustomerSpec{Name: "X", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Timezone: "Nowhere/Town"}, fault.Invalid, "timezone"},
		{api.CustomerSpec{Name: "X", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Holidays: []string{"xmas"}}, fault.Invalid, "holidays[0]"},
		{api.CustomerSpec{Name: "ACME", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31"}, fault.Conflict, "name"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			_, err := s.CreateCustomer(ctx, tc.spec)
			if fe, _ := fault.As(err); fault.CodeOf(err) != tc.code || fe.Field != tc.field {
				t.Errorf("CreateCustomer(%+v) = %v, want %s naming %q", tc.spec, err, tc.code, tc.field)
			}
		})
	}
	// Turning auto-renew off gives notice today (in Berlin): too late for the
	// current term? No: 2026-01-15 is more than 60 days before 2026-05-31.
	off := false
	up, err := s.UpdateCustomer(ctx, c.ID, api.CustomerPatch{AutoRenew: &off})
	if err != nil {
		t.Fatal(err)
	}
	if up.NoticeGiven != "2026-01-15" || up.Contract.Renews || up.Contract.TermEnd != "2026-05-31" {
		t.Errorf("after turning auto-renew off: notice %q, contract %+v", up.NoticeGiven, up.Contract)
	}
	// Notice given late (explicitly) renews once more.
	late := "2026-04-15"
	up, err = s.UpdateCustomer(ctx, c.ID, api.CustomerPatch{NoticeGiven: &late})
	if err != nil || up.Contract.TermEnd != "2027-05-31" {
		t.Errorf("late notice: %+v, %v; want the contract to end 2027-05-31", up.Contract, err)
	}
	// Back on: the notice is cleared.
	on := true
	if up, err = s.UpdateCustomer(ctx, c.ID, api.CustomerPatch{AutoRenew: &on}); err != nil || up.NoticeGiven != "" || !up.Contract.Renews {
		t.Errorf("auto-renew back on: %+v, %v", up, err)
	}
	// Other fields; a bad patch changes nothing.
	tier, tz := "success squad", "America/New_York"
	hol := []string{"2026-07-04"}
	if up, err = s.UpdateCustomer(ctx, "ACME", api.CustomerPatch{Tier: &tier, Timezone: &tz, Holidays: &hol}); err != nil || up.Tier != "success-squad" || up.Timezone != tz || len(up.Holidays) != 1 {
		t.Errorf("patch tier, zone, holidays: %+v, %v", up, err)
	}
	bad := "Mars/Base"
	if _, err := s.UpdateCustomer(ctx, c.ID, api.CustomerPatch{Timezone: &bad}); !fault.Is(err, fault.Invalid) {
		t.Errorf("bad zone: %v", err)
	}
	if again, _ := s.Customer(ctx, c.ID); again.Timezone != tz {
		t.Errorf("a refused patch changed the zone to %q", again.Timezone)
	}
	rot, err := s.UpdateCustomer(ctx, c.ID, api.CustomerPatch{RotateEnrollSecret: true})
	if err != nil || rot.EnrollSecret == "" || rot.EnrollSecret == c.EnrollSecret {
		t.Fatalf("rotate: %+v, %v", rot, err)
	}
	if _, err := st.CustomerByEnrollSecret(ctx, c.EnrollSecret); err == nil {
		t.Error("the old secret still enrolls after rotation")
	}
	// Delete: refused with hosts unless forced.
	if _, _, err := st.EnrollCustomer(ctx, api.HostInfo{InstallID: "i1", Hostname: "web1"}, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DeleteCustomer(ctx, "acme", false); fault.CodeOf(err) != fault.Conflict || !strings.Contains(err.Error(), "force=true") {
		t.Errorf("delete with hosts: %v, want a conflict mentioning force=true", err)
	}
	if _, n, err := s.DeleteCustomer(ctx, "acme", true); err != nil || n != 1 {
		t.Errorf("forced delete: %d, %v", n, err)
	}
	if list, _ := s.Customers(ctx); len(list) != 0 {
		t.Errorf("customers after delete: %+v", list)
	}
}

func TestTicketCheck(t *testing.T) {
	ctx := context.Background()
	s, st := sqlService(t)
	py := supportedPython(t)
	acme, err := s.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2026-12-31",
		Timezone: "Europe/Berlin", SoldBy: "Contoso Ltd", Holidays: []string{"2026-01-01"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateCustomer(ctx, api.CustomerSpec{Name: "Oldco", Tier: "standard", ContractStart: "2024-01-01", ContractEnd: "2025-06-30"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		q          TicketQuery
		accept     bool
		phone      bool
		workStarts string
		route      string
		reason     string
	}{
		{"premium sev1 saturday night", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1", At: "2026-01-17T22:00:00Z"},
			true, true, "2026-01-17T22:00:00Z", "partner", "covered 24x7"},
		{"premium sev2 saturday night", TicketQuery{Customer: acme.ID, Product: "python", Version: py, Severity: "2", At: "2026-01-17T22:00:00Z"},
			true, false, "2026-01-19T08:00:00Z", "partner", "Monday 2026-01-19 09:00 Europe/Berlin"},
		{"new year's day is a holiday", TicketQuery{Customer: "acme", Product: "python", Version: py, Severity: "3", At: "2026-01-01T10:00:00+01:00"},
			true, false, "2026-01-02T08:00:00Z", "partner", "is a holiday"},
		{"eol version refused", TicketQuery{Customer: "Acme", Product: "python", Version: "2.7.18", Severity: "3", At: "2026-01-14T10:00:00Z"},
			false, false, "2026-01-14T10:00:00Z", "partner", "The customer must upgrade to"},
		{"expired contract", TicketQuery{Customer: "Oldco", Product: "python", Version: py, Severity: "1", At: "2026-01-14T10:00:00Z"},
			false, false, "2026-01-14T10:00:00Z", "vendor", "ended on 2025-06-30"},
		{"at defaults to now", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "4"},
			true, true, "2026-01-15T10:00:00Z", "partner", "inside business hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := s.TicketCheck(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if a.Accept != tt.accept || a.PhoneNow != tt.phone || a.Route != tt.route || a.WorkStarts.Format(time.RFC3339) != tt.workStarts {
				t.Errorf("answer = accept %v phone %v route %s starts %s; want %v %v %s %s\n%s", a.Accept, a.PhoneNow, a.Route,
					a.WorkStarts.Format(time.RFC3339), tt.accept, tt.phone, tt.route, tt.workStarts, strings.Join(a.Reasons, "\n"))
			}
			if all := strings.Join(a.Reasons, " "); !strings.Contains(all, tt.reason) {
				t.Errorf("reasons lack %q:\n%s", tt.reason, strings.Join(a.Reasons, "\n"))
			}
			if a.Customer == nil || a.Customer.Contract == nil || a.Eligibility.Product != "python" {
				t.Errorf("answer lacks customer, contract or eligibility: %+v", a)
			}
		})
	}
	// Bad input names the field.
	for _, tc := range []struct {
		name  string
		q     TicketQuery
		field string
	}{
		{"severity 0", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "0"}, "severity"},
		{"severity 5", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "5"}, "severity"},
		{"severity missing", TicketQuery{Customer: "Acme", Product: "python", Version: py}, "severity"},
		{"severity word", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "urgent"}, "severity"},
		{"bad at", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1", At: "tomorrow"}, "at"},
		{"at without zone", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1", At: "2026-01-15T10:00:00"}, "at"},
		{"no product", TicketQuery{Customer: "Acme", Version: py, Severity: "1"}, "product"},
		{"neither customer nor host", TicketQuery{Product: "python", Version: py, Severity: "1"}, "customer"},
		{"both", TicketQuery{Customer: "Acme", Host: "web1", Product: "python", Severity: "1"}, "host"},
		{"customer without version", TicketQuery{Customer: "Acme", Product: "python", Severity: "1"}, "version"},
		{"host with version", TicketQuery{Host: "web1", Product: "python", Version: py, Severity: "1"}, "version"},
		// one byte over the limits the dashboard's form also has (api.Max*Len)
		{"long product", TicketQuery{Customer: "Acme", Product: strings.Repeat("p", api.MaxProductLen+1), Version: py, Severity: "1"}, "product"},
		{"long customer", TicketQuery{Customer: strings.Repeat("c", api.MaxCustomerLen+1), Product: "python", Version: py, Severity: "1"}, "customer"},
		{"long version", TicketQuery{Customer: "Acme", Product: "python", Version: strings.Repeat("1", api.MaxVersionLen+1), Severity: "1"}, "version"},
		{"long host", TicketQuery{Host: strings.Repeat("h", api.MaxHostLen+1), Product: "python", Severity: "1"}, "host"},
		{"long at", TicketQuery{Customer: "Acme", Product: "python", Version: py, Severity: "1", At: "2026-01-15T10:00:00." + strings.Repeat("0", api.MaxAtLen-20) + "Z"}, "at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.TicketCheck(ctx, tc.q)
			if fe, ok := fault.As(err); !ok || fe.Code != fault.Invalid || fe.Field != tc.field {
				t.Errorf("TicketCheck = %v, want invalid %q", err, tc.field)
			}
			if strings.HasPrefix(tc.name, "long ") && (err == nil || !strings.Contains(err.Error(), "at most ")) {
				t.Errorf("TicketCheck = %v, want the limit named", err)
			}
		})
	}
	// A product too long is said to be too long, not missing.
	if _, err := s.TicketCheck(ctx, TicketQuery{Customer: "Acme", Product: strings.Repeat("p", 129), Version: py, Severity: "1"}); err == nil ||
		!strings.Contains(err.Error(), "at most 128") {
		t.Errorf("a 129-byte product: %v, want it named too long", err)
	}
	if _, err := s.TicketCheck(ctx, TicketQuery{Customer: "Nobody", Product: "python", Version: py, Severity: "1"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("unknown customer: %v, want not found", err)
	}

	// By host: the host's customer decides; its reported install is judged.
	rep := func(hostname, install, customer, version string) {
		t.Helper()
		_, key, err := st.EnrollCustomer(ctx, api.HostInfo{InstallID: install, Hostname: hostname}, customer)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := st.HostByNodeKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		r := api.Report{ReportID: "r-" + install, Kind: api.ReportFull, Host: api.HostInfo{InstallID: install, Hostname: hostname},
			InventoryHash: "h", Items: []api.Item{{Source: "probe", Name: "python", Product: "python", Version: version}}}
		if _, err := s.Ingest(ctx, ref, r); err != nil {
			t.Fatal(err)
		}
	}
	rep("acme-web", "i-acme", acme.ID, py)
	rep("lonely", "i-none", "", py)
	a, err := s.TicketCheck(ctx, TicketQuery{Host: "acme-web", Product: "python", Severity: "1", At: "2026-01-17T22:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Accept || !a.PhoneNow || a.Customer == nil || a.Customer.Name != "Acme" || a.Eligibility.Host != "acme-web" || a.Eligibility.Installed == "" {
		t.Errorf("by host = %+v", a)
	}
	a, err = s.TicketCheck(ctx, TicketQuery{Host: "lonely", Product: "python", Severity: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Accept || a.PhoneNow || a.Customer != nil || !strings.Contains(a.Reasons[0], "belongs to no customer") {
		t.Errorf("host of no customer = %+v", a)
	}
	if _, err := s.TicketCheck(ctx, TicketQuery{Host: "acme-web", Product: "nginx", Severity: "1"}); !fault.Is(err, fault.NotFound) {
		t.Errorf("product not on the host: %v, want not found", err)
	}
}

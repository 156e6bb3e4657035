package service

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// mailEnv is the domain service with the real notifier over one store
// (SQLite or PostgreSQL, see dbEngine).
type mailEnv struct {
	db    string // the store's location (storeLocation)
	dir   string
	st    *store.Store
	nt    *notifier.Service
	clock time.Time
}

func newMailEnv(t *testing.T) *mailEnv {
	t.Helper()
	e := &mailEnv{}
	e.db, e.dir = storeLocation(t)
	e.open(t)
	return e
}

// open (re)opens the store and the notifier, as a server start does.
func (e *mailEnv) open(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st := openStore(t, e.db, e.dir)
	if err := notifier.Migrate(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	nt, err := notifier.New(ctx, st.DB(), st.Reader(), notifier.Config{PublicURL: "https://eolwatch.example", Now: func() time.Time { return e.clock },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.st, e.nt = st, nt
}

// svc is a fresh domain service (a restart keeps nothing in memory).
func (e *mailEnv) svc(t *testing.T, admins ...string) *Service {
	t.Helper()
	catOnce.Do(func() { cat, catErr = catalog.Default() })
	if catErr != nil {
		t.Fatal(catErr)
	}
	s, err := New(Config{Store: e.st, Customers: e.st, Mailer: e.nt, AdminEmails: admins, Catalog: func() *catalog.Catalog { return cat },
		Policy: catalog.DefaultPolicy(), Now: func() time.Time { return e.clock }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// outbox lists recipient: subject of every queued message, oldest first.
func (e *mailEnv) outbox(t *testing.T) []string {
	t.Helper()
	list, _, _, err := e.nt.ListOutbox(context.Background(), notifier.OutboxFilter{Page: notifier.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].Recipient+": "+list[i].Subject)
	}
	return out
}

func day(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestContractMail walks a contract that does not renew through its last
// 61 days: one mail to the contacts and the admins 60 days before, one on
// the last day, none in between, none repeated by a restart; a renewing
// contract gets none.
func TestContractMail(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t)
	e.clock = day("2026-01-29T23:30:00Z") // 2026-01-30 00:30 in Berlin: 60 days before the end
	s := e.svc(t, "admin@vendor.example")
	mk := func(spec api.CustomerSpec) api.Customer {
		c, err := s.CreateCustomer(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	mk(api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2025-04-01", ContractEnd: "2026-03-31", Timezone: "Europe/Berlin",
		Contacts: []string{"it@acme.example", "Admin@Vendor.example"}, SoldBy: "Contoso Ltd"})
	mk(api.CustomerSpec{Name: "Renewco", Tier: "standard", ContractStart: "2025-04-01", ContractEnd: "2026-03-30", AutoRenew: true,
		Contacts: []string{"it@renewco.example"}})
	run := func(want int) {
		t.Helper()
		n, err := s.ContractMail(ctx)
		if err != nil || n != want {
			t.Fatalf("ContractMail at %s = %d, %v; want %d", e.clock, n, err, want)
		}
	}
	// 2026-01-29 in UTC is still 61 days before the end, but the customer's
	// day (Berlin) is the 30th: 60 days before 2026-03-31.
	run(2)
	got := e.outbox(t)
	want := []string{
		"it@acme.example: Acme: the Premium support contract ends in 60 days, on 2026-03-31",
		"Admin@vendor.example: Acme: the Premium support contract ends in 60 days, on 2026-03-31", // the admin once, as the contact is stored (its domain lower-cased)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("outbox:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	run(0) // the same day again
	for _, d := range []string{"2026-02-15T12:00:00Z", "2026-03-28T12:00:00Z"} {
		e.clock = day(d)
		run(0)
	}
	// A restart (new store, notifier and service over the same file) sends nothing again.
	e.open(t)
	s = e.svc(t, "admin@vendor.example")
	run(0)
	// The last day: one more mail each.
	e.clock = day("2026-03-31T08:00:00Z")
	run(2)
	run(0)
	e.open(t)
	s = e.svc(t, "admin@vendor.example")
	e.clock = day("2026-04-03T08:00:00Z")
	run(0)
	got = e.outbox(t)
	if len(got) != 4 || !strings.Contains(got[2], "support contract ends today") {
		t.Errorf("outbox after the last day:\n%s", strings.Join(got, "\n"))
	}
	for _, g := range got {
		if strings.Contains(g, "Renewco") {
			t.Errorf("a renewing contract got mail: %s", g)
		}
	}
	// A changed end date (a renewal signed late: notice given on 2026-04-05)
	// gets its own mail; without contacts nor admins, nothing is sent.
	late := "2026-04-05"
	off := false
	if _, err := s.UpdateCustomer(ctx, "Renewco", api.CustomerPatch{AutoRenew: &off, NoticeGiven: &late}); err != nil {
		t.Fatal(err)
	}
	e.clock = day("2027-02-01T08:00:00Z") // Renewco now ends 2027-03-30 (notice too late for 2026-03-30)
	run(2)
	if got := e.outbox(t); !strings.Contains(strings.Join(got, "\n"), "it@renewco.example: Renewco: the Standard support contract ends in 57 days, on 2027-03-30") {
		t.Errorf("late notice mail:\n%s", strings.Join(got, "\n"))
	}
	mk(api.CustomerSpec{Name: "Silent", Tier: "standard", ContractStart: "2026-01-01", ContractEnd: "2027-03-01"})
	quiet := e.svc(t)
	if n, err := quiet.ContractMail(ctx); err != nil || n != 0 {
		t.Errorf("no contacts, no admins: %d, %v", n, err)
	}
}

// TestRiskDigest: each week, from Monday 07:00 UTC, every customer with
// hosts whose installs are not eligible gets one digest listing them.
func TestRiskDigest(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t)
	e.clock = day("2026-03-08T12:00:00Z") // Sunday: week 10's digest is out already? no: week 10 began Monday 2026-03-02
	s := e.svc(t)
	acme, err := s.CreateCustomer(ctx, api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2099-12-31",
		AutoRenew: true, Contacts: []string{"it@acme.example"}})
	if err != nil {
		t.Fatal(err)
	}
	clean, _ := s.CreateCustomer(ctx, api.CustomerSpec{Name: "Cleanco", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2099-12-31",
		AutoRenew: true, Contacts: []string{"it@clean.example"}})
	report := func(hostname, customer string, items ...api.Item) {
		t.Helper()
		_, key, err := e.st.EnrollCustomer(ctx, api.HostInfo{InstallID: "i-" + hostname, Hostname: hostname}, customer)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := e.st.HostByNodeKey(ctx, key)
		if _, err := s.Ingest(ctx, ref, api.Report{ReportID: "r-" + hostname, Kind: api.ReportFull, InventoryHash: "h",
			Host: api.HostInfo{InstallID: "i-" + hostname, Hostname: hostname}, Items: items}); err != nil {
			t.Fatal(err)
		}
	}
	py := cat.Product("python").Cycles[0].Latest
	report("acme-old", acme.ID, api.Item{Source: "probe", Name: "python", Product: "python", Version: "2.7.18"})
	report("acme-new", acme.ID, api.Item{Source: "probe", Name: "python", Product: "python", Version: py})
	report("clean-1", clean.ID, api.Item{Source: "probe", Name: "python", Product: "python", Version: py})
	report("nobody", "", api.Item{Source: "probe", Name: "python", Product: "python", Version: "2.7.18"})
	// An image uploaded for Imageco runs an ended Debian release's python: its digest lists an asset.
	if _, err := s.CreateCustomer(ctx, api.CustomerSpec{Name: "Imageco", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2099-12-31",
		AutoRenew: true, Contacts: []string{"it@image.example"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestSBOM(ctx, SBOMInput{Name: "registry.example/shop:1", Customer: "Imageco", By: "test", Body: strings.NewReader(
		`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"operating-system","name":"debian","version":"10"},` +
			`{"name":"python3.7","version":"3.7.3-2+deb10u7","purl":"pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?arch=amd64&distro=debian-10"}]}`)}); err != nil {
		t.Fatal(err)
	}
	n, err := s.ContractMail(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ContractMail in week 10 = %d, %v; want 2 digests", n, err)
	}
	got := e.outbox(t)
	slices.Sort(got)
	if len(got) != 2 || got[0] != "it@acme.example: Acme: 1 host not eligible for support (2026-W10)" ||
		got[1] != "it@image.example: Imageco: 1 asset not eligible for support (2026-W10)" {
		t.Fatalf("outbox: %q", got)
	}
	if n, _ := s.ContractMail(ctx); n != 0 {
		t.Errorf("second run in the same week queued %d", n)
	}
	// Monday of week 11 before 07:00 UTC: not yet; at 07:00: the next digest.
	e.clock = day("2026-03-09T06:59:00Z")
	if n, _ := s.ContractMail(ctx); n != 0 {
		t.Errorf("before Monday 07:00 UTC: %d queued", n)
	}
	e.clock = day("2026-03-09T07:00:00Z")
	if n, _ := e.svc(t).ContractMail(ctx); n != 2 {
		t.Errorf("Monday 07:00 UTC of week 11: %d queued, want 2 (Acme's, Imageco's)", n)
	}
	if sent, _ := e.st.CustomerMailSent(ctx, clean.ID, mailRisk, "2026-W11"); !sent {
		t.Error("a customer without risk is not recorded as done for the week")
	}
}

func TestRiskWeek(t *testing.T) {
	for _, tt := range []struct {
		at   string
		week string
		due  bool
	}{
		{"2026-03-09T06:59:59Z", "2026-W11", false},
		{"2026-03-09T07:00:00Z", "2026-W11", true},
		{"2026-03-15T23:59:00Z", "2026-W11", true}, // Sunday, the week's last day
		{"2025-12-29T08:00:00Z", "2026-W01", true}, // ISO week 1 of 2026 starts in 2025
		{"2026-01-01T12:00:00+09:00", "2026-W01", true},
	} {
		t.Run(tt.at, func(t *testing.T) {
			w, due := RiskWeek(day(tt.at), time.Monday, 7)
			if w != tt.week || due != tt.due {
				t.Errorf("RiskWeek(%s) = %s, %v; want %s, %v", tt.at, w, due, tt.week, tt.due)
			}
		})
	}
	if _, due := RiskWeek(day("2026-03-12T09:00:00Z"), time.Friday, 7); due {
		t.Error("a Friday digest is due on Thursday")
	}
}

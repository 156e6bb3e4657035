package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

func spec() api.CustomerSpec {
	return api.CustomerSpec{Name: "Acme", Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Timezone: "Europe/Berlin"}
}

// TestNormalizeBadInput: every bad field is refused with a fault.Invalid
// error naming it.
func TestNormalizeBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*api.CustomerSpec)
		field string
		msg   string
	}{
		{"no name", func(s *api.CustomerSpec) { s.Name = "  " }, "name", "name is required"},
		{"control char in name", func(s *api.CustomerSpec) { s.Name = "Ac\x07me" }, "name", "control character"},
		{"long name", func(s *api.CustomerSpec) { s.Name = strings.Repeat("x", 201) }, "name", "at most 200"},
		{"unknown tier", func(s *api.CustomerSpec) { s.Tier = "platinum" }, "tier", `tier "platinum": want standard, premium, enterprise or success-squad`},
		{"no tier", func(s *api.CustomerSpec) { s.Tier = "" }, "tier", "tier"},
		{"no start", func(s *api.CustomerSpec) { s.ContractStart = "" }, "contract_start", "contract_start is required"},
		{"bad start", func(s *api.CustomerSpec) { s.ContractStart = "2025-13-01" }, "contract_start", "not a date"},
		{"impossible end", func(s *api.CustomerSpec) { s.ContractEnd = "2025-02-30" }, "contract_end", "not a date"},
		{"end before start", func(s *api.CustomerSpec) { s.ContractEnd = "2024-12-31" }, "contract_end", "contract_end 2024-12-31 is before contract_start 2025-01-01"},
		{"bad timezone", func(s *api.CustomerSpec) { s.Timezone = "Mars/Olympus" }, "timezone", `timezone "Mars/Olympus" is not an IANA time zone`},
		{"local timezone", func(s *api.CustomerSpec) { s.Timezone = "Local" }, "timezone", "not an IANA"},
		{"malformed holiday", func(s *api.CustomerSpec) { s.Holidays = []string{"2025-12-25", "25/12/2025"} }, "holidays[1]", `holidays[1]: "25/12/2025" is not a date`},
		{"too many holidays", func(s *api.CustomerSpec) { s.Holidays = make([]string, 1001) }, "holidays", "at most 1000"},
		{"bad contact", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@acme.example", "not an address"} }, "contacts[1]", "not an email address"},
		{"single-label contact", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@localhost"} }, "contacts[0]", `contacts[0]: "ops@localhost" has no dot in its domain`},
		{"single-label contact with a name", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@acme.example", "Ops <ops@corp>"} }, "contacts[1]", "has no dot"},
		{"literal contact", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@[127.0.0.1]"} }, "contacts[0]", "domain literal"},
		{"IP contact", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@10.0.0.1"} }, "contacts[0]", "IP address"},
		{"invalid IDNA contact", func(s *api.CustomerSpec) { s.Contacts = []string{"ops@xn--zz.example"} }, "contacts[0]", "IDNA"},
		{"notice with auto-renew", func(s *api.CustomerSpec) { s.AutoRenew, s.NoticeGiven = true, "2025-06-01" }, "notice_given", "set auto_renew to false"},
		{"bad notice", func(s *api.CustomerSpec) { s.NoticeGiven = "June" }, "notice_given", "not a date"},
		{"notice before start", func(s *api.CustomerSpec) { s.NoticeGiven = "2024-06-01" }, "notice_given", "before contract_start"},
		{"no working day", func(s *api.CustomerSpec) { s.BusinessHours = &api.BusinessHours{Open: "09:00", Close: "17:00"} }, "business_hours.days", "at least one"},
		{"bad day", func(s *api.CustomerSpec) {
			s.BusinessHours = &api.BusinessHours{Days: []string{"mon", "funday"}, Open: "09:00", Close: "17:00"}
		}, "business_hours.days[1]", `"funday" is not a day`},
		{"bad open", func(s *api.CustomerSpec) {
			s.BusinessHours = &api.BusinessHours{Days: []string{"mon"}, Open: "9am", Close: "17:00"}
		}, "business_hours.open", "want HH:MM"},
		{"open 24:00", func(s *api.CustomerSpec) {
			s.BusinessHours = &api.BusinessHours{Days: []string{"mon"}, Open: "24:00", Close: "24:00"}
		}, "business_hours.open", "want HH:MM"},
		{"close 25:00", func(s *api.CustomerSpec) {
			s.BusinessHours = &api.BusinessHours{Days: []string{"mon"}, Open: "09:00", Close: "25:00"}
		}, "business_hours.close", "want HH:MM"},
		{"close before open", func(s *api.CustomerSpec) {
			s.BusinessHours = &api.BusinessHours{Days: []string{"mon"}, Open: "18:00", Close: "09:00"}
		}, "business_hours.close", "not after business_hours.open"},
		{"partner with newline", func(s *api.CustomerSpec) { s.SoldBy = "Contoso\nBcc: x" }, "sold_by", "control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec()
			tt.edit(&s)
			err := Normalize(&s, Tiers)
			fe, ok := fault.As(err)
			if !ok || fe.Code != fault.Invalid {
				t.Fatalf("Normalize = %v, want a fault.Invalid error", err)
			}
			if fe.Field != tt.field || !strings.Contains(fe.Msg, tt.msg) {
				t.Errorf("Normalize = field %q, %q; want field %q, message with %q", fe.Field, fe.Msg, tt.field, tt.msg)
			}
			if _, err := New(s, Tiers); err == nil {
				t.Error("New accepted what Normalize refused")
			}
		})
	}
}

// TestNormalizeCanonical: accepted input is stored in one spelling.
func TestNormalizeCanonical(t *testing.T) {
	s := api.CustomerSpec{Name: "  Acme  ", Tier: " Success Squad ", ContractStart: "2025-01-01", ContractEnd: "2025-12-31",
		SoldBy: " Contoso ", Holidays: []string{"2025-12-26", "2025-12-25", "2025-12-26"},
		Contacts:      []string{"Ops <ops@acme.example>", "OPS@acme.example", "it@acme.example"},
		BusinessHours: &api.BusinessHours{Days: []string{"Friday", "mon", "TUE"}, Open: "08:30", Close: "24:00"}}
	if err := Normalize(&s, Tiers); err != nil {
		t.Fatal(err)
	}
	want := api.CustomerSpec{Name: "Acme", Tier: "success-squad", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", SoldBy: "Contoso",
		Timezone: "UTC", Holidays: []string{"2025-12-25", "2025-12-26"}, Contacts: []string{"ops@acme.example", "it@acme.example"},
		BusinessHours: &api.BusinessHours{Days: []string{"mon", "tue", "fri"}, Open: "08:30", Close: "24:00"}}
	g, _ := json.Marshal(s)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("Normalize =\n%s\nwant\n%s", g, w)
	}
	// Defaults: Monday to Friday, 09:00 to 18:00; holidays and contacts empty, not null.
	d := spec()
	if err := Normalize(&d, Tiers); err != nil {
		t.Fatal(err)
	}
	if h := d.BusinessHours; !slices.Equal(h.Days, []string{"mon", "tue", "wed", "thu", "fri"}) || h.Open != "09:00" || h.Close != "18:00" {
		t.Errorf("default hours = %+v", h)
	}
	if d.Holidays == nil || d.Contacts == nil {
		t.Errorf("holidays %v, contacts %v: want empty lists", d.Holidays, d.Contacts)
	}
	// Normalizing twice changes nothing.
	again := s
	if err := Normalize(&again, Tiers); err != nil {
		t.Fatal(err)
	}
	if a, _ := json.Marshal(again); string(a) != string(g) {
		t.Errorf("Normalize is not idempotent:\n%s\n%s", a, g)
	}
}

func TestHoursString(t *testing.T) {
	tests := []struct {
		days []string
		want string
	}{
		{[]string{"mon", "tue", "wed", "thu", "fri"}, "Monday to Friday, 09:00–18:00"},
		{[]string{"mon", "wed", "fri"}, "Monday, Wednesday and Friday, 09:00–18:00"},
		{[]string{"mon", "tue", "thu", "fri", "sat"}, "Monday, Tuesday and Thursday to Saturday, 09:00–18:00"},
		{[]string{"sun"}, "Sunday, 09:00–18:00"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			h, err := parseHours(api.BusinessHours{Days: tt.days, Open: "09:00", Close: "18:00"})
			if err != nil {
				t.Fatal(err)
			}
			if got := h.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestTerms covers renewal: an auto-renewing contract's term end moves a
// year at a time; notice of non-renewal ends it with the first term that
// ends at least 60 days after the notice; without auto-renew it ends with
// its first term.
func TestTerms(t *testing.T) {
	tests := []struct {
		name       string
		start, end string
		autoRenew  bool
		notice     string
		on         string
		status     string
		termEnd    string
		renews     bool
		noticeBy   string
		daysLeft   int
	}{
		{"fixed, during", "2025-01-01", "2025-12-31", false, "", "2025-06-01", "active", "2025-12-31", false, "", 213},
		{"fixed, last day", "2025-01-01", "2025-12-31", false, "", "2025-12-31", "active", "2025-12-31", false, "", 0},
		{"fixed, the day after", "2025-01-01", "2025-12-31", false, "", "2026-01-01", "expired", "2025-12-31", false, "", -1},
		{"before the start", "2025-01-01", "2025-12-31", true, "", "2024-12-31", "not-started", "2025-12-31", true, "2025-11-01", 365},
		{"renewing, first term", "2025-01-01", "2025-12-31", true, "", "2025-06-01", "active", "2025-12-31", true, "2025-11-01", 213},
		{"renewing, first day of second term", "2025-01-01", "2025-12-31", true, "", "2026-01-01", "active", "2026-12-31", true, "2026-11-01", 364},
		{"renewing, years later", "2020-04-01", "2021-03-31", true, "", "2025-06-01", "active", "2026-03-31", true, "2026-01-30", 303},
		{"notice in time ends the term", "2025-01-01", "2025-12-31", false, "2025-11-01", "2025-12-31", "active", "2025-12-31", false, "", 0},
		{"notice in time, after the end", "2025-01-01", "2025-12-31", false, "2025-11-01", "2026-01-01", "expired", "2025-12-31", false, "", -1},
		{"late notice renews once more", "2025-01-01", "2025-12-31", false, "2025-11-02", "2026-01-01", "active", "2026-12-31", false, "", 364},
		{"late notice, after the extra term", "2025-01-01", "2025-12-31", false, "2025-11-02", "2027-01-01", "expired", "2026-12-31", false, "", -1},
		{"notice in a later term", "2020-01-01", "2020-12-31", false, "2023-03-15", "2023-06-01", "active", "2023-12-31", false, "", 213},
		{"29 February anniversary", "2023-03-01", "2024-02-29", true, "", "2024-03-01", "active", "2025-02-28", true, "2024-12-30", 364},
		{"one-day contract", "2025-05-05", "2025-05-05", false, "", "2025-05-05", "active", "2025-05-05", false, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustContract(t, api.CustomerSpec{Name: "x", Tier: "standard", ContractStart: tt.start, ContractEnd: tt.end, AutoRenew: tt.autoRenew, NoticeGiven: tt.notice})
			on, _ := ParseDay(tt.on)
			got := c.State(on)
			want := api.ContractState{Status: tt.status, AsOf: tt.on, TermEnd: tt.termEnd, Renews: tt.renews, NoticeBy: tt.noticeBy, DaysLeft: tt.daysLeft}
			if got != want {
				t.Errorf("State(%s) = %+v, want %+v", tt.on, got, want)
			}
			if c.Active(on) != (tt.status == "active") {
				t.Errorf("Active(%s) = %v", tt.on, c.Active(on))
			}
		})
	}
}

// TestNoticeDue: the contract mail of a contract that does not renew goes
// out from 60 days before its last day, and on the last day (a late server
// catches up within a week); renewing contracts get none.
func TestNoticeDue(t *testing.T) {
	tests := []struct {
		name      string
		autoRenew bool
		notice    string
		today     string
		kind      string
		end       string
		left      int
	}{
		{"61 days before", false, "", "2025-10-31", "", "", 0},
		{"60 days before", false, "", "2025-11-01", NoticeEnding, "2025-12-31", 60},
		{"the day before", false, "", "2025-12-30", NoticeEnding, "2025-12-31", 1},
		{"the last day", false, "", "2025-12-31", NoticeEnded, "2025-12-31", 0},
		{"six days late", false, "", "2026-01-06", NoticeEnded, "2025-12-31", -6},
		{"a week late", false, "", "2026-01-07", "", "", 0},
		{"renewing: never", true, "", "2025-12-31", "", "", 0},
		{"late notice: the later end", false, "2025-11-15", "2026-11-01", NoticeEnding, "2026-12-31", 60},
		{"late notice: not at the first term's end", false, "2025-11-15", "2025-12-31", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustContract(t, api.CustomerSpec{Name: "x", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", AutoRenew: tt.autoRenew, NoticeGiven: tt.notice})
			today, _ := ParseDay(tt.today)
			n, ok := c.NoticeDue(today)
			if ok != (tt.kind != "") || n.Kind != tt.kind || n.End.String() != tt.end || n.DaysLeft != tt.left {
				t.Errorf("NoticeDue(%s) = %+v, %v; want kind %q end %q left %d", tt.today, n, ok, tt.kind, tt.end, tt.left)
			}
		})
	}
}

func TestDayArithmetic(t *testing.T) {
	d := func(s string) Day {
		v, err := ParseDay(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name string
		got  Day
		want string
	}{
		{"add days across a year", d("2025-12-31").AddDays(1), "2026-01-01"},
		{"subtract days", d("2025-03-01").AddDays(-1), "2025-02-28"},
		{"leap anniversary", d("2024-02-29").AddYears(1), "2025-02-28"},
		{"leap to leap", d("2024-02-29").AddYears(4), "2028-02-29"},
		{"ordinary anniversary", d("2025-06-30").AddYears(2), "2027-06-30"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.String() != tt.want {
				t.Errorf("%s: %s, want %s", tt.name, tt.got, tt.want)
			}
		})
	}
	if n := d("2025-01-01").DaysUntil(d("2024-12-30")); n != -2 {
		t.Errorf("DaysUntil backwards = %d, want -2", n)
	}
	if n := d("2025-03-29").DaysUntil(d("2025-04-01")); n != 3 {
		t.Errorf("DaysUntil = %d, want 3", n)
	}
	if (Day{}).String() != "" || !(Day{}).IsZero() {
		t.Error("the zero Day is not empty")
	}
}

// FuzzNormalize: no customer input makes Normalize panic, and accepted
// input normalizes to a fixed point that New accepts.
func FuzzNormalize(f *testing.F) {
	f.Add("Acme", "premium", "2025-01-01", "2025-12-31", false, "", "Europe/Berlin", "mon,tue", "09:00", "18:00", "2025-12-25", "ops@acme.example")
	f.Add("", "Success Squad", "2025-02-29", "2024-01-01", true, "2025-01-01", "Local", "", "24:00", "9", "bad", "x")
	f.Fuzz(func(t *testing.T, name, tier, start, end string, renew bool, notice, tz, days, open, close, holiday, contact string) {
		s := api.CustomerSpec{Name: name, Tier: tier, ContractStart: start, ContractEnd: end, AutoRenew: renew, NoticeGiven: notice,
			Timezone: tz, Holidays: []string{holiday}, Contacts: []string{contact},
			BusinessHours: &api.BusinessHours{Days: strings.Split(days, ","), Open: open, Close: close}}
		if err := Normalize(&s, Tiers); err != nil {
			if !fault.Is(err, fault.Invalid) {
				t.Fatalf("Normalize error %v is not fault.Invalid", err)
			}
			return
		}
		first, _ := json.Marshal(s)
		if err := Normalize(&s, Tiers); err != nil {
			t.Fatalf("normalized input refused: %v", err)
		}
		if again, _ := json.Marshal(s); string(again) != string(first) {
			t.Fatalf("not a fixed point:\n%s\n%s", first, again)
		}
		c, err := New(s, Tiers)
		if err != nil {
			t.Fatalf("New refused normalized input: %v", err)
		}
		c.Final()
	})
}

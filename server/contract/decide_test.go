package contract

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

func mustContract(t testing.TB, s api.CustomerSpec) *Contract {
	t.Helper()
	c, err := New(s, Tiers)
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return c
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var (
	eligible = api.Eligibility{Eligible: true, Product: "python", Version: "3.12.12", Support: "supported", Patch: "current", Status: "current", Cycle: "3.12"}
	pastEOL  = api.Eligibility{Eligible: false, Product: "python", Version: "3.8.10", Support: "eol", Patch: "overdue", Status: "eol", Cycle: "3.8",
		EOL: "2024-10-07", UpgradeTo: "3.9.21"}
)

// berlin is the support centre of the cross-product test: Mon–Fri
// 09:00–18:00 in Europe/Berlin, closed on 25 and 26 December 2025.
func berlin(tier, soldBy, start, end string) api.CustomerSpec {
	return api.CustomerSpec{Name: "Acme GmbH", Tier: tier, ContractStart: start, ContractEnd: end, SoldBy: soldBy,
		Timezone: "Europe/Berlin", Holidays: []string{"2025-12-25", "2025-12-26"}}
}

// TestDecideCrossProduct covers every tier × severity × day kind (weekday,
// weekend, holiday) × time (inside or outside business hours) × sale
// (direct or partner) × contract (active or expired). The expectation is
// the rules written out by tier name, independently of the rules
// table: Premium and up are covered 24x7 for Severity 1 only, holidays
// handle only Severity 1 on those tiers, everything else waits for the
// next business-hours opening; a phone callback comes with covered work.
func TestDecideCrossProduct(t *testing.T) {
	type moment struct {
		name     string
		at       string // UTC
		holiday  bool
		inside   bool   // inside business hours (on a business day)
		nextOpen string // next business-hours opening, UTC
	}
	moments := []moment{
		// December: CET, UTC+1.
		{"weekday-inside", "2025-12-09T09:00:00Z", false, true, ""},                           // Tue 10:00
		{"weekday-outside", "2025-12-09T19:00:00Z", false, false, "2025-12-10T08:00:00Z"},     // Tue 20:00 → Wed 09:00
		{"weekday-before-open", "2025-12-09T07:59:00Z", false, false, "2025-12-09T08:00:00Z"}, // Tue 08:59 → Tue 09:00
		{"weekend-daytime", "2025-12-13T09:00:00Z", false, false, "2025-12-15T08:00:00Z"},     // Sat 10:00 → Mon 09:00
		{"weekend-night", "2025-12-14T22:30:00Z", false, false, "2025-12-15T08:00:00Z"},       // Sun 23:30 → Mon 09:00
		{"holiday-daytime", "2025-12-25T09:00:00Z", true, false, "2025-12-29T08:00:00Z"},      // Thu 25th 10:00 → Mon 29th (26th is a holiday too)
		{"holiday-night", "2025-12-25T21:00:00Z", true, false, "2025-12-29T08:00:00Z"},        // Thu 25th 22:00
		{"holiday-eve-closing", "2025-12-24T17:00:00Z", false, false, "2025-12-29T08:00:00Z"}, // Wed 24th 18:00 (closing) → Mon 29th
	}
	contracts := []struct {
		name, start, end string
		active           bool
	}{
		{"active", "2025-01-01", "2025-12-31", true},
		{"expired", "2024-01-01", "2024-12-31", false},
	}
	for _, tier := range []string{TierStandard, TierPremium, TierEnterprise, TierSuccessSquad} {
		for sev := 1; sev <= 4; sev++ {
			for _, m := range moments {
				for _, soldBy := range []string{"", "Contoso Ltd"} {
					for _, ct := range contracts {
						sale := "direct"
						if soldBy != "" {
							sale = "partner"
						}
						name := fmt.Sprintf("%s/sev%d/%s/%s/%s", tier, sev, m.name, sale, ct.name)
						t.Run(name, func(t *testing.T) {
							c := mustContract(t, berlin(tier, soldBy, ct.start, ct.end))
							at := mustTime(t, m.at)
							d := c.Decide(Ticket{Severity: sev, At: at, Eligibility: eligible})

							twentyFourSeven := tier != TierStandard && sev == 1
							wantCovered := m.inside || twentyFourSeven // holidays: only 24x7 Severity 1
							if m.holiday {
								wantCovered = twentyFourSeven
							}
							if d.Covered != wantCovered {
								t.Errorf("covered = %v, want %v\n%s", d.Covered, wantCovered, strings.Join(d.Reasons, "\n"))
							}
							if d.Accept != ct.active {
								t.Errorf("accept = %v, want %v (contract %s)", d.Accept, ct.active, ct.name)
							}
							if want := ct.active && wantCovered; d.PhoneNow != want {
								t.Errorf("phone_now = %v, want %v", d.PhoneNow, want)
							}
							wantStart := at
							if !wantCovered {
								wantStart = mustTime(t, m.nextOpen)
							}
							if !d.WorkStarts.Equal(wantStart) || d.WorkStarts.Location() != time.UTC {
								t.Errorf("work_starts = %s, want %s UTC", d.WorkStarts, wantStart.UTC())
							}
							wantRoute := api.RouteVendor
							if soldBy != "" {
								wantRoute = api.RoutePartner
							}
							if d.Route != wantRoute {
								t.Errorf("route = %q, want %q", d.Route, wantRoute)
							}
							all := strings.Join(d.Reasons, " ")
							if soldBy != "" && !strings.Contains(all, "sold by Contoso Ltd") {
								t.Errorf("partner contract: reasons do not name the partner:\n%s", all)
							}
							if !ct.active && !strings.Contains(all, "ended on 2024-12-31") {
								t.Errorf("expired contract: reasons do not give the end date:\n%s", all)
							}
							if m.holiday && !strings.Contains(all, "is a holiday") {
								t.Errorf("holiday: reasons do not say so:\n%s", all)
							}
							if !wantCovered && !strings.Contains(all, "09:00 Europe/Berlin") {
								t.Errorf("not covered: reasons do not say when work starts:\n%s", all)
							}
							for _, r := range d.Reasons {
								if r == "" || !strings.HasSuffix(r, ".") {
									t.Errorf("reason %q is not a sentence", r)
								}
							}
						})
					}
				}
			}
		}
	}
}

// TestDecideReasons pins whole answers for the cases a support engineer
// meets most, reasons word for word.
func TestDecideReasons(t *testing.T) {
	tests := []struct {
		name        string
		spec        api.CustomerSpec
		sev         int
		at          string
		elig        api.Eligibility
		accept      bool
		phone       bool
		workStarts  string
		route       string
		wantReasons []string
	}{
		{
			name: "premium sev1 on a Saturday night: 24x7",
			spec: berlin("premium", "", "2025-01-01", "2025-12-31"), sev: 1, at: "2025-12-13T21:30:00Z", elig: eligible,
			accept: true, phone: true, workStarts: "2025-12-13T21:30:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH has an active Premium contract until 2025-12-31; it does not renew.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Saturday 2025-12-13 22:30 in Europe/Berlin, outside business hours (Monday to Friday, 09:00–18:00).",
				"Severity 1 (Urgent) on a Premium contract is covered 24x7: work starts now, with a phone callback.",
			},
		},
		{
			name: "standard sev1 on a Saturday: Monday morning",
			spec: berlin("standard", "", "2025-01-01", "2025-12-31"), sev: 1, at: "2025-12-13T21:30:00Z", elig: eligible,
			accept: true, phone: false, workStarts: "2025-12-15T08:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH has an active Standard contract until 2025-12-31; it does not renew.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Saturday 2025-12-13 22:30 in Europe/Berlin, outside business hours (Monday to Friday, 09:00–18:00).",
				"Severity 1 (Urgent) on a Standard contract is worked in business hours only (24x7 cover for it needs a Premium, Enterprise or Success Squad contract): work starts Monday 2025-12-15 09:00 Europe/Berlin (2025-12-15 08:00 UTC); no phone callback before then.",
			},
		},
		{
			name: "enterprise sev2 at night: next morning",
			spec: berlin("enterprise", "", "2025-01-01", "2025-12-31"), sev: 2, at: "2025-12-09T19:00:00Z", elig: eligible,
			accept: true, phone: false, workStarts: "2025-12-10T08:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH has an active Enterprise contract until 2025-12-31; it does not renew.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Tuesday 2025-12-09 20:00 in Europe/Berlin, outside business hours (Monday to Friday, 09:00–18:00).",
				"Severity 2 (High impact) on an Enterprise contract is worked in business hours only (24x7 cover is for Severity 1 only): work starts Wednesday 2025-12-10 09:00 Europe/Berlin (2025-12-10 08:00 UTC); no phone callback before then.",
			},
		},
		{
			name: "success squad sev1 on a holiday, sold by a partner",
			spec: berlin("success squad", "Contoso Ltd", "2025-01-01", "2025-12-31"), sev: 1, at: "2025-12-25T10:00:00Z", elig: eligible,
			accept: true, phone: true, workStarts: "2025-12-25T10:00:00Z", route: "partner",
			wantReasons: []string{
				"Acme GmbH has an active Success Squad contract until 2025-12-31; it does not renew.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract was sold by Contoso Ltd: Contoso Ltd gives first-line support, so the ticket goes to Contoso Ltd first.",
				"Thursday 2025-12-25 is a holiday at Acme GmbH's support centre (Europe/Berlin): on holidays only Severity 1 on Premium, Enterprise or Success Squad contracts is handled.",
				"Severity 1 (Urgent) on a Success Squad contract is handled on holidays: work starts now, with a phone callback.",
			},
		},
		{
			name: "premium sev3 on a holiday: next business day",
			spec: berlin("premium", "", "2025-01-01", "2025-12-31"), sev: 3, at: "2025-12-25T10:00:00Z", elig: eligible,
			accept: true, phone: false, workStarts: "2025-12-29T08:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH has an active Premium contract until 2025-12-31; it does not renew.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"Thursday 2025-12-25 is a holiday at Acme GmbH's support centre (Europe/Berlin): on holidays only Severity 1 on Premium, Enterprise or Success Squad contracts is handled.",
				"Severity 3 (Moderate impact) on a Premium contract waits for the next business day: work starts Monday 2025-12-29 09:00 Europe/Berlin (2025-12-29 08:00 UTC); no phone callback before then.",
			},
		},
		{
			name: "expired contract, eligible version, in hours",
			spec: berlin("premium", "", "2024-01-01", "2024-12-31"), sev: 2, at: "2025-03-04T10:00:00Z", elig: eligible,
			accept: false, phone: false, workStarts: "2025-03-04T10:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH's Premium contract ended on 2024-12-31: support needs an active contract, so the customer must renew before the ticket can be accepted.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Tuesday 2025-03-04 11:00 in Europe/Berlin, inside business hours (Monday to Friday, 09:00–18:00): work would start now.",
				"The ticket is refused: no work starts and no phone callback is offered until the reasons above are resolved.",
			},
		},
		{
			name: "active contract, version past its end of life",
			spec: berlin("standard", "", "2025-01-01", "2025-12-31"), sev: 3, at: "2025-03-04T10:00:00Z", elig: pastEOL,
			accept: false, phone: false, workStarts: "2025-03-04T10:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH has an active Standard contract until 2025-12-31; it does not renew.",
				"python 3.8.10 is past its end of life (2024-10-07) and is not eligible for support. The customer must upgrade to 3.9.21 or later first.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Tuesday 2025-03-04 11:00 in Europe/Berlin, inside business hours (Monday to Friday, 09:00–18:00): work would start now.",
				"The ticket is refused: no work starts and no phone callback is offered until the reasons above are resolved.",
			},
		},
		{
			name: "contract not started yet",
			spec: berlin("premium", "", "2026-01-01", "2026-12-31"), sev: 4, at: "2025-12-30T10:00:00Z", elig: eligible,
			accept: false, phone: false, workStarts: "2025-12-30T10:00:00Z", route: "vendor",
			wantReasons: []string{
				"Acme GmbH's Premium contract starts on 2026-01-01: no ticket is covered before then.",
				"python 3.12.12 is a supported version (release 3.12), so it is eligible for support.",
				"The contract is direct: the vendor's support team takes the ticket.",
				"It is Tuesday 2025-12-30 11:00 in Europe/Berlin, inside business hours (Monday to Friday, 09:00–18:00): work would start now.",
				"The ticket is refused: no work starts and no phone callback is offered until the reasons above are resolved.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustContract(t, tt.spec)
			d := c.Decide(Ticket{Severity: tt.sev, At: mustTime(t, tt.at), Eligibility: tt.elig})
			if d.Accept != tt.accept || d.PhoneNow != tt.phone || d.Route != tt.route {
				t.Errorf("accept, phone_now, route = %v, %v, %q; want %v, %v, %q", d.Accept, d.PhoneNow, d.Route, tt.accept, tt.phone, tt.route)
			}
			if got := d.WorkStarts.Format(time.RFC3339); got != tt.workStarts {
				t.Errorf("work_starts = %s, want %s", got, tt.workStarts)
			}
			if !slices.Equal(d.Reasons, tt.wantReasons) {
				t.Errorf("reasons:\n%s\nwant:\n%s", strings.Join(d.Reasons, "\n"), strings.Join(tt.wantReasons, "\n"))
			}
		})
	}
}

// TestDecideVersionReasons checks the sentence for every kind of version
// answer names what the customer must do.
func TestDecideVersionReasons(t *testing.T) {
	tests := []struct {
		name string
		e    api.Eligibility
		want string
	}{
		{"eligible", eligible, "python 3.12.12 is a supported version (release 3.12), so it is eligible for support."},
		{"patch available", api.Eligibility{Eligible: true, Product: "python", Version: "3.12.3", Support: "supported", Patch: "available", Latest: "3.12.4", Cycle: "3.12"},
			"python 3.12.3 is a supported version (release 3.12), so it is eligible for support. Patch 3.12.4 is available; the customer should install it within the grace period."},
		{"patch overdue", api.Eligibility{Product: "python", Version: "3.11.2", Support: "supported", Patch: "overdue", Latest: "3.11.14", Status: "patch-overdue"},
			"python 3.11.2 is not eligible for support: patch 3.11.14 was published longer ago than the grace period allows and is not installed. The customer must install 3.11.14 first."},
		{"eol", pastEOL, "python 3.8.10 is past its end of life (2024-10-07) and is not eligible for support. The customer must upgrade to 3.9.21 or later first."},
		{"eol on a host", api.Eligibility{Product: "debian", Version: "10", Host: "web1", Support: "eol", EOL: "2024-06-30", UpgradeTo: "12"},
			"debian 10 on web1 is past its end of life (2024-06-30) and is not eligible for support. The customer must upgrade to 12 or later first."},
		{"eol, the distribution's release stopped maintaining it", api.Eligibility{Product: "python", Version: "3.7.3", Host: "web1", Support: "eol",
			EOL: "2024-06-30", Maintainer: "debian", Newest: "3.14.7",
			Reason: "Not eligible: this version is past its end of life. Python 3.7 reached end of life upstream on 2023-06-27; Debian 10 stopped maintaining it on 2024-06-30; upgrade the host to Debian 12.15 or later."},
			"python 3.7.3 on web1 is past its end of life (2024-06-30) and is not eligible for support. Python 3.7 reached end of life upstream on 2023-06-27; Debian 10 stopped maintaining it on 2024-06-30; upgrade the host to Debian 12.15 or later."},
		{"eol, nothing to move to", api.Eligibility{Product: "centos", Version: "7", Support: "eol", EOL: true},
			"centos 7 is past its end of life and is not eligible for support. No release of centos is still supported to upgrade to."},
		{"unknown version", api.Eligibility{Product: "python", Version: "9.9", Support: "unknown-version", UpgradeTo: "3.13.1"},
			"python 9.9 is not a version of any supported release, so it is not eligible for support. The customer must move to 3.13.1 or later first."},
		{"unknown product", api.Eligibility{Product: "frobnicator", Version: "1", Support: "unknown-product"},
			"The catalog does not know frobnicator, so its support cannot be confirmed and the version is not eligible for support."},
		{"several installs", api.Eligibility{Product: "python", Version: "3.8.10", Support: "eol", EOL: "2024-10-07", UpgradeTo: "3.9.21",
			Host: "web1", Installs: []api.Eligibility{{}, {}}},
			"python 3.8.10 on web1 (the worst of 2 installed versions) is past its end of life (2024-10-07) and is not eligible for support. The customer must upgrade to 3.9.21 or later first."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VersionReason(tt.e); got != tt.want {
				t.Errorf("VersionReason =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestDaylightSavingWeek walks the week of a daylight-saving change in
// both directions and two zones: opening times stay 09:00 local while
// their UTC instants move by an hour.
func TestDaylightSavingWeek(t *testing.T) {
	tests := []struct {
		name, zone string
		at         string // UTC
		inHours    bool
		next       string // next opening (UTC), when not in hours
	}{
		// New York springs forward on Sunday 2025-03-09 (EST UTC-5 → EDT UTC-4).
		{"NY Friday before, 08:59 EST", "America/New_York", "2025-03-07T13:59:00Z", false, "2025-03-07T14:00:00Z"},
		{"NY Friday before, 09:00 EST", "America/New_York", "2025-03-07T14:00:00Z", true, ""},
		{"NY Friday before, 17:59 EST", "America/New_York", "2025-03-07T22:59:00Z", true, ""},
		{"NY Friday evening → Monday 09:00 EDT", "America/New_York", "2025-03-07T23:00:00Z", false, "2025-03-10T13:00:00Z"},
		{"NY Sunday 03:30 EDT (the skipped hour's end)", "America/New_York", "2025-03-09T07:30:00Z", false, "2025-03-10T13:00:00Z"},
		{"NY Monday after, 08:59 EDT", "America/New_York", "2025-03-10T12:59:00Z", false, "2025-03-10T13:00:00Z"},
		{"NY Monday after, 09:00 EDT", "America/New_York", "2025-03-10T13:00:00Z", true, ""},
		{"NY Monday after, 09:00 UTC-5 would be 10:00 EDT", "America/New_York", "2025-03-10T14:00:00Z", true, ""},
		{"NY Monday after, 17:59 EDT", "America/New_York", "2025-03-10T21:59:00Z", true, ""},
		{"NY Monday after, 18:00 EDT", "America/New_York", "2025-03-10T22:00:00Z", false, "2025-03-11T13:00:00Z"},
		// Berlin springs forward on Sunday 2025-03-30 (CET UTC+1 → CEST UTC+2).
		{"Berlin Friday 18:30 CET → Monday 09:00 CEST", "Europe/Berlin", "2025-03-28T17:30:00Z", false, "2025-03-31T07:00:00Z"},
		{"Berlin Monday 08:30 CEST", "Europe/Berlin", "2025-03-31T06:30:00Z", false, "2025-03-31T07:00:00Z"},
		{"Berlin Monday 17:30 CEST", "Europe/Berlin", "2025-03-31T15:30:00Z", true, ""},
		{"Berlin Monday 18:00 CEST", "Europe/Berlin", "2025-03-31T16:00:00Z", false, "2025-04-01T07:00:00Z"},
		// Berlin falls back on Sunday 2025-10-26 (CEST → CET).
		{"Berlin Friday 18:30 CEST → Monday 09:00 CET", "Europe/Berlin", "2025-10-24T16:30:00Z", false, "2025-10-27T08:00:00Z"},
		{"Berlin Monday 08:30 CET", "Europe/Berlin", "2025-10-27T07:30:00Z", false, "2025-10-27T08:00:00Z"},
		{"Berlin Monday 09:00 CET", "Europe/Berlin", "2025-10-27T08:00:00Z", true, ""},
		{"Berlin Sunday 02:30 the second time (CET)", "Europe/Berlin", "2025-10-26T01:30:00Z", false, "2025-10-27T08:00:00Z"},
		// The southern hemisphere: Sydney falls back on Sunday 2025-04-06 (AEDT UTC+11 → AEST UTC+10).
		{"Sydney Friday 18:00 AEDT → Monday 09:00 AEST", "Australia/Sydney", "2025-04-04T07:00:00Z", false, "2025-04-06T23:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustContract(t, api.CustomerSpec{Name: "x", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Timezone: tt.zone})
			at := mustTime(t, tt.at)
			if got := c.InHours(at); got != tt.inHours {
				t.Errorf("InHours(%s = %s local) = %v, want %v", tt.at, at.In(c.Loc).Format("Mon 15:04 MST"), got, tt.inHours)
			}
			d := c.Decide(Ticket{Severity: 3, At: at, Eligibility: eligible})
			want := at
			if !tt.inHours {
				want = mustTime(t, tt.next)
			}
			if !d.WorkStarts.Equal(want) {
				t.Errorf("work_starts = %s (%s local), want %s", d.WorkStarts, d.WorkStarts.In(c.Loc).Format("Mon 15:04 MST"), want)
			}
			if local := d.WorkStarts.In(c.Loc); !tt.inHours && local.Format("15:04") != "09:00" {
				t.Errorf("work starts at %s local, want 09:00", local.Format("15:04 MST"))
			}
		})
	}
}

// TestOpeningInSkippedHour: an opening (or closing) time that a
// spring-forward change skips resolves an hour later, as the zone's clocks
// read it, never earlier, east and west of Greenwich and in the southern
// hemisphere; an instant before it is not inside business hours.
func TestOpeningInSkippedHour(t *testing.T) {
	tests := []struct {
		name, zone  string
		days        []string
		open, close string
		at          string // UTC
		next        string // UTC: the next opening
		inHours     bool   // at is inside business hours
	}{
		// Berlin: 2025-03-30 02:00 CET → 03:00 CEST.
		{"Berlin 02:30 opens 03:30 CEST", "Europe/Berlin", []string{"sun"}, "02:30", "06:00", "2025-03-30T00:00:00Z", "2025-03-30T01:30:00Z", false},
		// New York: 2025-03-09 02:00 EST → 03:00 EDT.
		{"New York 02:00 opens 03:00 EDT", "America/New_York", []string{"sun", "mon"}, "02:00", "04:00", "2025-03-08T17:00:00Z", "2025-03-09T07:00:00Z", false},
		{"New York 02:00–03:00 wholly skipped: no opening that Sunday", "America/New_York", []string{"sun", "mon"}, "02:00", "03:00", "2025-03-08T17:00:00Z", "2025-03-10T06:00:00Z", false},
		{"New York 02:30 opens 03:30 EDT", "America/New_York", []string{"sun"}, "02:30", "06:00", "2025-03-09T05:00:00Z", "2025-03-09T07:30:00Z", false},
		{"New York 01:30 EST is before a skipped 02:00 opening", "America/New_York", []string{"sun"}, "02:00", "06:00", "2025-03-09T06:30:00Z", "2025-03-09T07:00:00Z", false},
		{"New York 03:10 EDT after a skipped 02:00 opening", "America/New_York", []string{"sun"}, "02:00", "06:00", "2025-03-09T07:10:00Z", "2025-03-16T06:00:00Z", true},
		// Santiago: 2025-09-07 00:00 (-04) → 01:00 (-03), midnight skipped.
		{"Santiago 00:00 opens 01:00", "America/Santiago", []string{"sun"}, "00:00", "06:00", "2025-09-06T12:00:00Z", "2025-09-07T04:00:00Z", false},
		{"Santiago Saturday 23:30 inside hours closing at 24:00", "America/Santiago", []string{"sat"}, "20:00", "24:00", "2025-09-07T03:30:00Z", "2025-09-13T23:00:00Z", true},
		// Sydney: 2025-10-05 02:00 AEST → 03:00 AEDT.
		{"Sydney 02:30 opens 03:30 AEDT", "Australia/Sydney", []string{"sun"}, "02:30", "06:00", "2025-10-04T14:00:00Z", "2025-10-04T16:30:00Z", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustContract(t, api.CustomerSpec{Name: "x", Tier: "standard", ContractStart: "2025-01-01", ContractEnd: "2025-12-31",
				Timezone: tt.zone, BusinessHours: &api.BusinessHours{Days: tt.days, Open: tt.open, Close: tt.close}})
			at := mustTime(t, tt.at)
			got := c.NextOpening(at)
			if want := mustTime(t, tt.next); !got.Equal(want) {
				t.Errorf("NextOpening(%s) = %s (%s), want %s (%s)", at.In(c.Loc).Format("Mon 15:04 MST"), got.UTC(), got.In(c.Loc).Format("Mon 15:04 MST"),
					want, want.In(c.Loc).Format("Mon 15:04 MST"))
			}
			if in := c.InHours(at); in != tt.inHours {
				t.Errorf("InHours(%s) = %v, want %v", at.In(c.Loc).Format("Mon 15:04 MST"), in, tt.inHours)
			}
		})
	}
}

// TestCustomRules shows the table is the policy: a vendor whose Standard
// tier also gets 24x7 Severity 2, and holidays for Severity 1 and 2,
// changes only the table.
func TestCustomRules(t *testing.T) {
	rules := Rules{
		{Name: "standard", Label: "Standard"},
		{Name: "gold", Label: "Gold", AroundTheClock: []int{1, 2}, OnHolidays: []int{1, 2}},
	}
	c, err := New(api.CustomerSpec{Name: "x", Tier: "gold", ContractStart: "2025-01-01", ContractEnd: "2025-12-31", Holidays: []string{"2025-12-25"}}, rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		sev     int
		at      string
		covered bool
	}{
		{"sev2 at night", 2, "2025-12-09T23:00:00Z", true},
		{"sev3 at night", 3, "2025-12-09T23:00:00Z", false},
		{"sev2 on a holiday", 2, "2025-12-25T12:00:00Z", true},
		{"sev3 on a holiday", 3, "2025-12-25T12:00:00Z", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := c.Decide(Ticket{Severity: tt.sev, At: mustTime(t, tt.at), Eligibility: eligible})
			if d.Covered != tt.covered {
				t.Errorf("covered = %v, want %v: %q", d.Covered, tt.covered, d.Reasons)
			}
		})
	}
	if _, err := New(api.CustomerSpec{Name: "x", Tier: "premium", ContractStart: "2025-01-01", ContractEnd: "2025-12-31"}, rules); err == nil {
		t.Error("a tier the rules do not have was accepted")
	}
	if got := rules.holidayRule(); got != "only Severity 1 on Gold contracts and Severity 2 on Gold contracts is handled" {
		t.Errorf("holiday rule = %q", got)
	}
}

// TestTiersTable checks the shipped table's invariants: tiers lowest
// first as the issue names them, holiday cover only where there is 24x7
// cover, severities within range.
func TestTiersTable(t *testing.T) {
	var names []string
	for _, tr := range Tiers {
		names = append(names, tr.Name)
		for _, s := range tr.OnHolidays {
			if !slices.Contains(tr.AroundTheClock, s) {
				t.Errorf("tier %s handles severity %d on holidays without 24x7 cover for it", tr.Name, s)
			}
		}
		for _, s := range append(slices.Clone(tr.AroundTheClock), tr.OnHolidays...) {
			if s < 1 || s > len(Severities) {
				t.Errorf("tier %s names severity %d", tr.Name, s)
			}
		}
	}
	if want := []string{"standard", "premium", "enterprise", "success-squad"}; !slices.Equal(names, want) {
		t.Errorf("tiers = %q, want %q", names, want)
	}
	for i, s := range Severities {
		if s.Level != i+1 {
			t.Errorf("severity %d has level %d", i+1, s.Level)
		}
	}
}

// fuzzZones are the zones FuzzNextOpening picks from: both hemispheres,
// both sides of Greenwich, half-hour offsets and a skipped midnight.
var fuzzZones = []string{"UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago", "Asia/Kolkata",
	"Australia/Lord_Howe", "America/St_Johns", "Pacific/Chatham", "Asia/Tokyo"}

// FuzzNextOpening: for any zone, business hours and instant outside them,
// the next opening is later, inside business hours, and no instant before
// it is; an instant inside business hours is covered now.
func FuzzNextOpening(f *testing.F) {
	// unix counts seconds from 2020-01-01 UTC; days has bit 0 for Sunday.
	f.Add(uint8(1), int64(163616400), uint16(120), uint16(180), uint8(0x01))  // New York, Sat 2025-03-08 12:00 EST; Sundays 02:00–03:00, all skipped on the 9th
	f.Add(uint8(2), int64(183486600), uint16(540), uint16(1080), uint8(0x3e)) // Berlin, Fri 2025-10-24 18:30 CEST; Mon–Fri 09:00–18:00
	f.Add(uint8(4), int64(179323200), uint16(0), uint16(360), uint8(0x01))    // Santiago, Sat 2025-09-06 08:00; Sundays from a skipped midnight
	f.Fuzz(func(t *testing.T, zone uint8, unix int64, open, close uint16, days uint8) {
		open, close = open%1440, close%1441
		if close <= open || days&0x7f == 0 {
			return
		}
		at := time.Unix(1577836800+((unix%473040000)+473040000)%473040000, 0).UTC() // 2020 to 2034
		var dayNames []string
		for i, n := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
			if days&(1<<i) != 0 {
				dayNames = append(dayNames, n)
			}
		}
		c, err := New(api.CustomerSpec{Name: "x", Tier: "premium", ContractStart: "2020-01-01", ContractEnd: "2040-12-31",
			Timezone: fuzzZones[int(zone)%len(fuzzZones)], BusinessHours: &api.BusinessHours{Days: dayNames, Open: clock(int(open)), Close: clock(int(close))}}, Tiers)
		if err != nil {
			t.Fatal(err)
		}
		if c.InHours(at) {
			if d := c.Decide(Ticket{Severity: 4, At: at, Eligibility: eligible}); !d.Covered || !d.WorkStarts.Equal(at) {
				t.Fatalf("inside business hours at %s, but covered %v from %s", at.In(c.Loc), d.Covered, d.WorkStarts)
			}
			return
		}
		o := c.NextOpening(at)
		if o.IsZero() {
			t.Fatalf("no opening after %s", at.In(c.Loc))
		}
		if !o.After(at) || !c.InHours(o) {
			t.Fatalf("NextOpening(%s) = %s: after %v, in hours %v", at.In(c.Loc), o.In(c.Loc), o.After(at), c.InHours(o))
		}
		for _, x := range []time.Time{at.Add(o.Sub(at) / 3), at.Add(o.Sub(at) / 2), o.Add(-time.Minute)} {
			if x.After(at) && c.InHours(x) {
				t.Fatalf("NextOpening(%s) = %s, but %s is inside business hours", at.In(c.Loc), o.In(c.Loc), x.In(c.Loc))
			}
		}
		if d := c.Decide(Ticket{Severity: 4, At: at, Eligibility: eligible}); d.Covered || !d.WorkStarts.Equal(o) {
			t.Fatalf("outside business hours at %s: covered %v, work starts %s, want %s", at.In(c.Loc), d.Covered, d.WorkStarts, o)
		}
	})
}

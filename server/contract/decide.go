package contract

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// Ticket is one support ticket to decide on.
type Ticket struct {
	// Severity is 1 (urgent) to len(Severities).
	Severity int
	// At is when the ticket is raised.
	At time.Time
	// Eligibility is the support eligibility of the product version the
	// ticket is about (the domain service's answer).
	Eligibility api.Eligibility
}

// Decision is the answer to a ticket.
type Decision struct {
	// Accept: the contract is active on the ticket's day and the version is eligible.
	Accept bool
	// Covered: the contract's hours cover the ticket's severity at its time
	// (24x7 cover, or business hours), accepted or not.
	Covered bool
	// PhoneNow: an accepted ticket that is covered now gets a phone callback now.
	PhoneNow bool
	// WorkStarts is At when covered, else the next business-hours opening (UTC).
	WorkStarts time.Time
	// Route is api.RouteVendor or api.RoutePartner.
	Route string
	// State is the contract on the ticket's day.
	State api.ContractState
	// Reasons says every rule that decided, one sentence each.
	Reasons []string
}

// Decide decides a ticket under the contract. Its severity must be valid
// (1 to len(Severities)); the caller checks input.
func (c *Contract) Decide(t Ticket) Decision {
	var d Decision
	day := c.Today(t.At)
	d.State = c.State(day)
	active := d.State.Status == StatusActive
	d.Accept = active && t.Eligibility.Eligible
	d.Reasons = append(d.Reasons, c.contractReason(d.State))
	d.Reasons = append(d.Reasons, VersionReason(t.Eligibility))
	d.Route = api.RouteVendor
	if c.SoldBy != "" {
		d.Route = api.RoutePartner
		d.Reasons = append(d.Reasons, fmt.Sprintf("The contract was sold by %s: %s gives first-line support, so the ticket goes to %s first.", c.SoldBy, c.SoldBy, c.SoldBy))
	} else {
		d.Reasons = append(d.Reasons, "The contract is direct: the vendor's support team takes the ticket.")
	}
	var why []string
	d.Covered, d.WorkStarts, why = c.coverage(t.Severity, t.At, d.Accept)
	d.WorkStarts = d.WorkStarts.UTC()
	d.PhoneNow = d.Accept && d.Covered
	d.Reasons = append(d.Reasons, why...)
	if !d.Accept {
		d.Reasons = append(d.Reasons, "The ticket is refused: no work starts and no phone callback is offered until the reasons above are resolved.")
	}
	return d
}

// contractReason says whether the contract covers the ticket's day.
func (c *Contract) contractReason(st api.ContractState) string {
	tier := c.Tier.Label
	switch st.Status {
	case StatusNotStarted:
		return fmt.Sprintf("%s's %s contract starts on %s: no ticket is covered before then.", c.Name, tier, c.Start)
	case StatusExpired:
		return fmt.Sprintf("%s's %s contract ended on %s: support needs an active contract, so the customer must renew before the ticket can be accepted.", c.Name, tier, st.TermEnd)
	}
	if st.Renews {
		return fmt.Sprintf("%s has an active %s contract; the current term ends on %s and renews automatically unless notice is given by %s.", c.Name, tier, st.TermEnd, st.NoticeBy)
	}
	s := fmt.Sprintf("%s has an active %s contract until %s; it does not renew", c.Name, tier, st.TermEnd)
	if !c.NoticeGiven.IsZero() {
		s += fmt.Sprintf(" (notice of non-renewal was given on %s)", c.NoticeGiven)
	}
	return s + "."
}

// VersionReason says why a version is or is not eligible for support, with
// what to install or upgrade to when it is not.
func VersionReason(e api.Eligibility) string {
	subject := e.Product + " " + e.Version
	if e.Host != "" {
		subject += " on " + e.Host
	}
	if len(e.Installs) > 1 {
		subject += fmt.Sprintf(" (the worst of %d installed versions)", len(e.Installs))
	}
	switch {
	case e.Eligible:
		s := subject + " is a supported version"
		if e.Cycle != "" {
			s += " (release " + e.Cycle + ")"
		}
		s += ", so it is eligible for support."
		if e.Patch == "available" && e.Latest != "" && e.Latest != e.Version {
			s += " Patch " + e.Latest + " is available; the customer should install it within the grace period."
		}
		return s
	case e.Support == "supported" && e.Patch == "overdue":
		return fmt.Sprintf("%s is not eligible for support: patch %s was published longer ago than the grace period allows and is not installed. The customer must install %s first.",
			subject, e.Latest, e.Latest)
	case e.Support == "eol":
		s := subject + " is past its end of life"
		if eol := api.EOLText(e.EOL); eol != "" && eol != "true" {
			s += " (" + eol + ")"
		}
		s += " and is not eligible for support."
		switch why := catalogWhy(e.Reason); {
		case e.UpgradeTo != "":
			return s + " The customer must upgrade to " + e.UpgradeTo + " or later first."
		case e.Newest != "" && why != "":
			// Supported releases exist, but none is this install's way
			// out: a distribution's package follows the host's release,
			// and the catalog's reason says what to upgrade.
			return s + " " + why
		}
		return s + " No release of " + e.Product + " is still supported to upgrade to."
	case e.Support == "unknown-product":
		return "The catalog does not know " + e.Product + ", so its support cannot be confirmed and the version is not eligible for support."
	}
	s := subject + " is not a version of any supported release, so it is not eligible for support."
	if e.UpgradeTo != "" {
		s += " The customer must move to " + e.UpgradeTo + " or later first."
	}
	return s
}

// catalogWhy is the catalog's explanation in an eligibility reason
// ("Not eligible: DECISION. WHY"), ending with a full stop; "" when there
// is none.
func catalogWhy(reason string) string {
	_, why, ok := strings.Cut(reason, ". ")
	why = strings.TrimSpace(why)
	if !ok || why == "" {
		return ""
	}
	if !strings.HasSuffix(why, ".") {
		why += "."
	}
	return why
}

// coverage decides whether the severity is covered at t and when work
// starts, with the sentences saying why.
func (c *Contract) coverage(sev int, t time.Time, accept bool) (covered bool, starts time.Time, why []string) {
	local := t.In(c.Loc)
	day := DayOf(local)
	sevText := fmt.Sprintf("Severity %d (%s)", sev, severityName(sev))
	on := fmt.Sprintf("%s on %s %s contract", sevText, article(c.Tier.Label), c.Tier.Label)
	now := "work starts now, with a phone callback."
	if !accept {
		now = "work would start now."
	}
	later := func() string {
		open := c.NextOpening(t)
		starts = open
		s := "work starts " + c.when(open) + "; no phone callback before then."
		if !accept {
			s = "work would start " + c.when(open) + "."
		}
		return s
	}
	zone := c.Loc.String()
	switch {
	case c.Holidays[day]:
		why = append(why, fmt.Sprintf("%s %s is a holiday at %s's support centre (%s): on holidays %s.", local.Weekday(), day, c.Name, zone, c.rules.holidayRule()))
		if slices.Contains(c.Tier.OnHolidays, sev) {
			covered, starts = true, t
			why = append(why, on+" is handled on holidays: "+now)
		} else {
			why = append(why, on+" waits for the next business day: "+later())
		}
	case c.InHours(t):
		covered, starts = true, t
		why = append(why, fmt.Sprintf("It is %s %s %s in %s, inside business hours (%s): %s", local.Weekday(), day, local.Format("15:04"), zone, c.Hours, now))
	default:
		why = append(why, fmt.Sprintf("It is %s %s %s in %s, outside business hours (%s).", local.Weekday(), day, local.Format("15:04"), zone, c.Hours))
		if slices.Contains(c.Tier.AroundTheClock, sev) {
			covered, starts = true, t
			why = append(why, on+" is covered 24x7: "+now)
		} else {
			why = append(why, on+" is worked in business hours only"+c.rules.upsell(c.Tier, sev)+": "+later())
		}
	}
	return covered, starts, why
}

// when says an instant for the customer and the desk: local and UTC.
func (c *Contract) when(t time.Time) string {
	if t.IsZero() {
		return "when business hours are configured again (no business day in the next ten years)"
	}
	l := t.In(c.Loc)
	return fmt.Sprintf("%s %s %s %s (%s UTC)", l.Weekday(), DayOf(l), l.Format("15:04"), c.Loc, t.UTC().Format("2006-01-02 15:04"))
}

// article is "an" before a vowel, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func severityName(sev int) string {
	if sev >= 1 && sev <= len(Severities) {
		return Severities[sev-1].Name
	}
	return "unknown"
}

// holidayRule says which tickets the programme handles on holidays:
// "only Severity 1 on Premium, Enterprise or Success Squad contracts is handled".
func (r Rules) holidayRule() string {
	bySev := map[int][]string{}
	var sevs []int
	for _, t := range r {
		for _, s := range t.OnHolidays {
			if _, ok := bySev[s]; !ok {
				sevs = append(sevs, s)
			}
			bySev[s] = append(bySev[s], t.Label)
		}
	}
	if len(sevs) == 0 {
		return "no ticket is handled"
	}
	slices.Sort(sevs)
	var parts []string
	for _, s := range sevs {
		parts = append(parts, "Severity "+strconv.Itoa(s)+" on "+orList(bySev[s])+" contracts")
	}
	return "only " + andList(parts) + " is handled"
}

// upsell says what would give the severity 24x7 cover, when anything would.
func (r Rules) upsell(have TierRule, sev int) string {
	var tiers []string
	for _, t := range r {
		if slices.Contains(t.AroundTheClock, sev) {
			tiers = append(tiers, t.Label)
		}
	}
	switch {
	case len(tiers) > 0:
		return " (24x7 cover for it needs a " + orList(tiers) + " contract)"
	case len(have.AroundTheClock) > 0:
		var s []string
		for _, x := range have.AroundTheClock {
			s = append(s, "Severity "+strconv.Itoa(x))
		}
		return " (24x7 cover is for " + andList(s) + " only)"
	}
	return ""
}

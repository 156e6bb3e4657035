// Package contract is the support desk's whole decision about a ticket, as
// pure functions: a customer's contract (tier, term, renewal, partner,
// time zone, business hours, holidays) and the rules of the support
// programme (rules.go, the one place a vendor changes) decide whether a
// ticket of a given severity is accepted at a given moment, when work
// starts, who takes it and why. Version eligibility comes in as the
// domain service's answer; nothing here reads a clock, a database or the
// network, so every rule is table-tested.
//
// Time zones come from the standard library's zone database, embedded with
// time/tzdata so Windows and minimal hosts have it too.
package contract

import (
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zone data for every platform
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/mailaddr"
	"github.com/eolwatch/eolwatch/server/api"
)

// Limits of a customer record.
const (
	MaxNameLen  = api.MaxCustomerLen // a customer's name, and its partner's (sold_by)
	MaxHolidays = 1000
	MaxContacts = 50
)

// Contract statuses (api.ContractState.Status).
const (
	StatusActive     = "active"
	StatusExpired    = "expired"
	StatusNotStarted = "not-started"
)

// Contract is a customer's support contract, ready to decide tickets.
type Contract struct {
	// Name is the customer's name, as reasons say it.
	Name string
	// Tier is the contract's tier and what it entitles.
	Tier TierRule
	// Start and End are the first and last day of the first term.
	Start, End Day
	// AutoRenew renews the contract yearly until notice is given.
	AutoRenew bool
	// NoticeGiven is the day notice of non-renewal was given (zero: none).
	NoticeGiven Day
	// SoldBy is the partner that sold the contract ("" for direct).
	SoldBy string
	// Loc is the customer's support centre's time zone.
	Loc *time.Location
	// Hours are its business hours.
	Hours Hours
	// Holidays are the days it is closed.
	Holidays map[Day]bool

	rules Rules
}

// Hours are business hours: the working weekdays and the local opening
// and closing times, in minutes after midnight.
type Hours struct {
	Days        [7]bool // indexed by time.Weekday
	Open, Close int
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Normalize validates a customer's contract fields and rewrites them in
// canonical form (trimmed text, lower-case tier, default time zone and
// business hours, sorted unique holidays and contacts). A bad field is a
// fault.Invalid error naming it.
func Normalize(s *api.CustomerSpec, rules Rules) error {
	s.Name = strings.TrimSpace(s.Name)
	if err := checkText("name", s.Name, MaxNameLen, true); err != nil {
		return err
	}
	tier := strings.NewReplacer(" ", "-", "_", "-").Replace(strings.ToLower(strings.TrimSpace(s.Tier)))
	if rules.Tier(tier) == nil {
		return fault.Invalidf("tier", "tier %q: want %s", s.Tier, rules.names())
	}
	s.Tier = tier
	start, err := parseField("contract_start", s.ContractStart, true)
	if err != nil {
		return err
	}
	end, err := parseField("contract_end", s.ContractEnd, true)
	if err != nil {
		return err
	}
	if end.Before(start) {
		return fault.Invalidf("contract_end", "contract_end %s is before contract_start %s", end, start)
	}
	s.ContractStart, s.ContractEnd = start.String(), end.String()
	notice, err := parseField("notice_given", s.NoticeGiven, false)
	if err != nil {
		return err
	}
	if !notice.IsZero() {
		if s.AutoRenew {
			return fault.Invalidf("notice_given", "notice_given is for a contract that no longer renews: set auto_renew to false")
		}
		if notice.Before(start) {
			return fault.Invalidf("notice_given", "notice_given %s is before contract_start %s", notice, start)
		}
	}
	s.NoticeGiven = notice.String()
	s.SoldBy = strings.TrimSpace(s.SoldBy)
	if err := checkText("sold_by", s.SoldBy, MaxNameLen, false); err != nil {
		return err
	}
	s.Timezone = strings.TrimSpace(s.Timezone)
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if _, err := loadZone(s.Timezone); err != nil {
		return err
	}
	if s.BusinessHours == nil {
		s.BusinessHours = &api.BusinessHours{Days: slices.Clone(DefaultDays), Open: DefaultOpen, Close: DefaultClose}
	}
	h, err := parseHours(*s.BusinessHours)
	if err != nil {
		return err
	}
	s.BusinessHours = h.api()
	if len(s.Holidays) > MaxHolidays {
		return fault.Invalidf("holidays", "holidays: %d days, at most %d", len(s.Holidays), MaxHolidays)
	}
	days := make([]Day, 0, len(s.Holidays))
	for i, v := range s.Holidays {
		d, err := ParseDay(strings.TrimSpace(v))
		if err != nil {
			return fault.Invalidf(fmt.Sprintf("holidays[%d]", i), "holidays[%d]: %v", i, err)
		}
		days = append(days, d)
	}
	slices.SortFunc(days, Day.Compare)
	days = slices.Compact(days)
	s.Holidays = make([]string, len(days))
	for i, d := range days {
		s.Holidays[i] = d.String()
	}
	if len(s.Contacts) > MaxContacts {
		return fault.Invalidf("contacts", "contacts: %d addresses, at most %d", len(s.Contacts), MaxContacts)
	}
	contacts := make([]string, 0, len(s.Contacts))
	for i, c := range s.Contacts {
		field := fmt.Sprintf("contacts[%d]", i)
		a, err := mail.ParseAddress(strings.TrimSpace(c))
		if err != nil || len(a.Address) > 254 || strings.ContainsAny(a.Address, "\r\n") {
			return fault.Invalidf(field, "%s: %q is not an email address", field, c)
		}
		if a.Address, err = mailaddr.Normalize(a.Address); err != nil {
			return fault.Invalidf(field, "%s: %q %v", field, c, err)
		}
		if !slices.ContainsFunc(contacts, func(x string) bool { return strings.EqualFold(x, a.Address) }) {
			contacts = append(contacts, a.Address)
		}
	}
	s.Contacts = contacts
	return nil
}

// New returns the contract of a customer, validating it as Normalize does.
func New(s api.CustomerSpec, rules Rules) (*Contract, error) {
	s.BusinessHours = cloneHours(s.BusinessHours)
	s.Holidays, s.Contacts = slices.Clone(s.Holidays), slices.Clone(s.Contacts)
	if err := Normalize(&s, rules); err != nil {
		return nil, err
	}
	c := &Contract{Name: s.Name, Tier: *rules.Tier(s.Tier), AutoRenew: s.AutoRenew, SoldBy: s.SoldBy,
		Holidays: map[Day]bool{}, rules: rules}
	c.Start, _ = ParseDay(s.ContractStart)
	c.End, _ = ParseDay(s.ContractEnd)
	if s.NoticeGiven != "" {
		c.NoticeGiven, _ = ParseDay(s.NoticeGiven)
	}
	c.Loc, _ = loadZone(s.Timezone)
	c.Hours, _ = parseHours(*s.BusinessHours)
	for _, h := range s.Holidays {
		d, _ := ParseDay(h)
		c.Holidays[d] = true
	}
	return c, nil
}

func cloneHours(h *api.BusinessHours) *api.BusinessHours {
	if h == nil {
		return nil
	}
	c := *h
	c.Days = slices.Clone(h.Days)
	return &c
}

// Tier returns the rule of the tier named name, or nil.
func (r Rules) Tier(name string) *TierRule {
	for i := range r {
		if r[i].Name == name {
			return &r[i]
		}
	}
	return nil
}

// names lists the tier names: "a, b, c or d".
func (r Rules) names() string {
	var ns []string
	for _, t := range r {
		ns = append(ns, t.Name)
	}
	return orList(ns)
}

// orList joins "a, b or c".
func orList(xs []string) string { return joinList(xs, "or") }

// andList joins "a, b and c".
func andList(xs []string) string { return joinList(xs, "and") }

func joinList(xs []string, last string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " " + last + " " + xs[len(xs)-1]
}

func parseField(field, v string, required bool) (Day, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return Day{}, fault.Invalidf(field, "%s is required (YYYY-MM-DD)", field)
		}
		return Day{}, nil
	}
	d, err := ParseDay(v)
	if err != nil {
		return Day{}, fault.Invalidf(field, "%s: %v", field, err)
	}
	return d, nil
}

func checkText(field, v string, max int, required bool) error {
	switch {
	case required && v == "":
		return fault.Invalidf(field, "%s is required", field)
	case len(v) > max:
		return fault.Invalidf(field, "%s is %d bytes long, at most %d", field, len(v), max)
	case !utf8.ValidString(v):
		return fault.Invalidf(field, "%s is not valid UTF-8", field)
	case strings.IndexFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) }) >= 0:
		return fault.Invalidf(field, "%s holds a control character", field)
	}
	return nil
}

// loadZone loads an IANA zone; "Local" (this machine's zone) is refused.
func loadZone(name string) (*time.Location, error) {
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" || len(name) > 64 {
		return nil, fault.Invalidf("timezone", "timezone %q is not an IANA time zone name (such as Europe/Berlin or America/New_York)", name)
	}
	return loc, nil
}

// parseHours validates business hours.
func parseHours(b api.BusinessHours) (Hours, error) {
	var h Hours
	if len(b.Days) == 0 {
		return h, fault.Invalidf("business_hours.days", "business_hours.days: name at least one working day (mon, tue, wed, thu, fri, sat, sun)")
	}
	for i, d := range b.Days {
		d = strings.ToLower(strings.TrimSpace(d))
		n := -1
		for j, short := range dayNames {
			if d == short || d == strings.ToLower(time.Weekday(j).String()) {
				n = j
			}
		}
		if n < 0 {
			field := fmt.Sprintf("business_hours.days[%d]", i)
			return h, fault.Invalidf(field, "%s: %q is not a day (mon, tue, wed, thu, fri, sat, sun)", field, b.Days[i])
		}
		h.Days[n] = true
	}
	var err error
	if h.Open, err = parseClock("business_hours.open", b.Open, false); err != nil {
		return h, err
	}
	if h.Close, err = parseClock("business_hours.close", b.Close, true); err != nil {
		return h, err
	}
	if h.Close <= h.Open {
		return h, fault.Invalidf("business_hours.close", "business_hours.close %s is not after business_hours.open %s", b.Close, b.Open)
	}
	return h, nil
}

// parseClock parses HH:MM; "24:00" only when endOfDay.
func parseClock(field, v string, endOfDay bool) (int, error) {
	v = strings.TrimSpace(v)
	hh, mm, ok := strings.Cut(v, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	switch {
	case !ok || len(hh) != 2 || len(mm) != 2 || err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24,
		h == 24 && (m != 0 || !endOfDay):
		want := "00:00 to 23:59"
		if endOfDay {
			want = "00:01 to 24:00"
		}
		return 0, fault.Invalidf(field, "%s %q: want HH:MM, %s", field, v, want)
	}
	return h*60 + m, nil
}

// api returns the hours in their API form.
func (h Hours) api() *api.BusinessHours {
	b := &api.BusinessHours{Open: clock(h.Open), Close: clock(h.Close)}
	for _, wd := range weekOrder {
		if h.Days[wd] {
			b.Days = append(b.Days, dayNames[wd])
		}
	}
	return b
}

// weekOrder is Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// String says the hours for people: "Monday to Friday, 09:00–18:00".
func (h Hours) String() string {
	var names []string
	var run []time.Weekday
	flush := func() {
		switch {
		case len(run) >= 3:
			names = append(names, run[0].String()+" to "+run[len(run)-1].String())
		default:
			for _, d := range run {
				names = append(names, d.String())
			}
		}
		run = run[:0]
	}
	for _, wd := range weekOrder {
		if h.Days[wd] {
			run = append(run, wd)
		} else {
			flush()
		}
	}
	flush()
	return andList(names) + ", " + clock(h.Open) + "–" + clock(h.Close)
}

// Final is the last day a contract that will not renew covers; ok is
// false for a contract that renews every year. A contract without
// auto-renew ends with its first term, unless notice of non-renewal was
// given on a day when it was still renewing: then it ends with the first
// term that ends at least NoticeDays after that day (notice given later
// than that comes too late for the current term, which renews once more).
func (c *Contract) Final() (end Day, ok bool) {
	if c.AutoRenew {
		return Day{}, false
	}
	if c.NoticeGiven.IsZero() {
		return c.End, true
	}
	for k := 0; ; k++ {
		e := c.End.AddYears(k * TermYears)
		if c.NoticeGiven.DaysUntil(e) >= NoticeDays {
			return e, true
		}
	}
}

// TermEnd is the last day of the term in force on day on: the first term
// end on or after it for a renewing contract (each term adds TermYears to
// the first term's end), else the final day.
func (c *Contract) TermEnd(on Day) (end Day, renews bool) {
	if f, ok := c.Final(); ok {
		return f, false
	}
	e := c.End
	for k := 1; e.Before(on); k++ {
		e = c.End.AddYears(k * TermYears)
	}
	return e, true
}

// Active reports whether the contract covers day on.
func (c *Contract) Active(on Day) bool { return c.State(on).Status == StatusActive }

// State describes the contract on day on (a day in its own time zone).
func (c *Contract) State(on Day) api.ContractState {
	end, renews := c.TermEnd(on)
	st := api.ContractState{Status: StatusActive, AsOf: on.String(), TermEnd: end.String(), Renews: renews, DaysLeft: on.DaysUntil(end)}
	switch {
	case on.Before(c.Start):
		st.Status = StatusNotStarted
	case !renews && on.After(end):
		st.Status = StatusExpired
	}
	if renews {
		st.NoticeBy = end.AddDays(-NoticeDays).String()
	}
	return st
}

// Today is the day t falls on in the contract's time zone.
func (c *Contract) Today(t time.Time) Day { return DayOf(t.In(c.Loc)) }

// BusinessDay reports whether d is a working day of the support centre
// (a working weekday that is not a holiday).
func (c *Contract) BusinessDay(d Day) bool { return c.Hours.Days[d.Weekday()] && !c.Holidays[d] }

// InHours reports whether t is inside business hours: on a business day,
// at or after opening and before closing, local time.
func (c *Contract) InHours(t time.Time) bool {
	d := c.Today(t)
	if !c.BusinessDay(d) {
		return false
	}
	return !t.Before(d.at(c.Hours.Open, c.Loc)) && t.Before(d.at(c.Hours.Close, c.Loc))
}

// NextOpening is the first business-hours opening after t, skipping
// weekends and holidays; daylight-saving changes are the zone's (a day
// whose hours fall wholly in a skipped hour does not open). Zero only if
// the next ten years hold no business day.
func (c *Contract) NextOpening(t time.Time) time.Time {
	d := c.Today(t)
	for i := range 3660 {
		day := d.AddDays(i)
		if !c.BusinessDay(day) {
			continue
		}
		open := day.at(c.Hours.Open, c.Loc)
		if open.After(t) && day.at(c.Hours.Close, c.Loc).After(open) {
			return open
		}
	}
	return time.Time{}
}

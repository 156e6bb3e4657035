package contract

// This file is the support programme as data: the tiers a contract can
// have and what each entitles, the severities, and the contract terms
// (term length, notice period). A vendor with different rules changes this
// file and docs/support.md, nothing else.

// Tier names, lowest first.
const (
	TierStandard     = "standard"
	TierPremium      = "premium"
	TierEnterprise   = "enterprise"
	TierSuccessSquad = "success-squad"
)

// TierRule is what one contract tier entitles beyond business hours.
//
// Inside business hours (the customer's support centre's working days and
// hours, not on its holidays) every tier gets work and a phone callback on
// every severity. Outside them, a ticket is worked now only when its
// severity is in AroundTheClock; on a holiday, only when it is in
// OnHolidays (a subset of AroundTheClock: holiday cover is 24x7 cover).
// Everything else waits for the next business-hours opening.
type TierRule struct {
	// Name is the tier's id in the API (lower case).
	Name string
	// Label is how people spell it.
	Label string
	// AroundTheClock lists the severities worked, with phone callback, 24
	// hours a day, 7 days a week.
	AroundTheClock []int
	// OnHolidays lists the severities handled on the support centre's holidays.
	OnHolidays []int
}

// Rules is a support programme: its tiers, lowest first.
type Rules []TierRule

// Tiers is eolwatch's support programme. Premium, Enterprise and Success
// Squad get 24x7 phone support for Severity 1 only, and on holidays only
// Severity 1 is handled, only for them. Higher tiers differ in response
// times and dedicated resources, which do not change the ticket decision.
var Tiers = Rules{
	{Name: TierStandard, Label: "Standard"},
	{Name: TierPremium, Label: "Premium", AroundTheClock: []int{1}, OnHolidays: []int{1}},
	{Name: TierEnterprise, Label: "Enterprise", AroundTheClock: []int{1}, OnHolidays: []int{1}},
	{Name: TierSuccessSquad, Label: "Success Squad", AroundTheClock: []int{1}, OnHolidays: []int{1}},
}

// Severity is one ticket severity.
type Severity struct {
	Level int
	Name  string
	Means string
}

// Severities are the ticket severities, most urgent first; a ticket's
// severity is 1 to len(Severities).
var Severities = []Severity{
	{1, "Urgent", "a significant part of the product is down and cannot be restarted, an essential function is unusable, or an essential third-party application is made unstable"},
	{2, "High impact", "an essential function has an error with significant impact: hard to use, not unusable"},
	{3, "Moderate impact", "non-critical degradation or minor intermittent problems; a workaround may exist"},
	{4, "Low impact", "questions, documentation, enhancement requests, errors with little or no effect"},
}

// Contract terms.
const (
	// TermYears is how long a term lasts and each renewal adds.
	TermYears = 1
	// NoticeDays is how many days before a term ends written notice of
	// non-renewal must be given for the contract to end with that term.
	NoticeDays = 60
	// EndingMailDays is how many days before a contract that does not renew
	// ends its contacts and the admins are told (and again on its last day).
	EndingMailDays = 60
)

// Default business hours of a customer's support centre.
var (
	DefaultDays  = []string{"mon", "tue", "wed", "thu", "fri"}
	DefaultOpen  = "09:00"
	DefaultClose = "18:00"
)

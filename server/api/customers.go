package api

import "time"

// Routes of customers and the ticket check (docs/api.md).
const (
	PathCustomers   = Version + "/customers"
	PathTicketCheck = Version + "/tickets/check"
)

// Limits of the support questions' text fields, in bytes of UTF-8: the
// eligibility question (GET /api/v1/eligibility, `eligibility`) and the
// ticket check (GET /api/v1/tickets/check, `ticket check`, the dashboard's
// ticket-check form). They are the one source of both the domain service's
// checks, which refuse a longer value with a 400 naming the field, and the
// form's maxlength attributes.
const (
	// MaxProductLen bounds a catalog product id (python, debian).
	MaxProductLen = 128
	// MaxVersionLen bounds a version as the customer reads it out.
	MaxVersionLen = 255
	// MaxHostLen bounds a host id or hostname (as an agent reports it) or
	// an asset's name.
	MaxHostLen = 255
	// MaxCustomerLen bounds a customer's name (and a partner's, sold_by)
	// when it is stored, and so a customer's id or name in a question.
	MaxCustomerLen = 200
	// MaxAtLen bounds the ticket's moment, RFC 3339
	// (2025-12-13T22:30:00.123456789+01:00 is 35 bytes).
	MaxAtLen = 40
)

// BusinessHours is when a customer's support centre works, in the
// customer's time zone: on Days, from Open to Close. Holidays are closed.
type BusinessHours struct {
	// Days are the working weekdays: mon, tue, wed, thu, fri, sat, sun.
	Days []string `json:"days"`
	// Open and Close are local times, HH:MM; Close is after Open ("24:00"
	// is the end of the day).
	Open  string `json:"open"`
	Close string `json:"close"`
}

// CustomerSpec is what an admin sets on a customer: the body of
// POST /api/v1/customers, and the fields of every customer answer.
type CustomerSpec struct {
	// Name is unique, ignoring case.
	Name string `json:"name"`
	// Tier is standard, premium, enterprise or success-squad.
	Tier string `json:"tier"`
	// ContractStart and ContractEnd are the first and last day covered by
	// the contract's first term (YYYY-MM-DD, in the customer's time zone).
	ContractStart string `json:"contract_start"`
	ContractEnd   string `json:"contract_end"`
	// AutoRenew renews the contract for another year at the end of each
	// term, unless notice of non-renewal is given at least 60 days before.
	AutoRenew bool `json:"auto_renew"`
	// NoticeGiven is the day written notice of non-renewal was given
	// (YYYY-MM-DD); only for a contract that no longer auto-renews. Turning
	// auto_renew off records today.
	NoticeGiven string `json:"notice_given,omitempty"`
	// SoldBy is the partner that sold the contract; empty for a direct contract.
	SoldBy string `json:"sold_by"`
	// Timezone is the IANA zone of the customer's support centre (default UTC).
	Timezone string `json:"timezone"`
	// BusinessHours default to Monday to Friday, 09:00 to 18:00.
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
	// Holidays are the days (YYYY-MM-DD) the customer's support centre is closed.
	Holidays []string `json:"holidays"`
	// Contacts are the customer's email addresses for contract and risk mail.
	Contacts []string `json:"contacts"`
}

// ContractState is a contract as of one day.
type ContractState struct {
	// Status is active, expired or not-started.
	Status string `json:"status"`
	// AsOf is the day it describes, in the customer's time zone.
	AsOf string `json:"as_of"`
	// TermEnd is the last day of the current term; for a contract that
	// does not renew, the last day it covers.
	TermEnd string `json:"term_end"`
	// Renews says the contract renews after TermEnd.
	Renews bool `json:"renews"`
	// NoticeBy is the last day notice of non-renewal takes effect at
	// TermEnd (auto-renewing contracts only).
	NoticeBy string `json:"notice_by,omitempty"`
	// DaysLeft counts the days from AsOf to TermEnd (0 on the last day).
	DaysLeft int `json:"days_left"`
}

// Customer is a customer with its contract: the answer of the customer
// routes and the "customer" of a ticket check.
type Customer struct {
	ID string `json:"id"`
	CustomerSpec
	// Hosts counts the hosts enrolled with the customer's enroll secret.
	Hosts int `json:"hosts"`
	// Contract is the contract's state today (or at the ticket's time).
	Contract  *ContractState `json:"contract,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// EnrollSecret is the customer's own enroll secret, in the answer of
	// POST (and of a PATCH that rotates it) only: it is stored hashed.
	EnrollSecret string `json:"enroll_secret,omitempty"`
}

// CustomerPatch is the body of PATCH /api/v1/customers/{id}: the fields
// present are changed, the others kept.
type CustomerPatch struct {
	Name          *string        `json:"name,omitempty"`
	Tier          *string        `json:"tier,omitempty"`
	ContractStart *string        `json:"contract_start,omitempty"`
	ContractEnd   *string        `json:"contract_end,omitempty"`
	AutoRenew     *bool          `json:"auto_renew,omitempty"`
	NoticeGiven   *string        `json:"notice_given,omitempty"`
	SoldBy        *string        `json:"sold_by,omitempty"`
	Timezone      *string        `json:"timezone,omitempty"`
	BusinessHours *BusinessHours `json:"business_hours,omitempty"`
	Holidays      *[]string      `json:"holidays,omitempty"`
	Contacts      *[]string      `json:"contacts,omitempty"`
	// RotateEnrollSecret replaces the enroll secret; the answer shows the
	// new one once. Hosts enrolled with the old one keep their node keys.
	RotateEnrollSecret bool `json:"rotate_enroll_secret,omitempty"`
}

// Ticket routes.
const (
	RouteVendor  = "vendor"  // the vendor's support team takes the ticket
	RoutePartner = "partner" // the partner that sold the contract takes it first
)

// TicketCheck answers GET /api/v1/tickets/check: may support take this
// ticket now, when does work start, who takes it, and why.
type TicketCheck struct {
	// Accept is true only when the contract is active at At and the
	// version is eligible for support.
	Accept bool `json:"accept"`
	// PhoneNow says a phone callback is available now (an accepted ticket
	// covered at At).
	PhoneNow bool `json:"phone_now"`
	// WorkStarts is At when the ticket is covered at At, else the next
	// business-hours opening of the customer's support centre (UTC).
	WorkStarts time.Time `json:"work_starts"`
	// Route is RouteVendor or RoutePartner.
	Route string `json:"route"`
	// Customer is the customer whose contract decided; nil for a host that
	// belongs to no customer.
	Customer *Customer `json:"customer"`
	// Reasons says every rule that decided, one sentence each, to be read
	// to the customer.
	Reasons []string `json:"reasons"`
	// Eligibility is the version's support eligibility (GET /api/v1/eligibility).
	Eligibility Eligibility `json:"eligibility"`
	// Severity is the ticket's severity, 1 (urgent) to 4 (low impact).
	Severity int `json:"severity"`
	// At is the moment the ticket is checked for (UTC).
	At time.Time `json:"at"`
}

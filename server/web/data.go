package web

import (
	"context"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

// Data sources report failures with the project's one error type,
// *fault.Error (internal/fault), possibly wrapped:
//   - fault.NotFound: the host, product or token asked for does not exist
//     (the dashboard answers 404);
//   - fault.Unauthorized: an unknown, revoked or malformed token (from an
//     Authenticator);
//   - fault.Invalid: user input is invalid; the dashboard shows Msg next to
//     the form field named Field, with status 400.
// Any other error is internal: logged once, answered 500.

// Authenticator turns an API token into who it speaks for. It is called at
// login and again on every request of a session, so a revoked token ends
// its sessions.
type Authenticator interface {
	// Authenticate returns the token's role (auth.RoleAdmin, auth.RoleSupport
	// or auth.RoleViewer) and, for a viewer token limited to one customer,
	// that customer's id; a fault.Unauthorized error for an invalid token.
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Fleet is the read side of the stored fleet. Every method must do its
// counting, filtering, sorting and paging in the store (SQL GROUP BY, WHERE,
// ORDER BY, LIMIT/OFFSET over indexed columns): the dashboard never loads
// more rows than it shows, so pages stay fast with 100,000 hosts.
type Fleet interface {
	// Overview returns fleet-wide counts as of asOf; hosts last seen before
	// staleBefore count as stale. Upcoming lists cycles in use by the fleet
	// whose end of life falls within the next 90 days, soonest first.
	Overview(ctx context.Context, asOf, staleBefore time.Time) (Overview, error)
	// Hosts returns one page of hosts matching q plus the total match count.
	Hosts(ctx context.Context, q HostQuery) (HostPage, error)
	// Facets returns the distinct product ids and OS names in the fleet, for
	// the host filters.
	Facets(ctx context.Context) (Facets, error)
	// Host returns one host with its matched products' verdicts; an unknown
	// id yields a fault.NotFound error.
	Host(ctx context.Context, id string) (HostDetail, error)
	// Inventory returns one page of a host's raw inventory, sorted by name,
	// and the host's total item count.
	Inventory(ctx context.Context, hostID string, offset, limit int) (items []api.Item, total int, err error)
	// Products returns every catalog product installed somewhere in the
	// fleet, with host counts, sorted by unsupported installs then id.
	Products(ctx context.Context) ([]ProductSummary, error)
	// Product returns one product's catalog data and the fleet's installs per
	// version (at most maxVersions rows, most hosts first, the rest summed in
	// OtherHosts); an id the catalog does not know yields a fault.NotFound error.
	Product(ctx context.Context, id string, maxVersions int) (ProductDetail, error)
}

// Checker answers the support desk's ticket check, the same way as
// GET /api/v1/tickets/check.
type Checker interface {
	// TicketCheck decides a ticket: accept or refuse, when work starts, who
	// takes it, why. Bad input is a fault.Invalid error naming the field
	// (customer, host, product, version, severity, at); an unknown customer
	// or host, or a product the host does not run, is a fault.NotFound
	// error; a hostname shared by several hosts a fault.Conflict naming host.
	TicketCheck(ctx context.Context, q TicketQuery) (api.TicketCheck, error)
	// CustomerNames lists the customers' names, sorted, for the form's
	// suggestions.
	CustomerNames(ctx context.Context) ([]string, error)
}

// TicketQuery is the ticket check form: Customer with Product and Version,
// or Host with Product; Severity "1" to "4"; At an RFC 3339 time ("" for now).
type TicketQuery struct {
	Customer, Host, Product, Version string
	Severity                         string
	At                               string
}

// Customers is the administration of customers and their contracts
// (admin), the same as the /api/v1/customers routes. Bad input is a
// fault.Invalid error naming the field (as the API names it: "tier",
// "holidays[1]", "business_hours.open"); a taken name a fault.Conflict
// naming "name"; an unknown customer a fault.NotFound error.
type Customers interface {
	// Customers lists every customer by name, with its contract's state today.
	Customers(ctx context.Context) ([]api.Customer, error)
	// Customer returns one customer by id or name.
	Customer(ctx context.Context, ref string) (api.Customer, error)
	// CreateCustomer creates a customer; the answer carries its enroll
	// secret, shown once.
	CreateCustomer(ctx context.Context, s api.CustomerSpec) (api.Customer, error)
	// UpdateCustomer changes the fields the patch sets (and with
	// RotateEnrollSecret answers the new secret, once).
	UpdateCustomer(ctx context.Context, ref string, p api.CustomerPatch) (api.Customer, error)
	// DeleteCustomer deletes a customer; one with hosts only when force
	// (detaching them), else a fault.Conflict error. It returns how many
	// hosts were detached.
	DeleteCustomer(ctx context.Context, ref string, force bool) (detached int, err error)
}

// Notifications is the notifier's state and the release publishing action.
type Notifications interface {
	// Groups returns every group with its subscriber count, by name.
	Groups(ctx context.Context) ([]Group, error)
	// Subscribers returns one page of subscriptions, newest first, and the total.
	Subscribers(ctx context.Context, offset, limit int) ([]Subscriber, int, error)
	// Outbox returns one page of messages in state q.State ("" for all),
	// newest first, plus the count of messages in each state.
	Outbox(ctx context.Context, q OutboxQuery) (OutboxPage, error)
	// PublishRelease publishes a release in the catalog (as
	// POST /api/v1/catalog/releases does) and queues the resulting
	// notifications. Invalid input yields a fault.Invalid error naming the field.
	PublishRelease(ctx context.Context, r ReleaseRequest) (PublishResult, error)
}

// SessionStore remembers ended sessions (logouts), so a copied cookie stops
// working for good: across restarts and across server instances sharing a
// database. Revocations may be forgotten once their session would have
// expired anyway.
type SessionStore interface {
	// RevokeSession records that session id ended; expires is when it would
	// have ended by itself.
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	// SessionRevoked reports whether session id was revoked.
	SessionRevoked(ctx context.Context, id string) (bool, error)
}

// Host actions (HostAdmin.HostAction).
const (
	HostApprove = "approve" // grant one pending re-enrolment request: its key becomes the host's
	HostDeny    = "deny"    // drop one pending re-enrolment request
	HostRevoke  = "revoke"  // the host's key stops working until restored
	HostRestore = "restore" // lift a revocation
	HostDelete  = "delete"  // delete an asset with its inventory, verdicts and upload history
)

// HostAdmin is an admin's control over hosts' credentials, and over
// whether an asset is kept.
type HostAdmin interface {
	// PendingEnrollments lists every re-enrolment request awaiting an
	// admin, oldest first, each with its id, time and source.
	PendingEnrollments(ctx context.Context) ([]PendingHost, error)
	// HostAction applies one of the Host* actions to host id; approve and
	// deny act on exactly the pending request request (its id), never on
	// one made later. A fault.NotFound for an unknown host, a
	// fault.Conflict when there is nothing to restore, request is not
	// pending for the host, or HostDelete names a host rather than an
	// asset.
	HostAction(ctx context.Context, id, action, request string) error
}

// PendingHost is one re-enrolment request waiting for an admin, with the
// host it is for.
type PendingHost struct {
	ID       string // host id
	Hostname string // as the host reported it last
	Request  api.PendingEnrollment
}

// Settings is token, enroll secret and catalog administration.
type Settings interface {
	// Tokens returns every API token (never the secret), newest first.
	Tokens(ctx context.Context) ([]Token, error)
	// CreateToken creates a token and returns its secret, shown only once.
	// A customer id limits a viewer token to that customer's hosts ("" for
	// none); an unknown customer is a fault.Invalid error naming "customer".
	CreateToken(ctx context.Context, role, name, customer string) (secret string, t Token, err error)
	// RevokeToken revokes a token by id; unknown ids yield a fault.NotFound error.
	RevokeToken(ctx context.Context, id string) error
	// EnrollSecrets lists the enroll secrets agents may use (never the secret).
	EnrollSecrets(ctx context.Context) ([]EnrollSecret, error)
	// CatalogInfo returns the loaded catalog's provenance and last sync.
	CatalogInfo(ctx context.Context) (CatalogStatus, error)
}

// Overview is the fleet at a glance.
type Overview struct {
	Hosts            int            // hosts stored (assets not included)
	Assets           int            // assets registered by SBOM (container images, build artefacts)
	StaleHosts       int            // hosts last seen before staleBefore
	Installs         int            // matched installs (host × product)
	HostsByStatus    map[string]int // a host counts once, under its worst status; keys are catalog.Status*
	InstallsByStatus map[string]int // keys are catalog.Status*
	TopUnsupported   []ProductCount // at most 10, most unsupported installs first
	Upcoming         []UpcomingEOL  // eol within 90 days, soonest first, at most 50
}

// ProductCount is a product with its count of unsupported (eol or
// unknown-version) installs.
type ProductCount struct {
	Product     string
	Label       string
	Unsupported int
	Installs    int
}

// UpcomingEOL is a cycle in use whose end of life is near.
type UpcomingEOL struct {
	Product string
	Label   string
	Cycle   string
	EOL     time.Time // the last supported day
	Hosts   int
}

// Limits the data sources honour.
const (
	// MaxPerPage is the most rows HostQuery.Limit asks for.
	MaxPerPage = 200
	// UpcomingDays is how far ahead Overview.Upcoming looks for ends of life.
	UpcomingDays = 90
)

// Host sort keys accepted in HostQuery.Sort.
const (
	SortHostname = "hostname"
	SortStatus   = "status" // worst first when ascending
	SortOS       = "os"
	SortLastSeen = "last_seen" // oldest first when ascending
)

// HostQuery selects a page of hosts. Empty fields do not filter.
type HostQuery struct {
	Search      string    // substring of the hostname, case-insensitive
	Status      string    // worst status of the host; with Product: hosts with an install of Product in this status
	Product     string    // hosts where this product is installed
	OS          string    // exact OS name (api.HostInfo.OSName)
	Kind        string    // api.KindHost (agents' endpoints) or api.KindAsset (SBOMs' subjects); "" both
	Stale       bool      // only hosts last seen before StaleBefore (never assets)
	StaleBefore time.Time // the stale threshold (always set)
	Sort        string    // one of the Sort* keys (default hostname)
	Desc        bool
	Offset      int
	Limit       int // 1..200
}

// HostPage is one page of hosts.
type HostPage struct {
	Rows  []HostRow
	Total int // rows matching the query, all pages
}

// HostRow is a host in the hosts table.
type HostRow struct {
	ID       string
	Hostname string // an asset's name
	Kind     string // api.KindHost or api.KindAsset
	OSName   string
	Status   string    // worst status over its installs (or the filtered product's status)
	Installs int       // matched products on the host
	LastSeen time.Time // an asset's last upload
	// Version is the installed version of HostQuery.Product when filtering by product.
	Version string
}

// Facets are the values offered by the host filters.
type Facets struct {
	Products []string // product ids installed in the fleet, sorted
	OSes     []string // OS names, sorted
}

// HostDetail is one host.
type HostDetail struct {
	ID        string
	Kind      string            // api.KindHost or api.KindAsset
	Labels    map[string]string // an asset's labels
	Uploads   []api.SBOMUpload  // an asset's SBOM history, newest first
	Info      api.HostInfo
	FirstSeen time.Time
	LastSeen  time.Time
	Status    string
	Items     int                  // raw inventory size
	Errors    []api.CollectorError // from the last report
	Verdicts  []InstallVerdict     // matched products, worst first
	// Revoked: the host's node key was revoked; it stays so until an admin
	// restores it.
	Revoked bool
	// Pending are the requests to enroll the host's install id again
	// without its node key, waiting for an admin, oldest first. From is
	// set for admins only.
	Pending []api.PendingEnrollment
	// CustomerID and Customer (its name) are the customer the host or
	// asset belongs to; empty for none.
	CustomerID, Customer string
}

// InstallVerdict is one matched product on a host.
type InstallVerdict struct {
	Item    api.Item // the inventory item it came from
	Verdict catalog.Verdict
}

// ProductSummary is a product in the fleet.
type ProductSummary struct {
	ID          string
	Label       string
	Category    string
	Hosts       int
	Unsupported int // eol or unknown-version installs
	Source      string
}

// ProductDetail is a product's catalog data and its use in the fleet.
type ProductDetail struct {
	Product    *catalog.Product // cycles newest first
	CycleHosts map[string]int   // hosts per cycle name
	Versions   []VersionCount   // most hosts first
	OtherHosts int              // hosts on versions beyond maxVersions
}

// VersionCount is how many hosts run one version.
type VersionCount struct {
	Version string
	Cycle   string
	Status  string
	Hosts   int
}

// Group is a notification group.
type Group struct {
	Name string
	// Webhook is the group's webhook URL (it may hold credentials): only
	// admins see it.
	Webhook     string
	Products    []string
	Cycles      []string // when set, the group covers only these cycles
	Events      []string // notifier.Kind*
	Subscribers int      // confirmed subscribers
	Pending     int      // subscribers who have not confirmed yet
}

// Subscriber states.
const (
	SubPending      = "pending" // waiting for the double opt-in confirmation
	SubConfirmed    = "confirmed"
	SubUnsubscribed = "unsubscribed"
)

// Subscriber is one subscription of an address to a group.
type Subscriber struct {
	Email     string
	Group     string
	State     string // Sub*
	Created   time.Time
	Confirmed time.Time // zero when not confirmed
}

// Outbox message states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
	// OutboxCancelled is a message dropped before sending (e.g. the subscriber left).
	OutboxCancelled = "cancelled"
)

// OutboxQuery selects a page of outbox messages.
type OutboxQuery struct {
	State  string // Outbox* or "" for every state
	Offset int
	Limit  int
}

// OutboxPage is one page of the outbox.
type OutboxPage struct {
	Rows   []OutboxMessage
	Total  int            // messages matching the query
	Counts map[string]int // messages per state, whole outbox
}

// OutboxMessage is one email in the outbox.
type OutboxMessage struct {
	ID        string
	To        string
	Subject   string
	Kind      string // notifier.Kind*
	State     string // Outbox*
	Attempts  int
	SMTPReply string // last SMTP answer, e.g. "250 2.0.0 Ok: queued" or "550 5.1.1 no such user"
	Created   time.Time
	Sent      time.Time // zero unless sent
	NextTry   time.Time // zero unless pending a retry
}

// ReleaseRequest is the publish-a-release form, the same fields as
// POST /api/v1/catalog/releases.
type ReleaseRequest struct {
	Product string
	Cycle   string
	Version string
	Date    time.Time
}

// PublishResult reports what publishing a release caused, when the data
// source knows it at once (the server's notifier fans out in the
// background, so it leaves both zero).
type PublishResult struct {
	Events   int // events recorded
	Messages int // emails queued
}

// Token is an API token, without its secret.
type Token struct {
	ID           string
	Name         string
	Role         string
	Customer     string // the id of the customer a viewer token is limited to ("" for none)
	CustomerName string // that customer's name
	Created      time.Time
	LastUsed     time.Time // zero when never used
}

// EnrollSecret is an enroll secret, without the secret itself.
type EnrollSecret struct {
	ID      string
	Name    string // e.g. "--enroll-secret flag"
	Created time.Time
	Hosts   int // hosts enrolled with it
}

// CatalogStatus is the loaded catalog and its last sync.
type CatalogStatus struct {
	Info      catalog.Info
	LastSync  time.Time // zero when never synced
	SyncError string    // last sync's error, empty when it worked
	Documents []CatalogDocument
	Releases  []PublishedRelease // newest first, at most 20
}

// CatalogDocument is a catalog file imported, or a feed's last snapshot,
// applied over the embedded catalog.
type CatalogDocument struct {
	Name    string // file name or feed URL
	Kind    string // "import" or "feed"
	Hash    string
	Created time.Time // when this content was stored
}

// PublishedRelease is a release published through the API, the CLI or the dashboard.
type PublishedRelease struct {
	Product, Cycle, Version, Date, By string
	Created                           time.Time
}

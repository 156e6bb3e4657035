package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
	"github.com/eolwatch/eolwatch/server/store"
)

// publishFunc publishes one release into the catalog (POST
// /api/v1/catalog/releases); catalogsvc.(*Service).Publish.
type publishFunc func(ctx context.Context, r catalogsvc.Release) (catalogsvc.Published, error)

// apiStore is what the HTTP surface uses of the store directly, beside
// the domain service: who is calling, enrolment, the fleet's read views and
// health. store.Store implements it; methods are safe for concurrent use.
type apiStore interface {
	credentials
	enrolment
	fleetViews
	Ping(ctx context.Context) error
}

// credentials tells who is calling (guard, in http.go).
type credentials interface {
	// HostByNodeKey returns the host owning an unrevoked node key.
	HostByNodeKey(ctx context.Context, nodeKey string) (store.HostRef, error)
	// Authenticate returns who a person's unrevoked API token speaks for:
	// its role and, for a token limited to one customer, the customer.
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// enrolment admits and revokes hosts (handlers_agent.go, handlers_fleet.go).
type enrolment interface {
	// EnrollHost decides an enrolment: a new host, a proven re-enrolment,
	// or a request pending an admin's approval.
	EnrollHost(ctx context.Context, in store.EnrollInput) (store.EnrollResult, error)
	// ApproveEnrollment, DenyEnrollment and RestoreHost are the admin's
	// answers to a pending request and a revoked host.
	// Approve and deny name the exact pending request (its id).
	ApproveEnrollment(ctx context.Context, uid, reqID string) error
	DenyEnrollment(ctx context.Context, uid, reqID string) error
	// PendingEnrollments lists every pending request, oldest first.
	PendingEnrollments(ctx context.Context) ([]api.PendingEnrollment, error)
	RestoreHost(ctx context.Context, uid string) error
	// CustomerByEnrollSecret finds the customer whose enroll secret this is.
	CustomerByEnrollSecret(ctx context.Context, secret string) (customerID string, err error)
	RevokeHost(ctx context.Context, uid string) error
	// DeleteAsset deletes an asset by id or name (a host is a conflict).
	DeleteAsset(ctx context.Context, ref string) (api.Host, error)
}

// fleetViews are the fleet's read views (handlers_fleet.go, metrics.go).
// They take a store.Scope: a token limited to one customer reads only
// that customer's hosts.
type fleetViews interface {
	ListHosts(ctx context.Context, f store.HostFilter) (api.HostList, error)
	HostDetail(ctx context.Context, sc store.Scope, ref string) (api.HostDetail, error)
	Products(ctx context.Context, sc store.Scope) ([]api.FleetProduct, error)
	Compliance(ctx context.Context, sc store.Scope) (api.Compliance, error)
	EachNonCompliant(ctx context.Context, sc store.Scope, fn func(store.NonCompliantInstall) error) error
	HostsByStatus(ctx context.Context) (map[string]int, error)
	Unmatched(ctx context.Context, sc store.Scope, limit int) ([]store.UnmatchedItem, error)
	FleetState(ctx context.Context) (store.FleetState, error)
}

var _ apiStore = (*store.Store)(nil)

// httpUI is the dashboard as the server sees it.
type httpUI interface {
	Register(mux *http.ServeMux)
}

// Server is the eolwatch HTTP surface: the API routes, their access rules,
// metrics, and the dashboard's routes. The domain work is the service's.
type Server struct {
	cfg      Config
	st       apiStore
	svc      *service.Service
	log      *slog.Logger
	publish  publishFunc // nil: publishing is unavailable
	notifier *notifier.Service
	ui       httpUI
	metrics  *metrics

	enrollHash  [sha256.Size]byte
	enrollSet   bool
	enrollFails ratelimit.Limiter // wrong enroll secrets per client address

	reportBudget *intake.Budget // report bytes in flight, all senders together
	proxies      trustedProxies // whose X-Forwarded-* headers count

	ready atomic.Bool
}

// options assembles a Server (tests build one directly).
type options struct {
	cfg      Config
	st       apiStore
	svc      *service.Service
	publish  publishFunc
	notifier *notifier.Service
	ui       httpUI
	metrics  *metrics
	log      *slog.Logger
	// limits makes the rate limiters (default in memory; in the database
	// when several servers share it).
	limits ratelimit.Factory
}

func newServer(o options) *Server {
	if o.log == nil {
		o.log = slog.Default()
	}
	s := &Server{cfg: o.cfg, st: o.st, svc: o.svc, log: o.log.With("component", "server"), publish: o.publish, notifier: o.notifier,
		ui: o.ui, metrics: o.metrics}
	if o.limits == nil {
		o.limits = ratelimit.InMemory
	}
	s.enrollFails = o.limits("enroll-failures", 20, 10*time.Minute)
	if s.metrics == nil {
		var cat func() *catalog.Catalog
		if o.svc != nil {
			cat = o.svc.Catalog
		}
		s.metrics = newMetrics(o.st, cat)
	}
	if p, err := parseTrustedProxies(o.cfg.TrustedProxies); err == nil { // Validate refused bad ones
		s.proxies = p
	}
	budget := o.cfg.ReportBudgetMiB
	if budget <= 0 {
		budget = DefaultConfig().ReportBudgetMiB
	}
	s.setReportBudget(int64(budget)<<20, reportBudgetWait)
	if o.cfg.EnrollSecret != "" {
		s.enrollHash = sha256.Sum256([]byte(o.cfg.EnrollSecret))
		s.enrollSet = true
	}
	return s
}

// checkEnrollSecret compares a presented secret with the configured one in
// constant time (both hashed first, so lengths do not leak either).
func (s *Server) checkEnrollSecret(given string) bool {
	if !s.enrollSet {
		return false
	}
	h := sha256.Sum256([]byte(given))
	return subtle.ConstantTimeCompare(h[:], s.enrollHash[:]) == 1
}

// setReportBudget sizes the budget of report bytes in flight; a report
// that finds it spent waits up to wait, then is answered 503.
func (s *Server) setReportBudget(total int64, wait time.Duration) {
	s.reportBudget = intake.NewBudget(total, wait)
}

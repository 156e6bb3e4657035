package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/store"
)

// route is one entry of the API.
type route struct {
	pattern string      // ServeMux pattern with method
	access  auth.Access // who may call it
	handler httpjson.HandlerFunc
}

// routeTable is the whole HTTP surface of the server, on one screen.
func (s *Server) routeTable() []route {
	rs := []route{
		// Agents.
		{"POST /api/v1/enroll", auth.Public, s.handleEnroll}, // checks the enroll secret itself
		{"POST /api/v1/report", auth.Agent, s.handleReport},
		// Build pipelines: an SBOM registers (or updates) an asset.
		{"POST /api/v1/sboms", auth.Upload, s.handleSBOM},
		// The fleet. CustomerViewer routes show a token limited to a
		// customer only that customer's hosts (scope(r)).
		{"GET /api/v1/hosts", auth.CustomerViewer, s.handleHosts},
		{"GET /api/v1/hosts/{id}", auth.CustomerViewer, s.handleHost},
		{"DELETE /api/v1/hosts/{id}", auth.Admin, s.handleDeleteAsset}, // assets only: a host is revoked
		{"POST /api/v1/hosts/{id}/revoke", auth.Admin, s.handleRevokeHost},
		{"POST /api/v1/hosts/{id}/restore", auth.Admin, s.handleHostAction},
		{"POST /api/v1/hosts/{id}/approve", auth.Admin, s.handleHostAction}, // a pending re-enrolment
		{"POST /api/v1/hosts/{id}/deny", auth.Admin, s.handleHostAction},
		{"GET /api/v1/enrollments", auth.Admin, s.handleEnrollments}, // every pending re-enrolment request
		{"GET /api/v1/products", auth.CustomerViewer, s.handleProducts},
		{"GET /api/v1/compliance", auth.CustomerViewer, s.handleCompliance},
		{"GET /api/v1/compliance/export.csv", auth.CustomerViewer, s.handleComplianceCSV},
		{"GET /api/v1/unmatched", auth.CustomerViewer, s.handleUnmatched},
		{"GET /api/v1/eligibility", auth.Support, s.handleEligibility},
		// Customers, their contracts and the ticket check.
		{"POST /api/v1/customers", auth.Admin, s.handleCreateCustomer},
		{"GET /api/v1/customers", auth.Admin, s.handleCustomers},
		{"GET /api/v1/customers/{id}", auth.Admin, s.handleCustomer},
		{"PATCH /api/v1/customers/{id}", auth.Admin, s.handleUpdateCustomer},
		{"DELETE /api/v1/customers/{id}", auth.Admin, s.handleDeleteCustomer},
		{"GET /api/v1/tickets/check", auth.Support, s.handleTicketCheck},
		// The catalog.
		{"GET /api/v1/catalog", auth.CustomerViewer, s.handleCatalog},
		{"POST /api/v1/catalog/releases", auth.Admin, s.handlePublishRelease},
		// Operations.
		{"GET /healthz", auth.Public, s.handleHealthz},
		{"GET /readyz", auth.Public, s.handleReadyz},
		{"GET /metrics", auth.Viewer, httpjson.Plain(s.metrics.handler().ServeHTTP)},
	}
	rs = append(rs, s.notifierRoutes()...)
	return rs
}

// handler returns the server's HTTP handler: the routes plus the
// dashboard, wrapped in logging and panic recovery.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routeTable() {
		mux.Handle(r.pattern, s.guard(r.access, httpjson.Handle(s.log, r.handler)))
	}
	// A known path called with another method is a 405 naming the
	// methods it takes (Allow), in JSON: each path of the table also gets
	// a pattern without a method, which ServeMux picks only when no route
	// of the path takes the request's method. An unknown path under /api/
	// is a JSON 404.
	for path, allow := range allowedMethods(s.routeTable()) {
		mux.HandleFunc(path, httpjson.Handle(s.log, func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Allow", allow)
			return fault.New(fault.MethodNotAllowed, "", "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow)
		}))
	}
	mux.HandleFunc("/api/", httpjson.Handle(s.log, func(w http.ResponseWriter, r *http.Request) error {
		return fault.New(fault.NotFound, "", "no route %s %s", r.Method, r.URL.Path)
	}))
	if s.ui != nil {
		s.ui.Register(mux)
	}
	var h http.Handler = mux
	if s.cfg.httpsPublic() {
		h = hsts(h)
	}
	return s.logRequests(h)
}

// allowedMethods maps each path of routes (a ServeMux pattern without its
// method) to the methods its routes take, as an Allow header lists them:
// sorted, with HEAD wherever GET is (ServeMux answers HEAD with GET's route).
func allowedMethods(routes []route) map[string]string {
	methods := map[string][]string{}
	for _, r := range routes {
		method, path, ok := strings.Cut(r.pattern, " ")
		if !ok {
			continue // a pattern without a method takes every method
		}
		methods[path] = append(methods[path], method)
		if method == http.MethodGet {
			methods[path] = append(methods[path], http.MethodHead)
		}
	}
	allow := make(map[string]string, len(methods))
	for path, ms := range methods {
		slices.Sort(ms)
		allow[path] = strings.Join(slices.Compact(ms), ", ")
	}
	return allow
}

// hsts makes browsers use https for this site for a year: every answer
// says so (Strict-Transport-Security), when the public URL is https.
func hsts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	ctxPrincipal ctxKey = iota
	ctxHost
)

// principal is who the request's token speaks for (routes behind guard).
func principal(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(ctxPrincipal).(auth.Principal)
	return p
}

// scope is the part of the fleet the request may read: one customer's
// hosts for a token limited to it, else every host.
func scope(r *http.Request) store.Scope { return store.Scope{Customer: principal(r).Customer} }

// guard enforces a route's access level.
func (s *Server) guard(a auth.Access, h http.HandlerFunc) http.Handler {
	if a == auth.Public {
		return h
	}
	return httpjson.Handle(s.log, func(w http.ResponseWriter, r *http.Request) error {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eolwatch"`)
			return fault.New(fault.Unauthorized, "", "missing bearer token (Authorization: Bearer ...)")
		}
		if a == auth.Agent {
			host, err := s.st.HostByNodeKey(r.Context(), tok)
			if err != nil {
				return authError(w, err, "unknown or revoked node key: enroll again")
			}
			h(w, r.WithContext(context.WithValue(r.Context(), ctxHost, host)))
			return nil
		}
		p, err := s.st.Authenticate(r.Context(), tok)
		if err != nil {
			return authError(w, err, "unknown or revoked API token")
		}
		if !p.May(a) {
			if p.Scoped() && auth.Allows(p.Role, a) {
				return fault.New(fault.Forbidden, "", "a token limited to one customer may not call %s %s", r.Method, r.URL.Path)
			}
			return fault.New(fault.Forbidden, "", "role %s may not call %s %s (needs %s)", p.Role, r.Method, r.URL.Path, a)
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxPrincipal, p)))
		return nil
	})
}

// authError answers a refused credential with msg (and the header saying
// so); any other failure is internal.
func authError(w http.ResponseWriter, err error, msg string) error {
	if errors.Is(err, store.ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eolwatch", error="invalid_token"`)
		return fault.New(fault.Unauthorized, "", "%s", msg)
	}
	return err
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (sr *statusRecorder) WriteHeader(code int) {
	if sr.status == 0 {
		sr.status = code
	}
	sr.ResponseWriter.WriteHeader(code)
}

func (sr *statusRecorder) Write(b []byte) (int, error) {
	if sr.status == 0 {
		sr.status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}

func (sr *statusRecorder) Unwrap() http.ResponseWriter { return sr.ResponseWriter }

// logRequests logs each request at debug level (warn for 5xx) and turns a
// panic into a logged 500.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sr := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				httpjson.WriteError(sr, r, s.log, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			}
			lvl := slog.LevelDebug
			if sr.status >= 500 {
				lvl = slog.LevelWarn
			}
			s.log.Log(r.Context(), lvl, "http", "method", r.Method, "path", r.URL.Path, "status", sr.status,
				"dur", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr, "client", s.proxies.clientIP(r))
		}()
		next.ServeHTTP(sr, r)
	})
}

// maxJSONBody bounds the bodies of every JSON request but reports.
const maxJSONBody = 1 << 20

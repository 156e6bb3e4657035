// Package web is eolwatch's dashboard: server-rendered html/template pages
// behind the same token roles as the API. Its data comes through the small
// interfaces in data.go, which the server wires to the store, the notifier
// and the catalog; pages never load more rows than they show.
package web

import (
	"bytes"
	"crypto/rand"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/auth"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Config holds the dashboard's dependencies and settings. Auth, Fleet,
// Checker, Customers, Notifications and Settings are required.
type Config struct {
	// Auth checks the token typed on the login page, and again on every
	// request of a session.
	Auth Authenticator
	// Fleet serves the overview, hosts and products pages.
	Fleet Fleet
	// CustomerFleet serves the same pages to a session whose token is
	// limited to one customer: the fleet of that customer's hosts (by the
	// customer's id). Nil: such sessions are refused.
	CustomerFleet func(customer string) Fleet
	// Checker answers the ticket check form.
	Checker Checker
	// Customers serves the customers pages.
	Customers Customers
	// Notifications serves the notifications page and publishes releases.
	Notifications Notifications
	// Settings serves the settings page.
	Settings Settings
	// Sessions stores logouts so they hold across restarts and instances.
	// Nil keeps them in this process's memory only (tests, a dashboard on
	// its own).
	Sessions SessionStore
	// Hosts lets admins answer pending re-enrolments and revoke or restore
	// hosts. Nil: the dashboard shows no such controls.
	Hosts HostAdmin
	// CatalogDate returns the day the catalog data in force was taken
	// (catalog.Info.Date; zero when unknown). Every page shows it with its
	// age, in amber once it is older than StaleCatalogDays. Optional.
	CatalogDate func() time.Time
	// SessionKey encrypts and authenticates session cookies (32 bytes, e.g.
	// stored in the data directory so sessions survive a restart and are
	// shared by several instances). When empty a random key is used and
	// sessions end when the process stops.
	SessionKey []byte
	// SessionTTL is how long a login lasts (default 12 hours).
	SessionTTL time.Duration
	// StaleAfter is how long without a report makes an agent stale (default 72 hours).
	StaleAfter time.Duration
	// SecureCookies marks cookies Secure even on plain-HTTP requests, for a
	// server behind a TLS-terminating proxy (the server sets it when its
	// public URL is https). Requests over TLS always get Secure cookies.
	SecureCookies bool
	// Scheme, when set, says which scheme the client used, honouring
	// X-Forwarded-Proto from trusted proxies only; "https" makes the
	// request's cookies Secure.
	Scheme func(r *http.Request) string
	// Now returns the current time (default time.Now); tests fix it.
	Now func() time.Time
	// Logger receives the dashboard's logs (default slog.Default()).
	Logger *slog.Logger
}

// UI is the dashboard. Create it with New and add its routes to a mux with Register.
type UI struct {
	cfg      Config
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	static   http.Handler
}

// pageNames are the page templates; each is parsed together with layout.html.
var pageNames = []string{"login", "overview", "hosts", "host", "products", "product", "eligibility", "customers", "customer", "notifications", "settings", "error"}

// New returns the dashboard for cfg. It panics when a required dependency is
// missing or the embedded templates do not parse (both are programming errors).
func New(cfg Config) *UI {
	if cfg.Auth == nil || cfg.Fleet == nil || cfg.Checker == nil || cfg.Customers == nil || cfg.Notifications == nil || cfg.Settings == nil {
		panic("web: Config needs Auth, Fleet, Checker, Customers, Notifications and Settings")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 72 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	key := cfg.SessionKey
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(fmt.Sprintf("web: session key: %v", err))
		}
	}
	ss, err := newSessions(key, cfg.SessionTTL, cfg.Now, cfg.Sessions)
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	u := &UI{cfg: cfg, log: cfg.Logger.With("component", "web"), sessions: ss, pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		t := template.New("layout.html").Funcs(funcs)
		u.pages[name] = template.Must(t.ParseFS(assets, "templates/layout.html", "templates/"+name+".html"))
	}
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	u.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return u
}

// Register adds every dashboard route to mux. API routes live elsewhere
// under /api/v1/ and do not clash with these.
func (u *UI) Register(mux *http.ServeMux) {
	h := func(pattern string, a auth.Access, fn pageFunc) {
		mux.Handle(pattern, u.guard(a, fn))
	}
	mux.Handle("GET /static/", u.staticHandler())
	mux.HandleFunc("GET /login", u.loginPage)
	mux.HandleFunc("POST /login", u.login)
	mux.HandleFunc("POST /logout", u.logout)

	// The fleet pages show a session limited to a customer only that
	// customer's hosts (u.fleet); every other page refuses such a session.
	h("GET /{$}", auth.CustomerViewer, u.overview)
	h("GET /hosts", auth.CustomerViewer, u.hosts)
	h("GET /hosts/{id}", auth.CustomerViewer, u.host)
	if u.cfg.Hosts != nil {
		h("POST /hosts/{id}/{action}", auth.Admin, u.hostAction)
	}
	h("GET /products", auth.CustomerViewer, u.products)
	h("GET /products/{id}", auth.CustomerViewer, u.product)
	h("GET /eligibility", auth.Support, u.ticketCheck) // the ticket check
	h("GET /customers", auth.Admin, u.customers)
	h("POST /customers", auth.Admin, u.createCustomer)
	h("GET /customers/{id}", auth.Admin, u.customer)
	h("POST /customers/{id}", auth.Admin, u.updateCustomer)
	h("POST /customers/{id}/delete", auth.Admin, u.deleteCustomer)
	h("GET /notifications", auth.Viewer, u.notifications)
	h("POST /notifications/releases", auth.Admin, u.publishRelease)
	h("GET /settings", auth.Viewer, u.settings)
	h("POST /settings/tokens", auth.Admin, u.createToken)
	h("POST /settings/tokens/{id}/revoke", auth.Admin, u.revokeToken)
}

// Handler returns a handler serving only the dashboard, for tests and for
// running it on its own listener.
func (u *UI) Handler() http.Handler {
	mux := http.NewServeMux()
	u.Register(mux)
	return mux
}

func (u *UI) staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		u.static.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every dashboard answer carries: no inline
// script or style, no framing, no sniffing, no referrer to other sites.
func securityHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// fleet is the fleet a session may see: the whole fleet, or the hosts of
// the one customer its token is limited to (never nil for a session that
// passed guard).
func (u *UI) fleet(s *session) Fleet {
	if s.Customer != "" {
		return u.cfg.CustomerFleet(s.Customer)
	}
	return u.cfg.Fleet
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string // which nav entry is current
	Session *session
	Flash   string
	Now     time.Time
	Catalog catalogAge // shown in every page's header
	Page    any
}

// StaleCatalogDays is the catalog age, in days, past which the dashboard
// shows it in amber (as verdicts start warning: catalog.StaleAfterDays).
const StaleCatalogDays = 30

// catalogAge is the catalog data's date and age on the day a page is shown.
type catalogAge struct {
	Known bool
	Date  string // YYYY-MM-DD
	Days  int
	Stale bool // older than StaleCatalogDays
}

// catalogAgeOn returns the catalog's age on now's day (UTC).
func (u *UI) catalogAgeOn(now time.Time) catalogAge {
	if u.cfg.CatalogDate == nil {
		return catalogAge{}
	}
	d := u.cfg.CatalogDate()
	if d.IsZero() {
		return catalogAge{}
	}
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	days := int(today.Sub(day).Hours() / 24)
	return catalogAge{Known: true, Date: day.Format(time.DateOnly), Days: days, Stale: days > StaleCatalogDays}
}

// render writes a page with status code.
func (u *UI) render(w http.ResponseWriter, r *http.Request, code int, name string, v view) {
	t, ok := u.pages[name]
	if !ok {
		panic("web: no page " + name)
	}
	if v.Now.IsZero() {
		v.Now = u.cfg.Now()
	}
	v.Catalog = u.catalogAgeOn(v.Now)
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Rendered whole, then every invisible or direction-changing character
	// (all of which come from data: agent-reported hostnames, product
	// names, versions, OS names) is shown as its escape, so no text can
	// read as something else (visible.go).
	var buf bytes.Buffer
	err := t.Execute(&buf, v)
	if err != nil {
		u.log.Error("render", "page", name, "path", r.URL.Path, "err", err)
	}
	w.WriteHeader(code)
	w.Write(visibleBytes(buf.Bytes()))
}

// errorPage is the view of the error template.
type errorPage struct {
	Code    int
	Heading string
	Message string
}

// fail answers a failed page: 404 for a fault.NotFound, 400 for a fault.Invalid,
// otherwise 500, logged here and only here with the request's fields.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	switch fault.CodeOf(err) {
	case fault.NotFound:
		u.errorPage(w, r, s, http.StatusNotFound, "Not found", "Nothing here by that name.")
	case fault.Invalid:
		u.errorPage(w, r, s, http.StatusBadRequest, "Invalid input", err.Error())
	default:
		u.log.Error("page failed", "method", r.Method, "path", r.URL.Path, "role", s.roleOrEmpty(), "err", err)
		u.errorPage(w, r, s, http.StatusInternalServerError, "Something went wrong", "The server could not build this page; the error is in its log.")
	}
}

func (u *UI) errorPage(w http.ResponseWriter, r *http.Request, s *session, code int, heading, msg string) {
	u.render(w, r, code, "error", view{Title: heading, Session: s, Page: errorPage{Code: code, Heading: heading, Message: msg}})
}

package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/auth"
)

// Cookie names.
const (
	sessionCookie = "eolwatch_session"
	loginCookie   = "eolwatch_login" // pre-session CSRF token of the login form
)

// maxFormBytes bounds every form body the dashboard accepts.
const maxFormBytes = 64 << 10

// session is a logged-in user. Its cookie is the AES-GCM sealed JSON of
// this struct: opaque to the browser and impossible to forge or alter
// without the key. The token is re-checked on every request, so revoking a
// token ends the sessions opened with it.
type session struct {
	ID      string `json:"i"`
	Token   string `json:"t"`
	CSRF    string `json:"c"`
	Expires int64  `json:"e"` // unix seconds
	// Role and Customer are filled by Authenticate on each request:
	// Customer is set for a token limited to one customer.
	Role         string `json:"-"`
	Customer     string `json:"-"`
	CustomerName string `json:"-"` // the customer's name, for the page header
}

// principal is who the session speaks for.
func (s *session) principal() auth.Principal {
	if s == nil {
		return auth.Principal{}
	}
	return auth.Principal{Role: s.Role, Customer: s.Customer}
}

func (s *session) roleOrEmpty() string {
	if s == nil {
		return ""
	}
	return s.Role
}

// Can reports whether the session may do action: "check", "publish",
// "tokens", "customers", or open "notifications" or "settings" (used by
// templates to hide links and forms it cannot use).
func (s *session) Can(action string) bool {
	if s == nil {
		return false
	}
	p := s.principal()
	switch action {
	case "check":
		return p.May(auth.Support)
	case "publish", "tokens", "customers", "hosts", "subscribers":
		return p.May(auth.Admin)
	case "notifications", "settings":
		return p.May(auth.Viewer)
	}
	return false
}

// Scoped reports whether the session is limited to one customer's hosts.
func (s *session) Scoped() bool { return s != nil && s.Customer != "" }

// sessions seals and opens session cookies and remembers logged-out
// session ids until they would have expired anyway: in store when there is
// one (a logout then holds across restarts), else in memory.
type sessions struct {
	aead  cipher.AEAD
	ttl   time.Duration
	now   func() time.Time
	store SessionStore

	mu      sync.Mutex
	revoked map[string]int64 // session id -> expiry
}

func newSessions(key []byte, ttl time.Duration, now func() time.Time, store SessionStore) (*sessions, error) {
	if len(key) != 16 && len(key) != 24 && len(key) != 32 {
		return nil, fmt.Errorf("session key must be 16, 24 or 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return &sessions{aead: aead, ttl: ttl, now: now, store: store, revoked: map[string]int64{}}, nil
}

func randomToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("web: random: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// create returns a new session for token and its sealed cookie value.
func (ss *sessions) create(token string) (*session, string) {
	s := &session{ID: randomToken(), Token: token, CSRF: randomToken(), Expires: ss.now().Add(ss.ttl).Unix()}
	plain, _ := json.Marshal(s)
	nonce := make([]byte, ss.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("web: random: %v", err))
	}
	sealed := ss.aead.Seal(nonce, nonce, plain, []byte(sessionCookie))
	return s, base64.RawURLEncoding.EncodeToString(sealed)
}

var errNoSession = errors.New("no valid session")

// open returns the session sealed in value, or errNoSession (also for a
// logged-out session).
func (ss *sessions) open(ctx context.Context, value string) (*session, error) {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < ss.aead.NonceSize() {
		return nil, errNoSession
	}
	n := ss.aead.NonceSize()
	plain, err := ss.aead.Open(nil, raw[:n], raw[n:], []byte(sessionCookie))
	if err != nil {
		return nil, errNoSession
	}
	var s session
	if err := json.Unmarshal(plain, &s); err != nil || s.ID == "" || s.Token == "" || s.CSRF == "" {
		return nil, errNoSession
	}
	now := ss.now().Unix()
	if now >= s.Expires {
		return nil, errNoSession
	}
	ss.mu.Lock()
	_, gone := ss.revoked[s.ID]
	ss.mu.Unlock()
	if gone {
		return nil, errNoSession
	}
	if ss.store != nil {
		revoked, err := ss.store.SessionRevoked(ctx, s.ID)
		if err != nil {
			return nil, err
		}
		if revoked {
			return nil, errNoSession
		}
	}
	return &s, nil
}

// revoke ends a session before its expiry (logout).
func (ss *sessions) revoke(ctx context.Context, s *session) error {
	now := ss.now().Unix()
	ss.mu.Lock()
	for id, exp := range ss.revoked {
		if exp <= now {
			delete(ss.revoked, id)
		}
	}
	ss.revoked[s.ID] = s.Expires
	ss.mu.Unlock()
	if ss.store != nil {
		return ss.store.RevokeSession(ctx, s.ID, time.Unix(s.Expires, 0))
	}
	return nil
}

// secure reports whether the request's cookies are Secure: over TLS, with
// SecureCookies, or when a trusted proxy says the client used https.
func (u *UI) secure(r *http.Request) bool {
	return r.TLS != nil || u.cfg.SecureCookies || (u.cfg.Scheme != nil && u.cfg.Scheme(r) == "https")
}

func (u *UI) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: u.secure(r), SameSite: sameSite,
	})
}

// current returns the request's authenticated session, or nil.
func (u *UI) current(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	s, err := u.sessions.open(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, errNoSession) {
			u.log.Error("session store", "path", r.URL.Path, "err", err)
		}
		return nil
	}
	p, err := u.cfg.Auth.Authenticate(r.Context(), s.Token)
	if err != nil {
		if !fault.Is(err, fault.Unauthorized) {
			u.log.Error("authenticate session", "path", r.URL.Path, "err", err)
		}
		return nil
	}
	s.Role, s.Customer, s.CustomerName = p.Role, p.Customer, p.CustomerName
	return s
}

// pageFunc is a page handler; s is the authenticated session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session)

// guard authenticates the request, checks the role against the access
// level a and, for every POST, the form's CSRF token against the session's.
func (u *UI) guard(a auth.Access, fn pageFunc) http.Handler {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := u.current(r)
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.errorPage(w, r, nil, http.StatusUnauthorized, "Logged out", "Your session has ended. Log in again and resend the form.")
			return
		}
		if !s.principal().May(a) || (s.Scoped() && u.cfg.CustomerFleet == nil) {
			u.errorPage(w, r, s, http.StatusForbidden, "Not allowed", forbiddenText(a, s.principal()))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				u.errorPage(w, r, s, http.StatusBadRequest, "Invalid form", "The form could not be read.")
				return
			}
			if !sameToken(r.PostForm.Get("csrf"), s.CSRF) {
				u.errorPage(w, r, s, http.StatusForbidden, "Form expired", "The form's security token did not match your session. Reload the page and try again.")
				return
			}
		}
		fn(w, r, s)
	})
	return http.NewCrossOriginProtection().Handler(h)
}

func forbiddenText(a auth.Access, p auth.Principal) string {
	role := p.Role
	if p.Scoped() {
		return "Your token is limited to one customer's hosts: it opens the overview, hosts and products pages only."
	}
	switch a {
	case auth.Support:
		return "Eligibility checks need the support or admin role; you are logged in as " + role + "."
	case auth.Admin:
		return "This action needs the admin role; you are logged in as " + role + "."
	}
	return "Your role cannot open this page."
}

func sameToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// loginView is the login page's data.
type loginView struct {
	CSRF  string
	Next  string
	Error string
}

// safeNext keeps a post-login redirect on this site: a path, in printable
// ASCII without backslashes or spaces (browsers drop tabs and newlines and
// read "\\" as "/"), that does not start with "//" and parses to no scheme
// and no host. Anything else goes to "/".
func safeNext(next string) string {
	if len(next) < 1 || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "//") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	if s := u.current(r); s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	u.showLogin(w, r, http.StatusOK, "")
}

func (u *UI) showLogin(w http.ResponseWriter, r *http.Request, code int, msg string) {
	tok := randomToken()
	u.setCookie(w, r, loginCookie, tok, 1800, http.SameSiteStrictMode)
	next := r.URL.Query().Get("next")
	if r.Method == http.MethodPost {
		next = r.PostForm.Get("next")
	}
	u.render(w, r, code, "login", view{Title: "Log in", Page: loginView{CSRF: tok, Next: safeNext(next), Error: msg}})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		u.showLogin(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostForm.Get("csrf"), c.Value) {
		u.showLogin(w, r, http.StatusForbidden, "The login form expired. Please try again.")
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if token == "" {
		u.showLogin(w, r, http.StatusBadRequest, "Enter an API token.")
		return
	}
	p, err := u.cfg.Auth.Authenticate(r.Context(), token)
	if err != nil {
		if !fault.Is(err, fault.Unauthorized) {
			u.log.Error("login", "err", err)
			u.showLogin(w, r, http.StatusInternalServerError, "The server could not check the token; try again later.")
			return
		}
		u.log.Info("login refused", "remote", r.RemoteAddr)
		u.showLogin(w, r, http.StatusUnauthorized, "That token is not valid (unknown or revoked).")
		return
	}
	if !p.May(auth.CustomerViewer) {
		msg := "That token's role cannot use the dashboard."
		if p.Role == auth.RoleCI {
			msg = "That is a ci token: it may only upload SBOMs (POST /api/v1/sboms). Log in with a viewer, support or admin token."
		}
		u.showLogin(w, r, http.StatusForbidden, msg)
		return
	}
	_, value := u.sessions.create(token)
	u.setCookie(w, r, loginCookie, "", -1, http.SameSiteStrictMode)
	u.setCookie(w, r, sessionCookie, value, int(u.cfg.SessionTTL.Seconds()), http.SameSiteLaxMode)
	u.log.Info("login", "role", p.Role, "customer", p.Customer, "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	_ = r.ParseForm()
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s, err := u.sessions.open(r.Context(), c.Value); err == nil {
			if !sameToken(r.PostForm.Get("csrf"), s.CSRF) {
				u.errorPage(w, r, nil, http.StatusForbidden, "Form expired", "Reload the page and log out again.")
				return
			}
			if err := u.sessions.revoke(r.Context(), s); err != nil {
				u.log.Error("logout: storing the revocation", "err", err)
				u.errorPage(w, r, nil, http.StatusInternalServerError, "Logout failed", "The server could not record the logout; try again.")
				return
			}
		}
	}
	u.setCookie(w, r, sessionCookie, "", -1, http.SameSiteLaxMode)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

package notifier

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
)

// Paths of the public pages linked from emails; the server registers the
// handlers there (GET and POST where noted).
const (
	PathConfirm     = "/subscribe/confirm" // GET ?token=
	PathUnsubscribe = "/unsubscribe"       // GET shows a button, POST unsubscribes (RFC 8058 one-click)
	PathPreferences = "/preferences"       // GET shows the form, POST saves it
)

// Request body limits.
const (
	maxGroupBody     = 64 << 10
	maxSubscribeBody = 4 << 10
	maxFormBody      = 8 << 10
)

var pageTmpl = htmltemplate.Must(htmltemplate.New("").ParseFS(templateFS, "templates/pages.html.tmpl"))

// pageParam reads limit and offset from the query.
func pageParam(r *http.Request) (Page, error) {
	var p Page
	for name, dst := range map[string]*int{"limit": &p.Limit, "offset": &p.Offset} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, fault.InvalidField(name, fmt.Sprintf("%q is not a non-negative integer", v))
			}
			*dst = n
		}
	}
	return p, nil
}

// The JSON handlers below are httpjson.HandlerFuncs: they return their
// failure (a *fault.Error for bad input, ErrNotFound, ErrExists) and the
// server's route table answers it with httpjson, like every /api/v1 route.

// HandleCreateGroup serves POST /api/v1/groups (admin):
// {"name", "products": [...], "cycles"?: [...], "events": [...]} → 201 with the group.
func (s *Service) HandleCreateGroup(w http.ResponseWriter, r *http.Request) error {
	var g Group
	if err := httpjson.Decode(w, r, maxGroupBody, &g); err != nil {
		return err
	}
	g, err := s.CreateGroup(r.Context(), g)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, g)
	return nil
}

// HandleListGroups serves GET /api/v1/groups?limit=&offset= → {"groups": [...], "total": N}.
// Webhook URLs are shown only to callers Config.IsAdmin approves.
func (s *Service) HandleListGroups(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	gs, total, err := s.ListGroups(r.Context(), p)
	if err != nil {
		return err
	}
	if s.cfg.IsAdmin == nil || !s.cfg.IsAdmin(r) {
		for i := range gs { // the URL may hold credentials: admins only
			gs[i].Webhook = ""
		}
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"groups": gs, "total": total})
	return nil
}

// HandleDeleteGroup serves DELETE /api/v1/groups/{name} (admin) → 204.
func (s *Service) HandleDeleteGroup(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if name == "" {
		name = strings.TrimPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/")
	}
	if err := s.DeleteGroup(r.Context(), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// HandleSubscribe serves POST /api/v1/subscriptions (public):
// {"group", "email"} → 202, the same answer whether or not the address is
// known. Rate-limited per client IP (429) and, silently, per address.
func (s *Service) HandleSubscribe(w http.ResponseWriter, r *http.Request) error {
	ip := s.clientIP(r)
	ok, err := s.ipLimit.Allow(r.Context(), ip)
	if err != nil {
		return err
	}
	if !ok {
		w.Header().Set("Retry-After", "3600")
		return fault.New(fault.TooMany, "", "too many subscription requests from this address; try again later")
	}
	var req struct {
		Group string `json:"group"`
		Email string `json:"email"`
	}
	if err := httpjson.Decode(w, r, maxSubscribeBody, &req); err != nil {
		return err
	}
	if err := s.Subscribe(r.Context(), req.Group, req.Email); err != nil {
		return err
	}
	httpjson.Write(w, http.StatusAccepted, map[string]string{"status": "pending",
		"message": "If this address can receive mail, a confirmation link is on its way. Nothing is sent before it is confirmed."})
	return nil
}

func (s *Service) clientIP(r *http.Request) string {
	if s.cfg.ClientIP != nil {
		return s.cfg.ClientIP(r.RemoteAddr, r.Header)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// HandleListSubscriptions serves GET /api/v1/subscriptions?group=&state=&limit=&offset= (admin)
// → {"subscriptions": [...], "total": N}.
func (s *Service) HandleListSubscriptions(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	subs, total, err := s.ListSubscriptions(r.Context(), SubscriptionFilter{Group: r.URL.Query().Get("group"), State: r.URL.Query().Get("state"), Page: p})
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"subscriptions": subs, "total": total})
	return nil
}

// HandleListOutbox serves GET /api/v1/outbox?state=&limit=&offset= (admin)
// → {"counts": {...}, "messages": [...], "total": N}; failed messages carry the SMTP answer.
func (s *Service) HandleListOutbox(w http.ResponseWriter, r *http.Request) error {
	p, err := pageParam(r)
	if err != nil {
		return err
	}
	msgs, counts, total, err := s.ListOutbox(r.Context(), OutboxFilter{State: r.URL.Query().Get("state"), Page: p})
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"counts": counts, "messages": msgs, "total": total})
	return nil
}

// pageData is what the public pages see.
type pageData struct {
	Kind           string
	Title          string
	Error          string
	Message        string
	Sub            *Subscription
	Action         string
	UnsubscribeURL string
}

// Has reports whether the subscription hears about a change level.
func (p pageData) Has(level string) bool {
	return p.Sub != nil && slices.Contains(p.Sub.Prefs.Levels, level)
}

// writePage renders a public page with headers that keep the token in the
// URL private (no referrer, no caching, no framing, no scripts).
func (s *Service) writePage(w http.ResponseWriter, r *http.Request, code int, d pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.WriteHeader(code)
	if err := pageTmpl.ExecuteTemplate(w, "page", d); err != nil {
		s.log.Error("render page", "path", r.URL.Path, "err", err)
	}
}

// tokenError answers an invalid or expired link, or logs a real failure.
func (s *Service) tokenError(w http.ResponseWriter, r *http.Request, title string, err error) {
	if errors.Is(err, errBadToken) {
		s.writePage(w, r, http.StatusBadRequest, pageData{Title: title, Error: "This link is invalid or has expired."})
		return
	}
	if fault.Is(err, fault.Invalid) {
		s.writePage(w, r, http.StatusBadRequest, pageData{Title: title, Error: err.Error()})
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.writePage(w, r, http.StatusInternalServerError, pageData{Title: title, Error: "Something went wrong; please try again later."})
}

// HandleConfirm serves GET /subscribe/confirm?token=...: it confirms a
// pending subscription from the link in the confirmation email.
func (s *Service) HandleConfirm(w http.ResponseWriter, r *http.Request) {
	sub, err := s.Confirm(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.tokenError(w, r, "Confirm your subscription", err)
		return
	}
	tok := signToken(s.key, claims{Purpose: purposeManage, SubID: sub.ID, Nonce: sub.nonce})
	http.Redirect(w, r, s.pathPrefix+PathPreferences+"?token="+url.QueryEscape(tok)+"&confirmed=1", http.StatusSeeOther)
}

// HandleUnsubscribe serves /unsubscribe?token=...: GET shows a page with a
// button (so link scanners cannot unsubscribe anyone); POST unsubscribes,
// both from that button and as the RFC 8058 one-click request
// ("List-Unsubscribe=One-Click") a mail client sends. No login is needed.
func (s *Service) HandleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	const title = "Unsubscribe"
	tok := r.URL.Query().Get("token")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		sub, err := s.SubscriptionByToken(r.Context(), tok)
		if err != nil {
			s.tokenError(w, r, title, err)
			return
		}
		if sub.State == StateUnsubscribed {
			s.writePage(w, r, http.StatusOK, pageData{Title: title, Message: "You are unsubscribed: no more emails will be sent to " + sub.Email + " for this group."})
			return
		}
		s.writePage(w, r, http.StatusOK, pageData{Kind: "unsubscribe", Title: title, Sub: sub, Action: s.pathPrefix + PathUnsubscribe + "?token=" + url.QueryEscape(tok)})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil {
			s.tokenError(w, r, title, fault.InvalidField("body", "is not a form"))
			return
		}
		if tok == "" {
			tok = r.PostForm.Get("token")
		}
		sub, err := s.Unsubscribe(r.Context(), tok)
		if err != nil {
			s.tokenError(w, r, title, err)
			return
		}
		s.writePage(w, r, http.StatusOK, pageData{Title: title, Message: "You are unsubscribed: no more emails will be sent to " + sub.Email + " for this group."})
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// HandlePreferences serves /preferences?token=...: GET shows the form,
// POST (a form, or JSON Preferences) saves it.
func (s *Service) HandlePreferences(w http.ResponseWriter, r *http.Request) {
	const title = "Email preferences"
	tok := r.URL.Query().Get("token")
	q := "?token=" + url.QueryEscape(tok)
	d := pageData{Kind: "preferences", Title: title, Action: s.pathPrefix + PathPreferences + q, UnsubscribeURL: s.pathPrefix + PathUnsubscribe + q}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		sub, err := s.SubscriptionByToken(r.Context(), tok)
		if err != nil {
			s.tokenError(w, r, title, err)
			return
		}
		d.Sub = sub
		if r.URL.Query().Get("confirmed") == "1" {
			d.Message = "Thank you: your subscription to " + sub.Group + " is confirmed."
		}
		s.writePage(w, r, http.StatusOK, d)
	case http.MethodPost:
		var p Preferences
		isJSON := httpjson.IsJSON(r)
		if isJSON {
			if err := httpjson.Decode(w, r, maxFormBody, &p); err != nil {
				httpjson.WriteError(w, r, s.log, err)
				return
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if err := r.ParseForm(); err != nil {
				s.tokenError(w, r, title, fault.InvalidField("body", "is not a form"))
				return
			}
			p = Preferences{Mode: r.PostForm.Get("mode"), Levels: r.PostForm["levels"],
				Prereleases: r.PostForm.Get("prereleases") != "", FleetOnly: r.PostForm.Get("fleet_only") != ""}
		}
		sub, err := s.SetPreferences(r.Context(), tok, p)
		if isJSON {
			if err != nil {
				httpjson.WriteError(w, r, s.log, err)
				return
			}
			httpjson.Write(w, http.StatusOK, sub.Prefs)
			return
		}
		if err != nil {
			if fault.Is(err, fault.Invalid) && !errors.Is(err, errBadToken) {
				if cur, err2 := s.SubscriptionByToken(r.Context(), tok); err2 == nil {
					d.Sub, d.Error = cur, err.Error()
					s.writePage(w, r, http.StatusBadRequest, d)
					return
				}
			}
			s.tokenError(w, r, title, err)
			return
		}
		d.Sub, d.Message = sub, "Saved at "+s.now().Format(time.Kitchen)+" UTC."
		s.writePage(w, r, http.StatusOK, d)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

package notifier

import (
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
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

// writeJSON writes v as the JSON answer with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// apiError is the JSON error body (the same shape as server/api.Error).
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// writeError answers err: a FieldError is a 400 naming the field, unknown
// names a 404, a taken name a 409; anything else is logged once as a 500.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *FieldError
	var mbe *http.MaxBytesError
	var mte *mediaTypeError
	switch {
	case errors.As(err, &mte):
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: mte.Error(), Field: "Content-Type"})
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: fe.Error(), Field: fe.Field})
	case errors.As(err, &mbe):
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)})
	case errors.Is(err, ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: err.Error()})
	case errors.Is(err, ErrExists):
		writeJSON(w, http.StatusConflict, apiError{Error: err.Error(), Field: "name"})
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

// mediaTypeError is a request body that is not JSON (answered 415).
type mediaTypeError struct{ ct string }

func (e *mediaTypeError) Error() string {
	return fmt.Sprintf("Content-Type: %q is not application/json", e.ct)
}

// decodeJSON reads one JSON object of at most limit bytes, rejecting unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return &mediaTypeError{ct}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return &FieldError{ute.Field, fmt.Sprintf("has the wrong type (want %s)", ute.Type)}
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return &FieldError{strings.Trim(f, `"`), "is not a known field"}
		}
		return &FieldError{"body", "is not a JSON object: " + err.Error()}
	}
	if dec.More() {
		return &FieldError{"body", "has data after the JSON object"}
	}
	return nil
}

// pageParam reads limit and offset from the query.
func pageParam(r *http.Request) (Page, error) {
	var p Page
	for name, dst := range map[string]*int{"limit": &p.Limit, "offset": &p.Offset} {
		if v := r.URL.Query().Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, &FieldError{name, fmt.Sprintf("%q is not a non-negative integer", v)}
			}
			*dst = n
		}
	}
	return p, nil
}

// HandleCreateGroup serves POST /api/v1/groups (admin):
// {"name", "products": [...], "cycles"?: [...], "events": [...]} → 201 with the group.
func (s *Service) HandleCreateGroup(w http.ResponseWriter, r *http.Request) {
	var g Group
	if err := decodeJSON(w, r, maxGroupBody, &g); err != nil {
		s.writeError(w, r, err)
		return
	}
	g, err := s.CreateGroup(r.Context(), g)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, g)
}

// HandleListGroups serves GET /api/v1/groups?limit=&offset= → {"groups": [...], "total": N}.
func (s *Service) HandleListGroups(w http.ResponseWriter, r *http.Request) {
	p, err := pageParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	gs, total, err := s.ListGroups(r.Context(), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": gs, "total": total})
}

// HandleDeleteGroup serves DELETE /api/v1/groups/{name} (admin) → 204.
func (s *Service) HandleDeleteGroup(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == "" {
		name = strings.TrimPrefix(r.URL.Path[strings.LastIndex(r.URL.Path, "/"):], "/")
	}
	if err := s.DeleteGroup(r.Context(), name); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// HandleSubscribe serves POST /api/v1/subscriptions (public):
// {"group", "email"} → 202, the same answer whether or not the address is
// known. Rate-limited per client IP (429) and, silently, per address.
func (s *Service) HandleSubscribe(w http.ResponseWriter, r *http.Request) {
	ip := s.clientIP(r)
	if !s.ipLimit.allow(ip, s.now()) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, apiError{Error: "too many subscription requests from this address; try again later"})
		return
	}
	var req struct {
		Group string `json:"group"`
		Email string `json:"email"`
	}
	if err := decodeJSON(w, r, maxSubscribeBody, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Subscribe(r.Context(), req.Group, req.Email); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "pending",
		"message": "If this address can receive mail, a confirmation link is on its way. Nothing is sent before it is confirmed."})
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
func (s *Service) HandleListSubscriptions(w http.ResponseWriter, r *http.Request) {
	p, err := pageParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	subs, total, err := s.ListSubscriptions(r.Context(), SubscriptionFilter{Group: r.URL.Query().Get("group"), State: r.URL.Query().Get("state"), Page: p})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": subs, "total": total})
}

// HandleListOutbox serves GET /api/v1/outbox?state=&limit=&offset= (admin)
// → {"counts": {...}, "messages": [...], "total": N}; failed messages carry the SMTP answer.
func (s *Service) HandleListOutbox(w http.ResponseWriter, r *http.Request) {
	p, err := pageParam(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msgs, counts, total, err := s.ListOutbox(r.Context(), OutboxFilter{State: r.URL.Query().Get("state"), Page: p})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"counts": counts, "messages": msgs, "total": total})
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
	var fe *FieldError
	if errors.As(err, &fe) {
		s.writePage(w, r, http.StatusBadRequest, pageData{Title: title, Error: fe.Error()})
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
			s.tokenError(w, r, title, &FieldError{"body", "is not a form"})
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
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if isJSON {
			if err := decodeJSON(w, r, maxFormBody, &p); err != nil {
				s.writeError(w, r, err)
				return
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
			if err := r.ParseForm(); err != nil {
				s.tokenError(w, r, title, &FieldError{"body", "is not a form"})
				return
			}
			p = Preferences{Mode: r.PostForm.Get("mode"), Levels: r.PostForm["levels"],
				Prereleases: r.PostForm.Get("prereleases") != "", FleetOnly: r.PostForm.Get("fleet_only") != ""}
		}
		sub, err := s.SetPreferences(r.Context(), tok, p)
		if isJSON {
			if errors.Is(err, errBadToken) {
				writeJSON(w, http.StatusBadRequest, apiError{Error: err.Error(), Field: "token"})
				return
			}
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, sub.Prefs)
			return
		}
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) {
				if cur, err2 := s.SubscriptionByToken(r.Context(), tok); err2 == nil {
					d.Sub, d.Error = cur, fe.Error()
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

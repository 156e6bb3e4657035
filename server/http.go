package server

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/store"
)

// access is who may call a route.
type access int

const (
	accessPublic  access = iota // anyone
	accessAgent                 // an enrolled agent's node key
	accessViewer                // a token with role viewer, support or admin
	accessSupport               // support or admin
	accessAdmin                 // admin only
)

func (a access) String() string {
	return [...]string{"public", "agent", "viewer", "support", "admin"}[a]
}

// route is one entry of the API.
type route struct {
	pattern string // ServeMux pattern with method
	access  access
	handler http.HandlerFunc
}

// routeTable is the whole HTTP surface of the server, on one screen.
func (s *Server) routeTable() []route {
	rs := []route{
		// Agents.
		{"POST /api/v1/enroll", accessPublic, s.handleEnroll}, // checks the enroll secret itself
		{"POST /api/v1/report", accessAgent, s.handleReport},
		// The fleet.
		{"GET /api/v1/hosts", accessViewer, s.handleHosts},
		{"GET /api/v1/hosts/{id}", accessViewer, s.handleHost},
		{"POST /api/v1/hosts/{id}/revoke", accessAdmin, s.handleRevokeHost},
		{"GET /api/v1/products", accessViewer, s.handleProducts},
		{"GET /api/v1/compliance", accessViewer, s.handleCompliance},
		{"GET /api/v1/compliance/export.csv", accessViewer, s.handleComplianceCSV},
		{"GET /api/v1/unmatched", accessViewer, s.handleUnmatched},
		{"GET /api/v1/eligibility", accessSupport, s.handleEligibility},
		// The catalog.
		{"GET /api/v1/catalog", accessViewer, s.handleCatalog},
		{"POST /api/v1/catalog/releases", accessAdmin, s.handlePublishRelease},
		// Operations.
		{"GET /healthz", accessPublic, s.handleHealthz},
		{"GET /readyz", accessPublic, s.handleReadyz},
		{"GET /metrics", accessViewer, s.metrics.handler().ServeHTTP},
	}
	rs = append(rs, s.notifierRoutes()...)
	return rs
}

// handler returns the server's HTTP handler: the routes plus the
// dashboard, wrapped in logging and panic recovery.
func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routeTable() {
		mux.Handle(r.pattern, s.guard(r.access, r.handler))
	}
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, http.StatusNotFound, fmt.Errorf("no route %s %s", r.Method, r.URL.Path), "")
	})
	if s.ui != nil {
		s.ui.Register(mux)
	}
	return s.logRequests(mux)
}

type ctxKey int

const (
	ctxRole ctxKey = iota
	ctxHost
)

// guard enforces a route's access level.
func (s *Server) guard(a access, h http.HandlerFunc) http.Handler {
	if a == accessPublic {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="eolwatch"`)
			s.writeError(w, r, http.StatusUnauthorized, errors.New("missing bearer token (Authorization: Bearer ...)"), "")
			return
		}
		if a == accessAgent {
			host, err := s.st.HostByNodeKey(r.Context(), tok)
			if err != nil {
				s.authError(w, r, err, "unknown or revoked node key: enroll again")
				return
			}
			h(w, r.WithContext(context.WithValue(r.Context(), ctxHost, host)))
			return
		}
		role, err := s.st.Authenticate(r.Context(), tok)
		if err != nil {
			s.authError(w, r, err, "unknown or revoked API token")
			return
		}
		if !roleAllows(role, a) {
			s.writeError(w, r, http.StatusForbidden, fmt.Errorf("role %s may not call %s %s (needs %s)", role, r.Method, r.URL.Path, a), "")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxRole, role)))
	})
}

func (s *Server) authError(w http.ResponseWriter, r *http.Request, err error, msg string) {
	if errors.Is(err, store.ErrUnauthorized) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eolwatch", error="invalid_token"`)
		s.writeError(w, r, http.StatusUnauthorized, errors.New(msg), "")
		return
	}
	s.writeError(w, r, http.StatusInternalServerError, err, "")
}

// roleAllows reports whether a token role may use a route with access a.
func roleAllows(role string, a access) bool {
	switch a {
	case accessPublic:
		return true
	case accessViewer:
		return role == store.RoleViewer || role == store.RoleSupport || role == store.RoleAdmin
	case accessSupport:
		return role == store.RoleSupport || role == store.RoleAdmin
	case accessAdmin:
		return role == store.RoleAdmin
	}
	return false
}

// RoleAllows reports whether a token role may use routes needing the role
// need ("viewer", "support" or "admin"), for the dashboard.
func RoleAllows(role, need string) bool {
	switch need {
	case store.RoleViewer:
		return roleAllows(role, accessViewer)
	case store.RoleSupport:
		return roleAllows(role, accessSupport)
	case store.RoleAdmin:
		return roleAllows(role, accessAdmin)
	}
	return false
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

// writeJSON writes v as the JSON body with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with an api.Error. A 5xx is logged here, once, with
// the request's fields; its details are not shown to the caller.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, code int, err error, field string) {
	msg := err.Error()
	if code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "status", code, "err", err)
		msg = http.StatusText(code)
	}
	writeJSON(w, code, api.Error{Error: msg, Field: field})
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
				s.writeError(sr, r, http.StatusInternalServerError, fmt.Errorf("panic: %v\n%s", p, debug.Stack()), "")
			}
			lvl := slog.LevelDebug
			if sr.status >= 500 {
				lvl = slog.LevelWarn
			}
			s.log.Log(r.Context(), lvl, "http", "method", r.Method, "path", r.URL.Path, "status", sr.status,
				"dur", time.Since(start).Round(time.Microsecond), "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(sr, r)
	})
}

// maxJSONBody bounds the bodies of every JSON request but reports.
const maxJSONBody = 1 << 20

// bodyError is a request body problem answered with Code.
type bodyError struct {
	Code  int
	Field string
	Err   error
}

func (e *bodyError) Error() string { return e.Err.Error() }

// readBody returns the request body reader, bounded to limit bytes on the
// wire and, when gzip-encoded, to limit bytes decompressed.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, allowGzip bool) (io.Reader, func(), error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return nil, nil, &bodyError{http.StatusUnsupportedMediaType, "", fmt.Errorf("content type %q: want application/json", ct)}
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, func() {}, nil
	case "gzip":
		if !allowGzip {
			break
		}
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, nil, &bodyError{http.StatusBadRequest, "", fmt.Errorf("body is not valid gzip: %w", err)}
		}
		return &limitedReader{r: zr, n: limit}, func() { zr.Close() }, nil
	default:
		return nil, nil, &bodyError{http.StatusUnsupportedMediaType, "", fmt.Errorf("content encoding %q: want gzip or none", enc)}
	}
	return nil, nil, &bodyError{http.StatusUnsupportedMediaType, "", errors.New("content encoding gzip is only accepted for reports")}
}

// errDecompressedTooLarge is returned when a gzip body inflates past the limit.
var errDecompressedTooLarge = errors.New("decompressed body too large")

// limitedReader fails (rather than truncating) past n bytes.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One more byte would exceed the limit: check whether there is one.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, errDecompressedTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// decodeJSON decodes exactly one JSON value into v, rejecting unknown fields
// and trailing data, and turns decoding failures into clear 4xx errors.
func decodeJSON(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return &bodyError{http.StatusBadRequest, "", errors.New("unexpected data after the JSON value")}
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &bodyError{http.StatusRequestEntityTooLarge, "", fmt.Errorf("body larger than %d bytes", mbe.Limit)}
	case errors.Is(err, errDecompressedTooLarge):
		return &bodyError{http.StatusRequestEntityTooLarge, "", fmt.Errorf("decompressed body larger than %d bytes", api.MaxReportBytes)}
	case errors.Is(err, io.EOF):
		return &bodyError{http.StatusBadRequest, "", errors.New("empty body: want a JSON object")}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &bodyError{http.StatusBadRequest, "", errors.New("truncated body: the JSON ends early")}
	case errors.As(err, &syn):
		return &bodyError{http.StatusBadRequest, "", fmt.Errorf("malformed JSON at byte %d: %v", syn.Offset, syn)}
	case errors.As(err, &typ):
		return &bodyError{http.StatusBadRequest, typ.Field, fmt.Errorf("field %q: want %s, got JSON %s", typ.Field, typ.Type, typ.Value)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &bodyError{http.StatusBadRequest, f, fmt.Errorf("unknown field %q", f)}
	case strings.Contains(err.Error(), "gzip") || strings.Contains(err.Error(), "flate") || strings.Contains(err.Error(), "checksum"):
		return &bodyError{http.StatusBadRequest, "", fmt.Errorf("body is not valid gzip: %w", err)}
	}
	return &bodyError{http.StatusBadRequest, "", fmt.Errorf("bad request body: %w", err)}
}

// writeBodyError answers a decoding failure.
func (s *Server) writeBodyError(w http.ResponseWriter, r *http.Request, err error) {
	var be *bodyError
	if errors.As(err, &be) {
		s.writeError(w, r, be.Code, be.Err, be.Field)
		return
	}
	s.writeError(w, r, http.StatusBadRequest, err, "")
}

// checkText rejects strings that are too long, not UTF-8, or hold control characters.
func checkText(field, v string, max int, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return &bodyError{http.StatusBadRequest, field, fmt.Errorf("%s is required", field)}
	}
	if len(v) > max {
		return &bodyError{http.StatusBadRequest, field, fmt.Errorf("%s is %d bytes long, at most %d", field, len(v), max)}
	}
	if !utf8.ValidString(v) {
		return &bodyError{http.StatusBadRequest, field, fmt.Errorf("%s is not valid UTF-8", field)}
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return &bodyError{http.StatusBadRequest, field, fmt.Errorf("%s holds control character %U", field, c)}
		}
	}
	return nil
}

// cleanText replaces control characters and bounds the length (for free text such as collector errors).
func cleanText(v string, max int) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	v = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
			return ' '
		}
		return c
	}, v)
	if len(v) > max {
		v = v[:max]
		for !utf8.ValidString(v) {
			v = v[:len(v)-1]
		}
	}
	return v
}

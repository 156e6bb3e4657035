// Package httpjson is the one toolkit of eolwatch's JSON API: reading a
// request body, writing an answer, turning a failure into a status code and
// an api.Error body, and an adapter for handlers that return their failure.
// Every /api/v1 route, the server's and the notifier's, goes through it, so
// every route answers with the same headers and the same error wording.
//
// Failures are *fault.Error values (or wrap one); Status maps their code to
// an HTTP status. Anything else is an internal error: WriteError logs it,
// once, with the request's fields, and answers 500 without its details.
package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/server/api"
)

// HandlerFunc is an HTTP handler that returns its failure instead of
// writing it. It writes its answer only on success (or, having started a
// streamed answer, logs what goes wrong afterwards and returns nil).
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handle adapts h to an http.HandlerFunc: a returned error is answered by
// WriteError, logged with log when it is internal.
func Handle(log *slog.Logger, h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			WriteError(w, r, log, err)
		}
	}
}

// Plain turns an ordinary handler (an HTML page, the metrics endpoint) into
// a HandlerFunc that never fails.
func Plain(h http.HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h(w, r)
		return nil
	}
}

// Write writes v as the JSON body with status code. Answers are never cached
// and never sniffed; HTML characters are not escaped (the body is JSON, not
// markup).
func Write(w http.ResponseWriter, code int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// statuses maps fault codes to HTTP statuses.
var statuses = map[fault.Code]int{
	fault.Invalid:          http.StatusBadRequest,
	fault.Unauthorized:     http.StatusUnauthorized,
	fault.Forbidden:        http.StatusForbidden,
	fault.NotFound:         http.StatusNotFound,
	fault.MethodNotAllowed: http.StatusMethodNotAllowed,
	fault.Conflict:         http.StatusConflict,
	fault.TooLarge:         http.StatusRequestEntityTooLarge,
	fault.Unsupported:      http.StatusUnsupportedMediaType,
	fault.TooMany:          http.StatusTooManyRequests,
	fault.Unavailable:      http.StatusServiceUnavailable,
	// A full disk: 507 says more than 500 (the request may be retried once
	// an operator made room).
	fault.InsufficientStorage: http.StatusInsufficientStorage,
}

// Status returns the HTTP status of err: its fault code's, 413 for a body
// past http.MaxBytesReader's limit, else 500.
func Status(err error) int {
	if code, ok := statuses[fault.CodeOf(err)]; ok {
		return code
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// WriteError answers err as an api.Error with Status(err). The message is
// err's, and the field the *fault.Error's. A 5xx is logged here, once, with
// the request's fields; its details are not shown to the caller: an
// internal error says only its status, a coded one (503 busy, 507 disk
// full) its *fault.Error's own message.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := Status(err)
	body := api.Error{Error: err.Error()}
	if fe, ok := fault.As(err); ok {
		body.Field = fe.Field
	}
	var mbe *http.MaxBytesError
	if fault.CodeOf(err) == "" && errors.As(err, &mbe) {
		body.Error = fmt.Sprintf("body larger than %d bytes", mbe.Limit)
	}
	if code >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "status", code, "err", err)
		body = api.Error{Error: http.StatusText(code)}
		if fe, ok := fault.As(err); ok && fe.Code != "" && fe.Msg != "" {
			// a coded 5xx (busy, a full disk, a feature that is off) says so
			// in its own words, never in its cause's
			body = api.Error{Error: fe.Msg, Field: fe.Field}
		}
	}
	Write(w, code, body)
}

// Decode reads one JSON value into v from a request body of at most limit
// bytes (application/json or no content type; not compressed). Unknown
// fields, trailing data and malformed JSON are refused with a *fault.Error
// naming the field at fault where there is one.
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return decode(w, r, intake.Limits{Bytes: limit}, v)
}

// DecodeGzip is Decode for bodies that may also be gzip-compressed
// (Content-Encoding: gzip): limit bounds the body both on the wire and
// decompressed. Bodies large enough to need the report budget are read with
// internal/intake directly.
func DecodeGzip(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return decode(w, r, intake.Limits{Bytes: limit, Gzip: true}, v)
}

func decode(w http.ResponseWriter, r *http.Request, lim intake.Limits, v any) error {
	body, err := intake.Open(w, r, lim, nil)
	if err != nil {
		return err
	}
	defer body.Close()
	return DecodeReader(body, v)
}

// IsJSON reports whether the request declares a JSON body.
func IsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// DecodeReader decodes exactly one JSON value from rd into v, rejecting
// unknown fields and trailing data, and turns decoding failures into
// *fault.Error values.
func DecodeReader(rd io.Reader, v any) error {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return intake.DecodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return intake.DecodeError(err)
		}
		return fault.Invalidf("", "unexpected data after the JSON value")
	}
	return nil
}

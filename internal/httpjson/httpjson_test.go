package httpjson

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/server/api"
)

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"invalid", fault.Invalidf("x", "bad"), 400},
		{"wrapped not found", fmt.Errorf("host: %w", &fault.Error{Code: fault.NotFound, Msg: "not found"}), 404},
		{"conflict", fault.New(fault.Conflict, "", "taken"), 409},
		{"unauthorized", fault.New(fault.Unauthorized, "", "no"), 401},
		{"forbidden", fault.New(fault.Forbidden, "", "no"), 403},
		{"method not allowed", fault.New(fault.MethodNotAllowed, "", "no"), 405},
		{"too large", fault.New(fault.TooLarge, "", "big"), 413},
		{"unsupported", fault.New(fault.Unsupported, "", "xml"), 415},
		{"too many", fault.New(fault.TooMany, "", "slow down"), 429},
		{"unavailable", fault.New(fault.Unavailable, "", "off"), 503},
		{"max bytes", &http.MaxBytesError{Limit: 10}, 413},
		{"internal", errors.New("disk on fire"), 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Status(tc.err); got != tc.want {
				t.Errorf("Status(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestWriteError(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		switch r.URL.Query().Get("fail") {
		case "internal":
			return errors.New("secret detail")
		case "busy":
			return fmt.Errorf("read: secret detail: %w", intake.ErrBusy)
		case "disk":
			return &fault.Error{Code: fault.InsufficientStorage, Msg: "the database cannot grow: its disk is full", Err: errors.New("secret detail")}
		}
		return fault.Invalidf("limit", "limit %q: want 1 to 1000", "0")
	})
	for _, tc := range []struct {
		query, wantErr, wantField string
		code                      int
		logged                    bool
	}{
		{"fail=bad", `limit "0": want 1 to 1000`, "limit", 400, false},
		{"fail=internal", "Internal Server Error", "", 500, true},
		// a 5xx with a fault code says what its code's message says (retry later, the disk is full), never its cause
		{"fail=busy", "server busy: too many report bytes in flight; retry later", "", 503, true},
		{"fail=disk", "the database cannot grow: its disk is full", "", 507, true},
	} {
		t.Run(tc.query, func(t *testing.T) {
			logs.Reset()
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest("GET", "/x?"+tc.query, nil))
			var body api.Error
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if rec.Code != tc.code || body.Error != tc.wantErr || body.Field != tc.wantField {
				t.Errorf("answer %d %+v, want %d %q field %q", rec.Code, body, tc.code, tc.wantErr, tc.wantField)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" ||
				rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", rec.Header())
			}
			if got := strings.Count(logs.String(), "request failed"); got != map[bool]int{true: 1, false: 0}[tc.logged] {
				t.Errorf("logged %d times: %s", got, logs.String())
			}
			if strings.Contains(rec.Body.String(), "secret detail") {
				t.Error("a 500 shows its internal detail")
			}
		})
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestDecode(t *testing.T) {
	type req struct {
		Name  string   `json:"name"`
		Items []string `json:"items"`
	}
	for _, tc := range []struct {
		name  string
		body  []byte
		hdr   map[string]string
		gzip  bool
		code  fault.Code
		field string
	}{
		{"ok", []byte(`{"name":"a"}`), nil, false, "", ""},
		{"ok with charset", []byte(`{"name":"a"}`), map[string]string{"Content-Type": "application/json; charset=utf-8"}, false, "", ""},
		{"empty", nil, nil, false, fault.Invalid, ""},
		{"truncated", []byte(`{"name":`), nil, false, fault.Invalid, ""},
		{"not JSON", []byte(`not json`), nil, false, fault.Invalid, "body"},
		{"unknown field", []byte(`{"name":"a","colour":"red"}`), nil, false, fault.Invalid, "colour"},
		{"wrong type", []byte(`{"items":"a"}`), nil, false, fault.Invalid, "items"},
		{"trailing data", []byte(`{"name":"a"}{}`), nil, false, fault.Invalid, ""},
		{"too large", []byte(`{"name":"` + strings.Repeat("a", 100) + `"}`), nil, false, fault.TooLarge, ""},
		{"form", []byte(`{"name":"a"}`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, false, fault.Unsupported, ""},
		{"gzip refused", gz(`{"name":"a"}`), map[string]string{"Content-Encoding": "gzip"}, false, fault.Unsupported, ""},
		{"gzip", gz(`{"name":"a"}`), map[string]string{"Content-Encoding": "gzip"}, true, "", ""},
		{"gzip bomb", gz(`{"name":"` + strings.Repeat("a", 1000) + `"}`), map[string]string{"Content-Encoding": "gzip"}, true, fault.TooLarge, ""},
		{"bad gzip", []byte("plain"), map[string]string{"Content-Encoding": "gzip"}, true, fault.Invalid, ""},
		{"brotli", []byte(`{}`), map[string]string{"Content-Encoding": "br"}, true, fault.Unsupported, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(tc.body))
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			var v req
			var err error
			if tc.gzip {
				err = DecodeGzip(httptest.NewRecorder(), r, 64, &v)
			} else {
				err = Decode(httptest.NewRecorder(), r, 64, &v)
			}
			fe, _ := fault.As(err)
			if fault.CodeOf(err) != tc.code || (fe != nil && fe.Field != tc.field) || (err != nil && err.Error() == "") {
				t.Errorf("Decode = %v (code %q), want code %q field %q", err, fault.CodeOf(err), tc.code, tc.field)
			}
			if tc.code == "" && v.Name != "a" {
				t.Errorf("decoded %+v", v)
			}
		})
	}
}

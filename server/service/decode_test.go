package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server/api"
)

const decHost = `{"install_id":"i-1","hostname":"web1"}`

func TestDecodeReport(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		code  fault.Code
		field string
	}{
		{"full", `{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"dpkg","name":"a","version":"1"}]}`, "", ""},
		{"checkin", `{"report_id":"r","kind":"checkin","host":` + decHost + `,"inventory_hash":"h"}`, "", ""},
		{"null lists", `{"report_id":"r","kind":"full","host":` + decHost + `,"items":null,"errors":null}`, "", ""},
		{"kind after items", `{"report_id":"r","host":` + decHost + `,"items":[{"source":"s","name":"n"}],"kind":"checkin"}`, fault.Invalid, "items"},
		{"checkin with items", `{"report_id":"r","kind":"checkin","host":` + decHost + `,"items":[{"source":"s","name":"n"}]}`, fault.Invalid, "items"},
		{"items before host", `{"report_id":"r","kind":"full","items":[],"host":` + decHost + `}`, fault.Invalid, "items"},
		{"no host", `{"report_id":"r","kind":"full"}`, fault.Invalid, "host.install_id"},
		{"bad host", `{"report_id":"r","kind":"full","host":{"install_id":"i-1","hostname":"a\u0007"}}`, fault.Invalid, "host.hostname"},
		{"host wrong type", `{"report_id":"r","kind":"full","host":{"install_id":7}}`, fault.Invalid, "host.install_id"},
		{"duplicate field", `{"report_id":"r","report_id":"s","kind":"full","host":` + decHost + `}`, fault.Invalid, "report_id"},
		{"unknown field", `{"report_id":"r","kind":"full","host":` + decHost + `,"admin":true}`, fault.Invalid, "admin"},
		{"unknown item field", `{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"s","name":"n","x":1}]}`, fault.Invalid, "items[0].x"},
		{"item wrong type", `{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"s","name":5}]}`, fault.Invalid, "items[0].name"},
		{"items not array", `{"report_id":"r","kind":"full","host":` + decHost + `,"items":{}}`, fault.Invalid, "items"},
		{"bad time", `{"report_id":"r","kind":"full","collected_at":"yesterday","host":` + decHost + `}`, fault.Invalid, "collected_at"},
		{"not an object", `[1,2]`, fault.Invalid, "body"},
		{"trailing", `{"report_id":"r","kind":"full","host":` + decHost + `} {}`, fault.Invalid, ""},
		{"truncated", `{"report_id":"r","kind":"full","host":` + decHost, fault.Invalid, ""},
		{"empty", ``, fault.Invalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeReport(strings.NewReader(tc.body), DecodeOptions{})
			fe, _ := fault.As(err)
			if fault.CodeOf(err) != tc.code || (fe != nil && fe.Field != tc.field) {
				t.Errorf("DecodeReport(%s) = %v (code %q), want code %q field %q", tc.body, err, fault.CodeOf(err), tc.code, tc.field)
			}
		})
	}
}

// TestDecodeReportChecksHostFirst: CheckHost sees the host before any item
// is charged, and its error ends decoding.
func TestDecodeReportChecksHostFirst(t *testing.T) {
	charged := 0
	body := `{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"s","name":"n"}]}`
	_, err := DecodeReport(strings.NewReader(body), DecodeOptions{
		CheckHost: func(h api.HostInfo) error {
			if charged != 0 {
				t.Errorf("items charged before the host check")
			}
			return fault.New(fault.Forbidden, "host.install_id", "not yours")
		},
		Charge: func(int64) error { charged++; return nil },
	})
	if fault.CodeOf(err) != fault.Forbidden || charged != 0 {
		t.Errorf("DecodeReport = %v after %d items charged, want Forbidden after none", err, charged)
	}
}

// TestDecodeReportLimits: the item count and the collector errors are
// bounded while reading; a charge failure ends decoding.
func TestDecodeReportLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"report_id":"r","kind":"full","host":` + decHost + `,"errors":[`)
	for i := range 1500 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"collector":"c%d","error":"bad\nline"}`, i)
	}
	b.WriteString(`],"items":[`)
	for i := range api.MaxItems + 1 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"source":"s","name":"n%d"}`, i)
	}
	b.WriteString("]}")
	charges := 0
	_, err := DecodeReport(strings.NewReader(b.String()), DecodeOptions{Charge: func(int64) error { charges++; return nil }})
	if fault.CodeOf(err) != fault.TooLarge || charges != api.MaxItems {
		t.Errorf("MaxItems+1 items: %v after %d charges, want TooLarge after %d", err, charges, api.MaxItems)
	}
	full := strings.Replace(b.String(), `,"items":[`, `,"items":[{"source":"s","name":"x"}],"ignored":[`, 1)
	_, err = DecodeReport(strings.NewReader(full), DecodeOptions{})
	if fault.CodeOf(err) != fault.Invalid {
		t.Errorf("unknown field after items: %v", err)
	}
	small := b.String()[:strings.Index(b.String(), `,"items":[`)] + "}"
	rep, err := DecodeReport(strings.NewReader(small), DecodeOptions{})
	if err != nil || len(rep.Errors) != maxCollectorErrors || strings.Contains(rep.Errors[0].Error, "\n") {
		t.Errorf("1,500 collector errors: %v, kept %d (want %d, cleaned)", err, len(rep.Errors), maxCollectorErrors)
	}
	busy := fault.New(fault.Unavailable, "", "busy")
	_, err = DecodeReport(strings.NewReader(b.String()), DecodeOptions{Charge: func(int64) error { return busy }})
	if err != busy {
		t.Errorf("charge failure: %v, want it returned as is", err)
	}
}

// FuzzDecodeReport: no input panics, and a report that decodes encodes
// back to a body that decodes to the same report.
func FuzzDecodeReport(f *testing.F) {
	f.Add([]byte(`{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"dpkg","name":"a","version":"1","origin":"debian"}]}`))
	f.Add([]byte(`{"report_id":"r","kind":"checkin","collected_at":"2026-01-02T03:04:05Z","host":` + decHost + `,"errors":[{"collector":"rpm","error":"x"}]}`))
	f.Add([]byte(`{"report_id":"r","kind":"full","items":[{}],"host":{}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rep, err := DecodeReport(bytes.NewReader(body), DecodeOptions{})
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("error without a fault code: %v", err)
			}
			return
		}
		again, _ := json.Marshal(rep)
		rep2, err := DecodeReport(bytes.NewReader(again), DecodeOptions{})
		if err != nil {
			t.Fatalf("re-encoded report does not decode: %v\n%s", err, again)
		}
		if b2, _ := json.Marshal(rep2); !bytes.Equal(again, b2) {
			t.Fatalf("round trip changed the report:\n%s\n%s", again, b2)
		}
	})
}

// errReadOn is what a reader returns when asked for bytes past the item
// under test.
var errReadOn = errors.New("read past the item at fault")

// TestDecodeReportRefusesAtTheItem: an item over a field limit (or missing
// a required field) ends decoding when that item is read: nothing after it
// is asked of the body, so the answer does not wait for, or pay for, the
// rest of a hostile report (issue 13 item 1: limits hold while decoding).
func TestDecodeReportRefusesAtTheItem(t *testing.T) {
	long := strings.Repeat("x", 1025)
	for _, tc := range []struct{ name, item, field string }{
		{"name too long", `{"source":"dpkg","name":"` + long + `"}`, "items[1].name"},
		{"summary too long", `{"source":"dpkg","name":"a","summary":"` + long + `"}`, "items[1].summary"},
		{"origin too long", `{"source":"dpkg","name":"a","origin":"` + long + `"}`, "items[1].origin"},
		{"no source", `{"name":"a"}`, "items[1].source"},
		{"control character", `{"source":"dpkg","name":"a\u0001b"}`, "items[1].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head := `{"report_id":"r","kind":"full","host":` + decHost + `,"items":[{"source":"dpkg","name":"ok"},` + tc.item
			rd := io.MultiReader(strings.NewReader(head), iotest.ErrReader(errReadOn))
			_, err := DecodeReport(rd, DecodeOptions{})
			fe, _ := fault.As(err)
			if errors.Is(err, errReadOn) || fe == nil || fe.Field != tc.field {
				t.Errorf("DecodeReport = %v, want a refusal naming %s before reading on", err, tc.field)
			}
		})
	}
}

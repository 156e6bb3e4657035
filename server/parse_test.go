package server

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/service"
)

func FuzzReportBody(f *testing.F) {
	f.Add([]byte(`{"report_id":"r1","kind":"full","host":{"install_id":"i","hostname":"h"},"items":[{"source":"dpkg","name":"bash","version":"5.2.15-2+b2"}]}`))
	f.Add([]byte(`{"report_id":"r2","kind":"checkin","host":{"install_id":"i","hostname":"h"},"inventory_hash":"abc"}`))
	f.Add([]byte(`{"report_id":"r3","kind":"full","host":{"install_id":"i","hostname":"h"},"items":[{"source":"dpkg","name":"a\u0000b","version":"1"}]}`))
	f.Add([]byte(`{"report_id":"r4","kind":"full","host":{"install_id":"i","hostname":"h"},"errors":[{"collector":"rpm","error":"line1\nline2"}]}`))
	f.Add([]byte(`{"report_id":`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var rep api.Report
		if err := httpjson.DecodeReader(bytes.NewReader(data), &rep); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := service.CheckReport(&rep); err != nil {
			return
		}
		// An accepted report holds only clean, bounded text.
		for i, it := range rep.Items {
			for _, v := range []string{it.Source, it.Name, it.Version, it.Arch, it.SourcePkg, it.Publisher, it.BundleID, it.Product} {
				if !utf8.ValidString(v) || len(v) > service.MaxNameLen || strings.ContainsAny(v, "\x00\r\n\t") {
					t.Fatalf("items[%d] accepted with bad text %q", i, v)
				}
			}
			if it.Source == "" || it.Name == "" {
				t.Fatalf("items[%d] accepted without source or name", i)
			}
		}
		for _, e := range rep.Errors {
			if strings.ContainsAny(e.Error+e.Collector, "\r\n\x00") {
				t.Fatalf("collector error kept control characters: %q", e.Error)
			}
		}
		if rep.Kind != api.ReportFull && rep.Kind != api.ReportCheckin {
			t.Fatalf("kind %q accepted", rep.Kind)
		}
	})
}

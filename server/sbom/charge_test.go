package sbom

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
)

// TestReadCharge: Limits.Charge is charged every byte of the document after
// decompression, before it is parsed, and its error ends the read and is
// returned as it was given (the server's report budget answers 503 or 413).
func TestReadCharge(t *testing.T) {
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","annotations":"` + strings.Repeat("a", 1<<20) +
		`","components":[{"name":"openssl","version":"3.0.19"}]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(doc))
	zw.Close()
	for _, tc := range []struct {
		name string
		body []byte
	}{{"plain", []byte(doc)}, {"gzip", gz.Bytes()}} {
		t.Run(tc.name, func(t *testing.T) {
			var charged int64
			got, err := Read(bytes.NewReader(tc.body), Limits{Charge: func(n int64) error { charged += n; return nil }}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if charged != int64(len(doc)) || got.Bytes != charged {
				t.Errorf("charged %d bytes for a %d-byte document (read %d)", charged, len(doc), got.Bytes)
			}
			stop := errors.New("budget spent")
			charged = 0
			components := 0
			_, err = Read(bytes.NewReader(tc.body), Limits{Charge: func(n int64) error {
				if charged += n; charged > 512<<10 {
					return stop
				}
				return nil
			}}, func(*Component) error { components++; return nil })
			if err != stop || components != 0 {
				t.Errorf("a charge failing half-way: %v after %d components, want the charge's error before any", err, components)
			}
		})
	}
}

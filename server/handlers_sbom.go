package server

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/internal/httpjson"
	"github.com/eolwatch/eolwatch/internal/intake"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/service"
)

// sbomTypes are the content types an SBOM upload may declare (or none).
// The body is recognised by its content, so besides the JSON and SBOM media
// types the route takes what HTTP clients send for a file by default:
// curl --data-binary's application/x-www-form-urlencoded (a form can never
// carry the route's bearer token, so this opens nothing to other sites),
// application/octet-stream, and gzip for a compressed file.
var sbomTypes = map[string]bool{"application/json": true, "application/vnd.cyclonedx+json": true, "application/spdx+json": true,
	"application/x-www-form-urlencoded": true, "application/octet-stream": true, "application/gzip": true, "application/x-gzip": true}

// checkSBOMType refuses a content type no SBOM upload has, saying what to
// send instead.
func checkSBOMType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return fault.New(fault.Unsupported, "", "content type %q: %v", ct, err)
	case sbomTypes[mt]:
		return nil
	case strings.HasSuffix(mt, "+xml") || strings.HasSuffix(mt, "/xml"):
		return fault.New(fault.Unsupported, "", "content type %q: an XML SBOM; eolwatch reads the JSON forms of CycloneDX and SPDX (syft: -o cyclonedx-json or -o spdx-json)", ct)
	case mt == "multipart/form-data":
		return fault.New(fault.Unsupported, "", "content type %q: send the SBOM itself as the body (curl --data-binary @sbom.cdx.json), not a form (curl -F)", ct)
	}
	return fault.New(fault.Unsupported, "", "content type %q: want application/vnd.cyclonedx+json, application/spdx+json, application/json or none", ct)
}

// handleSBOM registers an asset from its SBOM, the request body as the
// generator wrote it (CycloneDX or SPDX JSON, gzip accepted), or replaces
// the asset's previous SBOM. The asset's name, labels and customer come
// from the query: ?name=registry.example/app:1.4&label=team=payments&customer=Acme. The limits are
// an agent report's (api.MaxReportBytes on the wire and decompressed,
// api.MaxItems components), and it is charged to the same global budget of
// report bytes in flight (--report-budget-mib): 503 with Retry-After when
// that stays spent.
func (s *Server) handleSBOM(w http.ResponseWriter, r *http.Request) error {
	if err := checkSBOMType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity", "gzip": // a gzip body is recognised by its content and bounded decompressed
	default:
		return fault.New(fault.Unsupported, "", "content encoding %q: want gzip or none", enc)
	}
	q := r.URL.Query()
	labels := map[string]string{}
	for _, l := range q["label"] {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			return fault.Invalidf("label", "label %q: want KEY=VALUE", l)
		}
		if _, dup := labels[k]; dup {
			return fault.Invalidf("label", "label %q is given twice", k)
		}
		labels[k] = v
	}
	p := principal(r)
	by := p.TokenName
	if by == "" {
		by = "token " + p.TokenID
	}
	// The upload holds the agent reports' budget of bytes in flight while it
	// is read and stored: its document's bytes after decompression and each
	// component kept are charged as a report's are.
	held := s.reportBudget.Reader(r.Context(), nil)
	defer held.Close()
	res, err := s.svc.IngestSBOM(r.Context(), service.SBOMInput{Name: q.Get("name"), Labels: labels, Customer: q.Get("customer"),
		Body: http.MaxBytesReader(w, r.Body, api.MaxReportBytes), By: by, TokenID: p.TokenID, Charge: held.Charge})
	if err != nil {
		if errors.Is(err, intake.ErrBusy) {
			w.Header().Set("Retry-After", "30")
		}
		return err
	}
	code := http.StatusOK
	if res.Created {
		code = http.StatusCreated
	}
	httpjson.Write(w, code, res)
	return nil
}

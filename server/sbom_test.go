package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/notifier"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
)

// imageV1 and imageV2 are two SBOMs of the same image: v2 upgrades the
// base image from Debian 10 to 12 and Python with it, and drops OpenSSL.
const imageV1 = `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"container","name":"registry.example/app"}},
 "components":[
  {"bom-ref":"os","type":"operating-system","name":"debian","version":"10"},
  {"bom-ref":"py","name":"python3.7","version":"3.7.3-2+deb10u7","purl":"pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?arch=amd64&distro=debian-10"},
  {"bom-ref":"ssl","name":"libssl3","version":"3.0.19-1~deb12u2","purl":"pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64&upstream=openssl&distro=debian-12"},
  {"bom-ref":"libc","name":"libc6","version":"2.36-9+deb12u14","purl":"pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&upstream=glibc&distro=debian-12"}
 ]}`

const imageV2 = `{"bomFormat":"CycloneDX","specVersion":"1.6",
 "components":[
  {"bom-ref":"os","type":"operating-system","name":"debian","version":"12"},
  {"bom-ref":"py","name":"python3.11","version":"3.11.2-6+deb12u6","purl":"pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12"},
  {"bom-ref":"libc","name":"libc6","version":"2.36-9+deb12u14","purl":"pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&upstream=glibc&distro=debian-12"}
 ]}`

func (e *testEnv) uploadSBOM(t *testing.T, token, query string, body []byte, hdr map[string]string) (int, api.SBOMResult, []byte) {
	t.Helper()
	resp, b := e.do(t, "POST", api.PathSBOMs+query, token, bytes.NewReader(body), hdr)
	var res api.SBOMResult
	json.Unmarshal(b, &res)
	return resp.StatusCode, res, b
}

func (e *testEnv) getJSON(t *testing.T, path string, v any) int {
	t.Helper()
	resp, b := e.do(t, "GET", path, e.tokens[auth.RoleAdmin], nil, nil)
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode
}

// TestSBOMAsset uploads two SBOMs of one image with a ci token: the asset is
// created, then replaced with its history kept; it is listed with the hosts
// (and alone with kind=asset), counted in compliance, answers eligibility
// questions, and its changed verdicts are fleet events.
func TestSBOMAsset(t *testing.T) {
	e := newTestEnv(t)
	e.enroll(t, "install-1", "web1")
	ci := e.tokens[auth.RoleCI]
	q := "?name=" + url.QueryEscape("registry.example/app:1.4") + "&label=team=payments&label=env=prod"

	code, first, b := e.uploadSBOM(t, ci, q, []byte(imageV1), map[string]string{"Content-Type": "application/vnd.cyclonedx+json"})
	if code != http.StatusCreated || !first.Created || first.AssetID == "" || first.Name != "registry.example/app:1.4" {
		t.Fatalf("first upload: %d %s", code, b)
	}
	if first.Upload.Components != 4 || first.Upload.Matched != 2 || first.Upload.Added != 4 || first.Upload.Status != catalog.StatusEOL ||
		first.ByStatus[catalog.StatusEOL] == 0 || first.Labels["team"] != "payments" {
		t.Errorf("first upload result %s", b)
	}

	// a gzip body, the same asset name: replaced, history kept
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(imageV2))
	zw.Close()
	code, second, b := e.uploadSBOM(t, e.tokens[auth.RoleAdmin], "?name="+url.QueryEscape("registry.example/app:1.4")+"&label=team=payments",
		gz.Bytes(), map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"})
	if code != http.StatusOK || second.Created || second.AssetID != first.AssetID || second.Upload.Removed != 3 || second.Upload.Added != 2 {
		t.Fatalf("second upload: %d %s", code, b)
	}

	var d api.HostDetail
	if c := e.getJSON(t, "/api/v1/hosts/"+first.AssetID, &d); c != 200 {
		t.Fatalf("GET asset: %d", c)
	}
	if d.Kind != api.KindAsset || d.Hostname != "registry.example/app:1.4" || d.Labels["team"] != "payments" || d.Labels["env"] != "" ||
		len(d.Uploads) != 2 || d.Uploads[0].UploadedBy != "test" || d.Uploads[0].TokenID == d.Uploads[1].TokenID || d.Info.OSID != "debian" {
		t.Errorf("asset detail: %+v", d)
	}
	products := map[string]string{}
	for _, v := range d.Verdicts {
		products[v.Product] = v.Cycle
	}
	if len(products) != 2 || products["python"] != "3.11" || products["debian"] != "12" {
		t.Errorf("asset verdicts %v, want python 3.11 and debian 12 (openssl gone with the second upload)", products)
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"registry.example/app:1.4", "web1"}},
		{"?kind=asset", []string{"registry.example/app:1.4"}},
		{"?kind=host", []string{"web1"}},
	} {
		t.Run("hosts"+tc.query, func(t *testing.T) {
			var list api.HostList
			if c := e.getJSON(t, "/api/v1/hosts"+tc.query, &list); c != 200 {
				t.Fatalf("GET /hosts%s: %d", tc.query, c)
			}
			var names []string
			for _, h := range list.Hosts {
				names = append(names, h.Hostname+"/"+h.Kind)
			}
			if len(list.Hosts) != len(tc.want) || list.Total != len(tc.want) {
				t.Errorf("GET /hosts%s = %v, want %v", tc.query, names, tc.want)
			}
		})
	}
	if resp, b := e.do(t, "GET", "/api/v1/hosts?kind=vm", e.tokens[auth.RoleAdmin], nil, nil); resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"kind"`) {
		t.Errorf("kind=vm: %d %s", resp.StatusCode, b)
	}

	var c api.Compliance
	e.getJSON(t, "/api/v1/compliance", &c)
	if c.Hosts != 1 || c.HostsByStatus["none"] != 1 || c.Assets != 1 || c.AssetsByStatus[d.Status] != 1 || c.Installs != 2 {
		t.Errorf("compliance %+v", c)
	}

	var el api.Eligibility
	if code := e.getJSON(t, "/api/v1/eligibility?product=python&asset="+url.QueryEscape("registry.example/app:1.4"), &el); code != 200 ||
		el.Cycle != "3.11" || el.HostID != first.AssetID {
		t.Errorf("eligibility by asset: %d %+v", code, el)
	}
	if code := e.getJSON(t, "/api/v1/eligibility?product=python&host="+url.QueryEscape("registry.example/app:1.4"), &el); code != 200 || el.Cycle != "3.11" {
		t.Errorf("eligibility by the asset's name as host: %d %+v", code, el)
	}

	// fleet events name the asset: Debian 10 eol → 12 current (its packages
	// judged by Debian 12 now: python 3.7 eol → 3.11 current), openssl removed
	var n int
	if err := e.st.DB().QueryRow(`SELECT COUNT(*) FROM notifier_events WHERE kind = 'fleet' AND payload LIKE ?`, `%registry.example/app:1.4%`).Scan(&n); err != nil || n < 2 {
		t.Errorf("fleet events for the asset: %d, %v", n, err)
	}
}

// TestSBOMUploadAccessAndBadInput: only admin and ci tokens upload, a ci
// token reads nothing, and bad uploads get a 4xx naming the field while
// nothing stored changes.
func TestSBOMUploadAccessAndBadInput(t *testing.T) {
	e := newTestEnv(t)
	q := "?name=app"
	for _, tc := range []struct {
		role string
		want int
	}{{auth.RoleViewer, 403}, {auth.RoleSupport, 403}, {auth.RoleCI, 201}, {auth.RoleAdmin, 200}} {
		if code, _, b := e.uploadSBOM(t, e.tokens[tc.role], q, []byte(imageV1), nil); code != tc.want {
			t.Errorf("upload as %s: %d %s, want %d", tc.role, code, b, tc.want)
		}
	}
	for _, path := range []string{"/api/v1/hosts", "/api/v1/compliance", "/api/v1/eligibility?product=python&version=3.11.2", "/metrics"} {
		if resp, _ := e.do(t, "GET", path, e.tokens[auth.RoleCI], nil, nil); resp.StatusCode != 403 {
			t.Errorf("GET %s as ci: %d, want 403", path, resp.StatusCode)
		}
	}
	before := assetState(t, e)

	big, err := os.ReadFile("sbom/testdata/syft/debian12-dpkg.cdx17.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(big))
	raw, _ := io.ReadAll(zr)
	huge := bytes.Repeat([]byte(" "), api.MaxReportBytes+1)
	copy(huge, raw)

	ci := e.tokens[auth.RoleCI]
	for _, tc := range []struct {
		name, query string
		body        []byte
		hdr         map[string]string
		code        int
		field       string
	}{
		{"not json", q, []byte("hello"), nil, 400, "body"},
		{"unknown format", q, []byte(`{"hello":"world"}`), nil, 400, "body"},
		{"bad purl", q, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:deb/debian/a@1%zz"}]}`), nil, 400, "components[0].purl"},
		{"duplicate bom-ref", q, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"bom-ref":"x","name":"a"},{"bom-ref":"x","name":"b"}]}`), nil, 400, "components[1].bom-ref"},
		{"truncated", q, []byte(imageV1[:200]), nil, 400, "body"},
		{"no name", "", []byte(imageV2), nil, 400, "name"},
		{"label without value", q + "&label=team", []byte(imageV1), nil, 400, "label"},
		{"duplicate label", q + "&label=a=1&label=a=2", []byte(imageV1), nil, 400, "label"},
		{"xml content type", q, []byte(imageV1), map[string]string{"Content-Type": "application/xml"}, 415, ""},
		{"brotli", q, []byte(imageV1), map[string]string{"Content-Encoding": "br"}, 415, ""},
		{"over the byte budget", q, huge, nil, 413, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, b := e.uploadSBOM(t, ci, tc.query, tc.body, tc.hdr)
			var ae api.Error
			json.Unmarshal(b, &ae)
			if code != tc.code || ae.Field != tc.field || ae.Error == "" {
				t.Fatalf("status %d %s, want %d naming field %q", code, b, tc.code, tc.field)
			}
		})
	}
	if after := assetState(t, e); after != before {
		t.Errorf("a refused upload changed what is stored: %s → %s", before, after)
	}
}

// assetState summarises the stored assets: names, item counts, uploads.
func assetState(t *testing.T, e *testEnv) string {
	var s strings.Builder
	rows, err := e.st.DB().Query(`SELECT h.hostname, h.item_count, (SELECT COUNT(*) FROM sbom_uploads u WHERE u.host_id = h.id) FROM hosts h WHERE h.kind = 'asset' ORDER BY h.hostname`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var items, ups int
		rows.Scan(&name, &items, &ups)
		s.WriteString(name + ":" + string(rune('0'+items)) + ":" + string(rune('0'+ups)) + " ")
	}
	return s.String()
}

// TestSBOMAssetReEvaluated: a catalog change re-evaluates assets with the
// hosts, and their changed verdicts are fleet events naming the asset.
func TestSBOMAssetReEvaluated(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	latest := testCatalog(t).Evaluate("python", "3.13", time.Now(), catalog.DefaultPolicy()).Latest
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"python","version":"` + latest + `","purl":"pkg:generic/python@` + latest + `"}]}`
	code, res, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name=app:2", []byte(doc), nil)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, b)
	}
	if err := e.svc.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	events := func() int {
		var n int
		e.st.DB().QueryRow(`SELECT COUNT(*) FROM notifier_events WHERE kind = 'fleet' AND payload LIKE '%"host":"app:2"%'`).Scan(&n)
		return n
	}
	before := events()
	// A newer 3.13 patch dated long ago: the asset's Python becomes patch-overdue.
	e.publishOverduePython(t)
	var d api.HostDetail
	if c := e.getJSON(t, "/api/v1/hosts/"+res.AssetID, &d); c != 200 || len(d.Verdicts) != 1 || d.Verdicts[0].Status != catalog.StatusPatchOverdue ||
		d.Status != catalog.StatusPatchOverdue {
		t.Fatalf("asset after the new release: %d %+v", c, d)
	}
	if after := events(); after != before+1 {
		t.Errorf("fleet events for the asset: %d → %d, want one more", before, after)
	}
}

// TestSBOMUploadContentTypes: a pipeline's upload is taken whatever content
// type its HTTP client sends for a file — none, curl's default for
// --data-binary (application/x-www-form-urlencoded), a generic binary type,
// gzip, or one of the SBOM media types with parameters — since the body is
// recognised by its content; an XML SBOM and a multipart form (curl -F)
// get a 415 that says what to send instead.
func TestSBOMUploadContentTypes(t *testing.T) {
	e := newTestEnv(t)
	ci := e.tokens[auth.RoleCI]
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(imageV2))
	zw.Close()
	for i, tc := range []struct {
		ctype string
		body  []byte
		code  int
		want  string // in the error
	}{
		{"", []byte(imageV2), 201, ""},
		{"application/x-www-form-urlencoded", []byte(imageV2), 201, ""},
		{"application/json", []byte(imageV2), 201, ""},
		{"application/json; charset=utf-8", []byte(imageV2), 201, ""},
		{"application/vnd.cyclonedx+json; version=1.6", []byte(imageV2), 201, ""},
		{"application/spdx+json", []byte(imageV2), 201, ""},
		{"application/octet-stream", []byte(imageV2), 201, ""},
		{"application/gzip", gz.Bytes(), 201, ""},
		{"application/x-gzip", gz.Bytes(), 201, ""},
		{"application/vnd.cyclonedx+xml", []byte("<bom/>"), 415, "XML"},
		{"text/xml", []byte("<bom/>"), 415, "XML"},
		{"multipart/form-data; boundary=x", []byte("--x--"), 415, "--data-binary"},
		{"image/png", []byte(imageV2), 415, "application/vnd.cyclonedx+json"},
		{"application/json; charset=utf-8; =", []byte(imageV2), 415, "content type"},
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.ctype != "" {
				hdr["Content-Type"] = tc.ctype
			}
			code, _, b := e.uploadSBOM(t, ci, fmt.Sprintf("?name=app-%d", i), tc.body, hdr)
			if code != tc.code || (tc.want != "" && !strings.Contains(string(b), tc.want)) {
				t.Fatalf("Content-Type %q: %d %s, want %d with %q", tc.ctype, code, b, tc.code, tc.want)
			}
		})
	}
}

// TestSBOMUploadRecordsToken: the upload history says which token uploaded
// each SBOM — its name (or, for a token without one, its id) and its id —
// not merely the role, so the pipeline behind an upload can be found and
// its token revoked.
func TestSBOMUploadRecordsToken(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	named, ciSecret, err := e.st.CreateToken(ctx, auth.RoleCI, "pipeline payments/app")
	if err != nil {
		t.Fatal(err)
	}
	unnamed, adminSecret, err := e.st.CreateToken(ctx, auth.RoleAdmin, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{ciSecret, adminSecret} {
		if code, _, b := e.uploadSBOM(t, secret, "?name=app", []byte(imageV2), nil); code != 201 && code != 200 {
			t.Fatalf("upload: %d %s", code, b)
		}
	}
	code, res, b := e.uploadSBOM(t, ciSecret, "?name=app", []byte(imageV2), nil)
	if code != 200 || res.Upload.UploadedBy != "pipeline payments/app" || res.Upload.TokenID != named.ID {
		t.Fatalf("upload answer: %d %s, want uploaded_by %q and token_id %q", code, b, named.Name, named.ID)
	}
	var d api.HostDetail
	if c := e.getJSON(t, "/api/v1/hosts/"+res.AssetID, &d); c != 200 || len(d.Uploads) != 3 {
		t.Fatalf("GET asset: %d %+v", c, d.Uploads)
	}
	for i, want := range []struct{ by, id string }{{named.Name, named.ID}, {"token " + unnamed.ID, unnamed.ID}, {named.Name, named.ID}} {
		if u := d.Uploads[i]; u.UploadedBy != want.by || u.TokenID != want.id {
			t.Errorf("uploads[%d]: uploaded_by %q, token_id %q; want %q, %q", i, u.UploadedBy, u.TokenID, want.by, want.id)
		}
	}
}

// TestSBOMAssetNameLimit: an asset's name may be up to 255 bytes (the
// documented limit); a name of that length is stored and found by every
// question that takes an asset's name, and a longer one is refused at
// upload, and when asked about, with a 400 naming the field.
func TestSBOMAssetNameLimit(t *testing.T) {
	e := newTestEnv(t)
	name := "registry.example/" + strings.Repeat("a", 255-len("registry.example/")-len(":1.4")) + ":1.4"
	if len(name) != 255 {
		t.Fatalf("name of %d bytes", len(name))
	}
	code, res, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name="+url.QueryEscape(name), []byte(imageV2), nil)
	if code != http.StatusCreated || res.Name != name {
		t.Fatalf("upload of a 255-byte name: %d %s", code, b)
	}
	var el api.Eligibility
	for _, q := range []string{"asset=" + url.QueryEscape(name), "host=" + url.QueryEscape(name), "host=" + res.AssetID} {
		if c := e.getJSON(t, "/api/v1/eligibility?product=python&"+q, &el); c != 200 || el.HostID != res.AssetID || el.Cycle != "3.11" {
			t.Errorf("eligibility?%.40s...: %d %+v", q, c, el)
		}
	}
	var d api.HostDetail
	if c := e.getJSON(t, "/api/v1/hosts/"+url.PathEscape(name), &d); c != 200 || d.ID != res.AssetID {
		t.Errorf("GET /hosts/{255-byte name}: %d", c)
	}

	long := name + "x"
	for _, tc := range []struct{ path, field string }{
		{api.PathSBOMs + "?name=" + url.QueryEscape(long), "name"},
		{"/api/v1/eligibility?product=python&asset=" + url.QueryEscape(long), "asset"},
	} {
		var resp *http.Response
		if strings.HasPrefix(tc.path, api.PathSBOMs) {
			resp, b = e.do(t, "POST", tc.path, e.tokens[auth.RoleCI], strings.NewReader(imageV2), nil)
		} else {
			resp, b = e.do(t, "GET", tc.path, e.tokens[auth.RoleAdmin], nil, nil)
		}
		var ae api.Error
		json.Unmarshal(b, &ae)
		if resp.StatusCode != 400 || ae.Field != tc.field || !strings.Contains(ae.Error, "256 bytes long, at most 255") {
			t.Errorf("%.60s...: %d %s, want 400 naming %s and the limit", tc.path, resp.StatusCode, b, tc.field)
		}
	}
}

// TestSBOMAssetDelete: an admin deletes an asset by id or by name; it
// leaves the lists, the compliance counts and eligibility, and its name
// may be uploaded again as a new asset. Other roles may not, a host is
// revoked rather than deleted (409), an unknown asset is 404.
func TestSBOMAssetDelete(t *testing.T) {
	e := newTestEnv(t)
	hostID, _ := e.enroll(t, "install-1", "web1")
	name := "registry.example/app:1.4"
	_, first, _ := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name="+url.QueryEscape(name), []byte(imageV2), nil)
	_, second, _ := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name=app:2", []byte(imageV2), nil)
	if first.AssetID == "" || second.AssetID == "" {
		t.Fatal("uploads failed")
	}
	for _, role := range []string{auth.RoleCI, auth.RoleViewer, auth.RoleSupport} {
		if resp, b := e.do(t, "DELETE", "/api/v1/hosts/"+first.AssetID, e.tokens[role], nil, nil); resp.StatusCode != 403 {
			t.Errorf("DELETE as %s: %d %s, want 403", role, resp.StatusCode, b)
		}
	}
	admin := e.tokens[auth.RoleAdmin]
	for _, tc := range []struct {
		ref, id string
	}{{first.AssetID, first.AssetID}, {url.PathEscape("app:2"), second.AssetID}} {
		resp, b := e.do(t, "DELETE", "/api/v1/hosts/"+tc.ref, admin, nil, nil)
		var got struct {
			Deleted bool   `json:"deleted"`
			ID      string `json:"id"`
			Name    string `json:"name"`
			Kind    string `json:"kind"`
		}
		json.Unmarshal(b, &got)
		if resp.StatusCode != 200 || !got.Deleted || got.ID != tc.id || got.Kind != api.KindAsset {
			t.Fatalf("DELETE /hosts/%s: %d %s", tc.ref, resp.StatusCode, b)
		}
		if c := e.getJSON(t, "/api/v1/hosts/"+tc.id, &api.HostDetail{}); c != 404 {
			t.Errorf("GET the deleted asset: %d, want 404", c)
		}
	}
	var c api.Compliance
	e.getJSON(t, "/api/v1/compliance", &c)
	var list api.HostList
	e.getJSON(t, "/api/v1/hosts", &list)
	if c.Assets != 0 || c.Hosts != 1 || list.Total != 1 || list.Hosts[0].ID != hostID {
		t.Errorf("after deleting the assets: compliance %+v, hosts %+v", c, list)
	}
	if code := e.getJSON(t, "/api/v1/eligibility?product=python&asset="+url.QueryEscape(name), &api.Eligibility{}); code != 404 {
		t.Errorf("eligibility of a deleted asset: %d, want 404", code)
	}
	for _, tc := range []struct {
		ref  string
		code int
		want string
	}{{hostID, 409, "revoke"}, {"nope", 404, "nope"}, {first.AssetID, 404, first.AssetID}} {
		resp, b := e.do(t, "DELETE", "/api/v1/hosts/"+tc.ref, admin, nil, nil)
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
			t.Errorf("DELETE /hosts/%s: %d %s, want %d naming %q", tc.ref, resp.StatusCode, b, tc.code, tc.want)
		}
	}
	if code, again, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name="+url.QueryEscape(name), []byte(imageV2), nil); code != 201 ||
		!again.Created || again.AssetID == first.AssetID {
		t.Errorf("upload after delete: %d %s, want a new asset", code, b)
	}
}

// TestSBOMAssetFleetMailSaysAsset: end to end, an SBOM asset's fleet
// change reaches a subscriber's mailbox (a real go-smtp server) as
// `asset "NAME" (ID)`, never `host`: the asset is uploaded over HTTP, the
// catalog changes, the fleet is re-evaluated, its event goes through the
// outbox (JSON, with host_kind) to the notifier's fan-out and SMTP
// delivery; a host's change in the same mail still reads `host`. It runs
// on both engines (TestMain).
func TestSBOMAssetFleetMailSaysAsset(t *testing.T) {
	mails := &sink{}
	addr := startSink(t, mails, "smtp")
	e := newTestEnvWith(t, func(c *Config) { c.SMTPAddr, c.SMTPTLS, c.SMTPFrom = addr, "none", "eolwatch@example.com" })
	ctx := context.Background()
	admin := e.tokens[auth.RoleAdmin]
	if resp, b := e.do(t, "POST", "/api/v1/groups", admin, strings.NewReader(`{"name":"ops","products":["python"],"events":["fleet"]}`),
		map[string]string{"Content-Type": "application/json"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create group: %d %s", resp.StatusCode, b)
	}
	if resp, b := e.do(t, "POST", "/api/v1/subscriptions", "", strings.NewReader(`{"group":"ops","email":"ops@example.com"}`),
		map[string]string{"Content-Type": "application/json"}); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s", resp.StatusCode, b)
	}
	deliver := func(what string, found func(subject, text string) bool) string {
		t.Helper()
		var got string
		waitFor(t, time.Minute, what, func() bool {
			for _, f := range []func(context.Context) (int, error){e.nt.ProcessEvents, e.nt.FlushDigests, e.nt.SendPending} {
				if _, err := f(ctx); err != nil {
					t.Fatal(err)
				}
			}
			for _, m := range mails.all() {
				if subj, text, _ := mailText(t, m.raw); found(subj, text) {
					got = text
					return true
				}
			}
			return false
		})
		return got
	}
	confirm := deliver("the confirmation mail", func(subj, _ string) bool { return strings.HasPrefix(subj, "Confirm your subscription") })
	i := strings.Index(confirm, notifier.PathConfirm+"?token=")
	if i < 0 {
		t.Fatalf("no confirmation link in:\n%s", confirm)
	}
	link := confirm[i : i+strings.IndexAny(confirm[i:], " \r\n")]
	if resp, b := e.do(t, "GET", link, "", nil, nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "is confirmed") {
		t.Fatalf("confirm: %d %s", resp.StatusCode, b)
	}

	// a current Python on an asset and on a host
	latest := testCatalog(t).Evaluate("python", "3.13", time.Now(), catalog.DefaultPolicy()).Latest
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"python","version":"` + latest + `","purl":"pkg:generic/python@` + latest + `"}]}`
	code, res, b := e.uploadSBOM(t, e.tokens[auth.RoleCI], "?name="+url.QueryEscape("registry.example/app:2"), []byte(doc), nil)
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, b)
	}
	hostID, key := e.enroll(t, "install-1", "web1")
	if code, _, b := e.report(t, key, fullReport("r1", "install-1", "web1", api.Item{Source: "probe", Name: "python", Version: latest})); code != http.StatusOK {
		t.Fatalf("report: %d %s", code, b)
	}
	if err := e.svc.ReEvaluateIfStale(ctx); err != nil {
		t.Fatal(err)
	}
	// A newer 3.13 patch dated long ago: both become patch-overdue.
	e.publishOverduePython(t)
	var stored string
	if err := e.st.DB().QueryRow(`SELECT payload FROM notifier_events WHERE kind = 'fleet' AND payload LIKE '%patch-overdue%' AND payload LIKE '%app:2%'`).Scan(&stored); err != nil ||
		!strings.Contains(stored, `"host_kind":"asset"`) {
		t.Fatalf("the asset's fleet event in the outbox: %s, %v; want host_kind asset", stored, err)
	}
	text := deliver("the fleet alert", func(subj, _ string) bool { return strings.Contains(subj, "fleet change") })
	for _, want := range []string{`asset "registry[.]example[/]app[:]2" (` + res.AssetID + `): python ` + latest,
		`host "web1" (` + hostID + `): python ` + latest} {
		if !strings.Contains(text, want) {
			t.Errorf("fleet alert lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, `host "registry`) {
		t.Errorf("fleet alert calls the asset a host:\n%s", text)
	}
}

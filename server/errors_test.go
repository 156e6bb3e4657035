package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
	"github.com/eolwatch/eolwatch/server/web"
	"github.com/eolwatch/eolwatch/server/webdata"
)

// TestErrorsLookAlike sends the same mistakes to the server's routes and to
// the notifier's: every /api/v1 route answers with the same headers and the
// same wording, because they all go through internal/httpjson.
func TestErrorsLookAlike(t *testing.T) {
	e := newTestEnv(t)
	admin := e.tokens[auth.RoleAdmin]
	routes := []struct{ method, path string }{
		{"POST", api.PathCatalogReleases}, // the server's
		{"POST", "/api/v1/groups"},        // the notifier's
	}
	for _, mistake := range []struct {
		name, body, ct string
		code           int
		field, msg     string
	}{
		{"unknown field", `{"colour":"red"}`, "application/json", 400, "colour", `unknown field "colour"`},
		{"not JSON", `not json`, "application/json", 400, "body", "malformed JSON at byte 2"},
		{"trailing data", `{}{}`, "application/json", 400, "", "unexpected data after the JSON value"},
		{"form", `a=b`, "application/x-www-form-urlencoded", 415, "", `content type "application/x-www-form-urlencoded": want application/json`},
	} {
		t.Run(mistake.name, func(t *testing.T) {
			var answers []string
			for _, rt := range routes {
				resp, b := e.do(t, rt.method, rt.path, admin, strings.NewReader(mistake.body), map[string]string{"Content-Type": mistake.ct})
				var ae api.Error
				if err := json.Unmarshal(b, &ae); err != nil {
					t.Fatalf("%s %s: %s is not an api.Error: %v", rt.method, rt.path, b, err)
				}
				if resp.StatusCode != mistake.code || ae.Field != mistake.field || !strings.HasPrefix(ae.Error, mistake.msg) {
					t.Errorf("%s %s = %d %+v, want %d field %q message %q", rt.method, rt.path, resp.StatusCode, ae, mistake.code, mistake.field, mistake.msg)
				}
				answers = append(answers, resp.Header.Get("Content-Type")+" "+resp.Header.Get("Cache-Control")+" "+
					resp.Header.Get("X-Content-Type-Options")+" "+string(b))
			}
			if answers[0] != answers[1] {
				t.Errorf("the server and the notifier answer differently:\n%s\n%s", answers[0], answers[1])
			}
		})
	}
}

// TestWrongMethod: a known path called with a method none of its routes
// takes is a 405 with an Allow header listing the path's methods and the
// usual JSON error naming the method and the path, whoever calls (before any
// credential check); an unknown path stays a 404, and the right method still
// reaches the route. The dashboard, on the same mux, answers its own paths
// the same way (ServeMux's plain 405 with Allow) and keeps its redirects.
func TestWrongMethod(t *testing.T) {
	e := newTestEnv(t)
	backend := &webdata.Backend{Store: e.st, Catalog: func() *catalog.Catalog { return testCatalog(t) }, Notifier: e.nt, Domain: e.svc}
	e.s.ui = web.New(web.Config{Auth: backend, Fleet: backend, CustomerFleet: backend.ForCustomer, Checker: backend,
		Customers: backend, Notifications: backend, Settings: backend, Sessions: backend, Hosts: backend})
	ts := httptest.NewServer(e.s.handler())
	t.Cleanup(ts.Close)
	e.ts = ts
	viewer := e.tokens[auth.RoleViewer]

	for _, c := range []struct {
		method, path, token string
		code                int
		allow, msg          string // msg: the JSON error ("" for the dashboard's plain text)
	}{
		{"DELETE", "/api/v1/compliance", viewer, 405, "GET, HEAD", "method DELETE not allowed on /api/v1/compliance (allowed: GET, HEAD)"},
		{"DELETE", "/api/v1/compliance", "", 405, "GET, HEAD", "method DELETE not allowed on /api/v1/compliance (allowed: GET, HEAD)"},
		{"GET", "/api/v1/report", "", 405, "POST", "method GET not allowed on /api/v1/report (allowed: POST)"},
		{"PUT", "/api/v1/hosts/h1", viewer, 405, "DELETE, GET, HEAD", "method PUT not allowed on /api/v1/hosts/h1 (allowed: DELETE, GET, HEAD)"},
		{"PUT", "/api/v1/customers/c1", "", 405, "DELETE, GET, HEAD, PATCH", "method PUT not allowed on /api/v1/customers/c1 (allowed: DELETE, GET, HEAD, PATCH)"},
		{"DELETE", "/api/v1/groups", "", 405, "GET, HEAD, POST", "method DELETE not allowed on /api/v1/groups (allowed: GET, HEAD, POST)"},
		{"POST", "/healthz", "", 405, "GET, HEAD", "method POST not allowed on /healthz (allowed: GET, HEAD)"},
		{"PUT", "/unsubscribe", "", 405, "GET, HEAD, POST", "method PUT not allowed on /unsubscribe (allowed: GET, HEAD, POST)"},
		{"GET", "/api/v1/nowhere", viewer, 404, "", "no route GET /api/v1/nowhere"},
		{"DELETE", "/api/v1/nowhere", "", 404, "", "no route DELETE /api/v1/nowhere"},
		{"GET", "/api/v1/compliance", viewer, 200, "", ""},
		{"HEAD", "/healthz", "", 200, "", ""},
		// The dashboard.
		{"DELETE", "/hosts", "", 405, "GET, HEAD", ""},
		{"PUT", "/customers", "", 405, "GET, HEAD, POST", ""},
		{"GET", "/login", "", 200, "", ""},
		{"GET", "/hosts", "", 303, "", ""}, // to the login page
		{"GET", "/nowhere", "", 404, "", ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			req, err := http.NewRequest(c.method, ts.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultTransport.RoundTrip(req) // no redirect following
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, bytes.TrimSpace(b), c.code)
			}
			if got := resp.Header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			if c.msg == "" {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var ae api.Error
			if err := json.Unmarshal(b, &ae); err != nil {
				t.Fatalf("%s is not an api.Error: %v", b, err)
			}
			if ae.Error != c.msg || ae.Field != "" {
				t.Errorf("error %+v, want %q", ae, c.msg)
			}
		})
	}

	// Every route of the table: its path called with a method no route
	// takes is a 405 whose Allow lists the route's method.
	for _, r := range e.s.routeTable() {
		method, path, _ := strings.Cut(r.pattern, " ")
		path = strings.NewReplacer("{id}", "x", "{name}", "x").Replace(path)
		resp, b := e.do(t, "PUT", path, "", nil, nil)
		allow := strings.Split(resp.Header.Get("Allow"), ", ")
		if resp.StatusCode != http.StatusMethodNotAllowed || !slices.Contains(allow, method) {
			t.Errorf("PUT %s (route %s): %d, Allow %q (%s), want 405 listing %s", path, r.pattern, resp.StatusCode, allow, bytes.TrimSpace(b), method)
		}
	}
}

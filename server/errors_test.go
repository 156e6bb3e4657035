package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/auth"
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

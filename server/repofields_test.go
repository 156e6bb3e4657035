package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// TestReportRepositoryFields checks that what the agent learns from the
// host's repositories (item origin/suite/candidate, the host's repository
// data date and extended-support enrolment) is stored and shown by
// GET /api/v1/hosts/{id}, and that an old agent's report without them is
// still accepted.
func TestReportRepositoryFields(t *testing.T) {
	e := newTestEnv(t)
	hostID, key := e.enroll(t, "install-1", "web1")
	tok := e.tokens["viewer"]

	// An old agent: the body has none of the new fields.
	old := fmt.Sprintf(`{"report_id":"r-old","kind":"full","collected_at":%q,"host":{"install_id":"install-1","hostname":"web1","os":"linux","os_id":"debian","os_version":"12"},"inventory_hash":"h-old","items":[{"source":"dpkg","name":"curl","version":"7.88.1-10+deb12u12"}]}`,
		time.Now().UTC().Format(time.RFC3339))
	resp, b := e.do(t, "POST", api.PathReport, key, strings.NewReader(old), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("old agent's report: %d %s", resp.StatusCode, b)
	}

	detail := func() api.HostDetail {
		t.Helper()
		resp, b := e.do(t, "GET", api.PathHosts+"/"+hostID, tok, nil, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET host: %d %s", resp.StatusCode, b)
		}
		var d api.HostDetail
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	item := func(d api.HostDetail, name string) api.Item {
		for _, it := range d.Inventory {
			if it.Name == name {
				return it.Item
			}
		}
		t.Fatalf("%s not in the inventory %+v", name, d.Inventory)
		return api.Item{}
	}
	if it := item(detail(), "curl"); it.Origin != "" || it.Candidate != "" {
		t.Errorf("old agent's curl = %+v, want no repository fields", it)
	}

	date := time.Date(2026, 11, 30, 0, 22, 33, 0, time.UTC)
	r := fullReport("r-new", "install-1", "web1",
		api.Item{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12", Arch: "amd64",
			Origin: "debian", Suite: "bookworm-security", Candidate: "7.88.1-10+deb12u14",
			CandidateOrigin: "debian", CandidateSuite: "bookworm-security",
			Section: "web", Summary: "command line tool for transferring data with URL syntax"},
		api.Item{Source: "dpkg", Name: "nodejs", Version: "20.20.2-1nodesource1", Arch: "amd64",
			Origin: ". nodistro", Suite: "nodistro", Candidate: "20.20.2-1nodesource1"})
	r.Host.RepoDataDate = date
	r.Host.ExtendedSupport = []string{api.ExtUbuntuESMInfra}
	if code, _, b := e.report(t, key, r); code != 200 {
		t.Fatalf("report with repository fields: %d %s", code, b)
	}
	d := detail()
	if got := item(d, "curl"); got.Origin != "debian" || got.Suite != "bookworm-security" ||
		got.Candidate != "7.88.1-10+deb12u14" || got.CandidateOrigin != "debian" || got.CandidateSuite != "bookworm-security" {
		t.Errorf("curl = %+v, want origin and candidate origin debian, suite and candidate suite bookworm-security, candidate 7.88.1-10+deb12u14", got)
	}
	if got := item(d, "curl"); got.Section != "web" || !strings.HasPrefix(got.Summary, "command line tool") {
		t.Errorf("curl = %+v, want the section and summary the agent sent (the matcher reads roles from them)", got)
	}
	if got := item(d, "nodejs"); got.Origin != ". nodistro" || got.Candidate != got.Version {
		t.Errorf("nodejs = %+v", got)
	}
	if !d.Info.RepoDataDate.Equal(date) || len(d.Info.ExtendedSupport) != 1 || d.Info.ExtendedSupport[0] != api.ExtUbuntuESMInfra {
		t.Errorf("host info = repo_data_date %v extended_support %v, want %v [%s]", d.Info.RepoDataDate, d.Info.ExtendedSupport, date, api.ExtUbuntuESMInfra)
	}

	// A new candidate (the host ran apt-get update) is a changed item.
	r.ReportID, r.InventoryHash = "r-newer", "h-newer"
	r.Items[0].Candidate = "7.88.1-10+deb12u15"
	if code, _, b := e.report(t, key, r); code != 200 {
		t.Fatalf("report: %d %s", code, b)
	}
	if got := item(detail(), "curl"); got.Candidate != "7.88.1-10+deb12u15" {
		t.Errorf("curl candidate after the change = %q, want 7.88.1-10+deb12u15", got.Candidate)
	}

	// Bad values are refused with the field named; nothing stored is lost.
	bad := func(mut func(*api.Report)) api.Report {
		x := fullReport("r-bad", "install-1", "web1", api.Item{Source: "dpkg", Name: "curl", Version: "1"})
		mut(&x)
		return x
	}
	for _, tc := range []struct {
		name  string
		r     api.Report
		field string
	}{
		{"control character in origin", bad(func(x *api.Report) { x.Items[0].Origin = "deb\nian" }), "items[0].origin"},
		{"oversized candidate", bad(func(x *api.Report) { x.Items[0].Candidate = strings.Repeat("9", 2000) }), "items[0].candidate"},
		{"control character in summary", bad(func(x *api.Report) { x.Items[0].Summary = "a\x1bb" }), "items[0].summary"},
		{"oversized section", bad(func(x *api.Report) { x.Items[0].Section = strings.Repeat("s", 2000) }), "items[0].section"},
		{"empty programme", bad(func(x *api.Report) { x.Host.ExtendedSupport = []string{""} }), "host.extended_support[0]"},
		{"too many programmes", bad(func(x *api.Report) { x.Host.ExtendedSupport = make([]string, 100) }), "host.extended_support"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(tc.r)
			resp, b := e.do(t, "POST", api.PathReport, key, bytes.NewReader(body), nil)
			var ae api.Error
			json.Unmarshal(b, &ae)
			if resp.StatusCode != 400 || ae.Field != tc.field {
				t.Errorf("%s: %d field %q (%s), want 400 field %q", tc.name, resp.StatusCode, ae.Field, bytes.TrimSpace(b), tc.field)
			}
		})
	}
	if got := item(detail(), "curl"); got.Candidate != "7.88.1-10+deb12u15" {
		t.Errorf("after bad reports curl = %+v", got)
	}
}

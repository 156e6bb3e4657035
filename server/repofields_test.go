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

// TestPolicySettingReachesEveryPath: the serve policy settings reach the
// verdicts of ingest, the host's detail, host eligibility and
// GET /api/v1/catalog. perl-base from Debian's archive on a Debian 12 host
// is, on 2027-01-15 (inside Debian 12's LTS phase), supported through
// Debian LTS by default, and not with --extended-support-for debian=none.
func TestPolicySettingReachesEveryPath(t *testing.T) {
	testEnvNow = func() time.Time { return time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { testEnvNow = nil })
	perl := api.Item{Source: "dpkg", Name: "perl-base", Version: "5.36.0-7+deb12u4", Arch: "amd64", SourcePkg: "perl",
		Origin: "debian", Suite: "bookworm-security", Candidate: "5.36.0-7+deb12u4"}
	for _, tc := range []struct {
		name    string
		mod     func(*Config)
		support string
		policy  string
	}{
		{"default", nil, "supported", `"extended_support":"free","extended_support_for":{}`},
		{"debian=none", func(c *Config) { c.ExtendedSupportFor = map[string]string{"debian": "none"} }, "eol",
			`"extended_support":"free","extended_support_for":{"debian":"none"}`},
		{"none", func(c *Config) { c.ExtendedSupport = "none" }, "eol", `"extended_support":"none"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnvWith(t, tc.mod)
			hostID, key := e.enroll(t, "i-perl", "perl-host")
			if code, _, b := e.report(t, key, fullReport("r1", "i-perl", "perl-host", perl)); code != 200 {
				t.Fatalf("report: %d %s", code, b)
			}
			resp, b := e.do(t, "GET", api.PathHosts+"/"+hostID, e.tokens["viewer"], nil, nil)
			var d api.HostDetail
			if resp.StatusCode != 200 || json.Unmarshal(b, &d) != nil {
				t.Fatalf("host: %d %s", resp.StatusCode, b)
			}
			var v api.HostVerdict
			for _, hv := range d.Verdicts {
				if hv.Product == "perl" {
					v = hv
				}
			}
			if v.Support != tc.support || v.Maintainer != "debian" {
				t.Errorf("stored perl verdict: %s by %s, want %s by debian (%s)", v.Support, v.Maintainer, tc.support, v.Reason)
			}
			resp, b = e.do(t, "GET", api.PathEligibility+"?host=perl-host&product=perl", e.tokens["support"], nil, nil)
			var el api.Eligibility
			if resp.StatusCode != 200 || json.Unmarshal(b, &el) != nil || el.Support != tc.support || el.Maintainer != "debian" {
				t.Errorf("eligibility: %d %s, want support %s by debian", resp.StatusCode, b, tc.support)
			}
			if _, b = e.do(t, "GET", api.PathCatalog, e.tokens["viewer"], nil, nil); !bytes.Contains(b, []byte(tc.policy)) {
				t.Errorf("GET /api/v1/catalog = %s, want the policy %s", b, tc.policy)
			}
		})
	}
}

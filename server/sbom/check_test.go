package sbom

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
)

// handDoc is a small CycloneDX document: an end-of-life Python, a current
// Go toolchain, a component without a version, one nothing claims.
const handDoc = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "metadata": {"component": {"type": "container", "name": "registry.example/app", "version": "1.4"}},
  "components": [
    {"bom-ref": "py", "type": "library", "name": "python3.7", "version": "3.7.3-2+deb10u7",
     "purl": "pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?arch=amd64&distro=debian-10"},
    {"bom-ref": "go", "type": "library", "name": "stdlib", "version": "go1.26.8", "purl": "pkg:golang/stdlib@1.26.8",
     "cpe": "cpe:2.3:a:golang:go:1.26.8:-:*:*:*:*:*:*"},
    {"bom-ref": "dj", "type": "library", "name": "Django", "cpe": "cpe:2.3:a:djangoproject:django:*:*:*:*:*:*:*:*"},
    {"bom-ref": "x", "type": "library", "name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"}
  ]
}`

func runCheck(t *testing.T, doc, format, failOn string) (string, Summary, error) {
	t.Helper()
	fo, err := ParseFailOn(failOn)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s, err := Check(strings.NewReader(doc), NewJudge(testMatcher(t), testDay, catalog.Policy{}),
		CheckOptions{Format: format, FailOn: fo, URI: "sbom.cdx.json"}, &out)
	return out.String(), s, err
}

func TestCheckJSONL(t *testing.T) {
	out, s, err := runCheck(t, handDoc, FormatJSONL, "")
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 || s.Judged != 3 || s.Document.Components != 4 {
		t.Fatalf("%d lines, summary %+v; want 3 judged of 4 components:\n%s", len(lines), s, out)
	}
	wants := []struct{ product, status, ref string }{{"python", "eol", "py"}, {"go", "current", "go"}, {"django", "unknown-version", "dj"}}
	for i, w := range wants {
		l := lines[i]
		comp, _ := l["component"].(map[string]any)
		if l["product"] != w.product || l["status"] != w.status || comp["bom_ref"] != w.ref || l["as_of"] != "2026-12-01" ||
			l["reason"] == "" || l["match_rule"] == "" || comp["name"] == "" {
			t.Errorf("line %d = %v, want %s %s for bom-ref %s", i+1, l, w.product, w.status, w.ref)
		}
	}
	if s.ByStatus["eol"] != 1 || s.ByStatus["current"] != 1 || s.ByStatus["unknown-version"] != 1 || s.Failed != 0 {
		t.Errorf("summary %+v", s)
	}
}

func TestCheckFailOnAndExitCodes(t *testing.T) {
	tests := []struct {
		name, doc, failOn string
		failed, code      int
	}{
		{"nothing to fail on", handDoc, "", 0, ExitOK},
		{"eol present", handDoc, "eol", 1, ExitFailed},
		{"two statuses", handDoc, "eol,unknown-version", 2, ExitFailed},
		{"status absent", handDoc, "patch-overdue", 0, ExitOK},
		{"spaces and case", handDoc, " EOL , current ", 2, ExitFailed},
		{"unusable document", `{"bomFormat":"CycloneDX"}`, "eol", 0, ExitUnusable},
		{"bad purl", `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"npm/a@1"}]}`, "eol", 0, ExitUnusable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, s, err := runCheck(t, tc.doc, FormatJSONL, tc.failOn)
			if s.Failed != tc.failed || ExitCode(s, err) != tc.code {
				t.Fatalf("failed %d, exit code %d (err %v); want %d and %d", s.Failed, ExitCode(s, err), err, tc.failed, tc.code)
			}
		})
	}
	if _, err := ParseFailOn("eol,end-of-life"); err == nil || !strings.Contains(err.Error(), `unknown status "end-of-life"`) {
		t.Fatalf("ParseFailOn(eol,end-of-life) error %v, want unknown status", err)
	}
	if ExitCode(Summary{}, errors.New("write: broken pipe")) != 1 {
		t.Fatal("an output error must exit 1")
	}
}

func TestCheckBadPURLNamesField(t *testing.T) {
	_, _, err := runCheck(t, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a"},{"name":"b","purl":"pkg:npm/b@1%"}]}`, FormatJSONL, "")
	var de *Error
	if !errors.As(err, &de) || de.Field != "components[1].purl" {
		t.Fatalf("error %v, want one naming components[1].purl", err)
	}
}

func TestCheckTable(t *testing.T) {
	out, _, err := runCheck(t, handDoc, FormatTable, "eol")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "STATUS") {
		t.Fatalf("table:\n%s", out)
	}
	// worst first, the --fail-on ones marked
	if !strings.HasPrefix(lines[1], "eol !") || !strings.Contains(lines[1], "python3.7 3.7.3-2+deb10u7") ||
		!strings.HasPrefix(lines[2], "unknown-version ") || !strings.HasPrefix(lines[3], "current ") {
		t.Fatalf("table rows out of order or unmarked:\n%s", out)
	}
	if !strings.Contains(lines[5], "judged 3 of 4 components (1 eol, 1 unknown-version, 1 current) as of 2026-12-01; 1 component(s) without a version; 1 with a --fail-on status (eol)") {
		t.Fatalf("summary line %q", lines[5])
	}
}

func TestCheckSARIF(t *testing.T) {
	out, _, err := runCheck(t, handDoc, FormatSARIF, "eol")
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string `json:"id"`
						ShortDescription struct {
							Text string `json:"text"`
						} `json:"shortDescription"`
						Default struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Artifacts []struct {
				Location struct {
					URI string `json:"uri"`
				} `json:"location"`
			} `json:"artifacts"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					Physical struct {
						Artifact struct {
							URI   string `json:"uri"`
							Index *int   `json:"index"`
						} `json:"artifactLocation"`
						Region *struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Fingerprints map[string]string `json:"partialFingerprints"`
				Properties   map[string]any    `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("header: %+v", log)
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "eolwatch" || len(run.Artifacts) != 1 || run.Artifacts[0].Location.URI != "sbom.cdx.json" {
		t.Fatalf("tool/artifacts: %+v", run)
	}
	ids := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if ids[r.ID] || r.ShortDescription.Text == "" || (r.Default.Level != "warning" && r.Default.Level != "note") {
			t.Fatalf("rule %+v duplicate or incomplete", r)
		}
		ids[r.ID] = true
	}
	// current verdicts are not results; eol is an error because of --fail-on
	if len(run.Results) != 2 {
		t.Fatalf("%d results, want 2 (eol python, unknown-version django):\n%s", len(run.Results), out)
	}
	lines := strings.Split(handDoc, "\n")
	for _, r := range run.Results {
		if run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Message.Text == "" || len(r.Fingerprints) == 0 {
			t.Errorf("result %+v: rule index, message or fingerprint wrong", r)
		}
		loc := r.Locations[0].Physical
		if loc.Artifact.URI != "sbom.cdx.json" || loc.Artifact.Index == nil || *loc.Artifact.Index != 0 || loc.Region == nil {
			t.Fatalf("result location %+v", loc)
		}
		// the region points at the component's opening brace
		if l := lines[loc.Region.StartLine-1]; loc.Region.StartColumn < 1 || l[loc.Region.StartColumn-1] != '{' {
			t.Errorf("region %d:%d is not a component start: %q", loc.Region.StartLine, loc.Region.StartColumn, l)
		}
	}
	if r := run.Results[0]; r.RuleID != "eol" || r.Level != "error" || r.Properties["product"] != "python" || r.Locations[0].Physical.Region.StartLine != 6 {
		t.Errorf("first result %+v, want python eol as error on line 6", r)
	}
	if r := run.Results[1]; r.RuleID != "unknown-version" || r.Level != "warning" {
		t.Errorf("second result %+v, want unknown-version warning", r)
	}
}

// TestCheckUnusableWritesNothing: whatever the format, a document that
// turns out unusable after components were judged (truncated, over the
// budget, a bad purl further on, its format named after its components)
// leaves stdout empty, so a pipeline never keeps findings of a document it
// refused; JSON lines past the spool's memory go through a temporary file,
// which is removed either way.
func TestCheckUnusableWritesNothing(t *testing.T) {
	defer func(n int) { spoolMemory = n }(spoolMemory)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	py := `{"name":"python3.7","version":"3.7.3","purl":"pkg:deb/debian/python3.7@3.7.3"}`
	many := strings.TrimSuffix(strings.Repeat(py+",", 50), ",")
	bad := map[string]string{
		"truncated":         `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + many + `,{"name":"x"},{"name":"y"`,
		"bad purl at last":  `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + many + `,{"name":"a","purl":"pkg:npm/a@1%zz"}]}`,
		"format at the end": `{"components":[` + many + `],"specVersion":"1.2","bomFormat":"CycloneDX"}`,
		"over the budget":   `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + many + `,` + many + `,` + many + `]}`,
	}
	for _, memory := range []int{4 << 20, 1 << 10} { // in memory; spilled to a file after 1 KiB
		spoolMemory = memory
		for _, f := range []string{FormatJSONL, FormatTable, FormatSARIF} {
			for name, doc := range bad {
				t.Run(fmt.Sprintf("%s/%s/spool %d", f, name, memory), func(t *testing.T) {
					var out bytes.Buffer
					_, err := Check(strings.NewReader(doc), NewJudge(testMatcher(t), testDay, catalog.Policy{}),
						CheckOptions{Format: f, Limits: Limits{MaxComponents: 120}}, &out)
					var de *Error
					if !errors.As(err, &de) || out.Len() != 0 {
						t.Fatalf("output %d bytes, error %v; want nothing written and a document error", out.Len(), err)
					}
				})
			}
		}
		// the same findings, from a usable document, all come out in order
		var out bytes.Buffer
		s, err := Check(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`+many+`]}`),
			NewJudge(testMatcher(t), testDay, catalog.Policy{}), CheckOptions{}, &out)
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if err != nil || s.Judged != 50 || len(lines) != 50 {
			t.Fatalf("spool %d: %d lines, judged %d, %v", memory, len(lines), s.Judged, err)
		}
		for i, l := range lines {
			var f Finding
			if err := json.Unmarshal([]byte(l), &f); err != nil || f.Component.Field != fmt.Sprintf("components[%d]", i) {
				t.Fatalf("spool %d: line %d = %.80s (%v), want the finding of components[%d]", memory, i+1, l, err, i)
			}
		}
		// SARIF's results wait in a spool too, and come out in the log
		out.Reset()
		if _, err := Check(strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`+many+`]}`),
			NewJudge(testMatcher(t), testDay, catalog.Policy{}), CheckOptions{Format: FormatSARIF}, &out); err != nil {
			t.Fatal(err)
		}
		var log struct {
			Runs []struct {
				Results []struct {
					RuleID     string         `json:"ruleId"`
					Properties map[string]any `json:"properties"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(out.Bytes(), &log); err != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 50 {
			t.Fatalf("spool %d: SARIF %v, %.300s", memory, err, out.String())
		}
		for i, r := range log.Runs[0].Results {
			if r.RuleID != "eol" || r.Properties["component_field"] != fmt.Sprintf("components[%d]", i) {
				t.Fatalf("spool %d: result %d = %+v", memory, i, r)
			}
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	if _, _, err := runCheck(t, handDoc, "xml", ""); err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Fatalf("format xml: error %v", err)
	}
}

// TestCheckSyftDocuments judges the real syft documents: the Debian
// database's interpreters, libraries and servers, and the Go toolchain of
// the project's own server binary.
func TestCheckSyftDocuments(t *testing.T) {
	tests := []struct {
		file  string
		wants []string // product cycle pairs that must be among the findings
	}{
		{"syft/debian12-dpkg.cdx17.json.gz", []string{"python 3.11", "perl 5.36", "openssl 3.0", "postgresql 15", "eclipse-temurin 17", "debian 12"}},
		{"syft/debian12-dpkg.spdx23.json.gz", []string{"python 3.11", "perl 5.36", "openssl 3.0", "postgresql 15", "eclipse-temurin 17"}},
		{"syft/eolwatch-server.cdx17.json", []string{"go 1.26"}},
		{"syft/eolwatch-server.spdx23.json", []string{"go 1.26"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			out, s, err := runCheck(t, string(openTestdata(t, tc.file)), FormatJSONL, "eol")
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			sc := bufio.NewScanner(strings.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var f Finding
				if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
					t.Fatal(err)
				}
				seen[f.Product+" "+f.Cycle] = true
			}
			for _, w := range tc.wants {
				if !seen[w] {
					t.Errorf("no finding for %s; have %v", w, seen)
				}
			}
			t.Logf("%s", s)
		})
	}
}

// TestCheckDistroAware: a distribution package whose purl names the
// distribution's release is judged by that release's support, with no
// candidate known (patch unknown, not counted); without a release, or from a
// third-party repository, it is judged upstream.
func TestCheckDistroAware(t *testing.T) {
	j := NewJudge(testMatcher(t), testDay, catalog.Policy{})
	tests := []struct {
		name, purl                         string
		maintainer, support, patch, status string
		vendor                             string
		distro                             bool
	}{
		{"debian 12 package", "pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=perl",
			"debian", catalog.SupportSupported, catalog.PatchUnknown, catalog.StatusCurrent, "", true},
		{"debian 12 python", "pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12",
			"debian", catalog.SupportSupported, catalog.PatchUnknown, catalog.StatusCurrent, "", true},
		{"debian 10 package", "pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?distro=debian-10",
			"debian", catalog.SupportEOL, catalog.PatchUnknown, catalog.StatusEOL, "", true},
		{"no release: upstream", "pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6",
			catalog.MaintainerUpstream, catalog.SupportSupported, catalog.PatchOverdue, catalog.StatusPatchOverdue, "", true},
		{"nodesource: upstream", "pkg:deb/debian/nodejs@20.20.2-1nodesource1%2Brepack1?arch=amd64&distro=debian-12",
			catalog.MaintainerUpstream, catalog.SupportEOL, catalog.PatchCurrent, catalog.StatusEOL, "nodesource", false},
		{"alpine package of an ended release", "pkg:apk/alpine/nginx@1.24.0-r7?arch=x86_64&distro=alpine-3.19.1",
			"alpine-linux", catalog.SupportEOL, catalog.PatchUnknown, catalog.StatusEOL, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ok, err := j.Judge(&Component{Field: "components[0]", Name: "x", Version: "1", PURL: tc.purl})
			if err != nil || !ok {
				t.Fatalf("Judge = %v, %v", ok, err)
			}
			if f.Maintainer != tc.maintainer || f.Support != tc.support || f.Patch != tc.patch || (tc.status != "" && f.Status != tc.status) ||
				f.Vendor != tc.vendor || (f.Distro != nil) != tc.distro {
				t.Fatalf("verdict maintainer %q support %s patch %s status %s vendor %q distro %v; want %q %s %s %s %q %v\n%s",
					f.Maintainer, f.Support, f.Patch, f.Status, f.Vendor, f.Distro, tc.maintainer, tc.support, tc.patch, tc.status, tc.vendor, tc.distro, f.Reason)
			}
		})
	}
}

// TestCheckOSPointRelease: syft names an image's OS by its release alone
// ("debian" "12"); the check reads the point release from the release
// package the document lists (base-files 12.4+deb12u11: Debian 12.11, as
// /etc/debian_version tells the agent), judges the OS by Debian, and, an
// SBOM naming no candidate, leaves its patch status unknown: never the
// catalog's latest (12.15, current) nor its point-release dates (overdue).
// An OS listed before its base-files is judged at the end of the document,
// with it.
func TestCheckOSPointRelease(t *testing.T) {
	const (
		osComp = `{"bom-ref":"os","type":"operating-system","name":"debian","version":"12"}`
		bf     = `{"bom-ref":"bf","type":"library","name":"base-files","version":"12.4+deb12u11","purl":"pkg:deb/debian/base-files@12.4%2Bdeb12u11?arch=amd64&distro=debian-12"}`
		py     = `{"bom-ref":"py","type":"library","name":"python3.11","version":"3.11.2-6+deb12u6","purl":"pkg:deb/debian/python3.11@3.11.2-6%2Bdeb12u6?arch=amd64&distro=debian-12"}`
	)
	doc := func(comps ...string) string {
		return `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Join(comps, ",") + `]}`
	}
	for _, tc := range []struct {
		name, doc                 string
		version, installed, field string
		last                      bool // the OS finding is the last line
		reason                    string
	}{
		{name: "syft's CycloneDX 1.7 of this machine's dpkg database", doc: string(openTestdata(t, "syft/debian12-dpkg.cdx17.json.gz")),
			version: "12.11", installed: "12.4+deb12u11", field: "components[892]", last: true, reason: "its base-files 12.4+deb12u11 is Debian 12.11"},
		{name: "syft's CycloneDX 1.4", doc: string(openTestdata(t, "syft/debian12-dpkg.cdx14.json.gz")),
			version: "12.11", installed: "12.4+deb12u11", field: "components[892]", last: true, reason: "is Debian 12.11"},
		{name: "the OS before its base-files: judged last", doc: doc(osComp, py, bf),
			version: "12.11", installed: "12.4+deb12u11", field: "components[0]", last: true, reason: "is Debian 12.11"},
		{name: "base-files first", doc: doc(bf, osComp, py),
			version: "12.11", installed: "12.4+deb12u11", field: "components[1]", reason: "is Debian 12.11"},
		{name: "no base-files: the release alone, Debian's, patch unknown", doc: doc(osComp, py),
			version: "12.15", field: "components[0]", last: true, reason: "no installed version of its base-files was given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, s, err := runCheck(t, tc.doc, FormatJSONL, "")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != s.Judged {
				t.Fatalf("%d lines for %d judged components", len(lines), s.Judged)
			}
			var os Finding
			at := -1
			for i, l := range lines {
				var f Finding
				if err := json.Unmarshal([]byte(l), &f); err != nil {
					t.Fatal(err)
				}
				if f.Product == "debian" {
					os, at = f, i
				}
			}
			if at < 0 {
				t.Fatalf("no OS finding in:\n%s", out)
			}
			got := []string{os.Version, os.Cycle, os.Maintainer, os.MaintainerRelease, os.Patch, os.Status, os.Support, os.Installed, os.Candidate, os.UpgradeTo, os.Component.Field}
			want := []string{tc.version, "12", "debian", "12", catalog.PatchUnknown, catalog.StatusCurrent, catalog.SupportSupported, tc.installed, "", "", tc.field}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("OS finding version/cycle/maintainer/release/patch/status/support/installed/candidate/upgrade/field = %q,\nwant %q\nreason: %s", got, want, os.Reason)
			}
			if !strings.Contains(os.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", os.Reason, tc.reason)
			}
			if tc.last && at != len(lines)-1 {
				t.Errorf("the OS finding is line %d of %d, want the last", at+1, len(lines))
			}
			if !tc.last && at == len(lines)-1 {
				t.Errorf("the OS finding was held back to the end although its base-files came first")
			}
		})
	}
	// Judge alone (no document) has no release package to read.
	f, ok, err := NewJudge(testMatcher(t), testDay, catalog.Policy{}).Judge(&Component{Field: "components[0]", Type: "operating-system", Name: "debian", Version: "12"})
	if err != nil || !ok || f.Version != "12.15" || f.Maintainer != "debian" || f.Patch != catalog.PatchUnknown {
		t.Errorf("Judge(debian 12) = %s %s by %s, patch %s (%v, %v); want 12.15 by debian, patch unknown", f.Product, f.Version, f.Maintainer, f.Patch, ok, err)
	}
}

// TestCheckHoldsFewOS: a document of many operating-system components
// before any release package holds back at most maxHeldOS of them (memory
// stays bounded); the rest are judged at once, every one is judged.
func TestCheckHoldsFewOS(t *testing.T) {
	var comps []string
	for i := range 3 * maxHeldOS {
		comps = append(comps, fmt.Sprintf(`{"bom-ref":"os%d","type":"operating-system","name":"debian","version":"12"}`, i))
	}
	doc := `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + strings.Join(comps, ",") + `]}`
	out, s, err := runCheck(t, doc, FormatJSONL, "")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if s.Judged != 3*maxHeldOS || len(lines) != 3*maxHeldOS {
		t.Fatalf("judged %d, %d lines; want %d", s.Judged, len(lines), 3*maxHeldOS)
	}
	var first Finding
	json.Unmarshal([]byte(lines[0]), &first)
	if first.Component.Field != fmt.Sprintf("components[%d]", maxHeldOS) {
		t.Errorf("first line is %s, want components[%d] (the first not held back)", first.Component.Field, maxHeldOS)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// sbomDoc holds an end-of-life Python 3.7 (Debian 10's, whose support has
// ended too), an upstream Python 3.11 missing patches, and Acme ERP (a product only the test catalog file knows, by its CPE).
const sbomDoc = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
 {"bom-ref":"a","name":"python3.7","version":"3.7.3-2+deb10u7","purl":"pkg:deb/debian/python3.7@3.7.3-2%2Bdeb10u7?distro=debian-10"},
 {"bom-ref":"b","name":"python","version":"3.11.2","purl":"pkg:generic/python@3.11.2"},
 {"bom-ref":"c","name":"erp","version":"2025.1.1","cpe":"cpe:2.3:a:acme:erp:2025.1.1:*:*:*:*:*:*:*"}
]}`

const acmeCatalog = `format: eolwatch-catalog/v1
source: test
products:
  - id: acme-erp
    label: Acme ERP
    category: server-app
    identifiers:
      - {type: cpe, id: "cpe:2.3:a:acme:erp"}
    scheme: calver
    cycles:
      - name: "2025.1"
        release: 2025-03-03
        eol: 2027-03-01
        latest: "2025.1.1"
        latest_date: 2025-05-12
`

// runSBOMCheck runs `eolwatch-server sbom check ARGS` with doc on stdin
// and returns the statuses per product, stdout, stderr and the exit code.
func runSBOMCheck(t *testing.T, doc string, args ...string) (map[string]string, string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), append([]string{"sbom", "check"}, args...), Stdio{In: strings.NewReader(doc), Out: &out, Err: &errb})
	code := 0
	if err != nil {
		code = ExitCode(err)
		errb.WriteString(err.Error())
	}
	statuses := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var f struct{ Product, Status string }
		if json.Unmarshal([]byte(l), &f) == nil && f.Product != "" {
			statuses[f.Product+" "+f.Status] = f.Status
		}
	}
	return statuses, out.String(), errb.String(), code
}

func keys(m map[string]string) string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, "; ")
}

// TestSBOMCheckFlags shows every flag of sbom check changing the outcome.
func TestSBOMCheckFlags(t *testing.T) {
	dir := t.TempDir()
	acme := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(acme, []byte(acmeCatalog), 0o644); err != nil {
		t.Fatal(err)
	}
	docFile := filepath.Join(dir, "sbom.cdx.json")
	if err := os.WriteFile(docFile, []byte(sbomDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	const day = "--as-of=2026-12-01"
	tests := []struct {
		name string
		args []string
		want string // the product/status pairs, sorted
		code int
	}{
		{"defaults", []string{day, "-"}, "python eol; python patch-overdue", 0},
		{"file argument first", []string{docFile, day}, "python eol; python patch-overdue", 0},
		{"fail-on present status", []string{day, "--fail-on", "eol", "-"}, "python eol; python patch-overdue", 1},
		{"fail-on absent status", []string{day, "--fail-on", "eol-soon,unknown-version", "-"}, "python eol; python patch-overdue", 0},
		{"as-of before python 3.7's end", []string{"--as-of", "2023-01-01", "--fail-on", "eol", "-"}, "python current", 0},
		{"grace-days", []string{day, "--grace-days", "5000", "-"}, "python eol; python patch-available", 0},
		{"catalog replaces the default", []string{day, "--catalog", acme, "-"}, "acme-erp eol-soon", 0},
		{"with-default merges", []string{day, "--catalog", acme, "--with-default", "-"}, "acme-erp eol-soon; python eol; python patch-overdue", 0},
		{"warn-days", []string{day, "--catalog", acme, "--warn-days", "30", "-"}, "acme-erp current", 0},
		{"max-bytes", []string{day, "--max-bytes", "100", "-"}, "", 2},
		// over the budget: nothing is written, not even what was judged before the budget ran out
		{"max-components", []string{day, "--max-components", "2", "-"}, "", 2},
		{"max-components enough", []string{day, "--max-components", "3", "-"}, "python eol; python patch-overdue", 0},
		{"bad fail-on", []string{day, "--fail-on", "dead", "-"}, "", 2},
		{"bad as-of", []string{"--as-of", "2026-13-01", "-"}, "", 2},
		{"bad format", []string{day, "--format", "xml", "-"}, "", 2},
		{"negative grace", []string{day, "--grace-days", "-1", "-"}, "", 2},
		{"missing catalog file", []string{day, "--catalog", filepath.Join(dir, "none.yaml"), "-"}, "", 2},
		{"missing file", []string{day, filepath.Join(dir, "none.json")}, "", 2},
		{"two files", []string{day, docFile, docFile}, "", 2},
		{"no file", []string{day}, "", 2},
		{"unknown flag", []string{"--colour", "-"}, "", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, out, errs, code := runSBOMCheck(t, sbomDoc, tc.args...)
			if keys(got) != tc.want || code != tc.code {
				t.Fatalf("sbom check %s = %q, exit %d; want %q, exit %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), keys(got), code, tc.want, tc.code, out, errs)
			}
		})
	}
}

func TestSBOMCheckFormatsAndMessages(t *testing.T) {
	_, out, errs, code := runSBOMCheck(t, sbomDoc, "--as-of", "2026-12-01", "--format", "table", "--fail-on", "eol", "-")
	if code != 1 || !strings.HasPrefix(out, "STATUS") || !strings.Contains(out, "judged 2 of 3 components") ||
		!strings.Contains(errs, "1 judged component(s) with a --fail-on status (eol)") {
		t.Fatalf("table: exit %d\n%s\n%s", code, out, errs)
	}
	_, out, errs, code = runSBOMCheck(t, sbomDoc, "--as-of", "2026-12-01", "--format", "sarif", "-")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &log); err != nil || code != 0 || log.Version != "2.1.0" || len(log.Runs[0].Results) != 2 ||
		!strings.Contains(errs, "judged 2 of 3 components") {
		t.Fatalf("sarif: exit %d, %v\n%s\n%s", code, err, out, errs)
	}
	// unusable input names the field
	_, _, errs, code = runSBOMCheck(t, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:npm/a@1%"}]}`, "-")
	if code != 2 || !strings.Contains(errs, "components[0].purl") {
		t.Fatalf("bad purl: exit %d, %s", code, errs)
	}
	_, _, errs, code = runSBOMCheck(t, "not json at all", "-")
	if code != 2 || !strings.Contains(errs, "not JSON") {
		t.Fatalf("not JSON: exit %d, %s", code, errs)
	}
}

// TestSBOMCheckExtendedSupportFlags: the extended-support policy flags of
// catalog evaluate change how a distribution's package is judged.
func TestSBOMCheckExtendedSupportFlags(t *testing.T) {
	const perlDoc = `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[
 {"name":"perl-base","version":"5.36.0-7+deb12u4","purl":"pkg:deb/debian/perl-base@5.36.0-7%2Bdeb12u4?distro=debian-12&upstream=perl"}]}`
	for _, tc := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"default: Debian LTS counts", []string{"-"}, "perl current", 0},
		{"extended-support none", []string{"--extended-support", "none", "--fail-on", "eol", "-"}, "perl eol", 1},
		{"extended-support-for the distribution", []string{"--extended-support-for", "debian=none", "-"}, "perl eol", 0},
		{"extended-support-for another product", []string{"--extended-support-for", "ubuntu=none", "-"}, "perl current", 0},
		{"bad extended-support", []string{"--extended-support", "some", "-"}, "", 2},
		{"bad extended-support-for", []string{"--extended-support-for", "debian", "-"}, "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, out, errs, code := runSBOMCheck(t, perlDoc, append([]string{"--as-of", "2026-12-01"}, tc.args...)...)
			if keys(got) != tc.want || code != tc.code {
				t.Fatalf("sbom check %s = %q, exit %d; want %q, exit %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), keys(got), code, tc.want, tc.code, out, errs)
			}
		})
	}
}

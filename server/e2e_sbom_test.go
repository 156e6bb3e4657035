package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/web/webtest"
)

// TestEndToEndSBOM runs the real server binary on a real SQLite data
// directory: sbom check gates on syft's SBOM of this machine's dpkg
// database, a ci token uploads it over loopback, and the asset shows on
// the dashboard, its page listing the upload and its verdicts.
func TestEndToEndSBOM(t *testing.T) {
	srvBin, _ := buildBinaries(t)
	doc := filepath.Join("sbom", "testdata", "syft", "debian12-dpkg.cdx17.json.gz")

	// The pipeline gate: exit status 1 with --fail-on eol (NodeSource's Node.js 20 is past its end of life on
	// this day; Debian's Perl 5.36 and OpenSSL 3.0 are not: Debian LTS maintains them), 0 without it, 2 for a
	// document that is not an SBOM; SARIF on stdout.
	run := func(args ...string) (int, string, string) {
		cmd := exec.Command(srvBin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%v: %v", args, err)
		}
		return cmd.ProcessState.ExitCode(), out.String(), errb.String()
	}
	code, out, errs := run("sbom", "check", "--as-of", "2026-12-01", "--fail-on", "eol", "--format", "sarif", doc)
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
				Level  string `json:"level"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil || code != 1 || sarif.Version != "2.1.0" || len(sarif.Runs[0].Results) == 0 ||
		!strings.Contains(errs, "with a --fail-on status (eol)") {
		t.Fatalf("sbom check --fail-on eol --format sarif: exit %d, %v\nstderr: %s", code, err, errs)
	}
	if code, _, errs := run("sbom", "check", "--as-of", "2026-12-01", doc); code != 0 {
		t.Fatalf("sbom check without --fail-on: exit %d\n%s", code, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","purl":"pkg:deb/debian/a@1%zz"}]}`), 0o644)
	if code, _, errs := run("sbom", "check", bad); code != 2 || !strings.Contains(errs, "components[0].purl") {
		t.Fatalf("sbom check of a bad purl: exit %d\n%s", code, errs)
	}

	// The server, a ci token for the pipeline and a viewer token for a person.
	dir := t.TempDir()
	p := startServer(t, srvBin, dir)
	token := func(role string) string {
		b, err := exec.Command(srvBin, "token", "create", "--data-dir", dir, "--role", role, "--name", role).Output()
		if err != nil {
			t.Fatalf("token create --role %s: %v", role, err)
		}
		return strings.TrimSpace(string(b))
	}
	ci, viewer := token("ci"), token("viewer")

	body, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	name := "registry.example/debian12:2026-12-01"
	req, _ := http.NewRequest("POST", p.url+api.PathSBOMs+"?name="+url.QueryEscape(name)+"&label=team=platform", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ci)
	req.Header.Set("Content-Type", "application/vnd.cyclonedx+json")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res api.SBOMResult
	json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || res.AssetID == "" || res.Upload.Components != 894 || res.Upload.Matched < 15 {
		t.Fatalf("upload: %d %+v\n%s", resp.StatusCode, res, p.logText())
	}

	// The dashboard, as a person would see it.
	b := webtest.NewBrowser(t, p.url)
	b.Login(viewer)
	code, page := b.Get("/hosts?kind=asset")
	if code != 200 || !strings.Contains(page, name) || !strings.Contains(page, "1 asset match") {
		t.Fatalf("GET /hosts?kind=asset = %d; the asset %s is not listed:\n%s", code, name, page)
	}
	code, page = b.Get("/hosts/" + res.AssetID)
	for _, want := range []string{name, "SBOM uploads", "api:ci", "cyclonedx 1.7", "team=platform", `href="/products/python"`, `href="/products/perl"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("GET /hosts/%s = %d; the asset page lacks %q", res.AssetID, code, want)
		}
	}
	if code, page = b.Get("/"); code != 200 || !strings.Contains(page, "assets (images and artefacts, from SBOMs)") {
		t.Errorf("GET / = %d; the overview does not count the asset", code)
	}
}

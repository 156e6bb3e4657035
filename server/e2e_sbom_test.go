package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/catalog"
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
		b, err := exec.Command(srvBin, "token", "create", "--data-dir", dir, "--role", role, "--name", role+" token of the e2e test").Output()
		if err != nil {
			t.Fatalf("token create --role %s: %v", role, err)
		}
		return strings.TrimSpace(string(b))
	}
	ci, viewer := token("ci"), token("viewer")

	// The pipeline of docs/sbom.md, run verbatim by bash (steps 2 and 3:
	// syft's step 1 is replaced by syft's output checked into testdata),
	// with the server's URL for eolwatch.example: the gate fails on
	// NodeSource's Node.js 20, and curl registers the image.
	runDocsPipeline(t, srvBin, p.url, ci, doc)
	var list api.HostList
	if err := getWithToken(p.url+"/api/v1/hosts?kind=asset", viewer, &list); err != nil || len(list.Hosts) != 1 ||
		list.Hosts[0].Hostname != "registry.example/app:1.4" || list.Hosts[0].Labels["team"] != "payments" {
		t.Fatalf("after the docs' pipeline: %+v, %v", list, err)
	}

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
	b.Login(t, viewer)
	code, page := b.Get(t, "/hosts?kind=asset")
	if code != 200 || !strings.Contains(page, name) || !strings.Contains(page, "2 assets match") {
		t.Fatalf("GET /hosts?kind=asset = %d; the asset %s is not listed:\n%s", code, name, page)
	}
	code, page = b.Get(t, "/hosts/"+res.AssetID)
	for _, want := range []string{name, "SBOM uploads", "ci token of the e2e test", "cyclonedx 1.7", "team=platform", `href="/products/python"`, `href="/products/perl"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("GET /hosts/%s = %d; the asset page lacks %q", res.AssetID, code, want)
		}
	}
	if code, page = b.Get(t, "/"); code != 200 || !strings.Contains(page, "assets (images and artefacts, from SBOMs)") {
		t.Errorf("GET / = %d; the overview does not count the asset", code)
	}

	// An admin deletes the asset from its page; it is gone from the API.
	adm := webtest.NewBrowser(t, p.url)
	adm.Login(t, token("admin"))
	if resp, _ := adm.Post(t, "/hosts/"+res.AssetID+"/delete", url.Values{"csrf": {adm.CSRF(t, "/hosts/"+res.AssetID)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /hosts/%s/delete = %d", res.AssetID, resp.StatusCode)
	}
	if code, page = adm.Get(t, "/hosts?kind=asset&done=delete"); !strings.Contains(page, "The asset was deleted") || strings.Contains(page, name) ||
		!strings.Contains(page, "1 asset match") {
		t.Errorf("GET /hosts?kind=asset after the delete = %d:\n%s", code, page)
	}
	var d api.HostDetail
	if err := getWithToken(p.url+"/api/v1/hosts/"+res.AssetID, viewer, &d); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("GET the deleted asset: %v", err)
	}
}

// runDocsPipeline runs the shell example under "## A pipeline" in
// docs/sbom.md with bash -eo pipefail, as written, in a directory holding doc as
// sbom.cdx.json: the syft line is left out, eolwatch-server is srvBin, and
// https://eolwatch.example is url. It wants exit status 1 (a component
// with a --fail-on status), SARIF in eolwatch.sarif, and curl's answer
// saying the asset was created.
func runDocsPipeline(t *testing.T, srvBin, url, ciToken, doc string) {
	t.Helper()
	bash, curl := needTool(t, "bash"), needTool(t, "curl")
	md, err := os.ReadFile(filepath.Join("..", "docs", "sbom.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(md), "\n## A pipeline\n")
	_, rest, ok2 := strings.Cut(rest, "```sh\n")
	block, _, ok3 := strings.Cut(rest, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("docs/sbom.md has no sh block under \"## A pipeline\"")
	}
	var script []string
	for _, l := range strings.Split(block, "\n") {
		if strings.HasPrefix(l, "syft ") {
			continue
		}
		script = append(script, strings.ReplaceAll(l, "https://eolwatch.example", url))
	}
	if !strings.Contains(block, "eolwatch-server sbom check") || !strings.Contains(block, "curl ") {
		t.Fatalf("the pipeline example lost its steps:\n%s", block)
	}
	dir := t.TempDir()
	raw := readGzip(t, doc)
	if err := os.WriteFile(filepath.Join(dir, "sbom.cdx.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	// as CI runners' shells run scripts: stop at the first failing command
	cmd := exec.Command(bash, "-eo", "pipefail", "-c", strings.Join(script, "\n"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EOLWATCH_CI_TOKEN="+ciToken,
		"PATH="+filepath.Dir(srvBin)+string(os.PathListSeparator)+filepath.Dir(curl)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("the docs' pipeline: %v, want exit status 1\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), `"created":true`) || !strings.Contains(errb.String(), "with a --fail-on status (eol,patch-overdue)") {
		t.Fatalf("the docs' pipeline did not gate and upload:\nstdout: %s\nstderr: %s", out.String(), errb.String())
	}
	var sarif struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(dir, "eolwatch.sarif")); err != nil || json.Unmarshal(b, &sarif) != nil || sarif.Version != "2.1.0" {
		t.Fatalf("eolwatch.sarif: %v %.200s", err, b)
	}
}

// readGzip returns the decompressed content of a gzip file.
func readGzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// getWithToken GETs url with a bearer token and decodes the JSON answer into v.
func getWithToken(url, token string, v any) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// needTool returns the path of a tool, skipping the test when it is
// missing (it fails instead under CI=true, where `make deps` installed it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (run make deps)", name)
		}
		t.Skipf("%s not found: run make deps", name)
	}
	return p
}

// TestEndToEndAssetOSAgreesWithAgent: the agent on this machine's dpkg
// database (the one syft scanned, re-rooted, with this machine's real apt
// lists and configuration) and syft's SBOMs of the same database, uploaded
// as assets, give the same OS through the real server: product, cycle,
// point release (the agent reads /etc/debian_version, the asset base-files
// 12.4+deb12u11: 12.11), maintainer (Debian: the agent's base-files has a
// candidate from Debian's archive, the SBOM's purl names Debian) and
// support. Only the patch status may differ: the agent
// knows base-files' candidate, an SBOM does not (unknown, not counted).
// `sbom check` says the same of the OS.
func TestEndToEndAssetOSAgreesWithAgent(t *testing.T) {
	needDebianHost(t)
	if osr, _ := os.ReadFile("/etc/os-release"); !strings.Contains(string(osr), "VERSION_CODENAME=bookworm") {
		t.Skip("this machine's apt lists are not Debian 12's (bookworm), the release of the SBOMs in testdata")
	}
	e := startDistroEnv(t)
	root := t.TempDir()
	for p, data := range map[string][]byte{
		"var/lib/dpkg/status": readGzip(t, filepath.Join("sbom", "testdata", "debian12", "status.gz")),
		"etc/os-release":      mustRead(t, filepath.Join("sbom", "testdata", "debian12", "os-release")),
		"etc/debian_version":  mustRead(t, filepath.Join("sbom", "testdata", "debian12", "debian_version")),
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"etc/apt", "var/lib/apt/lists"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/"+p, filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	e.agentOnce(t, "--root", root)
	host := e.hostByOS(t, "debian")
	hostOS, ok := verdictFor(host, "debian")
	if !ok {
		t.Fatalf("the agent's host has no OS verdict: %+v", host.Verdicts)
	}
	if hostOS.Maintainer != "debian" || hostOS.Version != "12.11" || hostOS.Candidate == "" {
		t.Fatalf("the agent's OS: %s %s by %s, base-files candidate %q; want Debian 12.11 by Debian, its base-files with a candidate from this machine's lists: %s",
			hostOS.Product, hostOS.Version, hostOS.Maintainer, hostOS.Candidate, hostOS.Reason)
	}

	for _, file := range []string{"debian12-dpkg.cdx17.json.gz", "debian12-dpkg.spdx23.json.gz"} {
		t.Run(file, func(t *testing.T) {
			doc := filepath.Join("sbom", "testdata", "syft", file)
			req, _ := http.NewRequest("POST", e.p.url+api.PathSBOMs+"?name="+url.QueryEscape("registry.example/"+file), bytes.NewReader(mustRead(t, doc)))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var res api.SBOMResult
			if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &res) != nil {
				t.Fatalf("upload: %d %s", resp.StatusCode, b)
			}
			var asset api.HostDetail
			e.get(t, "/api/v1/hosts/"+res.AssetID, &asset)
			assetOS, ok := verdictFor(asset, "debian")
			if !ok {
				t.Fatalf("the asset has no OS verdict: %+v", asset.Verdicts)
			}
			got := []string{assetOS.Product, assetOS.Cycle, assetOS.Version, asset.Info.OSVersion, assetOS.Maintainer, assetOS.MaintainerRelease, assetOS.Support}
			want := []string{hostOS.Product, hostOS.Cycle, hostOS.Version, host.Info.OSVersion, hostOS.Maintainer, hostOS.MaintainerRelease, hostOS.Support}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("asset OS product/cycle/version/os_version/maintainer/release/support = %q,\nthe agent's %q\nasset: %s\nagent: %s", got, want, assetOS.Reason, hostOS.Reason)
			}
			if !strings.Contains(assetOS.Reason, "its base-files 12.4+deb12u11 is Debian 12.11") {
				t.Errorf("asset OS reason %q does not name its base-files", assetOS.Reason)
			}
			if assetOS.Patch != catalog.PatchUnknown || assetOS.Candidate != "" || assetOS.UpgradeTo != "" {
				t.Errorf("asset OS patch %s candidate %q upgrade_to %q, want unknown with none (an SBOM names no candidate): %s", assetOS.Patch, assetOS.Candidate, assetOS.UpgradeTo, assetOS.Reason)
			}
		})
	}

	// sbom check of the same document says the same of the OS.
	out, err := exec.Command(e.srvBin, "sbom", "check", filepath.Join("sbom", "testdata", "syft", "debian12-dpkg.cdx17.json.gz")).Output()
	if err != nil {
		t.Fatalf("sbom check: %v", err)
	}
	var osLine catalog.Verdict
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var v catalog.Verdict
		if json.Unmarshal([]byte(l), &v) == nil && v.Product == "debian" {
			osLine = v
		}
	}
	if osLine.Version != hostOS.Version || osLine.Cycle != hostOS.Cycle || osLine.Maintainer != hostOS.Maintainer || osLine.Patch != catalog.PatchUnknown {
		t.Errorf("sbom check's OS line: %s %s (cycle %s) by %s, patch %s; the agent's %s %s by %s",
			osLine.Product, osLine.Version, osLine.Cycle, osLine.Maintainer, osLine.Patch, hostOS.Product, hostOS.Version, hostOS.Maintainer)
	}
}

// mustRead returns a file's content.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

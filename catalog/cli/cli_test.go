package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the test binary act as the command (EOLWATCH_CLI_MAIN=1),
// so the end-to-end test runs a real process with real pipes.
func TestMain(m *testing.M) {
	if os.Getenv("EOLWATCH_CLI_MAIN") == "1" {
		err := Main(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		if err != nil {
			os.Stderr.WriteString("eolwatch-server: " + err.Error() + "\n")
			var ue *UsageError
			if errors.As(err, &ue) {
				os.Exit(2)
			}
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errw bytes.Buffer
	err := Main(context.Background(), args, strings.NewReader(stdin), &out, &errw)
	return out.String(), errw.String(), err
}

// TestEvaluateContract checks the JSON-lines contract of design.md: one
// object per input line, in order, malformed lines reported in place.
func TestEvaluateContract(t *testing.T) {
	in := strings.Join([]string{
		`{"product":"python","version":"3.8.10","as_of":"2025-01-12"}`,
		`not json`,
		`{"product":"python"}`,
		``,
		`{"product":"python","version":"3.12.7","as_of":"2024-13-01"}`,
		`{"product":"nope","version":"1.0","as_of":"2025-01-12"}`,
		`{"product":"python","version":"3.13.1","extra":"ignored"}`,
		`{"product":"python","version":"3.13.1"} {"x":1}`,
		`{"product":"python","version":3.8}`,
	}, "\n")
	out, _, err := run(t, in, "evaluate", "--as-of", "2025-01-12")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("got %d output lines, want 8 (blank input skipped):\n%s", len(lines), out)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"product": "python", "version": "3.8.10", "as_of": "2025-01-12", "support": "eol", "status": "eol",
		"cycle": "3.8", "eol": "2024-10-07", "upgrade_to": "3.9.21", "phase": "eol", "patch": "overdue", "latest": "3.8.20", "newest": "3.13.1",
		"reason": "Python 3.8 reached end of life on 2024-10-07; upgrade to 3.9.21 or later.", "maintainer": "upstream", "catalog_date": "2026-08-22"} {
		if first[k] != want {
			t.Errorf("line 1 %s = %#v, want %#v", k, first[k], want)
		}
	}
	if w, ok := first["warnings"].([]any); !ok || len(w) != 0 {
		t.Errorf("line 1 warnings = %#v, want []", first["warnings"])
	}
	if first["days_to_eol"] != float64(-97) {
		t.Errorf("line 1 days_to_eol = %v, want -97", first["days_to_eol"])
	}
	errLines := map[int]string{2: "invalid JSON", 3: `missing "version"`, 5: "as_of", 8: "more than one value"}
	for i, l := range lines[1:4] {
		var e struct {
			Line  int    `json:"line"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if want, ok := errLines[e.Line]; !ok || !strings.Contains(e.Error, want) {
			t.Errorf("output %d = %s, want an error for an input line among %v", i+2, l, errLines)
		}
	}
	if !strings.Contains(lines[4], `"support":"unknown-product"`) || !strings.Contains(lines[4], `"as_of":"2025-01-12"`) {
		t.Errorf("unknown product line = %s", lines[4])
	}
	if !strings.Contains(lines[5], `"version":"3.13.1"`) || !strings.Contains(lines[5], `"as_of":"2025-01-12"`) {
		t.Errorf("default as_of line = %s", lines[5])
	}
	if !strings.Contains(lines[6], `"line":8`) {
		t.Errorf("two values on a line = %s", lines[6])
	}
	if want := `{"line":9,"error":"\"version\" must be a string, not a JSON number"}`; lines[7] != want {
		t.Errorf("number version = %s, want %s", lines[7], want)
	}
}

// TestEvaluateCatalogFlags checks --catalog with the own format, the
// endoflife.date extract with releases, and --with-default.
func TestEvaluateCatalogFlags(t *testing.T) {
	vendor := filepath.Join("..", "testdata", "vendor-acme.yaml")
	out, _, err := run(t, `{"product":"acme-reporting","version":"2022 SU2","as_of":"2024-01-10"}`+"\n"+`{"product":"python","version":"3.8.10","as_of":"2025-01-12"}`, "evaluate", "--catalog", vendor)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"cycle":"2022","latest":"2022 SU3"`) || !strings.Contains(out, `"status":"patch-overdue"`) || !strings.Contains(out, `"support":"unknown-product"`) {
		t.Errorf("vendor catalog output:\n%s", out)
	}
	out, _, err = run(t, `{"product":"python","version":"3.8.10","as_of":"2025-01-12"}`, "evaluate", "--catalog", vendor, "--with-default")
	if err != nil || !strings.Contains(out, `"cycle":"3.8"`) {
		t.Errorf("--with-default output %s, err %v", out, err)
	}
	extract := []string{filepath.Join("..", "testdata", "extract-products.json"), filepath.Join("..", "testdata", "extract-releases.json")}
	out, _, err = run(t, `{"product":"python","version":"3.10.11","as_of":"2023-06-01"}`+"\n"+`{"product":"python","version":"3.10.11","as_of":"2023-08-01"}`,
		"evaluate", "--catalog", extract[0], "--catalog", extract[1])
	if err != nil || !strings.Contains(out, `"patch":"current","status":"current","cycle":"3.10","latest":"3.10.11"`) ||
		!strings.Contains(out, `"patch":"overdue","status":"patch-overdue","cycle":"3.10","latest":"3.10.12"`) {
		t.Errorf("extract output %s, err %v", out, err)
	}
	if _, _, err := run(t, "", "evaluate", "--catalog", "no-such-file.yaml"); err == nil {
		t.Error("evaluate with a missing catalog file = ok, want an error")
	}
	for _, args := range [][]string{{"evaluate", "--as-of", "yesterday"}, {"evaluate", "--bogus"}, {"evaluate", "extra"}, {"nope"}, {}} {
		_, _, err := run(t, "", args...)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("Main(%q) error = %v, want a usage error", args, err)
		}
	}
}

// TestValidateInfoShow checks the other subcommands.
func TestValidateInfoShow(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("products:\n  - id: acme\n    cycles:\n      - {name: '1.0', eol: 2024-02-30}\n"), 0o644)
	good := filepath.Join("..", "testdata", "vendor-acme.yaml")
	out, _, err := run(t, "", "validate", good, bad)
	if err == nil {
		t.Error("validate with a bad file = ok, want an error")
	}
	if !strings.Contains(out, "ok   "+good+": 2 products, 6 cycles") || !strings.Contains(out, `FAIL bad.yaml:4: product "acme": cycle "1.0": field eol: bad date "2024-02-30"`) {
		t.Errorf("validate output:\n%s", out)
	}
	if out, _, err := run(t, "", "validate", good); err != nil || !strings.HasPrefix(out, "ok") {
		t.Errorf("validate good = %q, %v", out, err)
	}
	out, _, err = run(t, "", "info")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"commit:    a70eca337600e7d721dc48112c271f98661d208b", "license:", "MIT", "products:  464", "cycles:    8351", "version:"} {
		if !strings.Contains(out, want) {
			t.Errorf("info output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, "", "info", "--json", "--license")
	if err != nil || !strings.Contains(out, `"commit": "a70eca337600e7d721dc48112c271f98661d208b"`) {
		t.Errorf("info --json = %s, %v", out, err)
	}
	out, _, err = run(t, "", "show", "python", "--as-of", "2025-01-12")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Python (python)", "status as of 2025-01-12", "CYCLE", "3.8 ", "2024-10-07", "eol", "3.13", "active", "3.9.21"} {
		if !strings.Contains(out, want) {
			t.Errorf("show python lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, "", "show", "--json", "--as-of", "2025-01-12", "python")
	if err != nil || !strings.Contains(out, `"cycle": "3.8"`) || !strings.Contains(out, `"status": "eol"`) {
		t.Errorf("show --json = %s, %v", out, err)
	}
	if _, _, err := run(t, "", "show", "no-such-product"); err == nil {
		t.Error("show unknown product = ok, want an error")
	}
}

// TestEvaluateProcess runs the command as a real process, the acceptance
// example of issue 2 through real stdin and stdout pipes.
func TestEvaluateProcess(t *testing.T) {
	cmd := exec.Command(os.Args[0], "evaluate")
	cmd.Env = append(os.Environ(), "EOLWATCH_CLI_MAIN=1")
	cmd.Stdin = strings.NewReader(`{"product":"python","version":"3.8.10","as_of":"2025-01-12"}` + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("evaluate process: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if v["support"] != "eol" || v["cycle"] != "3.8" || !strings.Contains(v["reason"].(string), "end of life") {
		t.Errorf("acceptance verdict = %s", out)
	}
	cmd = exec.Command(os.Args[0], "evaluate", "--as-of", "nonsense")
	cmd.Env = append(os.Environ(), "EOLWATCH_CLI_MAIN=1")
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("bad flag exit = %v, want status 2", err)
	}
}

// TestEvaluatePolicyFlags checks that every policy flag changes verdicts.
func TestEvaluatePolicyFlags(t *testing.T) {
	const debian = `{"product":"debian","version":"12.15","as_of":"2026-12-01"}`
	const ubuntu = `{"product":"ubuntu","version":"20.04.6","as_of":"2026-12-01"}`
	const overdue = `{"product":"python","version":"3.12.3","as_of":"2024-07-20"}` // 3.12.4 appeared on 2024-06-06: 44 days
	const soon = `{"product":"python","version":"3.8.20","as_of":"2024-06-01"}`    // 3.8 ends on 2024-10-07: 128 days
	tests := []struct {
		name, line string
		flags      []string
		want       string
	}{
		{"default: Debian LTS counts", debian, nil, `"support":"supported","phase":"extended"`},
		{"--extended-support none", debian, []string{"--extended-support", "none"}, `"support":"eol","phase":"extended"`},
		{"--extended-support-for debian=none", debian, []string{"--extended-support-for", "debian=none"}, `"support":"eol","phase":"extended"`},
		{"default: Ubuntu ESM is paid", ubuntu, nil, `"support":"eol","phase":"extended"`},
		{"--extended-support all", ubuntu, []string{"--extended-support", "all"}, `"support":"supported","phase":"extended"`},
		{"--extended-support-for ubuntu=all", ubuntu, []string{"--extended-support-for", "ubuntu=all", "--extended-support-for", "debian=none"}, `"support":"supported","phase":"extended"`},
		{"--extended-support-for Ubuntu=all,debian=none (as serve reads it)", ubuntu, []string{"--extended-support-for", "Ubuntu=all,debian=none"}, `"support":"supported","phase":"extended"`},
		{"default grace: overdue", overdue, nil, `"status":"patch-overdue"`},
		{"--grace-days 60", overdue, []string{"--grace-days", "60"}, `"status":"patch-available"`},
		{"default warning window: not yet", soon, nil, `"status":"current"`},
		{"--warn-days 150", soon, []string{"--warn-days", "150"}, `"status":"eol-soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, tt.line, append([]string{"evaluate"}, tt.flags...)...)
			if err != nil || !strings.Contains(out, tt.want) {
				t.Errorf("evaluate %q = %s, %v; want %s", tt.flags, out, err, tt.want)
			}
		})
	}
	for _, args := range [][]string{{"--extended-support", "paid"}, {"--extended-support-for", "ubuntu"}, {"--extended-support-for", "ubuntu=some"}, {"--extended-support-for", "=all"}} {
		_, _, err := run(t, "", append([]string{"evaluate"}, args...)...)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("evaluate %q error = %v, want a usage error", args, err)
		}
	}
}

// TestEvaluateDistroLines checks input lines carrying a distribution's
// context, and the errors that name a bad field.
func TestEvaluateDistroLines(t *testing.T) {
	in := strings.Join([]string{
		`{"product":"perl","version":"5.36.0","as_of":"2026-12-01","distro":"debian","distro_version":"12","installed":"5.36.0-7+deb12u2","candidate":"5.36.0-7+deb12u3","candidate_seen":"2026-10-01"}`,
		`{"product":"perl","version":"5.30.0","as_of":"2026-12-01","distro":"ubuntu","distro_version":"20.04","installed":"5.30.0-9ubuntu0.5","candidate":"5.30.0-9ubuntu0.5","enrolled":["esm-infra"]}`,
		`{"product":"perl","version":"5.36.0","distro":"debian","installed":"5.36.0-7"}`,
		`{"product":"perl","version":"5.36.0","installed":"5.36.0-7"}`,
		`{"product":"perl","version":"5.36.0","distro":"debian","distro_version":"12","candidate_seen":"last week"}`,
		`{"product":"perl","version":"5.36.0","distro":"debian","distro_version":"12","enrolled":"esm-infra"}`,
	}, "\n")
	out, _, err := run(t, in, "evaluate")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines:\n%s", len(lines), out)
	}
	for i, want := range []string{
		`"status":"patch-overdue"`,
		`"support":"supported","phase":"extended"`,
		`{"line":3,"error":"\"distro\" needs \"distro_version\"`,
		`{"line":4,"error":"\"distro_version\", \"installed\", \"candidate\" and \"candidate_seen\" need \"distro\"`,
		`{"line":5,"error":"candidate_seen: bad time \"last week\"`,
		`{"line":6,"error":"\"enrolled\" must be a list of strings, not a JSON string"}`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s, want %s", i+1, lines[i], want)
		}
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	up, _ := first["upstream"].(map[string]any)
	if first["maintainer"] != "debian" || first["maintainer_release"] != "12" || first["upgrade_to"] != "5.36.0-7+deb12u3" ||
		first["catalog_date"] != "2026-08-22" || first["as_of"] != "2026-12-01" || up == nil || up["support"] != "eol" {
		t.Errorf("distro verdict = %s", lines[0])
	}
	if w, _ := first["warnings"].([]any); len(w) != 1 || !strings.Contains(w[0].(string), "catalog data is 101 days old") {
		t.Errorf("warnings = %v", first["warnings"])
	}
}

// TestSubcommandHelp checks that -h prints a subcommand's flags and runs
// nothing: evaluate does not read stdin, info does not print the catalog,
// show does not complain about a missing product.
func TestSubcommandHelp(t *testing.T) {
	for _, sub := range []string{"evaluate", "validate", "info", "show"} {
		for _, h := range []string{"-h", "--help"} {
			t.Run(sub+" "+h, func(t *testing.T) {
				out, errw, err := run(t, `{"product":"python","version":"3.8.10"}`+"\n", sub, h)
				if err != nil || out != "" || !strings.Contains(errw, "Usage of catalog "+sub) {
					t.Errorf("catalog %s %s = out %q, err %v, stderr %q; want the flags on stderr and nothing run", sub, h, out, err, errw)
				}
			})
		}
	}
}

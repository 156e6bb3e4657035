package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/server/match"
)

// runCmd runs eolwatch-server with args and stdin, returning stdout and the error.
func runCmd(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Main(context.Background(), args, Stdio{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return out.String(), err
}

const dpkgLines = "nginx\t1.22.1-9+deb12u1\tnginx\nlibssl3\t3.0.19-1~deb12u2\topenssl\nbash\t5.2.15-2+b8\tbash\nvim-haproxy\t2.6.12-1\thaproxy\n"

func TestMatchCoverageTable(t *testing.T) {
	out, err := runCmd(t, dpkgLines, "match", "coverage", "--as-of", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"items: 4, matched: 2 (50.0%)", "  nginx ", "1 item(s): nginx", "unmatched:\n  bash vim-haproxy"} {
		if !strings.Contains(out, want) {
			t.Errorf("coverage table lacks %q:\n%s", want, out)
		}
	}
}

func TestMatchCoverageJSONL(t *testing.T) {
	out, err := runCmd(t, dpkgLines, "match", "coverage", "--format", "jsonl", "--as-of", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("coverage --format jsonl wrote %d lines, want one per input item (4):\n%s", len(lines), out)
	}
	want := []match.Line{
		{Source: "dpkg", Name: "nginx", Version: "1.22.1-9+deb12u1", SourcePkg: "nginx", Product: "nginx", ProductVersion: "1.22.1", Cycle: "1.22", Rule: "rule nginx"},
		{Source: "dpkg", Name: "libssl3", Version: "3.0.19-1~deb12u2", SourcePkg: "openssl", Product: "openssl", ProductVersion: "3.0.19", Cycle: "3.0", Rule: "rule openssl library"},
		{Source: "dpkg", Name: "bash", Version: "5.2.15-2+b8", SourcePkg: "bash"},
		{Source: "dpkg", Name: "vim-haproxy", Version: "2.6.12-1", SourcePkg: "haproxy"},
	}
	for i, l := range lines {
		var got match.Line
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if got != want[i] {
			t.Errorf("line %d = %+v, want %+v", i+1, got, want[i])
		}
	}
	// Unmatched items still say "product": "" so two runs diff line by line.
	if !strings.Contains(lines[2], `"product":""`) {
		t.Errorf("unmatched line %s lacks an empty product", lines[2])
	}
}

func TestMatchCoverageInputFormats(t *testing.T) {
	tests := []struct {
		name, input, in, want string
	}{
		{"apt Packages stanzas", "auto", "Package: tshark\nVersion: 4.0.17-0+deb12u3\nSource: wireshark\nSection: net\nDescription: network traffic analyzer - console version\n\nPackage: wireshark-gtk\nVersion: 4.0.6-1~deb12u1\nSource: wireshark\nDescription: transitional dummy package\n",
			"wireshark                4.0.17"},
		{"rpm NEVRA with vendor", "rpm", "httpd-2.4.57-5.el9.x86_64\tRed Hat, Inc.\thttpd-2.4.57-5.el9.src.rpm\n", "apache-http-server       2.4.57"},
		{"APKINDEX", "auto", "P:nginx\nV:1.24.0-r7\no:nginx\n", "nginx                    1.24.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runCmd(t, tt.in, "match", "coverage", "--input", tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("coverage --input %s lacks %q:\n%s", tt.input, tt.want, out)
			}
		})
	}
	// The input format is not guessed when given: dpkg-query lines read as rpm are an error naming the line.
	if _, err := runCmd(t, dpkgLines, "match", "coverage", "--input", "rpm"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("dpkg lines read as rpm: %v, want an error naming line 1", err)
	}
}

func TestMatchReview(t *testing.T) {
	cov, err := runCmd(t, dpkgLines+"nginx-core\t1.22.1-9+deb12u1\tnginx\nnginx\t1.22.1-9+deb12u2\tnginx\n", "match", "coverage", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, cov, "match", "review")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"6 rows, 4 claimed (66.67%): 3 package names for 2 products",
		"nginx: 2 name(s), 3 row(s); versions 1.22.1",
		"  rule nginx (2): nginx nginx-core",
		"openssl: 1 name(s), 1 row(s); versions 3.0.19",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("review lacks %q:\n%s", want, out)
		}
	}
	// --max-names shortens each rule's list.
	out, err = runCmd(t, cov, "match", "review", "--max-names", "1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "  rule nginx (2): nginx ... and 1 more") {
		t.Errorf("review --max-names 1 lacks the shortened list:\n%s", out)
	}
	if _, err := runCmd(t, "not json\n", "match", "review"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("review of bad input: %v, want an error naming line 1", err)
	}
}

func TestMatchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"bad format", `--format "xml"`, []string{"match", "coverage", "--format", "xml"}},
		{"bad input", `--input "csv"`, []string{"match", "coverage", "--input", "csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCmd(t, "", tc.args...)
			if err == nil || ExitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: error %v (exit %d), want a usage error containing %q", tc.args, err, ExitCode(err), tc.want)
			}
		})
	}
}

// TestMatchExplainAndFlags runs match explain, rules and coverage with the
// flags they share, each changing what is printed: --source-pkg and
// --publisher feed the item, --rules adds user rules (MATCH_FLAGS passes it
// through make match-review), --catalog adds products, --json and --all
// change the output, --as-of the verdict.
func TestMatchExplainAndFlags(t *testing.T) {
	dir := t.TempDir()
	rules := dir + "/rules.yaml"
	cat := dir + "/acme.json"
	writeFile(t, rules, `rules:
  - id: acme sieve
    name: acme-sieve
    product: pigeonhole
    version_pattern: '2\.3\.(\d+).*'
    version: "0.5.${v1}"
    why: our own Sieve build
  - id: acme erp
    name: acme-erp
    product: acme-erp
    why: our ERP
  - id: acme crm
    name: acme-crm
    product: acme-erp
`)
	writeFile(t, cat, `{"format": "eolwatch-catalog/v1", "source": "test", "products": [
 {"id": "acme-erp", "label": "ACME ERP", "category": "app",
  "cycles": [{"name": "3", "release": "2024-01-10", "eol": "2026-06-30", "latest": "3.4.1"}]}]}`)

	// --source-pkg feeds the item; the version read from Dovecot's is explained.
	out, err := runCmd(t, "", "match", "explain", "dpkg", "dovecot-sieve", "1:2.3.19.1+dfsg1-2.1+deb12u7", "--source-pkg", "dovecot", "--as-of", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`(source package dovecot)`, "match:   pigeonhole 0.5.19 (rule pigeonhole with dovecot 2.3)", "read from 2.3.19.1", "verdict: "} {
		if !strings.Contains(out, want) {
			t.Errorf("explain dovecot-sieve lacks %q:\n%s", want, out)
		}
	}
	// A rule without why prints no empty "why:" line.
	out, err = runCmd(t, "", "match", "explain", "dpkg", "acme-crm", "3.4.1", "--rules", rules, "--catalog", cat)
	if err != nil || !strings.Contains(out, "match:   acme-erp 3.4.1 (rule acme crm)") || strings.Contains(out, "why:") {
		t.Errorf("explain acme-crm = %v, want a match and no why line:\n%s", err, out)
	}
	// Without --source-pkg, a PHP extension is not known for one.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"match", "explain", "dpkg", "php8.2-mysql", "8.2.26-1~deb12u1"}, "match:   none"},
		{[]string{"match", "explain", "dpkg", "php8.2-mysql", "8.2.26-1~deb12u1", "--source-pkg", "php8.2"}, "match:   php 8.2.26 (rule php)"},
	} {
		t.Run(strings.Join(tc.args[3:], " "), func(t *testing.T) {
			out, err := runCmd(t, "", tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("%v lacks %q:\n%s", tc.args, tc.want, out)
			}
		})
	}
	// --as-of: the day of the verdict (Python 3.11 ends in October 2027).
	for _, tc := range []struct{ day, want string }{{"2024-01-15", "verdict: patch-overdue"}, {"2028-01-15", "verdict: eol"}} {
		t.Run(tc.day, func(t *testing.T) {
			out, err := runCmd(t, "", "match", "explain", "dpkg", "python3.11", "3.11.2-6+deb12u6", "--source-pkg", "python3.11", "--as-of", tc.day)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("explain python3.11 --as-of %s lacks %q:\n%s", tc.day, tc.want, out)
			}
		})
	}
	// --json: the same explanation as JSON, with the verdict.
	out, err = runCmd(t, "", "match", "explain", "dpkg", "dovecot-sieve", "1:2.3.19.1+dfsg1-2.1+deb12u7", "--source-pkg", "dovecot", "--json", "--as-of", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Matched bool   `json:"matched"`
		Product string `json:"product"`
		Version string `json:"version"`
		Verdict *struct {
			Cycle string `json:"cycle"`
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || !e.Matched || e.Product != "pigeonhole" || e.Version != "0.5.19" || e.Verdict == nil || e.Verdict.Cycle != "0.5" {
		t.Errorf("explain --json = %+v (%v), want pigeonhole 0.5.19 in cycle 0.5:\n%s", e, err, out)
	}
	// --publisher narrows a Windows rule.
	for _, tc := range []struct{ publisher string }{{"Ivanti"}, {"Someone Else"}} {
		t.Run(tc.publisher, func(t *testing.T) {
			out, err = runCmd(t, "", "match", "explain", "windows-registry", "Ivanti Endpoint Manager Agent", "11.0.5.361", "--publisher", tc.publisher)
			if err != nil {
				t.Fatal(err)
			}
			if tc.publisher == "Ivanti" && !strings.Contains(out, "no product") {
				t.Errorf("explain with publisher Ivanti should reach the Ivanti rule (skipped: no product):\n%s", out)
			}
			if tc.publisher != "Ivanti" && strings.Contains(out, "no product") {
				t.Errorf("explain with another publisher reached the Ivanti rule:\n%s", out)
			}
		})
	}
	// --rules and --catalog: user rules claim items, a catalog file adds their product.
	in := "acme-sieve\t2.3.21-1\tacme-sieve\nacme-erp\t3.2.0-1\tacme-erp\nbash\t5.2.15-2+b8\tbash\n"
	out, err = runCmd(t, in, "match", "coverage", "--format", "jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, `"product":"pigeonhole"`) || strings.Contains(out, `"product":"acme-erp"`) {
		t.Errorf("coverage without --rules claimed acme packages:\n%s", out)
	}
	out, err = runCmd(t, in, "match", "coverage", "--format", "jsonl", "--rules", rules, "--catalog", cat, "--as-of", "2026-01-15")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"acme-sieve","version":"2.3.21-1","source_pkg":"acme-sieve","product":"pigeonhole","product_version":"0.5.21","cycle":"0.5","rule":"rule acme sieve"`,
		`"product":"acme-erp","product_version":"3.2.0","cycle":"3","rule":"rule acme erp"`} {
		if !strings.Contains(out, want) {
			t.Errorf("coverage --rules --catalog lacks %s:\n%s", want, out)
		}
	}
	// Without the catalog file the acme-erp rule is skipped (no such product).
	out, err = runCmd(t, in, "match", "coverage", "--format", "jsonl", "--rules", rules)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, `"product":"acme-erp"`) || !strings.Contains(out, `"product":"pigeonhole"`) {
		t.Errorf("coverage --rules without --catalog:\n%s", out)
	}
	// --json: the coverage summary as JSON.
	out, err = runCmd(t, in, "match", "coverage", "--json", "--rules", rules)
	if err != nil {
		t.Fatal(err)
	}
	var cov match.Coverage
	if err := json.Unmarshal([]byte(out), &cov); err != nil || cov.Items != 3 || cov.Matched != 1 {
		t.Errorf("coverage --json = %+v (%v), want 3 items, 1 matched:\n%s", cov, err, out)
	}
	// --all lists every unmatched name, not only the first 50.
	var many strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&many, "acme-tool%02d\t1.0-1\tacme\n", i)
	}
	out, err = runCmd(t, many.String(), "match", "coverage")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "acme-tool59") {
		t.Errorf("coverage without --all lists the 60th unmatched name:\n%s", out)
	}
	out, err = runCmd(t, many.String(), "match", "coverage", "--all")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "acme-tool59") {
		t.Errorf("coverage --all lacks the 60th unmatched name:\n%s", out)
	}
	// match rules lists the user rules first, then the built-in table.
	out, err = runCmd(t, "", "match", "rules", "--rules", rules)
	if err != nil {
		t.Fatal(err)
	}
	if i, j := strings.Index(out, "acme sieve"), strings.Index(out, "pigeonhole with dovecot 2.3"); i < 0 || j < 0 || i > j {
		t.Errorf("match rules --rules: user rule at %d, built-in at %d, want the user rule first:\n%.2000s", i, j, out)
	}
	// A bad rules file is an error naming the file and the rule.
	writeFile(t, rules, "rules:\n  - id: bad\n    name: x\n    product: p\n    version: '${v1}'\n")
	if _, err := runCmd(t, "", "match", "rules", "--rules", rules); err == nil || !strings.Contains(err.Error(), "rules.yaml: rule 1") {
		t.Errorf("bad rules file: %v, want an error naming rules.yaml: rule 1", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMatchExplainHostContext: match explain judges a distribution's
// package as on a host (--distro and --distro-version) with where its
// installed version and candidate come from, as an agent reports them;
// each of those flags changes what is printed, shown by one pair of runs
// that differ by that flag alone (python3.11 as this machine's dpkg
// database has it, on 2026-12-01).
func TestMatchExplainHostContext(t *testing.T) {
	base := []string{"match", "explain", "dpkg", "python3.11", "3.11.2-6+deb12u6", "--source-pkg", "python3.11", "--as-of", "2026-12-01"}
	deb12 := []string{"--distro", "debian", "--distro-version", "12"}
	superseded := append(slices.Clone(deb12), "--origin", "none", "--candidate", "3.11.2-6+deb12u9")
	run := func(t *testing.T, extra []string) string {
		t.Helper()
		out, err := runCmd(t, "", append(slices.Clone(base), extra...)...)
		if err != nil {
			t.Fatalf("%v: %v", extra, err)
		}
		return out
	}
	for _, tc := range []struct {
		flag          string
		without, with []string
		before, after string // a line of the output without and with the flag
	}{
		{"distro", nil, deb12,
			"support: maintained by upstream, support supported, patch overdue", "support: maintained by debian 12, support supported, patch unknown"},
		{"distro-version", []string{"--distro", "debian", "--distro-version", "12"}, []string{"--distro", "debian", "--distro-version", "11"},
			"verdict: current (cycle 3.11)", "verdict: eol (cycle 3.11) — Python 3.11 is supported upstream until 2027-10-31; Debian 11 stopped maintaining it on 2026-08-31"},
		{"origin", deb12, append(slices.Clone(deb12), "--origin", "nodesource"),
			"judged:  by debian 12 — the installed version comes from debian 12's own archive (origin debian)",
			"judged:  upstream — origin nodesource is not debian's archive"},
		{"suite", deb12, append(slices.Clone(deb12), "--suite", "trixie"),
			"maintained by debian 12", "judged:  upstream — suite trixie is not debian 12's"},
		{"candidate", deb12, append(slices.Clone(deb12), "--candidate", "3.11.2-6+deb12u9"),
			"whether a newer package is available is unknown", "verdict: patch-available (cycle 3.11) — Python 3.11 is supported upstream until 2027-10-31; Debian 12 maintains it until 2028-06-30 (Debian LTS); 3.11.2-6+deb12u9 is available, install it by 2026-12-31."},
		{"candidate-origin", superseded, append(slices.Clone(superseded), "--candidate-origin", "nodesource"),
			"judged:  by debian 12 — no repository offers the installed version any more, but its candidate 3.11.2-6+deb12u9 comes from debian 12's own archive",
			"judged:  upstream — no repository offers the installed version and its candidate does not come from debian's archive (origin nodesource)"},
		{"candidate-suite", append(slices.Clone(superseded), "--candidate-suite", "bookworm-security"), append(slices.Clone(superseded), "--candidate-suite", "trixie-security"),
			"maintained by debian 12", "judged:  upstream — the candidate's suite trixie-security is not debian 12's"},
		{"candidate-seen", superseded, append(slices.Clone(superseded), "--candidate-seen", "2026-10-01"),
			"verdict: patch-available", "verdict: patch-overdue (cycle 3.11) — Python 3.11 is supported upstream until 2027-10-31; Debian 12 maintains it until 2028-06-30 (Debian LTS); 3.11.2-6+deb12u9 has been available since 2026-10-01, more than 30 days ago: install it."},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			without, with := run(t, tc.without), run(t, tc.with)
			if !strings.Contains(without, tc.before) || strings.Contains(with, tc.before) {
				t.Errorf("without --%s the output has %q, with it not:\nwithout:\n%s\nwith:\n%s", tc.flag, tc.before, without, with)
			}
			if !strings.Contains(with, tc.after) || strings.Contains(without, tc.after) {
				t.Errorf("with --%s the output has %q, without it not:\nwithout:\n%s\nwith:\n%s", tc.flag, tc.after, without, with)
			}
		})
	}
	// --json carries how it was judged.
	out := run(t, append(slices.Clone(superseded), "--candidate-seen", "2026-10-01", "--json"))
	var e struct {
		Context *struct {
			Host, JudgedBy, Why, Installed, Candidate, CandidateSeen string
		} `json:"context"`
		Verdict *struct {
			Status, Maintainer string
		} `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil || e.Context == nil || e.Verdict == nil {
		t.Fatalf("explain --json: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"judged_by": "debian 12"`) || !strings.Contains(out, `"candidate_seen": "2026-10-01"`) || e.Verdict.Status != "patch-overdue" || e.Verdict.Maintainer != "debian" {
		t.Errorf("explain --json context and verdict:\n%s", out)
	}
}

// TestMatchExplainHostContextBadInput: a bad host flag, or one that would
// change nothing, is a usage error naming the flag.
func TestMatchExplainHostContextBadInput(t *testing.T) {
	base := []string{"match", "explain", "dpkg", "python3.11", "3.11.2-6+deb12u6", "--as-of", "2026-12-01"}
	deb12 := []string{"--distro", "debian", "--distro-version", "12"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown distro", []string{"--distro", "plan9", "--distro-version", "4"}, `--distro "plan9": want a distribution whose archive eolwatch knows`},
		{"not a distribution", []string{"--distro", "windows", "--distro-version", "11"}, `--distro "windows"`},
		{"distro without version", []string{"--distro", "debian"}, "--distro-version is required with --distro"},
		{"unknown release", []string{"--distro", "debian", "--distro-version", "99"}, `--distro-version "99": debian has no such release in the catalog`},
		{"version without distro", []string{"--distro-version", "12"}, "--distro-version needs --distro"},
		{"candidate without distro", []string{"--candidate", "3.11.2-6+deb12u9"}, "--candidate needs --distro"},
		{"origin without distro", []string{"--origin", "debian"}, "--origin needs --distro"},
		{"empty origin", append(slices.Clone(deb12), "--origin", ""), `--origin "": want a repository origin`},
		{"origin with a control character", append(slices.Clone(deb12), "--origin", "deb\x1bian"), `--origin "deb\x1bian"`},
		{"suite with a space", append(slices.Clone(deb12), "--suite", "bookworm security"), `--suite "bookworm security": want one suite`},
		{"bad candidate", append(slices.Clone(deb12), "--candidate", "latest"), `--candidate "latest" is not a package version`},
		{"candidate origin without candidate", append(slices.Clone(deb12), "--candidate-origin", "debian"), "--candidate-origin needs --candidate"},
		{"candidate suite without candidate", append(slices.Clone(deb12), "--candidate-suite", "bookworm"), "--candidate-suite needs --candidate"},
		{"candidate seen without candidate", append(slices.Clone(deb12), "--candidate-seen", "2026-10-01"), "--candidate-seen needs --candidate"},
		{"candidate seen of an up-to-date package", append(slices.Clone(deb12), "--candidate", "3.11.2-6+deb12u6", "--candidate-seen", "2026-10-01"), "--candidate-seen: the candidate is the installed version"},
		{"bad candidate seen", append(slices.Clone(deb12), "--candidate", "3.11.2-6+deb12u9", "--candidate-seen", "1 Oct"), `--candidate-seen "1 Oct" is not a YYYY-MM-DD date`},
		{"candidate seen after the verdict's day", append(slices.Clone(deb12), "--candidate", "3.11.2-6+deb12u9", "--candidate-seen", "2027-01-01"), "--candidate-seen 2027-01-01 is after the day of the verdict"},
		{"the OS itself", []string{"--distro", "debian", "--distro-version", "12"}, "--distro is for a package of a distribution"},
		{"another subcommand", nil, "match coverage: --distro is for match explain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(slices.Clone(base), tc.args...)
			switch tc.name {
			case "the OS itself":
				args = append([]string{"match", "explain", "os", "debian", "12"}, tc.args...)
			case "another subcommand":
				args = []string{"match", "coverage", "--distro", "debian"}
			}
			_, err := runCmd(t, "", args...)
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v = %v, want a usage error with %q", args[3:], err, tc.want)
			}
		})
	}
}

// TestMatchExplainDocExample runs the `match explain` example of
// docs/matching.md (a package of this machine's dpkg database on its host)
// and compares its output with the one the page shows.
func TestMatchExplainDocExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/matching.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "$ eolwatch-server match explain dpkg python3.11")
	if start < 0 {
		t.Fatal("docs/matching.md has no match explain example on a host")
	}
	block := doc[start:]
	block = block[:strings.Index(block, "```")]
	var cmd strings.Builder
	lines := strings.SplitAfter(block, "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimSuffix(lines[i], "\n")
		cmd.WriteString(strings.TrimSuffix(l, "\\") + " ")
		if !strings.HasSuffix(l, "\\") {
			i++
			break
		}
	}
	want := strings.Join(lines[i:], "")
	args := strings.Fields(cmd.String())[2:] // after "$ eolwatch-server"
	got, err := runCmd(t, "", args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if got != want {
		t.Errorf("docs/matching.md's example %v prints\n%s\nthe page shows\n%s", args, got, want)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
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

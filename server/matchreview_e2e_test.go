package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMatchReviewScript runs the review workflow behind `make
// match-review` with the real binary over package lists in three formats
// (an Ubuntu Packages file compressed with gzip, an rpm list, an APKINDEX):
// every list goes through `match coverage --format jsonl`, and `match
// review` prints the claims by product and rule.
func TestMatchReviewScript(t *testing.T) {
	srv, _ := buildBinaries(t)
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip not found")
	}
	dir := t.TempDir()
	lists := filepath.Join("match", "testdata", "lists")
	gz := filepath.Join(dir, "Packages.gz")
	out, err := exec.Command("sh", "-c", "gzip -c "+filepath.Join(lists, "ubuntu2404-Packages")+" > "+gz).CombinedOutput()
	if err != nil {
		t.Fatalf("gzip: %v %s", err, out)
	}
	cmd := exec.Command("../scripts/match-review.sh", gz, filepath.Join(lists, "rocky9-rpm-qa.txt"), filepath.Join(lists, "alpine320-APKINDEX"))
	cmd.Env = append(os.Environ(), "EOLWATCH_SERVER="+srv)
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("match-review.sh: %v\n%s", err, b)
	}
	review := string(b)
	for _, want := range []string{
		"211 rows, 152 claimed",
		"apache-http-server: 6 name(s), 6 row(s); versions 2.4.57, 2.4.58",
		"  rule httpd (4): httpd httpd-core httpd-tools mod_ssl",
		"django: 2 name(s), 2 row(s); versions 4.2.11, 5.0.9",
		"  rule openssl library (3): libcrypto3 libssl3 libssl3t64",
		"pigeonhole: 2 name(s), 2 row(s); versions 0.5.16, 0.5.21",
	} {
		if !strings.Contains(review, want) {
			t.Errorf("review lacks %q:\n%s", want, review)
		}
	}
}

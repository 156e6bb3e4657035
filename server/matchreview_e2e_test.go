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

// TestMatchReviewWithoutDecompressor runs the review over one of this
// machine's apt lists as apt keeps it (lz4- or otherwise compressed) with a
// PATH that lacks the decompressor, as on a fresh Debian 12 host where lz4's
// and zstd's command-line tools are not installed: the script reads the list
// through apt's own apt-helper instead.
func TestMatchReviewWithoutDecompressor(t *testing.T) {
	srv, _ := buildBinaries(t)
	var list string
	for _, pat := range []string{"*_Packages.lz4", "*_Packages.zst", "*_Packages.xz", "*_Packages.gz"} {
		if m, _ := filepath.Glob(filepath.Join("/var/lib/apt/lists", pat)); len(m) > 0 {
			list = m[0]
			break
		}
	}
	if list == "" {
		t.Skip("no compressed apt list in /var/lib/apt/lists (apt keeps them plain here)")
	}
	if _, err := os.Stat("/usr/lib/apt/apt-helper"); err != nil {
		t.Skip("no /usr/lib/apt/apt-helper (not a Debian host)")
	}
	// A PATH with the few tools the script needs, and no decompressor.
	bin := t.TempDir()
	for _, tool := range []string{"bash", "mktemp", "rm", "cat"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("../scripts/match-review.sh", list)
	cmd.Env = append(os.Environ(), "EOLWATCH_SERVER="+srv, "PATH="+bin)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("match-review.sh %s without a decompressor: %v\n%s", list, err, b)
	}
	if !strings.Contains(string(b), " rows, ") || !strings.Contains(string(b), " claimed (") {
		t.Errorf("review of %s lacks its summary line:\n%s", list, b)
	}
}

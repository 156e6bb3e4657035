package server

import (
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// TestMatchReviewScript runs the review workflow behind `make
// match-review` with the real binary over package lists in three formats
// (an Ubuntu Packages file compressed with gzip, an rpm list, an APKINDEX):
// every list goes through `match coverage --format jsonl`, and `match
// review` prints the claims by product and rule.
func TestMatchReviewScript(t *testing.T) {
	srv, _ := buildBinaries(t)
	lists := filepath.Join("match", "testdata", "lists")
	gz := compressList(t, filepath.Join(lists, "ubuntu2404-Packages"), "Packages.gz", func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
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

// compressList writes src compressed by newWriter into a temporary file
// named name, and returns its path.
func compressList(t *testing.T, src, name string, newWriter func(io.Writer) io.WriteCloser) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(f)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMatchReviewWithoutDecompressor runs the review over an apt list
// compressed with lz4 (as apt keeps its lists when told to, for instance in
// Debian's container images), written here from testdata so that it runs
// wherever apt keeps its lists plain, and over one of this machine's
// compressed apt lists when there is one, with a PATH that lacks the
// decompressor, as on a fresh Debian 12 host where lz4's and zstd's
// command-line tools are not installed: the script reads the lists through
// apt's own apt-helper instead.
func TestMatchReviewWithoutDecompressor(t *testing.T) {
	srv, _ := buildBinaries(t)
	if _, err := os.Stat("/usr/lib/apt/apt-helper"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no /usr/lib/apt/apt-helper: CI runs on Debian 12, where apt provides it")
		}
		t.Skip("no /usr/lib/apt/apt-helper (not a Debian host)")
	}
	fixture := compressList(t, filepath.Join("match", "testdata", "lists", "ubuntu2404-Packages"), "ubuntu2404_Packages.lz4",
		func(w io.Writer) io.WriteCloser { return lz4.NewWriter(w) })
	lists := []string{fixture}
	for _, pat := range []string{"*_Packages.lz4", "*_Packages.zst", "*_Packages.xz", "*_Packages.gz"} {
		if m, _ := filepath.Glob(filepath.Join("/var/lib/apt/lists", pat)); len(m) > 0 {
			lists = append(lists, m[0])
			break
		}
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
	for _, list := range lists {
		cmd := exec.Command("../scripts/match-review.sh", list)
		cmd.Env = append(os.Environ(), "EOLWATCH_SERVER="+srv, "PATH="+bin)
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("match-review.sh %s without a decompressor: %v\n%s", list, err, b)
		}
		want := " claimed ("
		if list == fixture {
			want = "92 rows, 59 claimed ("
		}
		if !strings.Contains(string(b), " rows, ") || !strings.Contains(string(b), want) {
			t.Errorf("review of %s lacks its summary line %q:\n%s", list, want, b)
		}
	}
}

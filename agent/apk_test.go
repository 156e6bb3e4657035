package agent

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCompareAPKVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "1.0.1", -1}, {"1.2.3", "1.10.0", -1}, {"1.0-r0", "1.0-r1", -1},
		{"1.0", "1.0-r0", -1}, {"1.0_alpha", "1.0", -1}, {"1.0_alpha1", "1.0_beta", -1}, {"1.0_beta", "1.0_pre", -1},
		{"1.0_pre", "1.0_rc", -1}, {"1.0_rc1", "1.0_rc2", -1}, {"1.0_rc2", "1.0", -1}, {"1.0", "1.0_p1", -1},
		{"1.0_p1", "1.0_p2", -1}, {"1.0_cvs", "1.0_svn", -1}, {"1.0_git20240101", "1.0", 1}, {"1.0a", "1.0", 1},
		{"1.0a", "1.0b", -1}, {"1.0a", "1.0.1", -1}, {"1.05", "1.5", -1}, {"1.005", "1.05", -1}, {"1.0.0", "1.0", 1},
		{"3.3.2-r0", "3.3.2-r1", -1}, {"22.11.0-r0", "22.12.0-r0", -1}, {"1.36.1-r29", "1.37.0-r5", -1},
		{"20.15.1-r0", "22.11.0-r0", -1}, {"1.2.5-r10", "1.2.5-r9", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := compareAPKVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("compareAPKVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := compareAPKVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("compareAPKVersions(%q, %q) = %d, want %d (swapped)", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestAPKIndexNames(t *testing.T) {
	// Seen in an Alpine 3.7 container (apk-tools 2.10): /var/cache/apk held
	// these two after apk update.
	for url, want := range map[string]string{
		"http://dl-cdn.alpinelinux.org/alpine/v3.7/main":      "APKINDEX.70c88391.tar.gz",
		"http://dl-cdn.alpinelinux.org/alpine/v3.7/community": "APKINDEX.5022a8a2.tar.gz",
	} {
		if names := apkIndexNames(url, "x86_64"); !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("apkIndexNames(%s) = %v, want %s among them", url, names, want)
		}
	}
}

func TestAPKFixture(t *testing.T) {
	for _, cache := range []string{t.TempDir(), ""} {
		env, facts := (&Env{Root: "testdata/alpine-apk", CacheDir: cache}).withFacts()
		items, err := (apkCollector{}).Collect(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		SortItems(items)
		want := []repoView{
			{"alpine-base", "3.20.3-r0", "alpine", "v3.20/main", "3.20.3-r0", "", ""},
			// edge is a tagged repository: busybox is not pinned to it.
			{"busybox", "1.36.1-r29", "alpine", "v3.20/main", "1.36.1-r29", "", ""},
			{"libcrypto3", "3.3.2-r0", "", "", "3.3.2-r1", "alpine", "v3.20/main"},
			{"musl", "1.2.5-r0", "alpine", "v3.20/main", "1.2.5-r0", "", ""},
			{"nginx", "1.26.2-r0", "alpine", "v3.20/main", "1.26.2-r0", "", ""},                  // world: nginx=1.26.2-r0
			{"nodejs", "22.11.0-r0", "alpine", "edge/main", "22.12.0-r0", "alpine", "edge/main"}, // world: nodejs@edge
			{"openssl", "3.3.2-r0", "alpine", "v3.20/main", "3.3.2-r1", "alpine", "v3.20/main"},
			{"py3-mytool", "0.1-r0", "", "", "0.1-r0", "", ""}, // installed from a file; @testing is not allowed for it
			{"zlib", "1.3.1-r1", "alpine", "v3.20/main", "1.3.1-r1", "", ""},
		}
		if got := viewOf(items); !reflect.DeepEqual(got, want) {
			t.Errorf("apk items (cache %q):\n got %+v\nwant %+v", cache, got, want)
		}
		if want := time.Unix(1730000000, 0); !facts.repoDate.Equal(want) {
			t.Errorf("repository date %v, want the indexes' build time", facts.repoDate)
		}
	}
	// A damaged index: reported once, versions kept, no candidates.
	root := copyTree(t, "testdata/alpine-apk")
	idx, _ := filepath.Glob(filepath.Join(root, "var/cache/apk/APKINDEX.*.tar.gz"))
	b, _ := os.ReadFile(idx[0])
	os.WriteFile(idx[0], b[:len(b)-40], 0o644)
	env, _ := (&Env{Root: root}).withFacts()
	items, err := (apkCollector{}).Collect(context.Background(), env)
	if err == nil || !strings.Contains(err.Error(), "APKINDEX") || len(items) != 9 {
		t.Fatalf("damaged index: %d items, %v", len(items), err)
	}
	for _, it := range items {
		if it.Version == "" || it.Candidate != "" {
			t.Errorf("%s: version %q candidate %q", it.Name, it.Version, it.Candidate)
		}
	}
	// No index yet (apk update never ran): said so, no candidates.
	for _, p := range idx {
		os.Remove(p)
	}
	if _, err := (apkCollector{}).Collect(context.Background(), env); err == nil || !strings.Contains(err.Error(), "apk update") {
		t.Errorf("no indexes: %v", err)
	}
}

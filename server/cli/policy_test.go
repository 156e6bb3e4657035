package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

// TestServePolicyAndFeedSettings: the support policy (which extended
// programmes count, globally and per product) and the feed schedule come
// from the config file, the environment and flags like every other
// setting, with the same precedence, and reach Config.Policy.
func TestServePolicyAndFeedSettings(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.yaml")
	os.WriteFile(file, []byte("extended_support: none\nextended_support_for: {ubuntu: all, rhel: none}\ncatalog_feed_interval: 6h\ncatalog_feed_sync: false\n"), 0o600)
	noEnv := func(k string) string { return map[string]string{"EOLWATCH_CONFIG": file}[k] }

	def, err := ParseServeConfig(nil, func(string) string { return "" }, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if p := def.Policy(); p.ExtendedSupport != catalog.ExtendedFree || len(p.ExtendedSupportFor) != 0 || def.CatalogFeedInterval != 24*time.Hour || !def.CatalogFeedSync {
		t.Errorf("defaults: policy %+v, feed every %s sync %v; want free, daily, on", p, def.CatalogFeedInterval, def.CatalogFeedSync)
	}

	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		extended string
		forMap   string
		interval time.Duration
		sync     bool
	}{
		{"config file", nil, nil, "none", "rhel=none,ubuntu=all", 6 * time.Hour, false},
		{"environment over the file", nil, map[string]string{"EOLWATCH_EXTENDED_SUPPORT": "all", "EOLWATCH_EXTENDED_SUPPORT_FOR": "ubuntu=free,sles=all",
			"EOLWATCH_CATALOG_FEED_INTERVAL": "90m", "EOLWATCH_CATALOG_FEED_SYNC": "true"}, "all", "rhel=none,sles=all,ubuntu=free", 90 * time.Minute, true},
		{"flags over the environment", []string{"--extended-support", "free", "--extended-support-for", "ubuntu=none", "--extended-support-for", "debian=all,rhel=free",
			"--catalog-feed-interval", "1h", "--catalog-feed-sync=true"},
			map[string]string{"EOLWATCH_EXTENDED_SUPPORT": "all", "EOLWATCH_CATALOG_FEED_SYNC": "false"}, "free", "debian=all,rhel=free,ubuntu=none", time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				return noEnv(k)
			}
			cfg, err := ParseServeConfig(tc.args, getenv, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			p := cfg.Policy()
			if p.ExtendedSupport != tc.extended || (*extendedForFlag)(&p.ExtendedSupportFor).String() != tc.forMap {
				t.Errorf("policy %+v, want extended %s, per product %s", p, tc.extended, tc.forMap)
			}
			if cfg.CatalogFeedInterval != tc.interval || cfg.CatalogFeedSync != tc.sync {
				t.Errorf("feed every %s sync %v, want %s %v", cfg.CatalogFeedInterval, cfg.CatalogFeedSync, tc.interval, tc.sync)
			}
		})
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bad mode", []string{"--extended-support", "paid"}, "extended-support"},
		{"bad per-product mode", []string{"--extended-support-for", "ubuntu=sometimes"}, "ubuntu"},
		{"per-product without a mode", []string{"--extended-support-for", "ubuntu"}, "PRODUCT=free|all|none"},
		{"zero interval", []string{"--catalog-feed-interval", "0s"}, "catalog-feed-interval"},
		{"interval without a unit", []string{"--catalog-feed-interval", "24"}, "catalog-feed-interval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseServeConfig(tc.args, func(string) string { return "" }, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%v: err = %v, want one naming %q", tc.args, err, tc.want)
			}
		})
	}
}

// TestEligibilityPolicyFlags: the eligibility command's policy flags change
// its answer. On 2027-01-15 Debian 12.15 (its newest point release) is past
// its regular end of life (2026-06-10) and inside its LTS phase (to
// 2028-06-30): supported through Debian LTS by default, not with
// --extended-support none or --extended-support-for debian=none.
func TestEligibilityPolicyFlags(t *testing.T) {
	defer func(old func() time.Time) { eligibilityNow = old }(eligibilityNow)
	eligibilityNow = func() time.Time { return time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC) }
	run := func(extra ...string) string {
		t.Helper()
		var out bytes.Buffer
		args := append([]string{"eligibility", "--data-dir", t.TempDir(), "--product", "debian", "--version", "12.15"}, extra...)
		if err := Main(context.Background(), args, Stdio{Out: &out, Err: &bytes.Buffer{}}); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	if out := run(); !strings.HasPrefix(out, "ELIGIBLE") || !strings.Contains(out, "(catalog data of ") {
		t.Errorf("default policy (want eligible, with the catalog's date):\n%s", out)
	}
	for _, extra := range [][]string{{"--extended-support", "none"}, {"--extended-support-for", "debian=none"}} {
		if out := run(extra...); !strings.HasPrefix(out, "NOT ELIGIBLE") {
			t.Errorf("%v:\n%s", extra, out)
		}
	}
	if err := Main(context.Background(), []string{"eligibility", "--product", "debian", "--version", "12", "--extended-support", "x"},
		Stdio{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}); ExitCode(err) != 2 {
		t.Errorf("--extended-support x: %v, want a usage error", err)
	}
}

package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

func benchHostCount(small, full int) int {
	if v, err := strconv.Atoi(os.Getenv("EOLWATCH_BENCH_HOSTS")); err == nil && v > 0 {
		return v
	}
	if os.Getenv("EOLWATCH_BENCH_FULL") == "1" {
		return full
	}
	return small
}

// benchProducts are 20 real catalog products with real versions, so the
// eligibility answers go through the real catalog.
var benchProducts = []struct{ product, version string }{
	{"python", "3.11.2"}, {"nginx", "1.22.1"}, {"postgresql", "15.4"}, {"openssl", "3.0.11"}, {"nodejs", "20.9.0"},
	{"debian", "12"}, {"perl", "5.36.0"}, {"redis", "7.0.15"}, {"mysql", "8.0.35"}, {"php", "8.2.12"},
	{"ruby", "3.1.2"}, {"go", "1.21.4"}, {"apache-http-server", "2.4.57"}, {"git", "2.39.2"}, {"curl", "7.88.1"},
	{"sqlite", "3.40.1"}, {"docker-engine", "24.0.7"}, {"kubernetes", "1.28.4"}, {"eclipse-temurin", "17.0.9"}, {"mariadb", "10.11.5"},
}

// BenchmarkEligibility measures eligibility answers with N hosts x 20
// products stored (100,000 at EOLWATCH_BENCH_FULL=1): by hostname + product
// (a database lookup plus a live verdict) and by product + version.
func BenchmarkEligibility(b *testing.B) {
	n := benchHostCount(20000, 100000)
	e := newTestEnv(b)
	ctx := context.Background()
	tx, err := e.st.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	hs, _ := tx.Prepare(`INSERT INTO hosts (id, uid, install_id, hostname, info, node_key_hash, enrolled_at, status_rank, last_report_at) VALUES (?, ?, ?, ?, '{}', ?, 1, 0, 1)`)
	vs, _ := tx.Prepare(`INSERT INTO verdicts (host_id, product, version, installed, cycle, status, status_rank, catalog_version, changed_at) VALUES (?, ?, ?, ?, '', 'current', 6, 'c', 1)`)
	for h := 1; h <= n; h++ {
		if _, err := hs.Exec(h, fmt.Sprintf("%016x", h), fmt.Sprint("i", h), fmt.Sprintf("host-%07d", h), fmt.Sprint("k", h)); err != nil {
			b.Fatal(err)
		}
		for _, p := range benchProducts {
			if _, err := vs.Exec(h, p.product, p.version, p.version+"-1"); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const queries = 2000
	b.ResetTimer()
	for range b.N {
		byHost := make([]time.Duration, queries)
		byVersion := make([]time.Duration, queries)
		for i := range queries {
			p := benchProducts[rng.IntN(len(benchProducts))]
			host := fmt.Sprintf("host-%07d", 1+rng.IntN(n))
			start := time.Now()
			ans, err := e.svc.Eligibility(ctx, p.product, "", host)
			byHost[i] = time.Since(start)
			if err != nil || ans.Status == "" {
				b.Fatalf("eligibility host=%s product=%s: %+v %v", host, p.product, ans, err)
			}
			start = time.Now()
			// A version the customer reads out: a fresh string each time, so
			// the answer is computed, not cached.
			ans, err = e.svc.Eligibility(ctx, p.product, p.version+"."+strconv.Itoa(i%7), "")
			byVersion[i] = time.Since(start)
			if err != nil || ans.Status == "" {
				b.Fatalf("eligibility %s %s: %v", p.product, p.version, err)
			}
		}
		slices.Sort(byHost)
		slices.Sort(byVersion)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(float64(n), "hosts")
		b.ReportMetric(ms(byHost[queries/2]), "host-p50-ms")
		b.ReportMetric(ms(byHost[queries*99/100]), "host-p99-ms(goal<10)")
		b.ReportMetric(ms(byVersion[queries/2]), "version-p50-ms")
		b.ReportMetric(ms(byVersion[queries*99/100]), "version-p99-ms")
	}
	_ = catalog.StatusEOL
}

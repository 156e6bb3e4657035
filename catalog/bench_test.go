package catalog

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/eolwatch/eolwatch/internal/cputime"
)

// benchInputs returns parsed versions spread over the whole default catalog:
// every cycle's latest of every product, plus an older dated release where known.
func benchInputs(b *testing.B) (*Catalog, []ParsedVersion) {
	b.Helper()
	cat, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var pvs []ParsedVersion
	for _, p := range cat.Products() {
		for _, c := range p.Cycles {
			if c.Latest != "" {
				pvs = append(pvs, cat.ParseVersion(p.ID, c.Latest))
			}
			if n := len(c.Releases); n > 1 {
				pvs = append(pvs, cat.ParseVersion(p.ID, c.Releases[n-1].Version))
			}
		}
	}
	return cat, pvs
}

// reportRate reports operations per second of wall time and, because the
// build machine is shared, per second of this process's CPU time (run with
// -cpu 1 so that CPU time is one core's).
func reportRate(b *testing.B, cpu time.Duration, perOp int, unit string) {
	n := float64(b.N) * float64(perOp)
	b.ReportMetric(n/b.Elapsed().Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), unit+"/cpu-s")
	}
}

// BenchmarkEvaluateParsed measures verdicts per second on the full default
// catalog once versions are parsed (goal: at least 1,000,000/s on one core).
// One op evaluates every input once (about 12,000 versions of all 464
// products), so even -benchtime=1x gives a meaningful figure.
func BenchmarkEvaluateParsed(b *testing.B) {
	cat, pvs := benchInputs(b)
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	for i := range pvs { // build every product's index outside the timing
		_ = cat.evaluate(&pvs[i], asOf, pol, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		for j := range pvs {
			_ = cat.evaluate(&pvs[j], asOf, pol, nil)
		}
	}
	reportRate(b, cputime.Process()-cpu0, len(pvs), "evals")
}

// BenchmarkEvaluateParsedNewDay is BenchmarkEvaluateParsed with a
// different as-of day on every evaluation, so the per-day memo of the
// end-of-life answer never helps: the worst case.
func BenchmarkEvaluateParsedNewDay(b *testing.B) {
	cat, pvs := benchInputs(b)
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	days := make([]time.Time, 397) // a prime, so inputs and days do not line up
	for i := range days {
		days[i] = asOf.AddDate(0, 0, i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		for j := range pvs {
			_ = cat.evaluate(&pvs[j], days[(i*len(pvs)+j)%len(days)], pol, nil)
		}
	}
	reportRate(b, cputime.Process()-cpu0, len(pvs), "evals")
}

// BenchmarkEvaluate measures the string API (parse + match + verdict);
// one op evaluates every input once.
func BenchmarkEvaluate(b *testing.B) {
	cat, pvs := benchInputs(b)
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		for j := range pvs {
			_ = cat.Evaluate(pvs[j].Product, pvs[j].Version.Raw, asOf, pol)
		}
	}
	reportRate(b, cputime.Process()-cpu0, len(pvs), "evals")
}

// BenchmarkCompareParsed measures comparing parsed versions of several
// schemes, with Masterminds/semver's own Compare on the same values as the
// in-process baseline (ratio = our cost / semver cost).
func BenchmarkCompareParsed(b *testing.B) {
	raw := []string{"3.10.12", "3.10.9", "1.1.1w", "1.1.1v", "10.0.19045.3693", "10.0.19045.4046", "2022 SU3", "2024.1", "3.12.0rc1", "3.12.0"}
	vs := make([]Version, len(raw))
	for i, r := range raw {
		vs[i] = ParseVersion(SchemeAuto, r)
	}
	java := []Version{ParseVersion(SchemeJava, "8u392-b08"), ParseVersion(SchemeJava, "17.0.9+9"), ParseVersion(SchemeJava, "21.0.12.1+1")}
	deb := []Version{ParseVersion(SchemeDebian, "1:2.39.5-0+deb12u3"), ParseVersion(SchemeDebian, "1:2.39.5-0+deb12u2"), ParseVersion(SchemeDebian, "2.39.5~rc1-1")}
	sv := []*semver.Version{semver.MustParse("3.10.12"), semver.MustParse("3.10.9"), semver.MustParse("3.12.0-rc1"), semver.MustParse("3.12.0")}
	our := []Version{ParseVersion(SchemeSemver, "3.10.12"), ParseVersion(SchemeSemver, "3.10.9"), ParseVersion(SchemeSemver, "3.12.0-rc1"), ParseVersion(SchemeSemver, "3.12.0")}
	const perOp = 10000 // comparisons per op, so -benchtime=1x still measures something
	var base float64
	b.Run("semver-baseline", func(b *testing.B) {
		cpu0 := cputime.Process()
		for i := 0; i < b.N; i++ {
			for j := 0; j < perOp; j++ {
				_ = sv[j%4].Compare(sv[(j+1)%4])
			}
		}
		base = perCompare(b, cputime.Process()-cpu0, perOp)
	})
	run := func(name string, xs []Version) {
		b.Run(name, func(b *testing.B) {
			n := len(xs)
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				for j := 0; j < perOp; j++ {
					_ = compareP(&xs[j%n], &xs[(j+1)%n])
				}
			}
			per := perCompare(b, cputime.Process()-cpu0, perOp)
			if base > 0 {
				b.ReportMetric(per/base, "x-semver")
			}
		})
	}
	run("semver-scheme", our)
	run("auto", vs)
	run("java", java)
	run("debian", deb)
}

// perCompare reports and returns the CPU nanoseconds per comparison (wall
// time when CPU time is not measurable).
func perCompare(b *testing.B, cpu time.Duration, perOp int) float64 {
	if cpu <= 0 {
		cpu = b.Elapsed()
	}
	ns := float64(cpu.Nanoseconds()) / float64(b.N) / float64(perOp)
	b.ReportMetric(ns, "cpu-ns/compare")
	return ns
}

// BenchmarkParseVersion measures parsing one version of each common shape.
func BenchmarkParseVersion(b *testing.B) {
	raw := []string{"3.10.12", "1.1.1w", "10.0.19045.3693", "2022 SU3", "8.0 Update 3k", "3.12.0rc1"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = ParseVersion(SchemeAuto, raw[i%len(raw)])
	}
}

// BenchmarkDefaultLoad measures decoding the embedded default catalog
// (gunzip + decode + product map; indexes are built lazily per product)
// (goal: under 100 ms).
func BenchmarkDefaultLoad(b *testing.B) {
	b.ReportAllocs()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		zr, err := gzip.NewReader(bytes.NewReader(defaultData))
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parseDefault(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/load")
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/load")
	}
}

// BenchmarkIndexAll measures building every product's evaluation index
// (the lazy part of loading, paid once per product on first use).
func BenchmarkIndexAll(b *testing.B) {
	cat, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, p := range cat.list {
			_ = buildIndex(p)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/all-products")
}

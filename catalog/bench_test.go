package catalog

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
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
func reportRate(b *testing.B, cpu time.Duration, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit+"/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), unit+"/cpu-s")
	}
}

// BenchmarkEvaluateParsed measures verdicts per second on the full default
// catalog once versions are parsed (goal: at least 1,000,000/s on one core).
func BenchmarkEvaluateParsed(b *testing.B) {
	cat, pvs := benchInputs(b)
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		_ = cat.evaluate(&pvs[i%len(pvs)], asOf, pol)
	}
	reportRate(b, cpuTime()-cpu0, "evals")
}

// BenchmarkEvaluate measures the string API (parse + match + verdict) per call.
func BenchmarkEvaluate(b *testing.B) {
	cat, pvs := benchInputs(b)
	asOf := time.Date(2025, 1, 12, 0, 0, 0, 0, time.UTC)
	pol := DefaultPolicy()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		pv := pvs[i%len(pvs)]
		_ = cat.Evaluate(pv.Product, pv.Version.Raw, asOf, pol)
	}
	reportRate(b, cpuTime()-cpu0, "evals")
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
	var base time.Duration
	b.Run("semver-baseline", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = sv[i%4].Compare(sv[(i+1)%4])
		}
		base = b.Elapsed() / time.Duration(b.N)
	})
	run := func(name string, xs []Version) {
		b.Run(name, func(b *testing.B) {
			n := len(xs)
			for i := 0; i < b.N; i++ {
				_ = Compare(xs[i%n], xs[(i+1)%n])
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per.Nanoseconds()), "ns/compare")
			if base > 0 {
				b.ReportMetric(float64(per)/float64(base), "x-semver")
			}
		})
	}
	run("semver-scheme", our)
	run("auto", vs)
	run("java", java)
	run("debian", deb)
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
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
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

package sbom

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/cputime"
)

// benchDocs are the documents the benchmarks run on: the largest real
// document checked in, plus EOLWATCH_SBOM_BENCH_FILE when set (any SBOM,
// for instance syft's scan of a whole machine).
func benchDocs(b *testing.B) map[string][]byte {
	docs := map[string][]byte{"debian12-dpkg.cdx17": openTestdata(b, "syft/debian12-dpkg.cdx17.json.gz"),
		"debian12-dpkg.spdx23": openTestdata(b, "syft/debian12-dpkg.spdx23.json.gz")}
	if f := os.Getenv("EOLWATCH_SBOM_BENCH_FILE"); f != "" {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		docs["file"] = raw
	}
	return docs
}

// BenchmarkCheck measures `sbom check` on whole documents in components/s:
// reading alone (Read), and reading, matching, evaluating and writing JSON
// lines (Check), each next to the in-process baseline of decoding the same
// document with encoding/json into a generic value (json.Unmarshal into
// any). Rates are per CPU second of this process (components/cpu-s, so a
// busy shared machine does not skew them) and per wall second;
// x-baseline is the CPU cost relative to that decoding (lower is better).
func BenchmarkCheck(b *testing.B) {
	sm := testMatcher(b)
	lim := Limits{MaxBytes: 1 << 30, MaxComponents: 10_000_000}
	for name, doc := range benchDocs(b) {
		d, err := Read(bytes.NewReader(doc), lim, nil)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		n := float64(d.Components)
		var base float64 // CPU seconds per document
		report := func(b *testing.B, cpu time.Duration, isBase bool) float64 {
			b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "components/s")
			per := cpu.Seconds() / float64(b.N)
			if per > 0 {
				b.ReportMetric(n/per, "components/cpu-s")
			}
			if !isBase && base > 0 && per > 0 {
				b.ReportMetric(per/base, "x-baseline")
			}
			return per
		}
		b.Run(name+"/baseline-json-decode", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				var v any
				if err := json.Unmarshal(doc, &v); err != nil {
					b.Fatal(err)
				}
			}
			base = report(b, cputime.Process()-cpu0, true)
		})
		b.Run(name+"/read", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				if _, err := Read(bytes.NewReader(doc), lim, func(*Component) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
			report(b, cputime.Process()-cpu0, false)
		})
		b.Run(name+"/check", func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				// a new judge each time: no verdict cached from the previous run
				j := NewJudge(sm, testDay, catalog.Policy{})
				if _, err := Check(bytes.NewReader(doc), j, CheckOptions{Limits: lim}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			report(b, cputime.Process()-cpu0, false)
		})
	}
}

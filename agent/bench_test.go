package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"
)

// BenchmarkInventoryThisMachine is a full inventory of this machine (every
// built-in collector plus host info, encoded as `inventory --json` does),
// with the apt lists already parsed into the state directory's cache (every
// run after the first while the lists do not change).
// The baseline, run in the same process, only copies the dpkg status file
// to io.Discard: cost_ratio is how much more the whole inventory costs than
// reading the database it mostly consists of.
func BenchmarkInventoryThisMachine(b *testing.B) {
	benchInventory(b, b.TempDir())
}

// BenchmarkInventoryThisMachineCold is the same without a cache: every apt
// list is decompressed and scanned (the first run, or after apt-get update).
func BenchmarkInventoryThisMachineCold(b *testing.B) {
	benchInventory(b, "")
}

func benchInventory(b *testing.B, stateDir string) {
	a, err := New(Config{CollectorTimeout: time.Minute, StateDir: stateDir}, newTextLogger(io.Discard, "error"))
	if err != nil {
		b.Fatal(err)
	}
	if stateDir != "" {
		a.Collect(context.Background()) // fills the cache
	}
	base := func() {
		f, err := os.Open(dpkgStatusPath)
		if err != nil {
			return
		}
		io.Copy(io.Discard, f)
		f.Close()
	}
	const baseRuns = 20
	start := time.Now()
	for range baseRuns {
		base()
	}
	baseline := time.Since(start) / baseRuns

	items := 0
	b.ReportAllocs()
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		inv := a.Collect(context.Background())
		if err := json.NewEncoder(io.Discard).Encode(inv); err != nil {
			b.Fatal(err)
		}
		items = len(inv.Items)
	}
	per := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(items), "items")
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/inventory")
	if baseline > 0 {
		b.ReportMetric(float64(per)/float64(baseline), "cost_ratio")
	}
}

// BenchmarkParseDpkgStatus parses this machine's status file alone.
func BenchmarkParseDpkgStatus(b *testing.B) {
	data, err := os.ReadFile(dpkgStatusPath)
	if err != nil {
		b.Skip("no dpkg database")
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := parseDpkgStatus(bytes.NewReader(data), func(dpkgEntry) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanAptLists decompresses and scans this machine's apt lists for
// its installed package names (what a run without a cache does).
func BenchmarkScanAptLists(b *testing.B) {
	env := &Env{}
	srcs, _ := readAptSources(env)
	idx, err := discoverAptIndexes(env, srcs)
	if err != nil || len(idx) == 0 {
		b.Skip("no apt lists on this machine: run make deps")
	}
	items, _ := dpkgCollector{}.Collect(context.Background(), &Env{})
	wanted := map[string]bool{}
	for _, it := range items {
		wanted[it.Name] = true
	}
	var size int64
	for _, ix := range idx {
		size += ix.Size
	}
	b.SetBytes(size) // compressed bytes on disk
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseAptLists(context.Background(), env, idx, wanted); err != nil {
			b.Fatal(err)
		}
	}
}

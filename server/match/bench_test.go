package match

import (
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/cputime"
	"github.com/eolwatch/eolwatch/server/api"
)

// benchItems is a realistic mix: this machine's dpkg list when there is
// one (mostly unmatched libraries), plus Windows and rpm items.
func benchItems(b *testing.B) []api.Item {
	benchOnce.Do(func() { benchList = loadBenchItems(b) })
	return benchList
}

var (
	benchOnce sync.Once
	benchList []api.Item
)

func loadBenchItems(b *testing.B) []api.Item {
	var items []api.Item
	if _, err := lookDpkg(); err == nil {
		items = dpkgItems(b)
	}
	items = append(items,
		api.Item{Source: "rpm", Name: "httpd", Version: "2.4.57-5.el9", SourcePkg: "httpd"},
		api.Item{Source: "rpm", Name: "glibc", Version: "2.34-83.el9", SourcePkg: "glibc"},
		api.Item{Source: "windows-registry", Name: "Mozilla Firefox (x64 en-US)", Version: "121.0", Publisher: "Mozilla"},
		api.Item{Source: "windows-registry", Name: "7-Zip 23.01 (x64)", Version: "23.01"},
		api.Item{Source: "windows-registry", Name: "Java 8 Update 391 (64-bit)", Version: "8.0.3910.13"},
		api.Item{Source: "dpkg", Name: "python3.11", Version: "3.11.2-6+deb12u6", SourcePkg: "python3.11"},
		api.Item{Source: "dpkg", Name: "libfoo1", Version: "1.2-3", SourcePkg: "foo"},
	)
	return items
}

// BenchmarkMatch measures matching per item over a realistic inventory and
// reports items/s and the cost relative to a bare map lookup per item (the
// cheapest conceivable matcher), measured in the same run.
func BenchmarkMatch(b *testing.B) {
	m := defaultMatcher(b)
	items := benchItems(b)
	// Baseline: one map lookup by name per item.
	names := map[string]string{}
	for _, it := range items {
		names[it.Name] = it.Version
	}
	const baseN = 1 << 20
	start, startCPU := time.Now(), cputime.Process()
	hits := 0
	for i := 0; i < baseN; i++ {
		if _, ok := names[items[i%len(items)].Name]; ok {
			hits++
		}
	}
	baseNs := float64(time.Since(start).Nanoseconds()) / baseN
	baseCPU := float64((cputime.Process() - startCPU).Nanoseconds()) / baseN
	_ = hits
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	matched := 0
	for i := 0; i < b.N; i++ {
		if _, ok := m.Match(items[i%len(items)]); ok {
			matched++
		}
	}
	b.StopTimer()
	if cpu := cputime.Process() - cpu0; cpu > 0 && baseCPU > 0 {
		// CPU time does not depend on how busy the machine is: the ratio
		// against the baseline is the stable figure.
		perCPU := float64(cpu.Nanoseconds()) / float64(b.N)
		b.ReportMetric(perCPU, "cpu-ns/item")
		b.ReportMetric(perCPU/baseCPU, "cpu-x-maplookup")
	}
	perItem := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perItem, "ns/item")
	b.ReportMetric(1e9/perItem, "items/s")
	if baseNs > 0 {
		b.ReportMetric(perItem/baseNs, "x-maplookup")
	}
	b.ReportMetric(float64(len(items)), "inventory-items")
}

// BenchmarkNewMatcher measures building the indexes for the default catalog
// (done once per catalog change).
func BenchmarkNewMatcher(b *testing.B) {
	m := defaultMatcher(b)
	cat := m.Catalog()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		New(cat)
	}
}

// BenchmarkMatchArchive matches every row of the Debian 12 archive
// (66,555 package/version/source rows, names and source packages only) and
// reports rows/s next to a bare map lookup per row measured in the same
// run: go test -run '^$' -bench MatchArchive ./server/match/
func BenchmarkMatchArchive(b *testing.B) {
	m := defaultMatcher(b)
	rows := debianRows(b, false)
	names := make(map[string]string, len(rows))
	for _, it := range rows {
		names[it.Name] = it.Version
	}
	// Baseline: one map lookup by name per row, over the whole archive.
	const passes = 20
	start, startCPU := time.Now(), cputime.Process()
	hits := 0
	for p := 0; p < passes; p++ {
		for i := range rows {
			if _, ok := names[rows[i].Name]; ok {
				hits++
			}
		}
	}
	n := float64(passes * len(rows))
	baseNs := float64(time.Since(start).Nanoseconds()) / n
	baseCPU := float64((cputime.Process() - startCPU).Nanoseconds()) / n
	_ = hits
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	claimed := 0
	for i := 0; i < b.N; i++ {
		for j := range rows {
			if _, ok := m.Match(rows[j]); ok {
				claimed++
			}
		}
	}
	b.StopTimer()
	total := float64(b.N) * float64(len(rows))
	perRow := float64(b.Elapsed().Nanoseconds()) / total
	b.ReportMetric(perRow, "ns/row")
	b.ReportMetric(1e9/perRow, "rows/s")
	if baseNs > 0 {
		b.ReportMetric(perRow/baseNs, "x-maplookup")
	}
	if cpu := cputime.Process() - cpu0; cpu > 0 && baseCPU > 0 {
		perCPU := float64(cpu.Nanoseconds()) / total
		b.ReportMetric(1e9/perCPU, "cpu-rows/s")
		b.ReportMetric(perCPU/baseCPU, "cpu-x-maplookup")
	}
	b.ReportMetric(float64(claimed)/float64(b.N), "claimed-rows")
}

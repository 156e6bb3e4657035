package catalog

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// latestExceptions are the cycles of the shared extract whose own latest
// does not resolve to them, each for a documented reason (see docs/catalog.md):
//   - not a version: the data holds "N/A", "unknown", "Patch 7", "Update 5"...
//   - data slip: the latest belongs to another cycle that also exists
//     (couchbase 4.6 → 5.0.1, icinga 2.10 → 2.12.10, mautic 3.2 → 3.3.2)
//   - overlapping cycles: the latest is itself a more specific cycle
//     (amazon-rds-mysql 8.0 → cycle 8.0.46, unity 2021 → cycle 2021.3)
//   - twin cycles with the same latest: mulesoft 4.9 and 4.9-lts both list 4.9.16;
//     the version goes to the plain cycle (the shorter support, the safe answer)
//   - cortex-xdr 7.9 lists 7.9.101-ce, which names the 7.9-ce cycle
var latestExceptions = map[string]string{
	"amazon-rds-mysql/8.0":           "overlapping cycle 8.0.46",
	"azul-zulu/6":                    "not a version: N/A",
	"azure-devops-server/continuous": "not a version: Patch 7",
	"bellsoft-liberica/7":            "not a version: unknown",
	"bellsoft-liberica/6":            "not a version: unknown",
	"cortex-xdr/7.9":                 "latest names the 7.9-ce edition",
	"couchbase-server/4.6":           "data slip: 5.0.1 belongs to 5.0",
	"icinga/2.10":                    "data slip: 2.12.10 belongs to 2.12",
	"mautic/3.2":                     "data slip: 3.3.2 belongs to 3.3",
	"mulesoft-runtime/4.9-lts":       "twin of 4.9 with the same latest",
	"mulesoft-runtime/4.6-lts":       "twin of 4.6 with the same latest",
	"unity/2021":                     "overlapping cycle 2021.3",
	"visual-studio/14.0":             "not a version: Update 3 + KB3165756",
	"visual-studio/12.0":             "not a version: Update 5",
	"visual-studio/11.0":             "not a version: Update 4",
	"visual-studio/10.0":             "not a version: Service Pack 1",
}

// sharedBuild reports whether two cycles carry the same latest and differ
// only by edition: Windows editions (11-24h2-w / -e / -e-lts share build
// 10.0.26100) and Kindle models (one firmware for every device).
func sharedBuild(p *Product, a, b string) bool {
	var la, lb string
	for _, c := range p.Cycles {
		if c.Name == a {
			la = c.Latest
		}
		if c.Name == b {
			lb = c.Latest
		}
	}
	return la != "" && la == lb
}

// TestEveryLatestResolvesToItsCycle checks, for every product of the
// default catalog, that each cycle's own latest maps back to that cycle.
func TestEveryLatestResolvesToItsCycle(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	checked, shared := 0, 0
	seen := map[string]bool{}
	for _, p := range cat.Products() {
		for _, c := range p.Cycles {
			if c.Latest == "" {
				continue
			}
			checked++
			k := p.ID + "/" + c.Name
			got := cat.ParseVersion(p.ID, c.Latest).Cycle()
			if got == c.Name {
				if _, ok := latestExceptions[k]; ok {
					t.Errorf("%s: latest %q now resolves to its cycle; remove the exception", k, c.Latest)
				}
				continue
			}
			if sharedBuild(p, c.Name, got) {
				shared++ // Windows editions, Kindle models: the version alone cannot tell them apart
				continue
			}
			if _, ok := latestExceptions[k]; ok {
				seen[k] = true
				continue
			}
			t.Errorf("%s: latest %q resolves to cycle %q", k, c.Latest, got)
		}
	}
	for k := range latestExceptions {
		if !seen[k] && cat.Product(strings.Split(k, "/")[0]) != nil {
			// either fixed (reported above) or the product changed
			found := false
			for _, c := range cat.Product(strings.Split(k, "/")[0]).Cycles {
				if c.Name == strings.Split(k, "/")[1] {
					found = true
				}
			}
			if !found {
				t.Errorf("exception %s names a cycle that no longer exists", k)
			}
		}
	}
	if checked < 6000 {
		t.Errorf("checked only %d cycles", checked)
	}
	t.Logf("%d cycles checked, %d share their latest with an edition twin, %d documented exceptions", checked, shared, len(latestExceptions))
}

// TestWindowsEditions checks that editions sharing a build are told apart by hints.
func TestWindowsEditions(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ version, cycle string }{
		{"10.0.26100.2314", "11-24h2-w"},
		{"10.0.26100.2314 Pro", "11-24h2-w"},
		{"10.0.26100.2314 Enterprise", "11-24h2-e"},
		{"10.0.26100.2314 Education", "11-24h2-e"},
		{"10.0.26100.2314 Enterprise LTSC", "11-24h2-e-lts"},
		{"10.0.26100.2314 IoT Enterprise LTSC", "11-24h2-iot-lts"},
		{"10.0.19045.5247", "10-22h2"},
		{"6.1.7601", "7-sp1"},
		{"11-24h2-e", "11-24h2-e"},
		{"11 24H2 (E)", "11-24h2-e"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			if got := cat.ParseVersion("windows", tt.version).Cycle(); got != tt.cycle {
				t.Errorf("windows %q → cycle %q, want %q", tt.version, got, tt.cycle)
			}
		})
	}
}

// TestCycleMatchingByComponents checks that cycles are matched by whole components.
func TestCycleMatchingByComponents(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ product, version, cycle string }{
		{"python", "3.10.12", "3.10"},
		{"python", "3.1.5", "3.1"},
		{"python", "3.14.0", "3.14"},
		{"openssl", "1.1.1w", "1.1.1"},
		{"openssl", "1.0.2u", "1.0.2"},
		{"eclipse-temurin", "8u392-b08", "8"},
		{"eclipse-temurin", "1.8.0_392", "8"},
		{"oracle-jdk", "1.4.2_42", "1.4"},
		{"ubuntu", "22.04.3 LTS", "22.04"},
		{"ubuntu", "22.04", "22.04"},
		{"nodejs", "24.1.0", "24"},
		{"aws-lambda", "nodejs24.x", "nodejs24.x"},
		{"nvidia", "610.57.04", "r610-linux"},
		{"nvidia", "610.88", "r610-windows"},
		{"mssqlserver", "13.0.5893.48", "13.0-sp2"},
		{"sharepoint", "16.0.10417.20198", "2019"},
		{"nutanix-prism", "pc.2024.3.1.14", "pc.2024.3"},
		{"ruby", "2.0.0p648", "2.0.0"},
		{"python", "4.0.0", ""},
		{"ubuntu", "Ubuntu 22.04.3 LTS", "22.04"},
		{"python", "Python 3.12.1", "3.12"},
		{"windows", "Microsoft Windows 10.0.19045.3693", "10-22h2"},
		{"windows", "Windows 10.0.22631.2861 Enterprise", "11-23h2-e"},
	}
	for _, tt := range tests {
		t.Run(tt.product+" "+tt.version, func(t *testing.T) {
			if cat.Product(tt.product) == nil {
				t.Fatalf("no product %s", tt.product)
			}
			if got := cat.ParseVersion(tt.product, tt.version).Cycle(); got != tt.cycle {
				t.Errorf("%s %q → cycle %q, want %q", tt.product, tt.version, got, tt.cycle)
			}
		})
	}
}

// TestWithRelease checks publishing a release: a new catalog, the old one unchanged.
func TestWithRelease(t *testing.T) {
	cat := rulesCat(t)
	before := cat.Info().Version
	next, err := cat.WithRelease("lang", "3.2", "3.2.6", day("2025-02-01"))
	if err != nil {
		t.Fatal(err)
	}
	if cat.Info().Version != before {
		t.Error("WithRelease changed the receiver's version")
	}
	if next.Info().Version == before {
		t.Error("WithRelease did not change the content version")
	}
	if got := cat.Product("lang").Cycles[1].Latest; got != "3.2.5" {
		t.Errorf("receiver's 3.2 latest = %q, want 3.2.5", got)
	}
	c := next.Product("lang").Cycles[1]
	if c.Latest != "3.2.6" || c.LatestDate.String() != "2025-02-01" || c.Releases[0].Version != "3.2.6" {
		t.Errorf("published cycle = latest %q %s releases %v", c.Latest, c.LatestDate, c.Releases)
	}
	v := next.Evaluate("lang", "3.2.5", day("2025-03-05"), Policy{WarnDays: 1})
	if v.Status != StatusPatchOverdue || v.Latest != "3.2.6" {
		t.Errorf("after publishing 3.2.6: %s latest %s, want patch-overdue 3.2.6", v.Status, v.Latest)
	}
	d := Diff(cat, next)
	if len(d) != 1 || d[0].Kind != ChangeRelease || d[0].Version != "3.2.6" || d[0].Cycle != "3.2" || d[0].Date.String() != "2025-02-01" {
		t.Errorf("Diff = %+v", d)
	}
	// a new cycle
	n2, err := next.WithRelease("lang", "4.1", "4.1.0", day("2025-09-01"))
	if err != nil {
		t.Fatal(err)
	}
	if v := n2.Evaluate("lang", "4.1.0", day("2025-09-02"), Policy{}); v.Cycle != "4.1" || v.Support != SupportSupported {
		t.Errorf("new cycle verdict = %+v", v)
	}
	if d := Diff(next, n2); len(d) != 1 || d[0].Kind != ChangeCycle || d[0].Cycle != "4.1" {
		t.Errorf("Diff(new cycle) = %+v", d)
	}
	// errors
	for _, tt := range []struct{ product, cycle, version, want string }{
		{"nope", "1", "1.0", "unknown product"},
		{"lang", "3.2", "3.2.5", "already published"},
		{"lang", "3.1", "3.2.7", `belongs to cycle "3.2"`},
		{"lang", "3.2", "", "could not"},
		{"lang", "", "9.9.9", "matches no cycle"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			_, err := next.WithRelease(tt.product, tt.cycle, tt.version, day("2025-03-01"))
			if err == nil || !strings.Contains(err.Error()+errText(err), tt.want) {
				t.Errorf("WithRelease(%s, %s, %q) error = %v, want %q", tt.product, tt.cycle, tt.version, err, tt.want)
			}
		})
	}
	if _, err := next.WithRelease("lang", "3.2", "3.2.5", day("2025-03-01")); !errors.Is(err, ErrReleaseExists) {
		t.Errorf("duplicate release error = %v, want ErrReleaseExists", err)
	}
	if _, err := next.WithRelease("lang", "3.2", "3.2.9", time.Time{}); err == nil {
		t.Error("WithRelease without a date = ok, want an error")
	}
}

func errText(err error) string {
	if errors.Is(err, ErrEmptyVersion) {
		return "could not"
	}
	return ""
}

// TestDiffAndMerge checks eol changes, new products, and overlay precedence.
func TestDiffAndMerge(t *testing.T) {
	base := rulesCat(t)
	over, err := Parse("over.yaml", []byte(`
products:
  - id: lang
    label: Lang
    cycles:
      - {name: "3.2", release: 2024-01-01, eol: 2025-06-30, latest: "3.2.5"}
  - id: tool
    label: Tool
    cycles:
      - {name: "1", eol: false, latest: "1.0"}
`))
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(base, nil, over)
	if got := m.Product("lang").Cycles; len(got) != 1 {
		t.Errorf("merged lang has %d cycles, want the overlay's 1", len(got))
	}
	if m.Product("tool") == nil || m.Info().Products != 2 {
		t.Errorf("merged info = %+v", m.Info())
	}
	d := Diff(base, m)
	kinds := []string{}
	for _, c := range d {
		kinds = append(kinds, c.Kind+":"+c.Product+"/"+c.Cycle)
	}
	want := []string{"eol-changed:lang/3.2", "product:tool/"}
	if !slices.Equal(kinds, want) {
		t.Errorf("Diff kinds = %v, want %v", kinds, want)
	}
	if d[0].From != "2025-03-31" || d[0].To != "2025-06-30" || d[0].Date.String() != "2025-06-30" {
		t.Errorf("eol change = %+v", d[0])
	}
	if Diff(nil, m) != nil {
		t.Error("Diff(nil, c) must be empty: a first load is not news")
	}
	if got := m.Products(); len(got) != 2 || got[0].ID != "lang" || got[1].ID != "tool" {
		t.Errorf("Products() not sorted by id")
	}
}

// TestDefaultInfo checks provenance and licence of the embedded catalog.
func TestDefaultInfo(t *testing.T) {
	cat, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	in := cat.Info()
	if !strings.Contains(in.Source, "endoflife.date") || len(in.Commit) != 40 || !strings.Contains(in.License, "MIT") || len(in.Version) != 16 {
		t.Errorf("Info() = %+v", in)
	}
	if !strings.Contains(DefaultLicense, "MIT License") && !strings.Contains(DefaultLicense, "Permission is hereby granted") {
		t.Error("DefaultLicense does not hold the MIT licence text")
	}
	if in.Version != contentHash(cat.list, cat.info.Date) {
		t.Error("the embedded content version differs from the recomputed hash")
	}
	if p := cat.Product("Python"); p == nil || p.ID != "python" {
		t.Error(`Product("Python") should find python case-insensitively`)
	}
}

// TestConcurrentEvaluate evaluates from many goroutines at once (run with
// -race): lazy indexes and the per-day memos must be safe.
func TestConcurrentEvaluate(t *testing.T) {
	cat, err := Parse("rules.yaml", []byte(rulesCatalog))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	for g := 0; g < 8; g++ {
		go func(g int) {
			var last string
			for i := 0; i < 200; i++ {
				v := cat.Evaluate("lang", []string{"3.1.9", "3.2.3", "3.0.7", "2.0.44"}[i%4], day("2025-01-01").AddDate(0, 0, (g+i)%5), Policy{})
				last = v.Reason
			}
			done <- last
		}(g)
	}
	for g := 0; g < 8; g++ {
		if r := <-done; r == "" {
			t.Error("empty reason")
		}
	}
}

// TestMergeKeepsHistory checks that a feed update without release lists
// keeps the dated releases it would otherwise drop.
func TestMergeKeepsHistory(t *testing.T) {
	base := rulesCat(t)
	feed, err := Parse("feed.json", []byte(`{"schema_version":"1.2.0","result":{"name":"lang","label":"Lang","releases":[
		{"name":"3.2","releaseDate":"2024-01-01","isEoas":true,"eoasFrom":"2024-06-30","isEol":false,"eolFrom":"2025-03-31","latest":{"name":"3.2.6","date":"2025-02-01"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	m := Merge(base, feed)
	c := m.Product("lang").Cycles[0]
	if c.Latest != "3.2.6" || len(c.Releases) != 4 {
		t.Fatalf("merged 3.2: latest %q, %d releases; want 3.2.6 and the 4 dated releases kept", c.Latest, len(c.Releases))
	}
	if len(feed.Product("lang").Cycles[0].Releases) != 0 {
		t.Error("Merge modified the overlay")
	}
	if v := m.Evaluate("lang", "3.2.3", day("2024-12-02"), Policy{}); v.Patch != PatchOverdue || v.Latest != "3.2.4" {
		t.Errorf("as-of verdict after a feed merge = %s latest %s, want overdue 3.2.4", v.Patch, v.Latest)
	}
	d := Diff(base, m)
	if len(d) != 1 || d[0].Kind != ChangeRelease || d[0].Version != "3.2.6" {
		t.Errorf("Diff after feed merge = %+v, want one release 3.2.6", d)
	}
}

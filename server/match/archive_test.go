package match

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match/pkglist"
)

// The Debian 12 archive (bookworm main, bookworm-updates, bookworm-security;
// amd64), one row a package version: NAME, VERSION, SOURCE, SECTION,
// SUMMARY, as `make match-testdata` extracts them from apt's lists. The
// judgments say, for every package name the matcher claims and for the
// well-known programs and libraries a sysadmin expects it to recognise,
// which catalog product the package is ("-": none). docs/matching.md
// ("Checking a whole archive") gives the rule they were judged by.
const (
	debianRowsFile      = "testdata/debian12-packages.tsv.gz"
	debianJudgmentsFile = "testdata/debian12-judgments.tsv"
)

var (
	archiveOnce sync.Once
	archiveRows []api.Item
	archiveErr  error
)

// debianRows reads the archive's rows once; with meta false the items carry
// only name, version and source package, as
// dpkg-query -W -f='${Package}\t${Version}\t${source:Package}\n' prints them.
func debianRows(t testing.TB, meta bool) []api.Item {
	t.Helper()
	archiveOnce.Do(func() {
		f, err := os.Open(debianRowsFile)
		if err != nil {
			archiveErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			archiveErr = err
			return
		}
		archiveRows, archiveErr = pkglist.ReadAll(zr, pkglist.FormatDpkgQuery)
	})
	if archiveErr != nil {
		t.Fatalf("%s: %v", debianRowsFile, archiveErr)
	}
	if meta {
		return archiveRows
	}
	plain := make([]api.Item, len(archiveRows))
	for i, it := range archiveRows {
		plain[i] = api.Item{Source: it.Source, Name: it.Name, Version: it.Version, SourcePkg: it.SourcePkg}
	}
	return plain
}

// judgment is what a package is: a catalog product or "-".
type judgment struct {
	product string
	known   bool // a well-known program or library the matcher must recognise
}

// loadJudgments reads PACKAGE<TAB>PRODUCT-or-"-"[<TAB>known] lines; "#"
// starts a comment.
func loadJudgments(t testing.TB) map[string]judgment {
	t.Helper()
	f, err := os.Open(debianJudgmentsFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]judgment{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		fs := strings.Split(strings.TrimRight(line, " \t"), "\t")
		if len(fs) < 2 || len(fs) > 3 || (len(fs) == 3 && fs[2] != "known") {
			t.Fatalf("%s:%d: want PACKAGE<TAB>PRODUCT|-[<TAB>known], got %q", debianJudgmentsFile, n, line)
		}
		if _, dup := out[fs[0]]; dup {
			t.Fatalf("%s:%d: %s judged twice", debianJudgmentsFile, n, fs[0])
		}
		out[fs[0]] = judgment{product: fs[1], known: len(fs) == 3}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// archiveScore is how a matcher did on the archive.
type archiveScore struct {
	claimed, right int // package names claimed, and claimed as the product judged
	known, found   int // well-known packages judged, and claimed as their product
	wrong, missed  []string
	claims         map[string]string // name → product
}

func (s archiveScore) precision() float64 { return float64(s.right) / float64(max(s.claimed, 1)) }
func (s archiveScore) recall() float64    { return float64(s.found) / float64(max(s.known, 1)) }

// scoreArchive matches every row and scores the claimed package names
// against the judgments. A name claimed by several rows counts once; rows
// of one name that claim different products make the claim wrong, and so
// does a claim of a name nobody judged.
func scoreArchive(m *Matcher, rows []api.Item, js map[string]judgment) archiveScore {
	s := archiveScore{claims: map[string]string{}}
	conflict := map[string]bool{}
	for _, it := range rows {
		r, ok := m.Match(it)
		if !ok {
			continue
		}
		if prev, seen := s.claims[it.Name]; seen && prev != r.Product {
			conflict[it.Name] = true
		}
		s.claims[it.Name] = r.Product
	}
	for name, product := range s.claims {
		s.claimed++
		j, judged := js[name]
		switch {
		case conflict[name]:
			s.wrong = append(s.wrong, fmt.Sprintf("%s: rows claim different products", name))
		case !judged:
			s.wrong = append(s.wrong, fmt.Sprintf("%s → %s: not judged (add it to %s)", name, product, debianJudgmentsFile))
		case j.product != product:
			s.wrong = append(s.wrong, fmt.Sprintf("%s → %s, judged %s", name, product, j.product))
		default:
			s.right++
		}
	}
	for name, j := range js {
		if !j.known || j.product == "-" {
			continue
		}
		s.known++
		if s.claims[name] == j.product && !conflict[name] {
			s.found++
		} else {
			s.missed = append(s.missed, fmt.Sprintf("%s (%s): claimed %q", name, j.product, s.claims[name]))
		}
	}
	sort.Strings(s.wrong)
	sort.Strings(s.missed)
	return s
}

// TestDebianArchive runs the matcher over every package/version/source row
// of the Debian 12 archive and checks its claims against the judgments: at
// least 98% of the claimed package names must be the product claimed, and
// at least 95% of the well-known programs and libraries must be found. It
// does so with names and source packages alone (what dpkg-query's documented
// format gives), and again with each package's section and summary, which
// may only make the result better.
func TestDebianArchive(t *testing.T) {
	m := defaultMatcher(t)
	js := loadJudgments(t)
	scores := map[bool]archiveScore{}
	for _, tc := range []struct {
		name string
		meta bool
	}{{"names and source packages", false}, {"with section and summary", true}} {
		t.Run(tc.name, func(t *testing.T) {
			rows := debianRows(t, tc.meta)
			s := scoreArchive(m, rows, js)
			scores[tc.meta] = s
			t.Logf("%d rows: %d package names claimed, %d wrong: precision %.4f; %d well-known, %d found: recall %.4f",
				len(rows), s.claimed, s.claimed-s.right, s.precision(), s.known, s.found, s.recall())
			for _, w := range s.wrong {
				t.Logf("  wrong: %s", w)
			}
			for _, w := range s.missed {
				t.Logf("  missed: %s", w)
			}
			for _, w := range s.wrong {
				if strings.Contains(w, "not judged") {
					t.Errorf("%s: every claim must be judged, so the judgments stay a review of the whole archive", w)
				}
			}
			if s.precision() < 0.98 {
				t.Errorf("precision %.4f (%d of %d claimed names right), want at least 0.98", s.precision(), s.right, s.claimed)
			}
			if s.recall() < 0.95 {
				t.Errorf("recall %.4f (%d of %d well-known packages found), want at least 0.95", s.recall(), s.found, s.known)
			}
		})
	}
	plain, meta := scores[false], scores[true]
	if plain.claims == nil || meta.claims == nil {
		return
	}
	if meta.precision() < plain.precision() || meta.recall() < plain.recall() {
		t.Errorf("metadata made it worse: precision %.4f → %.4f, recall %.4f → %.4f", plain.precision(), meta.precision(), plain.recall(), meta.recall())
	}
	for name, product := range meta.claims {
		if plain.claims[name] != product {
			t.Errorf("with metadata %s → %s, without %q: metadata may only take claims away", name, product, plain.claims[name])
		}
	}
}

// TestJudgmentsNameArchivePackages keeps the judgments honest: every
// judged package is in the archive and every product is in the catalog.
func TestJudgmentsNameArchivePackages(t *testing.T) {
	m := defaultMatcher(t)
	names := map[string]bool{}
	for _, it := range debianRows(t, false) {
		names[it.Name] = true
	}
	for name, j := range loadJudgments(t) {
		if !names[name] {
			t.Errorf("judged package %s is not in the archive", name)
		}
		if j.product != "-" && m.Catalog().Product(j.product) == nil {
			t.Errorf("%s is judged %s, which is not a catalog product", name, j.product)
		}
		if j.known && j.product == "-" {
			t.Errorf("%s is marked known but judged no product", name)
		}
	}
}

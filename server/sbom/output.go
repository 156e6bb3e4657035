package sbom

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/eolwatch/eolwatch/catalog"
)

// Output formats of `sbom check`.
const (
	FormatJSONL = "jsonl"
	FormatTable = "table"
	FormatSARIF = "sarif"
)

// OutputFormats lists the output formats.
var OutputFormats = []string{FormatJSONL, FormatTable, FormatSARIF}

// ParseFailOn reads a --fail-on value: comma-separated verdict statuses
// ("eol,patch-overdue"). An empty value fails on nothing.
func ParseFailOn(s string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, w := range strings.Split(s, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" {
			continue
		}
		if catalog.StatusRank(w) == len(catalog.Statuses) {
			return nil, fmt.Errorf("unknown status %q: want one or more of %s", w, strings.Join(catalog.Statuses, ", "))
		}
		set[w] = true
	}
	return set, nil
}

// Summary counts what a check found.
type Summary struct {
	Document Document       `json:"document"`
	Judged   int            `json:"judged"`    // components a catalog product claimed
	ByStatus map[string]int `json:"by_status"` // judged components per status
	Failed   int            `json:"failed"`    // judged components with a --fail-on status
	FailOn   []string       `json:"fail_on,omitempty"`
	AsOf     string         `json:"as_of"`
}

// String is the one-line summary printed after a check.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "judged %d of %d components", s.Judged, s.Document.Components)
	if s.Judged > 0 {
		b.WriteString(" (")
		b.WriteString(s.statusCounts())
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " as of %s", s.AsOf)
	if n := s.Document.NoVersion; n > 0 {
		fmt.Fprintf(&b, "; %d component(s) without a version", n)
	}
	if len(s.FailOn) > 0 {
		if s.Failed > 0 {
			fmt.Fprintf(&b, "; %d with a --fail-on status (%s)", s.Failed, strings.Join(s.FailOn, ","))
		} else {
			fmt.Fprintf(&b, "; none with a --fail-on status (%s)", strings.Join(s.FailOn, ","))
		}
	}
	return b.String()
}

func (s Summary) statusCounts() string {
	var parts []string
	for _, st := range catalog.Statuses {
		if n := s.ByStatus[st]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+st)
		}
	}
	return strings.Join(parts, ", ")
}

// writer writes findings in one output format.
type writer interface {
	write(f *Finding, failing bool) error
	close(s *Summary) error
	abort() // the input turned out unusable: write nothing, drop what is held
}

func newWriter(format string, out io.Writer, uri string) (writer, error) {
	switch format {
	case FormatJSONL, "":
		sp := &spool{}
		bw := bufio.NewWriterSize(sp, 64<<10)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		return &jsonlWriter{out: out, sp: sp, bw: bw, enc: enc}, nil
	case FormatTable:
		return &tableWriter{out: out}, nil
	case FormatSARIF:
		return &sarifWriter{out: out, uri: uri}, nil
	}
	return nil, fmt.Errorf("unknown format %q: want %s", format, strings.Join(OutputFormats, ", "))
}

// jsonlWriter writes one finding per line. The lines are held back (in a
// spool) until the whole document has been read, so that, as with the
// other formats, nothing reaches the output for a document that turns out
// unusable.
type jsonlWriter struct {
	out io.Writer
	sp  *spool
	bw  *bufio.Writer
	enc *json.Encoder
}

func (w *jsonlWriter) write(f *Finding, _ bool) error { return w.enc.Encode(f) }

func (w *jsonlWriter) close(*Summary) error {
	defer w.sp.discard()
	if err := w.bw.Flush(); err != nil {
		return err
	}
	return w.sp.copyTo(w.out)
}

func (w *jsonlWriter) abort() { w.sp.discard() }

// spoolMemory is how many bytes of findings a spool keeps in memory before
// it moves them to a temporary file (a variable for tests).
var spoolMemory = 4 << 20

// spool holds output until it may be written: in memory up to spoolMemory
// bytes, then in a temporary file, so that memory stays bounded however
// many components a document has.
type spool struct {
	mem  bytes.Buffer
	file *os.File
}

// Write implements io.Writer.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) <= spoolMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "eolwatch-sbom-*.jsonl")
		if err != nil {
			return 0, fmt.Errorf("findings past %d bytes wait in a temporary file until the document is read whole (set TMPDIR): %w", spoolMemory, err)
		}
		s.file = f
		if _, err := s.mem.WriteTo(f); err != nil {
			return 0, fmt.Errorf("spool findings: %w", err)
		}
	}
	n, err := s.file.Write(p)
	if err != nil {
		err = fmt.Errorf("spool findings: %w", err)
	}
	return n, err
}

// copyTo writes everything spooled to out.
func (s *spool) copyTo(out io.Writer) error {
	if s.file == nil {
		_, err := s.mem.WriteTo(out)
		return err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool findings: %w", err)
	}
	_, err := io.Copy(out, s.file)
	return err
}

// discard drops what is spooled and removes the temporary file.
func (s *spool) discard() {
	s.mem.Reset()
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
		s.file = nil
	}
}

// tableWriter prints an aligned table, worst status first, and the summary.
type tableWriter struct {
	out  io.Writer
	rows []tableRow
}

type tableRow struct {
	rank                                          int
	status, product, cycle, version, eol, upgrade string
	maintainer, component, field                  string
	failing                                       bool
}

func (w *tableWriter) write(f *Finding, failing bool) error {
	comp := f.Component.Name
	if f.Component.Version != "" {
		comp += " " + f.Component.Version
	}
	w.rows = append(w.rows, tableRow{rank: catalog.StatusRank(f.Status), status: f.Status, product: f.Product, cycle: dash(f.Cycle),
		version: dash(f.Version), eol: catalog.EOLWords(f.EOL), upgrade: dash(f.UpgradeTo), maintainer: dash(f.Maintainer), component: comp,
		field: f.Component.Field, failing: failing})
	return nil
}

func (w *tableWriter) abort() {}

func (w *tableWriter) close(s *Summary) error {
	sort.SliceStable(w.rows, func(a, b int) bool {
		ra, rb := w.rows[a], w.rows[b]
		if ra.rank != rb.rank {
			return ra.rank < rb.rank
		}
		if ra.product != rb.product {
			return ra.product < rb.product
		}
		return ra.component < rb.component
	})
	tw := tabwriter.NewWriter(w.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tPRODUCT\tCYCLE\tVERSION\tEOL\tUPGRADE TO\tSUPPORTED BY\tCOMPONENT")
	for _, r := range w.rows {
		st := r.status
		if r.failing {
			st += " !"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", st, r.product, r.cycle, r.version, r.eol, r.upgrade, r.maintainer, r.component)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w.out, "\n%s\n", s)
	return err
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

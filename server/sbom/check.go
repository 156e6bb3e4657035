package sbom

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// Exit codes of `eolwatch-server sbom check`.
const (
	ExitOK       = 0 // every judged component passed the --fail-on statuses
	ExitFailed   = 1 // a judged component has a --fail-on status
	ExitUnusable = 2 // the document (or the command line) is unusable
)

// CheckOptions configures Check.
type CheckOptions struct {
	// Format is the output format: jsonl (default), table or sarif.
	Format string
	// FailOn holds the statuses that fail the check (ParseFailOn).
	FailOn map[string]bool
	// Limits bound the document (zero fields: the agent report budget).
	Limits Limits
	// URI names the document in SARIF output (its path as given).
	URI string
}

// Check reads one SBOM from r, judges every component with j and writes
// the findings to out in opt.Format. Problems with the document are
// *Error (exit code ExitUnusable); then nothing is written to out, in any
// format: the findings are written once the whole document has been read
// (JSON lines wait in memory, then in a temporary file past a few MiB).
// Summary.Failed counts the findings with a FailOn status (exit code
// ExitFailed when it is not zero).
func Check(r io.Reader, j *Judge, opt CheckOptions, out io.Writer) (Summary, error) {
	uri := opt.URI
	if uri == "" || uri == "-" {
		uri = "stdin"
	}
	w, err := newWriter(opt.Format, out, uri)
	if err != nil {
		return Summary{}, err
	}
	s := Summary{ByStatus: map[string]int{}, AsOf: j.day}
	for st := range opt.FailOn {
		s.FailOn = append(s.FailOn, st)
	}
	sort.Strings(s.FailOn)
	rel := &docReleases{}
	judge := func(c *Component) error {
		f, ok, _, err := j.judge(c, rel)
		if err != nil || !ok {
			return err
		}
		s.Judged++
		s.ByStatus[f.Status]++
		failing := opt.FailOn[f.Status]
		if failing {
			s.Failed++
		}
		if err := w.write(&f, failing); err != nil {
			return &writeError{err}
		}
		return nil
	}
	doc, err := Read(r, opt.Limits, judge)
	s.Document = doc
	if err == nil {
		// an OS listed before its release package (base-files) is judged
		// last, with it
		for _, c := range rel.release() {
			if err = judge(&c); err != nil {
				break
			}
		}
	}
	if err != nil {
		w.abort()
		var we *writeError
		if errors.As(err, &we) {
			return s, we
		}
		return s, err
	}
	if err := w.close(&s); err != nil {
		return s, &writeError{err}
	}
	return s, nil
}

// writeError is a failure to write the output (not a problem with the input).
type writeError struct{ err error }

func (e *writeError) Error() string { return fmt.Sprintf("write output: %v", e.err) }
func (e *writeError) Unwrap() error { return e.err }

// ExitCode maps Check's outcome to the command's exit code: ExitUnusable
// for a problem with the document, ExitFailed for findings with a --fail-on
// status, 1 for any other error (writing the output), ExitOK otherwise.
func ExitCode(s Summary, err error) int {
	var de *Error
	switch {
	case errors.As(err, &de):
		return ExitUnusable
	case err != nil:
		return 1
	case s.Failed > 0:
		return ExitFailed
	}
	return ExitOK
}

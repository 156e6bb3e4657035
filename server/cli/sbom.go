package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eolwatch/eolwatch/catalog/cli"
	"github.com/eolwatch/eolwatch/server/match"
	"github.com/eolwatch/eolwatch/server/sbom"
)

const sbomUsage = `usage:
  eolwatch-server sbom check [flags] FILE|-
      Reads a CycloneDX (1.4-1.7) or SPDX (2.2, 2.3) JSON document (gzip
      accepted; - for stdin) and judges every component a catalog product
      claims: one JSON verdict per line (the catalog verdict plus the
      component's name, version, purl and bom-ref), an aligned table, or
      SARIF 2.1.0 for code-scanning tools.
      Exit status: 0 no judged component has a --fail-on status; 1 one has;
      2 unusable input (not JSON, unknown format, over the budget, a bad
      purl...) or a usage error. docs/sbom.md has a pipeline example.

flags:
`

func runSBOM(ctx context.Context, args []string, stdio Stdio) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdio.Out, sbomUsage)
		newSBOMCheckFlags(stdio.Out).fs.PrintDefaults()
		if len(args) == 0 {
			return usageErrorf("sbom: missing subcommand (check)")
		}
		return nil
	}
	switch args[0] {
	case "check":
		return sbomCheck(ctx, args[1:], stdio)
	}
	return usageErrorf("sbom: unknown subcommand %q (check)", args[0])
}

// sbomCheckFlags are the flags of `sbom check`; the catalog, day and
// policy flags are catalog evaluate's own (catalog/cli.EvalFlags).
type sbomCheckFlags struct {
	fs            *flag.FlagSet
	eval          cli.EvalFlags
	format        string
	failOn        string
	maxBytes      int64
	maxComponents int
}

func newSBOMCheckFlags(out io.Writer) *sbomCheckFlags {
	f := &sbomCheckFlags{fs: flag.NewFlagSet("sbom check", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(out)
	lim := sbom.DefaultLimits()
	fs.StringVar(&f.format, "format", sbom.FormatJSONL, "output: jsonl (one verdict per judged component), table, or sarif (SARIF 2.1.0)")
	fs.StringVar(&f.failOn, "fail-on", "", "comma-separated statuses that make the check fail with exit status 1 (e.g. eol,patch-overdue)")
	f.eval.Register(fs)
	fs.Int64Var(&f.maxBytes, "max-bytes", lim.MaxBytes, "largest document accepted, in bytes after decompression (the agent report budget)")
	fs.IntVar(&f.maxComponents, "max-components", lim.MaxComponents, "most components accepted (the agent report budget)")
	return f
}

// sbomCheck runs `sbom check`.
func sbomCheck(ctx context.Context, args []string, stdio Stdio) error {
	f := newSBOMCheckFlags(stdio.Err)
	pos, err := parseInterleaved(f.fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return usageErrorf("sbom check: %v", err)
	}
	if len(pos) != 1 {
		return usageErrorf("sbom check: name one FILE (or - for stdin)")
	}
	failOn, err := sbom.ParseFailOn(f.failOn)
	if err != nil {
		return usageErrorf("sbom check: --fail-on: %v", err)
	}
	switch f.format {
	case sbom.FormatJSONL, sbom.FormatTable, sbom.FormatSARIF:
	default:
		return usageErrorf("sbom check: --format %q: want %s", f.format, strings.Join(sbom.OutputFormats, ", "))
	}
	if err := f.eval.Check(); err != nil {
		return usageErrorf("sbom check: %v", err)
	}
	if f.maxBytes <= 0 || f.maxComponents <= 0 {
		return usageErrorf("sbom check: --max-bytes and --max-components must be positive")
	}
	day, err := f.eval.Day()
	if err != nil {
		return usageErrorf("sbom check: %v", err)
	}
	cat, err := f.eval.Catalog()
	if err != nil {
		return usageErrorf("sbom check: --catalog: %v", err)
	}

	name := pos[0]
	var in io.Reader = stdio.In
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return &exitError{code: sbom.ExitUnusable, msg: "sbom check: " + err.Error()}
		}
		defer file.Close()
		in = file
	}
	j := sbom.NewJudge(sbom.NewMatcher(match.New(cat)), day, f.eval.Policy)
	sum, err := sbom.Check(contextReader{ctx, in}, j, sbom.CheckOptions{Format: f.format, FailOn: failOn, URI: name,
		Limits: sbom.Limits{MaxBytes: f.maxBytes, MaxComponents: f.maxComponents}}, stdio.Out)
	switch code := sbom.ExitCode(sum, err); code {
	case sbom.ExitOK, sbom.ExitFailed:
		if f.format != sbom.FormatTable {
			fmt.Fprintf(stdio.Err, "eolwatch-server sbom check: %s: %s\n", name, sum)
		}
		if code == sbom.ExitFailed {
			return &exitError{code: code, msg: fmt.Sprintf("sbom check: %d judged component(s) with a --fail-on status (%s)", sum.Failed, strings.Join(sum.FailOn, ","))}
		}
		return nil
	case sbom.ExitUnusable:
		return &exitError{code: code, msg: fmt.Sprintf("sbom check: %s: %v", name, err)}
	default:
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("sbom check: %w", err)
	}
}

// contextReader stops reading when ctx is done (an interrupted check of a
// large document on a pipe).
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Package cli implements the `eolwatch-server catalog ...` commands:
// evaluate (the JSON-lines verdict contract), validate, info and show.
package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

// UsageError marks a mistake in how a command was called (exit code 2).
type UsageError struct{ Msg string }

// Error implements error.
func (e *UsageError) Error() string { return e.Msg }

// maxLine bounds one input line of `catalog evaluate`.
const maxLine = 1 << 20

// Main runs `catalog SUBCOMMAND [flags]`; args excludes the word "catalog".
func Main(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(out)
		if len(args) == 0 {
			return &UsageError{Msg: "catalog: missing subcommand"}
		}
		return nil
	}
	var err error
	switch args[0] {
	case "evaluate":
		err = evaluate(ctx, args[1:], in, out, errw)
	case "validate":
		err = validate(args[1:], out, errw)
	case "info":
		err = info(args[1:], out, errw)
	case "show":
		err = show(args[1:], out, errw)
	default:
		usage(errw)
		return &UsageError{Msg: fmt.Sprintf("catalog: unknown subcommand %q", args[0])}
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the subcommand's flags; it does not run
	}
	return err
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: eolwatch-server catalog SUBCOMMAND [flags]

subcommands:
  evaluate [--catalog PATH]... [--with-default] [--as-of YYYY-MM-DD] [--warn-days N] [--grace-days N]
           [--extended-support free|all|none] [--extended-support-for PRODUCT=free|all|none]...
           reads JSON lines {"product","version","as_of"} on stdin (plus, for a distribution's package,
           "distro","distro_version","installed","candidate","candidate_seen","enrolled"),
           writes one verdict per line
  validate FILE...                     checks catalog files strictly; exit status 1 on any error
  info [--catalog PATH]... [--json] [--license]
                                       source commit, licence, content version and size of the catalog
  show PRODUCT [--catalog PATH]... [--as-of YYYY-MM-DD] [--json]
                                       the product's cycles with their dates and status
`)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

// String implements flag.Value.
func (m *multiFlag) String() string { return strings.Join(*m, ",") }

// Set implements flag.Value: each use of the flag adds one value.
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// common holds the flags shared by the subcommands that read a catalog.
type common struct {
	catalogs    multiFlag
	withDefault bool
	asOf        string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.catalogs, "catalog", "catalog file (own YAML/JSON, endoflife.date products.json/releases.json or API v1); repeatable; replaces the embedded catalog")
	fs.BoolVar(&c.withDefault, "with-default", false, "with --catalog: merge the files over the embedded default catalog instead of replacing it")
	fs.StringVar(&c.asOf, "as-of", "", "evaluate as of this day (YYYY-MM-DD); default today (UTC)")
}

func (c *common) load() (*catalog.Catalog, error) {
	if len(c.catalogs) == 0 {
		return catalog.Default()
	}
	cat, err := catalog.LoadFiles(c.catalogs...)
	if err != nil {
		return nil, err
	}
	if c.withDefault {
		def, err := catalog.Default()
		if err != nil {
			return nil, err
		}
		cat = catalog.Merge(def, cat)
	}
	return cat, nil
}

func (c *common) day() (time.Time, error) {
	if c.asOf == "" {
		return catalog.DateOf(time.Now()).Time, nil
	}
	d, err := catalog.ParseDate(c.asOf)
	if err != nil {
		return time.Time{}, &UsageError{Msg: "--as-of: " + err.Error()}
	}
	return d.Time, nil
}

func parseFlags(fs *flag.FlagSet, args []string, errw io.Writer) error {
	fs.SetOutput(errw)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err // Main answers it: the flags are printed, nothing runs
		}
		return &UsageError{Msg: err.Error()}
	}
	return nil
}

// evalInput is one line of `catalog evaluate` input. The distribution
// fields are catalog.Context's: with "distro" the package is judged by that
// distribution's release "distro_version" (catalog.EvaluateIn).
type evalInput struct {
	Product       *string  `json:"product"`
	Version       *string  `json:"version"`
	AsOf          *string  `json:"as_of"`
	Distro        string   `json:"distro"`
	DistroVersion string   `json:"distro_version"`
	Installed     string   `json:"installed"`
	Candidate     string   `json:"candidate"`
	CandidateSeen string   `json:"candidate_seen"`
	Enrolled      []string `json:"enrolled"`
}

// extendedFor collects --extended-support-for PRODUCT=MODE.
type extendedFor map[string]string

// String implements flag.Value.
func (e extendedFor) String() string {
	parts := make([]string, 0, len(e))
	for k, v := range e {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value: each use adds one or more products' settings
// (catalog.ParseExtendedFor, as every command reads them).
func (e extendedFor) Set(s string) error { return catalog.ParseExtendedFor(s, e) }

// evalOutput is one verdict line: the verdict fields plus as_of.
type evalOutput struct {
	catalog.Verdict
	AsOf string `json:"as_of"`
}

type lineError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// EvalFlags are the flags of `catalog evaluate` that choose the catalog,
// the day and the support policy: --catalog (repeatable), --with-default,
// --as-of, --warn-days, --grace-days, --extended-support and
// --extended-support-for. Other commands that judge versions (`sbom check`)
// register the same flags, so they work alike everywhere.
type EvalFlags struct {
	common
	// Policy is the policy the flags set, starting from the default one.
	Policy catalog.Policy
}

// Register adds the flags to fs.
func (f *EvalFlags) Register(fs *flag.FlagSet) {
	f.common.register(fs)
	f.Policy = catalog.DefaultPolicy()
	pol := &f.Policy
	fs.IntVar(&pol.WarnDays, "warn-days", pol.WarnDays, "days before end of life that count as eol-soon")
	fs.IntVar(&pol.GraceDays, "grace-days", pol.GraceDays, "days after a newer patch before an install is patch-overdue")
	fs.StringVar(&pol.ExtendedSupport, "extended-support", pol.ExtendedSupport,
		"which extended-support programmes keep a cycle supported: free (free ones such as Debian LTS; paid ones only for enrolled hosts), all, none")
	pol.ExtendedSupportFor = extendedFor{}
	fs.Var(extendedFor(pol.ExtendedSupportFor), "extended-support-for", "PRODUCT=free|all|none: --extended-support for one product; repeatable")
}

// Check validates the policy flags once parsed; the error is a *UsageError
// naming the flag.
func (f *EvalFlags) Check() error {
	if f.Policy.WarnDays < 0 || f.Policy.GraceDays < 0 {
		return &UsageError{Msg: "--warn-days and --grace-days must not be negative"}
	}
	if err := f.Policy.Validate(); err != nil {
		return &UsageError{Msg: "--" + err.Error()}
	}
	return nil
}

// Catalog loads the catalog the flags name: the embedded one, or the
// --catalog files instead of it (merged over it with --with-default).
func (f *EvalFlags) Catalog() (*catalog.Catalog, error) { return f.common.load() }

// Day returns the --as-of day (a *UsageError when it is not a date), or today (UTC).
func (f *EvalFlags) Day() (time.Time, error) { return f.common.day() }

func evaluate(ctx context.Context, args []string, in io.Reader, out, errw io.Writer) error {
	fs := flag.NewFlagSet("catalog evaluate", flag.ContinueOnError)
	var ef EvalFlags
	ef.Register(fs)
	if err := parseFlags(fs, args, errw); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &UsageError{Msg: "catalog evaluate: unexpected argument " + strconv.Quote(fs.Arg(0)) + " (input is read from stdin)"}
	}
	if err := ef.Check(); err != nil {
		return &UsageError{Msg: "catalog evaluate: " + err.Error()}
	}
	pol := ef.Policy
	def, err := ef.Day()
	if err != nil {
		return err
	}
	cat, err := ef.Catalog()
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(in, 64<<10)
	bw := bufio.NewWriter(out)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, tooLong, err := readLine(br)
		if err == io.EOF && line == nil {
			break
		}
		if err != nil && err != io.EOF {
			return fmt.Errorf("read input: %w", err)
		}
		if tooLong {
			_ = enc.Encode(lineError{Line: n, Error: fmt.Sprintf("line is longer than %d bytes", maxLine)})
			continue
		}
		trimmed := strings.TrimSpace(string(line))
		if trimmed == "" {
			continue
		}
		res, err := evalLine(cat, trimmed, def, pol)
		if err != nil {
			_ = enc.Encode(lineError{Line: n, Error: err.Error()})
			continue
		}
		if err := enc.Encode(res); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		if br.Buffered() == 0 {
			// flush when the input is idle so interactive callers see answers promptly
			if err := bw.Flush(); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
	}
	return bw.Flush()
}

func evalLine(cat *catalog.Catalog, line string, def time.Time, pol catalog.Policy) (evalOutput, error) {
	var in evalInput
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			want := "a string"
			if te.Field == "enrolled" {
				want = "a list of strings"
			}
			return evalOutput{}, fmt.Errorf("%q must be %s, not a JSON %s", te.Field, want, te.Value)
		}
		return evalOutput{}, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return evalOutput{}, errors.New("invalid JSON: more than one value on the line")
	}
	ctx := catalog.Context{Distro: strings.TrimSpace(in.Distro), DistroRelease: strings.TrimSpace(in.DistroVersion),
		Installed: strings.TrimSpace(in.Installed), Candidate: strings.TrimSpace(in.Candidate), Enrolled: in.Enrolled}
	if ctx.Distro != "" && ctx.DistroRelease == "" {
		return evalOutput{}, errors.New(`"distro" needs "distro_version" (the distribution release the host runs, e.g. "12")`)
	}
	if ctx.Distro == "" && (ctx.DistroRelease != "" || ctx.Installed != "" || ctx.Candidate != "" || in.CandidateSeen != "") {
		return evalOutput{}, errors.New(`"distro_version", "installed", "candidate" and "candidate_seen" need "distro" (the distribution whose archive the package came from)`)
	}
	if in.CandidateSeen != "" {
		seen, err := parseWhen(in.CandidateSeen)
		if err != nil {
			return evalOutput{}, fmt.Errorf("candidate_seen: %v", err)
		}
		ctx.CandidateSeen = seen
	}
	if in.Product == nil || strings.TrimSpace(*in.Product) == "" {
		return evalOutput{}, errors.New(`missing "product"`)
	}
	if in.Version == nil {
		return evalOutput{}, errors.New(`missing "version"`)
	}
	day := def
	if in.AsOf != nil && *in.AsOf != "" {
		d, err := catalog.ParseDate(*in.AsOf)
		if err != nil {
			return evalOutput{}, fmt.Errorf("as_of: %v", err)
		}
		day = d.Time
	}
	v := cat.EvaluateIn(*in.Product, *in.Version, ctx, day, pol)
	v.Product = *in.Product
	return evalOutput{Verdict: v, AsOf: day.Format(catalog.DateLayout)}, nil
}

// parseWhen reads a day (YYYY-MM-DD) or an RFC 3339 time.
func parseWhen(s string) (time.Time, error) {
	if d, err := catalog.ParseDate(s); err == nil {
		return d.Time, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad time %q: want YYYY-MM-DD or RFC 3339", s)
	}
	return t, nil
}

// readLine reads one line; a line longer than maxLine is consumed and reported.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, e := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLine {
			tooLong = true
		} else {
			line = append(line, chunk...)
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e == io.EOF && len(line) == 0 && !tooLong {
			return nil, false, io.EOF
		}
		if tooLong {
			return []byte{}, true, nil
		}
		return line, false, e
	}
}

func validate(args []string, out, errw io.Writer) error {
	fs := flag.NewFlagSet("catalog validate", flag.ContinueOnError)
	if err := parseFlags(fs, args, errw); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return &UsageError{Msg: "catalog validate: name at least one FILE"}
	}
	failed := 0
	for _, f := range fs.Args() {
		cat, err := catalog.LoadFiles(f)
		if err != nil {
			failed++
			fmt.Fprintf(out, "FAIL %s\n", err)
			continue
		}
		in := cat.Info()
		fmt.Fprintf(out, "ok   %s: %d products, %d cycles\n", f, in.Products, in.Cycles)
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d catalog files have errors", failed, fs.NArg())
	}
	return nil
}

func info(args []string, out, errw io.Writer) error {
	fs := flag.NewFlagSet("catalog info", flag.ContinueOnError)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	lic := fs.Bool("license", false, "also print the full licence text of the embedded data")
	if err := parseFlags(fs, args, errw); err != nil {
		return err
	}
	cat, err := c.load()
	if err != nil {
		return err
	}
	in := cat.Info()
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "source:\t%s\n", in.Source)
	fmt.Fprintf(tw, "commit:\t%s\n", in.Commit)
	fmt.Fprintf(tw, "license:\t%s\n", in.License)
	fmt.Fprintf(tw, "version:\t%s\n", in.Version)
	fmt.Fprintf(tw, "products:\t%d\n", in.Products)
	fmt.Fprintf(tw, "cycles:\t%d\n", in.Cycles)
	if len(c.catalogs) == 0 {
		fmt.Fprintf(tw, "data:\tembedded default catalog generated from the endoflife.date extract (licence text: catalog info --license)\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if *lic {
		fmt.Fprintln(out)
		fmt.Fprint(out, catalog.DefaultLicense)
	}
	return nil
}

// showCycle is one row of `catalog show --json`.
type showCycle struct {
	Cycle    string `json:"cycle"`
	Label    string `json:"label,omitempty"`
	Released string `json:"released,omitempty"`
	EOAS     any    `json:"eoas,omitempty"`
	EOL      any    `json:"eol"`
	EOES     any    `json:"eoes,omitempty"`
	LTS      bool   `json:"lts,omitempty"`
	Latest   string `json:"latest,omitempty"`
	Status   string `json:"status"`
}

func show(args []string, out, errw io.Writer) error {
	fs := flag.NewFlagSet("catalog show", flag.ContinueOnError)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	// allow `show PRODUCT --flags` as well as `show --flags PRODUCT`
	var pos []string
	var flagArgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flagArgs = append(flagArgs, a)
			if !strings.Contains(a, "=") && (a == "--catalog" || a == "-catalog" || a == "--as-of" || a == "-as-of") && i+1 < len(args) {
				flagArgs = append(flagArgs, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	if err := parseFlags(fs, flagArgs, errw); err != nil {
		return err
	}
	if len(pos) != 1 {
		return &UsageError{Msg: "catalog show: name exactly one PRODUCT"}
	}
	day, err := c.day()
	if err != nil {
		return err
	}
	cat, err := c.load()
	if err != nil {
		return err
	}
	p := cat.Product(pos[0])
	if p == nil {
		return fmt.Errorf("catalog show: unknown product %q", pos[0])
	}
	rows := make([]showCycle, 0, len(p.Cycles))
	for _, cy := range p.Cycles {
		st := catalog.CycleStatus(cy, day, catalog.DefaultPolicy())
		row := showCycle{Cycle: cy.Name, Label: cy.Label, Released: cy.ReleaseDate.String(), EOAS: cy.EOAS.Value(), EOL: cy.EOL.Value(),
			EOES: cy.EOES.Value(), LTS: cy.LTS, Latest: catalog.LatestAsOf(p, cy, day), Status: st}
		rows = append(rows, row)
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Product  string      `json:"product"`
			Label    string      `json:"label"`
			Category string      `json:"category,omitempty"`
			Scheme   string      `json:"scheme,omitempty"`
			AsOf     string      `json:"as_of"`
			Cycles   []showCycle `json:"cycles"`
		}{p.ID, p.Label, p.Category, string(p.Scheme), day.Format(catalog.DateLayout), rows})
	}
	scheme := string(p.Scheme)
	if scheme == "" {
		scheme = "auto"
	}
	fmt.Fprintf(out, "%s (%s) · category %s · version scheme %s · status as of %s\n\n", p.Label, p.ID, orDash(p.Category), scheme, day.Format(catalog.DateLayout))
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CYCLE\tRELEASED\tACTIVE SUPPORT\tEND OF LIFE\tEXTENDED\tLATEST\tSTATUS")
	for _, r := range rows {
		name := r.Cycle
		switch {
		case r.Label == "" || r.Label == r.Cycle:
		case strings.HasPrefix(r.Label, r.Cycle+" "):
			name = r.Label // "12 (Bookworm)" already names the cycle
		default:
			name += " (" + r.Label + ")"
		}
		if r.LTS {
			name += " LTS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, orDash(r.Released), catalog.EOLWords(r.EOAS), catalog.EOLWords(r.EOL), catalog.EOLWords(r.EOES), orDash(r.Latest), r.Status)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
)

const matchUsage = `usage:
  eolwatch-server match explain [flags] SOURCE NAME VERSION
      SOURCE is dpkg, rpm, apk, os, windows-registry, macos-app or probe.
      Prints the steps tried, the rule that matched and why, and the verdict
      with the catalog. For the OS: match explain os "Windows 11 Enterprise" 10.0.22631.3296
  eolwatch-server match coverage [flags] < INVENTORY
      INVENTORY is "eolwatch-agent inventory --json" output or dpkg-query lines
      (dpkg-query -W -f='${Package}\t${Version}\t${source:Package}\n').
      Prints how many items matched a product, per product, and the unmatched ones.
  eolwatch-server match rules [flags]
      Lists the rules in the order they are checked.

flags:
`

// matchFlags are the flags shared by the match subcommands.
type matchFlags struct {
	catalogs  listFlag
	rules     string
	asOf      string
	srcPkg    string
	publisher string
	bundleID  string
	product   string
	jsonOut   bool
	all       bool
}

func (f *matchFlags) set(fs *flag.FlagSet) {
	fs.Var(&f.catalogs, "catalog", "catalog file merged over the default catalog (repeatable)")
	fs.StringVar(&f.rules, "rules", "", "YAML file of user matching rules, checked before the built-in ones (docs/matching.md)")
	fs.StringVar(&f.asOf, "as-of", "", "day of the verdict, YYYY-MM-DD (default today)")
	fs.StringVar(&f.srcPkg, "source-pkg", "", "explain: the item's source package (dpkg/rpm)")
	fs.StringVar(&f.publisher, "publisher", "", "explain: the item's publisher (Windows)")
	fs.StringVar(&f.bundleID, "bundle-id", "", "explain: the item's bundle identifier (macOS)")
	fs.StringVar(&f.product, "product", "", "explain: the item's catalog product hint (probes)")
	fs.BoolVar(&f.jsonOut, "json", false, "write JSON")
	fs.BoolVar(&f.all, "all", false, "coverage: list every unmatched item, not only the first 50")
}

// parseInterleaved parses flags that may come before, between or after
// the positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func runMatch(ctx context.Context, args []string, stdio Stdio) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdio.Out, matchUsage)
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("match "+sub, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	var f matchFlags
	f.set(fs)
	fs.Usage = func() { fmt.Fprint(stdio.Err, matchUsage); fs.PrintDefaults() }
	pos, err := parseInterleaved(fs, args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageErrorf("%s", err)
	}
	asOf := time.Now().UTC()
	if f.asOf != "" {
		asOf, err = time.Parse(time.DateOnly, f.asOf)
		if err != nil {
			return usageErrorf("--as-of %q is not a YYYY-MM-DD date", f.asOf)
		}
	}
	switch sub {
	case "explain", "coverage", "rules":
	default:
		fmt.Fprint(stdio.Err, matchUsage)
		return usageErrorf("match: unknown subcommand %q", sub)
	}
	if sub == "explain" && len(pos) != 3 {
		return usageErrorf("match explain: want SOURCE NAME VERSION, got %d argument(s)", len(pos))
	}
	if sub != "explain" && len(pos) != 0 {
		return usageErrorf("match %s: unexpected argument %q", sub, pos[0])
	}
	m, err := buildMatcher(f.catalogs, f.rules)
	if err != nil {
		return err
	}
	switch sub {
	case "explain":
		return matchExplain(m, f, pos, asOf, stdio.Out)
	case "coverage":
		return matchCoverage(m, f, stdio.In, stdio.Out)
	default:
		return matchRules(m, f, stdio.Out)
	}
}

// buildMatcher loads the default catalog with the extra files merged over
// it and the user rules file.
func buildMatcher(files []string, rulesFile string) (*match.Matcher, error) {
	cat, err := loadCatalog(files)
	if err != nil {
		return nil, err
	}
	var rules []match.Rule
	if rulesFile != "" {
		if rules, err = match.LoadRulesFile(rulesFile); err != nil {
			return nil, err
		}
	}
	return match.NewWithRules(cat, rules)
}

func matchExplain(m *match.Matcher, f matchFlags, pos []string, asOf time.Time, w io.Writer) error {
	it := api.Item{Source: pos[0], Name: pos[1], Version: pos[2], SourcePkg: f.srcPkg, Publisher: f.publisher,
		BundleID: f.bundleID, Product: f.product}
	var e match.Explanation
	if it.Source == match.SourceOS {
		h := api.HostInfo{OSName: it.Name, OSVersion: it.Version, OSBuild: it.Version, OSID: strings.ToLower(it.Name)}
		if f.product != "" {
			h.OSID = f.product
		}
		e = m.ExplainOS(h)
	} else {
		e = m.Explain(it)
	}
	var verdict *catalog.Verdict
	if e.Matched {
		v := m.Catalog().Evaluate(e.Product, e.Version, asOf, catalog.DefaultPolicy())
		verdict = &v
	}
	if f.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			match.Explanation
			Verdict *catalog.Verdict `json:"verdict,omitempty"`
		}{e, verdict})
	}
	fmt.Fprintf(w, "item:    %s %q version %q", it.Source, it.Name, it.Version)
	if it.SourcePkg != "" {
		fmt.Fprintf(w, " (source package %s)", it.SourcePkg)
	}
	if it.Publisher != "" {
		fmt.Fprintf(w, " (publisher %s)", it.Publisher)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "steps:")
	for i, s := range e.Steps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	if !e.Matched {
		fmt.Fprintln(w, "match:   none — the item stays in the inventory, counted as unmatched (add a rule: docs/matching.md)")
		return nil
	}
	fmt.Fprintf(w, "match:   %s %s (%s)\n", e.Product, e.Version, e.Rule)
	if e.Cycle != "" {
		fmt.Fprintf(w, "cycle:   %s\n", e.Cycle)
	}
	fmt.Fprintf(w, "why:     %s\n", e.Why)
	fmt.Fprintf(w, "verdict: %s (cycle %s) — %s\n", verdict.Status, verdict.Cycle, verdict.Reason)
	return nil
}

// readInventory reads agent inventory JSON or dpkg-query tab-separated lines.
func readInventory(r io.Reader) ([]api.Item, error) {
	data, err := io.ReadAll(io.LimitReader(r, api.MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read inventory: %w", err)
	}
	if len(data) > api.MaxReportBytes {
		return nil, fmt.Errorf("inventory larger than %d bytes", api.MaxReportBytes)
	}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		var inv struct {
			Host  api.HostInfo `json:"host"`
			Items []api.Item   `json:"items"`
		}
		if err := json.Unmarshal(t, &inv); err != nil {
			return nil, fmt.Errorf("inventory JSON: %w", err)
		}
		items := inv.Items
		if inv.Host.OSID != "" || inv.Host.OSName != "" {
			items = append(items, api.Item{Source: match.SourceOS, Name: inv.Host.OSID, Version: inv.Host.OSVersion})
		}
		return items, nil
	}
	var items []api.Item
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want PACKAGE<TAB>VERSION[<TAB>SOURCE], got %q", n, line)
		}
		it := api.Item{Source: match.SourceDpkg, Name: fields[0], Version: fields[1]}
		if len(fields) > 2 {
			it.SourcePkg = fields[2]
		}
		items = append(items, it)
	}
	return items, sc.Err()
}

func matchCoverage(m *match.Matcher, f matchFlags, in io.Reader, w io.Writer) error {
	items, err := readInventory(in)
	if err != nil {
		return err
	}
	cov := match.Cover(m, items)
	if f.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(cov)
	}
	fmt.Fprintf(w, "items: %d, matched: %d (%.1f%%), distinct product versions: %d, unmatched: %d\n",
		cov.Items, cov.Matched, cov.Percent(), len(cov.Products), cov.Unmatched)
	for _, p := range cov.Products {
		fmt.Fprintf(w, "  %-24s %-16s %3d item(s): %s\n", p.Product, p.Version, len(p.Items), strings.Join(p.Items, ", "))
	}
	names := cov.UnmatchedNames
	sort.Strings(names)
	if len(names) > 50 && !f.all {
		fmt.Fprintf(w, "unmatched (first 50 of %d; --all for every one):\n  %s\n", len(names), strings.Join(names[:50], " "))
	} else if len(names) > 0 {
		fmt.Fprintf(w, "unmatched:\n  %s\n", strings.Join(names, " "))
	}
	return nil
}

func matchRules(m *match.Matcher, f matchFlags, w io.Writer) error {
	rules := m.Rules()
	if f.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	}
	for i, r := range rules {
		target := r.Product
		if r.Ignore {
			target = "(ignored)"
		}
		sel := r.Name + r.Prefix + r.Pattern + r.SourcePkg + r.BundleID
		src := strings.Join(r.Sources, ",")
		if src == "" {
			src = "dpkg,rpm,apk"
		}
		fmt.Fprintf(w, "%3d  %-40s %-22s %-30q → %s\n", i+1, r.ID, src, sel, target)
	}
	return nil
}

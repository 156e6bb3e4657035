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
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/match"
	"github.com/eolwatch/eolwatch/server/match/pkglist"
	"github.com/eolwatch/eolwatch/server/service"
)

const matchUsage = `usage:
  eolwatch-server match explain [flags] SOURCE NAME VERSION
      SOURCE is dpkg, rpm, apk, os, windows-registry, macos-app, probe, or a package
      ecosystem: pypi, npm, maven (NAME group:artifact), nuget, golang, gem, composer,
      cargo, generic.
      Prints the steps tried, the rule that matched and why, and the verdict
      with the catalog. For the OS: match explain os "Windows 11 Enterprise" 10.0.22631.3296
      A distribution's package (dpkg, rpm, apk) is judged as on a host with
      --distro ID --distro-version V (the host's OS, as os-release says it):
      by that release when the installed version is its own package, which
      --origin, --suite, --candidate, --candidate-origin, --candidate-suite
      and --candidate-seen say as the agent reports them, e.g.
        match explain dpkg python3.11 3.11.2-6+deb12u6 --source-pkg python3.11 \
          --distro debian --distro-version 12 --origin none \
          --candidate 3.11.2-6+deb12u9 --candidate-suite bookworm-security
  eolwatch-server match coverage [flags] < INVENTORY
      INVENTORY is a package list (--input, told apart by default): "eolwatch-agent
      inventory --json" output, dpkg-query lines (dpkg-query -W -f='${Package}\t${Version}\t${source:Package}\n',
      optionally \t${Section}\t${binary:Summary}), apt Packages files or dpkg's status file,
      rpm -qa --qf '%{NEVRA}\t%{VENDOR}\t%{SOURCERPM}\t%{SUMMARY}\n' lines, or an APKINDEX.
      Prints how many items matched a product, per product, and the unmatched ones;
      --format jsonl writes one JSON object per input item instead (source, name,
      version, source_pkg, product, product_version, cycle, rule).
  eolwatch-server match review [flags] < COVERAGE.jsonl
      Reads "match coverage --format jsonl" output and prints every claimed product
      with its counts, versions and the package names each rule claimed, for a
      person to read a whole archive's claims (make match-review LISTS=...).
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
	input     string
	format    string
	maxNames  int

	// explain: the host's distribution and where the package comes from
	distro, distroVersion      string
	origin, suite              string
	candidate                  string
	candidateOrigin, candSuite string
	candidateSeen              string
}

// hostFlags are match explain's flags that put a package on a host of a
// distribution; they mean nothing without --distro.
var hostFlags = []string{"distro", "distro-version", "origin", "suite", "candidate", "candidate-origin", "candidate-suite", "candidate-seen"}

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
	fs.StringVar(&f.input, "input", pkglist.FormatAuto, "coverage: the package list's format: "+strings.Join(pkglist.Formats, ", "))
	fs.StringVar(&f.format, "format", "table", "coverage: table, json or jsonl (one object per input item)")
	fs.IntVar(&f.maxNames, "max-names", 0, "review: list at most N package names per rule (0: all)")
	fs.StringVar(&f.distro, "distro", "", "explain: the host's distribution, os-release ID (debian, ubuntu, rhel, alpine, ...)")
	fs.StringVar(&f.distroVersion, "distro-version", "", "explain: the host's release, os-release VERSION_ID or point release (12, 12.11, 22.04)")
	fs.StringVar(&f.origin, "origin", "", "explain: the origin of the repository offering the installed version (apt Origin, rpm Vendor); "+
		"default the distribution's own archive; none: no repository offers it")
	fs.StringVar(&f.suite, "suite", "", "explain: the suite offering the installed version (bookworm-security, v3.20/main)")
	fs.StringVar(&f.candidate, "candidate", "", "explain: the version the package manager would install (apt-cache policy's Candidate)")
	fs.StringVar(&f.candidateOrigin, "candidate-origin", "", "explain: the origin of the candidate when it is not the installed version; "+
		"default the distribution's own archive; none: unknown")
	fs.StringVar(&f.candSuite, "candidate-suite", "", "explain: the suite of the candidate (bookworm-security)")
	fs.StringVar(&f.candidateSeen, "candidate-seen", "", "explain: the day the server first saw the candidate, YYYY-MM-DD (default --as-of: seen today)")
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
		fmt.Fprint(stdio.Out, matchUsage) // it ends with "flags:": list them
		fs := flag.NewFlagSet("match", flag.ContinueOnError)
		fs.SetOutput(stdio.Out)
		var f matchFlags
		f.set(fs)
		fs.PrintDefaults()
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
		return flagError(err)
	}
	asOf := time.Now().UTC()
	if f.asOf != "" {
		asOf, err = time.Parse(time.DateOnly, f.asOf)
		if err != nil {
			return usageErrorf("--as-of %q is not a YYYY-MM-DD date", f.asOf)
		}
	}
	switch sub {
	case "explain", "coverage", "rules", "review":
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
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	if sub != "explain" {
		for _, name := range hostFlags {
			if given[name] {
				return usageErrorf("match %s: --%s is for match explain", sub, name)
			}
		}
	}
	if sub == "review" {
		return matchReview(f, stdio.In, stdio.Out)
	}
	if f.jsonOut {
		f.format = "json"
	}
	switch f.format {
	case "table", "json", "jsonl":
	default:
		return usageErrorf("match %s: --format %q: want table, json or jsonl", sub, f.format)
	}
	if !slices.Contains(pkglist.Formats, f.input) {
		return usageErrorf("match %s: --input %q: want %s", sub, f.input, strings.Join(pkglist.Formats, ", "))
	}
	m, err := buildMatcher(f.catalogs, f.rules)
	if err != nil {
		return err
	}
	switch sub {
	case "explain":
		return matchExplain(m, f, given, pos, asOf, stdio.Out)
	case "coverage":
		return matchCoverage(m, f, asOf, stdio.In, stdio.Out)
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

// explainContext is how match explain judged a package on a host
// (--distro): the JSON form of service.ItemJudgement's context.
type explainContext struct {
	Host          string `json:"host"`      // the host's OS as the catalog knows it: "debian 12"
	JudgedBy      string `json:"judged_by"` // "debian 12", or "upstream"
	Why           string `json:"why"`
	Installed     string `json:"installed,omitempty"`
	Candidate     string `json:"candidate,omitempty"`
	CandidateSeen string `json:"candidate_seen,omitempty"`
}

func matchExplain(m *match.Matcher, f matchFlags, given map[string]bool, pos []string, asOf time.Time, w io.Writer) error {
	it := api.Item{Source: pos[0], Name: pos[1], Version: pos[2], SourcePkg: f.srcPkg, Publisher: f.publisher,
		BundleID: f.bundleID, Product: f.product}
	host, seen, err := explainHost(m, f, given, &it, asOf)
	if err != nil {
		return err
	}
	var e match.Explanation
	var verdict *catalog.Verdict
	var ctx *explainContext
	if it.Source == match.SourceOS {
		h := api.HostInfo{OSName: it.Name, OSVersion: it.Version, OSBuild: it.Version, OSID: strings.ToLower(it.Name)}
		if f.product != "" {
			h.OSID = f.product
		}
		e = m.ExplainOS(h)
		if e.Matched {
			v := m.Catalog().Evaluate(e.Product, e.Version, asOf, catalog.DefaultPolicy())
			verdict = &v
		}
	} else {
		e = m.Explain(it)
		j := service.JudgeItem(m, catalog.DefaultPolicy(), host, it, seen, asOf)
		verdict = j.Verdict
		if f.distro != "" {
			ctx = &explainContext{Host: j.OSProduct + " " + j.OSRelease, JudgedBy: "upstream", Why: j.Why}
			if c := j.Context; c.Distro != "" {
				ctx.JudgedBy = c.Distro + " " + c.DistroRelease
				ctx.Installed, ctx.Candidate = c.Installed, c.Candidate
				if !c.CandidateSeen.IsZero() {
					ctx.CandidateSeen = c.CandidateSeen.Format(time.DateOnly)
				}
			}
		}
	}
	if f.jsonOut {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			match.Explanation
			Context *explainContext  `json:"context,omitempty"`
			Verdict *catalog.Verdict `json:"verdict,omitempty"`
		}{e, ctx, verdict})
	}
	fmt.Fprintf(w, "item:    %s %q version %q", it.Source, it.Name, it.Version)
	if it.SourcePkg != "" {
		fmt.Fprintf(w, " (source package %s)", it.SourcePkg)
	}
	if it.Publisher != "" {
		fmt.Fprintf(w, " (publisher %s)", it.Publisher)
	}
	fmt.Fprintln(w)
	if ctx != nil {
		fmt.Fprintf(w, "host:    %s; installed version's origin %s", ctx.Host, orNone(it.Origin))
		if it.Suite != "" {
			fmt.Fprintf(w, " (suite %s)", it.Suite)
		}
		if it.Candidate != "" {
			fmt.Fprintf(w, "; candidate %s", it.Candidate)
			if it.Candidate != it.Version {
				fmt.Fprintf(w, " from origin %s", orNone(it.CandidateOrigin))
				if it.CandidateSuite != "" {
					fmt.Fprintf(w, " (suite %s)", it.CandidateSuite)
				}
			}
		}
		fmt.Fprintln(w)
	}
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
	if e.Why != "" { // a user rule need not say why
		fmt.Fprintf(w, "why:     %s\n", e.Why)
	}
	if ctx != nil {
		by := "by " + ctx.JudgedBy
		if ctx.JudgedBy == "upstream" {
			by = "upstream"
		}
		fmt.Fprintf(w, "judged:  %s — %s", by, ctx.Why)
		if ctx.CandidateSeen != "" {
			fmt.Fprintf(w, "; candidate first seen %s", ctx.CandidateSeen)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "verdict: %s (cycle %s) — %s\n", verdict.Status, verdict.Cycle, verdict.Reason)
	if verdict.Maintainer != "" {
		fmt.Fprintf(w, "support: maintained by %s", verdict.Maintainer)
		if verdict.MaintainerRelease != "" {
			fmt.Fprintf(w, " %s", verdict.MaintainerRelease)
		}
		fmt.Fprintf(w, ", support %s, patch %s\n", verdict.Support, verdict.Patch)
	}
	for _, warn := range verdict.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// packageSources are the item sources a distribution's archive ships.
var packageSources = []string{"dpkg", "rpm", "apk"}

// explainHost reads match explain's host flags (hostFlags): the host whose
// OS --distro and --distro-version name, and, on it, where the item's
// installed version and candidate come from (set on it). It returns the
// host and the day its candidate was first seen (zero: as of the verdict).
// A flag that could change nothing, or a bad value, is a usage error
// naming the flag.
func explainHost(m *match.Matcher, f matchFlags, given map[string]bool, it *api.Item, asOf time.Time) (api.HostInfo, time.Time, error) {
	var none api.HostInfo
	if f.distro == "" {
		for _, name := range hostFlags {
			if given[name] {
				return none, time.Time{}, usageErrorf("match explain: --%s needs --distro (with --distro-version: the host's OS decides whether the package is its distribution's)", name)
			}
		}
		return none, time.Time{}, nil
	}
	if !slices.Contains(packageSources, it.Source) {
		return none, time.Time{}, usageErrorf("match explain: --distro is for a package of a distribution (SOURCE %s), not SOURCE %s", strings.Join(packageSources, ", "), it.Source)
	}
	distro := strings.ToLower(strings.TrimSpace(f.distro))
	if f.distroVersion == "" {
		return none, time.Time{}, usageErrorf("match explain: --distro-version is required with --distro (the host's release: os-release VERSION_ID such as 12, or a point release such as 12.11)")
	}
	host := api.HostInfo{OS: "linux", OSID: distro, OSVersion: strings.TrimSpace(f.distroVersion)}
	r, ok := m.MatchOS(host)
	archives := service.DistroArchives()
	if !ok || !slices.Contains(archives, r.Product) {
		return none, time.Time{}, usageErrorf("match explain: --distro %q: want a distribution whose archive eolwatch knows, by its os-release ID or catalog id: %s",
			f.distro, strings.Join(archives, ", "))
	}
	cat := m.Catalog()
	release := cat.ParseVersion(r.Product, r.Version).Cycle()
	var names []string
	if p := cat.Product(r.Product); p != nil {
		for _, c := range p.Cycles {
			names = append(names, c.Name)
		}
	}
	if release == "" || !slices.Contains(names, release) {
		if len(names) > 12 {
			names = append(names[:12], "...")
		}
		return none, time.Time{}, usageErrorf("match explain: --distro-version %q: %s has no such release in the catalog (releases: %s)",
			f.distroVersion, r.Product, strings.Join(names, ", "))
	}
	origin := service.ArchiveOrigin(r.Product)
	if given["origin"] {
		o, err := originFlag("origin", f.origin)
		if err != nil {
			return none, time.Time{}, err
		}
		origin = o
	}
	it.Origin = origin
	if given["suite"] {
		s, err := suiteFlag("suite", f.suite)
		if err != nil {
			return none, time.Time{}, err
		}
		it.Suite = s
	}
	for _, name := range []string{"candidate-origin", "candidate-suite", "candidate-seen"} {
		if given[name] && f.candidate == "" {
			return none, time.Time{}, usageErrorf("match explain: --%s needs --candidate", name)
		}
	}
	var seen time.Time
	if given["candidate"] {
		c := strings.TrimSpace(f.candidate)
		if !packageVersion(c) {
			return none, time.Time{}, usageErrorf("match explain: --candidate %q is not a package version (such as 3.11.2-6+deb12u9)", f.candidate)
		}
		it.Candidate = c
		if c == it.Version {
			for _, name := range []string{"candidate-origin", "candidate-suite", "candidate-seen"} {
				if given[name] {
					return none, time.Time{}, usageErrorf("match explain: --%s: the candidate is the installed version, so where it comes from and when it was seen change nothing", name)
				}
			}
		} else {
			it.CandidateOrigin = service.ArchiveOrigin(r.Product)
			if given["candidate-origin"] {
				o, err := originFlag("candidate-origin", f.candidateOrigin)
				if err != nil {
					return none, time.Time{}, err
				}
				it.CandidateOrigin = o
			}
			if given["candidate-suite"] {
				s, err := suiteFlag("candidate-suite", f.candSuite)
				if err != nil {
					return none, time.Time{}, err
				}
				it.CandidateSuite = s
			}
		}
	}
	if given["candidate-seen"] {
		d, err := time.Parse(time.DateOnly, f.candidateSeen)
		if err != nil {
			return none, time.Time{}, usageErrorf("match explain: --candidate-seen %q is not a YYYY-MM-DD date", f.candidateSeen)
		}
		if d.After(asOf) {
			return none, time.Time{}, usageErrorf("match explain: --candidate-seen %s is after the day of the verdict (--as-of %s)", f.candidateSeen, asOf.Format(time.DateOnly))
		}
		seen = d
	}
	return host, seen, nil
}

// originFlag reads an origin flag: a repository origin as agents report
// it (lower-cased), or none for no origin.
func originFlag(name, v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch {
	case v == "none":
		return "", nil
	case v == "" || len(v) > 200 || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", usageErrorf("match explain: --%s %q: want a repository origin as apt's Release Origin or the rpm Vendor says it (debian, ubuntu, \"red hat, inc.\"), or none", name, v)
	}
	return v, nil
}

// suiteFlag reads a suite flag: one word such as bookworm-security or v3.20/main.
func suiteFlag(name, v string) (string, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "" || len(v) > 100 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return "", usageErrorf("match explain: --%s %q: want one suite such as bookworm-security (apt's codename and pocket) or v3.20/main (Alpine)", name, v)
	}
	return v, nil
}

// packageVersion reports whether v reads as a dpkg, rpm or apk version:
// an optional epoch, then a digit, then letters, digits and . + ~ - _ :.
func packageVersion(v string) bool {
	if epoch, rest, ok := strings.Cut(v, ":"); ok && epoch != "" && strings.Trim(epoch, "0123456789") == "" {
		v = rest
	}
	if v == "" || len(v) > 200 || v[0] < '0' || v[0] > '9' {
		return false
	}
	return strings.Trim(v, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+~-_:") == ""
}

func matchCoverage(m *match.Matcher, f matchFlags, asOf time.Time, in io.Reader, w io.Writer) error {
	if f.format == "jsonl" {
		bw := bufio.NewWriterSize(w, 64<<10)
		enc := json.NewEncoder(bw)
		cat := m.Catalog()
		err := pkglist.Read(in, f.input, func(it api.Item) error {
			r, ok := m.Match(it)
			cycle := r.Cycle
			if ok && cycle == "" {
				cycle = cat.Evaluate(r.Product, r.Version, asOf, catalog.DefaultPolicy()).Cycle
			}
			return enc.Encode(match.LineOf(it, r, ok, cycle))
		})
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		return err
	}
	items, err := pkglist.ReadAll(in, f.input)
	if err != nil {
		return err
	}
	cov := match.Cover(m, items)
	if f.format == "json" {
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

// matchReview reads coverage JSON lines and prints every claimed product:
// its rows, distinct names and versions, and the names each rule claimed.
func matchReview(f matchFlags, in io.Reader, w io.Writer) error {
	var lines []match.Line
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var l match.Line
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("match review: line %d: %w (want match coverage --format jsonl output)", n, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("match review: %w", err)
	}
	c := match.Summarize(lines)
	names := 0
	for _, p := range c.Products {
		names += p.Names
	}
	pct := 0.0
	if c.Rows > 0 {
		pct = 100 * float64(c.Claimed) / float64(c.Rows)
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%d rows, %d claimed (%.2f%%): %d package names for %d products\n", c.Rows, c.Claimed, pct, names, len(c.Products))
	for _, p := range c.Products {
		fmt.Fprintf(bw, "\n%s: %d name(s), %d row(s); versions %s\n", p.Product, p.Names, p.Rows, strings.Join(p.Versions, ", "))
		for _, r := range p.Rules {
			list := r.Names
			more := ""
			if f.maxNames > 0 && len(list) > f.maxNames {
				list, more = list[:f.maxNames], fmt.Sprintf(" ... and %d more", len(r.Names)-f.maxNames)
			}
			fmt.Fprintf(bw, "  %s (%d): %s%s\n", r.Rule, len(r.Names), strings.Join(list, " "), more)
		}
	}
	return bw.Flush()
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
		sel := r.Selector()
		src := strings.Join(r.Sources, ",")
		if src == "" {
			src = "dpkg,rpm,apk"
		}
		fmt.Fprintf(w, "%3d  %-40s %-22s %-30q → %s\n", i+1, r.ID, src, sel, target)
	}
	return nil
}

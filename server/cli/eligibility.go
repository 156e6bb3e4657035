package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/server"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/service"
)

// runEligibility answers the support question with the domain service:
// against the server's database and catalog when there is one (--database,
// or --data-dir holding one),
// else (bare product + version only) against the catalog files.
func runEligibility(ctx context.Context, args []string, stdio Stdio) error {
	fs := flag.NewFlagSet("eligibility", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	loc := storeFlags(fs)
	product := fs.String("product", "", "catalog product id (python, debian, nginx...)")
	version := fs.String("version", "", "version to judge (as the customer reads it)")
	host := fs.String("host", "", "host id or hostname (uses its last reported inventory; needs the database: --data-dir or --database)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	var catalogs listFlag
	fs.Var(&catalogs, "catalog", "extra catalog file (repeatable)")
	pol := server.DefaultConfig()
	policyFlags(fs, &pol.WarnDays, &pol.GraceDays, &pol.ExtendedSupport, &pol.ExtendedSupportFor)
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("eligibility: unexpected argument %q", fs.Arg(0))
	}
	if *product == "" || (*version == "") == (*host == "") {
		return usageErrorf("eligibility: want --product P --version V, or --host H --product P")
	}
	if err := pol.Policy().Validate(); err != nil {
		return usageErrorf("eligibility: %s", err)
	}
	cfg := service.Config{Policy: pol.Policy(), Logger: discardLogger(), Now: eligibilityNow}
	// A bad config file or database URL is an error, not a reason to
	// answer from the catalog files instead.
	if err := loc.resolve(); err != nil {
		return fmt.Errorf("eligibility: %w", err)
	}
	// With a database, answer from the server's catalog: the default, the
	// extra files and every release published through the API.
	if err := loc.exists(); err == nil {
		st, err := loc.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
			return err
		}
		cats, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Files: catalogs, Logger: cfg.Logger})
		if err != nil {
			return err
		}
		cfg.Store, cfg.Catalog = st, cats.Current
	} else if *host != "" {
		return fmt.Errorf("eligibility: no database in %s: %w", loc, err)
	} else {
		cat, err := loadCatalog(catalogs)
		if err != nil {
			return err
		}
		cfg.Catalog = func() *catalog.Catalog { return cat }
	}
	svc, err := service.New(cfg)
	if err != nil {
		return err
	}
	e, err := svc.Eligibility(ctx, *product, *version, *host)
	if err != nil {
		if fault.Is(err, fault.Invalid) {
			return usageErrorf("eligibility: %s", err)
		}
		return fmt.Errorf("eligibility: %w", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdio.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	printEligibility(stdio.Out, e)
	return nil
}

// eligibilityNow is the eligibility command's clock: the day it judges
// (tests set a fixed day).
var eligibilityNow = time.Now

// discardLogger is the logger of commands that talk to people, not logs.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// daysFromNow says a number of days to an end of life in words: "in 577
// days", "today", "785 days ago" (a bare "-785 days" reads as a typo).
func daysFromNow(d int) string {
	switch {
	case d == 0:
		return "today"
	case d == 1:
		return "tomorrow"
	case d == -1:
		return "yesterday"
	case d < 0:
		return fmt.Sprintf("%d days ago", -d)
	}
	return fmt.Sprintf("in %d days", d)
}

// eligibilityLabels are the labels of printEligibility's lines; the widest
// sets where every value starts.
var eligibilityLabels = []string{"status", "cycle", "end of life", "upgrade to", "installed", "maintainer", "reason", "warning", "installs", "as of"}

// printEligibility writes the answer for a person at a support desk: a
// verdict line, then one "label: value" line per fact, the values aligned.
func printEligibility(w io.Writer, e api.Eligibility) {
	width := 0
	for _, l := range eligibilityLabels {
		width = max(width, len(l)+len(":"))
	}
	line := func(label, value string) {
		fmt.Fprintf(w, "  %-*s %s\n", width, label+":", value)
	}
	verdict := "NOT ELIGIBLE"
	if e.Eligible {
		verdict = "ELIGIBLE"
	}
	subject := e.Product + " " + e.Version
	if e.Host != "" {
		subject += " on " + e.Host + " (" + e.HostID + ")"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, subject)
	line("status", fmt.Sprintf("%s (support %s, phase %s, patch %s)", e.Status, e.Support, e.Phase, e.Patch))
	if e.Cycle != "" {
		line("cycle", fmt.Sprintf("%s (latest %s)", e.Cycle, e.Latest))
	}
	if e.EOL != nil {
		eol := api.EOLText(e.EOL)
		if e.DaysToEOL != nil {
			eol += " (" + daysFromNow(*e.DaysToEOL) + ")"
		}
		line("end of life", eol)
	}
	if e.UpgradeTo != "" {
		line("upgrade to", e.UpgradeTo)
	}
	if e.Installed != "" {
		line("installed", fmt.Sprintf("%s (reported %s)", e.Installed, e.LastReportAt.Format("2006-01-02 15:04 MST")))
	}
	if e.Maintainer != "" && e.Maintainer != catalog.MaintainerUpstream {
		m := e.Maintainer + " " + e.MaintainerRelease
		if e.Candidate != "" {
			m += " (candidate " + e.Candidate + ")"
		}
		if e.Upstream != nil {
			m += "; upstream: " + e.Upstream.Status
		}
		line("maintainer", m)
	}
	line("reason", e.Reason)
	for _, wa := range e.Warnings {
		line("warning", wa)
	}
	if len(e.Installs) > 1 {
		var vs []string
		for _, i := range e.Installs {
			vs = append(vs, fmt.Sprintf("%s=%s", i.Version, i.Status))
		}
		line("installs", strings.Join(vs, ", "))
	}
	asOf := e.AsOf
	if e.CatalogDate != "" {
		asOf += " (catalog data of " + e.CatalogDate + ")"
	}
	line("as of", asOf)
}

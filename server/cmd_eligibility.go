package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/catalogsvc"
	"github.com/eolwatch/eolwatch/server/store"
)

func init() {
	register("eligibility", "is an install eligible for support? --product P --version V | --host H --product P [--json]", runEligibility)
}

func runEligibility(ctx context.Context, args []string, stdio Stdio) error {
	fs := flag.NewFlagSet("eligibility", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	dir := dataDirFlag(fs)
	product := fs.String("product", "", "catalog product id (python, debian, nginx...)")
	version := fs.String("version", "", "version to judge (as the customer reads it)")
	host := fs.String("host", "", "host id or hostname (uses its last reported inventory; needs --data-dir)")
	asJSON := fs.Bool("json", false, "print the API's JSON answer")
	var catalogs []string
	fs.Var(listFlag{&catalogs}, "catalog", "extra catalog file (repeatable)")
	warn := fs.Int("warn-days", DefaultConfig().WarnDays, "eol-soon window in days")
	grace := fs.Int("grace-days", DefaultConfig().GraceDays, "patch grace period in days")
	if err := fs.Parse(args); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return &UsageError{Msg: fmt.Sprintf("eligibility: unexpected argument %q", fs.Arg(0))}
	}
	if *product == "" || (*version == "") == (*host == "") {
		return &UsageError{Msg: "eligibility: want --product P --version V, or --host H --product P"}
	}
	cfg := DefaultConfig()
	cfg.WarnDays, cfg.GraceDays, cfg.DataDir = *warn, *grace, *dir
	// With a database, answer from the server's catalog: the default, the
	// extra files and every release published through the API.
	var st *store.Store
	var cats CatalogSource
	if _, err := os.Stat(filepath.Join(*dir, store.FileName)); err == nil {
		if st, err = store.Open(ctx, *dir); err != nil {
			return err
		}
		defer st.Close()
		if err := catalogsvc.Migrate(ctx, st.DB()); err != nil {
			return err
		}
		svc, err := catalogsvc.New(ctx, catalogsvc.Config{Store: catalogsvc.NewSQLStore(st.DB()), Files: catalogs,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			return err
		}
		cats = svc
	} else if *host != "" {
		return fmt.Errorf("eligibility: no database in %s (--data-dir): %w", *dir, err)
	} else {
		cat, err := loadCatalog(catalogs)
		if err != nil {
			return err
		}
		cats = staticCatalog{cat}
	}
	s := newServer(options{cfg: cfg, st: st, catalogs: cats, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e, err := s.checkEligibility(ctx, *product, *version, *host)
	if err != nil {
		var fe *fieldError
		if errors.As(err, &fe) {
			return &UsageError{Msg: "eligibility: " + fe.msg}
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

// printEligibility writes the answer for a person at a support desk.
func printEligibility(w io.Writer, e api.Eligibility) {
	verdict := "NOT ELIGIBLE"
	if e.Eligible {
		verdict = "ELIGIBLE"
	}
	subject := e.Product + " " + e.Version
	if e.Host != "" {
		subject += " on " + e.Host + " (" + e.HostID + ")"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, subject)
	fmt.Fprintf(w, "  status:     %s (support %s, phase %s, patch %s)\n", e.Status, e.Support, e.Phase, e.Patch)
	if e.Cycle != "" {
		fmt.Fprintf(w, "  cycle:      %s (latest %s)\n", e.Cycle, e.Latest)
	}
	if e.EOL != nil {
		eol := eolString(e.EOL)
		if e.DaysToEOL != nil {
			eol += fmt.Sprintf(" (%d days)", *e.DaysToEOL)
		}
		fmt.Fprintf(w, "  end of life: %s\n", eol)
	}
	if e.UpgradeTo != "" {
		fmt.Fprintf(w, "  upgrade to: %s\n", e.UpgradeTo)
	}
	if e.Installed != "" {
		fmt.Fprintf(w, "  installed:  %s (reported %s)\n", e.Installed, e.LastReportAt.Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintf(w, "  reason:     %s\n", e.Reason)
	if len(e.Installs) > 1 {
		var vs []string
		for _, i := range e.Installs {
			vs = append(vs, fmt.Sprintf("%s=%s", i.Version, i.Status))
		}
		fmt.Fprintf(w, "  installs:   %s\n", strings.Join(vs, ", "))
	}
	fmt.Fprintf(w, "  as of:      %s\n", e.AsOf)
}

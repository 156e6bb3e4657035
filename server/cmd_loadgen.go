package server

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/eolwatch/eolwatch/server/loadtest"
)

func init() {
	register("loadgen", "simulate a fleet against a running server: --server URL --enroll-secret S --hosts N --items M --concurrency C", runLoadgen)
}

func runLoadgen(ctx context.Context, args []string, stdio Stdio) error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	var cfg loadtest.Config
	var template string
	var jsonOut bool
	fs.StringVar(&cfg.Server, "server", "", "server base URL, e.g. http://127.0.0.1:8480 (required)")
	fs.StringVar(&cfg.EnrollSecret, "enroll-secret", os.Getenv("EOLWATCH_ENROLL_SECRET"), "the server's enroll secret (default $EOLWATCH_ENROLL_SECRET)")
	fs.IntVar(&cfg.Hosts, "hosts", 100, "number of simulated hosts")
	fs.IntVar(&cfg.Items, "items", 1000, "inventory items per host")
	fs.IntVar(&cfg.Concurrency, "concurrency", 8, "requests in flight")
	fs.IntVar(&cfg.Checkins, "checkins", 1, "steady-state check-ins per host after the first full report")
	fs.Float64Var(&cfg.ChangeRate, "change-rate", 0, "share of check-ins sent as a changed full report (0-1)")
	fs.IntVar(&cfg.Eligibility, "eligibility", 1000, "eligibility queries to time (needs --token)")
	fs.StringVar(&cfg.Token, "token", os.Getenv("EOLWATCH_TOKEN"), "support or admin API token for the eligibility queries (default $EOLWATCH_TOKEN; create one with `token create --role support`)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the simulated fleet (default random; the same seed re-uses the same hosts)")
	fs.StringVar(&template, "template", "", "package list to build inventories from, as dpkg-query -W -f='${Package}\\t${Version}\\t${source:Package}\\n' prints it (default: this machine's)")
	fs.BoolVar(&cfg.NoGzip, "no-gzip", false, "send reports uncompressed")
	fs.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return &UsageError{Msg: fmt.Sprintf("loadgen: unexpected argument %q", fs.Arg(0))}
	}
	if cfg.Server == "" || cfg.EnrollSecret == "" {
		return &UsageError{Msg: "loadgen: --server and --enroll-secret are required"}
	}
	if cfg.Hosts <= 0 || cfg.Items <= 0 || cfg.Concurrency <= 0 {
		return &UsageError{Msg: "loadgen: --hosts, --items and --concurrency must be positive"}
	}
	if cfg.ChangeRate < 0 || cfg.ChangeRate > 1 {
		return &UsageError{Msg: fmt.Sprintf("loadgen: --change-rate %v is not between 0 and 1", cfg.ChangeRate)}
	}
	if template != "" {
		f, err := os.Open(template)
		if err != nil {
			return fmt.Errorf("loadgen: %w", err)
		}
		cfg.Template, err = loadtest.ParseDpkgList(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("loadgen: %w", err)
		}
	}
	if cfg.Token == "" && cfg.Eligibility > 0 {
		fmt.Fprintln(stdio.Err, "loadgen: no --token: eligibility queries skipped")
	}
	cfg.Progress = stdio.Err
	res, err := loadtest.Run(ctx, cfg)
	if res != nil {
		if jsonOut {
			enc := json.NewEncoder(stdio.Out)
			enc.SetIndent("", "  ")
			if e := enc.Encode(res); e != nil {
				return e
			}
		} else {
			res.Print(stdio.Out)
		}
	}
	return err
}

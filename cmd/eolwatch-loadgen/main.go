// Command eolwatch-loadgen fires a simulated fleet at a running eolwatch
// server (enrollments, full reports, check-ins, eligibility queries) and
// prints what it measured. It is a separate binary so the production server
// does not carry it. See `eolwatch-loadgen -h`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eolwatch/eolwatch/server/loadtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eolwatch-loadgen:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in how the command was called (exit code 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// options are the command's settings beside the load test's own.
type options struct {
	cfg      loadtest.Config
	template string
	jsonOut  bool
}

// parse reads the flags (and the EOLWATCH_ENROLL_SECRET and EOLWATCH_TOKEN
// defaults) into options.
func parse(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("eolwatch-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.cfg.Server, "server", "", "server base URL, e.g. http://127.0.0.1:8480 (required)")
	fs.StringVar(&o.cfg.EnrollSecret, "enroll-secret", getenv("EOLWATCH_ENROLL_SECRET"), "the server's enroll secret (default $EOLWATCH_ENROLL_SECRET)")
	fs.IntVar(&o.cfg.Hosts, "hosts", 100, "number of simulated hosts")
	fs.IntVar(&o.cfg.Items, "items", 1000, "inventory items per host")
	fs.IntVar(&o.cfg.Concurrency, "concurrency", 8, "requests in flight")
	fs.IntVar(&o.cfg.Checkins, "checkins", 1, "steady-state check-ins per host after the first full report")
	fs.Float64Var(&o.cfg.ChangeRate, "change-rate", 0, "share of check-ins sent as a changed full report (0-1)")
	fs.IntVar(&o.cfg.Eligibility, "eligibility", 1000, "eligibility queries to time (needs --token)")
	fs.StringVar(&o.cfg.Token, "token", getenv("EOLWATCH_TOKEN"), "support or admin API token for the eligibility queries (default $EOLWATCH_TOKEN; create one with `eolwatch-server token create --role support`)")
	fs.Uint64Var(&o.cfg.Seed, "seed", 0, "seed of the simulated fleet (default random; the same seed re-uses the same hosts)")
	fs.StringVar(&o.template, "template", "", "package list to build inventories from, as dpkg-query -W -f='${Package}\\t${Version}\\t${source:Package}\\n' prints it (default: this machine's)")
	fs.BoolVar(&o.cfg.NoGzip, "no-gzip", false, "send reports uncompressed")
	fs.BoolVar(&o.jsonOut, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, usageError{err}
	}
	switch {
	case fs.NArg() > 0:
		return o, usagef("unexpected argument %q", fs.Arg(0))
	case o.cfg.Server == "" || o.cfg.EnrollSecret == "":
		return o, usagef("--server and --enroll-secret are required")
	case o.cfg.Hosts <= 0 || o.cfg.Items <= 0 || o.cfg.Concurrency <= 0:
		return o, usagef("--hosts, --items and --concurrency must be positive")
	case o.cfg.ChangeRate < 0 || o.cfg.ChangeRate > 1:
		return o, usagef("--change-rate %v is not between 0 and 1", o.cfg.ChangeRate)
	}
	return o, nil
}

// run parses the flags, runs the load test and prints its result.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if o.template != "" {
		f, err := os.Open(o.template)
		if err != nil {
			return err
		}
		o.cfg.Template, err = loadtest.ParseDpkgList(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if o.cfg.Token == "" && o.cfg.Eligibility > 0 {
		fmt.Fprintln(stderr, "eolwatch-loadgen: no --token: eligibility queries skipped")
	}
	o.cfg.Progress = stderr
	res, err := loadtest.Run(ctx, o.cfg)
	if res != nil {
		if o.jsonOut {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if e := enc.Encode(res); e != nil {
				return e
			}
		} else {
			res.Print(stdout)
		}
	}
	return err
}

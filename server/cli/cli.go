// Package cli is eolwatch-server's command line: one file per command, each
// parsing its flags and calling the layer that does the work — the server
// (serve), storage (token), the domain service (eligibility), the notifier
// (group, subscription, outbox), the matcher (match) and the catalog's own
// command line (catalog). Main never exits the process: it returns an error,
// and ExitCode says which exit code that error deserves.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// Stdio is the standard streams a command reads and writes.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// command is one subcommand of eolwatch-server.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, io Stdio) error
}

// commands are eolwatch-server's subcommands, one file each.
var commands = map[string]command{
	"serve":        {"run the server (API, ingestion, notifier, dashboard)", runServe},
	"migrate":      {"move a SQLite data directory into PostgreSQL: migrate --from-data-dir DIR --database postgres://...", runMigrate},
	"token":        {"manage API tokens: token create --role admin|support|viewer|ci [--customer C], token list, token revoke ID", runToken},
	"customer":     {"manage customers and contracts: customer create --name N --tier T --contract-start D --contract-end D ..., customer list, customer update C ..., customer delete C [--force]", runCustomer},
	"ticket":       {"may support take this ticket now? ticket check --customer C --product P --version V --severity 1..4 [--at T] | --host H --product P --severity N [--json]", runTicket},
	"catalog":      {"evaluate versions, validate catalog files, show catalog info and products", runCatalog},
	"match":        {"explain how an inventory item matches a catalog product; report inventory coverage", runMatch},
	"eligibility":  {"is an install eligible for support? --product P --version V | --host H --product P [--json]", runEligibility},
	"group":        {"notification groups: group create --name N --product P... --events release,eol,fleet, group list, group delete NAME", runGroup},
	"subscription": {"list subscriptions: subscription list [--group G] [--state pending|confirmed|unsubscribed]", runSubscription},
	"outbox":       {"list outgoing email: outbox list [--state pending|sent|failed|cancelled] [--limit N]", runOutbox},
	"sbom":         {"judge an SBOM: sbom check [--format jsonl|table|sarif] [--fail-on eol,...] FILE|-", runSBOM},
}

// UsageError marks an error in how a command was called (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// usageErrorf returns a *UsageError with a formatted message.
func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// invalidInput turns a bad-input error from the layer below (a
// fault.Invalid naming a field) into a usage error prefixed with the
// command; other errors pass unchanged.
func invalidInput(cmd string, err error) error {
	if fault.Is(err, fault.Invalid) {
		return usageErrorf("%s: %s", cmd, err.Error())
	}
	return err
}

// exitError is a failure with its own exit code (sbom check: 1 when a
// judged component has a --fail-on status, 2 for unusable input).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// ExitCode returns the process exit code for an error returned by Main:
// 2 for a usage error, a command's own code (sbom check), 1 for any other
// failure.
func ExitCode(err error) int {
	var ue *UsageError
	if errors.As(err, &ue) {
		return 2
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// Main runs the eolwatch-server command line: args[0] names the subcommand.
func Main(ctx context.Context, args []string, io Stdio) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(io.Out)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(io.Err)
		return usageErrorf("unknown command %q", args[0])
	}
	return cmd.run(ctx, args[1:], io)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: eolwatch-server COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
}

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
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

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
	// subs are the subcommands of a command family (token create, list,
	// revoke); "COMMAND -h" prints them. Empty for a command that answers
	// -h itself (its flags, or a usage text of its own).
	subs []string
}

// commands are eolwatch-server's subcommands, one file each.
var commands = map[string]command{
	"serve":        {"run the server (API, ingestion, notifier, dashboard)", runServe, nil},
	"migrate":      {"move a SQLite data directory into PostgreSQL: migrate --from-data-dir DIR --database postgres://...", runMigrate, nil},
	"token":        {"manage API tokens: token create --role admin|support|viewer|ci [--customer C], token list, token revoke ID|TOKEN", runToken, []string{"create", "list", "revoke"}},
	"customer":     {"manage customers and contracts: customer create --name N --tier T --contract-start D --contract-end D ..., customer list, customer update C ..., customer delete C [--force]", runCustomer, []string{"create", "list", "update", "delete"}},
	"ticket":       {"may support take this ticket now? ticket check --customer C --product P --version V --severity 1..4 [--at T] | --host H --product P --severity N [--json]", runTicket, []string{"check"}},
	"catalog":      {"the end-of-life catalog: catalog evaluate (JSON lines on stdin), catalog validate FILE..., catalog info, catalog show PRODUCT", runCatalog, nil},
	"match":        {"how inventory items match catalog products: match explain SOURCE NAME VERSION, match coverage < LIST, match review, match rules", runMatch, nil},
	"eligibility":  {"is an install eligible for support? --product P --version V | --host H --product P [--json]", runEligibility, nil},
	"group":        {"notification groups: group create --name N --product P... --events release,eol,fleet, group list, group delete NAME", runGroup, []string{"create", "list", "delete"}},
	"subscription": {"list subscriptions: subscription list [--group G] [--state pending|confirmed|unsubscribed]", runSubscription, []string{"list"}},
	"outbox":       {"list outgoing email: outbox list [--state pending|sent|failed|cancelled] [--limit N]", runOutbox, []string{"list"}},
	"sbom":         {"judge an SBOM: sbom check [--format jsonl|table|sarif] [--fail-on eol,...] FILE|-", runSBOM, nil},
}

// UsageError marks an error in how a command was called (exit code 2).
type UsageError struct {
	Msg string
	err error
}

func (e *UsageError) Error() string { return e.Msg }

// Unwrap returns the flag package's error the usage error came from, if
// any: flag.ErrHelp for -h, which Main answers with success.
func (e *UsageError) Unwrap() error { return e.err }

// flagError turns a flag set's parse error into a usage error that keeps
// it (so -h, flag.ErrHelp, is told apart from a bad flag).
func flagError(err error) error {
	return &UsageError{Msg: err.Error(), err: err}
}

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
	if len(args) >= 2 && args[0] == "help" {
		args = []string{args[1], "-h"} // help COMMAND is COMMAND -h
	}
	if len(args) == 0 || isHelp(args[0]) {
		usage(io.Out)
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		usage(io.Err)
		return usageErrorf("unknown command %q", args[0])
	}
	if len(cmd.subs) > 0 && len(args) >= 2 && isHelp(args[1]) {
		fmt.Fprintf(io.Out, "usage: eolwatch-server %s SUBCOMMAND [flags]\n  %s\n\nsubcommands: %s\n'eolwatch-server %s SUBCOMMAND -h' lists a subcommand's flags.\n",
			args[0], cmd.summary, strings.Join(cmd.subs, ", "), args[0])
		return nil
	}
	err := cmd.run(ctx, args[1:], io)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the flags; nothing ran
	}
	return err
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
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

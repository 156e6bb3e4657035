// Package server is eolwatch's server: the HTTP API, ingestion of agent
// reports, matching inventory to the catalog, compliance, eligibility, auth,
// the dashboard and metrics, plus the admin command line. Storage lives in
// server/store and wire types in server/api.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
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

// commands is filled by register calls in the cmd_*.go files, one file per command.
var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, io Stdio) error) {
	commands[name] = command{summary: summary, run: run}
}

// UsageError marks an error in how a command was called (exit code 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ExitCode returns the process exit code for an error returned by Main.
func ExitCode(err error) int {
	var ue *UsageError
	if errors.As(err, &ue) {
		return 2
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
		return &UsageError{Msg: fmt.Sprintf("unknown command %q", args[0])}
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

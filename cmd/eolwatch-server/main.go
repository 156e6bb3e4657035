// Command eolwatch-server runs the eolwatch server and its admin commands
// (serve, migrate, token, customer, ticket, eligibility, catalog, match, sbom,
// group, subscription, outbox).
// See `eolwatch-server help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/eolwatch/eolwatch/server/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Main(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eolwatch-server:", err)
		os.Exit(cli.ExitCode(err))
	}
}

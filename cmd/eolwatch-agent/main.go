// Command eolwatch-agent inventories this machine's installed software and
// reports it to an eolwatch server. See `eolwatch-agent help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/eolwatch/eolwatch/agent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := agent.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "eolwatch-agent:", err)
		os.Exit(1)
	}
}

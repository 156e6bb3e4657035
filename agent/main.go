package agent

import (
	"context"
	"errors"
	"io"
)

// Main runs the eolwatch-agent command line: args[0] names the subcommand
// (inventory, once, run, install, uninstall, start, stop, restart, status).
// SKELETON: replaced by the agent work.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("agent: not built yet")
}

package cli

import (
	"context"
	"errors"

	"github.com/eolwatch/eolwatch/catalog/cli"
)

// runCatalog delegates `eolwatch-server catalog ...` to the catalog CLI.
func runCatalog(ctx context.Context, args []string, io Stdio) error {
	err := cli.Main(ctx, args, io.In, io.Out, io.Err)
	var ue *cli.UsageError
	if errors.As(err, &ue) {
		return usageErrorf("%s", ue.Msg)
	}
	return err
}

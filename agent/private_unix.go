//go:build !windows

package agent

import (
	"fmt"
	"os"
)

// restrictDir makes dir private to the agent's user (0700).
func restrictDir(dir string) error {
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	return nil
}

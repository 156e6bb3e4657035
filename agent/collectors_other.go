//go:build !linux && !windows && !darwin

package agent

import (
	"context"
	"os"
	"strings"
)

func init() {
	register(osCollector{})
}

// readOS reads os-release, which the BSDs also ship.
func readOS(ctx context.Context, env *Env) (osDetails, error) { return readOSRelease(env) }

// machineIDs reads /etc/hostid when present.
func machineIDs(ctx context.Context, env *Env) (machineID, hardwareUUID string) {
	if b, err := os.ReadFile(env.Path("/etc/hostid")); err == nil {
		machineID = strings.TrimSpace(string(b))
	}
	return machineID, ""
}

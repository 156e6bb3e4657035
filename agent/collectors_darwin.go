package agent

import (
	"context"
	"errors"
	"os"
	"strings"
)

func init() {
	register(osCollector{}, macAppsCollector{})
}

// readOS reads SystemVersion.plist, falling back to sw_vers.
func readOS(ctx context.Context, env *Env) (osDetails, error) {
	d, err := readMacSystemVersion(env)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return d, err
	}
	out, cerr := env.Command(ctx, false, "sw_vers")
	if cerr != nil {
		return osDetails{}, errors.Join(err, cerr)
	}
	d = parseSwVers(string(out))
	if k, err := env.Command(ctx, false, "uname", "-r"); err == nil {
		d.Kernel = strings.TrimSpace(string(k))
	}
	return d, nil
}

// machineIDs returns the IOPlatformUUID (the hardware UUID) as both hints.
func machineIDs(ctx context.Context, env *Env) (machineID, hardwareUUID string) {
	out, err := env.Command(ctx, false, "ioreg", "-rd1", "-c", "IOPlatformExpertDevice")
	if err != nil {
		return "", ""
	}
	u := parseIORegUUID(string(out))
	return u, u
}

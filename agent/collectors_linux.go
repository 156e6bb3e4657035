package agent

import (
	"context"
	"os"
	"strings"
)

func init() {
	register(osCollector{}, dpkgCollector{}, rpmCollector{}, apkCollector{})
}

// readOS reads /etc/os-release and the kernel release.
func readOS(ctx context.Context, env *Env) (osDetails, error) {
	d, err := readOSRelease(env)
	if b, kerr := os.ReadFile(env.Path("/proc/sys/kernel/osrelease")); kerr == nil {
		d.Kernel = strings.TrimSpace(string(b))
	}
	return d, err
}

// machineIDs reads /etc/machine-id (or D-Bus's copy) and the SMBIOS product
// UUID when readable (root only).
func machineIDs(ctx context.Context, env *Env) (machineID, hardwareUUID string) {
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if b, err := os.ReadFile(env.Path(p)); err == nil {
			if machineID = strings.TrimSpace(string(b)); machineID != "" {
				break
			}
		}
	}
	if b, err := os.ReadFile(env.Path("/sys/class/dmi/id/product_uuid")); err == nil {
		hardwareUUID = strings.ToLower(strings.TrimSpace(string(b)))
	}
	return machineID, hardwareUUID
}

package agent

import (
	"context"
	"os"
	"strings"
	"syscall"
)

func init() {
	register(osCollector{}, dpkgCollector{}, rpmCollector{}, apkCollector{})
}

// readOS reads /etc/os-release and the kernel release.
func readOS(ctx context.Context, env *Env) (osDetails, error) {
	d, err := readOSRelease(env)
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		d.Kernel = utsString(u.Release[:])
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

// utsString converts a NUL-terminated utsname field (int8 or uint8 by arch).
func utsString[T int8 | uint8](f []T) string {
	b := make([]byte, 0, len(f))
	for _, c := range f {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

package agent

import "context"

func init() {
	register(osCollector{}, uninstallCollector{reg: winRegistry{}})
}

// readOS reads the Windows version from the registry.
func readOS(ctx context.Context, env *Env) (osDetails, error) { return windowsOS(winRegistry{}) }

// machineIDs returns the MachineGuid (hardware UUID is not read on Windows
// without WMI; the MachineGuid is the usual hint).
func machineIDs(ctx context.Context, env *Env) (machineID, hardwareUUID string) {
	return windowsMachineGUID(winRegistry{}), ""
}

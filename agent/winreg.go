package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// registryReader is the slice of the Windows registry the agent reads. Keys
// are written "HKLM\SOFTWARE\..." or "HKU\<sid>\SOFTWARE\..." (or "HKCU\...");
// the real implementation is in registry_windows.go, tests feed recorded data.
type registryReader interface {
	// SubKeys lists the names of the direct subkeys of key.
	SubKeys(key string) ([]string, error)
	// Values returns the string and integer values of key, integers in decimal.
	Values(key string) (map[string]string, error)
}

// errKeyNotFound is what a registryReader returns for a missing key.
var errKeyNotFound = errors.New("registry key not found")

// uninstallRoots are the Uninstall keys: 64-bit, 32-bit (WOW6432Node) and
// per-user. Per-user keys of other logged-in users live under HKU\<sid>.
var uninstallRoots = []struct{ key, arch string }{
	{`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`, "x64"},
	{`HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`, "x86"},
}

const userUninstall = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`

// uninstallCollector lists Windows programs from the Uninstall keys.
type uninstallCollector struct{ reg registryReader }

func (uninstallCollector) Name() string { return "windows-registry" }

func (c uninstallCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	return collectUninstall(ctx, c.reg)
}

// collectUninstall reads every Uninstall root: HKLM 64-bit and 32-bit, then
// each user hive loaded under HKU. Entries without a DisplayName, system
// components and updates (ParentKeyName) are skipped, as Programs and
// Features does.
func collectUninstall(ctx context.Context, reg registryReader) ([]api.Item, error) {
	type root struct{ key, arch string }
	roots := make([]root, 0, 4)
	for _, r := range uninstallRoots {
		roots = append(roots, root{r.key, r.arch})
	}
	if sids, err := reg.SubKeys(`HKU`); err == nil {
		for _, sid := range sids {
			if strings.HasSuffix(sid, "_Classes") || sid == ".DEFAULT" {
				continue
			}
			roots = append(roots, root{`HKU\` + sid + `\` + userUninstall, "user"})
		}
	} else {
		roots = append(roots, root{`HKCU\` + userUninstall, "user"})
	}
	seen := make(map[api.Item]bool)
	var items []api.Item
	var errs []error
	found := false
	for _, r := range roots {
		if err := ctx.Err(); err != nil {
			return items, err
		}
		subs, err := reg.SubKeys(r.key)
		if errors.Is(err, errKeyNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.key, err))
			continue
		}
		found = true
		for _, s := range subs {
			v, err := reg.Values(r.key + `\` + s)
			if err != nil {
				continue // removed while we read, or unreadable: skip this entry
			}
			name := strings.TrimSpace(v["DisplayName"])
			if name == "" || v["SystemComponent"] == "1" || v["ParentKeyName"] != "" {
				continue
			}
			it := api.Item{Source: "windows-registry", Name: name, Version: strings.TrimSpace(v["DisplayVersion"]),
				Publisher: strings.TrimSpace(v["Publisher"]), Arch: r.arch}
			if seen[it] {
				continue
			}
			seen[it] = true
			items = append(items, it)
		}
	}
	if !found && len(errs) == 0 {
		return nil, ErrAbsent
	}
	return items, errors.Join(errs...)
}

const (
	winCurrentVersion = `HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	winCryptography   = `HKLM\SOFTWARE\Microsoft\Cryptography`
)

// windowsOS reads the product name, display version (22H2), build and UBR
// from the registry. Windows 11 still says "Windows 10" in ProductName; the
// build number (22000 and later) tells them apart.
func windowsOS(reg registryReader) (osDetails, error) {
	v, err := reg.Values(winCurrentVersion)
	if err != nil {
		return osDetails{}, fmt.Errorf("%s: %w", winCurrentVersion, err)
	}
	name := v["ProductName"]
	build := v["CurrentBuildNumber"]
	if build == "" {
		build = v["CurrentBuild"]
	}
	if n, err := strconv.Atoi(build); err == nil && n >= 22000 && strings.HasPrefix(name, "Windows 10") {
		name = "Windows 11" + strings.TrimPrefix(name, "Windows 10")
	}
	major, minor := v["CurrentMajorVersionNumber"], v["CurrentMinorVersionNumber"]
	if major == "" {
		major, minor, _ = strings.Cut(v["CurrentVersion"], ".") // Windows 8.1 and older
	}
	full := ""
	if major != "" && build != "" {
		full = major + "." + minor + "." + build
		if ubr := v["UBR"]; ubr != "" {
			full += "." + ubr
		}
	}
	display := v["DisplayVersion"]
	if display == "" {
		display = v["ReleaseId"]
	}
	product := "windows"
	if v["InstallationType"] == "Server" || strings.Contains(name, "Server") {
		product = "windows-server"
	}
	return osDetails{Name: name, ID: "windows", Version: display, Build: full, Product: product, Kernel: full}, nil
}

// windowsMachineGUID reads HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid.
func windowsMachineGUID(reg registryReader) string {
	v, err := reg.Values(winCryptography)
	if err != nil {
		return ""
	}
	return v["MachineGuid"]
}

package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// macAppsDir is where macOS applications are installed.
const macAppsDir = "/Applications"

// macAppsCollector reads /Applications/*.app/Contents/Info.plist (XML or
// binary plists) for the bundle name, identifier and short version.
type macAppsCollector struct{}

func (macAppsCollector) Name() string { return "macos-app" }

func (macAppsCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	ents, err := os.ReadDir(env.Path(macAppsDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrAbsent
	}
	if err != nil {
		return nil, err
	}
	var items []api.Item
	var errs []error
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return items, err
		}
		if !strings.HasSuffix(e.Name(), ".app") {
			continue
		}
		p := path.Join(macAppsDir, e.Name(), "Contents", "Info.plist")
		f, err := env.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		it, err := parseAppInfo(f, strings.TrimSuffix(e.Name(), ".app"))
		f.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, err))
			continue
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return items, errors.Join(errs...)
}

// parseAppInfo turns an application's Info.plist into an item; fallback
// names the app when the plist has no CFBundleName.
func parseAppInfo(r io.Reader, fallback string) (api.Item, error) {
	v, err := parsePlist(r)
	if err != nil {
		return api.Item{}, err
	}
	d, ok := v.(map[string]any)
	if !ok {
		return api.Item{}, errors.New("Info.plist is not a dictionary")
	}
	name := plistString(d, "CFBundleDisplayName")
	if name == "" {
		name = plistString(d, "CFBundleName")
	}
	if name == "" {
		name = fallback
	}
	ver := plistString(d, "CFBundleShortVersionString")
	if ver == "" {
		ver = plistString(d, "CFBundleVersion")
	}
	id := plistString(d, "CFBundleIdentifier")
	return api.Item{Source: "macos-app", Name: name, Version: strings.TrimSpace(ver), BundleID: id, Publisher: bundleVendor(id)}, nil
}

// bundleVendor guesses the vendor from a reverse-DNS bundle id
// ("com.microsoft.Word" → "microsoft").
func bundleVendor(id string) string {
	parts := strings.Split(id, ".")
	if len(parts) >= 3 {
		return parts[1]
	}
	return ""
}

// macSystemVersionPath holds the macOS product version and build.
const macSystemVersionPath = "/System/Library/CoreServices/SystemVersion.plist"

// readMacSystemVersion reads SystemVersion.plist under env.
func readMacSystemVersion(env *Env) (osDetails, error) {
	f, err := env.Open(macSystemVersionPath)
	if err != nil {
		return osDetails{}, err
	}
	defer f.Close()
	v, err := parsePlist(f)
	if err != nil {
		return osDetails{}, fmt.Errorf("%s: %w", macSystemVersionPath, err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return osDetails{}, fmt.Errorf("%s: not a dictionary", macSystemVersionPath)
	}
	return macDetails(plistString(d, "ProductName"), plistString(d, "ProductVersion"), plistString(d, "ProductBuildVersion")), nil
}

func macDetails(name, version, build string) osDetails {
	if name == "" || name == "Mac OS X" {
		name = "macOS"
	}
	return osDetails{Name: strings.TrimSpace(name + " " + version), ID: "macos", Version: version, Build: build, Product: "macos"}
}

// parseSwVers parses `sw_vers` output ("ProductVersion:	14.5").
func parseSwVers(out string) osDetails {
	kv := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return macDetails(kv["ProductName"], kv["ProductVersion"], kv["BuildVersion"])
}

// parseIORegUUID finds "IOPlatformUUID" = "..." in `ioreg -rd1 -c
// IOPlatformExpertDevice` output.
func parseIORegUUID(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if !strings.Contains(l, `"IOPlatformUUID"`) {
			continue
		}
		_, v, ok := strings.Cut(l, "=")
		if ok {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

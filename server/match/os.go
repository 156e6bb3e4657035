package match

import (
	"fmt"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// osProducts maps os-release IDs (and the agent's OSID values) to catalog
// product ids where they differ; any other ID is looked up as a product id.
var osProducts = map[string]string{
	"alpine":        "alpine-linux",
	"amzn":          "amazon-linux",
	"rocky":         "rocky-linux",
	"ol":            "oracle-linux",
	"opensuse-leap": "opensuse",
	"sled":          "sles",
	"pop":           "pop-os",
	"raspbian":      "debian",
	"darwin":        "macos",
	"mac":           "macos",
	"osx":           "macos",
}

// MatchOS maps a host's operating system to a product (debian 12, ubuntu
// 22.04, windows 11 23H2, macos 14).
func (m *Matcher) MatchOS(h api.HostInfo) (r Result, ok bool) { return m.matchOS(h, nil) }

func (m *Matcher) matchOS(h api.HostInfo, t tracer) (Result, bool) {
	id := strings.ToLower(strings.TrimSpace(h.OSID))
	if id == "" {
		switch strings.ToLower(h.OS) {
		case "windows":
			id = "windows"
		case "darwin":
			id = "macos"
		}
	}
	if id == "windows" || strings.HasPrefix(strings.ToLower(h.OSName), "windows") || strings.HasPrefix(strings.ToLower(h.OSName), "microsoft windows") {
		return m.matchWindows(h, t)
	}
	if id == "" {
		t.f("the host reports no OS id (os_id) and is neither windows nor darwin")
		return Result{}, false
	}
	pid := id
	if mapped, ok := osProducts[id]; ok {
		pid = mapped
	}
	p := m.product(pid)
	if p == nil {
		t.f("os id %q is not a catalog product", id)
		return Result{}, false
	}
	v := strings.TrimSpace(h.OSVersion)
	if v == "" {
		t.f("the host reports os %s but no version", id)
		return Result{}, false
	}
	// os-release's VERSION_ID is often the release alone ("22.04"); the OS
	// name may carry the point release ("Ubuntu 22.04.4 LTS").
	for _, w := range strings.Fields(h.OSName) {
		if strings.HasPrefix(w, v+".") && len(w) > len(v)+1 && isDigit(w[len(v)+1]) {
			t.f("the OS name %q gives the point release %s", h.OSName, w)
			v = w
			break
		}
	}
	why := fmt.Sprintf("the host's os-release ID %q is %s", id, p.ID)
	// A bare release ("12" for Debian) says nothing about point releases,
	// which such distributions deliver as package updates (judged on their
	// own): the OS is judged on its release's support, as if current.
	for _, c := range p.Cycles {
		if c.Name == v && c.Latest != "" && c.Latest != v {
			t.f("version %q is the release %s alone; point releases come as package updates, so the verdict uses its latest %s", v, c.Name, c.Latest)
			why += fmt.Sprintf("; the host reports release %s without a point release, judged as %s", v, c.Latest)
			v = c.Latest
			break
		}
	}
	t.f("os id %q is catalog product %s; version %s", id, p.ID, v)
	return Result{Product: p.ID, Version: v, Rule: "os " + id, Why: why}, true
}

// matchWindows picks the Windows (or Windows Server) cycle by the build
// number in OSBuild and the edition in OSName: Home/Pro cycles end in "-w",
// Enterprise/Education in "-e", LTSC in "-e-lts", IoT LTSC in "-iot-lts".
func (m *Matcher) matchWindows(h api.HostInfo, t tracer) (Result, bool) {
	name := strings.ToLower(h.OSName)
	pid := "windows"
	if strings.Contains(name, "server") {
		pid = "windows-server"
	}
	p := m.product(pid)
	if p == nil {
		t.f("the catalog has no %s product", pid)
		return Result{}, false
	}
	build := buildNumber(h.OSBuild)
	version := strings.TrimSpace(h.OSBuild)
	if build == 0 {
		// "10.0.22631" may also come as OSVersion on some agents.
		if b := buildNumber(h.OSVersion); b > 0 {
			build, version = b, strings.TrimSpace(h.OSVersion)
		}
	}
	if build == 0 {
		t.f("no Windows build number in os_build %q; it decides the release", h.OSBuild)
		return Result{}, false
	}
	cycles := m.builds[pid][build]
	if len(cycles) == 0 {
		t.f("build %d is not a %s release in the catalog", build, pid)
		return Result{Product: p.ID, Version: version, Rule: "windows build",
			Why: fmt.Sprintf("build %d of %s is not in the catalog", build, pid)}, true
	}
	suffix := "-w"
	edition := "Home/Pro"
	switch {
	case strings.Contains(name, "iot") && (strings.Contains(name, "ltsc") || strings.Contains(name, "ltsb")):
		suffix, edition = "-iot-lts", "IoT LTSC"
	case strings.Contains(name, "ltsc") || strings.Contains(name, "ltsb"):
		suffix, edition = "-e-lts", "Enterprise LTSC"
	case strings.Contains(name, "enterprise") || strings.Contains(name, "education"):
		suffix, edition = "-e", "Enterprise/Education"
	}
	cycle := cycles[0]
	if len(cycles) > 1 {
		for _, c := range cycles {
			if strings.HasSuffix(c, suffix) {
				cycle = c
				break
			}
		}
	}
	// The catalog picks among cycles sharing a build by the edition tags
	// written after the version: "10.0.22631.3296 (e)" is 11-23h2-e.
	if tags := editionTags(cycle); tags != "" && len(cycles) > 1 {
		version += " (" + tags + ")"
	}
	t.f("build %d is %s cycle(s) %s; edition %s (from %q) → %s", build, pid, strings.Join(cycles, ", "), edition, h.OSName, cycle)
	return Result{Product: p.ID, Version: version, Cycle: cycle, Rule: "windows build " + fmt.Sprint(build),
		Why: fmt.Sprintf("Windows build %d with edition %s is release %s", build, edition, cycle)}, true
}

// editionTags returns the edition part of a Windows cycle name, spaced:
// "11-24h2-e-lts" → "e lts", "11-23h2-w" → "w", "10-22h2" → "".
func editionTags(cycle string) string {
	parts := strings.Split(cycle, "-")
	if len(parts) <= 2 {
		return ""
	}
	return strings.Join(parts[2:], " ")
}

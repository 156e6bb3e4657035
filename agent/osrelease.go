package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eolwatch/eolwatch/server/api"
)

// osDetails describes the operating system, whatever it was read from.
type osDetails struct {
	Name    string // "Debian GNU/Linux 12 (bookworm)", "Windows 11 Pro", "macOS"
	ID      string // debian, ubuntu, windows, macos ...
	Version string // "12", "22.04", "23H2", "14.5"
	Build   string // "10.0.22631.3296", "23F79"
	Product string // catalog product hint: debian, windows, windows-server, macos
	Kernel  string
}

// item turns the OS into an inventory item (source "os").
func (d osDetails) item() api.Item {
	v := d.Version
	if d.ID == "windows" && d.Build != "" {
		v = d.Build // Windows releases are identified by build number
	}
	return api.Item{Source: "os", Name: d.ID, Version: v, Product: d.Product}
}

// osCollector reports the operating system itself as an item; the details
// come from the GOOS-specific readOS.
type osCollector struct{}

func (osCollector) Name() string { return "os" }

func (osCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	d, err := readOS(ctx, env)
	if err != nil {
		return nil, err
	}
	if d.ID == "" {
		return nil, errors.New("operating system not identified")
	}
	return []api.Item{d.item()}, nil
}

// osReleasePaths are where os-release(5) may live, in order of preference.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// readOSRelease reads the first os-release file that exists under env.
func readOSRelease(env *Env) (osDetails, error) {
	for _, p := range osReleasePaths {
		f, err := env.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return osDetails{}, err
		}
		kv, err := parseOSRelease(f)
		f.Close()
		if err != nil {
			return osDetails{}, fmt.Errorf("%s: %w", p, err)
		}
		id := kv["ID"]
		if id == "" {
			id = "linux" // os-release(5): the default ID
		}
		name := kv["PRETTY_NAME"]
		if name == "" {
			name = strings.TrimSpace(kv["NAME"] + " " + kv["VERSION"])
		}
		ver := kv["VERSION_ID"]
		if ver == "" && kv["BUILD_ID"] != "" {
			ver = kv["BUILD_ID"] // rolling releases
		}
		ver = pointRelease(env, id, ver, kv["VERSION"])
		return osDetails{Name: name, ID: id, Version: ver, Product: linuxProduct(id)}, nil
	}
	return osDetails{}, fmt.Errorf("no os-release file (%s)", strings.Join(osReleasePaths, ", "))
}

// pointRelease refines os-release's VERSION_ID ("12", "22.04") to the point
// release when the system says which one it is: Debian's /etc/debian_version
// ("12.11") or Ubuntu's VERSION ("22.04.3 LTS (Jammy Jellyfish)"). A point
// release lets the server tell an updated host from one that missed point
// releases; anything that does not extend VERSION_ID is ignored.
func pointRelease(env *Env, id, versionID, version string) string {
	if versionID == "" {
		return versionID
	}
	candidate := ""
	switch id {
	case "debian":
		if f, err := env.Open("/etc/debian_version"); err == nil {
			b, _ := io.ReadAll(io.LimitReader(f, 64))
			f.Close()
			candidate = strings.TrimSpace(string(b))
		}
	case "ubuntu":
		candidate, _, _ = strings.Cut(strings.TrimSpace(version), " ")
	}
	if extendsVersion(candidate, versionID) {
		return candidate
	}
	return versionID
}

// extendsVersion reports whether v is base followed by "." and digits/dots ("12.11" extends "12").
func extendsVersion(v, base string) bool {
	rest, ok := strings.CutPrefix(v, base+".")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// linuxProduct maps an os-release ID to the endoflife.date product name.
func linuxProduct(id string) string {
	switch id {
	case "rocky":
		return "rocky-linux"
	case "alpine":
		return "alpine-linux"
	case "amzn":
		return "amazon-linux"
	case "ol":
		return "oracle-linux"
	case "opensuse-leap":
		return "opensuse"
	case "sles", "sles_sap":
		return "sles"
	}
	return id
}

// parseOSRelease parses os-release(5): KEY=VALUE lines, values optionally
// quoted in shell style. Comments and blank lines are skipped; a line that is
// not an assignment or has an unterminated quote is an error naming the line.
func parseOSRelease(r io.Reader) (map[string]string, error) {
	kv := make(map[string]string)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("line %d: %q is not KEY=VALUE", line, truncate(s, 40))
		}
		val, err := unquoteShell(v)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", line, k, err)
		}
		kv[k] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return kv, nil
}

// unquoteShell undoes the shell quoting os-release allows.
func unquoteShell(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch q := v[0]; q {
	case '"', '\'':
		if len(v) < 2 || v[len(v)-1] != q {
			return "", errors.New("unterminated quote")
		}
		body := v[1 : len(v)-1]
		if q == '\'' {
			return body, nil
		}
		var b strings.Builder
		for i := 0; i < len(body); i++ {
			c := body[i]
			if c == '\\' && i+1 < len(body) && strings.IndexByte("\"\\$`", body[i+1]) >= 0 {
				i++
				c = body[i]
			}
			b.WriteByte(c)
		}
		return b.String(), nil
	}
	return v, nil
}

package agent

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/eolwatch/eolwatch/internal/pkgver"
	"github.com/eolwatch/eolwatch/server/api"
)

// rpmQueryFormat asks rpm for one tab-separated line per package.
const rpmQueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{VENDOR}\t%{SUMMARY}\n`

// rpmDBPaths are where rpm keeps its database (the newer location first).
var rpmDBPaths = []string{"/usr/lib/sysimage/rpm", "/var/lib/rpm"}

// rpmCollector lists rpm packages with `rpm -qa --queryformat`. It runs only
// when rpm is on PATH and an rpm database with files in it exists (a Debian
// host with the rpm tool installed has an empty /var/lib/rpm).
type rpmCollector struct{}

func (rpmCollector) Name() string { return "rpm" }

func (rpmCollector) Collect(ctx context.Context, env *Env) ([]api.Item, error) {
	if env.Run == nil {
		if _, err := exec.LookPath("rpm"); err != nil {
			return nil, ErrAbsent
		}
	}
	if !rpmDBExists(env) {
		return nil, ErrAbsent
	}
	args := []string{"-qa", "--queryformat", rpmQueryFormat}
	if env.Root != "" && env.Root != "/" {
		args = append([]string{"--root", env.Root}, args...)
	}
	out, err := env.Command(ctx, false, "rpm", args...)
	if err != nil {
		return nil, err
	}
	items, err := parseRPMQuery(bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	// What the enabled repositories offer, from dnf's metadata cache: the
	// items stand even when it cannot be read.
	if err := dnfEnrich(ctx, env, items); err != nil {
		return items, fmt.Errorf("dnf: %w", err)
	}
	return items, nil
}

func rpmDBExists(env *Env) bool {
	for _, p := range rpmDBPaths {
		ents, err := os.ReadDir(env.Path(p))
		if err == nil && len(ents) > 0 {
			return true
		}
	}
	return false
}

// parseRPMQuery parses the output of rpm -qa --queryformat rpmQueryFormat.
// gpg-pubkey pseudo-packages are skipped. Version is [epoch:]version-release;
// Origin is the Vendor tag, lower-cased, and Summary the package's summary
// (a line without them, from an older query format, has none).
func parseRPMQuery(r io.Reader) ([]api.Item, error) {
	var items []api.Item
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(s) == "" {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) < 6 || len(f) > 8 {
			return nil, fmt.Errorf("rpm line %d: %d tab-separated fields, want 8", line, len(f))
		}
		name, epoch, ver, rel, arch, srpm := f[0], f[1], f[2], f[3], f[4], f[5]
		vendor := ""
		if len(f) >= 7 && f[6] != "(none)" {
			vendor = strings.ToLower(strings.TrimSpace(f[6]))
		}
		summary := ""
		if len(f) == 8 && f[7] != "(none)" {
			summary = f[7]
		}
		if name == "" || ver == "" {
			return nil, fmt.Errorf("rpm line %d: empty name or version", line)
		}
		if name == "gpg-pubkey" {
			continue
		}
		v := ver
		if rel != "" && rel != "(none)" {
			v += "-" + rel
		}
		if epoch != "" && epoch != "(none)" && epoch != "0" {
			v = epoch + ":" + v
		}
		if arch == "(none)" {
			arch = ""
		}
		items = append(items, api.Item{Source: "rpm", Name: name, Version: v, Arch: arch, SourcePkg: pkgver.RPMSourceName(srpm), Origin: vendor, Summary: summary})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("rpm line %d: %w", line+1, err)
	}
	return items, nil
}

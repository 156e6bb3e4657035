package agent

import (
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

// ubuntuProStatus is the Ubuntu Pro client's status cache, written by
// `pro status` and by the client's timers (schema 0.1, world-readable).
const ubuntuProStatus = "/var/lib/ubuntu-advantage/status.json"

// extendedSupport lists the paid extended-support programmes this host is
// enrolled in (api.HostInfo.ExtendedSupport), sorted: Ubuntu Pro attached
// with ESM Infra / ESM Apps enabled (and the contract not expired),
// Freexian's Debian Extended LTS archive among the apt sources, an enabled
// RHEL ELS repository.
func extendedSupport(env *Env, now time.Time) []string {
	set := map[string]bool{}
	if f, err := env.Open(ubuntuProStatus); err == nil {
		for _, p := range parseUbuntuProStatus(io.LimitReader(f, 8<<20), now) {
			set[p] = true
		}
		f.Close()
	}
	if srcs, _ := readAptSources(env); len(srcs) > 0 {
		for _, s := range srcs {
			_, _, host, path := uriParts(s.URI)
			if strings.EqualFold(host, "deb.freexian.com") && strings.Contains(path, "extended-lts") {
				set[api.ExtDebianELTS] = true
			}
		}
	}
	for _, r := range readYumRepos(env) {
		if r.Enabled && strings.Contains(r.ID, "-els-") {
			set[api.ExtRHELELS] = true
		}
	}
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// parseUbuntuProStatus reads the Pro client's status.json: {"attached":
// true, "expires": "2032-…", "services": [{"name": "esm-infra", "status":
// "enabled"}, ...]}. Anything unreadable counts as not enrolled.
func parseUbuntuProStatus(r io.Reader, now time.Time) []string {
	var st struct {
		Attached bool   `json:"attached"`
		Expires  string `json:"expires"`
		Services []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"services"`
	}
	if err := json.NewDecoder(r).Decode(&st); err != nil || !st.Attached {
		return nil
	}
	if st.Expires != "" {
		if t, err := time.Parse(time.RFC3339, st.Expires); err == nil && t.Before(now) {
			return nil
		}
	}
	var out []string
	for _, s := range st.Services {
		if s.Status != "enabled" {
			continue
		}
		switch s.Name {
		case "esm-infra":
			out = append(out, api.ExtUbuntuESMInfra)
		case "esm-apps":
			out = append(out, api.ExtUbuntuESMApps)
		}
	}
	return out
}

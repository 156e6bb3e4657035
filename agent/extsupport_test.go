package agent

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/server/api"
)

func TestExtendedSupport(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if got := extendedSupport(&Env{Root: "testdata/ubuntu-apt"}, now); !reflect.DeepEqual(got, []string{api.ExtUbuntuESMApps, api.ExtUbuntuESMInfra}) {
		t.Errorf("Ubuntu Pro attached with ESM Apps and Infra enabled: %v", got)
	}
	if got := extendedSupport(&Env{Root: "testdata/debian-apt"}, now); got != nil {
		t.Errorf("Debian without a paid programme: %v", got)
	}
	status, err := os.ReadFile("testdata/ubuntu-apt/var/lib/ubuntu-advantage/status.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(string) string
		want   []string
	}{
		{"expired contract", func(s string) string {
			return strings.Replace(s, `"9999-12-31T00:00:00+00:00"`, `"2025-01-01T00:00:00+00:00"`, 1)
		}, nil},
		{"detached", func(s string) string { return strings.Replace(s, `"attached": true`, `"attached": false`, 1) }, nil},
		{"infra disabled", func(s string) string {
			return strings.Replace(s, `"Expanded Security Maintenance for Infrastructure", "entitled": "yes", "status": "enabled"`,
				`"Expanded Security Maintenance for Infrastructure", "entitled": "yes", "status": "disabled"`, 1)
		}, []string{api.ExtUbuntuESMApps}},
		{"damaged file", func(s string) string { return s[:len(s)/2] }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			changed := tc.change(string(status))
			if changed == string(status) && tc.name != "damaged file" {
				t.Fatal("the change did not apply")
			}
			if got := parseUbuntuProStatus(strings.NewReader(changed), now); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("programmes = %v, want %v", got, tc.want)
			}
		})
	}
	root := t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(s), 0o644)
	}
	write("etc/apt/sources.list.d/elts.list", "deb http://deb.freexian.com/extended-lts buster-lts main contrib non-free\n")
	write("etc/yum.repos.d/redhat.repo", "[rhel-7-server-els-rpms]\nname = Red Hat Enterprise Linux 7 Server - Extended Life Cycle Support (RPMs)\nbaseurl = https://cdn.redhat.com/content/els/rhel/server/7/$releasever/$basearch/os\nenabled = 1\n\n[rhel-7-server-rpms]\nname = x\nenabled = 1\n")
	if got := extendedSupport(&Env{Root: root}, now); !reflect.DeepEqual(got, []string{api.ExtDebianELTS, api.ExtRHELELS}) {
		t.Errorf("ELTS source and ELS repository: %v", got)
	}
	write("etc/yum.repos.d/redhat.repo", "[rhel-7-server-els-rpms]\nenabled = 0\n")
	if got := extendedSupport(&Env{Root: root}, now); !reflect.DeepEqual(got, []string{api.ExtDebianELTS}) {
		t.Errorf("a disabled ELS repository counts: %v", got)
	}
}

// TestHashCoversHostRepositoryFacts: a check-in does not store host facts,
// so the day of the repository data and the extended-support enrolment are
// part of the inventory hash (a change makes the next report full), and an
// inventory without them hashes as before.
func TestHashCoversHostRepositoryFacts(t *testing.T) {
	items := []api.Item{{Source: "dpkg", Name: "curl", Version: "7.88.1-10+deb12u12"}}
	base := Inventory{Items: items}
	plain := base.Hash()
	d1 := time.Date(2026, 11, 30, 2, 21, 41, 0, time.UTC)
	with := func(d time.Time, ext ...string) string {
		inv := base
		inv.Host.RepoDataDate, inv.Host.ExtendedSupport = d, ext
		return inv.Hash()
	}
	if with(d1) == plain {
		t.Error("a repository date does not change the hash")
	}
	if with(d1) != with(d1.Add(5*time.Hour)) {
		t.Error("the time within the day changes the hash (it should be the day only)")
	}
	if with(d1) == with(d1.Add(24*time.Hour)) {
		t.Error("a new day of repository data does not change the hash")
	}
	if with(d1, api.ExtUbuntuESMInfra) == with(d1) {
		t.Error("extended-support enrolment does not change the hash")
	}
	if with(time.Time{}) != plain {
		t.Error("an inventory without host repository facts hashes differently than before")
	}
}

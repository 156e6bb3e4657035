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

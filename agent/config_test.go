package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFileEnvAndDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "agent.yaml")
	os.WriteFile(p, []byte(`
server: https://eolwatch.example.com
enroll_secret_file: /etc/eolwatch/enroll-secret
interval: 30m
collector_timeout: 20s
disable: [rpm]
tls:
  ca_file: /etc/eolwatch/ca.pem
probes:
  - name: java
    product: java
    command: [java, -version]
    regexp: 'version "([^"]+)"'
    timeout: 5s
`), 0o600)
	env := map[string]string{"EOLWATCH_INTERVAL": "2h", "EOLWATCH_STATE_DIR": "/srv/state"}
	c, err := LoadConfig(p, true, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(true); err != nil {
		t.Fatal(err)
	}
	if c.Interval != 2*time.Hour || c.StateDir != "/srv/state" || c.CollectorTimeout != 20*time.Second || c.TLS.CAFile != "/etc/eolwatch/ca.pem" {
		t.Errorf("config = %+v", c)
	}
	if c.Splay != DefaultSplay || c.RetryMin != DefaultRetryMin || c.LogLevel != "info" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if len(c.Probes) != 1 || c.Probes[0].Timeout != 5*time.Second || c.Probes[0].Command[1] != "-version" {
		t.Errorf("probes = %+v", c.Probes)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "none.yaml"), false, nil); err != nil {
		t.Errorf("a missing optional config file: %v", err)
	}
}

func TestConfigErrorsNameTheField(t *testing.T) {
	tests := []struct {
		yaml string
		env  map[string]string
		want string
	}{
		{"sever: https://x\n", nil, "field sever not found"},
		{"interval: soon\n", nil, "line 1"},
		{"server: https://x\ninterval: 10s\n", nil, "interval: 10s is shorter than 1m"},
		{"server: ftp://x\n", nil, "server:"},
		{"server: http://10.0.0.1\n", nil, "plain http"},
		{"server: https://x\ntls:\n  cert_file: a.pem\n", nil, "tls: cert_file and key_file"},
		{"server: https://x\nlog_level: loud\n", nil, "log_level"},
		{"server: https://x\ndisable: [dpgk]\n", nil, `disable[0]: unknown collector "dpgk"`},
		{"server: https://x\nprobes:\n  - name: x\n    file: /f\n    regexp: '('\n", nil, "probes[0] (x).regexp"},
		{"server: https://x\n", map[string]string{"EOLWATCH_INTERVAL": "often"}, "EOLWATCH_INTERVAL"},
		{"server: https://x\n", map[string]string{"EOLWATCH_INSECURE_HTTP": "maybe"}, "EOLWATCH_INSECURE_HTTP"},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "agent.yaml")
		os.WriteFile(p, []byte(tt.yaml), 0o600)
		c, err := LoadConfig(p, true, func(k string) string { return tt.env[k] })
		if err == nil {
			err = c.Validate(true)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("config %q env %v: err = %v, want one containing %q", tt.yaml, tt.env, err, tt.want)
		}
	}
}

func TestStateRefusesSharedDir(t *testing.T) {
	if _, err := OpenState(os.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "shared directory") {
		t.Errorf("OpenState(%s) = %v, want a shared-directory error", os.TempDir(), err)
	}
}

// TestPrintConfigMasksSecrets checks that `eolwatch-agent config` shows
// neither the enroll secret nor a password in the server URL.
func TestPrintConfigMasksSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, server, want string
	}{
		{"password in the URL", "https://bob:PassW0rd@eol.example/", "server: https://bob:xxxxx@eol.example/"},
		{"user alone", "https://bob@eol.example", "server: https://bob@eol.example"},
		{"no user", "https://eol.example:8443", "server: https://eol.example:8443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := printConfig(&b, Config{Server: tc.server, EnrollSecret: "hunter2-enroll-secret"}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if strings.Contains(out, "PassW0rd") || strings.Contains(out, "hunter2") || !strings.Contains(out, tc.want+"\n") {
				t.Errorf("printConfig(server %q) =\n%s\nwant %q and no secret", tc.server, out, tc.want)
			}
		})
	}
}

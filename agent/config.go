package agent

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults for Config fields left empty.
const (
	DefaultInterval         = time.Hour
	DefaultSplay            = 10 * time.Minute
	DefaultCollectorTimeout = 60 * time.Second
	DefaultRetryMin         = 10 * time.Second
	DefaultRetryMax         = 15 * time.Minute
	DefaultRequestTimeout   = 60 * time.Second
)

// Config is the agent's configuration: the YAML file (DefaultConfigPath),
// then EOLWATCH_* environment variables, then command-line flags, each
// overriding the one before. docs/agent.md lists every field.
type Config struct {
	// Server is the eolwatch server's base URL, e.g. https://eolwatch.example.com.
	// Plain http is accepted only for loopback addresses unless InsecureHTTP is set.
	Server string `yaml:"server"`
	// EnrollSecret is the server's enrollment secret, needed until the agent
	// has its own node key. Prefer EnrollSecretFile.
	EnrollSecret string `yaml:"enroll_secret"`
	// EnrollSecretFile names a file holding the enrollment secret.
	EnrollSecretFile string `yaml:"enroll_secret_file"`
	// StateDir holds the node key, the install id and the report spool (0700).
	StateDir string `yaml:"state_dir"`
	// Interval is the time between inventories (default 1h, at least 1m).
	Interval time.Duration `yaml:"interval"`
	// Splay bounds the random delay before the first inventory after start
	// (default 10m, never more than Interval), so a fleet restarted at once
	// does not report at once.
	Splay time.Duration `yaml:"splay"`
	// CollectorTimeout bounds each collector (default 60s).
	CollectorTimeout time.Duration `yaml:"collector_timeout"`
	// RetryMin and RetryMax bound the exponential backoff between delivery
	// attempts of a spooled report (defaults 10s and 15m; jitter is added).
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
	// RequestTimeout bounds one HTTP request (default 60s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Root re-roots every path collectors read (default "/"), for tests and
	// for inventorying a mounted image.
	Root string `yaml:"root"`
	// Disable lists collectors not to run (dpkg, rpm, apk, os,
	// windows-registry, macos-app, probe:NAME).
	Disable []string `yaml:"disable"`
	// Probes are custom version probes (command or file + regexp).
	Probes []Probe `yaml:"probes"`
	// TLS configures the connection to the server.
	TLS TLSConfig `yaml:"tls"`
	// InsecureHTTP allows a plain-http server URL that is not loopback.
	InsecureHTTP bool `yaml:"insecure_http"`
	// LogLevel is debug, info, warn or error (default info).
	LogLevel string `yaml:"log_level"`
}

// TLSConfig is the agent's TLS client setup. The system roots are used
// unless CAFile is set.
type TLSConfig struct {
	// CAFile is a PEM bundle trusted instead of the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key for servers
	// behind mutual TLS.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the server's certificate.
	ServerName string `yaml:"server_name"`
}

// DefaultConfigPath is where the agent looks for its configuration on this
// operating system.
func DefaultConfigPath() string {
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(programData(), "eolwatch", "agent.yaml")
	case "darwin":
		return "/Library/Application Support/eolwatch/agent.yaml"
	}
	return "/etc/eolwatch/agent.yaml"
}

// DefaultStateDir is the agent's state directory on this operating system
// (on Linux the systemd unit's StateDirectory).
func DefaultStateDir() string {
	switch runtime.GOOS {
	case "windows":
		return filepath.Join(programData(), "eolwatch", "agent-state")
	case "darwin":
		return "/Library/Application Support/eolwatch/agent-state"
	}
	return "/var/lib/eolwatch-agent"
}

func programData() string {
	if p := os.Getenv("ProgramData"); p != "" {
		return p
	}
	return `C:\ProgramData`
}

// credentialConfig is the config file systemd passes with LoadCredential=
// (the unit runs as a dynamic user that cannot read a root-only file).
func credentialConfig() string {
	if d := os.Getenv("CREDENTIALS_DIRECTORY"); d != "" {
		p := filepath.Join(d, "agent.yaml")
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			return p
		}
	}
	return ""
}

// LoadConfig reads the YAML file at path (a missing file is an error only
// when required), applies EOLWATCH_* overrides from getenv and fills
// defaults. Errors name the file and line, field or variable at fault.
func LoadConfig(path string, required bool, getenv func(string) string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if c, err = ParseConfig(bytes.NewReader(b)); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist) && !required:
	default:
		return c, fmt.Errorf("config: %w", err)
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

// ParseConfig decodes YAML config, rejecting unknown fields.
func ParseConfig(r io.Reader) (Config, error) {
	var c Config
	d := yaml.NewDecoder(r)
	d.KnownFields(true)
	if err := d.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// envVars maps EOLWATCH_* variables to the fields they set.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"EOLWATCH_SERVER", func(c *Config, v string) error { c.Server = v; return nil }},
	{"EOLWATCH_ENROLL_SECRET", func(c *Config, v string) error { c.EnrollSecret = v; return nil }},
	{"EOLWATCH_ENROLL_SECRET_FILE", func(c *Config, v string) error { c.EnrollSecretFile = v; return nil }},
	{"EOLWATCH_STATE_DIR", func(c *Config, v string) error { c.StateDir = v; return nil }},
	{"EOLWATCH_INTERVAL", durationVar(func(c *Config) *time.Duration { return &c.Interval })},
	{"EOLWATCH_SPLAY", durationVar(func(c *Config) *time.Duration { return &c.Splay })},
	{"EOLWATCH_COLLECTOR_TIMEOUT", durationVar(func(c *Config) *time.Duration { return &c.CollectorTimeout })},
	{"EOLWATCH_RETRY_MIN", durationVar(func(c *Config) *time.Duration { return &c.RetryMin })},
	{"EOLWATCH_RETRY_MAX", durationVar(func(c *Config) *time.Duration { return &c.RetryMax })},
	{"EOLWATCH_REQUEST_TIMEOUT", durationVar(func(c *Config) *time.Duration { return &c.RequestTimeout })},
	{"EOLWATCH_ROOT", func(c *Config, v string) error { c.Root = v; return nil }},
	{"EOLWATCH_DISABLE", func(c *Config, v string) error { c.Disable = splitList(v); return nil }},
	{"EOLWATCH_TLS_CA_FILE", func(c *Config, v string) error { c.TLS.CAFile = v; return nil }},
	{"EOLWATCH_TLS_CERT_FILE", func(c *Config, v string) error { c.TLS.CertFile = v; return nil }},
	{"EOLWATCH_TLS_KEY_FILE", func(c *Config, v string) error { c.TLS.KeyFile = v; return nil }},
	{"EOLWATCH_TLS_SERVER_NAME", func(c *Config, v string) error { c.TLS.ServerName = v; return nil }},
	{"EOLWATCH_INSECURE_HTTP", func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			c.InsecureHTTP = true
		case "0", "false", "no":
			c.InsecureHTTP = false
		default:
			return fmt.Errorf("%q is not a boolean", v)
		}
		return nil
	}},
	{"EOLWATCH_LOG_LEVEL", func(c *Config, v string) error { c.LogLevel = v; return nil }},
}

func durationVar(field func(*Config) *time.Duration) func(*Config, string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 30s, 1h)", v)
		}
		*field(c) = d
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Config) applyEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	for _, e := range envVars {
		if v := getenv(e.name); v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("%s: %w", e.name, err)
			}
		}
	}
	return nil
}

// setDefaults fills empty fields.
func (c *Config) setDefaults() {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir()
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Splay == 0 {
		c.Splay = min(DefaultSplay, c.Interval)
	}
	if c.CollectorTimeout == 0 {
		c.CollectorTimeout = DefaultCollectorTimeout
	}
	if c.RetryMin == 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
}

// Validate fills defaults and checks every field, naming the one at fault.
// needServer is false for commands that do not talk to the server.
func (c *Config) Validate(needServer bool) error {
	c.setDefaults()
	if needServer || c.Server != "" {
		if c.Server == "" {
			return errors.New("server: required (config file, EOLWATCH_SERVER or --server)")
		}
		u, err := url.Parse(c.Server)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return fmt.Errorf("server: %q is not an http(s) URL", c.Server)
		}
		if u.Scheme == "http" && !c.InsecureHTTP && !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("server: %q uses plain http to a non-loopback host; use https or set insecure_http", c.Server)
		}
	}
	switch {
	case c.Interval < time.Minute && c.Interval > 0:
		return fmt.Errorf("interval: %s is shorter than 1m", c.Interval)
	case c.Interval < 0:
		return fmt.Errorf("interval: %s is negative", c.Interval)
	case c.Splay < 0:
		return fmt.Errorf("splay: %s is negative", c.Splay)
	case c.CollectorTimeout < 0:
		return fmt.Errorf("collector_timeout: %s is negative", c.CollectorTimeout)
	case c.RetryMin < 0:
		return fmt.Errorf("retry_min: %s is negative", c.RetryMin)
	case c.RetryMax < c.RetryMin:
		return fmt.Errorf("retry_max: %s is less than retry_min %s", c.RetryMax, c.RetryMin)
	case c.RequestTimeout < 0:
		return fmt.Errorf("request_timeout: %s is negative", c.RequestTimeout)
	case (c.TLS.CertFile == "") != (c.TLS.KeyFile == ""):
		return errors.New("tls: cert_file and key_file go together")
	}
	c.Splay = min(c.Splay, c.Interval)
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	for i, p := range c.Probes {
		if _, err := newProbeCollector(i, p); err != nil {
			return err
		}
	}
	known := map[string]bool{}
	for _, n := range BuiltinCollectors() {
		known[n] = true
	}
	for _, p := range c.Probes {
		known["probe:"+p.Name] = true
	}
	for i, d := range c.Disable {
		if !known[d] && !knownElsewhere[d] {
			return fmt.Errorf("disable[%d]: unknown collector %q", i, d)
		}
	}
	return nil
}

// knownElsewhere are collectors of other operating systems, accepted in
// Disable so one config file serves a mixed fleet.
var knownElsewhere = map[string]bool{"os": true, "dpkg": true, "rpm": true, "apk": true, "windows-registry": true, "macos-app": true}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "::1" || strings.HasPrefix(h, "127.")
}

// enrollSecret returns the configured secret, reading EnrollSecretFile when set.
func (c *Config) enrollSecret() (string, error) {
	if c.EnrollSecret != "" {
		return c.EnrollSecret, nil
	}
	if c.EnrollSecretFile != "" {
		b, err := os.ReadFile(c.EnrollSecretFile)
		if err != nil {
			return "", fmt.Errorf("enroll_secret_file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", errors.New("enroll_secret: required to enroll (config file, EOLWATCH_ENROLL_SECRET or --enroll-secret)")
}

package server

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/eolwatch/eolwatch/catalog"
	"go.yaml.in/yaml/v3"
)

// Config is the configuration of `eolwatch-server serve`. Each field comes,
// from lowest to highest precedence, from its default, the YAML config file
// (--config; keys are the flag names with dashes as underscores), the
// EOLWATCH_* environment variable (the flag name upper-cased with dashes as
// underscores, e.g. EOLWATCH_ENROLL_SECRET) and the command-line flag.
type Config struct {
	// Listen is the HTTP(S) listen address (--listen, default 127.0.0.1:8480).
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and other state (--data-dir, default ./data).
	DataDir string `yaml:"data_dir"`
	// EnrollSecret is the shared secret agents enroll with (--enroll-secret).
	// Without it enrollment is refused.
	EnrollSecret string `yaml:"enroll_secret"`
	// Catalogs are extra catalog files merged over the embedded default (--catalog, repeatable).
	Catalogs []string `yaml:"catalog"`
	// CatalogFeed is a URL of an endoflife.date-format feed synced periodically (--catalog-feed).
	CatalogFeed string `yaml:"catalog_feed"`
	// TLSCert and TLSKey serve HTTPS when both are set (--tls-cert, --tls-key).
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// SMTPAddr is the mail server HOST:PORT (--smtp-addr); empty keeps mail in the outbox.
	SMTPAddr string `yaml:"smtp_addr"`
	// SMTPFrom is the sender address (--smtp-from).
	SMTPFrom string `yaml:"smtp_from"`
	// SMTPTLS is none, starttls or tls (--smtp-tls, default starttls).
	SMTPTLS string `yaml:"smtp_tls"`
	// SMTPUsername and SMTPPassword enable SMTP AUTH (--smtp-username, --smtp-password).
	SMTPUsername string `yaml:"smtp_username"`
	SMTPPassword string `yaml:"smtp_password"`
	// PublicURL is the external base URL used in email links (--public-url;
	// default http(s)://LISTEN).
	PublicURL string `yaml:"public_url"`
	// WarnDays is the eol-soon window in days (--warn-days, default 90).
	WarnDays int `yaml:"warn_days"`
	// GraceDays is the patch grace period in days (--grace-days, default 30).
	GraceDays int `yaml:"grace_days"`
	// LogLevel is debug, info, warn or error (--log-level, default info).
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json (--log-format, default text).
	LogFormat string `yaml:"log_format"`
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	p := catalog.DefaultPolicy()
	return Config{Listen: "127.0.0.1:8480", DataDir: "data", SMTPTLS: "starttls", WarnDays: p.WarnDays, GraceDays: p.GraceDays,
		LogLevel: "info", LogFormat: "text"}
}

type listFlag struct{ vals *[]string }

func (l listFlag) String() string {
	if l.vals == nil {
		return ""
	}
	return strings.Join(*l.vals, ",")
}
func (l listFlag) Set(v string) error { *l.vals = append(*l.vals, v); return nil }

// ParseServeConfig builds the serve configuration from args, the environment
// (getenv) and the config file named by --config or EOLWATCH_CONFIG.
func ParseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	cfg := DefaultConfig()
	var configFile string
	var catalogs []string
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&configFile, "config", "", "YAML config file (env EOLWATCH_CONFIG)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (SQLite database)")
	fs.StringVar(&cfg.EnrollSecret, "enroll-secret", "", "secret agents enroll with")
	fs.Var(listFlag{&catalogs}, "catalog", "extra catalog file (repeatable)")
	fs.StringVar(&cfg.CatalogFeed, "catalog-feed", "", "endoflife.date-format feed URL to sync")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", "", "SMTP server HOST:PORT (empty: mail stays in the outbox)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", "", "sender address")
	fs.StringVar(&cfg.SMTPTLS, "smtp-tls", cfg.SMTPTLS, "none|starttls|tls")
	fs.StringVar(&cfg.SMTPUsername, "smtp-username", "", "SMTP AUTH username")
	fs.StringVar(&cfg.SMTPPassword, "smtp-password", "", "SMTP AUTH password")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "external base URL for links in emails")
	fs.IntVar(&cfg.WarnDays, "warn-days", cfg.WarnDays, "days before eol an install is eol-soon")
	fs.IntVar(&cfg.GraceDays, "grace-days", cfg.GraceDays, "days a newer patch may stay uninstalled before patch-overdue")
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug|info|warn|error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text|json")
	if err := fs.Parse(args); err != nil {
		return cfg, &UsageError{Msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return cfg, &UsageError{Msg: fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	if configFile == "" {
		configFile = getenv("EOLWATCH_CONFIG")
	}
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", configFile, err)
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || f.Name == "config" {
			return
		}
		env := "EOLWATCH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := set[f.Name]; ok {
			if f.Name != "catalog" {
				err = fs.Set(f.Name, v)
			}
			return
		}
		if v := getenv(env); v != "" {
			if f.Name == "catalog" {
				cfg.Catalogs = strings.Split(v, string(os.PathListSeparator))
				return
			}
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, e)
			}
		}
	})
	if err != nil {
		return cfg, err
	}
	if len(catalogs) > 0 {
		cfg.Catalogs = catalogs
	}
	return cfg, cfg.validate()
}

func (c Config) validate() error {
	if c.Listen == "" {
		return errors.New("listen: empty address")
	}
	if c.DataDir == "" {
		return errors.New("data-dir: empty")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("tls-cert and tls-key must be given together")
	}
	switch c.SMTPTLS {
	case "none", "starttls", "tls", "opportunistic":
	default:
		return fmt.Errorf("smtp-tls %q: want none, starttls or tls", c.SMTPTLS)
	}
	if c.WarnDays < 0 || c.GraceDays < 0 {
		return fmt.Errorf("warn-days %d, grace-days %d: must not be negative", c.WarnDays, c.GraceDays)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log-format %q: want text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}

// Policy returns the support policy the configuration asks for.
func (c Config) Policy() catalog.Policy {
	return catalog.Policy{WarnDays: c.WarnDays, GraceDays: c.GraceDays}
}

var _ = strconv.Itoa

package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eolwatch/eolwatch/server"
	"go.yaml.in/yaml/v3"
)

// runServe parses the serve configuration and runs the server until ctx ends.
func runServe(ctx context.Context, args []string, io Stdio) error {
	cfg, err := ParseServeConfig(args, os.Getenv, io.Err)
	if err != nil {
		return err
	}
	return server.Run(ctx, cfg, io.Err)
}

// ParseServeConfig builds the serve configuration from args, the environment
// (getenv) and the config file named by --config or EOLWATCH_CONFIG.
func ParseServeConfig(args []string, getenv func(string) string, stderr io.Writer) (server.Config, error) {
	cfg := server.DefaultConfig()
	var configFile string
	var catalogs []string
	var admins commaList
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&configFile, "config", "", "YAML config file (env EOLWATCH_CONFIG)")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "listen address")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory (SQLite database)")
	fs.StringVar(&cfg.Database, "database", "", "PostgreSQL URL postgres://... for several servers on one database (empty: SQLite in --data-dir)")
	fs.StringVar(&cfg.EnrollSecret, "enroll-secret", "", "secret agents enroll with")
	fs.Var((*listFlag)(&catalogs), "catalog", "extra catalog file (repeatable)")
	fs.StringVar(&cfg.CatalogFeed, "catalog-feed", "", "endoflife.date-format feed URL to sync")
	fs.DurationVar(&cfg.CatalogFeedInterval, "catalog-feed-interval", cfg.CatalogFeedInterval, "how often to sync --catalog-feed (24h, 90m...)")
	fs.BoolVar(&cfg.CatalogFeedSync, "catalog-feed-sync", cfg.CatalogFeedSync, "sync --catalog-feed on a schedule (false: never fetch it)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "TLS key file (PEM)")
	fs.StringVar(&cfg.SMTPAddr, "smtp-addr", "", "SMTP server HOST:PORT (empty: mail stays in the outbox)")
	fs.StringVar(&cfg.SMTPFrom, "smtp-from", "", "sender address")
	fs.StringVar(&cfg.SMTPTLS, "smtp-tls", cfg.SMTPTLS, "none|starttls|tls")
	fs.StringVar(&cfg.SMTPUsername, "smtp-username", "", "SMTP AUTH username")
	fs.StringVar(&cfg.SMTPPassword, "smtp-password", "", "SMTP AUTH password")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "external base URL for links in emails")
	fs.Var(&admins, "admin-email", "admin address for contract and risk mail (repeatable or comma-separated)")
	policyFlags(fs, &cfg.WarnDays, &cfg.GraceDays, &cfg.ExtendedSupport, &cfg.ExtendedSupportFor)
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug|info|warn|error")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text|json")
	fs.DurationVar(&cfg.SMTPTimeout, "smtp-timeout", cfg.SMTPTimeout, "bound on each step of an SMTP conversation")
	fs.DurationVar(&cfg.OutboxLease, "outbox-lease", cfg.OutboxLease, "how long claimed outgoing mail stays a server's (a dead server's is sent by another after this)")
	fs.Var((*csvFlag)(&cfg.TrustedProxies), "trusted-proxies", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto count")
	fs.Var((*csvFlag)(&cfg.WebhookAllow), "webhook-allow", "comma-separated host names, addresses or CIDRs of internal webhook targets to allow")
	fs.IntVar(&cfg.ReportBudgetMiB, "report-budget-mib", cfg.ReportBudgetMiB, "MiB that reports being read and stored may hold at once, all agents together")
	if err := fs.Parse(args); err != nil {
		return cfg, flagError(err)
	}
	if fs.NArg() > 0 {
		return cfg, usageErrorf("serve: unexpected argument %q", fs.Arg(0))
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
		// A file without settings is a mistake (a truncated copy, the wrong
		// path), not a request for the defaults (a new ./data, no enrolment).
		noSettings := fmt.Errorf("config %s: holds no settings (empty, blank or only comments): add settings or drop --config/EOLWATCH_CONFIG", configFile)
		if len(bytes.TrimSpace(data)) == 0 {
			return cfg, noSettings
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); errors.Is(err, io.EOF) {
			return cfg, noSettings
		} else if err != nil {
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
			if f.Name != "catalog" && f.Name != "admin-email" {
				err = fs.Set(f.Name, v)
			}
			return
		}
		if v := getenv(env); v != "" {
			if f.Name == "catalog" {
				cfg.Catalogs = strings.Split(v, string(os.PathListSeparator))
				return
			}
			if f.Name == "admin-email" {
				var l commaList
				l.Set(v)
				cfg.AdminEmails = l
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
	if len(admins) > 0 {
		cfg.AdminEmails = admins
	}
	return cfg, cfg.Validate()
}

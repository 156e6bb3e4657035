package server

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/server/api"
	"github.com/eolwatch/eolwatch/server/service"
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
	// With Database set, nothing is kept there.
	DataDir string `yaml:"data_dir"`
	// Database is a PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...
	// (--database, EOLWATCH_DATABASE). Set, the server keeps all its state
	// in that database, so any number of servers can share it behind a
	// load balancer; empty, it uses SQLite in DataDir.
	Database string `yaml:"database"`
	// EnrollSecret is the shared secret agents enroll with (--enroll-secret).
	// Without it enrollment is refused. It needs at least
	// MinEnrollSecretLen characters with some variety (not one character
	// repeated, a run such as abcd... or a short word repeated); generate
	// one with `openssl rand -base64 24`. It is compared in constant time.
	EnrollSecret string `yaml:"enroll_secret"`
	// Catalogs are extra catalog files merged over the embedded default (--catalog, repeatable).
	Catalogs []string `yaml:"catalog"`
	// CatalogFeed is a URL of an endoflife.date-format feed synced periodically (--catalog-feed).
	CatalogFeed string `yaml:"catalog_feed"`
	// CatalogFeedInterval is how often the feed is synced (--catalog-feed-interval,
	// a Go duration such as 24h or 90m; default 24h): at start-up, then every
	// interval (on one server at a time when several share a database).
	CatalogFeedInterval time.Duration `yaml:"catalog_feed_interval"`
	// CatalogFeedSync turns the scheduled feed sync on (--catalog-feed-sync,
	// default true). With false the feed is never fetched; the snapshot last
	// synced stays in force.
	CatalogFeedSync bool `yaml:"catalog_feed_sync"`
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
	// SMTPTimeout bounds each step of an SMTP conversation (--smtp-timeout,
	// default 30s).
	SMTPTimeout time.Duration `yaml:"smtp_timeout"`
	// OutboxLease is how long outgoing mail (and webhook deliveries) a
	// server claimed stays its own without a renewal (--outbox-lease,
	// default 45s, at least 3s). A live server renews it every third of
	// that while it sends, however slow the mail server; a server that dies
	// mid-batch holds its unsent messages this long at most, then another
	// server (or this one restarted) sends them.
	OutboxLease time.Duration `yaml:"outbox_lease"`
	// PublicURL is the external base URL used in email links (--public-url;
	// default http(s)://LISTEN).
	PublicURL string `yaml:"public_url"`
	// AdminEmails receive every customer's contract mail (60 days before a
	// contract that does not renew ends, and on its last day) and weekly
	// risk digest, with the customer's contacts (--admin-email, repeatable
	// or comma-separated; EOLWATCH_ADMIN_EMAIL comma-separated).
	AdminEmails []string `yaml:"admin_email"`
	// WarnDays is the eol-soon window in days (--warn-days, default 90).
	WarnDays int `yaml:"warn_days"`
	// GraceDays is the patch grace period in days (--grace-days, default 30).
	GraceDays int `yaml:"grace_days"`
	// ExtendedSupport says which extended-support programmes keep a
	// release supported past its regular end of life (--extended-support,
	// default free): free (free programmes shipped through the normal
	// archive, such as Debian LTS; a paid one, such as Ubuntu Pro ESM or
	// RHEL ELS, only for a host that reports being enrolled in it), all
	// (every programme, enrolled or not) or none (the regular end of life is
	// final).
	ExtendedSupport string `yaml:"extended_support"`
	// ExtendedSupportFor overrides ExtendedSupport for single catalog
	// products (--extended-support-for PRODUCT=free|all|none, repeatable or
	// comma-separated; EOLWATCH_EXTENDED_SUPPORT_FOR=ubuntu=all,rhel=none;
	// in the config file a map: extended_support_for: {ubuntu: all}).
	ExtendedSupportFor map[string]string `yaml:"extended_support_for"`
	// LogLevel is debug, info, warn or error (--log-level, default info).
	LogLevel string `yaml:"log_level"`
	// LogFormat is text or json (--log-format, default text).
	LogFormat string `yaml:"log_format"`
	// ReportBudgetMiB bounds, in MiB, the memory that agent reports (and
	// SBOM uploads) being read and stored may hold at once, all senders
	// together (--report-budget-mib, default 256): each is charged its
	// decompressed bytes plus service.ItemCharge per item as it is read, and
	// one that finds the budget spent for 5 seconds is answered 503 with
	// Retry-After. At least MinReportBudgetMiB, one worst-case report.
	ReportBudgetMiB int `yaml:"report_budget_mib"`
	// TrustedProxies are the reverse proxies (CIDRs or addresses) whose
	// X-Forwarded-For and X-Forwarded-Proto headers the server believes
	// (--trusted-proxies 10.0.0.0/8,192.0.2.10; YAML a list;
	// EOLWATCH_TRUSTED_PROXIES comma-separated): the rate limits count the
	// client's address from X-Forwarded-For and the dashboard's cookies are
	// Secure when X-Forwarded-Proto is https. From any other peer the
	// headers are ignored. Default: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// WebhookAllow names internal destinations (loopback, link-local,
	// private, unique-local) that group webhooks may reach anyway: host
	// names, addresses or CIDRs (--webhook-allow, comma-separated; YAML a
	// list; EOLWATCH_WEBHOOK_ALLOW). Any other internal address is refused
	// when a group is saved (400) and again when a delivery is sent.
	WebhookAllow []string `yaml:"webhook_allow"`
}

// MinReportBudgetMiB is the smallest report budget: one report at both
// limits (api.MaxReportBytes decompressed, api.MaxItems items) fits.
var MinReportBudgetMiB = int((api.MaxReportBytes + api.MaxItems*service.ItemCharge + 1<<20 - 1) >> 20)

// reportBudgetWait is how long a report waits for the report budget
// before it is answered 503.
const reportBudgetWait = 5 * time.Second

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	p := catalog.DefaultPolicy()
	return Config{Listen: "127.0.0.1:8480", DataDir: "data", SMTPTLS: "starttls", WarnDays: p.WarnDays, GraceDays: p.GraceDays,
		ExtendedSupport: p.ExtendedSupport, CatalogFeedInterval: DefaultFeedInterval, CatalogFeedSync: true,
		LogLevel: "info", LogFormat: "text", ReportBudgetMiB: 256, SMTPTimeout: 30 * time.Second, OutboxLease: 45 * time.Second}
}

// DefaultFeedInterval is how often the catalog feed is synced by default.
const DefaultFeedInterval = 24 * time.Hour

// Validate reports the first setting that cannot work, naming it.
func (c Config) Validate() error {
	if c.Listen == "" {
		return errors.New("listen: empty address")
	}
	if c.DataDir == "" && c.Database == "" {
		return errors.New("data-dir: empty")
	}
	if c.EnrollSecret != "" {
		if err := checkEnrollSecretStrength(c.EnrollSecret); err != nil {
			return err
		}
	}
	if c.Database != "" {
		if err := sqldb.CheckURL(c.Database); err != nil {
			return err
		}
	}
	if c.SMTPTimeout <= 0 {
		return fmt.Errorf("smtp-timeout %v: must be positive", c.SMTPTimeout)
	}
	// The lease is renewed every third of it while a batch is sent.
	if c.OutboxLease < 3*time.Second {
		return fmt.Errorf("outbox-lease %v: at least 3s (it is renewed every third of it while mail is sent)", c.OutboxLease)
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
	if err := c.Policy().Validate(); err != nil {
		return errors.New(strings.NewReplacer("extended support for ", "extended-support-for ", "extended support ", "extended-support ").Replace(err.Error()))
	}
	if c.CatalogFeedInterval <= 0 {
		return fmt.Errorf("catalog-feed-interval %s: must be positive (24h syncs daily; --catalog-feed-sync=false turns the sync off)", c.CatalogFeedInterval)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		return fmt.Errorf("log-format %q: want text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	for _, a := range c.AdminEmails {
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a {
			return fmt.Errorf("admin-email %q: want a bare email address (ops@example.com)", a)
		}
	}
	if _, err := parseTrustedProxies(c.TrustedProxies); err != nil {
		return err
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("public-url %q: want an http:// or https:// URL", c.PublicURL)
		}
	}
	if c.ReportBudgetMiB < MinReportBudgetMiB {
		return fmt.Errorf("report-budget-mib %d: at least %d (one report at the size and item limits)", c.ReportBudgetMiB, MinReportBudgetMiB)
	}
	return nil
}

// Policy returns the support policy the configuration asks for: every
// evaluation of the server (ingest, the fleet's re-evaluation, eligibility,
// the dashboard, SBOM uploads) applies it.
func (c Config) Policy() catalog.Policy {
	return catalog.Policy{WarnDays: c.WarnDays, GraceDays: c.GraceDays, ExtendedSupport: c.ExtendedSupport,
		ExtendedSupportFor: maps.Clone(c.ExtendedSupportFor)}
}

// httpsPublic reports whether the server's public URL is https (then its
// cookies are Secure and its answers carry HSTS, whatever the scheme of
// the hop from a TLS-terminating proxy).
func (c Config) httpsPublic() bool {
	return strings.HasPrefix(strings.ToLower(c.PublicURL), "https://")
}

// scheme is https when the server has a certificate, else http.
func (c Config) scheme() string {
	if c.TLSCert != "" {
		return "https"
	}
	return "http"
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

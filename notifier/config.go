package notifier

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/eolwatch/eolwatch/catalog"
)

// SMTP transport security modes (Config.SMTPTLS).
const (
	TLSNone          = "none"          // plain SMTP; AUTH allowed only to a loopback server
	TLSStartTLS      = "starttls"      // STARTTLS required: refuse to send if the server does not offer it
	TLSOpportunistic = "opportunistic" // STARTTLS when offered, plain otherwise (no AUTH unless TLS or loopback)
	TLSImplicit      = "tls"           // implicit TLS from the first byte (port 465)
)

// SMTP authentication mechanisms (Config.SMTPAuth).
const (
	AuthAuto  = ""      // PLAIN when the server offers it, else LOGIN
	AuthPlain = "plain" // SASL PLAIN
	AuthLogin = "login" // the LOGIN mechanism
)

// Subscription delivery modes.
const (
	ModeImmediate = "immediate" // one email per event (fleet changes batched per FleetBatchWindow)
	ModeDaily     = "daily"     // one digest a day at DigestHour UTC
	ModeWeekly    = "weekly"    // one digest a week on DigestWeekday at DigestHour UTC
)

// Change levels a subscription may hear about.
const (
	LevelMajor = "major"
	LevelMinor = "minor"
	LevelPatch = "patch"
)

// Config configures a Service. Zero values get the documented defaults.
type Config struct {
	// SMTPAddr is the mail server as HOST:PORT (--smtp-addr). Empty disables
	// delivery: messages stay pending in the outbox.
	SMTPAddr string
	// SMTPFrom is the sender address (--smtp-from), e.g. "eolwatch <eolwatch@example.com>".
	SMTPFrom string
	// SMTPTLS is none | starttls | opportunistic | tls (--smtp-tls; default starttls).
	SMTPTLS string
	// SMTPUsername and SMTPPassword enable AUTH when the username is set
	// (--smtp-username, --smtp-password).
	SMTPUsername string
	SMTPPassword string
	// SMTPAuth picks the AUTH mechanism: "" (auto), "plain" or "login".
	SMTPAuth string
	// SMTPHelo is the name sent in EHLO (default: the public URL's host, else "localhost").
	SMTPHelo string
	// SMTPTimeout bounds every step of an SMTP conversation: dial, TLS
	// handshake, each command and the end of DATA (default 30s).
	SMTPTimeout time.Duration
	// TLSConfig is used for STARTTLS and implicit TLS (RootCAs for a private
	// CA, for instance). ServerName defaults to the SMTPAddr host.
	TLSConfig *tls.Config

	// PublicURL is the server's external base URL (--public-url); links in
	// emails (confirm, unsubscribe, preferences) start with it.
	PublicURL string
	// SigningKey signs confirmation and management tokens. When empty a
	// random key is created once and kept in the notifier_meta table.
	SigningKey []byte
	// Catalog returns the current catalog (product labels, release
	// levels); it may be nil or return nil.
	Catalog func() *catalog.Catalog
	// Fleet answers "does the fleet run this product/cycle?" for the
	// "only versions my fleet runs" preference; nil means the preference
	// cannot be honoured and such subscribers receive everything.
	Fleet FleetLookup
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the notifier's logs (default slog.Default()).
	Logger *slog.Logger
	// InstanceID names this process in outbox leases (default: random).
	InstanceID string

	// PollInterval is how often the workers look for work when not kicked (default 2s).
	PollInterval time.Duration
	// BatchSize is how many events are fanned out, or outbox rows claimed, at once (default 200).
	BatchSize int
	// Limits makes the subscription rate limiter (per client address):
	// nil keeps the counts in memory; ratelimit.InDatabase shares them
	// among the servers on one database.
	Limits ratelimit.Factory
	// Jobs, when several servers share the database, runs the fan-out,
	// digests and pruning on one server at a time (internal/jobs); nil
	// runs them here.
	Jobs jobs.Runner
	// LeaseDuration is how long a claimed outbox row or webhook delivery
	// stays this instance's without a renewal (default 45s). The lease is
	// renewed every third of it while the batch is worked on, however long
	// that takes; an instance that dies stops renewing, so its rows are
	// sent by another instance (or by it, restarted) at most this long
	// after it died. At least 1 second: a notifier refuses less.
	LeaseDuration time.Duration
	// MaxUnrecorded is how many messages the mail server may have accepted
	// before they are recorded as sent (default 1). A crash can resend at
	// most this many, each with its original Message-ID and bytes so the
	// receiving side can drop the copy; a larger value groups the commits
	// and trades that bound for throughput on slow disks.
	MaxUnrecorded int
	// RetryBase and RetryMax shape the exponential backoff after a
	// temporary failure (defaults 30s and 1h).
	RetryBase time.Duration
	RetryMax  time.Duration
	// RetryFor is how long temporary failures are retried before a message
	// is marked failed (default 72h).
	RetryFor time.Duration
	// FleetBatchWindow is how long fleet changes for one subscription are
	// gathered into one email (default 10m).
	FleetBatchWindow time.Duration
	// DigestHour is the UTC hour digests go out (default 7).
	DigestHour int
	// DigestWeekday is the day weekly digests go out (default Monday; the
	// zero value, Sunday, also means Monday).
	DigestWeekday time.Weekday
	// Retention is how long finished outbox rows, webhook deliveries and
	// consumed events are kept (default 90 days); Run prunes once a day.
	Retention time.Duration
	// ConfirmTTL is how long a confirmation link stays valid (default 72h).
	ConfirmTTL time.Duration
	// SubscribeRatePerIP bounds subscription requests per client IP per
	// hour (default 20); SubscribeRatePerAddress bounds confirmation emails
	// per address per day (default 3).
	SubscribeRatePerIP      int
	SubscribeRatePerAddress int
	// WebhookAllow names the internal destinations (loopback, link-local,
	// private, unique-local) webhooks may reach anyway: host names, addresses
	// or CIDRs (--webhook-allow). Any other internal address is refused when
	// a group is saved and again when a delivery is sent.
	WebhookAllow []string
	// Resolver looks webhook host names up (default net.DefaultResolver).
	Resolver Resolver
	// IsAdmin reports whether a request to the notifier's JSON routes comes
	// from an admin, who alone sees webhook URLs (they may hold
	// credentials). Nil: nobody sees them.
	IsAdmin func(r *http.Request) bool
	// ClientIP extracts the client address used for rate limiting (default: RemoteAddr's host).
	ClientIP func(remoteAddr string, header map[string][]string) string
}

// withDefaults returns c with defaults filled in and checks it.
func (c Config) withDefaults() (Config, error) {
	if c.SMTPTLS == "" {
		c.SMTPTLS = TLSStartTLS
	}
	switch c.SMTPTLS {
	case TLSNone, TLSStartTLS, TLSOpportunistic, TLSImplicit:
	default:
		return c, fmt.Errorf("smtp-tls: %q is not one of none, starttls, opportunistic, tls", c.SMTPTLS)
	}
	switch strings.ToLower(c.SMTPAuth) {
	case AuthAuto, AuthPlain, AuthLogin:
		c.SMTPAuth = strings.ToLower(c.SMTPAuth)
	default:
		return c, fmt.Errorf("smtp-auth: %q is not one of plain, login", c.SMTPAuth)
	}
	if c.SMTPAddr != "" {
		host, port, err := net.SplitHostPort(c.SMTPAddr)
		if err != nil || host == "" || port == "" {
			return c, fmt.Errorf("smtp-addr: %q is not HOST:PORT", c.SMTPAddr)
		}
		if c.SMTPFrom == "" {
			return c, errors.New("smtp-from: required when smtp-addr is set")
		}
		if c.SMTPUsername != "" && c.SMTPTLS == TLSNone && !isLoopbackHost(host) {
			return c, errors.New("smtp-username: refusing to send credentials without TLS to a non-loopback server (use --smtp-tls starttls or tls)")
		}
	}
	if c.SMTPFrom != "" {
		if strings.ContainsAny(c.SMTPFrom, "\r\n") {
			return c, errors.New("smtp-from: contains a line break")
		}
		if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			return c, fmt.Errorf("smtp-from: %q: %w", c.SMTPFrom, err)
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:8480"
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("public-url: %q is not an http(s) URL", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.SMTPHelo == "" {
		c.SMTPHelo = u.Hostname()
		if c.SMTPHelo == "" {
			c.SMTPHelo = "localhost"
		}
	}
	if strings.ContainsAny(c.SMTPHelo, "\r\n ") {
		return c, fmt.Errorf("smtp-helo: %q is not a host name", c.SMTPHelo)
	}
	if c.SMTPTimeout <= 0 {
		c.SMTPTimeout = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 200
	}
	if c.LeaseDuration <= 0 {
		c.LeaseDuration = 45 * time.Second
	}
	if c.LeaseDuration < time.Second {
		return c, fmt.Errorf("lease duration %v: at least 1s (it is renewed every third of it)", c.LeaseDuration)
	}
	if c.MaxUnrecorded <= 0 {
		c.MaxUnrecorded = 1
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = time.Hour
	}
	if c.RetryFor <= 0 {
		c.RetryFor = 72 * time.Hour
	}
	if c.FleetBatchWindow <= 0 {
		c.FleetBatchWindow = 10 * time.Minute
	}
	if c.DigestHour <= 0 || c.DigestHour > 23 {
		c.DigestHour = 7
	}
	if c.DigestWeekday == time.Sunday {
		c.DigestWeekday = time.Monday
	}
	if c.Retention <= 0 {
		c.Retention = 90 * 24 * time.Hour
	}
	if c.ConfirmTTL <= 0 {
		c.ConfirmTTL = 72 * time.Hour
	}
	if c.SubscribeRatePerIP <= 0 {
		c.SubscribeRatePerIP = 20
	}
	if c.SubscribeRatePerAddress <= 0 {
		c.SubscribeRatePerAddress = 3
	}
	return c, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

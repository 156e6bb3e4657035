package notifier

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/internal/jobs"
	"github.com/eolwatch/eolwatch/internal/ratelimit"
	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// FleetLookup tells the notifier whether the fleet runs a product, for the
// "only versions my fleet runs" preference. The server store implements it;
// it must be safe for concurrent use and answer from the reader database.
type FleetLookup interface {
	// FleetRuns reports whether at least one host runs product, in cycle
	// when cycle is not empty.
	FleetRuns(ctx context.Context, product, cycle string) (bool, error)
}

// Service is the notifier: groups and subscriptions (with their HTTP
// handlers), the event fan-out worker, digests and the SMTP sender. Create
// it with New after Migrate; call Run to start the workers. Its methods are
// safe for concurrent use.
type Service struct {
	db        *store
	cfg       Config
	log       *slog.Logger
	key       []byte
	from      *mail.Address
	msgDomain string
	kick      chan struct{}
	ipLimit   ratelimit.Limiter // subscription requests per client address
	hooks     *webhookGuard     // which addresses webhooks may reach
	owner     string
	// pathPrefix is the public URL's path ("" at the root), for links in pages.
	pathPrefix string

	// afterSend, when set (tests), runs after the server accepted a message
	// and before it is marked sent.
	afterSend func(id int64)

	dial func(ctx context.Context) (smtpConn, error)

	bodyMu    sync.Mutex
	bodyCache map[int64]msgParts
}

// New returns a Service using writer for every write (a single-connection
// pool with _txlock=immediate) and reader for listings. The notifier's
// tables must exist (Migrate).
func New(ctx context.Context, writer, reader *sql.DB, cfg Config) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("notifier config: %w", err)
	}
	if writer == nil {
		return nil, errors.New("notifier: writer database is nil")
	}
	if reader == nil {
		reader = writer
	}
	s := &Service{db: &store{w: writer, r: reader, d: sqldb.DialectOf(writer)}, cfg: cfg, log: cfg.Logger.With("component", "notifier"),
		kick: make(chan struct{}, 1), bodyCache: map[int64]msgParts{}}
	limits := cfg.Limits
	if limits == nil {
		limits = ratelimit.InMemory
	}
	s.ipLimit = limits("subscribe-ip", cfg.SubscribeRatePerIP, time.Hour)
	if s.hooks, err = newWebhookGuard(cfg.WebhookAllow, cfg.Resolver, cfg.SMTPTimeout); err != nil {
		return nil, fmt.Errorf("notifier config: %w", err)
	}
	if c, ok := s.ipLimit.(interface{ SetClock(func() time.Time) }); ok {
		c.SetClock(s.now)
	}
	if cfg.SMTPFrom != "" {
		s.from, _ = mail.ParseAddress(cfg.SMTPFrom)
	} else {
		u, _ := url.Parse(cfg.PublicURL)
		s.from = &mail.Address{Name: "eolwatch", Address: "eolwatch@" + u.Hostname()}
	}
	u, _ := url.Parse(cfg.PublicURL)
	s.msgDomain = u.Hostname()
	s.pathPrefix = strings.TrimRight(u.Path, "/")
	s.owner = cfg.InstanceID
	if s.owner == "" {
		b := make([]byte, 8)
		rand.Read(b)
		s.owner = hex.EncodeToString(b)
	}
	s.key = cfg.SigningKey
	if len(s.key) == 0 {
		if s.key, err = s.loadOrCreateKey(ctx); err != nil {
			return nil, err
		}
	}
	s.dial = s.dialSMTP
	return s, nil
}

// loadOrCreateKey returns the signing key kept in notifier_meta, creating it once.
func (s *Service) loadOrCreateKey(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return s.db.signingKey(ctx, fresh)
}

// Kick wakes the workers now, for instance after the server committed a
// transaction that enqueued events. It never blocks.
func (s *Service) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// Run runs the fan-out, digest and delivery workers until ctx ends. Each
// pass is also available alone (ProcessEvents, FlushDigests, SendPending).
// With Config.Jobs (several servers on one database), the fan-out and the
// digests run on one server at a time and the pruning once a day among
// all; every server delivers, claiming different outbox rows.
func (s *Service) Run(ctx context.Context) error {
	s.log.Info("notifier started", "smtp", s.cfg.SMTPAddr, "tls", s.cfg.SMTPTLS, "instance", s.owner)
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	var pruned time.Time
	for {
		if now := s.now(); now.Sub(pruned) >= 24*time.Hour {
			s.job(ctx, "notifier-prune", 24*time.Hour, func(ctx context.Context) error {
				_, err := s.Prune(ctx, now.Add(-s.cfg.Retention))
				return err
			})
			pruned = now
		}
		s.pass(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

// job runs fn as the scheduled job name (jobs.Run: through Config.Jobs
// when servers share the database), logging its failure.
func (s *Service) job(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) {
	jobs.Run(ctx, s.cfg.Jobs, s.log, name, every, fn)
}

// pass runs one round of every worker, logging failures (they are retried next round).
func (s *Service) pass(ctx context.Context) {
	s.job(ctx, "notifier-fanout", 0, func(ctx context.Context) error {
		for {
			n, err := s.ProcessEvents(ctx)
			if err != nil {
				return fmt.Errorf("fan-out: %w", err)
			}
			if n == 0 {
				break
			}
		}
		if _, err := s.FlushDigests(ctx); err != nil {
			return fmt.Errorf("digest flush: %w", err)
		}
		return nil
	})
	for ctx.Err() == nil {
		n, err := s.SendWebhooks(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("webhook pass failed", "err", err)
			}
			break
		}
		if n == 0 {
			break
		}
	}
	if s.cfg.SMTPAddr == "" {
		return
	}
	for ctx.Err() == nil {
		n, err := s.SendPending(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("delivery pass failed", "err", err)
			}
			return
		}
		if n == 0 {
			return
		}
	}
}

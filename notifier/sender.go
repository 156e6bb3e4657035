package notifier

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Outbox states.
const (
	OutboxPending   = "pending"   // waiting to be sent (or retried)
	OutboxSent      = "sent"      // accepted by the mail server
	OutboxFailed    = "failed"    // rejected permanently (5xx) or retried for too long
	OutboxCancelled = "cancelled" // the subscriber left before it was sent
)

// smtpConn is one open SMTP session able to send several messages.
type smtpConn interface {
	// send runs MAIL, RCPT and DATA for one message; beforeBody runs after
	// the server accepted DATA and before the body is written, and an error
	// from it aborts the transaction by closing the connection.
	send(from, to string, msg []byte, beforeBody func() error) error
	// reset aborts a failed transaction so the session can be reused.
	reset() error
	// close ends the session politely (QUIT) and closes the connection.
	close() error
}

// newLeaseToken returns a random token guarding the rows of one claim.
func newLeaseToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// claim leases up to BatchSize due messages to this instance for
// LeaseDuration (store.claimOutbox says how two instances never share one).
func (s *Service) claim(ctx context.Context) (token string, until time.Time, rows []outboxRow, err error) {
	token = newLeaseToken()
	now := s.now()
	until = now.Add(s.cfg.LeaseDuration)
	rows, err = s.db.claimOutbox(ctx, s.owner, token, now, until, s.cfg.BatchSize)
	return token, until, rows, err
}

// SendPending claims one batch of due messages and delivers it over one
// SMTP connection. Each message is marked sent right after the server
// accepted it, in a statement guarded by this claim's lease token. It
// returns how many messages it handled (sent, failed or rescheduled); an
// error means the mail server could not be reached or the database failed.
//
// The steps: claim a batch and hold its lease, connect, assemble the
// messages a few ahead, then send them one by one, recording each accepted
// message (marker) and deciding what a refused one becomes (refused).
func (s *Service) SendPending(ctx context.Context) (int, error) {
	if s.cfg.SMTPAddr == "" {
		return 0, errors.New("send: no smtp-addr configured")
	}
	token, until, rows, err := s.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	hold := s.holdLease(until, func(ctx context.Context, until time.Time) (int64, error) { return s.db.renewOutbox(ctx, token, until) })
	defer hold.end()
	conn, err := s.dial(ctx)
	if err != nil {
		err = fmt.Errorf("connect to %s: %w", s.cfg.SMTPAddr, err)
		for _, r := range rows {
			s.retryLater(ctx, token, r, err)
		}
		return 0, err
	}
	defer conn.close()
	from := s.from.Address
	// Accepted messages are recorded by a background commit while the
	// next message's MAIL/RCPT/DATA commands are exchanged; the next body is
	// written only once fewer than MaxUnrecorded accepted messages are
	// unrecorded. With the default of 1 at most one message is ever
	// accepted but not yet recorded, exactly as with sequential marking.
	m := &marker{s: s, ctx: context.WithoutCancel(ctx), token: token, limit: s.cfg.MaxUnrecorded}
	defer m.flush()
	ahead, stopAssembling := s.assembleAhead(ctx, rows)
	defer stopAssembling()
	for i, r := range rows {
		// Stop while the lease is safely held: its renewals work and a
		// third of it is left (a message takes longer only while renewals
		// go on, so no other instance can claim it meanwhile).
		if ctx.Err() != nil || !hold.ok() {
			if err := m.flush(); err != nil {
				return i, err
			}
			s.release(context.WithoutCancel(ctx), token, rows[i:])
			return i, ctx.Err()
		}
		b := <-ahead
		if b.err != nil {
			s.markFailed(ctx, token, r, b.err.Error())
			continue
		}
		err := conn.send(from, r.Recipient, b.msg, m.room)
		if err == nil {
			if s.afterSend != nil {
				s.afterSend(r.ID)
			}
			m.add(r)
			continue
		}
		if err := s.refused(ctx, token, conn, m, rows[i:], err); err != nil {
			return i, err
		}
	}
	if err := m.flush(); err != nil {
		return len(rows), err
	}
	return len(rows), nil
}

// built is one assembled message (or why it could not be assembled).
type built struct {
	msg []byte
	err error
}

// assembleAhead assembles the messages of rows, in order, on another
// goroutine a few ahead of the sending, so that CPU work overlaps the SMTP
// round trips. stop ends it early.
func (s *Service) assembleAhead(ctx context.Context, rows []outboxRow) (ahead <-chan built, stop func()) {
	ch := make(chan built, 8)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		for _, r := range rows {
			msg, err := s.message(ctx, r)
			select {
			case ch <- built{msg, err}:
			case <-done:
				return
			}
		}
	}()
	return ch, func() { close(done) }
}

// refused decides what becomes of rest[0], which the mail server did not
// accept with err, and of the rest of the batch: a permanent refusal (5xx)
// fails the message, a temporary one (4xx but 421) retries it later, and
// the sending goes on (nil). A lost connection (or 421) retries the whole
// rest later, and an accepted message that could not be recorded leaves
// the rest leased: both end the batch with an error.
func (s *Service) refused(ctx context.Context, token string, conn smtpConn, m *marker, rest []outboxRow, err error) error {
	r := rest[0]
	var se *smtp.SMTPError
	var me *markError
	switch {
	case errors.As(err, &me):
		// The rest stay leased and come back after the lease: stop
		// sending rather than send what we cannot record.
		return me.err
	case errors.As(err, &se) && se.Code/100 == 5:
		s.markFailed(ctx, token, r, smtpAnswer(se))
		conn.reset()
		return nil
	case errors.As(err, &se) && se.Code != 421:
		s.retryLater(ctx, token, r, errors.New(smtpAnswer(se)))
		conn.reset()
		return nil
	}
	// The connection is gone (network error or 421): every remaining
	// message waits for the next attempt.
	if err := m.flush(); err != nil {
		return err
	}
	for _, r := range rest {
		s.retryLater(ctx, token, r, err)
	}
	return fmt.Errorf("send via %s: %w", s.cfg.SMTPAddr, err)
}

// marker records accepted messages as sent in background group commits,
// one commit in flight at a time.
type marker struct {
	s         *Service
	ctx       context.Context
	token     string
	limit     int
	pending   []outboxRow // accepted, commit not started
	inflight  chan error
	inflightN int
}

// add queues an accepted message and starts a commit if none is running.
func (m *marker) add(r outboxRow) {
	m.pending = append(m.pending, r)
	m.start()
}

func (m *marker) start() {
	if m.inflight != nil || len(m.pending) == 0 {
		return
	}
	rows := m.pending
	m.pending = nil
	ch := make(chan error, 1)
	m.inflight, m.inflightN = ch, len(rows)
	go func() { ch <- m.s.markSent(m.ctx, m.token, rows) }()
}

func (m *marker) wait() error {
	if m.inflight == nil {
		return nil
	}
	err := <-m.inflight
	m.inflight, m.inflightN = nil, 0
	return err
}

// room blocks until fewer than limit accepted messages are unrecorded.
func (m *marker) room() error {
	for m.inflightN+len(m.pending) >= m.limit {
		if err := m.wait(); err != nil {
			return err
		}
		m.start()
	}
	return nil
}

// flush records every accepted message.
func (m *marker) flush() error {
	for m.inflight != nil || len(m.pending) > 0 {
		if err := m.wait(); err != nil {
			return err
		}
		m.start()
	}
	return nil
}

// message builds the bytes of a claimed row (deterministically, so a
// retry sends the identical message).
func (s *Service) message(ctx context.Context, r outboxRow) ([]byte, error) {
	p, err := s.body(ctx, r.BodyID)
	if err != nil {
		return nil, err
	}
	return s.assemble(r.Kind, r.Recipient, r.Group, r.Token, r.MessageID, p, r.Created, r.ListHeaders)
}

// body returns stored message parts; they never change, so they are cached.
func (s *Service) body(ctx context.Context, id int64) (msgParts, error) {
	s.bodyMu.Lock()
	p, ok := s.bodyCache[id]
	s.bodyMu.Unlock()
	if ok {
		return p, nil
	}
	p, err := s.db.body(ctx, id)
	if err != nil {
		return p, err
	}
	s.bodyMu.Lock()
	if len(s.bodyCache) >= 256 {
		clear(s.bodyCache)
	}
	s.bodyCache[id] = p
	s.bodyMu.Unlock()
	return p, nil
}

// markError wraps a failure to record the previous message, reported by
// send's beforeBody hook.
type markError struct{ err error }

func (e *markError) Error() string { return e.err.Error() }

// smtpAnswer formats a server reply the way admins expect to read it.
func smtpAnswer(se *smtp.SMTPError) string {
	s := fmt.Sprintf("%d", se.Code)
	if se.EnhancedCode != (smtp.EnhancedCode{}) && se.EnhancedCode != smtp.NoEnhancedCode {
		s += fmt.Sprintf(" %d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
	}
	return s + " " + se.Message
}

// markSent records accepted messages as sent, each guarded by this
// claim's lease token; a message whose lease was lost meanwhile is logged.
func (s *Service) markSent(ctx context.Context, token string, rows []outboxRow) error {
	lost, err := s.db.markSent(ctx, token, rows, s.now())
	for _, r := range lost {
		s.log.Error("lease lost before marking a sent message", "outbox", r.ID, "message_id", r.MessageID)
	}
	return err
}

func (s *Service) markFailed(ctx context.Context, token string, r outboxRow, answer string) {
	s.log.Warn("message rejected", "outbox", r.ID, "answer", answer)
	if err := s.db.markFailed(context.WithoutCancel(ctx), token, r.ID, answer); err != nil {
		s.log.Error("record failed message", "outbox", r.ID, "err", err)
	}
}

// backoff is the wait before retry number attempts (1 = first retry):
// RetryBase doubling up to RetryMax, with ±20% jitter.
func (s *Service) backoff(attempts int) time.Duration {
	d := float64(s.cfg.RetryBase) * math.Pow(2, float64(max(attempts-1, 0)))
	d = min(d, float64(s.cfg.RetryMax))
	d *= 0.8 + 0.4*mrand.Float64()
	return time.Duration(d)
}

// retryLater reschedules a message after a temporary failure, or marks it
// failed once it has been retried for longer than RetryFor.
func (s *Service) retryLater(ctx context.Context, token string, r outboxRow, cause error) {
	now := s.now()
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if now.Sub(r.Created) > s.cfg.RetryFor {
		s.markFailed(ctx, token, r, "gave up after "+s.cfg.RetryFor.String()+": "+msg)
		return
	}
	if err := s.db.reschedule(context.WithoutCancel(ctx), token, r.ID, now.Add(s.backoff(r.Attempts+1)), msg); err != nil {
		s.log.Error("reschedule message", "outbox", r.ID, "err", err)
	}
}

// release gives claimed, untried messages back without counting an attempt.
func (s *Service) release(ctx context.Context, token string, rows []outboxRow) {
	for _, r := range rows {
		if err := s.db.release(ctx, token, r.ID); err != nil {
			s.log.Error("release message", "outbox", r.ID, "err", err)
		}
	}
}

// goSMTPConn is an smtpConn over emersion/go-smtp.
type goSMTPConn struct {
	c       *smtp.Client
	raw     net.Conn
	timeout time.Duration
}

func (g *goSMTPConn) send(from, to string, msg []byte, beforeBody func() error) error {
	if err := g.c.Mail(from, nil); err != nil {
		return err
	}
	if err := g.c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := g.c.Data()
	if err != nil {
		return err
	}
	if err := beforeBody(); err != nil {
		g.raw.Close() // no final dot: the server discards the transaction
		return &markError{err}
	}
	// go-smtp times out commands and the final reply; this bounds the write.
	g.raw.SetWriteDeadline(time.Now().Add(g.timeout))
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return err
	}
	err = w.Close()
	g.raw.SetWriteDeadline(time.Time{})
	return err
}

func (g *goSMTPConn) reset() error { return g.c.Reset() }

func (g *goSMTPConn) close() error {
	g.raw.SetDeadline(time.Now().Add(g.timeout))
	err := g.c.Quit()
	g.c.Close()
	return err
}

// dialSMTP opens and prepares a session: connect, TLS as configured, EHLO,
// AUTH. Every step is bounded by SMTPTimeout.
func (s *Service) dialSMTP(ctx context.Context) (smtpConn, error) {
	conn, err := s.dialOnce(ctx, s.cfg.SMTPTLS)
	if err != nil && s.cfg.SMTPTLS == TLSOpportunistic && strings.Contains(err.Error(), "doesn't support STARTTLS") {
		return s.dialOnce(ctx, TLSNone)
	}
	return conn, err
}

func (s *Service) dialOnce(ctx context.Context, mode string) (smtpConn, error) {
	cfg := s.cfg
	host, _, _ := net.SplitHostPort(cfg.SMTPAddr)
	d := net.Dialer{Timeout: cfg.SMTPTimeout}
	raw, err := d.DialContext(ctx, "tcp", cfg.SMTPAddr)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(cfg.SMTPTimeout))
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsCfg = cfg.TLSConfig.Clone()
	}
	if tlsCfg.ServerName == "" {
		tlsCfg.ServerName = host
	}
	var c *smtp.Client
	switch mode {
	case TLSImplicit:
		tc := tls.Client(raw, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("tls handshake: %w", err)
		}
		c = smtp.NewClient(tc)
	case TLSStartTLS, TLSOpportunistic:
		if c, err = smtp.NewClientStartTLS(raw, tlsCfg); err != nil {
			raw.Close()
			return nil, fmt.Errorf("starttls: %w", err)
		}
	default:
		c = smtp.NewClient(raw)
	}
	c.CommandTimeout = cfg.SMTPTimeout
	c.SubmissionTimeout = cfg.SMTPTimeout
	fail := func(step string, err error) (smtpConn, error) {
		c.Close()
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	if err := c.Hello(cfg.SMTPHelo); err != nil {
		return fail("ehlo", err)
	}
	if cfg.SMTPUsername != "" {
		if _, isTLS := c.TLSConnectionState(); !isTLS && !isLoopbackHost(host) {
			return fail("auth", errors.New("refusing to authenticate over a connection without TLS"))
		}
		var a sasl.Client
		switch {
		case cfg.SMTPAuth == AuthPlain || cfg.SMTPAuth == AuthAuto && c.SupportsAuth("PLAIN"):
			a = sasl.NewPlainClient("", cfg.SMTPUsername, cfg.SMTPPassword)
		case cfg.SMTPAuth == AuthLogin || cfg.SMTPAuth == AuthAuto && c.SupportsAuth("LOGIN"):
			a = sasl.NewLoginClient(cfg.SMTPUsername, cfg.SMTPPassword)
		default:
			return fail("auth", errors.New("the server offers neither PLAIN nor LOGIN"))
		}
		if err := c.Auth(a); err != nil {
			return fail("auth", err)
		}
	}
	raw.SetDeadline(time.Time{})
	return &goSMTPConn{c: c, raw: raw, timeout: cfg.SMTPTimeout}, nil
}

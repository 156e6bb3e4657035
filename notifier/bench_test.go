package notifier

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// countingBackend accepts every message and only counts it.
type countingBackend struct{ n atomic.Int64 }

func (b *countingBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &countingSession{b: b}, nil
}

type countingSession struct{ b *countingBackend }

func (s *countingSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *countingSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, _, _ string) error { return nil }), nil
}
func (s *countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *countingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *countingSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.b.n.Add(1)
	return err
}
func (s *countingSession) Reset()        {}
func (s *countingSession) Logout() error { return nil }

// BenchmarkFanout10k publishes one release to a group of 10,000 confirmed
// subscribers and measures the whole path (fan-out, rendering, outbox
// writes, claiming, SMTP delivery with STARTTLS+AUTH, marking sent) in
// messages per second, against a bare go-smtp loop sending the same
// number of same-sized messages over one connection to the same server
// in the same run. The goal is ratio >= 0.5.
func BenchmarkFanout10k(b *testing.B) {
	const subscribers = 10000
	w, r, _ := openTestDB(b)
	cert, pool, _, _ := testCert(b)
	be := &countingBackend{}
	ln := mustListen(b)
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ErrorLog = log0{}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	tlsCfg := &tls.Config{RootCAs: pool}
	cfg := Config{SMTPAddr: addr, SMTPTLS: TLSStartTLS, SMTPUsername: "u", SMTPPassword: "p",
		TLSConfig: tlsCfg, BatchSize: 1000, PublicURL: "https://eolwatch.example.com"}
	s := newTestService(b, w, r, cfg)
	cfg.MaxUnrecorded = 32
	grouped := newTestService(b, w, r, cfg)
	ctx := context.Background()
	if _, err := s.CreateGroup(ctx, Group{Name: "everyone", Products: []string{"openssl"}, Events: []string{"release"}}); err != nil {
		b.Fatal(err)
	}
	tx, _ := w.Begin()
	stmt, _ := tx.Prepare(`INSERT INTO notifier_subscriptions (group_id, email, state, nonce, created, updated) VALUES (1, ?, 'confirmed', ?, 0, 0)`)
	for i := range subscribers {
		if _, err := stmt.Exec(fmt.Sprintf("admin%05d@example.com", i), newNonce()); err != nil {
			b.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// A real message of the size the notifier sends, for the baseline.
	sub, _ := s.db.subscription(ctx, 1)
	d := s.placeholderData("everyone")
	d.Events = []eventView{s.view(1, &events.Event{Kind: events.KindRelease, Product: "openssl", Cycle: "3.5", Version: "3.5.1", Date: "2026-07-01",
		Link: "https://github.com/openssl/openssl/releases/tag/openssl-3.5.1"})}
	parts, err := renderParts(events.KindRelease, d)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := s.assemble(events.KindRelease, sub.Email, "everyone", s.manageToken(sub), s.newMessageID(events.KindRelease), parts, time.Now(), true)
	if err != nil {
		b.Fatal(err)
	}

	// The machine is shared: run the baseline and the notifier alternately
	// and report medians, including the median of the per-round ratios.
	// "ratio" is the default (at most one accepted-but-unrecorded message);
	// "ratio-grouped32" lets 32 marks share a commit (MaxUnrecorded=32).
	const rounds = 3
	var bases, ourss, fanouts, ratios, ratios32 []float64
	version := 0
	run := func(svc *Service) (rate, fanout float64) {
		version++
		before := be.n.Load()
		start := time.Now()
		enqueue(b, w, events.Event{Kind: events.KindRelease, Product: "openssl", Cycle: "3.5", Version: fmt.Sprintf("3.5.%d", version),
			Date: "2026-07-01", Link: "https://github.com/openssl/openssl/releases"})
		for {
			n, err := svc.ProcessEvents(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		fanout = time.Since(start).Seconds()
		for {
			n, err := svc.SendPending(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		rate = subscribers / time.Since(start).Seconds()
		if got := be.n.Load() - before; got != subscribers {
			b.Fatalf("delivered %d messages, want %d", got, subscribers)
		}
		return rate, fanout
	}
	b.ResetTimer()
	for range b.N {
		for range rounds {
			base := bareLoop(b, addr, tlsCfg, subscribers, raw)
			ours, fanout := run(s)
			ours32, _ := run(grouped)
			bases, ourss, fanouts = append(bases, base), append(ourss, ours), append(fanouts, fanout)
			ratios, ratios32 = append(ratios, ours/base), append(ratios32, ours32/base)
		}
	}
	b.ReportMetric(median(ourss), "msg/s")
	b.ReportMetric(median(bases), "baseline-msg/s")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(ratios32), "ratio-grouped32")
	b.ReportMetric(median(fanouts), "fanout-s")
	b.ReportMetric(float64(len(raw)), "msg-bytes")
}

// bareLoop sends n copies of msg over one STARTTLS+AUTH connection with
// go-smtp alone and returns messages per second.
func bareLoop(b *testing.B, addr string, tlsCfg *tls.Config, n int, msg []byte) float64 {
	start := time.Now()
	c, err := smtp.DialStartTLS(addr, tlsCfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if err := c.SendMail("noreply@eolwatch.test", []string{fmt.Sprintf("admin%05d@example.com", i)}, bytesReader(msg)); err != nil {
			b.Fatal(err)
		}
	}
	c.Quit()
	return float64(n) / time.Since(start).Seconds()
}

func median(xs []float64) float64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

type byteReader struct {
	b []byte
	i int
}

func bytesReader(b []byte) *byteReader { return &byteReader{b: b} }

func (r *byteReader) Read(p []byte) (int, error) {
	if r.i >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.i:])
	r.i += n
	return n, nil
}

package notifier

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	_ "github.com/mattn/go-sqlite3"
)

// engine is the engine this pass of the suite runs on: TestMain runs every
// test on SQLite, then again on a throwaway PostgreSQL cluster.
var engine = sqldb.SQLite

func TestMain(m *testing.M) {
	os.Exit(pgtest.RunBoth(m, func(d sqldb.Dialect) { engine = d }))
}

// openTestDB opens a writer and a reader pool on a fresh database the way
// the server store does (a SQLite file, or a PostgreSQL schema in the
// PostgreSQL pass), and applies the notifier migrations. path locates the
// database for openDBFile: the file, or the URL.
func openTestDB(t testing.TB) (w, r *sql.DB, path string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "eolwatch.db")
	if engine == sqldb.Postgres {
		path = pgtest.URL(t)
	}
	w, r = openDBFile(t, path)
	if err := Migrate(context.Background(), w); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return w, r, path
}

// openDBFile opens the database at path: a SQLite file (a writer with one
// connection and a reader pool), or a postgres:// URL (one pool for both).
func openDBFile(t testing.TB, path string) (w, r *sql.DB) {
	t.Helper()
	if sqldb.IsPostgresURL(path) {
		db, err := sqldb.OpenPostgres(context.Background(), path, sqldb.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, db
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	w, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	r, err = sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000&_query_only=true")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return w, r
}

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s string) *testClock {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &testClock{t: t}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testCert makes a self-signed certificate for 127.0.0.1 and localhost.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eolwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return cert, pool, certPEM, keyPEM
}

// received is one message accepted by the test SMTP server.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	Auth string // mechanism used, "" when none
}

// mailbox is a go-smtp server backend that records what it accepts.
type mailbox struct {
	mu   sync.Mutex
	msgs []received
	// user/pass, when set, are required (AUTH PLAIN or LOGIN).
	user, pass string
	// onRcpt and onData may reject a recipient or a message.
	onRcpt func(to string) error
	onData func(n int, r received) error
}

func (m *mailbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{m: m, tls: isTLS, conn: c}, nil
}

func (m *mailbox) all() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]received(nil), m.msgs...)
}

type session struct {
	m    *mailbox
	conn *smtp.Conn
	tls  bool
	auth string
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	check := func(u, p string) error {
		if u != s.m.user || p != s.m.pass {
			return errors.New("invalid credentials")
		}
		s.auth = mech
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, u, p string) error { return check(u, p) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, errors.New("unsupported mechanism")
}

// loginServer is the server side of the LOGIN mechanism (go-sasl has only the client).
type loginServer struct {
	step  int
	user  string
	check func(u, p string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(resp) > 0 {
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	default:
		return nil, true, l.check(l.user, string(resp))
	}
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.m.user != "" && s.auth == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.cur = received{From: from, TLS: s.tls, Auth: s.auth}
	if _, ok := s.conn.TLSConnectionState(); ok {
		s.cur.TLS = true
	}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.m.onRcpt != nil {
		if err := s.m.onRcpt(to); err != nil {
			return err
		}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.m.mu.Lock()
	n := len(s.m.msgs)
	s.m.mu.Unlock()
	if s.m.onData != nil {
		if err := s.m.onData(n, s.cur); err != nil {
			return err
		}
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, s.cur)
	s.m.mu.Unlock()
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// smtpServer is a running go-smtp server on loopback.
type smtpServer struct {
	ln   net.Listener
	srv  *smtp.Server
	addr string
	pool *x509.CertPool
}

// startSMTP starts a go-smtp server on addr ("" picks a port). With
// cert set it offers STARTTLS (or speaks implicit TLS when implicit).
func startSMTP(t testing.TB, mb *mailbox, addr string, cert *tls.Certificate, implicit bool) *smtpServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port of a just-stopped server may linger briefly
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.ErrorLog = log0{}
	if cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{*cert}}
		if implicit {
			ln = tls.NewListener(ln, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	go srv.Serve(ln)
	s := &smtpServer{srv: srv, addr: ln.Addr().String(), ln: ln}
	t.Cleanup(s.stop)
	return s
}

// stop closes the listener and every connection.
func (s *smtpServer) stop() {
	s.ln.Close()
	s.srv.Close()
}

type log0 struct{}

func (log0) Printf(string, ...any) {}
func (log0) Println(...any)        {}

// newTestService builds a Service against the given SMTP server.
func newTestService(t testing.TB, w, r *sql.DB, cfg Config) *Service {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	if cfg.SMTPFrom == "" && cfg.SMTPAddr != "" {
		cfg.SMTPFrom = "eolwatch <noreply@eolwatch.test>"
	}
	if cfg.SMTPTimeout == 0 {
		cfg.SMTPTimeout = 5 * time.Second
	}
	s, err := New(context.Background(), w, r, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header mail.Header
	Text   string
	HTML   string
	Raw    []byte
}

func parseMail(t testing.TB, raw []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, raw)
	}
	pm := parsedMail{Header: m.Header, Raw: raw}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart: %v", err)
		}
		if p.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("part encoding = %q, want quoted-printable", p.Header.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			pm.Text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			pm.HTML = string(b)
		}
	}
	if pm.Text == "" || pm.HTML == "" {
		t.Fatalf("message lacks a text or an HTML part:\n%s", raw)
	}
	return pm
}

// subject decodes the Subject header.
func (pm parsedMail) subject(t testing.TB) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(pm.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	return s
}

// linkAfter returns the first URL in the text part that starts with prefix.
func (pm parsedMail) link(t testing.TB, prefix string) string {
	t.Helper()
	i := strings.Index(pm.Text, prefix)
	if i < 0 {
		t.Fatalf("no link starting with %q in:\n%s", prefix, pm.Text)
	}
	rest := pm.Text[i:]
	if j := strings.IndexAny(rest, " \r\n"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// enqueue writes events in their own transaction, as the server does.
func enqueue(t testing.TB, w *sql.DB, evs ...events.Event) {
	t.Helper()
	tx, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Enqueue(context.Background(), tx, evs...); err != nil {
		tx.Rollback()
		t.Fatalf("events.Enqueue: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// drain runs the workers until there is nothing left to do.
func drain(t testing.TB, s *Service) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 1000; i++ {
		a, err := s.ProcessEvents(ctx)
		if err != nil {
			t.Fatalf("ProcessEvents: %v", err)
		}
		b, err := s.FlushDigests(ctx)
		if err != nil {
			t.Fatalf("FlushDigests: %v", err)
		}
		c, err := s.SendPending(ctx)
		if err != nil {
			t.Fatalf("SendPending: %v", err)
		}
		if a+b+c == 0 {
			return
		}
	}
	t.Fatal("drain: still busy after 1000 rounds")
}

func mustListen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

type mimeDecoder = mime.WordDecoder

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

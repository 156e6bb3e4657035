// Package sqldb is what eolwatch's storage needs to run the same SQL on its
// two engines: embedded SQLite (the default, one process) and PostgreSQL
// (several stateless server processes on one database).
//
// Code keeps writing portable SQL with `?` placeholders through
// database/sql. A PostgreSQL handle opened here (OpenPostgres) goes through
// a thin database/sql driver over github.com/jackc/pgx/v5/stdlib that
//
//   - rewrites `?` placeholders to PostgreSQL's `$1, $2, ...` (outside
//     string literals, quoted identifiers and comments), and
//   - passes Go bools as 0/1, since booleans are INTEGER columns in both
//     engines' schemas.
//
// What differs between the engines lives beside each engine: DialectOf
// tells code which one a *sql.DB runs on, so a store picks its
// engine-specific statements (FOR UPDATE SKIP LOCKED, json_extract versus
// ->>, COPY...) and internal/migrate picks each step's text and lock.
package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect is a database engine.
type Dialect uint8

// The engines.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DialectOf returns the engine db runs on: Postgres for a handle from
// OpenPostgres, SQLite for anything else.
func DialectOf(db *sql.DB) Dialect {
	if _, ok := db.Driver().(*pgDriver); ok {
		return Postgres
	}
	return SQLite
}

// IsPostgresURL reports whether s selects PostgreSQL (postgres:// or
// postgresql://).
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// CheckURL reports what is wrong with a --database value, naming it
// without its password.
func CheckURL(s string) error {
	if !IsPostgresURL(s) {
		return fmt.Errorf("database %q: want a postgres:// or postgresql:// URL (leave it empty for SQLite in the data directory)", Redact(s))
	}
	if _, err := pgx.ParseConfig(s); err != nil {
		return fmt.Errorf("database %s: %w", Redact(s), redactErr(s, err))
	}
	return nil
}

// Redact returns a database URL with its password replaced by "xxxxx", for
// logs and errors. It reads the URL by hand rather than with net/url, so a
// password that was not percent-encoded ('#', '/', '?' or '@' in it) is
// hidden whole: everything between the user name's ':' and the last '@'
// is taken for the password (a URL with '@' in its query loses a little
// more than its password), and so is every password= parameter's value.
func Redact(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return redactParams(s)
	}
	head, rest := s[:i+3], s[i+3:]
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
			rest = rest[:colon+1] + "xxxxx" + rest[at:]
		}
	}
	return head + redactParams(rest)
}

// indexASCIIFold is strings.Index ignoring the case of ASCII letters, by
// byte offsets of s (whatever its encoding).
func indexASCIIFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// redactParams replaces the value of every password= parameter (up to the
// next '&') with "xxxxx".
func redactParams(s string) string {
	var b strings.Builder
	for {
		i := indexASCIIFold(s, "password=")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len("password=")])
		b.WriteString("xxxxx")
		s = s[i+len("password="):]
		if end := strings.IndexByte(s, '&'); end >= 0 {
			s = s[end:]
		} else {
			s = ""
		}
	}
}

// redactErr drops the connection string pgx quotes in a parse error, and
// any text of the URL that may be its password which the inner error
// quotes ("forbidden value %00 in percent-encoded value: ...").
func redactErr(rawURL string, err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	msg := "cannot parse the URL"
	if inner := errors.Unwrap(pe); inner != nil {
		msg = "cannot parse: " + inner.Error()
	}
	for _, p := range passwords(rawURL) {
		msg = strings.ReplaceAll(msg, p, "xxxxx")
	}
	return errors.New(msg)
}

// passwords returns the texts of a database URL that may be its password,
// as written and percent-decoded: what Redact hides.
func passwords(s string) []string {
	var out []string
	add := func(p string) {
		if p == "" {
			return
		}
		out = append(out, p)
		if d, err := url.PathUnescape(p); err == nil && d != p && d != "" {
			out = append(out, d)
		}
		if d, err := url.QueryUnescape(p); err == nil && d != p && d != "" {
			out = append(out, d)
		}
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				add(rest[colon+1 : at])
			}
		}
	}
	for rest := s; ; {
		i := indexASCIIFold(rest, "password=")
		if i < 0 {
			break
		}
		rest = rest[i+len("password="):]
		end := strings.IndexByte(rest, '&')
		if end < 0 {
			end = len(rest)
		}
		add(rest[:end])
		rest = rest[end:]
	}
	// Longest first, so a password is replaced whole before any part of it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// Options tune a PostgreSQL pool. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the pool's open connections (default 16). It can
	// also be given as pool_max_conns in the URL.
	MaxConns int
	// AppName is the application_name the server sees (default eolwatch).
	AppName string
}

// OpenPostgres opens a pool on a postgres:// URL and checks that the
// database answers. Statements written with `?` placeholders work as they
// are (see the package comment).
func OpenPostgres(ctx context.Context, rawURL string, o Options) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", Redact(rawURL), redactErr(rawURL, err))
	}
	if v, ok := cfg.RuntimeParams["pool_max_conns"]; ok {
		delete(cfg.RuntimeParams, "pool_max_conns")
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("database %s: pool_max_conns %q: want a positive number", Redact(rawURL), v)
		}
		o.MaxConns = n
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.AppName == "" {
		o.AppName = "eolwatch"
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = o.AppName
	}
	db := sql.OpenDB(&pgConnector{inner: stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", Redact(rawURL), err)
	}
	return db, nil
}

// pgDriver marks handles opened by OpenPostgres (DialectOf).
type pgDriver struct{ inner driver.Driver }

func (d *pgDriver) Open(name string) (driver.Conn, error) {
	c, err := d.inner.Open(name)
	if err != nil {
		return nil, err
	}
	return &pgConn{c: c.(*stdlib.Conn)}, nil
}

var thePGDriver = &pgDriver{inner: stdlib.GetDefaultDriver()}

// pgConnector makes connections through pgx's connector, wrapped.
type pgConnector struct{ inner driver.Connector }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{c: conn.(*stdlib.Conn)}, nil
}

func (c *pgConnector) Driver() driver.Driver { return thePGDriver }

// pgConn is a pgx connection that takes `?` placeholders.
type pgConn struct{ c *stdlib.Conn }

// PgxConn returns the pgx connection under a database/sql one, for
// PostgreSQL-only work such as COPY: use it inside (*sql.Conn).Raw.
func PgxConn(driverConn any) (*pgx.Conn, bool) {
	c, ok := driverConn.(*pgConn)
	if !ok {
		return nil, false
	}
	return c.c.Conn(), true
}

func (c *pgConn) Prepare(q string) (driver.Stmt, error) { return c.c.Prepare(Rebind(q)) }
func (c *pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.c.PrepareContext(ctx, Rebind(q))
}
func (c *pgConn) Close() error              { return c.c.Close() }
func (c *pgConn) Begin() (driver.Tx, error) { return c.c.Begin() } //nolint:staticcheck // required by driver.Conn
func (c *pgConn) BeginTx(ctx context.Context, o driver.TxOptions) (driver.Tx, error) {
	return c.c.BeginTx(ctx, o)
}
func (c *pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.c.ExecContext(ctx, Rebind(q), args)
}
func (c *pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.c.QueryContext(ctx, Rebind(q), args)
}
func (c *pgConn) Ping(ctx context.Context) error              { return c.c.Ping(ctx) }
func (c *pgConn) ResetSession(ctx context.Context) error      { return c.c.ResetSession(ctx) }
func (c *pgConn) IsValid() bool                               { return !c.c.Conn().IsClosed() }
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error { return checkValue(nv) }

// checkValue passes bools as 0/1 (INTEGER columns in both engines) and
// everything else to pgx as it is.
func checkValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		if b {
			nv.Value = int64(1)
		} else {
			nv.Value = int64(0)
		}
	}
	return nil
}

var (
	rebound  sync.Map // query text -> rewritten text
	reboundN atomic.Int64
)

// maxRebound bounds the cache of rewritten statements (statements built
// with a varying number of rows or IN-list entries are many).
const maxRebound = 20000

// Rebind rewrites `?` placeholders to `$1, $2, ...`, leaving string
// literals, quoted identifiers, dollar-quoted strings and comments alone.
// A query without `?` is returned unchanged.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	out := rebind(q)
	if reboundN.Add(1) <= maxRebound {
		rebound.Store(q, out)
	}
	return out
}

func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(q) {
				if q[j] == c {
					if j+1 < len(q) && q[j+1] == c { // doubled quote inside
						j += 2
						continue
					}
					break
				}
				j++
			}
			b.WriteString(q[i:min(j+1, len(q))])
			i = j
			continue
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
			continue
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
			continue
		case c == '$':
			// $tag$ ... $tag$ (a $n parameter is left alone).
			if end := strings.IndexByte(q[i+1:], '$'); end >= 0 && validTag(q[i+1:i+1+end]) {
				tag := q[i : i+end+2]
				if k := strings.Index(q[i+len(tag):], tag); k >= 0 {
					stop := i + len(tag) + k + len(tag)
					b.WriteString(q[i:stop])
					i = stop - 1
					continue
				}
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func validTag(t string) bool {
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Retryable reports whether err is a PostgreSQL serialization failure or
// a detected deadlock: the transaction was rolled back and running it
// again is the cure.
func Retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// UniqueViolation reports whether err is a unique-constraint violation on
// either engine.
func UniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// ForeignKeyViolation reports whether err is a foreign-key violation on
// either engine (a row referenced a parent another transaction deleted).
func ForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23503"
	}
	return err != nil && strings.Contains(err.Error(), "FOREIGN KEY constraint failed")
}

// LockKey turns a lock name into a PostgreSQL advisory lock key.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("eolwatch:" + name))
	return int64(h.Sum64())
}

// LockXact takes the exclusive transaction-scoped lock name inside tx on
// PostgreSQL (released at commit or rollback). On SQLite it does nothing:
// write transactions there are serialised already.
func LockXact(ctx context.Context, tx *sql.Tx, d Dialect, name string) error {
	if d != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, LockKey(name)); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// LockXactShared takes lock name in shared mode inside tx on PostgreSQL:
// any number of shared holders, none while LockXact holds it.
func LockXactShared(ctx context.Context, tx *sql.Tx, d Dialect, name string) error {
	if d != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock_shared(?)`, LockKey(name)); err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	return nil
}

// InTx runs fn in a transaction of db and commits it when fn returns nil.
// On PostgreSQL a serialization failure or deadlock rolls the attempt back
// and runs fn again (up to 5 times), so fn must only touch the database
// and state it resets itself.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := inTxOnce(ctx, db, fn)
		if err == nil || attempt >= 5 || !Retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * 5 * time.Millisecond)
	}
}

func inTxOnce(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

package sqldb_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/eolwatch/eolwatch/internal/sqldb"
)

// FuzzRedact: whatever a --database URL holds, the password it carries
// (in user:password@, percent-encoded or typed as it is with '#', '/', '?'
// or '@' in it, or as ?password= in any case) appears neither in Redact's
// result nor in CheckURL's error; and Redact's result does not depend on
// the password at all.
func FuzzRedact(f *testing.F) {
	for _, s := range []struct{ pw, host, rest string }{
		{"secret", "db:5432", "/e"},
		{"s3cr3t!", "db", "/e?sslmode=require"},
		{"pässwört", "[::1]:5432", "/e?application_name=x"},
		{"pw with space", "db:notaport", "/e"},
		{"a%40b", "db", "/e?password=other1"},
		{"p#ss/wo?rd@x", "db:5432", "/e?sslmode=disable"},
		{"@@@@", "db", "/e"},
		{"a:b:c@d", "db", "/e"},
	} {
		f.Add(s.pw, s.host, s.rest)
	}
	f.Fuzz(func(t *testing.T, pw, host, rest string) {
		// Host and the rest of the URL in a plain alphabet (no '@'), and a
		// distinctive password: no form of it (as typed, path- or
		// query-escaped) begins with three bytes found elsewhere in the
		// URLs or the messages, so finding one in the output is a leak,
		// not a coincidence.
		host, rest = plain(host), plain(rest)
		others := "postgres://u:xxxxx@" + host + rest + ": cannot parse: " + " postgresql://u@" + host + "/db?password=xxxxx&" + rest + ": cannot parse the URL"
		forms := []string{pw, url.PathEscape(pw), url.QueryEscape(pw)}
		for _, form := range forms {
			if len(form) < 4 || strings.Contains(others, form[:3]) {
				return
			}
		}
		urls := func(pw string) []string {
			return []string{
				"postgres://u:" + url.PathEscape(pw) + "@" + host + rest,
				"postgres://u:" + pw + "@" + host + rest, // typed without encoding
				"postgresql://u@" + host + "/db?password=" + url.QueryEscape(pw) + "&" + strings.TrimPrefix(rest, "?"),
				"postgresql://u@" + host + "/db?PassWord=" + url.QueryEscape(pw),
			}
		}
		blank := urls("x")
		for i, s := range urls(pw) {
			got := sqldb.Redact(s)
			if want := sqldb.Redact(blank[i]); got != want {
				t.Fatalf("Redact(%q) = %q, but %q with another password: it depends on the password", s, got, want)
			}
			err := sqldb.CheckURL(s)
			for _, form := range forms {
				if strings.Contains(got, form) {
					t.Fatalf("Redact(%q) = %q shows the password", s, got)
				}
				if err != nil && strings.Contains(err.Error(), form) {
					t.Fatalf("CheckURL(%q) = %q shows the password", s, err)
				}
			}
		}
	})
}

// plain keeps the bytes of s a URL's host, path and query are usually
// written with.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".:-_/?=&[]", r) {
			return r
		}
		return -1
	}, s)
}

// FuzzRebind: Rebind never panics, numbers the placeholders it rewrites
// $1, $2, ... in order, and changes nothing else.
func FuzzRebind(f *testing.F) {
	for _, q := range []string{`SELECT a FROM t WHERE a = ? AND b = ?`, `SELECT '?', ? FROM t`, `SELECT 'it''s ?', ?`,
		"SELECT ? -- why?\n, ?", `SELECT /* ? */ ?`, `DO $body$ SELECT '?' $body$; SELECT ?`, `SELECT $1, ?`, `SELECT 'abc ?`} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got := sqldb.Rebind(q)
		// Walk both: each "?" of the input is either kept or became the
		// next "$N"; every other byte is copied as it was.
		i, n := 0, 0
		for j := 0; j < len(q); j++ {
			if next := "$" + strconv.Itoa(n+1); q[j] == '?' && strings.HasPrefix(got[i:], next) {
				i, n = i+len(next), n+1
				continue
			}
			if i >= len(got) || got[i] != q[j] {
				t.Fatalf("Rebind(%q) = %q: byte %d changed", q, got, j)
			}
			i++
		}
		if i != len(got) {
			t.Fatalf("Rebind(%q) = %q: trailing bytes", q, got)
		}
	})
}

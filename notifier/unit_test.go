package notifier

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
	"github.com/eolwatch/eolwatch/notifier/events"
)

func TestTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	c := claims{Purpose: purposeConfirm, SubID: 42, Nonce: "n0nce", Expires: now.Add(time.Hour)}
	tok := signToken(key, c)
	got, err := parseToken(key, tok, purposeConfirm, now)
	if err != nil || got.SubID != 42 || got.Nonce != "n0nce" {
		t.Fatalf("parseToken(signToken) = %+v, %v", got, err)
	}
	tests := []struct {
		name    string
		tok     string
		purpose string
		now     time.Time
	}{
		{"expired", tok, purposeConfirm, now.Add(time.Hour)},
		{"wrong purpose", tok, purposeManage, now},
		{"other key", signToken([]byte("another key"), c), purposeConfirm, now},
		{"tampered payload", "x" + tok[1:], purposeConfirm, now},
		{"tampered mac", tok[:len(tok)-2] + "AA", purposeConfirm, now},
		{"no dot", strings.ReplaceAll(tok, ".", ""), purposeConfirm, now},
		{"empty", "", purposeConfirm, now},
		{"huge", strings.Repeat("a", 5000), purposeConfirm, now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseToken(key, tc.tok, tc.purpose, tc.now); !errors.Is(err, errBadToken) {
				t.Errorf("%s: parseToken = %v, want errBadToken", tc.name, err)
			}
		})
	}
	m := signToken(key, claims{Purpose: purposeManage, SubID: 7, Nonce: "x"})
	if _, err := parseToken(key, m, purposeManage, now.AddDate(10, 0, 0)); err != nil {
		t.Errorf("management token expired: %v", err)
	}
}

func FuzzParseToken(f *testing.F) {
	key := []byte("fuzz key")
	f.Add(signToken(key, claims{Purpose: purposeManage, SubID: 1, Nonce: "abc"}))
	f.Add(signToken(key, claims{Purpose: purposeConfirm, SubID: 99, Nonce: "n", Expires: time.Unix(2e9, 0)}))
	f.Add("bXwxfGF8MA.AAAA")
	f.Add("..")
	f.Fuzz(func(t *testing.T, tok string) {
		for _, p := range []string{purposeConfirm, purposeManage} {
			c, err := parseToken(key, tok, p, time.Unix(1e9, 0))
			if err != nil {
				continue
			}
			if c.Purpose != p || c.SubID <= 0 {
				t.Fatalf("accepted %q as %+v", tok, c)
			}
			if again := signToken(key, c); again != tok {
				if _, err := parseToken(key, again, p, time.Unix(1e9, 0)); err != nil {
					t.Fatalf("re-signed claims of %q do not verify: %v", tok, err)
				}
			}
		}
	})
}

func TestParseEmail(t *testing.T) {
	good := map[string]string{
		"alice@example.com":        "alice@example.com",
		" bob@Example.COM ":        "bob@example.com",
		"o'brien+tag@mail.example": "o'brien+tag@mail.example",
	}
	for in, want := range good {
		if got, err := ParseEmail(in); err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "alice", "a@b", "Alice <a@example.com>", "a@example.com\r\nBcc: x@y.z", "a@example.com, b@example.com",
		"a\x00@example.com", strings.Repeat("a", 250) + "@example.com", "@example.com"} {
		_, err := ParseEmail(in)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Field != "email" {
			t.Errorf("ParseEmail(%q) = %v, want an error naming email", in, err)
		}
	}
}

func FuzzParseEmail(f *testing.F) {
	for _, s := range []string{"alice@example.com", "a@b.c\r\nBcc: x@y.z", "\"quoted local\"@example.com", "x@[127.0.0.1]", "ü@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		addr, err := ParseEmail(in)
		if err != nil {
			return
		}
		if strings.ContainsAny(addr, "\r\n\x00") {
			t.Fatalf("ParseEmail(%q) = %q with a line break", in, addr)
		}
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Address != addr {
			t.Fatalf("ParseEmail(%q) = %q, which does not parse back: %v", in, addr, err)
		}
		if again, err := ParseEmail(addr); err != nil || again != addr {
			t.Fatalf("ParseEmail not idempotent: %q -> %q -> %q, %v", in, addr, again, err)
		}
	})
}

// FuzzMessageHeaders renders messages from arbitrary catalog/agent text and
// checks that the result is one well-formed message with exactly the
// headers the notifier writes.
func FuzzMessageHeaders(f *testing.F) {
	for _, s := range []string{"3.13.1", "Pokémon Café 1.0 ✓", "7.4\r\nBcc: evil@example.com", "=?utf-8?q?x?=", strings.Repeat("é", 300), "\x00\x1b[31m"} {
		f.Add(s, s)
	}
	w, r, _ := openTestDB(f)
	s := newTestService(f, w, r, Config{PublicURL: "https://eolwatch.example.com"})
	sub := &Subscription{ID: 1, Email: "a@example.com", Group: "g", nonce: "n"}
	want := []string{"Auto-Submitted", "Content-Type", "Date", "From", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Message-Id", "Mime-Version", "Subject", "To"}
	f.Fuzz(func(t *testing.T, product, version string) {
		d := s.placeholderData("g")
		d.Events = []eventView{s.view(1, &events.Event{Kind: events.KindRelease, Product: product, Cycle: version, Version: version, Link: version})}
		d.Events[0].ProductLabel = product
		p, err := renderParts(events.KindRelease, d)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := s.assemble(events.KindRelease, sub.Email, "g", s.manageToken(sub), "<x@eolwatch.example.com>", p, time.Unix(1e9, 0), true)
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("unparsable message: %v", err)
		}
		var got []string
		for k, v := range m.Header {
			if len(v) != 1 {
				t.Errorf("header %s appears %d times", k, len(v))
			}
			got = append(got, k)
		}
		if strings.Join(sortStrings(got), ",") != strings.Join(want, ",") {
			t.Fatalf("headers = %v, want %v", sortStrings(got), want)
		}
		for _, line := range strings.Split(string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))]), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("header line of %d bytes", len(line))
			}
		}
		subj, err := new(mimeDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil || strings.ContainsAny(subj, "\r\n") {
			t.Fatalf("subject %q: %v", subj, err)
		}
	})
}

func TestReleaseLevel(t *testing.T) {
	tests := []struct {
		version, level string
		pre            bool
	}{
		{"22.0.0", LevelMajor, false},
		{"22", LevelMajor, false},
		{"22.1.0", LevelMinor, false},
		{"3.13.0", LevelMinor, false},
		{"3.13.1", LevelPatch, false},
		{"10.0.19045.3693", LevelPatch, false},
		{"1.1.1w", LevelPatch, false},
		{"3.14.0rc1", LevelMinor, true},
		{"3.14.0a7", LevelMinor, true},
		{"2.0.0-beta.2", LevelMajor, true},
		{"6.0.0-preview.3", LevelMajor, true},
		{"17.0.9+9", LevelPatch, false},
		{"2024.1", LevelMinor, false},
	}
	for _, tc := range tests {
		t.Run(tc.version, func(t *testing.T) {
			if got := releaseLevel(tc.version); got != tc.level {
				t.Errorf("releaseLevel(%q) = %q, want %q", tc.version, got, tc.level)
			}
			if got := isPrerelease(tc.version); got != tc.pre {
				t.Errorf("isPrerelease(%q) = %v, want %v", tc.version, got, tc.pre)
			}
		})
	}
}

func TestGroupValidation(t *testing.T) {
	tests := []struct {
		g     Group
		field string
	}{
		{Group{Name: "", Products: []string{"p"}, Events: []string{"release"}}, "name"},
		{Group{Name: "Bad Name", Products: []string{"p"}, Events: []string{"release"}}, "name"},
		{Group{Name: "g", Events: []string{"release"}}, "products"},
		{Group{Name: "g", Products: []string{"ok", "no way"}, Events: []string{"release"}}, "products[1]"},
		{Group{Name: "g", Products: []string{"p"}, Cycles: []string{"q@1"}, Events: []string{"release"}}, "cycles[0]"},
		{Group{Name: "g", Products: []string{"p"}, Cycles: []string{"1\n2"}, Events: []string{"release"}}, "cycles[0]"},
		{Group{Name: "g", Products: []string{"p"}}, "events"},
		{Group{Name: "g", Products: []string{"p"}, Events: []string{"release", "news"}}, "events[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			err := tc.g.Normalize()
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("Normalize(%+v) = %v, want an error naming %s", tc.g, err, tc.field)
			}
		})
	}
	g := Group{Name: " Web ", Products: []string{"nginx", "NGINX", "nodejs"}, Cycles: []string{"nodejs@22", "1.27"}, Events: []string{"eol", "release", "eol"}}
	if err := g.Normalize(); err != nil {
		t.Fatal(err)
	}
	if g.Name != "web" || len(g.Products) != 2 || len(g.Events) != 2 {
		t.Errorf("Normalize = %+v", g)
	}
	cover := []struct {
		ev   events.Event
		want bool
	}{
		{events.Event{Kind: events.KindRelease, Product: "nodejs", Cycle: "22"}, true},
		{events.Event{Kind: events.KindRelease, Product: "nodejs", Cycle: "20"}, false},
		{events.Event{Kind: events.KindRelease, Product: "nginx", Cycle: "1.27"}, true},
		{events.Event{Kind: events.KindEOL, Product: "nginx", Cycle: "1.27"}, true},
		{events.Event{Kind: events.KindFleet, Product: "nginx", Cycle: "1.27"}, false},
		{events.Event{Kind: events.KindRelease, Product: "apache", Cycle: "1.27"}, false},
	}
	for _, c := range cover {
		t.Run(fmt.Sprint(c.ev.Kind, " ", c.ev.Product, " ", c.ev.Cycle), func(t *testing.T) {
			if got := g.covers(&c.ev); got != c.want {
				t.Errorf("covers(%+v) = %v, want %v", c.ev, got, c.want)
			}
		})
	}
}

func TestDigestDue(t *testing.T) {
	s := &Service{cfg: Config{DigestHour: 7, DigestWeekday: time.Monday}}
	at := func(v string) time.Time { t, _ := time.Parse(time.RFC3339, v); return t }
	tests := []struct{ mode, now, want string }{
		{ModeDaily, "2026-03-04T06:59:00Z", "2026-03-04T07:00:00Z"},
		{ModeDaily, "2026-03-04T07:00:00Z", "2026-03-05T07:00:00Z"},
		{ModeWeekly, "2026-03-04T10:00:00Z", "2026-03-09T07:00:00Z"}, // Wednesday → next Monday
		{ModeWeekly, "2026-03-09T06:00:00Z", "2026-03-09T07:00:00Z"},
		{ModeWeekly, "2026-03-09T08:00:00Z", "2026-03-16T07:00:00Z"},
		{ModeImmediate, "2026-03-04T10:00:00Z", "2026-03-04T10:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.mode+" at "+tc.now, func(t *testing.T) {
			if got := s.digestDue(tc.mode, at(tc.now)); !got.Equal(at(tc.want)) {
				t.Errorf("digestDue(%s, %s) = %s, want %s", tc.mode, tc.now, got.Format(time.RFC3339), tc.want)
			}
		})
	}
}

func TestMigrateIdempotent(t *testing.T) {
	w, _, _ := openTestDB(t)
	ctx := context.Background()
	if _, err := w.Exec(`CREATE TABLE hosts (id INTEGER PRIMARY KEY)`); err != nil { // another component's table
		t.Fatal(err)
	}
	for range 2 {
		if err := Migrate(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	var v int
	w.QueryRow(`SELECT version FROM notifier_schema_version`).Scan(&v)
	if v != SchemaVersion {
		t.Errorf("schema version = %d, want %d", v, SchemaVersion)
	}
	if _, err := w.Exec(`UPDATE notifier_schema_version SET version = 999`); err != nil {
		t.Fatal(err)
	}
	if err := Migrate(ctx, w); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Migrate on a newer schema = %v, want an error", err)
	}
}

func TestEnqueueValidates(t *testing.T) {
	w, _, _ := openTestDB(t)
	tests := []struct {
		ev   events.Event
		want string
	}{
		{events.Event{Kind: "news", Product: "p"}, "kind"},
		{events.Event{Kind: events.KindRelease, Product: " "}, "product"},
		{events.Event{Kind: events.KindRelease, Product: "p"}, "version"},
		{events.Event{Kind: events.KindFleet, Product: "p"}, "host"},
		{events.Event{Kind: events.KindEOL, Product: "p", Reason: strings.Repeat("x", 5000)}, "reason"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			tx, _ := w.Begin()
			err := events.Enqueue(context.Background(), tx, events.Event{Kind: events.KindEOL, Product: "fine"}, tc.ev)
			tx.Rollback()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "event 1") {
				t.Errorf("events.Enqueue(%+v) = %v, want an error naming event 1 and %s", tc.ev, err, tc.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{SMTPTLS: "ssl"}, "smtp-tls"},
		{Config{SMTPAddr: "mail.example.com"}, "smtp-addr"},
		{Config{SMTPAddr: "mail.example.com:25"}, "smtp-from"},
		{Config{SMTPAddr: "mail.example.com:25", SMTPFrom: "a@example.com", SMTPTLS: TLSNone, SMTPUsername: "u"}, "smtp-username"},
		{Config{SMTPFrom: "a@example.com\r\nBcc: b@example.com"}, "smtp-from"},
		{Config{PublicURL: "ftp://x"}, "public-url"},
		{Config{SMTPAuth: "cram-md5"}, "smtp-auth"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := tc.cfg.withDefaults(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("withDefaults(%+v) = %v, want an error about %s", tc.cfg, err, tc.want)
			}
		})
	}
	if _, err := (Config{SMTPAddr: "127.0.0.1:25", SMTPFrom: "a@example.com", SMTPTLS: TLSNone, SMTPUsername: "u"}).withDefaults(); err != nil {
		t.Errorf("AUTH without TLS to loopback refused: %v", err)
	}
}

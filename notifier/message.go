package notifier

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/eolwatch/eolwatch/notifier/events"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// Message kinds (outbox.kind): the event kinds plus these.
const (
	kindConfirm  = "confirm"
	kindReminder = "reminder"
	kindDigest   = "digest"
)

var (
	textTmpl  = template.Must(template.New("").Funcs(template.FuncMap{"host": plainHost}).ParseFS(templateFS, "templates/mail.txt.tmpl"))
	htmlTmpls = map[string]*htmltemplate.Template{}
)

// maxHostShown is how many characters of a hostname an email shows.
const maxHostShown = 64

// plainHost shows a hostname, which an agent reports and anyone enrolled
// can choose, as plain data in an email: cut to maxHostShown characters,
// defanged so that no mail client turns it into a link ("." "[.]", ":"
// "[:]", "@" "[@]", "/" "[/]"), control characters replaced, and quoted.
// Emails show the host id beside it: the id, not the name, is the host.
func plainHost(name string) string {
	r := []rune(name)
	cut := len(r) > maxHostShown
	if cut {
		r = r[:maxHostShown]
	}
	var b strings.Builder
	for _, c := range r {
		switch {
		case c == '.' || c == ':' || c == '@' || c == '/':
			b.WriteString("[" + string(c) + "]")
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\u2028' || c == '\u2029':
			b.WriteByte('?')
		default:
			b.WriteRune(c)
		}
	}
	if cut {
		b.WriteString("…")
	}
	return strconv.Quote(b.String())
}

// plainVersion shows an installed version, which an agent reports as
// freely as its hostname: as it is when it looks like a version (a letter
// or digit, then letters, digits and . + ~ : _ -, at most maxHostShown
// bytes, not ending in a letters-only label such as ".com"), else as
// plainHost shows a hostname (quoted, cut, defanged).
func plainVersion(v string) string {
	if v == "" || versionLike(v) {
		return v
	}
	return plainHost(v)
}

func versionLike(v string) bool {
	if len(v) > maxHostShown || !isAlnum(v[0]) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && !strings.ContainsRune(".+~:_-", rune(c)) {
			return false
		}
	}
	if i := strings.LastIndexByte(v, '.'); i >= 0 {
		tail := v[i+1:]
		if len(tail) >= 2 && strings.Trim(tail, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") == "" {
			return false // a domain's last label, not a version's
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// plainReason is a verdict's reason with the reported version it repeats
// (raw or quoted) shown as plainVersion shows it.
func plainReason(reason, version string) string {
	pv := plainVersion(version)
	if pv == version {
		return reason
	}
	reason = strings.ReplaceAll(reason, strconv.Quote(version), pv)
	return strings.ReplaceAll(reason, version, pv)
}

// plainData returns d with what hosts reported (installed versions, and the
// reasons that repeat them) made plain data for an email; d is not changed.
func plainData(d msgData) msgData {
	if len(d.Fleet) > 0 {
		fleet := make([]eventView, len(d.Fleet))
		for i, v := range d.Fleet {
			v.Reason = plainReason(v.Reason, v.Version)
			v.Version = plainVersion(v.Version)
			fleet[i] = v
		}
		d.Fleet = fleet
	}
	if d.Risk != nil {
		r := *d.Risk
		r.Hosts = make([]events.RiskHost, len(d.Risk.Hosts))
		for i, h := range d.Risk.Hosts {
			ins := make([]events.RiskInstall, len(h.Installs))
			for j, in := range h.Installs {
				in.Reason = plainReason(plainReason(in.Reason, in.Installed), in.Version)
				in.Version, in.Installed = plainVersion(in.Version), plainVersion(in.Installed)
				ins[j] = in
			}
			h.Installs = ins
			r.Hosts[i] = h
		}
		d.Risk = &r
	}
	return d
}

func init() {
	base := htmltemplate.Must(htmltemplate.New("").Funcs(htmltemplate.FuncMap{"host": plainHost}).ParseFS(templateFS, "templates/mail.html.tmpl"))
	for _, k := range []string{kindConfirm, kindReminder, events.KindRelease, events.KindEOL, events.KindFleet, kindDigest, events.KindContract, events.KindRisk} {
		t := htmltemplate.Must(base.Clone())
		htmlTmpls[k] = htmltemplate.Must(t.Parse(`{{define "content"}}{{template "` + k + `.html" .}}{{end}}`))
	}
}

// eventView is an event as templates see it.
type eventView struct {
	events.Event
	ID           int64
	ProductLabel string
	Level        string
	Prerelease   bool
}

// msgData is what message templates see.
type msgData struct {
	Subject        string
	Email          string
	Group          string
	ConfirmURL     string
	Expires        string
	UnsubscribeURL string
	PreferencesURL string
	Events         []eventView
	Releases       []eventView
	EOLs           []eventView
	Fleet          []eventView
	Period         string
	Count          int
	// Contract and Risk are the content of direct mail (QueueDirect).
	Contract *events.ContractNotice
	Risk     *events.RiskDigest
	// PublicURL is the server's base URL, for links in direct mail.
	PublicURL string
}

// baseData fills the per-subscriber part of msgData.
func (s *Service) baseData(sub *Subscription) msgData {
	tok := s.manageToken(sub)
	return msgData{Email: sub.Email, Group: sub.Group,
		UnsubscribeURL: s.cfg.PublicURL + PathUnsubscribe + "?token=" + tok,
		PreferencesURL: s.cfg.PublicURL + PathPreferences + "?token=" + tok}
}

// msgParts is a message's rendered subject and bodies.
type msgParts struct {
	Subject, Text, HTML string
}

// renderParts executes the templates of kind.
func renderParts(kind string, d msgData) (msgParts, error) {
	d = plainData(d)
	var subj, text, html bytes.Buffer
	if err := textTmpl.ExecuteTemplate(&subj, kind+".subject", d); err != nil {
		return msgParts{}, fmt.Errorf("render %s subject: %w", kind, err)
	}
	d.Subject = cleanHeaderText(subj.String(), 180)
	if err := textTmpl.ExecuteTemplate(&text, kind+".text", d); err != nil {
		return msgParts{}, fmt.Errorf("render %s text: %w", kind, err)
	}
	if err := htmlTmpls[kind].ExecuteTemplate(&html, "layout.html", d); err != nil {
		return msgParts{}, fmt.Errorf("render %s html: %w", kind, err)
	}
	return msgParts{Subject: d.Subject, Text: text.String(), HTML: html.String()}, nil
}

// Placeholders let the fan-out render an event's templates once per group
// and fill in each subscriber's address and token: plain alphanumerics
// pass unchanged through text/template, html/template and URL escaping.
const (
	phEmail = "EOLWATCHph0EMAILx9q"
	phToken = "EOLWATCHph0TOKENx9q"
)

// personalize fills the placeholders of parts rendered with
// placeholderData for one subscriber; parts without placeholders are
// returned unchanged.
func personalize(p msgParts, token, email string) msgParts {
	if token == "" {
		return p
	}
	p.Text = strings.ReplaceAll(strings.ReplaceAll(p.Text, phToken, token), phEmail, email)
	p.HTML = strings.ReplaceAll(strings.ReplaceAll(p.HTML, phToken, token), phEmail, htmltemplate.HTMLEscapeString(email))
	return p
}

// manageToken is the subscriber's unsubscribe/preferences token.
func (s *Service) manageToken(sub *Subscription) string {
	return signToken(s.key, claims{Purpose: purposeManage, SubID: sub.ID, Nonce: sub.nonce})
}

// placeholderData is baseData with placeholders instead of a subscriber.
func (s *Service) placeholderData(group string) msgData {
	return msgData{Email: phEmail, Group: group,
		UnsubscribeURL: s.cfg.PublicURL + PathUnsubscribe + "?token=" + phToken,
		PreferencesURL: s.cfg.PublicURL + PathPreferences + "?token=" + phToken}
}

// assemble builds the RFC 5322 message around rendered parts. It is
// deterministic: the same outbox row always yields the same bytes (the
// MIME boundary derives from the Message-ID), so a retry or a resend after
// a crash is the identical message.
func (s *Service) assemble(kind, to, group, token, messageID string, p msgParts, date time.Time, listHeaders bool) ([]byte, error) {
	rcpt, err := bareAddress(to)
	if err != nil {
		return nil, fmt.Errorf("render %s: recipient: %w", kind, err)
	}
	p = personalize(p, token, rcpt)
	h := &headerWriter{}
	h.buf.Grow(len(p.Text) + len(p.HTML) + 1536)
	h.add("Date", date.Format(time.RFC1123Z))
	h.add("From", s.from.String())
	h.add("To", (&mail.Address{Address: rcpt}).String())
	h.addEncoded("Subject", cleanHeaderText(p.Subject, 180))
	h.add("Message-ID", messageID)
	h.add("MIME-Version", "1.0")
	h.add("Auto-Submitted", "auto-generated")
	if listHeaders && token != "" {
		h.add("List-Id", "eolwatch "+group+" <"+group+".eolwatch."+s.msgDomain+">")
		h.add("List-Unsubscribe", "<"+s.cfg.PublicURL+PathUnsubscribe+"?token="+token+">")
		h.add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	if h.err != nil {
		return nil, fmt.Errorf("render %s: %w", kind, h.err)
	}
	sum := sha256.Sum256([]byte(messageID))
	boundary := "eolwatch-" + hex.EncodeToString(sum[:16])
	h.add("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	h.buf.WriteString("\r\n")
	mw := multipart.NewWriter(&h.buf)
	if err := mw.SetBoundary(boundary); err != nil {
		return nil, err
	}
	for _, part := range []struct {
		ctype string
		data  string
	}{{"text/plain; charset=utf-8", p.Text}, {"text/html; charset=utf-8", p.HTML}} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := io.WriteString(qp, part.data); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return h.buf.Bytes(), nil
}

// newMessageID returns a globally unique Message-ID; it is stored with the
// outbox row, so every retry of a message carries the same one.
func (s *Service) newMessageID(kind string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return "<" + kind + "." + hex.EncodeToString(b) + "@" + s.msgDomain + ">"
}

// headerWriter writes header fields and refuses any value that could start
// a new header line.
type headerWriter struct {
	buf bytes.Buffer
	err error
}

func (h *headerWriter) add(name, value string) {
	if strings.ContainsAny(value, "\r\n\x00") || strings.ContainsAny(name, "\r\n\x00: ") {
		if h.err == nil {
			h.err = fmt.Errorf("header %s: value contains a line break", name)
		}
		return
	}
	h.buf.WriteString(name)
	h.buf.WriteString(": ")
	h.buf.WriteString(value)
	h.buf.WriteString("\r\n")
}

// addEncoded writes unstructured text (already one line) RFC 2047-encoded
// and folded; the only line breaks are the folds it inserts itself.
func (h *headerWriter) addEncoded(name, text string) {
	if strings.ContainsAny(text, "\r\n\x00") {
		if h.err == nil {
			h.err = fmt.Errorf("header %s: value contains a line break", name)
		}
		return
	}
	h.buf.WriteString(name)
	h.buf.WriteString(": ")
	h.buf.WriteString(encodeHeaderText(text))
	h.buf.WriteString("\r\n")
}

// cleanHeaderText turns arbitrary text (catalog, agent or subscriber data)
// into one line: control characters and line breaks become spaces, runs of
// spaces collapse, invalid UTF-8 is replaced, and it is cut at max runes.
func cleanHeaderText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		if n >= max {
			b.WriteString("…")
			break
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// encodeHeaderText encodes one-line text for an unstructured header
// (Subject): RFC 2047 Q-encoding when it is not plain ASCII, folded
// between encoded words so no line exceeds the RFC 5322 limit.
func encodeHeaderText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < ' ' {
			ascii = false
			break
		}
	}
	if ascii && !strings.Contains(s, "=?") && len(s) <= 900 {
		return s
	}
	enc := mime.QEncoding.Encode("utf-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

var (
	prereleaseRE = regexp.MustCompile(`(?i)(alpha|beta|preview|snapshot|nightly|canary|[-.~_]dev|[-.~_]pre|[-.~_]ea\b|\d(a|b|rc)\d*$|[-.~_]rc\d*)`)
	numRE        = regexp.MustCompile(`\d+`)
)

// isPrerelease reports whether a version is spelled as a pre-release
// (3.14.0rc1, 2.0.0-beta.2, 22-ea).
func isPrerelease(v string) bool { return prereleaseRE.MatchString(v) }

// releaseLevel classifies a release by the position of its last non-zero
// numeric component: 22.0.0 is major, 3.13.0 and 22.1.0 are minor, 3.13.1
// and 10.0.19045.3693 are patch. Pre-release suffixes are ignored.
func releaseLevel(version string) string {
	v := version
	if loc := prereleaseRE.FindStringIndex(v); loc != nil {
		v = v[:loc[0]]
	}
	nums := numRE.FindAllString(v, -1)
	last := -1
	for i, n := range nums {
		if x, err := strconv.ParseUint(n, 10, 64); err != nil || x != 0 {
			last = i
		}
	}
	switch {
	case last <= 0:
		return LevelMajor
	case last == 1:
		return LevelMinor
	default:
		return LevelPatch
	}
}

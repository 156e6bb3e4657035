package catalog

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The compact form is a line-oriented, tab-separated encoding of a catalog,
// used for the embedded default catalog (gzip'd) because it decodes an order
// of magnitude faster than JSON, and as the canonical encoding whose SHA-256
// is Info().Version. It is an internal format: people write YAML or JSON.
//
//	eolwatch-catalog-tsv/1
//	source<TAB>...           commit<TAB>...         license<TAB>...      date<TAB>YYYY-MM-DD
//	P<TAB>id<TAB>label<TAB>category<TAB>scheme<TAB>aliases<TAB>identifiers[<TAB>extended support[<TAB>date]]
//	Y<TAB>name<TAB>label<TAB>codename<TAB>release<TAB>eoas<TAB>eol<TAB>eoes<TAB>lts<TAB>latest<TAB>latest date<TAB>releases
//
// Lists use \x1e between items and \x1f inside one (alias list, type\x1fid,
// version\x1fdate). Milestones are "", "true", "false" or a date; lts is "",
// "true" or a date. A field holding a control character or starting with a
// double quote is written Go-quoted. The date line is the day the data was
// taken (Info.Date); a product line carries its own date only when it
// differs, and its extended-support programme (name\x1ffree|paid\x1fenrolment
// ids separated by \x1e) only when its data gives one.
const compactMagic = "eolwatch-catalog-tsv/1"

func esc(s string) string {
	if s == "" || (s[0] != '"' && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })) {
		return s
	}
	return strconv.Quote(s)
}

func unesc(s string) (string, error) {
	if s == "" || s[0] != '"' {
		return s, nil
	}
	return strconv.Unquote(s)
}

func msText(m Milestone) string {
	switch v := m.Value().(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case string:
		return v
	}
	return ""
}

// writeProducts writes the product lines of the compact form; a product's
// date is written when it differs from base, the catalog's date.
func writeProducts(w *bufio.Writer, ps []*Product, base Date) {
	for _, p := range ps {
		w.WriteString("P\t" + esc(p.ID) + "\t" + esc(p.Label) + "\t" + esc(p.Category) + "\t" + esc(string(p.Scheme)) + "\t")
		for i, a := range p.Aliases {
			if i > 0 {
				w.WriteByte(0x1e)
			}
			w.WriteString(esc(a))
		}
		w.WriteByte('\t')
		for i, id := range p.Identifiers {
			if i > 0 {
				w.WriteByte(0x1e)
			}
			w.WriteString(esc(id.Type) + "\x1f" + esc(id.ID))
		}
		date := ""
		if !p.Date.Equal(base.Time) {
			date = p.Date.String()
		}
		if p.Extended != nil || date != "" {
			w.WriteByte('\t')
			if e := p.Extended; e != nil {
				kind := "paid"
				if e.Free {
					kind = "free"
				}
				enrol := make([]string, len(e.Enrolment))
				for i, id := range e.Enrolment {
					enrol[i] = esc(id)
				}
				w.WriteString(esc(e.Name) + "\x1f" + kind + "\x1f" + strings.Join(enrol, "\x1e"))
			}
		}
		if date != "" {
			w.WriteString("\t" + date)
		}
		w.WriteByte('\n')
		for _, c := range p.Cycles {
			lts := ""
			switch {
			case !c.LTSFrom.IsZero():
				lts = c.LTSFrom.String()
			case c.LTS:
				lts = "true"
			}
			w.WriteString("Y\t" + esc(c.Name) + "\t" + esc(c.Label) + "\t" + esc(c.Codename) + "\t" + c.ReleaseDate.String() + "\t" +
				msText(c.EOAS) + "\t" + msText(c.EOL) + "\t" + msText(c.EOES) + "\t" + lts + "\t" + esc(c.Latest) + "\t" + c.LatestDate.String() + "\t")
			for i, r := range c.Releases {
				if i > 0 {
					w.WriteByte(0x1e)
				}
				w.WriteString(esc(r.Version) + "\x1f" + r.Date.String())
			}
			w.WriteByte('\n')
		}
	}
}

// WriteCompact writes the catalog in the compact form (see codec.go).
func (c *Catalog) WriteCompact(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(compactMagic + "\n")
	bw.WriteString("source\t" + esc(c.info.Source) + "\n")
	bw.WriteString("commit\t" + esc(c.info.Commit) + "\n")
	bw.WriteString("license\t" + esc(c.info.License) + "\n")
	if !c.info.Date.IsZero() {
		bw.WriteString("date\t" + c.info.Date.String() + "\n")
	}
	writeProducts(bw, c.list, c.info.Date)
	return bw.Flush()
}

// contentHash is the catalog's content version: SHA-256 of the product
// lines of the compact form for a catalog dated base, 16 hex digits.
func contentHash(ps []*Product, base Date) string {
	h := sha256.New()
	bw := bufio.NewWriterSize(h, 64<<10)
	writeProducts(bw, ps, base)
	bw.Flush()
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// fastDate parses YYYY-MM-DD without the generality of time.Parse.
func fastDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("bad date %q", s)
	}
	n := func(a, b int) int {
		v := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, m, d := n(0, 4), n(5, 7), n(8, 10)
	if y < 0 || m < 1 || m > 12 || d < 1 || d > 31 {
		return Date{}, fmt.Errorf("bad date %q", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return Date{}, fmt.Errorf("bad date %q", s)
	}
	return Date{t}, nil
}

func msParse(s string) (Milestone, error) {
	switch s {
	case "":
		return Milestone{}, nil
	case "true":
		return Milestone{Set: true, Ended: true}, nil
	case "false":
		return Milestone{Set: true}, nil
	}
	d, err := fastDate(s)
	return Milestone{Set: true, Date: d, Ended: true}, err
}

// parseCompact decodes the compact form; the content hash is computed from
// the product lines as they are. It avoids per-line allocations: the default
// catalog is decoded at every server start.
func parseCompact(name string, data []byte) (*doc, string, error) {
	out := &doc{}
	var p *Product
	h := sha256.New()
	all := string(data)
	line := 0
	fail := func(err error) (*doc, string, error) {
		le := &LoadError{File: name, Line: line, Err: err}
		if p != nil {
			le.Product = p.ID
		}
		return nil, "", le
	}
	var fa [13]string
	for pos := 0; pos < len(all); {
		line++
		end := strings.IndexByte(all[pos:], '\n')
		next := len(all)
		if end < 0 {
			end = len(all)
		} else {
			end += pos
			next = end + 1
		}
		l := all[pos:end]
		lineBytes := data[pos:next]
		pos = next
		if line == 1 {
			if l != compactMagic {
				return fail(errors.New("not a compact catalog"))
			}
			continue
		}
		f := fa[:0]
		for {
			i := strings.IndexByte(l, '\t')
			if len(f) == len(fa)-1 || i < 0 {
				f = append(f, l)
				break
			}
			f = append(f, l[:i])
			l = l[i+1:]
		}
		for k := range f {
			u, err := unesc(f[k])
			if err != nil {
				return fail(fmt.Errorf("field %d: %w", k+1, err))
			}
			f[k] = u
		}
		switch f[0] {
		case "source", "commit", "license", "date":
			if len(f) != 2 {
				return fail(errors.New("want 2 fields"))
			}
			switch f[0] {
			case "source":
				out.info.Source = f[1]
			case "commit":
				out.info.Commit = f[1]
			case "date":
				d, err := fastDate(f[1])
				if err != nil {
					return fail(err)
				}
				out.info.Date = d
			default:
				out.info.License = f[1]
			}
			continue
		case "P":
			if len(f) < 7 || len(f) > 9 {
				return fail(fmt.Errorf("product line: want 7 to 9 fields, got %d", len(f)))
			}
			p = &Product{ID: f[1], Label: f[2], Category: f[3], Scheme: Scheme(f[4]), Source: name}
			if len(f) > 7 && f[7] != "" {
				parts := strings.SplitN(f[7], "\x1f", 3)
				if len(parts) != 3 || (parts[1] != "free" && parts[1] != "paid") {
					return fail(errors.New("bad extended-support programme"))
				}
				pname, err := unesc(parts[0])
				if err != nil {
					return fail(err)
				}
				e := &Programme{Name: pname, Free: parts[1] == "free"}
				if parts[2] != "" {
					for _, id := range strings.Split(parts[2], "\x1e") {
						u, err := unesc(id)
						if err != nil {
							return fail(err)
						}
						e.Enrolment = append(e.Enrolment, u)
					}
				}
				p.Extended = e
			}
			if len(f) > 8 {
				d, err := fastDate(f[8])
				if err != nil {
					return fail(err)
				}
				p.Date = d
			}
			if !KnownScheme(p.Scheme) {
				return fail(fmt.Errorf("unknown scheme %q", f[4]))
			}
			if f[5] != "" {
				p.Aliases = strings.Split(f[5], "\x1e")
			}
			if f[6] != "" {
				for _, it := range strings.Split(f[6], "\x1e") {
					t, id, ok := strings.Cut(it, "\x1f")
					if !ok {
						return fail(errors.New("bad identifier"))
					}
					p.Identifiers = append(p.Identifiers, Identifier{Type: t, ID: id})
				}
			}
			out.products = append(out.products, p)
		case "Y":
			if p == nil {
				return fail(errors.New("cycle before any product"))
			}
			if len(f) != 12 {
				return fail(fmt.Errorf("cycle line: want 12 fields, got %d", len(f)))
			}
			c := &Cycle{Name: f[1], Label: f[2], Codename: f[3], Latest: f[9]}
			var err error
			if c.ReleaseDate, err = fastDate(f[4]); err != nil {
				return fail(err)
			}
			if c.EOAS, err = msParse(f[5]); err != nil {
				return fail(err)
			}
			if c.EOL, err = msParse(f[6]); err != nil {
				return fail(err)
			}
			if c.EOES, err = msParse(f[7]); err != nil {
				return fail(err)
			}
			switch f[8] {
			case "":
			case "true":
				c.LTS = true
			default:
				if c.LTSFrom, err = fastDate(f[8]); err != nil {
					return fail(err)
				}
				c.LTS = true
			}
			if c.LatestDate, err = fastDate(f[10]); err != nil {
				return fail(err)
			}
			if rs := f[11]; rs != "" {
				c.Releases = make([]Release, 0, strings.Count(rs, "\x1e")+1)
				for rs != "" {
					it := rs
					if i := strings.IndexByte(rs, 0x1e); i >= 0 {
						it, rs = rs[:i], rs[i+1:]
					} else {
						rs = ""
					}
					v, d, _ := strings.Cut(it, "\x1f")
					dt, err := fastDate(d)
					if err != nil {
						return fail(err)
					}
					c.Releases = append(c.Releases, Release{Version: v, Date: dt})
				}
			}
			p.Cycles = append(p.Cycles, c)
		default:
			return fail(fmt.Errorf("unknown line kind %q", f[0]))
		}
		h.Write(lineBytes)
		if lineBytes[len(lineBytes)-1] != '\n' {
			h.Write([]byte{'\n'})
		}
	}
	return out, hex.EncodeToString(h.Sum(nil))[:16], nil
}

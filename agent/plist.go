package agent

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// maxPlistBytes bounds a property list the agent will read.
const maxPlistBytes = 8 << 20

// parsePlist parses an Apple property list, XML or binary (bplist00), into
// map[string]any, []any, string, int64, uint64, float64, bool, time.Time and
// []byte values. Every offset and length in a binary plist is checked, so a
// corrupt file is an error, never a panic.
func parsePlist(r io.Reader) (any, error) {
	b, err := readAllLimited(r, maxPlistBytes)
	if err != nil {
		return nil, fmt.Errorf("plist: %w", err)
	}
	if bytes.HasPrefix(b, []byte("bplist00")) {
		return parseBinaryPlist(b)
	}
	return parseXMLPlist(b)
}

// plistString returns dict[key] when it is a string.
func plistString(dict map[string]any, key string) string {
	s, _ := dict[key].(string)
	return s
}

// --- XML ---

func parseXMLPlist(b []byte) (any, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return nil, errors.New("plist: no <plist> element")
			}
			return nil, fmt.Errorf("plist: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "plist" {
				return nil, fmt.Errorf("plist: root element <%s>, want <plist>", se.Name.Local)
			}
			v, end, err := xmlValue(d, 0)
			if err != nil {
				return nil, err
			}
			if end {
				return nil, errors.New("plist: empty <plist>")
			}
			return v, nil
		}
	}
}

// xmlValue reads the next value element; end is true when the enclosing
// element closed instead.
func xmlValue(d *xml.Decoder, depth int) (v any, end bool, err error) {
	if depth > 64 {
		return nil, false, errors.New("plist: nested too deeply")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, false, fmt.Errorf("plist: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil, true, nil
		case xml.StartElement:
			v, err := xmlElement(d, t, depth)
			return v, false, err
		}
	}
}

func xmlElement(d *xml.Decoder, se xml.StartElement, depth int) (any, error) {
	line, _ := d.InputPos()
	switch se.Name.Local {
	case "dict":
		m := make(map[string]any)
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, fmt.Errorf("plist: %w", err)
			}
			switch t := tok.(type) {
			case xml.EndElement:
				return m, nil
			case xml.StartElement:
				if t.Name.Local != "key" {
					return nil, fmt.Errorf("plist line %d: <%s> where a <key> was expected", line, t.Name.Local)
				}
				k, err := xmlText(d)
				if err != nil {
					return nil, err
				}
				v, end, err := xmlValue(d, depth+1)
				if err != nil {
					return nil, err
				}
				if end {
					return nil, fmt.Errorf("plist line %d: key %q has no value", line, k)
				}
				m[k] = v
			}
		}
	case "array":
		var a []any
		for {
			v, end, err := xmlValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			if end {
				return a, nil
			}
			a = append(a, v)
		}
	case "true", "false":
		if err := d.Skip(); err != nil {
			return nil, fmt.Errorf("plist: %w", err)
		}
		return se.Name.Local == "true", nil
	}
	s, err := xmlText(d)
	if err != nil {
		return nil, err
	}
	switch se.Name.Local {
	case "string", "key":
		return s, nil
	case "integer":
		s = strings.TrimSpace(s)
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i, nil
		}
		u, err := strconv.ParseUint(s, 0, 64)
		if err != nil {
			return nil, fmt.Errorf("plist line %d: bad <integer> %q", line, s)
		}
		return u, nil
	case "real":
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("plist line %d: bad <real> %q", line, s)
		}
		return f, nil
	case "date":
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("plist line %d: bad <date> %q", line, s)
		}
		return t, nil
	case "data":
		clean := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\t' || r == '\r' {
				return -1
			}
			return r
		}, s)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			return nil, fmt.Errorf("plist line %d: bad <data>: %w", line, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("plist line %d: unknown element <%s>", line, se.Name.Local)
}

// xmlText reads character data up to the end of the current element.
func xmlText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", fmt.Errorf("plist: %w", err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("plist: unexpected <%s> inside a value", t.Name.Local)
		}
	}
}

// --- binary (bplist00) ---

type bplist struct {
	b        []byte
	offsets  []uint64
	refSize  int
	visiting []bool
}

func parseBinaryPlist(b []byte) (any, error) {
	if len(b) < 8+32 {
		return nil, errors.New("bplist: too short")
	}
	tr := b[len(b)-32:]
	offSize, refSize := int(tr[6]), int(tr[7])
	num := binary.BigEndian.Uint64(tr[8:])
	top := binary.BigEndian.Uint64(tr[16:])
	tableOff := binary.BigEndian.Uint64(tr[24:])
	if offSize < 1 || offSize > 8 || refSize < 1 || refSize > 8 {
		return nil, fmt.Errorf("bplist: bad trailer sizes %d/%d", offSize, refSize)
	}
	limit := uint64(len(b) - 32)
	if num == 0 || num > limit || top >= num || tableOff < 8 || tableOff > limit || num*uint64(offSize) > limit-tableOff {
		return nil, errors.New("bplist: bad trailer")
	}
	p := &bplist{b: b[:limit], refSize: refSize, offsets: make([]uint64, num), visiting: make([]bool, num)}
	for i := range p.offsets {
		p.offsets[i] = readBE(b[tableOff+uint64(i*offSize):], offSize)
		if p.offsets[i] < 8 || p.offsets[i] >= tableOff {
			return nil, fmt.Errorf("bplist: object %d offset out of range", i)
		}
	}
	return p.object(top, 0)
}

func readBE(b []byte, n int) uint64 {
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// need returns b[off:off+n] or an error.
func (p *bplist) need(off, n uint64) ([]byte, error) {
	if off > uint64(len(p.b)) || n > uint64(len(p.b))-off {
		return nil, fmt.Errorf("bplist: object at %d runs past the end", off)
	}
	return p.b[off : off+n], nil
}

// count reads the length of a data/string/array/dict: the marker's low
// nibble, or an int object that follows when the nibble is 0xF.
func (p *bplist) count(off uint64, low byte) (n, start uint64, err error) {
	if low != 0xF {
		return uint64(low), off + 1, nil
	}
	h, err := p.need(off+1, 1)
	if err != nil {
		return 0, 0, err
	}
	if h[0]>>4 != 0x1 {
		return 0, 0, fmt.Errorf("bplist: bad length marker at %d", off+1)
	}
	size := uint64(1) << (h[0] & 0xF)
	if size > 8 {
		return 0, 0, fmt.Errorf("bplist: length too wide at %d", off+1)
	}
	v, err := p.need(off+2, size)
	if err != nil {
		return 0, 0, err
	}
	return readBE(v, int(size)), off + 2 + size, nil
}

func (p *bplist) object(ref uint64, depth int) (any, error) {
	if ref >= uint64(len(p.offsets)) {
		return nil, fmt.Errorf("bplist: reference %d out of range", ref)
	}
	if depth > 64 || p.visiting[ref] {
		return nil, errors.New("bplist: nested too deeply or cyclic")
	}
	p.visiting[ref] = true
	defer func() { p.visiting[ref] = false }()
	off := p.offsets[ref]
	m, err := p.need(off, 1)
	if err != nil {
		return nil, err
	}
	kind, low := m[0]>>4, m[0]&0xF
	switch kind {
	case 0x0:
		switch low {
		case 0x8:
			return false, nil
		case 0x9:
			return true, nil
		case 0x0:
			return nil, nil
		}
	case 0x1:
		size := uint64(1) << low
		if size > 16 {
			break
		}
		v, err := p.need(off+1, size)
		if err != nil {
			return nil, err
		}
		if size == 16 { // 128-bit: keep the low 64 bits
			return int64(binary.BigEndian.Uint64(v[8:])), nil
		}
		return int64(readBE(v, int(size))), nil
	case 0x2, 0x3:
		size := uint64(1) << low
		if kind == 0x3 {
			size = 8
		}
		v, err := p.need(off+1, size)
		if err != nil {
			return nil, err
		}
		var f float64
		switch size {
		case 4:
			f = float64(math.Float32frombits(binary.BigEndian.Uint32(v)))
		case 8:
			f = math.Float64frombits(binary.BigEndian.Uint64(v))
		default:
			return nil, fmt.Errorf("bplist: %d-byte real at %d", size, off)
		}
		if kind == 0x3 {
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e12 {
				return nil, fmt.Errorf("bplist: bad date at %d", off)
			}
			return time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(f * float64(time.Second))), nil
		}
		return f, nil
	case 0x4, 0x5:
		n, start, err := p.count(off, low)
		if err != nil {
			return nil, err
		}
		v, err := p.need(start, n)
		if err != nil {
			return nil, err
		}
		if kind == 0x4 {
			return bytes.Clone(v), nil
		}
		return string(v), nil
	case 0x6:
		n, start, err := p.count(off, low)
		if err != nil {
			return nil, err
		}
		if n > uint64(len(p.b)) {
			return nil, fmt.Errorf("bplist: string at %d runs past the end", off)
		}
		v, err := p.need(start, 2*n)
		if err != nil {
			return nil, err
		}
		u := make([]uint16, n)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(v[2*i:])
		}
		return string(utf16.Decode(u)), nil
	case 0x8:
		v, err := p.need(off+1, uint64(low)+1)
		if err != nil {
			return nil, err
		}
		return readBE(v, len(v)), nil
	case 0xA, 0xD:
		n, start, err := p.count(off, low)
		if err != nil {
			return nil, err
		}
		width := n
		if kind == 0xD {
			width = 2 * n
		}
		if width > uint64(len(p.b)) {
			return nil, fmt.Errorf("bplist: container at %d runs past the end", off)
		}
		refs, err := p.need(start, width*uint64(p.refSize))
		if err != nil {
			return nil, err
		}
		ref := func(i uint64) uint64 { return readBE(refs[i*uint64(p.refSize):], p.refSize) }
		if kind == 0xA {
			a := make([]any, 0, n)
			for i := uint64(0); i < n; i++ {
				v, err := p.object(ref(i), depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			return a, nil
		}
		d := make(map[string]any, n)
		for i := uint64(0); i < n; i++ {
			k, err := p.object(ref(i), depth+1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("bplist: dict key at %d is not a string", off)
			}
			v, err := p.object(ref(n+i), depth+1)
			if err != nil {
				return nil, err
			}
			d[ks] = v
		}
		return d, nil
	}
	return nil, fmt.Errorf("bplist: unknown object marker 0x%02x at %d", m[0], off)
}

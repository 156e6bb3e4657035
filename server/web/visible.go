package web

import (
	"bytes"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// invisible reports whether r would change or hide how the text around it
// reads without showing itself: bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069), zero-width and direction marks
// (U+200B-U+200F), the byte-order mark (U+FEFF) and every other format
// character (Cf), control characters other than tab and newlines, line
// and paragraph separators, spaces other than the ASCII one, and the
// blank fillers (Hangul, the combining grapheme joiner). An agent reports
// hostnames, product names and versions; with these a hostname can read
// as another host's.
func invisible(r rune) bool {
	switch {
	case r < 0x80:
		return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Cc, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r),
		unicode.Is(unicode.Zs, r):
		return true
	}
	switch r {
	case 0x034f, 0x115f, 0x1160, 0x3164, 0xffa0, utf8.RuneError:
		return true
	}
	return false
}

// Visible returns s with every invisible character (see invisible) written
// as its escape, \u202e (\U000e0001 past the BMP), so it shows where it is.
// An invalid UTF-8 byte shows as \ufffd. Everything else is unchanged.
func Visible(s string) string {
	return string(visibleBytes([]byte(s)))
}

// visibleBytes is Visible on a byte slice; b itself is returned when it
// holds nothing to escape.
func visibleBytes(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < 0x80 && !invisible(rune(b[i])) {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if invisible(r) {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	var out bytes.Buffer
	out.Grow(len(b) + 64)
	out.Write(b[:i])
	for i < len(b) {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case !invisible(r):
			out.Write(b[i : i+n])
		case r > 0xffff:
			fmt.Fprintf(&out, `\U%08x`, r)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		i += n
	}
	return out.Bytes()
}

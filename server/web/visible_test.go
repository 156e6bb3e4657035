package web

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "web-0001.corp.example", "web-0001.corp.example"},
		{"accents and CJK stay", "café-サーバ", "café-サーバ"},
		{"tab and newline stay", "a\tb\nc", "a\tb\nc"},
		{"right-to-left override", "\u202e1000-bew", `\u202e1000-bew`},
		{"every override and embedding", "\u202a\u202b\u202c\u202d\u202e", `\u202a\u202b\u202c\u202d\u202e`},
		{"isolates", "\u2066a\u2067b\u2068c\u2069", `\u2066a\u2067b\u2068c\u2069`},
		{"zero-width and marks", "open\u200bssl\u200c\u200d\u200e\u200f", `open\u200bssl\u200c\u200d\u200e\u200f`},
		{"byte-order mark", "\ufeff3.0.1", `\ufeff3.0.1`},
		{"other format characters", "a\u00adb\u2060c\u061cd", `a\u00adb\u2060c\u061cd`},
		{"control characters", "a\x00b\x1bc\x7fd\u0085e", `a\u0000b\u001bc\u007fd\u0085e`},
		{"odd spaces", "web\u00a01\u2002x\u3000y", `web\u00a01\u2002x\u3000y`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"fillers", "a\u3164b\u115fc", `a\u3164b\u115fc`},
		{"tag characters", "x\U000E0041", `x\U000e0041`},
		{"invalid UTF-8", "a\xffb", `a\ufffdb`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Visible(tc.in); got != tc.want {
				t.Errorf("Visible(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzVisible: the output is valid UTF-8 without an invisible character,
// and text without one is returned unchanged.
func FuzzVisible(f *testing.F) {
	for _, s := range []string{"web1", "\u202eexe.doc", "a\u200bb", "\xff", "\U000E0001", "x\u2066y\u2069"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Visible(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Visible(%q) = %q: not valid UTF-8", s, out)
		}
		for _, r := range out {
			if invisible(r) {
				t.Fatalf("Visible(%q) = %q keeps %U", s, out, r)
			}
		}
		clean := utf8.ValidString(s) && !strings.ContainsFunc(s, invisible)
		if clean && out != s {
			t.Fatalf("Visible(%q) = %q: changed clean text", s, out)
		}
	})
}

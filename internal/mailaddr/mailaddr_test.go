package mailaddr

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"a@example.com", "a@example.com", ""},
		{"Ops@Mail.Example.COM", "Ops@mail.example.com", ""},
		{"a@bücher.example", "a@bücher.example", ""},
		{"a@xn--bcher-kva.example", "a@xn--bcher-kva.example", ""},
		{"a@localhost", "", "has no dot"},
		{"a@corp", "", "has no dot"},
		{"a@example.com.", "", "ending in a dot"},
		{"a@[127.0.0.1]", "", "domain literal"},
		{"a@192.0.2.1", "", "IP address"},
		{"a@xn--zz.example", "", "IDNA"},
		{"a@ex--ample.com", "", "IDNA"},
		{"a@exa\u200dmple.com", "", "IDNA"},
		{"a@\u05d0\u05d1a.example", "", "IDNA"},
		{"a@" + strings.Repeat("a", 64) + ".example", "", "IDNA"},
		{"@example.com", "", "no local part"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Normalize(tc.in)
			if tc.err == "" {
				if err != nil || got != tc.want {
					t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Normalize(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
			}
		})
	}
}

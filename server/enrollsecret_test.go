package server

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
)

// TestEnrollSecretStrength: short, one-character, run and repeated-word
// secrets are refused with the setting and the fix named and the secret
// never repeated; random secrets of the documented recipes always pass.
func TestEnrollSecretStrength(t *testing.T) {
	for _, tc := range []struct {
		name, secret, want string // want "" = accepted
	}{
		{"fifteen characters", "x7Kp2mQ9vL4wR8n", "15 characters"},
		{"one character repeated", strings.Repeat("z", 32), "different characters"},
		{"few characters", "abababababababababbbaaaab", "different characters"},
		{"alphabet run", "abcdefghijklmnopqrstu", "run"},
		{"digit and letter run", "0123456789abcdefghij", "run"},
		{"backwards run", "zyxwvutsrqponmlkjih", "run"},
		{"keyboard run", "qwertyuiopasdfghjkl", "run"},
		{"word repeated", "Secret42Secret42Secret42", "repeats a 8-character"},
		{"word repeated, cut short", "hunter2!hunter2!hun", "repeats a 8-character"},
		{"word repeated ignoring case", "PassWordpassword", "repeats a 8-character"},
		{"the tests' secret", testSecret, ""},
		{"a passphrase", "correct horse battery staple", ""},
		{"openssl rand -base64 24", "hR0vJt7mXq2KcLw9ZsYe4NfBpUaDgT6i", ""},
		{"48 hex digits (make run, server package)", "3f9a0c17be52d84e6a1f0937c2d5b8e4a6071fd9c3b25e8a", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkEnrollSecretStrength(tc.secret)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkEnrollSecretStrength(%q) = %v, want accepted", tc.secret, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkEnrollSecretStrength(%q) accepted it, want an error naming %q", tc.secret, tc.want)
			}
			for _, w := range []string{tc.want, "enroll-secret", "EOLWATCH_ENROLL_SECRET", "enroll_secret", "openssl rand -base64 24"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	// The recipes the docs, installers and `make run` use always pass.
	for i := 0; i < 2000; i++ {
		b := make([]byte, 24)
		rand.Read(b)
		for _, s := range []string{base64.StdEncoding.EncodeToString(b), hex.EncodeToString(b)} {
			if err := checkEnrollSecretStrength(s); err != nil {
				t.Fatalf("random secret %q refused: %v", s, err)
			}
		}
	}
}

// TestCheckEnrollSecret: only the configured secret itself matches; a
// prefix, an extension, another case or nothing does not, and without a
// configured secret nothing does.
func TestCheckEnrollSecret(t *testing.T) {
	s := &Server{enrollHash: sha256.Sum256([]byte(testSecret)), enrollSet: true}
	for _, tc := range []struct {
		name, given string
		want        bool
	}{
		{"the secret", testSecret, true},
		{"a prefix", testSecret[:len(testSecret)-1], false},
		{"longer", testSecret + "x", false},
		{"other case", strings.ToUpper(testSecret), false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.checkEnrollSecret(tc.given); got != tc.want {
				t.Errorf("checkEnrollSecret(%q) = %v, want %v", tc.given, got, tc.want)
			}
		})
	}
	if (&Server{}).checkEnrollSecret("") {
		t.Error("a server without an enroll secret accepted the empty one")
	}
}

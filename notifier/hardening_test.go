package notifier

import (
	"errors"
	"net/http"
	"testing"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// TestParseEmailRefusesDomainLiterals: an address must name a mail domain,
// not an IP address (issue 13, item 7).
func TestParseEmailRefusesDomainLiterals(t *testing.T) {
	for _, in := range []string{"a@[127.0.0.1]", "a@[IPv6:::1]", "a@127.0.0.1", "a@[10.0.0.1]", "a@exa_mple.com", "a@-example.com",
		"a@example..com", "a@.example.com"} {
		t.Run(in, func(t *testing.T) {
			_, err := ParseEmail(in)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Field != "email" {
				t.Errorf("ParseEmail(%q) = %v, want an error naming email", in, err)
			}
		})
	}
	for in, want := range map[string]string{"Bob@Mail.Example.COM": "Bob@mail.example.com", "a@bücher.example": "a@bücher.example",
		"x@sub-domain.example.org": "x@sub-domain.example.org"} {
		if got, err := ParseEmail(in); err != nil || got != want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestPerAddressCapIgnoresCase: the confirmation cap per address counts
// Bomb@x, bOmb@x and BOMB@X as one mailbox (issue 13, item 7).
func TestPerAddressCapIgnoresCase(t *testing.T) {
	e := newEnv(t, Config{SubscribeRatePerIP: 100, SubscribeRatePerAddress: 2})
	e.do("POST", "/api/v1/groups", `{"name":"g","products":["nginx"],"events":["release"]}`, nil)
	for _, addr := range []string{"Bomb@x.example", "bOmb@x.example", "BOMB@X.EXAMPLE", "bomb@x.example"} {
		if c := e.do("POST", "/api/v1/subscriptions", `{"group":"g","email":"`+addr+`"}`, nil); c != http.StatusAccepted {
			t.Fatalf("subscribe %s: %d", addr, c)
		}
	}
	drain(t, e.svc)
	if n := len(e.mb.all()); n != 2 {
		t.Errorf("%d confirmation emails to one mailbox spelled four ways, want the per-address limit of 2", n)
	}
}

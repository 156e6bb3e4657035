// Package mailaddr decides which mail domains eolwatch accepts in the
// addresses people give it (subscribers, customer contacts, admins): a
// host name with at least one dot that is a valid internationalised
// domain name. Single-label names (localhost, corp), IP addresses and
// domain literals ([127.0.0.1]) are refused: no other mail server
// delivers to them, and they point mail at the server's own network.
package mailaddr

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// Domain checks a mail domain, already lower-cased, and says what is wrong
// with it in a phrase that follows the address ("has no dot ...").
//
// The domain must have at least two labels and be valid for registration
// under IDNA 2008 (UTS #46 without mapping): letters, digits and inner
// hyphens in every label (internationalised ones too), no "--" in the
// third and fourth place except in a punycode label ("xn--") that
// decodes, no invisible joiners, no label mixing directions, at most 63
// bytes a label and 253 in all once encoded.
func Domain(d string) error {
	if strings.HasPrefix(d, "[") {
		return errors.New("names a domain literal, not a mail domain")
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return errors.New("names an IP address, not a mail domain")
	}
	if !strings.Contains(strings.TrimSuffix(d, "."), ".") {
		return fmt.Errorf("has no dot in its domain %q: want a mail domain such as example.com (not a single name like localhost)", d)
	}
	if strings.HasSuffix(d, ".") {
		return fmt.Errorf("has a domain %q ending in a dot", d)
	}
	if _, err := idna.Registration.ToASCII(d); err != nil {
		return fmt.Errorf("has no valid domain %q (IDNA: %v)", d, err)
	}
	return nil
}

// Normalize checks a bare address local@domain (as net/mail parsed it)
// and returns it with its domain lower-cased.
func Normalize(addr string) (string, error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		return "", errors.New("has no local part and domain (name@example.com)")
	}
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if err := Domain(domain); err != nil {
		return "", err
	}
	return local + "@" + domain, nil
}

package notifier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// Resolver looks host names up; net.DefaultResolver implements it. Tests
// inject one (Config.Resolver).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// errNotAllowed is a webhook address refused at send time.
var errNotAllowed = errors.New("webhook address not allowed (loopback, link-local, private or unique-local; an admin may allow it with --webhook-allow)")

// internalNets are address ranges a webhook may not reach unless the
// admin allow-list names them, besides what netip classifies (loopback,
// private and unique-local, link-local, multicast, unspecified): "this
// network", carrier-grade NAT, IETF protocol assignments, benchmarking,
// reserved and broadcast IPv4; IPv4-compatible, site-local, discard-only
// and Teredo IPv6, and the local-use NAT64 prefix (RFC 8215), which only
// an organisation's own gateway translates.
var internalNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"), netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/96"), netip.MustParsePrefix("fec0::/10"), netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/32"), netip.MustParsePrefix("64:ff9b:1::/48"),
}

// Prefixes of IPv6 addresses that carry an IPv4 address a gateway
// connects to: NAT64's well-known prefix (the IPv4 address in the last 32
// bits, RFC 6052) and 6to4 (in the 32 bits after the prefix, RFC 3056).
var (
	nat64Net = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4   = netip.MustParsePrefix("2002::/16")
)

// internalAddr reports whether a is an address inside the server's own
// networks rather than on the internet, or an IPv6 address that a NAT64
// gateway or a 6to4 relay would turn into one.
func internalAddr(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || !a.IsValid() {
		return true
	}
	for _, n := range internalNets {
		if n.Contains(a) {
			return true
		}
	}
	b := a.As16()
	switch {
	case nat64Net.Contains(a):
		return internalAddr(netip.AddrFrom4([4]byte(b[12:16])))
	case sixTo4.Contains(a):
		return internalAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return false
}

// webhookGuard decides which addresses webhooks may reach: any public
// address, and internal ones the admin allow-list (Config.WebhookAllow)
// names by host name or by network.
type webhookGuard struct {
	resolver Resolver
	names    map[string]bool
	nets     []netip.Prefix
	timeout  time.Duration
}

// newWebhookGuard parses the allow-list: CIDRs, addresses and host names.
func newWebhookGuard(allow []string, r Resolver, timeout time.Duration) (*webhookGuard, error) {
	g := &webhookGuard{resolver: r, names: map[string]bool{}, timeout: timeout}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	for _, s := range allow {
		s = strings.ToLower(strings.TrimSpace(s))
		if p, err := netip.ParsePrefix(s); err == nil {
			g.nets = append(g.nets, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			g.nets = append(g.nets, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		if s == "" || !hostName(s) && s != "localhost" {
			return nil, fmt.Errorf("webhook-allow: %q is not a host name, an address or a CIDR", s)
		}
		g.names[s] = true
	}
	return g, nil
}

// allowed reports whether a webhook may connect to a.
func (g *webhookGuard) allowed(a netip.Addr) bool {
	if !internalAddr(a) {
		return true
	}
	a = a.Unmap()
	for _, n := range g.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// checkURL checks a webhook URL when a group is saved: its host, a
// literal address or every address its name resolves to, must be allowed.
func (g *webhookGuard) checkURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fault.InvalidField("webhook", fmt.Sprintf("%q is not an http(s) URL", raw))
	}
	host := strings.ToLower(u.Hostname())
	if g.names[host] {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if !g.allowed(a) {
			return fault.InvalidField("webhook", fmt.Sprintf("%s is an internal address (loopback, link-local, private or unique-local): "+
				"a webhook may reach it only when an admin allows it (--webhook-allow)", host))
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	ips, err := g.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fault.InvalidField("webhook", fmt.Sprintf("host %s does not resolve: %v", host, err))
	}
	for _, a := range ips {
		if !g.allowed(a) {
			return fault.InvalidField("webhook", fmt.Sprintf("host %s resolves to %s, an internal address (loopback, link-local, private or unique-local): "+
				"a webhook may reach it only when an admin allows it (--webhook-allow)", host, a))
		}
	}
	return nil
}

// client returns the HTTP client of webhook deliveries: no proxy from the
// environment, no redirects, and a dialer that resolves the host itself
// and connects only to allowed addresses, checked again on the address
// actually dialled (net.Dialer.Control), so a name that resolves
// elsewhere at send time than when it was saved (DNS rebinding) is caught.
func (g *webhookGuard) client(timeout time.Duration) *http.Client {
	tr := &http.Transport{Proxy: nil, DialContext: g.dial, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second}
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dial connects to an allowed address of addr's host.
func (g *webhookGuard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	byName := g.names[strings.ToLower(host)]
	var ips []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{a}
	} else if ips, err = g.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, err
	}
	d := &net.Dialer{Timeout: g.timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || (!byName && !g.allowed(ap.Addr())) {
			return errNotAllowed
		}
		return nil
	}}
	last := errNotAllowed
	for _, a := range ips {
		if !byName && !g.allowed(a) {
			continue
		}
		conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, fmt.Errorf("webhook %s: %w", host, last)
}

// hostName reports whether d is a host name: dot-separated labels of
// letters (internationalised ones too), digits and inner hyphens. IP
// addresses and domain literals ("[127.0.0.1]") are not.
func hostName(d string) bool {
	if _, err := netip.ParseAddr(d); err == nil {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if c != '-' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
				return false
			}
		}
	}
	return true
}

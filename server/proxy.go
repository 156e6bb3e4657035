package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxies are the reverse proxies (--trusted-proxies) whose
// X-Forwarded-For and X-Forwarded-Proto headers the server believes. From
// any other peer the headers are ignored: the peer's own address is the
// client and its connection says the scheme. The zero value trusts nobody.
type trustedProxies struct {
	nets []netip.Prefix
}

// parseTrustedProxies parses CIDRs ("10.0.0.0/8") and single addresses
// ("192.0.2.10", taken as /32 or /128).
func parseTrustedProxies(list []string) (trustedProxies, error) {
	var p trustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return p, fmt.Errorf("trusted-proxies: %q is not a CIDR (10.0.0.0/8) or an address", s)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		p.nets = append(p.nets, pfx.Masked())
	}
	return p, nil
}

// trusts reports whether a is one of the trusted proxies.
func (p trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// parseHostAddr reads an address with or without a port ("203.0.113.1",
// "203.0.113.1:80", "[2001:db8::1]:80", "2001:db8::1").
func parseHostAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	return a.Unmap(), err == nil
}

// clientIP is the request's client address: the peer's, or, when the peer
// is a trusted proxy, the last address in X-Forwarded-For that is not a
// trusted proxy (each proxy appends the address it received from, so
// entries left of the first untrusted one are the client's to forge). An
// unreadable entry stops the walk at the last trusted hop.
func (p trustedProxies) clientIP(r *http.Request) string {
	peer, ok := parseHostAddr(r.RemoteAddr)
	if !ok {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return r.RemoteAddr
		}
		return host
	}
	if !p.trusts(peer) {
		return peer.String()
	}
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(h, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHostAddr(hops[i])
		if !ok {
			break
		}
		client = a
		if !p.trusts(a) {
			break
		}
	}
	return client.String()
}

// scheme is the scheme the client used: https over TLS, or when a trusted
// proxy says so in X-Forwarded-Proto; else http.
func (p trustedProxies) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if peer, ok := parseHostAddr(r.RemoteAddr); ok && p.trusts(peer) {
		proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		if strings.EqualFold(strings.TrimSpace(proto), "https") {
			return "https"
		}
	}
	return "http"
}

package server

import "net"

// clientIP is the address part of a request's remote address: the key of
// the per-address limits (wrong enroll secrets).
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

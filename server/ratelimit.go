package server

import (
	"net"
	"sync"
	"time"
)

// failLimiter counts failures per client address in a fixed window, so a
// guessed enroll secret cannot be brute-forced from one address.
type failLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string]*failCount
	now    func() time.Time
}

type failCount struct {
	n     int
	start time.Time
}

func newFailLimiter(max int, window time.Duration) *failLimiter {
	return &failLimiter{max: max, window: window, seen: map[string]*failCount{}, now: time.Now}
}

func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// blocked reports whether addr has used up its failures in the current window.
func (l *failLimiter) blocked(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.seen[addr]
	if !ok {
		return false
	}
	if l.now().Sub(c.start) > l.window {
		delete(l.seen, addr)
		return false
	}
	return c.n >= l.max
}

// fail records a failure from addr.
func (l *failLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.seen) > 100000 { // bound memory under a spray of addresses
		for k, c := range l.seen {
			if now.Sub(c.start) > l.window {
				delete(l.seen, k)
			}
		}
	}
	c, ok := l.seen[addr]
	if !ok || now.Sub(c.start) > l.window {
		l.seen[addr] = &failCount{n: 1, start: now}
		return
	}
	c.n++
}

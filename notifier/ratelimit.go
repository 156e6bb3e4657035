package notifier

import (
	"sync"
	"time"
)

// rateLimiter allows at most n events per key in each fixed window. It
// forgets keys whose window has passed, so memory stays bounded by the
// number of keys seen in one window.
type rateLimiter struct {
	n      int
	window time.Duration
	mu     sync.Mutex
	seen   map[string]*rlEntry
	swept  time.Time
}

type rlEntry struct {
	start time.Time
	count int
}

func newRateLimiter(n int, window time.Duration) *rateLimiter {
	return &rateLimiter{n: n, window: window, seen: map[string]*rlEntry{}}
}

// allow records one event for key at now and reports whether it is within the limit.
func (l *rateLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > l.window {
		for k, e := range l.seen {
			if now.Sub(e.start) >= l.window {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	e := l.seen[key]
	if e == nil || now.Sub(e.start) >= l.window {
		e = &rlEntry{start: now}
		l.seen[key] = e
	}
	e.count++
	return e.count <= l.n
}

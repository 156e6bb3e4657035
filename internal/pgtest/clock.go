package pgtest

import (
	"sync"
	"time"
)

// Clock is a settable clock for the tests of time-windowed rows (job
// leases, rate-limit windows), often of several servers on one database
// (OpenShared): each server's leases or limits read it, and the test moves
// it on for all of them at once. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass c.Now where a clock func is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Package intake reads large request bodies from untrusted senders (agent
// reports, SBOM uploads) within limits that hold while the body is read:
// bytes on the wire, bytes after gzip decompression, and a process-wide
// Budget of bytes in flight shared by every such body, so that N concurrent
// worst-case bodies cannot exceed it. Parsers stream from a Body and charge
// the memory they keep per element (Body.Charge); the budget comes back when
// the Body is closed.
package intake

import (
	"context"
	"sync"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// ErrBusy is returned when the budget stayed spent for longer than its
// wait: the server answers 503 and the sender retries later.
var ErrBusy error = &fault.Error{Code: fault.Unavailable, Msg: "server busy: too many report bytes in flight; retry later"}

// ErrOverBudget is returned when one body alone would hold more than the
// whole budget (a configuration whose budget is smaller than one body's
// limits): it could never fit, so it does not wait.
var ErrOverBudget error = &fault.Error{Code: fault.TooLarge, Msg: "body larger than the server's whole report budget"}

// Budget is a semaphore of bytes: the memory that bodies being read and
// processed may hold at once. Safe for concurrent use. A nil *Budget
// charges nothing.
type Budget struct {
	total int64
	wait  time.Duration

	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed (and replaced) whenever bytes come back
}

// NewBudget returns a budget of total bytes. A charge that does not fit
// waits up to wait for other bodies to give bytes back, then fails with
// ErrBusy.
func NewBudget(total int64, wait time.Duration) *Budget {
	return &Budget{total: total, wait: wait, freed: make(chan struct{})}
}

// Total is the budget's size in bytes.
func (b *Budget) Total() int64 {
	if b == nil {
		return 0
	}
	return b.total
}

// InUse is how many bytes are charged now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// acquire takes n bytes, waiting up to the budget's wait (or until ctx
// ends) for them to be free.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return ErrOverBudget
	}
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-freed:
		case <-timeout:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release gives n bytes back and wakes the waiters.
func (b *Budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

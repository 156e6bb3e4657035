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
	"slices"
	"sync"
	"sync/atomic"
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
//
// Bodies take bytes as they read, so several can each hold part of the
// budget and all wait for more: none could finish, and each would wait out
// its wait in turn. When every body holding bytes is waiting, the one
// holding least (the newest on a tie) fails at once with ErrBusy; once it
// gives its bytes back the others go on.
type Budget struct {
	total int64
	wait  time.Duration

	mu      sync.Mutex
	used    int64
	holders int           // bodies holding bytes
	waiting []*Body       // bodies waiting for bytes
	freed   chan struct{} // closed (and replaced) whenever bytes come back
	seq     atomic.Uint64 // the last body's number
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

// acquire takes n bytes for body, waiting up to the budget's wait (or
// until ctx ends, or until the body is chosen to break a deadlock) for
// them to be free.
func (b *Budget) acquire(ctx context.Context, body *Body, n int64) error {
	if n > b.total {
		return ErrOverBudget
	}
	var timeout <-chan time.Time
	for {
		b.mu.Lock()
		if body.aborted {
			b.mu.Unlock()
			return ErrBusy
		}
		if b.used+n <= b.total {
			b.used += n
			if body.held == 0 {
				b.holders++
			}
			body.held += n
			b.mu.Unlock()
			return nil
		}
		b.waiting = append(b.waiting, body)
		b.breakDeadlock()
		freed, abort := b.freed, body.abort
		b.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(b.wait)
			defer t.Stop()
			timeout = t.C
		}
		var err error
		select {
		case <-freed:
		case <-abort:
			err = ErrBusy
		case <-timeout:
			err = ErrBusy
		case <-ctx.Done():
			err = ctx.Err()
		}
		b.mu.Lock()
		b.waiting = slices.DeleteFunc(b.waiting, func(w *Body) bool { return w == body })
		b.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// breakDeadlock aborts one waiting body when every body holding bytes
// waits: the one holding least, the newest on a tie. A body already
// aborted is about to give its bytes back and counts as not waiting. b.mu
// is held.
func (b *Budget) breakDeadlock() {
	var victim *Body
	stuck := 0
	for _, w := range b.waiting {
		if w.held == 0 {
			continue
		}
		if w.aborted {
			return
		}
		stuck++
		if victim == nil || w.held < victim.held || (w.held == victim.held && w.seq > victim.seq) {
			victim = w
		}
	}
	if victim != nil && stuck == b.holders {
		victim.aborted = true
		close(victim.abort)
	}
}

// release gives body's bytes back and wakes the waiters.
func (b *Budget) release(body *Body) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if body.held == 0 {
		return
	}
	b.used -= body.held
	body.held = 0
	b.holders--
	close(b.freed)
	b.freed = make(chan struct{})
}

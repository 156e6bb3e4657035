package notifier

import (
	"context"
	"sync"
	"time"
)

// lease keeps a claim's lease alive while the claim is being worked on:
// every third of LeaseDuration it moves the claimed rows' lease_until to
// LeaseDuration from now. An instance that dies stops renewing, so its rows
// are claimable by any instance at most LeaseDuration (45 s by default)
// after its last renewal, while a slow batch of a live instance (a mail
// server answering slowly) keeps its rows however long it takes.
type lease struct {
	s     *Service
	renew func(ctx context.Context, until time.Time) (int64, error)

	mu     sync.Mutex
	until  time.Time
	failed bool

	stop chan struct{}
	done chan struct{}
}

// holdLease starts renewing a claim whose lease runs until until; renew
// moves the claim's rows' lease to a new time. Call end when the claim's
// work is done.
func (s *Service) holdLease(until time.Time, renew func(ctx context.Context, until time.Time) (int64, error)) *lease {
	l := &lease{s: s, renew: renew, until: until, stop: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

func (l *lease) run() {
	defer close(l.done)
	t := time.NewTicker(l.s.cfg.LeaseDuration / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.renewNow(context.Background())
		}
	}
}

// renewNow moves the lease to LeaseDuration from now.
func (l *lease) renewNow(ctx context.Context) {
	until := l.s.now().Add(l.s.cfg.LeaseDuration)
	ctx, cancel := context.WithTimeout(ctx, l.s.cfg.LeaseDuration/3)
	defer cancel()
	_, err := l.renew(ctx, until)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = true
		l.s.log.Error("lease renewal failed: stopping this batch before its lease can lapse", "err", err)
		return
	}
	l.until, l.failed = until, false
}

// ok reports whether the lease is safely held: its last renewal worked and
// at least a third of LeaseDuration is left. Work on the claim stops (and
// gives back what it did not start) once it is not.
func (l *lease) ok() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.failed && l.s.now().Add(l.s.cfg.LeaseDuration/3).Before(l.until)
}

// end stops renewing.
func (l *lease) end() {
	close(l.stop)
	<-l.done
}

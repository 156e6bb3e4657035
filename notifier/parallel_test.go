package notifier

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// TestInstancesDeliverInParallel: three notifier instances on one database
// (each with its own connection pools, as three servers have), each
// delivering to its own mail server, send 240 queued messages at once in
// claims of 20: every message arrives exactly once, and the instances
// share the work.
func TestInstancesDeliverInParallel(t *testing.T) {
	w, r, path := openTestDB(t)
	const instances, messages = 3, 240
	boxes := make([]*mailbox, instances)
	svcs := make([]*Service, instances)
	for i := range instances {
		// A mail server taking a few milliseconds a message, so that the
		// instances' batches overlap.
		boxes[i] = &mailbox{onData: func(int, received) error { time.Sleep(3 * time.Millisecond); return nil }}
		srv := startSMTP(t, boxes[i], "", nil, false)
		iw, ir := w, r
		if i > 0 {
			iw, ir = openDBFile(t, path)
		}
		svcs[i] = newTestService(t, iw, ir, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone, BatchSize: 20,
			InstanceID: fmt.Sprint("instance-", i), PublicURL: "https://eolwatch.example"})
	}
	ctx := context.Background()
	queueContractMail(t, svcs[0], messages)
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i, s := range svcs {
		wg.Go(func() {
			<-start
			// Deliver until the outbox has nothing pending (a message
			// another instance holds stays pending until it is sent).
			for deadline := time.Now().Add(time.Minute); ; {
				n, err := s.SendPending(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				if n > 0 {
					continue
				}
				c, err := s.OutboxCount(ctx)
				if err != nil {
					errs[i] = err
					return
				}
				if c.Pending == 0 {
					return
				}
				if time.Now().After(deadline) {
					errs[i] = fmt.Errorf("%d messages still pending after a minute", c.Pending)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	close(start)
	wg.Wait()
	got := map[string]int{}
	sharing := 0
	for i, mb := range boxes {
		if errs[i] != nil {
			t.Errorf("instance %d: %v", i, errs[i])
		}
		msgs := mb.all()
		if len(msgs) > 0 {
			sharing++
		}
		t.Logf("instance %d sent %d messages", i, len(msgs))
		for _, m := range msgs {
			got[m.To[0]]++
		}
	}
	if sharing < 2 {
		t.Errorf("%d of %d instances sent mail: they did not deliver in parallel", sharing, instances)
	}
	for k := range messages {
		if a := fmt.Sprintf("r%03d@example.com", k); got[a] != 1 {
			t.Errorf("%s received %d messages, want 1", a, got[a])
		}
	}
	if len(got) != messages {
		t.Errorf("%d recipients got mail, want %d", len(got), messages)
	}
	if c, err := svcs[1].OutboxCount(ctx); err != nil || c.Sent != messages || c.Pending != 0 {
		t.Errorf("outbox counts %+v (%v), want %d sent and none pending", c, err, messages)
	}
}

// queueContractMail queues n contract notices, to r000@example.com and on.
func queueContractMail(t *testing.T, s *Service, n int) {
	t.Helper()
	for k := 0; k*60 < n; k++ {
		m := events.DirectMail{Kind: events.KindContract, Key: fmt.Sprint("contract:c", k),
			Contract: &events.ContractNotice{Customer: fmt.Sprint("Customer ", k), Tier: "Standard", End: "2026-05-01", DaysLeft: 60}}
		for j := k * 60; j < min(n, (k+1)*60); j++ {
			m.To = append(m.To, fmt.Sprintf("r%03d@example.com", j))
		}
		if added, err := s.QueueDirect(context.Background(), m); err != nil || added != len(m.To) {
			t.Fatalf("QueueDirect = %d, %v; want %d", added, err, len(m.To))
		}
	}
}

// TestClaimTakesOneBatch: a claim leases at most BatchSize messages, so
// the rest stay for the other servers (a PostgreSQL plan that runs the
// inner SELECT ... LIMIT again for every row would lease them all).
func TestClaimTakesOneBatch(t *testing.T) {
	w, r, _ := openTestDB(t)
	mb := &mailbox{}
	srv := startSMTP(t, mb, "", nil, false)
	s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone, BatchSize: 20, PublicURL: "https://eolwatch.example"})
	queueContractMail(t, s, 120)
	ctx := context.Background()
	for round := 1; round <= 6; round++ {
		if n, err := s.SendPending(ctx); err != nil || n != 20 {
			t.Fatalf("SendPending round %d = %d, %v; want a batch of 20", round, n, err)
		}
		if c, err := s.OutboxCount(ctx); err != nil || c.Sent != 20*round || c.Pending != 120-20*round {
			t.Fatalf("after round %d: outbox %+v (%v); want %d sent", round, c, err, 20*round)
		}
	}
	if n, err := s.SendPending(ctx); err != nil || n != 0 {
		t.Errorf("SendPending after the last batch = %d, %v; want 0", n, err)
	}
}

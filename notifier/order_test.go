package notifier

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
)

// TestEventIDsFollowCommitOrder: while one transaction holds an uncommitted
// event, no other transaction can commit an event with a higher id (the
// fan-out reads events past a cursor id, so such an event would move the
// cursor over the uncommitted one and it would never be sent). SQLite's
// single writer gives this; on PostgreSQL, servers write events at once
// and the notifier_events trigger's advisory lock must give it.
func TestEventIDsFollowCommitOrder(t *testing.T) {
	w, r, _ := openTestDB(t)
	ctx := context.Background()
	ev := func(v string) events.Event {
		return events.Event{Kind: events.KindRelease, Product: "python", Cycle: "3.12", Version: v}
	}
	s := newTestService(t, w, r, Config{})
	first, err := w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	if err := events.Enqueue(ctx, first, ev("3.12.1")); err != nil {
		t.Fatal(err)
	}
	// A second writer (another server) enqueues and commits meanwhile.
	second := make(chan error, 1)
	go func() {
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			second <- err
			return
		}
		defer tx.Rollback()
		if err := events.Enqueue(ctx, tx, ev("3.12.2")); err != nil {
			second <- err
			return
		}
		second <- tx.Commit()
	}()
	select {
	case err := <-second:
		t.Fatalf("a second transaction committed an event (err %v) while the first held an uncommitted one; visible now: %v",
			err, readEvents(t, r))
	case <-time.After(400 * time.Millisecond):
	}
	if evs := readEvents(t, r); len(evs) != 0 {
		t.Fatalf("events visible before the first commit: %v", evs)
	}
	// Another server's fan-out finds nothing to consume, so it skips
	// nothing (on SQLite it would wait for the one writer connection).
	if engine == sqldb.Postgres {
		if n, err := s.ProcessEvents(ctx); err != nil || n != 0 {
			t.Fatalf("ProcessEvents before the first commit = %d, %v; want 0", n, err)
		}
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-second:
		if err != nil {
			t.Fatalf("second transaction: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second transaction never committed")
	}
	evs := readEvents(t, r)
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.payload)
	}
	if evs[0].id >= evs[1].id || !strings.Contains(got[0], "3.12.1") || !strings.Contains(got[1], "3.12.2") {
		t.Errorf("events by id: %v; want 3.12.1 (committed first) before 3.12.2", got)
	}
	if n, err := s.ProcessEvents(ctx); err != nil || n != 2 {
		t.Errorf("ProcessEvents after both commits = %d, %v; want both events", n, err)
	}
}

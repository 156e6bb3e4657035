package notifier

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestInsertOutboxMany: a fan-out's messages are queued in their order
// (PostgreSQL: several array statements), and a message whose dedupe key
// is queued already is skipped, the queued one untouched.
func TestInsertOutboxMany(t *testing.T) {
	w, r, _ := openTestDB(t)
	s := newTestService(t, w, r, Config{})
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	var body int64
	err := s.db.inTx(ctx, "test", func(tx *storeTx) error {
		var err error
		if body, err = tx.insertBody(ctx, "release", msgParts{Subject: "s", Text: "t", HTML: "h"}, now); err != nil {
			return err
		}
		return tx.insertOutbox(ctx, queued{Key: "k-0100", Kind: "release", To: "First@Example.com", BodyID: body, MessageID: "<first@x>"}, now)
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*outboxChunk + 3
	var qs []queued
	for i := range n {
		qs = append(qs, queued{Key: fmt.Sprintf("k-%04d", i), SubID: int64(i % 2), Kind: "release", To: fmt.Sprintf("U%04d@Example.com", i),
			Group: "g", Token: "tok", BodyID: body, ListHeaders: i%3 == 0, MessageID: fmt.Sprintf("<%d@x>", i)})
	}
	if err := s.db.inTx(ctx, "test", func(tx *storeTx) error { return tx.insertOutboxMany(ctx, qs, now) }); err != nil {
		t.Fatal(err)
	}
	rows, err := r.Query(`SELECT id, dedupe_key, COALESCE(subscription_id, 0), recipient, recipient_key, list_headers, message_id FROM notifier_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i, lastID := -1, int64(0)
	for rows.Next() {
		var id, sub, list int64
		var key, to, toKey, msgID string
		if err := rows.Scan(&id, &key, &sub, &to, &toKey, &list, &msgID); err != nil {
			t.Fatal(err)
		}
		if id <= lastID {
			t.Fatalf("ids out of order: %d after %d", id, lastID)
		}
		lastID = id
		if i == -1 {
			if key != "k-0100" || msgID != "<first@x>" || toKey != "first@example.com" {
				t.Errorf("the row queued first = %s %s %s, want it untouched", key, msgID, toKey)
			}
			i++
			continue
		}
		if i == 100 {
			i++ // its key was queued before: skipped
		}
		q := qs[i]
		wantList := int64(0)
		if q.ListHeaders {
			wantList = 1
		}
		if key != q.Key || sub != q.SubID || to != q.To || toKey != addressKey(q.To) || list != wantList || msgID != q.MessageID {
			t.Fatalf("row %d = %s %d %s %s %d %s, want %+v", i, key, sub, to, toKey, list, msgID, q)
		}
		i++
	}
	if i != n {
		t.Errorf("%d messages queued in order, want %d", i, n)
	}
}

// TestMarkSentGroupLostLease: marking several accepted messages at once
// marks those the claim still holds and reports the one whose lease was
// taken meanwhile, leaving it to its new holder.
func TestMarkSentGroupLostLease(t *testing.T) {
	w, r, _ := openTestDB(t)
	s := newTestService(t, w, r, Config{BatchSize: 10})
	queueContractMail(t, s, 3)
	ctx := context.Background()
	now := time.Now()
	rows, err := s.db.claimOutbox(ctx, "me", "token-1", now, now.Add(time.Minute), 10)
	if err != nil || len(rows) != 3 {
		t.Fatalf("claim = %d rows, %v", len(rows), err)
	}
	if _, err := w.Exec(`UPDATE notifier_outbox SET lease_token = 'token-2' WHERE id = ?`, rows[1].ID); err != nil {
		t.Fatal(err)
	}
	lost, err := s.db.markSent(ctx, "token-1", rows, now)
	if err != nil || len(lost) != 1 || lost[0].ID != rows[1].ID {
		t.Fatalf("markSent = lost %v, %v; want row %d", lost, err, rows[1].ID)
	}
	c, err := s.OutboxCount(ctx)
	if err != nil || c.Sent != 2 || c.Pending != 1 {
		t.Errorf("outbox %+v (%v), want 2 sent and the stolen one pending", c, err)
	}
}

package notifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/pgtest"
	"github.com/eolwatch/eolwatch/internal/sqldb"
	"github.com/eolwatch/eolwatch/notifier/events"
	"github.com/jackc/pgx/v5"
)

// eventRow is one notifier_events row.
type eventRow struct {
	id      int64
	kind    string
	product string
	payload string
	created int64
}

func readEvents(t testing.TB, db *sql.DB) []eventRow {
	t.Helper()
	rows, err := db.Query(`SELECT id, kind, product, payload, created FROM notifier_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var e eventRow
		if err := rows.Scan(&e.id, &e.kind, &e.product, &e.payload, &e.created); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// batchEvents builds n varied events: every kind, optional fields set and
// unset, text that encoding/json escapes, and a few times not in UTC.
func batchEvents(n int) []events.Event {
	created := time.Date(2025, 3, 4, 5, 6, 7, 891011000, time.UTC)
	east := time.FixedZone("east", 2*3600)
	evs := make([]events.Event, n)
	for i := range evs {
		ev := events.Event{Product: fmt.Sprintf("product%d", i%23), Created: created.Add(time.Duration(i) * time.Millisecond)}
		switch i % 3 {
		case 0:
			ev.Kind, ev.Version, ev.Link = events.KindRelease, fmt.Sprintf("1.%d.%d", i%7, i), "https://example.com/notes?a=1&b=<2>"
		case 1:
			ev.Kind, ev.Cycle, ev.Date, ev.Days = events.KindEOL, "3.12", "2026-10-31", []int{0, 7, 30, 90}[i%4]
		default:
			ev.Kind, ev.Version, ev.HostID, ev.Host = events.KindFleet, "2.4.58-1", fmt.Sprintf("uid%07d", i), fmt.Sprintf("host-%d", i)
			ev.From, ev.To, ev.Reason = "current", "eol", "cycle 2.4 ended \"today\""
		}
		switch i % 11 {
		case 4:
			ev.Reason = "naïve résumé\u2028line\tsep\x01" + string([]byte{0xff})
		case 5:
			ev.Created = time.Time{} // filled in by events.Enqueue
		case 6:
			ev.Created = ev.Created.In(east)
		}
		evs[i] = ev
	}
	return evs
}

// TestEnqueueLargeBatch writes 5,003 events in one call (many full
// multi-row chunks and a short last one) and checks every row: in order,
// kind and product columns, a payload byte for byte what json.Marshal
// writes, created in milliseconds, and that the payload decodes back to
// the event.
func TestEnqueueLargeBatch(t *testing.T) {
	w, _, _ := openTestDB(t)
	evs := batchEvents(5003)
	before := time.Now().UTC().Truncate(time.Millisecond)
	enqueue(t, w, evs...)
	after := time.Now().UTC()
	got := readEvents(t, w)
	if len(got) != len(evs) {
		t.Fatalf("rows = %d, want %d", len(got), len(evs))
	}
	for i, row := range got {
		ev := evs[i]
		if row.id != int64(i+1) {
			t.Fatalf("row %d: id = %d, want %d", i, row.id, i+1)
		}
		var back events.Event
		if err := json.Unmarshal([]byte(row.payload), &back); err != nil {
			t.Fatalf("row %d: payload %q: %v", i, row.payload, err)
		}
		if ev.Created.IsZero() {
			if back.Created.Before(before) || back.Created.After(after) || back.Created.Location() != time.UTC {
				t.Fatalf("row %d: created = %v, want the time of the call in UTC", i, back.Created)
			}
			ev.Created = back.Created
		}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if row.payload != string(want) {
			t.Fatalf("row %d: payload\n got %s\nwant %s", i, row.payload, want)
		}
		if row.kind != ev.Kind || row.product != ev.Product || row.created != ev.Created.UnixMilli() {
			t.Fatalf("row %d: (%q, %q, %d), want (%q, %q, %d)", i, row.kind, row.product, row.created, ev.Kind, ev.Product, ev.Created.UnixMilli())
		}
		if !back.Created.Equal(ev.Created) {
			t.Fatalf("row %d: created %v, want %v", i, back.Created, ev.Created)
		}
		// Invalid UTF-8 decodes as U+FFFD: compare with the decoded json.Marshal output.
		var wantBack events.Event
		if err := json.Unmarshal(want, &wantBack); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, wantBack) {
			t.Fatalf("row %d: decoded %+v, want %+v", i, back, wantBack)
		}
	}
}

// TestEnqueueLargeBatchFanout checks that the fan-out consumer reads a
// large batch exactly once, in order, across several of its batches.
func TestEnqueueLargeBatchFanout(t *testing.T) {
	w, r, _ := openTestDB(t)
	s := newTestService(t, w, r, Config{BatchSize: 700})
	enqueue(t, w, batchEvents(2500)...)
	ctx := context.Background()
	total := 0
	for {
		n, err := s.ProcessEvents(ctx)
		if err != nil {
			t.Fatalf("ProcessEvents: %v", err)
		}
		if n == 0 {
			break
		}
		total += n
	}
	var last int64
	if err := w.QueryRow(`SELECT last_id FROM notifier_cursor WHERE name = ?`, fanoutCursor).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if total != 2500 || last != 2500 {
		t.Errorf("fan-out consumed %d events, cursor at %d; want 2500 and 2500", total, last)
	}
}

// TestEnqueueInvalidWritesNothing checks that a bad event anywhere in a
// large batch fails the call before a row is written.
func TestEnqueueInvalidWritesNothing(t *testing.T) {
	w, _, _ := openTestDB(t)
	evs := batchEvents(1000)
	evs[950].Product = ""
	tx, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	err = events.Enqueue(context.Background(), tx, evs...)
	if err == nil || !strings.Contains(err.Error(), "event 950") || !strings.Contains(err.Error(), "product") {
		t.Errorf("events.Enqueue with an empty product at 950 = %v, want an error naming event 950 and product", err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM notifier_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	if n != 0 {
		t.Errorf("rows after a failed events.Enqueue = %d, want 0", n)
	}
}

// BenchmarkEnqueue writes N fleet events (the shape re-evaluation writes)
// through events.Enqueue in one transaction, against the baseline of a raw
// prepared single-row INSERT loop of the same rows (json.Marshal payloads,
// as events.Enqueue wrote them before batching) into the same kind of database in
// the same run. ratio = raw time / events.Enqueue time (> 1: events.Enqueue is faster).
func BenchmarkEnqueue(b *testing.B) {
	for _, n := range []int{1, 100, 20000} {
		b.Run(fmt.Sprint("events=", n), func(b *testing.B) {
			created := time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)
			evs := make([]events.Event, n)
			for i := range evs {
				evs[i] = events.Event{Kind: events.KindFleet, Product: "product3", Cycle: "c", Version: "3.4", HostID: fmt.Sprintf("uid%07d", i),
					Host: fmt.Sprintf("host-%07d", i), From: "current", To: "patch-available", Reason: "r", Created: created}
			}
			ctx := context.Background()
			var enq, raw time.Duration
			for range b.N {
				w, _, _ := openTestDB(b)
				start := time.Now()
				tx, err := w.Begin()
				if err != nil {
					b.Fatal(err)
				}
				if err := events.EnqueueOn(ctx, tx, engine, evs...); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				enq += time.Since(start)

				w2, _, _ := openTestDB(b)
				if engine == sqldb.Postgres {
					raw += copyEvents(b, w2, evs)
					continue
				}
				start = time.Now()
				tx, err = w2.Begin()
				if err != nil {
					b.Fatal(err)
				}
				stmt, err := tx.Prepare(`INSERT INTO notifier_events (kind, product, payload, created) VALUES (?, ?, ?, ?)`)
				if err != nil {
					b.Fatal(err)
				}
				for _, ev := range evs {
					payload, err := json.Marshal(ev)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := stmt.Exec(ev.Kind, ev.Product, string(payload), ev.Created.UnixMilli()); err != nil {
						b.Fatal(err)
					}
				}
				stmt.Close()
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				raw += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/enq.Seconds(), "enqueue-events/s")
			b.ReportMetric(float64(n*b.N)/raw.Seconds(), "raw-events/s")
			b.ReportMetric(raw.Seconds()/enq.Seconds(), "ratio")
		})
	}
}

// copyEvents is the PostgreSQL baseline: the same event rows written with
// a raw pgx COPY in one transaction.
func copyEvents(b *testing.B, db *sql.DB, evs []events.Event) time.Duration {
	b.Helper()
	return pgtest.CopyTx(b, db, func(ctx context.Context, tx pgx.Tx) error {
		rows := make([][]any, len(evs))
		for i, ev := range evs {
			payload, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			rows[i] = []any{ev.Kind, ev.Product, string(payload), ev.Created.UnixMilli()}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"notifier_events"}, []string{"kind", "product", "payload", "created"}, pgx.CopyFromRows(rows))
		return err
	})
}

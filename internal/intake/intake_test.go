package intake

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/internal/fault"
)

// TestBudgetNeverExceeded: many bodies read and charge at once; the bytes
// charged never pass the total, and all come back.
func TestBudgetNeverExceeded(t *testing.T) {
	const total = 1 << 20
	b := NewBudget(total, 5*time.Second)
	var peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			body := b.Reader(context.Background(), bytes.NewReader(make([]byte, 100<<10+i)))
			defer body.Close()
			buf := make([]byte, 4096)
			for {
				_, err := body.Read(buf)
				if u := b.InUse(); u > peak.Load() {
					peak.Store(u)
				}
				if err != nil {
					break
				}
				if err := body.Charge(512); err != nil {
					t.Errorf("charge: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > total {
		t.Errorf("peak in use %d > total %d", p, total)
	}
	if u := b.InUse(); u != 0 {
		t.Errorf("in use after every body closed: %d", u)
	}
}

// TestBudgetWaitsThenBusy: a charge that does not fit waits for bytes to
// come back, and fails with ErrBusy (503) when none do in time.
func TestBudgetWaitsThenBusy(t *testing.T) {
	b := NewBudget(100<<10, 200*time.Millisecond)
	holder := b.Reader(context.Background(), strings.NewReader(""))
	if err := holder.Charge(90 << 10); err != nil {
		t.Fatal(err)
	}
	other := b.Reader(context.Background(), strings.NewReader(""))
	start := time.Now()
	err := other.Charge(20 << 10)
	if !errors.Is(err, ErrBusy) || fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("charge over a spent budget = %v, want ErrBusy", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("gave up after %v, want the 200ms wait", d)
	}
	holder.Close()
	other.Close()
	// A charge that waits gets its bytes once the holder gives them back:
	// on a budget whose wait cannot run out first on a slow machine, the
	// holder closes once the charge is seen waiting.
	lb := NewBudget(100<<10, time.Minute)
	lholder := lb.Reader(context.Background(), nil)
	if err := lholder.Charge(90 << 10); err != nil {
		t.Fatal(err)
	}
	waiter := lb.Reader(context.Background(), nil)
	go func() {
		waitForWaiters(t, lb, 1)
		lholder.Close()
	}()
	if err := waiter.Charge(20 << 10); err != nil {
		t.Errorf("charge once the holder closed: %v", err)
	}
	if u := lb.InUse(); u != 20<<10 {
		t.Errorf("in use after the holder closed = %d, want the waiter's %d", u, 20<<10)
	}
	waiter.Close()
	other.Close() // twice is harmless
	if u := b.InUse(); u != 0 {
		t.Errorf("in use = %d, want 0", u)
	}
	if err := b.Reader(context.Background(), nil).Charge(200 << 10); !errors.Is(err, ErrOverBudget) {
		t.Errorf("charge larger than the budget = %v, want ErrOverBudget", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := b.Reader(ctx, nil)
	big.Charge(90 << 10)
	if err := b.Reader(ctx, nil).Charge(20 << 10); !errors.Is(err, context.Canceled) {
		t.Errorf("charge with a cancelled request = %v, want context.Canceled", err)
	}
	big.Close()
}

// TestBodyOverWholeBudget: a body whose own charges add up to more than
// the whole budget can never fit, so it fails at once with ErrOverBudget
// (413) instead of waiting and answering 503 (retry later), even when it
// charges in small steps and nothing else holds the budget.
func TestBodyOverWholeBudget(t *testing.T) {
	b := NewBudget(100<<10, 5*time.Second)
	body := b.Reader(context.Background(), nil)
	start := time.Now()
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = body.Charge(1 << 10)
	}
	if !errors.Is(err, ErrOverBudget) || fault.CodeOf(err) != fault.TooLarge {
		t.Errorf("charging past the whole budget = %v, want ErrOverBudget", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("gave up after %v: a body larger than the budget need not wait", d)
	}
	if c := body.Charged(); c > 100<<10 {
		t.Errorf("charged %d, more than the budget", c)
	}
	body.Close()
	if u := b.InUse(); u != 0 {
		t.Errorf("in use = %d, want 0", u)
	}
}

// TestBudgetBreaksDeadlock: bodies that each hold part of the budget and
// all wait for more would wait for each other until the wait ran out (then
// one failed every 5 s, in turn): when every body holding bytes waits, the
// one holding least fails at once with ErrBusy, and once it gives its
// bytes back the others go on.
func TestBudgetBreaksDeadlock(t *testing.T) {
	b := NewBudget(100<<10, 5*time.Second)
	ctx := context.Background()
	big, small := b.Reader(ctx, nil), b.Reader(ctx, nil)
	if err := big.Charge(60 << 10); err != nil {
		t.Fatal(err)
	}
	if err := small.Charge(30 << 10); err != nil {
		t.Fatal(err)
	}
	bigDone := make(chan error, 1)
	go func() { bigDone <- big.Charge(30 << 10) }() // waits: small holds what it needs
	waitForWaiters(t, b, 1)
	select {
	case err := <-bigDone:
		t.Fatalf("big's charge returned %v while small still runs, want it to wait", err)
	default:
	}
	start := time.Now()
	err := small.Charge(30 << 10) // now both wait for each other
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("the smaller of two deadlocked bodies: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the deadlock was broken after %v, want at once (not the 5s wait)", d)
	}
	small.Close()
	select {
	case err := <-bigDone:
		if err != nil {
			t.Errorf("big's charge once small gave its bytes back: %v", err)
		}
	case <-time.After(time.Minute): // at once, normally; generous for a loaded machine
		t.Fatal("big still waits after small gave its bytes back")
	}
	big.Close()
	if u := b.InUse(); u != 0 {
		t.Errorf("in use = %d, want 0", u)
	}
}

// TestBudgetManyBodiesNoConvoy: six bodies reading at once, each needing
// 40% of the budget in small steps, end quickly: some finish, the others
// fail with ErrBusy without each waiting out the 5s wait in turn.
func TestBudgetManyBodiesNoConvoy(t *testing.T) {
	const total = 1 << 20
	b := NewBudget(total, 5*time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	var finished, busy atomic.Int32
	for range 6 {
		wg.Go(func() {
			body := b.Reader(context.Background(), nil)
			defer body.Close()
			for range 40 {
				if err := body.Charge(total * 4 / 10 / 40); err != nil {
					if !errors.Is(err, ErrBusy) {
						t.Errorf("charge: %v", err)
					}
					busy.Add(1)
					return
				}
				time.Sleep(time.Millisecond) // paces the reads like a slow client, so the six bodies interleave and contend
			}
			finished.Add(1)
		})
	}
	wg.Wait()
	if d := time.Since(start); d > 4*time.Second || finished.Load() == 0 {
		t.Errorf("six bodies over a shared budget: %d finished, %d busy, after %v; want some finished and no 5s waits", finished.Load(), busy.Load(), d)
	}
	if u := b.InUse(); u != 0 {
		t.Errorf("in use = %d, want 0", u)
	}
}

// waitForWaiters returns once at least n bodies wait for b's bytes (a
// charge that did not fit is queued), or fails the test after a minute.
func waitForWaiters(t *testing.T, b *Budget, n int) {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		w := len(b.waiting)
		b.mu.Unlock()
		if w >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d bodies waiting for the budget after a minute, want %d", w, n)
			return
		}
	}
}

// TestNilBudgetCharges nothing.
func TestNilBudget(t *testing.T) {
	var b *Budget
	body := b.Reader(context.Background(), strings.NewReader("abc"))
	if got, _ := io.ReadAll(body); string(got) != "abc" || body.Charged() != 3 {
		t.Errorf("read %q charged %d", got, body.Charged())
	}
	if b.InUse() != 0 || b.Total() != 0 {
		t.Error("a nil budget has a size")
	}
	body.Close()
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	io.WriteString(zw, s)
	zw.Close()
	return buf.Bytes()
}

func TestOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		hdr  map[string]string
		lim  Limits
		code fault.Code // of Open or of reading the body
	}{
		{"plain", []byte("{}"), nil, Limits{Bytes: 10}, ""},
		{"json type", []byte("{}"), map[string]string{"Content-Type": "application/json; charset=utf-8"}, Limits{Bytes: 10}, ""},
		{"extra type", []byte("{}"), map[string]string{"Content-Type": "application/spdx+json"}, Limits{Bytes: 10, Types: []string{"application/spdx+json"}}, ""},
		{"wrong type", []byte("{}"), map[string]string{"Content-Type": "text/plain"}, Limits{Bytes: 10}, fault.Unsupported},
		{"too large", []byte(strings.Repeat(" ", 11)), nil, Limits{Bytes: 10}, fault.TooLarge},
		{"gzip", gz("{}"), map[string]string{"Content-Encoding": "gzip"}, Limits{Bytes: 100, Gzip: true}, ""},
		{"gzip refused", gz("{}"), map[string]string{"Content-Encoding": "gzip"}, Limits{Bytes: 100}, fault.Unsupported},
		{"gzip bomb", gz(strings.Repeat(" ", 1000)), map[string]string{"Content-Encoding": "GZIP"}, Limits{Bytes: 100, Gzip: true}, fault.TooLarge},
		{"bad gzip", []byte("not gzip"), map[string]string{"Content-Encoding": "gzip"}, Limits{Bytes: 100, Gzip: true}, fault.Invalid},
		{"brotli", []byte("{}"), map[string]string{"Content-Encoding": "br"}, Limits{Bytes: 100, Gzip: true}, fault.Unsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(tc.body))
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			b := NewBudget(1<<20, time.Second)
			body, err := Open(httptest.NewRecorder(), r, tc.lim, b)
			if err == nil {
				_, err = io.ReadAll(body)
				if err != nil {
					err = DecodeError(err)
				}
				body.Close()
			}
			if fault.CodeOf(err) != tc.code {
				t.Errorf("Open + read = %v (code %q), want code %q", err, fault.CodeOf(err), tc.code)
			}
			if b.InUse() != 0 {
				t.Errorf("budget in use after Close: %d", b.InUse())
			}
		})
	}
}

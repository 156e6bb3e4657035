package notifier

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// The crash test's senders: an SMTP step may stall this long on a loaded
// machine (2 cores, load 10) before it counts as failed, and its lease is
// three times that, as a sender's lease must be. The restarted sender waits
// out the killed one's lease, so the lease is what each case costs.
const (
	crashSMTPTimeout = 1500 * time.Millisecond
	crashLease       = 3 * crashSMTPTimeout
)

// TestCrashChild is the sender process of TestCrashMidBatch; it runs only
// when that test starts it. It sends until the outbox is drained, for up to
// a minute: a step that timed out anyway is retried (RetryBase) within it.
func TestCrashChild(t *testing.T) {
	path := os.Getenv("NOTIFIER_CRASH_DB")
	if path == "" {
		t.Skip("helper process for TestCrashMidBatch")
	}
	w, r := openDBFile(t, path)
	grouped, _ := strconv.Atoi(os.Getenv("NOTIFIER_CRASH_GROUPED"))
	s := newTestService(t, w, r, Config{SMTPAddr: os.Getenv("NOTIFIER_CRASH_SMTP"), SMTPTLS: TLSNone,
		LeaseDuration: crashLease, SMTPTimeout: crashSMTPTimeout, RetryBase: 5 * time.Second, BatchSize: 100, MaxUnrecorded: grouped})
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		n, err := s.SendPending(context.Background())
		if err != nil {
			t.Fatalf("SendPending: %v", err)
		}
		if n == 0 {
			c, _ := s.OutboxCount(context.Background())
			if c.Pending == 0 {
				return
			}
			time.Sleep(200 * time.Millisecond) // rows leased by the killed process
		}
	}
	var na, lu int64
	var st string
	w.QueryRow(`SELECT state, next_attempt, lease_until FROM notifier_outbox WHERE state = 'pending' LIMIT 1`).Scan(&st, &na, &lu)
	t.Fatalf("child: outbox never drained (now %d, %s next %d lease %d)", time.Now().UnixMilli(), st, na, lu)
}

// TestCrashMidBatch kills a real sender process (SIGKILL) in the middle of
// a batch, restarts one on the same database file and checks that every
// message arrives and none twice. The kill happens while the mail server
// holds message k, either before it accepted it (the common case: nothing
// is duplicated, by raw count) or after it accepted it but before the
// sender could record it — the one window SMTP cannot close, where the
// resend carries the same Message-ID and bytes so the receiving side
// deduplicates it. With MaxUnrecorded > 1 a crash may resend up to that many,
// all identical to their first copy.
func TestCrashMidBatch(t *testing.T) {
	if os.Getenv("NOTIFIER_CRASH_DB") != "" {
		t.Skip("in the child")
	}
	for _, tc := range []struct {
		afterAccept bool
		grouped     int // MaxUnrecorded; 0 is the default (1)
	}{{false, 0}, {true, 0}, {false, 8}} {
		afterAccept := tc.afterAccept
		t.Run(fmt.Sprintf("afterAccept=%v,maxUnrecorded=%d", afterAccept, max(tc.grouped, 1)), func(t *testing.T) {
			w, r, path := openTestDB(t)
			const n, k = 30, 12
			var child *exec.Cmd
			exited := make(chan struct{})
			killed := false
			var mu sync.Mutex // guards child and killed, used by the SMTP server's goroutine
			mb := &mailbox{}
			mb.onData = func(i int, m received) error {
				mu.Lock()
				defer mu.Unlock()
				if i+1 != k || killed {
					return nil
				}
				killed = true
				if afterAccept {
					mb.mu.Lock()
					mb.msgs = append(mb.msgs, m)
					mb.mu.Unlock()
				}
				child.Process.Kill()
				<-exited
				return fmt.Errorf("connection gone")
			}
			srv := startSMTP(t, mb, "", nil, false)
			s := newTestService(t, w, r, Config{SMTPAddr: srv.addr, SMTPTLS: TLSNone})
			var emails []string
			for i := range n {
				emails = append(emails, fmt.Sprintf("u%02d@example.com", i))
			}
			fanOutTo(t, s, emails...)
			enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "redis", Cycle: "7.4", Version: "7.4.3"})
			if _, err := s.ProcessEvents(context.Background()); err != nil {
				t.Fatal(err)
			}
			run := func() (*exec.Cmd, error) {
				cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
				// One pass in the child: the database is the parent's (a file or a URL).
				cmd.Env = append(os.Environ(), "NOTIFIER_CRASH_DB="+path, "NOTIFIER_CRASH_SMTP="+srv.addr, "EOLWATCH_TEST_ENGINES=sqlite",
					fmt.Sprintf("NOTIFIER_CRASH_GROUPED=%d", tc.grouped))
				out := &strings.Builder{}
				cmd.Stdout, cmd.Stderr = out, out
				if err := cmd.Start(); err != nil {
					return nil, err
				}
				return cmd, nil
			}
			mu.Lock()
			first, err := run()
			child = first
			mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			go func() { first.Wait(); close(exited) }()
			select {
			case <-exited:
			case <-time.After(time.Minute):
				t.Fatal("first sender never reached the crash point")
			}
			mu.Lock()
			wasKilled := killed
			mu.Unlock()
			if !wasKilled {
				t.Fatalf("first sender exited without being killed: %v\n%s", first.ProcessState, first.Stdout)
			}
			if got := len(mb.all()); got < k-1 || got > k {
				t.Fatalf("%d messages before the crash, want %d", got, k-1)
			}
			// Restart: a new process on the same file.
			second, err := run()
			if err != nil {
				t.Fatal(err)
			}
			if err := second.Wait(); err != nil {
				t.Fatalf("restarted sender: %v\n%s", err, second.Stdout)
			}
			byRcpt := map[string][]received{}
			ids := map[string]bool{}
			for _, m := range mb.all() {
				byRcpt[m.To[0]] = append(byRcpt[m.To[0]], m)
				ids[parseMail(t, m.Data).Header.Get("Message-ID")] = true
			}
			dups := 0
			for _, e := range emails {
				got := byRcpt[e]
				switch {
				case len(got) == 0:
					t.Errorf("%s: message lost", e)
				case len(got) == 2 && (afterAccept || tc.grouped > 1):
					dups++
					if string(got[0].Data) != string(got[1].Data) {
						t.Errorf("%s: the resent copy differs from the first (Message-ID must be stable)", e)
					}
				case len(got) > 1:
					t.Errorf("%s: %d copies", e, len(got))
				}
			}
			if len(ids) != n {
				t.Errorf("%d distinct Message-IDs, want %d", len(ids), n)
			}
			if afterAccept && dups != 1 {
				t.Errorf("%d resent messages, want exactly the one in flight", dups)
			}
			if tc.grouped > 1 && dups >= tc.grouped {
				t.Errorf("%d resent messages, want fewer than MaxUnrecorded=%d", dups, tc.grouped)
			}
			t.Logf("resent after the crash: %d", dups)
			if st := outboxStates(t, s); st["sent"] != n {
				t.Errorf("outbox %v, want %d sent", st, n)
			}
		})
	}
}

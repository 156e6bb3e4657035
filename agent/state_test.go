package agent

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaleTempFilesRemoved: temp files the agent left when it was killed
// mid-write are removed when it starts; other files, and a temp file that
// may be in use right now, are kept (issue 13, item 12).
func TestStaleTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{".identity.json.tmp123", ".pending-report.json.tmp456", ".identity.json.tmpfresh", "notes.txt", ".other.tmp1"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("x"), 0o600)
		if name != ".identity.json.tmpfresh" {
			os.Chtimes(p, old, old)
		}
	}
	var logs bytes.Buffer
	if _, err := OpenState(dir, newTextLogger(&logs, "debug")); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{".identity.json.tmp123": false, ".pending-report.json.tmp456": false,
		".identity.json.tmpfresh": true, "notes.txt": true, ".other.tmp1": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != want {
			t.Errorf("%s kept = %t, want %t", name, got, want)
		}
	}
	if n := strings.Count(logs.String(), "stale temporary file"); n != 2 {
		t.Errorf("%d log lines about stale files, want 2:\n%s", n, logs.String())
	}
}

// TestCorruptStateLoggedOnceAndRecovered: a corrupt spool is dropped with
// one log line and the next inventory is delivered; an identity.json that
// holds no install id ({}) is set aside with one log line, and the agent
// then keeps one new identity (one enrolment, one install id) instead of
// enrolling a new host on every run (issue 13, item 12).
func TestCorruptStateLoggedOnceAndRecovered(t *testing.T) {
	fs := newFakeServer(t)
	ts := httptest.NewServer(fs.handler())
	defer ts.Close()
	state := t.TempDir()
	os.WriteFile(filepath.Join(state, pendingFile), []byte(`{"report_id":`), 0o600)
	os.WriteFile(filepath.Join(state, identityFile), []byte(`{}`), 0o600)
	var logs bytes.Buffer
	root := copyTree(t, "testdata/debian")
	ctx := context.Background()
	for range 3 {
		a := testAgent(t, ts.URL, root, state)
		a.log = newTextLogger(&logs, "debug")
		if _, err := a.Once(ctx); err != nil {
			t.Fatalf("Once: %v\n%s", err, logs.String())
		}
	}
	enrolls, reports, _, _ := fs.snapshot()
	if enrolls != 1 || len(reports) != 3 {
		t.Errorf("%d enrolments and %d reports, want 1 and 3", enrolls, len(reports))
	}
	for _, r := range reports {
		if r.Host.InstallID != reports[0].Host.InstallID || r.Host.InstallID == "" {
			t.Errorf("install ids %q and %q: one host must keep one id", reports[0].Host.InstallID, r.Host.InstallID)
		}
	}
	for _, what := range []string{"spool", "identity"} {
		if n := strings.Count(logs.String(), what+" file was corrupt"); n != 1 {
			t.Errorf("%d log lines about the corrupt %s file, want 1:\n%s", n, what, logs.String())
		}
	}
	if m, _ := filepath.Glob(filepath.Join(state, identityFile+".corrupt-*")); len(m) != 1 {
		t.Errorf("the bad identity was not set aside: %v", m)
	}
}

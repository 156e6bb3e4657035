package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestNotifyCommands(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, string, error) {
		var out, errb bytes.Buffer
		err := Main(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errb})
		return out.String(), errb.String(), err
	}
	if _, _, err := run("group", "create", "--data-dir", dir, "--name", "Web", "--product", "nginx", "--product", "nodejs", "--cycle", "nodejs@22", "--events", "release,eol"); err != nil {
		t.Fatalf("group create: %v", err)
	}
	out, _, err := run("group", "list", "--data-dir", dir)
	if err != nil || !strings.Contains(out, "web") || !strings.Contains(out, "nginx,nodejs") || !strings.Contains(out, "nodejs@22") {
		t.Errorf("group list = %q, %v", out, err)
	}
	for _, args := range [][]string{
		{"group", "create", "--data-dir", dir, "--name", "bad", "--product", "nginx", "--events", "news"},
		{"group", "create", "--data-dir", dir, "--name", "bad", "--events", "release"},
		{"outbox", "list", "--data-dir", dir, "--state", "lost"},
		{"group", "rename"},
	} {
		if _, _, err := run(args...); ExitCode(err) != 2 {
			t.Errorf("%v: err %v, want a usage error (exit 2)", args, err)
		}
	}
	if _, stderr, err := run("outbox", "list", "--data-dir", dir); err != nil || !strings.Contains(stderr, "pending 0, sent 0") {
		t.Errorf("outbox list: %q, %v", stderr, err)
	}
	if _, _, err := run("group", "delete", "--data-dir", dir, "web"); err != nil {
		t.Errorf("group delete: %v", err)
	}
	if _, _, err := run("group", "delete", "--data-dir", dir, "web"); err == nil || ExitCode(err) != 1 {
		t.Errorf("deleting a missing group: %v, want an error", err)
	}
}

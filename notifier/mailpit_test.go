package notifier

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eolwatch/eolwatch/notifier/events"
)

// findTool returns the path of a tool installed by `make deps` (bin/tools
// in the repository) or on PATH; a missing tool skips the test, or fails it
// when CI=true.
func findTool(t *testing.T, name string) string {
	t.Helper()
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				p := filepath.Join(d, "bin", "tools", name)
				if _, err := os.Stat(p); err == nil {
					return p
				}
				break
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " is not installed: run `make deps` (it builds bin/tools/" + name + ")"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestMailpit delivers through a real third-party SMTP server (mailpit,
// STARTTLS required, AUTH PLAIN) and reads the messages back through its API.
func TestMailpit(t *testing.T) {
	bin := findTool(t, "mailpit")
	dir := t.TempDir()
	_, pool, certPEM, keyPEM := testCert(t)
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	smtpAddr, httpAddr := freePort(t), freePort(t)
	cmd := exec.Command(bin, "--disable-version-check", "--quiet",
		"--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-tls-cert", filepath.Join(dir, "cert.pem"), "--smtp-tls-key", filepath.Join(dir, "key.pem"),
		"--smtp-require-starttls", "--smtp-auth-accept-any")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	api := "http://" + httpAddr + "/api/v1"
	getJSON := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(api + path)
		if err != nil {
			t.Fatalf("mailpit API: %v\n%s", err, out)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get(api + "/messages")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var svc *Service
	ts := httptest.NewServer(routes(func() *Service { return svc }))
	defer ts.Close()
	w, r, _ := openTestDB(t)
	svc = newTestService(t, w, r, Config{SMTPAddr: smtpAddr, SMTPTLS: TLSStartTLS, SMTPUsername: "eolwatch", SMTPPassword: "pw",
		TLSConfig: &tls.Config{RootCAs: pool}, PublicURL: ts.URL})
	ctx := context.Background()
	if _, err := svc.CreateGroup(ctx, Group{Name: "java", Products: []string{"eclipse-temurin"}, Events: []string{"release"}}); err != nil {
		t.Fatal(err)
	}
	if err := svc.Subscribe(ctx, "java", "erin@example.com"); err != nil {
		t.Fatal(err)
	}
	drain(t, svc)

	type summary struct {
		ID        string
		MessageID string
		Subject   string
		To        []struct{ Address string }
	}
	var list struct {
		Total    int
		Messages []summary
	}
	getJSON("/messages", &list)
	if list.Total != 1 {
		t.Fatalf("mailpit holds %d messages, want the confirmation", list.Total)
	}
	var full struct {
		Text, HTML, Subject string
	}
	getJSON("/message/"+list.Messages[0].ID, &full)
	i := strings.Index(full.Text, ts.URL+PathConfirm)
	if i < 0 {
		t.Fatalf("no confirmation link in:\n%s", full.Text)
	}
	link := strings.Fields(full.Text[i:])[0]
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET confirmation link = %d", resp.StatusCode)
	}
	enqueue(t, w, events.Event{Kind: events.KindRelease, Product: "eclipse-temurin", Cycle: "21", Version: "21.0.7+6", Date: "2026-04-15"})
	drain(t, svc)
	drain(t, svc)
	getJSON("/messages", &list)
	if list.Total != 2 {
		t.Fatalf("mailpit holds %d messages, want 2", list.Total)
	}
	m := list.Messages[0] // newest first
	if m.Subject != "eclipse-temurin 21.0.7+6 released (21)" || len(m.To) != 1 || m.To[0].Address != "erin@example.com" {
		t.Errorf("release message as mailpit sees it: %+v", m)
	}
	sent, _, _, _ := svc.ListOutbox(ctx, OutboxFilter{State: OutboxSent})
	if len(sent) != 2 || "<"+m.MessageID+">" != sent[0].MessageID {
		t.Errorf("Message-ID in mailpit %q, in the outbox %+v", m.MessageID, sent)
	}
	resp, err = http.Get(api + "/message/" + m.ID + "/raw")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pm := parseMail(t, raw)
	if pm.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(pm.Text, "Change level: patch") {
		t.Errorf("raw message from mailpit:\n%s", raw)
	}
}

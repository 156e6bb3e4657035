package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath returns the Chromium to drive, or skips the test (fails it
// when CI=true) when there is none.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found; CI=true needs it (run `make deps`)")
	}
	t.Skip("chromium not found: run `make deps` to install it")
	return ""
}

// artifactsDir returns test-artifacts/web at the repository root.
func artifactsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("EOLWATCH_ARTIFACTS"); d != "" {
		return filepath.Join(d, "web")
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, "test-artifacts", "web")
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, "test-artifacts", "web")
		}
	}
}

// Chrome drives one headless Chromium tab against a dashboard.
type Chrome struct {
	// Ctx is the tab's chromedp context, for actions the helpers lack.
	Ctx context.Context
	// Base is the dashboard's URL; Dir the folder screenshots go to.
	Base, Dir string
	t         testing.TB

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions
}

// NewChrome starts headless Chromium (ChromiumPath) for the dashboard at
// base; it stops with the test. Screenshots go to test-artifacts/web at the
// repository root (or $EOLWATCH_ARTIFACTS/web).
func NewChrome(t testing.TB, base string) *Chrome {
	t.Helper()
	exe := ChromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	c := &Chrome{Ctx: ctx, Base: base, Dir: artifactsDir(t), t: t}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				c.mu.Lock()
				c.problems = append(c.problems, m.String()+" at "+m.URL)
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// Do runs actions, failing the test (naming what) when one fails.
func (c *Chrome) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.Ctx, actions...); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

// Open navigates to path and waits for the page's heading.
func (c *Chrome) Open(path string) {
	c.t.Helper()
	c.Do("open "+path, chromedp.Navigate(c.Base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// Submit clicks sel and waits for the page it leads to, whose URL
// contains want.
func (c *Chrome) Submit(sel, want string) {
	c.t.Helper()
	c.Navigating("submit "+sel, want, chromedp.Click(chromedp.CSS(sel)))
}

// Navigating runs an action that loads a new page and waits until the new
// page has loaded: its URL contains want, and it lacks the mark the old
// page carries.
func (c *Chrome) Navigating(what, want string, a chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	c.Do(what, chromedp.Evaluate[chromedp.Void](`window.__ewOld = true`), a)
	deadline := time.Now().Add(20 * time.Second)
	check := fmt.Sprintf(`!window.__ewOld && document.readyState === "complete" && location.href.includes(%q) && !!document.querySelector("main h1")`, want)
	for {
		done, err := chromedp.Run(c.Ctx, chromedp.Evaluate[bool](check))
		if err == nil && done {
			break
		}
		if time.Now().After(deadline) {
			st, _ := chromedp.Run(c.Ctx, chromedp.Evaluate[string](`location.href + " old=" + window.__ewOld + " " + document.readyState`))
			c.t.Fatalf("%s: no new page loaded (last error %v; page %s)", what, err, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Do("wait after "+what, chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// Text returns the text of the element sel.
func (c *Chrome) Text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Eval returns the value of the JavaScript expression js.
func (c *Chrome) Eval(js string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.Ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// Shot saves a full-page screenshot as name.png in the artifacts folder.
func (c *Chrome) Shot(name string) {
	c.t.Helper()
	buf, err := chromedp.Run(c.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		c.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(c.Dir, name+".png"), buf, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// Problems returns the console errors and uncaught exceptions seen so far.
func (c *Chrome) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

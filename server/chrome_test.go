package main

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium (or $FOCAL_TEST_CHROMIUM).
func chromiumPath() string {
	if p := os.Getenv("FOCAL_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newChrome starts a headless Chromium for a browser test and returns a
// chromedp context bound to it (closed at cleanup). The test skips with a
// clear message when Chromium is not installed; CI installs it.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("browser test skipped: Chromium not installed (apt-get install chromium)")
	}
	// Chromium may still be writing its profile when the test ends, so the
	// folder is removed best-effort (t.TempDir would fail the test).
	profile, err := os.MkdirTemp("", "focal-chrome-*")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func TestBrowserLogin(t *testing.T) {
	ta := sqliteApp(t)
	admin, _ := ta.newStaff("admin")
	ctx := newChrome(t)
	var heading string
	err := chromedp.Run(ctx,
		chromedp.Navigate(ta.Srv.URL+"/login"),
		chromedp.WaitVisible(`#email`, chromedp.ByID),
		chromedp.SendKeys(`#email`, admin.Email, chromedp.ByID),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByID),
		chromedp.Submit(`#password`, chromedp.ByID),
		// Only the staff pages have the main navigation: waiting for it
		// cannot match the login page that is being replaced.
		chromedp.WaitVisible(`header.site nav`, chromedp.ByQuery),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Staff home" {
		t.Fatalf("after login the page says %q, want the staff home", heading)
	}
}

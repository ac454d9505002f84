//go:build browser

// Package browser loads the -o html page in a real headless Chromium and
// checks what it shows: the DOM after the page's script ran, and
// screenshots for people to look at. Run it with make browser (which
// installs Chromium when it is missing).
package browser

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium returns the browser to run: $CHROMIUM, else chromium on PATH.
// A missing browser fails the test: the page is what users open.
func chromium(t *testing.T) string {
	t.Helper()
	if c := os.Getenv("CHROMIUM"); c != "" {
		return c
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run make chromium (apt-get install chromium), or set CHROMIUM to a Chromium binary")
	return ""
}

// runChromium runs headless Chromium on a page with extra flags and returns
// its stdout. It runs in a process group of its own, killed afterwards, so
// that no renderer or zygote outlives the test.
func runChromium(t *testing.T, page string, flags ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, flags...)
	args = append(args, "file://"+page)
	cmd := exec.CommandContext(ctx, chromium(t), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(flags, " "), err, lastLines(errOut.String(), 20))
	}
	return out.Bytes()
}

// dumpDOM returns the page's DOM as Chromium serialises it after loading
// it and running its script.
func dumpDOM(t *testing.T, page string) []byte {
	t.Helper()
	dom := runChromium(t, page, "--dump-dom")
	if len(dom) == 0 {
		t.Fatalf("chromium --dump-dom printed nothing for %s", page)
	}
	return dom
}

// screenshot saves a PNG of the page as the browser lays it out in a
// window of size ("1400,1000"), under $DAEMONCHECK_SCREENSHOTS (else the
// test's temporary directory), and returns its path.
func screenshot(t *testing.T, page, name, size string) string {
	t.Helper()
	dir := os.Getenv("DAEMONCHECK_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(dir, name)
	_ = os.Remove(png)
	runChromium(t, page, "--hide-scrollbars", "--window-size="+size, "--screenshot="+png)
	data, err := os.ReadFile(png)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) || len(data) < 10_000 {
		t.Fatalf("%s is not a screenshot of a page (%d bytes)", png, len(data))
	}
	t.Logf("screenshot: %s", png)
	return png
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

package collecttest

import (
	"os"
	"path/filepath"
	"testing"
)

// HangingPlugin writes a kubeconfig credential plugin (users[].user.exec)
// that never returns while the test runs, as an SSO login waiting for a
// browser, and returns its path. It ends when the test does.
func HangingPlugin(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	// Its stderr is the test binary's: let go of it, so that go test does
	// not wait for the script.
	script := "#!/bin/sh\nexec 2>/dev/null\nwhile [ ! -e '" + release + "' ]; do sleep 0.1; done\n"
	path := filepath.Join(dir, "sso-login")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o600) })
	return path
}

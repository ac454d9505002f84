package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryThroughKubectl builds the real binary and runs it as users do:
// as `kubectl daemoncheck`, found by kubectl on PATH, on the bundled snapshot.
func TestBinaryThroughKubectl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kubectl-daemoncheck")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	demo, err := filepath.Abs("../../test/fixtures/demo-cluster.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) (string, string, int) {
		c := exec.Command(name, args...)
		c.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+filepath.Join(dir, "none"))
		var out, errOut bytes.Buffer
		c.Stdout, c.Stderr = &out, &errOut
		err := c.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return out.String(), errOut.String(), code
	}

	out, _, code := run(bin, "-f", demo)
	if code != 1 || !strings.Contains(out, "MissingPod") {
		t.Errorf("binary on demo: exit %d, output:\n%s", code, out)
	}
	_, _, code = run(bin, "-f", demo, "-n", "kube-system", "csi-node")
	if code != 0 {
		t.Errorf("healthy DaemonSet: exit %d, want 0", code)
	}
	_, errOut, code := run(bin, "-o", "nope", "-f", demo)
	if code != 2 || !strings.HasPrefix(errOut, "error: ") {
		t.Errorf("usage error: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = run(bin, "--server", "https://127.0.0.1:1", "--request-timeout", "2s")
	if code != 3 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("unreachable: exit %d, want 3 and one line; stderr %q", code, errOut)
	}

	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl not on PATH: the plugin discovery test needs it (the project assumes kubectl is installed)")
	}
	out, errOut, code = run("kubectl", "daemoncheck", "-f", demo, "-o", "jsonpath={.kind}")
	if code != 1 || out != "DaemonCheckReport" {
		t.Errorf("kubectl daemoncheck: exit %d, out %q, stderr %q", code, out, errOut)
	}
	out, _, _ = run("kubectl", "plugin", "list")
	if !strings.Contains(out, bin) {
		t.Errorf("kubectl plugin list does not show %s:\n%s", bin, out)
	}
	out, _, code = run("kubectl", "daemoncheck", "--help")
	if code != 0 || !strings.Contains(out, "kubectl daemoncheck [NAME] [flags]") {
		t.Errorf("help should read as kubectl daemoncheck:\n%s", out)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// ssoKubeconfig has the context "sso" whose user is plugin, and, when ok is
// not nil, the context "ok" reading ok with its token.
func ssoKubeconfig(t *testing.T, plugin string, ok *apiServer) string {
	t.Helper()
	server, ca := "https://127.0.0.1:1", ""
	users := fmt.Sprintf("users:\n- name: sso\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: %q\n      interactiveMode: Never\n", plugin)
	contexts := "contexts:\n- name: sso\n  context: {cluster: c, user: sso}\n"
	if ok != nil {
		server, ca = ok.URL, fmt.Sprintf("    certificate-authority-data: %s\n", caData(ok.Server))
		users += fmt.Sprintf("- name: ok\n  user: {token: %q}\n", ok.token)
		contexts += "- name: ok\n  context: {cluster: c, user: ok}\n"
	}
	kc := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %q\n%s%s%scurrent-context: sso\n", server, ca, users, contexts)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// within runs f and fails the test if it has not returned after limit.
func within(t *testing.T, limit time.Duration, f func()) time.Duration {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still running after %s: a credential plugin that never returns hangs the run", limit)
	}
	return time.Since(start)
}

// A credential plugin that never returns (an SSO login waiting for a
// browser) ends the run at --timeout with one line naming it.
func TestHangingCredentialPluginEndsAtTimeout(t *testing.T) {
	kc := ssoKubeconfig(t, collecttest.HangingPlugin(t), nil)
	var errOut string
	var code int
	took := within(t, 30*time.Second, func() {
		_, errOut, code = runCmd(t, "", "--kubeconfig", kc, "--timeout", "2s")
	})
	if code != ExitInput || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "error: gave up reading from the cluster") ||
		!strings.Contains(errOut, "credential plugin") || !strings.Contains(errOut, "sso-login") {
		t.Errorf("exit %d, stderr %q: want exit 3 and one line naming the plugin", code, errOut)
	}
	if took > 10*time.Second {
		t.Errorf("took %s with --timeout 2s", took)
	}
	t.Logf("stderr: %s", errOut)
}

// In a fleet run, the cluster whose plugin hangs is reported with its
// error at --timeout, and the other clusters' reports are printed.
func TestFleetPrintsOtherClustersPastHangingPlugin(t *testing.T) {
	a := newAPIServer(t, "a", "v1.31.4", 0)
	kc := ssoKubeconfig(t, collecttest.HangingPlugin(t), a)
	var out, errOut string
	var code int
	within(t, 30*time.Second, func() {
		out, errOut, code = runFleetCmd(t, nil, "--kubeconfig", kc, "--contexts", "ok,sso", "--timeout", "3s", "-o", "json")
	})
	if code != ExitInput {
		t.Errorf("exit %d, want 3 (a cluster could not be read); stderr:\n%s", code, errOut)
	}
	var fr report.FleetReport
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	got := map[string]report.ClusterReport{}
	for _, c := range fr.Clusters {
		got[c.Context] = c
	}
	if ok := got["ok"]; ok.Report == nil || ok.Result != report.ResultPassed {
		t.Errorf("context ok: %s %q, want its report", ok.Result, ok.Error)
	}
	if sso := got["sso"]; sso.Report != nil || !strings.Contains(sso.Error, "credential plugin") {
		t.Errorf("context sso: report %v, error %q; want the plugin's error", sso.Report != nil, sso.Error)
	}
}

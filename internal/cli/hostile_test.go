package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileDump is a cluster dump whose DaemonSet carries an annotation key
// with ESC and a bidi override (a dump is not validated as the API server
// validates), which daemoncheck quotes in a warning.
const hostileDump = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, uid: n1, creationTimestamp: "2026-01-01T00:00:00Z"}
  status:
    conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2026-01-02T00:00:00Z"}]
- apiVersion: apps/v1
  kind: DaemonSet
  metadata:
    name: agent
    namespace: ns
    uid: a
    generation: 1
    creationTimestamp: "2026-01-01T00:00:00Z"
    annotations: {"daemoncheck.io/x\e[31m\u202e##[stop-commands]t": "y"}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: c, image: "x"}]}
  status: {desiredNumberScheduled: 1, observedGeneration: 1}
`

// Warnings and errors quote the cluster and the command line: on stderr
// they are escaped as every terminal output is.
func TestStderrEscapesClusterText(t *testing.T) {
	dir := t.TempDir()
	dump := filepath.Join(dir, "dump.yaml")
	if err := os.WriteFile(dump, []byte(hostileDump), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "missing", "r\x1b[2J\u202e.json")
	_, errOut, code := runCmd(t, "", "-f", dump, "--now", "2026-01-02T00:00:00Z", "--output-file", "json="+bad)
	if code != ExitInput {
		t.Errorf("exit %d, want %d (the file cannot be written)", code, ExitInput)
	}
	if strings.ContainsAny(errOut, "\x1b\u202e") || strings.Contains(errOut, "##[") {
		t.Errorf("raw control, bidi or workflow command on stderr:\n%q", errOut)
	}
	for _, want := range []string{
		`Warning: daemonset ns/agent: unknown annotation daemoncheck.io/x\x1b[31m\u202e##\[stop-commands]t`,
		`error: writing --output-file json=` + filepath.Join(dir, "missing") + `/r\x1b[2J\u202e.json`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

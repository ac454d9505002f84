//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// execResult is one run of the plugin binary.
type execResult struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// execPlugin runs the plugin with exactly args (no -o json added) and env
// additions, and returns what it printed and its exit code.
func execPlugin(t testing.TB, env []string, args ...string) execResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, plugin(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	res := execResult{stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("kubectl-daemoncheck %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// lockedBuffer lets a test read a running command's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// withCrashLoop makes kwok crash-loop the DaemonSet's Pods (until the label
// is removed from the template).
func withCrashLoop(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	// The selector and the template share one labels map: copy before adding.
	tl := map[string]string{rig.CrashLoopLabel: "true"}
	for k, v := range ds.Spec.Template.Labels {
		tl[k] = v
	}
	ds.Spec.Template.Labels = tl
	return ds
}

// TestWaitConverges: --wait keeps checking while a DaemonSet's Pods crash,
// and exits 0 once a fixed template has rolled out.
func TestWaitConverges(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "gate-wait")
	s.plainNodes(2)
	s.createDaemonSet(withCrashLoop(s.newDaemonSet("agent")))

	cmd := exec.Command(plugin(t), "--kubeconfig", cluster.KubeconfigPath, "-n", s.name,
		"--wait", "--timeout", "3m", "--interval", "1s", "--fail-on", "error", "-o", "json")
	var out bytes.Buffer
	errOut := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Let it see the crash loop before fixing the DaemonSet.
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(errOut.String(), "UnhealthyPod") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("--wait never reported the crash-looping Pods; stderr:\n%s", errOut.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.updateDaemonSet("agent", func(d *appsv1.DaemonSet) { delete(d.Spec.Template.Labels, rig.CrashLoopLabel) })

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("--wait: %v (want exit 0 after the rollout); stderr:\n%s", err, errOut.String())
		}
	case <-time.After(4 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("--wait did not end; stderr:\n%s", errOut.String())
	}
	// A role with the watch verb (admin here): --wait watches.
	if !strings.Contains(errOut.String(), "Waiting for daemon coverage (watching):") || !strings.Contains(errOut.String(), "converged") {
		t.Errorf("progress on stderr:\n%s", errOut.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the final JSON report: %v\n%s", err, out.String())
	}
	if rep.Summary.Failing != 0 || len(rep.DaemonSets) != 1 || rep.DaemonSets[0].Computed.NumberReady != 2 {
		t.Errorf("final report: %+v", rep.Summary)
	}
}

// TestWaitTimesOutOnUncoveredPool: a node pool tainted against the agent
// never gets its Pod; with a policy requiring the agent everywhere, --wait
// gives up at --timeout with exit 1, and the report names the node, the
// taint and the toleration to add.
func TestWaitTimesOutOnUncoveredPool(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "gate-uncovered")
	ok := s.newNode("ok")
	gpu1, gpu2 := s.newNode("gpu1"), s.newNode("gpu2")
	for _, n := range []*corev1.Node{gpu1, gpu2} {
		n.Labels["pool"] = "gpu"
		n.Spec.Taints = []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
	}
	s.createNodes(true, ok, gpu1, gpu2)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(1))

	require := s.name + "/agent=" + ScenarioLabel + "=" + s.name
	// Without the policy the DaemonSet looks healthy: desired is 1.
	if res := execPlugin(t, nil, "--kubeconfig", cluster.KubeconfigPath, "-n", s.name, "--fail-on", "error"); res.code != 0 {
		t.Fatalf("without a policy: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res := execPlugin(t, nil, "--kubeconfig", cluster.KubeconfigPath, "-n", s.name, "--require", require,
		"--wait", "--timeout", "8s", "--interval", "1s", "--fail-on", "error", "-o", "json")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
	}
	if res.took > 60*time.Second || !strings.Contains(res.stderr, "timed out after 8s") {
		t.Errorf("took %s; stderr:\n%s", res.took, res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.DaemonSets[0].Findings {
		got = append(got, string(f.Type)+"@"+f.Node)
		if f.Type == report.UncoveredNode && !strings.Contains(f.Suggestion, "{key: nvidia.com/gpu, operator: Equal, value: present, effect: NoSchedule}") {
			t.Errorf("suggestion %q lacks the toleration", f.Suggestion)
		}
	}
	// Required by a policy, the agent is a node agent: without a
	// priorityClassName that is a warning of its own (no node).
	want := []string{"LowPriorityAgent@", "UncoveredNode@" + gpu1.Name, "UncoveredNode@" + gpu2.Name}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// TestReadmeCIExample runs the README's generic CI step as written, on a
// cluster of its own (a policy "on every node" must see only its nodes).
func TestReadmeCIExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	step := regexp.MustCompile("(?s)Generic shell step.*?```sh\n(.*?)```").FindSubmatch(readme)
	policy := regexp.MustCompile("(?s)```yaml\n(# coverage.yaml\n.*?)```").FindSubmatch(readme)
	if step == nil || policy == nil {
		t.Fatal("README lost its CI step or its coverage.yaml example")
	}
	r, s := readmeCluster(t, "ci")
	ctx := s.ctx

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "coverage.yaml"), policy[1], 0o644); err != nil {
		t.Fatal(err)
	}
	bash := exec.Command("bash", "-c", string(step[1]))
	bash.Dir = dir
	bash.Env = append(os.Environ(), "KUBECONFIG="+r.KubeconfigPath, "PATH="+filepath.Dir(plugin(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stderr bytes.Buffer
	bash.Stderr = &stderr
	if err := bash.Run(); err != nil {
		t.Fatalf("the README's CI step failed: %v\n%s", err, stderr.String())
	}
	junit, err := os.ReadFile(filepath.Join(dir, "daemoncheck-junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(junit, &doc); err != nil {
		t.Fatalf("junit: %v\n%s", err, junit)
	}
	if doc.Failures != 0 || doc.Tests < 3 {
		t.Errorf("junit: %d tests, %d failures\n%s", doc.Tests, doc.Failures, junit)
	}
	// The same run wrote the JSON report (one run, several outputs).
	var rep report.Report
	if data, err := os.ReadFile(filepath.Join(dir, "daemoncheck.json")); err != nil || json.Unmarshal(data, &rep) != nil || rep.Kind != report.Kind || len(rep.DaemonSets) == 0 {
		t.Errorf("the README's CI step did not write its JSON report: %v", err)
	}

	// The same step fails (exit 1) once a node the policy covers cannot get
	// its Pod.
	tainted := s.newNode("c")
	tainted.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	if _, err := r.Client.CoreV1().Nodes().Create(ctx, tainted, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The node is seconds old: without --grace it counts at once.
	short := strings.Replace(strings.Replace(string(step[1]), "--timeout 10m", "--timeout 20s", 1), "--grace 2m", "--grace 0s", 1)
	if short == string(step[1]) {
		t.Fatal("the README's CI step changed: update this test's edits")
	}
	bash = exec.Command("bash", "-c", short)
	bash.Dir, bash.Env = dir, append(os.Environ(), "KUBECONFIG="+r.KubeconfigPath, "PATH="+filepath.Dir(plugin(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	err = bash.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("with an uncovered node the step must exit 1, got %v", err)
	}
	junit, _ = os.ReadFile(filepath.Join(dir, "daemoncheck-junit.xml"))
	if !bytes.Contains(junit, []byte(`type="UncoveredNode"`)) || !bytes.Contains(junit, []byte(tainted.Name)) {
		t.Errorf("junit lacks the UncoveredNode failure for %s:\n%s", tainted.Name, junit)
	}
}

// readmeCluster starts a fresh rig for the README's CI recipes: two plain
// nodes and security/falco on every node (the README's policy requires it).
func readmeCluster(t *testing.T, name string) (*rig.Rig, *scenario) {
	t.Helper()
	r, err := rig.Start(t, rig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s := &scenario{t: t, ctx: ctx, name: name}
	for _, short := range []string{"a", "b"} {
		if _, err := r.Client.CoreV1().Nodes().Create(ctx, s.newNode(short), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.CreateNamespace(ctx, "security", nil); err != nil {
		t.Fatal(err)
	}
	falco := s.newDaemonSet("falco")
	falco.Namespace = "security"
	falco.Spec.Template.Spec.NodeSelector = nil
	if _, err := r.Client.AppsV1().DaemonSets("security").Create(ctx, falco, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return r, s
}

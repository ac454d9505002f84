//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// TestServeWithPrometheus runs `kubectl daemoncheck serve` against a rig of
// its own (the API server's audit log on), as a user bound only to the
// read-only ClusterRole of plugins/rbac.yaml, with a real Prometheus
// scraping it every second and evaluating the shipped alert rules. The
// test changes the cluster (a node tainted away from a DaemonSet the
// coverage policy requires there, a DaemonSet whose Pods crash, a node that
// joins) and asserts on what PromQL answers through Prometheus' HTTP API:
// a problem node's series appears, an alert goes pending, and both are gone
// once the node is fixed. At the end serve stops on SIGTERM with exit 0,
// and the audit log shows it made only get, list and watch requests.
func TestServeWithPrometheus(t *testing.T) {
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found in PATH: run `make prometheus-deps` (part of `make e2e-deps`; installs the Debian package prometheus)")
	}
	bin := plugin(t)
	r, err := rig.Start(t, rig.Options{AuditLog: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	const ns = "serve"
	if err := r.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatal(err)
	}
	s := &scenario{t: t, ctx: ctx, name: ns}
	viewer := bindViewer(t, ctx, r)

	for _, n := range []string{"n0", "n1"} {
		if _, err := r.Client.CoreV1().Nodes().Create(ctx, s.newNode(n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Client.AppsV1().DaemonSets(ns).Create(ctx, s.newDaemonSet("agent"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// serve, as the viewer; the coverage policy requires the agent on every
	// node of the scenario.
	port := freeTCPPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logs := &lockedBuffer{}
	srv := exec.Command(bin, "serve", "--kubeconfig", viewer, "--listen-address", addr, "--interval", "2s",
		"--require", ns+"/agent="+ScenarioLabel+"="+ns)
	srv.Stdout, srv.Stderr = logs, logs
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = syscall.Kill(-srv.Process.Pid, syscall.SIGKILL)
			if err := <-exited; err != nil {
				t.Logf("serve killed: %v", err) // its exit status says nothing
			}
		}
		if t.Failed() {
			t.Logf("serve's log:\n%s", logs.String())
		}
	})
	waitHTTP(t, ctx, "http://"+addr+"/readyz", logs)

	prom := startPrometheus(t, ctx, promBin, addr)

	// Both nodes served: no per-node series, the counts agree.
	prom.waitFor(t, ctx, `up{job="daemoncheck"} == 1`, 1)
	prom.waitFor(t, ctx, `daemoncheck_daemonset_desired_number_scheduled{namespace="serve",daemonset="agent",source="recomputed"} == 2`, 1)
	prom.waitFor(t, ctx, `daemoncheck_daemonset_pool_covered_nodes{namespace="serve",daemonset="agent"} == 2`, 1)
	prom.waitFor(t, ctx, `daemoncheck_node_findings{namespace="serve"}`, 0)
	prom.waitFor(t, ctx, `daemoncheck_watch_up == 1 and daemoncheck_ready == 1`, 1)
	if got := prom.query(t, ctx, `count({__name__=~"daemoncheck_.+", cluster!=""})`); len(got) != 0 {
		t.Errorf("serve exports a cluster label: %v", got)
	}

	// A NoExecute taint the agent does not tolerate: its Pod is evicted and
	// the controller no longer targets the node, which the policy requires.
	taint := corev1.Taint{Key: "daemoncheck.e2e/drain", Value: "true", Effect: corev1.TaintEffectNoExecute}
	updateNodeOn(t, ctx, r.Client, "serve-n1", func(n *corev1.Node) { n.Spec.Taints = append(n.Spec.Taints, taint) })
	prom.waitFor(t, ctx, `daemoncheck_node_findings{namespace="serve",daemonset="agent",node="serve-n1",type="UncoveredNode"} == 1`, 1)
	prom.waitFor(t, ctx, `daemoncheck_daemonset_affected_nodes{namespace="serve",daemonset="agent",type="UncoveredNode",severity="error"} == 1`, 1)
	prom.waitFor(t, ctx, `ALERTS{alertname="DaemonSetNodeNotServed",alertstate="pending",node="serve-n1",daemonset="agent",severity="critical"}`, 1)

	// A DaemonSet whose Pods crash: on serve-n0, the one node it targets
	// while serve-n1 carries the taint.
	if _, err := r.Client.AppsV1().DaemonSets(ns).Create(ctx, withCrashLoop(s.newDaemonSet("crasher")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	prom.waitFor(t, ctx, `daemoncheck_node_findings{namespace="serve",daemonset="crasher",type="UnhealthyPod"} == 1`, 1)

	// The node fixed: the agent is back, its series and its alert are gone.
	updateNodeOn(t, ctx, r.Client, "serve-n1", func(n *corev1.Node) {
		var kept []corev1.Taint
		for _, tn := range n.Spec.Taints {
			if tn.Key != taint.Key {
				kept = append(kept, tn)
			}
		}
		n.Spec.Taints = kept
	})
	prom.waitFor(t, ctx, `daemoncheck_node_findings{namespace="serve",daemonset="agent"}`, 0)
	prom.waitFor(t, ctx, `ALERTS{alertname="DaemonSetNodeNotServed",daemonset="agent"}`, 0)

	// A node joins: the agent's targeted and covered counts follow; the
	// crashing DaemonSet removed: its series go.
	if _, err := r.Client.CoreV1().Nodes().Create(ctx, s.newNode("n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.AppsV1().DaemonSets(ns).Delete(ctx, "crasher", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	prom.waitFor(t, ctx, `daemoncheck_daemonset_pool_covered_nodes{namespace="serve",daemonset="agent"} == 3`, 1)
	prom.waitFor(t, ctx, `daemoncheck_daemonset_desired_number_scheduled{namespace="serve",daemonset="agent",source="recomputed"} == 3`, 1)
	prom.waitFor(t, ctx, `daemoncheck_node_findings{namespace="serve",daemonset="crasher"}`, 0)
	prom.waitFor(t, ctx, `daemoncheck_daemonsets == 1`, 1)

	// SIGTERM: a graceful stop, exit 0.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("serve after SIGTERM: %v, want exit 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of SIGTERM")
	}

	assertReadOnly(t, r.AuditLogPath, rig.ViewerUser)
}

// bindViewer binds the rig's viewer user to the ClusterRole of
// plugins/rbac.yaml and returns a kubeconfig for it, once RBAC lets it list.
func bindViewer(t *testing.T, ctx context.Context, r *rig.Rig) string {
	t.Helper()
	role := readClusterRole(t, filepath.Join(repoRoot(), "plugins", "rbac.yaml"))
	if _, err := r.Client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewer-daemoncheck"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: rig.ViewerUser}},
	}
	if _, err := r.Client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	vc := rest.CopyConfig(r.Config)
	vc.BearerToken = rig.ViewerToken
	vclient := kubernetes.NewForConfigOrDie(vc)
	for i := 0; ; i++ {
		if _, err := vclient.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: 1}); err == nil {
			break
		} else if i == 100 {
			t.Fatalf("the viewer cannot list nodes: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	path, err := r.KubeconfigForToken("viewer", rig.ViewerToken)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func updateNodeOn(t *testing.T, ctx context.Context, cs kubernetes.Interface, name string, fn func(*corev1.Node)) {
	t.Helper()
	for i := 0; ; i++ {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fn(n)
		if _, err = cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{}); err == nil {
			return
		} else if i == 20 {
			t.Fatalf("update node %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitHTTP waits for url to answer 200.
func waitHTTP(t testing.TB, ctx context.Context, url string, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var last string
	for time.Now().Before(deadline) && ctx.Err() == nil {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 2m (last: %s)\n%s", url, last, logs.String())
}

// prometheus is a Prometheus server the test started.
type prometheus struct{ base string }

// startPrometheus runs Prometheus on a free port with a temporary config
// and storage: it scrapes serve at target every second and evaluates the
// shipped alert rules every second. It is stopped (its process group)
// when the test ends.
func startPrometheus(t *testing.T, ctx context.Context, bin, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join(repoRoot(), "plugins", "chart", "daemoncheck", "files", "rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yaml]
scrape_configs:
- job_name: daemoncheck
  static_configs:
  - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freeTCPPort(t))
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--storage.tsdb.retention.time=1h")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus' log (last lines):\n%s", lastLines(logs.String(), 30))
		}
	})
	waitHTTP(t, ctx, "http://"+addr+"/-/ready", logs)
	return &prometheus{base: "http://" + addr}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (p *prometheus) query(t *testing.T, ctx context.Context, expr string) []sample {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/query?query="+url.QueryEscape(expr), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string   `json:"resultType"`
			Result     []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("query %s: %v", expr, err)
	}
	if out.Status != "success" {
		t.Fatalf("query %s: %s", expr, out.Error)
	}
	return out.Data.Result
}

// waitFor waits up to a minute for expr to return n series.
func (p *prometheus) waitFor(t *testing.T, ctx context.Context, expr string, n int) {
	t.Helper()
	start := time.Now()
	var got []sample
	for time.Since(start) < time.Minute && ctx.Err() == nil {
		if got = p.query(t, ctx, expr); len(got) == n {
			t.Logf("%s: %d series after %s", expr, n, time.Since(start).Round(100*time.Millisecond))
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: %d series after 1m, want %d: %v", expr, len(got), n, got)
}

// assertReadOnly reads the API server's audit log: user made requests, and
// every one was a get, list or watch.
func assertReadOnly(t *testing.T, path, user string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type event struct {
		Stage string `json:"stage"`
		Verb  string `json:"verb"`
		URI   string `json:"requestURI"`
		User  struct {
			Username string `json:"username"`
		} `json:"user"`
	}
	verbs := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line: %v", err)
		}
		if e.User.Username != user || e.Stage != "ResponseComplete" && e.Stage != "ResponseStarted" {
			continue
		}
		verbs[e.Verb]++
		switch e.Verb {
		case "get", "list", "watch":
		default:
			t.Errorf("serve made a %s request: %s", e.Verb, e.URI)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if verbs["list"] == 0 || verbs["watch"] == 0 {
		t.Errorf("serve's requests as %s: %v; want lists and watches", user, verbs)
	}
	t.Logf("serve's requests as %s: %v", user, verbs)
}

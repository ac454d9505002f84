//go:build e2e

package e2e

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// faultProxy stands between the plugin and the rig's API server and answers
// some requests itself, as a struggling server would.
type faultProxy struct {
	srv   *httptest.Server
	mu    sync.Mutex
	fault func(r *http.Request, n int) (status int, reason string)
	// custom, when set, may answer a request itself (returns true).
	custom   func(w http.ResponseWriter, r *http.Request, n int) bool
	seen     map[string]int // requests per "resource continue?" key
	injected atomic.Int32
}

func newFaultProxy(t *testing.T, fault func(r *http.Request, n int) (int, string)) *faultProxy {
	t.Helper()
	return newCustomProxy(t, fault, nil)
}

// newCustomProxy is newFaultProxy with a handler that may write any answer.
func newCustomProxy(t *testing.T, fault func(r *http.Request, n int) (int, string), custom func(w http.ResponseWriter, r *http.Request, n int) bool) *faultProxy {
	t.Helper()
	target, err := url.Parse(cluster.APIServerURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{fault: fault, custom: custom, seen: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Method + " " + r.URL.Path
		if r.URL.Query().Get("continue") != "" {
			key += " continue"
		}
		p.mu.Lock()
		p.seen[key]++
		n := p.seen[key]
		p.mu.Unlock()
		if p.custom != nil && p.custom(w, r, n) {
			p.injected.Add(1)
			return
		}
		if status, reason := p.fault(r, n); status != 0 {
			p.injected.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"injected by the test","reason":%q,"code":%d}`, reason, status)
			return
		}
		// client-go does not send a bearer token to a plain-http server;
		// the proxy authenticates as the rig's admin instead.
		r.Header.Set("Authorization", "Bearer "+rig.AdminToken)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// kubeconfigFor writes a kubeconfig for server with the rig's admin token.
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: %q}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, server, rig.AdminToken)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// faultScenario is a small settled DaemonSet to read through the proxy.
func faultScenario(t *testing.T, name string, nodes int) *scenario {
	s := newScenario(t, name)
	s.plainNodes(nodes)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(int32(nodes)))
	return s
}

// TestStrugglingServer: 429 and 503 answers (without Retry-After) are
// retried with backoff, and the report is the one a healthy server gives.
func TestStrugglingServer(t *testing.T) {
	t.Parallel()
	s := faultScenario(t, "fault-retry", 3)
	want, _ := runPlugin(t, "-n", s.name)
	p := newFaultProxy(t, func(r *http.Request, n int) (int, string) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/pods") && n <= 2:
			return http.StatusServiceUnavailable, "ServiceUnavailable"
		case strings.HasSuffix(r.URL.Path, "/nodes") && n == 1:
			return http.StatusTooManyRequests, "TooManyRequests"
		case strings.HasSuffix(r.URL.Path, "/daemonsets") && n == 1:
			return http.StatusInternalServerError, "InternalError"
		}
		return 0, ""
	})
	got, code := runPluginOn(t, kubeconfigFor(t, p.srv.URL), "-n", s.name)
	if code != 0 || p.injected.Load() < 4 {
		t.Fatalf("exit %d after %d injected failures", code, p.injected.Load())
	}
	if g, w := findingSet(got.DaemonSets[0].Findings), findingSet(want.DaemonSets[0].Findings); strings.Join(g, ",") != strings.Join(w, ",") ||
		*got.DaemonSets[0].Computed != *want.DaemonSets[0].Computed {
		t.Errorf("through the struggling server: %v %+v; direct: %v %+v", g, got.DaemonSets[0].Computed, w, want.DaemonSets[0].Computed)
	}
}

// TestServerNeverRecovers: retries are bounded; the run ends with exit 3 and
// one line naming the server.
func TestServerNeverRecovers(t *testing.T) {
	t.Parallel()
	p := newFaultProxy(t, func(r *http.Request, n int) (int, string) {
		if strings.HasSuffix(r.URL.Path, "/daemonsets") {
			return http.StatusServiceUnavailable, "ServiceUnavailable"
		}
		return 0, ""
	})
	res := execPlugin(t, nil, "--kubeconfig", kubeconfigFor(t, p.srv.URL))
	if res.code != 3 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 || !strings.Contains(res.stderr, p.srv.URL) {
		t.Errorf("exit %d, stderr %q: want 3 and one line naming the server", res.code, res.stderr)
	}
	if res.took > 60*time.Second || p.injected.Load() != 5 {
		t.Errorf("took %s with %d attempts; want 5 attempts (4 retries) within a minute", res.took, p.injected.Load())
	}
}

// TestHangingServer: a server that accepts and never answers ends the run
// within --request-timeout (plus retries of nothing), exit 3, one line.
func TestHangingServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	res := execPlugin(t, nil, "--kubeconfig", kubeconfigFor(t, "http://"+ln.Addr().String()), "--request-timeout", "2s")
	if res.code != 3 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q: want 3 and one line", res.code, res.stderr)
	}
	if res.took > 15*time.Second {
		t.Errorf("a 2s --request-timeout took %s", res.took)
	}
	// Unreachable: nothing listens.
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln2.Addr().String()
	ln2.Close()
	res = execPlugin(t, nil, "--kubeconfig", kubeconfigFor(t, "http://"+addr))
	if res.code != 3 || !strings.Contains(res.stderr, "cannot read from the cluster at http://"+addr) || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("unreachable: exit %d, stderr %q", res.code, res.stderr)
	}
}

// TestExpiredContinueToken: when a paginated list's continue token expires
// (410 Gone), the list starts over, and the report matches a clean read.
func TestExpiredContinueToken(t *testing.T) {
	t.Parallel()
	s := faultScenario(t, "fault-expired", 4)
	want, _ := runPlugin(t, "-n", s.name)
	p := newFaultProxy(t, func(r *http.Request, n int) (int, string) {
		if r.URL.Query().Get("continue") != "" && n == 1 && (strings.HasSuffix(r.URL.Path, "/pods") || strings.HasSuffix(r.URL.Path, "/nodes")) {
			return http.StatusGone, "Expired"
		}
		return 0, ""
	})
	got, code := runPluginOn(t, kubeconfigFor(t, p.srv.URL), "-n", s.name, "--chunk-size", "1")
	if code != 0 || p.injected.Load() != 2 {
		t.Fatalf("exit %d, %d injected 410s (want 2: one for pods, one for nodes)", code, p.injected.Load())
	}
	if got.NodeCount != want.NodeCount && got.NodeCount < len(s.nodes) {
		t.Errorf("node count %d after restart, direct %d", got.NodeCount, want.NodeCount)
	}
	if *got.DaemonSets[0].Computed != *want.DaemonSets[0].Computed || len(got.DaemonSets[0].Findings) != 0 {
		t.Errorf("after restarts: %+v %v; direct: %+v", got.DaemonSets[0].Computed, findingSet(got.DaemonSets[0].Findings), want.DaemonSets[0].Computed)
	}
}

// TestChurnDuringRead: Pods and nodes unrelated to the DaemonSet come and go
// while the plugin pages through small chunks; every report agrees with the
// controller and finds nothing.
func TestChurnDuringRead(t *testing.T) {
	t.Parallel()
	s := faultScenario(t, "fault-churn", 3)
	ds := s.getDaemonSet("agent")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("churn-%d", i), Namespace: s.name, Labels: map[string]string{"app": "churn"}},
				Spec:       corev1.PodSpec{NodeName: "nowhere", Containers: []corev1.Container{{Name: "c", Image: "x"}}},
			}
			_, _ = cluster.Client.CoreV1().Pods(s.name).Create(s.ctx, pod, metav1.CreateOptions{})
			node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-churn-%d", s.name, i), Labels: map[string]string{"churn": s.name}}}
			_, _ = cluster.Client.CoreV1().Nodes().Create(s.ctx, node, metav1.CreateOptions{})
			if i >= 2 {
				_ = cluster.Client.CoreV1().Pods(s.name).Delete(s.ctx, fmt.Sprintf("churn-%d", i-2), metav1.DeleteOptions{})
				_ = cluster.Client.CoreV1().Nodes().Delete(s.ctx, fmt.Sprintf("%s-churn-%d", s.name, i-2), metav1.DeleteOptions{})
			}
		}
	}()
	t.Cleanup(func() {
		_ = cluster.Client.CoreV1().Nodes().DeleteCollection(s.ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "churn=" + s.name})
	})
	defer func() { close(stop); wg.Wait() }()
	for run := 0; run < 5; run++ {
		rep, _ := runPlugin(t, "-n", s.name, "--chunk-size", "2")
		dr := rep.DaemonSets[0]
		c := dr.Computed
		if len(dr.Findings) != 0 || c.DesiredNumberScheduled != ds.Status.DesiredNumberScheduled || c.NumberReady != ds.Status.NumberReady {
			t.Errorf("run %d under churn: findings %v, computed %+v, controller %+v", run, findingSet(dr.Findings), *c, ds.Status)
		}
	}
}

// TestRetryAfterIsCapped: a 429 with Retry-After: 3600 is
// retried by one layer only (5 GETs, not 11 x 5) and each wait is capped,
// so the run ends in seconds, exit 3, one line.
func TestRetryAfterIsCapped(t *testing.T) {
	t.Parallel()
	p := newCustomProxy(t, func(*http.Request, int) (int, string) { return 0, "" }, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !strings.HasSuffix(r.URL.Path, "/daemonsets") {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"slow down","reason":"TooManyRequests","code":429}`)
		return true
	})
	res := execPlugin(t, nil, "--kubeconfig", kubeconfigFor(t, p.srv.URL))
	if res.code != 3 || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q: want 3 and one line", res.code, res.stderr)
	}
	if res.took > 40*time.Second || p.injected.Load() != 5 {
		t.Errorf("took %s with %d GETs; want 5 GETs, each wait capped at 5 s", res.took, p.injected.Load())
	}
}

// TestNotAListIsAnError: a 200 answer that is not a
// DaemonSetList (an SSO proxy's JSON page, a PodList) is exit 3, never
// "No daemonsets found" and exit 0.
func TestNotAListIsAnError(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"json error page": `{"error":"login required"}`,
		"pod list":        `{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`,
	} {
		p := newCustomProxy(t, func(*http.Request, int) (int, string) { return 0, "" }, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if !strings.HasSuffix(r.URL.Path, "/daemonsets") {
				return false
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
			return true
		})
		res := execPlugin(t, nil, "--kubeconfig", kubeconfigFor(t, p.srv.URL))
		if res.code != 3 || !strings.Contains(res.stderr, "instead of a DaemonSetList") {
			t.Errorf("%s: exit %d, stderr %q", name, res.code, res.stderr)
		}
	}
}

package serve

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// cluster is a Source the test changes: each Read returns its current
// snapshot, or its error, or blocks while gate is held.
type cluster struct {
	mu    sync.Mutex
	snap  func() *model.Snapshot
	err   error
	gate  sync.RWMutex
	reads int
}

func (c *cluster) read(ctx context.Context, _ *collect.Cursor) (*model.Snapshot, error) {
	c.gate.RLock()
	defer c.gate.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	if c.err != nil {
		return nil, c.err
	}
	return c.snap(), nil
}

func (c *cluster) set(snap func() *model.Snapshot, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snap, c.err = snap, err
}

// agentCluster: three nodes in two pools, DaemonSet ns/agent with Pods on
// the nodes named.
func agentCluster(podsOn ...string) func() *model.Snapshot {
	return func() *model.Snapshot {
		snap := &model.Snapshot{Source: "test"}
		for i, n := range []string{"n1", "n2", "n3"} {
			snap.Nodes = append(snap.Nodes, fixture.Node(n, fixture.WithLabel("node.kubernetes.io/instance-type", []string{"small", "large", "large"}[i])))
		}
		ds := fixture.DaemonSet("ns", "agent")
		ds.Status.DesiredNumberScheduled = 3
		snap.ControllerRevisions = append(snap.ControllerRevisions, fixture.Revision(&ds, 1))
		for _, n := range podsOn {
			snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(&ds, n))...)
		}
		snap.DaemonSets = []appsv1.DaemonSet{ds}
		return snap
	}
}

// startServer runs a server on c (polling every 20ms) until the test ends.
func startServer(t *testing.T, c *cluster, page func(io.Writer, *report.Report) error) *Server {
	t.Helper()
	var logs bytes.Buffer
	srv, err := New(Config{Source: Source{Read: c.read}, Interval: 20 * time.Millisecond, Page: page, Log: log.New(&syncWriter{w: &logs}, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	startFollow(t, srv)
	return srv
}

// startFollow runs srv's analysis loop until the test ends.
func startFollow(t *testing.T, srv *Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.follow(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// eventually retries cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: not after 5s; last:\n%s", what, last)
}

func exposition(t *testing.T, ms []prometheus.Metric) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(fixed(ms))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("\n")
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// fixed is an unchecked collector of given metrics.
type fixed []prometheus.Metric

func (fixed) Describe(chan<- *prometheus.Desc) {}
func (f fixed) Collect(ch chan<- prometheus.Metric) {
	for _, m := range f {
		ch <- m
	}
}

func grep(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Not ready while the first read fails (the reason on /readyz), ready once
// an analysis is published; /metrics carries the problem node's series,
// which disappears once the node is fixed; not ready again when reads
// fail, while /metrics keeps the last complete analysis.
func TestServeFollowsTheCluster(t *testing.T) {
	c := &cluster{}
	c.set(nil, errors.New("connection refused"))
	srv := startServer(t, c, nil)
	h := srv.Handler()
	if code, body := get(t, h, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	eventually(t, "/readyz says why it is not ready", func() (bool, string) {
		code, body := get(t, h, "/readyz")
		return code == 503 && strings.Contains(body, "cannot read the cluster: connection refused"), body
	})

	c.set(agentCluster("n1", "n3"), nil)
	eventually(t, "ready after the first analysis", func() (bool, string) {
		code, body := get(t, h, "/readyz")
		return code == 200, body
	})
	missing := `daemoncheck_node_findings{daemonset="agent",namespace="ns",node="n2",type="MissingPod"} 1`
	eventually(t, "the missing node's series", func() (bool, string) {
		_, body := get(t, h, "/metrics")
		return strings.Contains(body, missing) &&
			strings.Contains(body, `daemoncheck_daemonset_affected_nodes{daemonset="agent",namespace="ns",severity="error",type="MissingPod"} 1`) &&
			strings.Contains(body, `daemoncheck_daemonset_pool_missing_nodes{daemonset="agent",namespace="ns",pool="large"} 1`) &&
			strings.Contains(body, `daemoncheck_daemonset_pool_covered_nodes{daemonset="agent",namespace="ns",pool="small"} 1`) &&
			strings.Contains(body, `daemoncheck_daemonset_desired_number_scheduled{daemonset="agent",namespace="ns",source="recomputed"} 3`) &&
			strings.Contains(body, "daemoncheck_ready 1") && strings.Contains(body, "daemoncheck_watch_up 1"), body
	})
	if strings.Contains(get2(t, h), "cluster=") {
		t.Errorf("serve exports a cluster label")
	}

	c.set(agentCluster("n1", "n2", "n3"), nil)
	eventually(t, "the fixed node's series disappears", func() (bool, string) {
		_, body := get(t, h, "/metrics")
		return !strings.Contains(body, "daemoncheck_node_findings{") &&
			strings.Contains(body, `daemoncheck_daemonset_affected_nodes{daemonset="agent",namespace="ns",severity="error",type="MissingPod"} 0`), grep(body, "node_findings")
	})

	c.set(nil, errors.New("the server is gone"))
	eventually(t, "not ready while it cannot read", func() (bool, string) {
		code, body := get(t, h, "/readyz")
		return code == 503 && strings.Contains(body, "the server is gone"), body
	})
	_, body := get(t, h, "/metrics")
	for _, want := range []string{"daemoncheck_watch_up 0", "daemoncheck_ready 0", `daemoncheck_daemonsets 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q while reads fail:\n%s", want, grep(body, "daemoncheck_"))
		}
	}
}

func get2(t *testing.T, h http.Handler) string {
	_, body := get(t, h, "/metrics")
	return body
}

// A scrape answers from the last complete analysis while the next read
// and analysis are under way: it never waits for them.
func TestScrapeDoesNotWaitForAnalysis(t *testing.T) {
	c := &cluster{}
	c.set(agentCluster("n1"), nil)
	srv := startServer(t, c, nil)
	h := srv.Handler()
	eventually(t, "ready", func() (bool, string) {
		code, body := get(t, h, "/readyz")
		return code == 200, body
	})
	c.gate.Lock() // the next read blocks
	defer c.gate.Unlock()
	time.Sleep(50 * time.Millisecond) // the loop is now inside a read
	start := time.Now()
	code, body := get(t, h, "/metrics")
	if took := time.Since(start); code != 200 || took > time.Second || !strings.Contains(body, `node="n2"`) {
		t.Errorf("scrape during a read: %d in %s, want 200 with the last analysis at once:\n%s", code, took, grep(body, "node_findings"))
	}
}

// / renders the last complete report with the injected page.
func TestPageRendersTheLastReport(t *testing.T) {
	c := &cluster{}
	c.set(nil, errors.New("not yet"))
	srv := startServer(t, c, func(w io.Writer, r *report.Report) error {
		_, err := io.WriteString(w, "<p>"+r.DaemonSets[0].Name+"</p>")
		return err
	})
	h := srv.Handler()
	if code, body := get(t, h, "/"); code != 503 || !strings.Contains(body, "not ready") {
		t.Errorf("/ before the first analysis: %d %s", code, body)
	}
	c.set(agentCluster("n1"), nil)
	eventually(t, "the page", func() (bool, string) {
		code, body := get(t, h, "/")
		return code == 200 && body == "<p>agent</p>", body
	})
	if code, _ := get(t, h, "/nothing-here"); code != 404 {
		t.Errorf("/nothing-here: %d, want 404", code)
	}
}

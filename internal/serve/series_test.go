package serve

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// fleetSnapshot is a cluster of n nodes in five pools (by instance type)
// and 20 DaemonSets of varied placement; every broken-th node is broken
// for every daemon it should run (no Pod for half the DaemonSets, a
// crash-looping one for the others), the worst shape 1% of broken nodes
// can take.
func fleetSnapshot(n, broken int) *model.Snapshot {
	snap := &model.Snapshot{Source: "test"}
	pools := []string{"general", "gpu", "infra", "storage", "edge"}
	for i := range n {
		pool := pools[0]
		if h := i % 20; h < 4 {
			pool = pools[1+h]
		}
		opts := []fixture.NodeOpt{fixture.WithLabel("node.kubernetes.io/instance-type", pool), fixture.WithLabel("kubernetes.io/arch", []string{"amd64", "arm64"}[i%2])}
		if pool == "gpu" {
			opts = append(opts, fixture.WithTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule))
		}
		snap.Nodes = append(snap.Nodes, fixture.Node(fmt.Sprintf("node-%05d", i), opts...))
	}
	all := fixture.Exists("", "")
	for d := range 20 {
		var opts []fixture.DSOpt
		switch d % 4 {
		case 0:
			opts = append(opts, fixture.WithToleration(all))
		case 1:
			opts = append(opts, fixture.WithNodeSelector("kubernetes.io/arch", "arm64"))
		case 2:
			opts = append(opts, fixture.WithNodeSelector("node.kubernetes.io/instance-type", pools[d%5]), fixture.WithToleration(all))
		}
		snap.DaemonSets = append(snap.DaemonSets, fixture.DaemonSet(fmt.Sprintf("ns-%d", d%4), fmt.Sprintf("agent-%02d", d), opts...))
	}
	for d := range snap.DaemonSets {
		ds := &snap.DaemonSets[d]
		snap.ControllerRevisions = append(snap.ControllerRevisions, fixture.Revision(ds, 1))
		addPods(snap, ds, broken, d)
	}
	return snap
}

func addPods(snap *model.Snapshot, ds *appsv1.DaemonSet, broken, d int) {
	for i := range snap.Nodes {
		node := &snap.Nodes[i]
		if !shouldRun(ds, node) {
			continue
		}
		ds.Status.DesiredNumberScheduled++
		switch {
		case broken > 0 && i%broken == 1 && d%2 == 0:
			ds.Status.NumberUnavailable++ // missing
		case broken > 0 && i%broken == 1:
			snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, fixture.Waiting("CrashLoopBackOff", "back-off", 7)))...)
			ds.Status.CurrentNumberScheduled++
			ds.Status.UpdatedNumberScheduled++
			ds.Status.NumberUnavailable++
		default:
			snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name))...)
			ds.Status.CurrentNumberScheduled++
			ds.Status.UpdatedNumberScheduled++
			ds.Status.NumberReady++
			ds.Status.NumberAvailable++
		}
	}
}

// shouldRun is the placement of fleetSnapshot's DaemonSets (selectors and
// the one taint), kept simple on purpose: the analysis decides for itself.
func shouldRun(ds *appsv1.DaemonSet, n *corev1.Node) bool {
	for k, v := range ds.Spec.Template.Spec.NodeSelector {
		if n.Labels[k] != v {
			return false
		}
	}
	return len(n.Spec.Taints) == 0 || len(ds.Spec.Template.Spec.Tolerations) > 0
}

// The series of a 5,000-node cluster with 1% of its nodes broken stay under
// 2,000, the go_* and process_* series included (the budget):
// finding types of severity error cost 2 series per DaemonSet even when
// clean, the others only while present.
func TestSeriesCountOf5000Nodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and analyses a 5,000-node cluster (seconds); covered by go test without -short")
	}
	snap := fleetSnapshot(5000, 100)
	rep := audit.Analyze(snap, audit.Options{Now: time.Now()})
	if rep.Summary.ByType[report.MissingPod] == 0 || rep.Summary.ByType[report.UnhealthyPod] == 0 {
		t.Fatalf("the fixture has no broken nodes: %v", rep.Summary.ByType)
	}
	st := &state{failOn: "error"}
	st.latest.Store(&published{report: rep, metrics: seriesOf(rep, seriesOptions{maxNodeSeries: DefaultMaxNodeSeries})})
	srv := &Server{st: st}
	reg := newRegistry(srv.st)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total, byFamily := 0, map[string]int{}
	for _, mf := range mfs {
		total += len(mf.Metric)
		byFamily[mf.GetName()] = len(mf.Metric)
	}
	t.Logf("5,000 nodes, 20 DaemonSets, 50 broken nodes (%d findings): %d series (%d daemoncheck_node_findings, %d per-pool, %d findings by type)",
		rep.Summary.Findings, total, byFamily["daemoncheck_node_findings"], 3*byFamily["daemoncheck_daemonset_pool_targeted_nodes"], byFamily["daemoncheck_daemonset_findings"])
	if total >= 2000 {
		t.Errorf("%d series, want under 2,000: %v", total, byFamily)
	}
	if byFamily["daemoncheck_node_findings"] == 0 {
		t.Errorf("no per-node series for the broken nodes")
	}
}

// --max-node-series keeps the most severe per-node series and counts the
// rest.
func TestNodeSeriesBound(t *testing.T) {
	snap := fleetSnapshot(200, 10)
	rep := audit.Analyze(snap, audit.Options{Now: time.Now()})
	text := exposition(t, seriesOf(rep, seriesOptions{maxNodeSeries: 5}))
	if n := strings.Count(text, "\ndaemoncheck_node_findings{"); n != 5 {
		t.Errorf("%d node series, want 5", n)
	}
	if !strings.Contains(text, "\ndaemoncheck_node_findings_omitted ") || strings.Contains(text, "\ndaemoncheck_node_findings_omitted 0\n") {
		t.Errorf("the omitted series are not counted:\n%s", grep(text, "omitted"))
	}
}

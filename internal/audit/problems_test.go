package audit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func problemsOf(t *testing.T, s *model.Snapshot) []report.Problem {
	t.Helper()
	return audit.Analyze(s, audit.Options{Now: fixture.Epoch}).Problems
}

func findProblem(ps []report.Problem, typ string) *report.Problem {
	for i := range ps {
		if ps[i].Type == typ {
			return &ps[i]
		}
	}
	return nil
}

// One bad image on 23 of 24 nodes is one problem, with its nodes as a range.
func TestProblemGroupsOneCause(t *testing.T) {
	ds := fixture.DaemonSet("logging", "fluent-bit")
	var nodes []corev1.Node
	var pods []corev1.Pod
	for i := 1; i <= 24; i++ {
		name := fmt.Sprintf("worker-%02d", i)
		nodes = append(nodes, fixture.Node(name))
		if i == 7 {
			pods = append(pods, fixture.Pod(&ds, name))
			continue
		}
		p := fixture.Pod(&ds, name, fixture.Waiting("ImagePullBackOff", `Back-off pulling image "cr.fluentbit.io/fluent/fluent-bit:4.0.99"`, 0))
		p.Status.ContainerStatuses[0].Image = "cr.fluentbit.io/fluent/fluent-bit:4.0.99"
		pods = append(pods, p)
	}
	ps := problemsOf(t, detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1)))
	var unhealthy []report.Problem
	for _, p := range ps {
		if p.Type == string(report.UnhealthyPod) {
			unhealthy = append(unhealthy, p)
		}
	}
	if len(unhealthy) != 1 {
		t.Fatalf("want one UnhealthyPod problem, got %+v", ps)
	}
	p := unhealthy[0]
	if len(p.Nodes) != 23 || p.Range != "worker-01…24 except 07" || len(p.Findings) != 23 || !p.Failing || p.Severity != report.SeverityError {
		t.Errorf("problem %+v", p)
	}
	if !strings.Contains(p.Cause, "ImagePullBackOff") || !strings.Contains(p.Cause, "fluent-bit:4.0.99") || !strings.Contains(p.Fix, "fluent-bit:4.0.99") {
		t.Errorf("cause %q fix %q", p.Cause, p.Fix)
	}
}

// A rollout blocked by a crash-looping new revision on one node (maxUnavailable
// 1) is RolloutStuck naming the blocking Pod; OutdatedPod no longer advises
// waiting.
func TestRolloutStuckOnCrashLoop(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent", fixture.Generation(2))
	var nodes []corev1.Node
	var pods []corev1.Pod
	for i := 1; i <= 11; i++ {
		name := fmt.Sprintf("n%d", i)
		nodes = append(nodes, fixture.Node(name))
		if i == 1 {
			pods = append(pods, fixture.Pod(&ds, name, fixture.AtGeneration(&ds, 2), fixture.Waiting("CrashLoopBackOff", "back-off 5m0s", 9)))
			continue
		}
		pods = append(pods, fixture.Pod(&ds, name)) // generation 1: outdated
	}
	rep := audit.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)), audit.Options{Now: fixture.Epoch})
	stuck := findProblem(rep.Problems, string(report.RolloutStuck))
	if stuck == nil {
		t.Fatalf("no RolloutStuck problem: %+v", rep.Problems)
	}
	if !strings.Contains(stuck.Cause, "1 unavailable of maxUnavailable 1") || !strings.Contains(stuck.Cause, "CrashLoopBackOff") || !strings.Contains(stuck.Fix, "kubectl rollout undo daemonset/agent -n ns") {
		t.Errorf("stuck: %+v", stuck)
	}
	for _, f := range rep.DaemonSets[0].Findings {
		if f.Type == report.OutdatedPod && (strings.Contains(f.Suggestion, "once fewer") || !strings.Contains(f.Suggestion, "stuck")) {
			t.Errorf("OutdatedPod must not advise waiting on a stuck rollout: %q", f.Suggestion)
		}
	}
	if out := findProblem(rep.Problems, string(report.OutdatedPod)); out == nil || len(out.Nodes) != 10 {
		t.Errorf("outdated problem: %+v", out)
	}
}

// maxUnavailable 0, maxSurge 1: a new Pod Pending for a host port blocks the
// surge; waiting cannot help.
func TestRolloutStuckOnSurgeHostPort(t *testing.T) {
	ds := fixture.DaemonSet("ns", "exporter", fixture.Generation(2), fixture.Surge(1))
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3")}
	pods := []corev1.Pod{
		fixture.Pod(&ds, "n1"),
		fixture.Pod(&ds, "n1", fixture.Named("exporter-new"), fixture.AtGeneration(&ds, 2), fixture.PodCreatedAgo(time.Minute), fixture.Unscheduled("0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")),
		fixture.Pod(&ds, "n2"), fixture.Pod(&ds, "n3"),
	}
	rep := audit.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)), audit.Options{Now: fixture.Epoch})
	stuck := findProblem(rep.Problems, string(report.RolloutStuck))
	if stuck == nil || !strings.Contains(stuck.Cause, "maxSurge 1") || !strings.Contains(stuck.Cause, "host port") {
		t.Fatalf("want RolloutStuck blamed on the host port, got %+v", rep.Problems)
	}
	// With room left in the budget the same rollout is progressing.
	three := intstr.FromInt32(3)
	ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = &three
	rep = audit.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)), audit.Options{Now: fixture.Epoch})
	if p := findProblem(rep.Problems, string(report.RolloutStuck)); p != nil {
		t.Errorf("maxSurge 3 leaves room: not stuck, got %+v", p)
	}
}

// A NotReady node is one problem naming every DaemonSet it affects, and the
// fix points at the node, not at Pod logs.
func TestNodeCauseIsOneProblem(t *testing.T) {
	tolerateAll := fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})
	var dss []appsv1.DaemonSet
	for _, n := range []string{"a", "b", "c"} {
		dss = append(dss, fixture.DaemonSet("kube-system", n, tolerateAll, fixture.Critical()))
	}
	nodes := []corev1.Node{fixture.Node("ok"), fixture.Node("sick", fixture.NotReady())}
	var pods []corev1.Pod
	var revs []appsv1.ControllerRevision
	for i := range dss {
		pods = append(pods, fixture.Pod(&dss[i], "ok"), fixture.Pod(&dss[i], "sick", fixture.NotReadyPod()))
		revs = append(revs, fixture.Revision(&dss[i], 1))
	}
	ps := problemsOf(t, detecttest.Cluster(nodes, dss, pods, revs...))
	if len(ps) != 1 {
		t.Fatalf("want one problem for the node, got %d: %+v", len(ps), ps)
	}
	p := ps[0]
	if !strings.HasPrefix(p.Type, "Node") || len(p.DaemonSets) != 3 || len(p.Nodes) != 1 || p.Nodes[0] != "sick" || len(p.Findings) != 3 {
		t.Errorf("problem %+v", p)
	}
	if !strings.Contains(p.Fix, "kubectl describe node sick") || strings.Contains(p.Fix, "logs") {
		t.Errorf("fix must point at the node: %q", p.Fix)
	}
}

// A typo in the node selector targets no node: NoTargets says which value
// is one edit away.
func TestNoTargetsNearMiss(t *testing.T) {
	ds := fixture.DaemonSet("gpu-operator", "dcgm", fixture.WithNodeSelector("nvidia.com/gpu.present", "ture"))
	nodes := []corev1.Node{
		fixture.Node("gpu-1", fixture.WithLabel("nvidia.com/gpu.present", "true")),
		fixture.Node("gpu-2", fixture.WithLabel("nvidia.com/gpu.present", "true")),
		fixture.Node("cpu-1"),
	}
	ps := problemsOf(t, detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, nil, fixture.Revision(&ds, 1)))
	p := findProblem(ps, string(report.NoTargets))
	if p == nil || !strings.Contains(p.Cause, "did you mean nvidia.com/gpu.present=true (on 2 nodes)?") {
		t.Fatalf("want NoTargets with the near miss, got %+v", ps)
	}
}

// 15 of 50 nodes crash-loop, all of one instance type: the pattern is named.
func TestProblemPattern(t *testing.T) {
	ds := fixture.DaemonSet("security", "falco")
	var nodes []corev1.Node
	var pods []corev1.Pod
	for i := 1; i <= 50; i++ {
		name := fmt.Sprintf("node-%d", i)
		it := "m5.large"
		if i%10 < 3 {
			it = "m7g.large"
		}
		nodes = append(nodes, fixture.Node(name, fixture.WithLabel(corev1.LabelInstanceTypeStable, it)))
		if it == "m7g.large" {
			pods = append(pods, fixture.Pod(&ds, name, fixture.Waiting("CrashLoopBackOff", "back-off", 4)))
		} else {
			pods = append(pods, fixture.Pod(&ds, name))
		}
	}
	ps := problemsOf(t, detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1)))
	if len(ps) != 1 || len(ps[0].Nodes) != 15 || !strings.Contains(ps[0].Pattern, "instance type m7g.large") {
		t.Fatalf("want one problem with the instance-type pattern, got %+v", ps)
	}
	if ps[0].Nodes[1] != "node-2" || ps[0].Nodes[2] != "node-10" {
		t.Errorf("nodes not in natural order: %v", ps[0].Nodes)
	}
}

// A pool the DaemonSet's tolerations keep it off is one coverage line, by
// pool, and not a finding without a policy.
func TestCoverageGapByPool(t *testing.T) {
	ds := fixture.DaemonSet("security", "falco")
	var nodes []corev1.Node
	var pods []corev1.Pod
	for i := 1; i <= 10; i++ {
		name := fmt.Sprintf("general-%d", i)
		nodes = append(nodes, fixture.Node(name, fixture.WithLabel("karpenter.sh/nodepool", "general")))
		pods = append(pods, fixture.Pod(&ds, name))
	}
	for i := 1; i <= 5; i++ {
		nodes = append(nodes, fixture.Node(fmt.Sprintf("batch-%d", i), fixture.WithLabel("karpenter.sh/nodepool", "batch-spot"), fixture.WithTaint("dedicated", "batch", corev1.TaintEffectNoSchedule)))
	}
	rep := audit.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1)), audit.Options{Now: fixture.Epoch})
	gaps := rep.DaemonSets[0].NotTargeted
	if len(gaps) != 1 || gaps[0].Pool != "batch-spot" || gaps[0].Count != 5 || gaps[0].Range != "batch-1…5" || !strings.Contains(gaps[0].Reason, "dedicated=batch:NoSchedule") {
		t.Fatalf("gaps %+v", gaps)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("a coverage gap is informational without a policy: %+v", rep.Problems)
	}
}

// OnDelete: one command lists and deletes every outdated Pod by label.
func TestOnDeleteOneCommand(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete())
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}
	pods := []corev1.Pod{fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2")}
	ps := problemsOf(t, detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)))
	p := findProblem(ps, string(report.OutdatedPod))
	want := fmt.Sprintf("kubectl delete pods -n ns -l 'app.kubernetes.io/name=agent,controller-revision-hash!=%s,pod-template-generation!=2'", fixture.Hash(&ds, 2))
	if p == nil || len(p.Nodes) != 2 || !strings.Contains(p.Fix, want) || strings.Contains(p.Fix, "likewise") {
		t.Fatalf("want one OutdatedPod problem whose fix is %q, got %+v", want, p)
	}
}

// A rolling update whose only unavailable node holds a new Pod that is on its
// way (Ready inside minReadySeconds, starting, or running but not yet Ready,
// without an error and younger than the stall limit) is a rollout in
// progress, not a stuck one; the same Pod stuck starting for 20 minutes, or
// crash-looping, blocks it.
func TestRolloutInProgressIsNotStuck(t *testing.T) {
	cases := []struct {
		name      string
		minReady  int32
		newPod    []fixture.PodOpt
		wantStuck bool
	}{
		{"Ready inside minReadySeconds", 60, []fixture.PodOpt{fixture.PodCreatedAgo(20 * time.Second)}, false},
		{"starting", 0, []fixture.PodOpt{fixture.PodCreatedAgo(time.Minute), fixture.Waiting("ContainerCreating", "", 0)}, false},
		{"running, not yet Ready", 0, []fixture.PodOpt{fixture.PodCreatedAgo(time.Minute), fixture.NotReadyPod()}, false},
		{"starting for 20 minutes", 0, []fixture.PodOpt{fixture.PodCreatedAgo(20 * time.Minute), fixture.Waiting("ContainerCreating", "", 0)}, true},
		{"crash-looping", 0, []fixture.PodOpt{fixture.PodCreatedAgo(time.Minute), fixture.Waiting("CrashLoopBackOff", "back-off 10s", 2)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := fixture.DaemonSet("ns", "agent", fixture.Generation(2))
			ds.Spec.MinReadySeconds = tc.minReady
			var nodes []corev1.Node
			var pods []corev1.Pod
			for i := 1; i <= 4; i++ {
				name := fmt.Sprintf("n%d", i)
				nodes = append(nodes, fixture.Node(name))
				if i == 1 {
					pods = append(pods, fixture.Pod(&ds, name, append([]fixture.PodOpt{fixture.AtGeneration(&ds, 2)}, tc.newPod...)...))
					continue
				}
				pods = append(pods, fixture.Pod(&ds, name))
			}
			rep := audit.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, pods, fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)), audit.Options{Now: fixture.Epoch})
			if stuck := findProblem(rep.Problems, string(report.RolloutStuck)) != nil; stuck != tc.wantStuck {
				t.Fatalf("RolloutStuck %v, want %v: %+v", stuck, tc.wantStuck, rep.Problems)
			}
		})
	}
}

// A DaemonSet whose selector names a key no node has waits for its nodes
// (a GPU plugin before the first GPU node): no finding, and the coverage
// section says why it runs nowhere. A key a typo away from a node label
// key is a mistake: NoTargets, an error.
func TestNoTargetsOnlyWithEvidenceOfAMistake(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1", fixture.WithLabel("nvidia.com/gpu.count", "0"))}
	for _, tt := range []struct {
		key  string
		want bool
	}{
		{"nvidia.com/gpu.present", false},
		{"nvidia.com/gpu.cuont", true},
	} {
		ds := fixture.DaemonSet("gpu", "plugin", fixture.WithNodeSelector(tt.key, "true"))
		rep := audit.Analyze(&model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds}, ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}, audit.Options{Now: fixture.Epoch})
		dr := rep.DaemonSets[0]
		f := find(dr, report.NoTargets)
		if (f != nil) != tt.want {
			t.Fatalf("%s: NoTargets %v, want %v (%v)", tt.key, f != nil, tt.want, kinds(dr))
		}
		if f != nil && (f.Severity != report.SeverityError || !f.Failing || !strings.Contains(f.Message, "did you mean nvidia.com/gpu.count")) {
			t.Errorf("%s: %+v", tt.key, f)
		}
		if f == nil && (len(dr.NotTargeted) != 1 || !strings.Contains(dr.NotTargeted[0].Reason, tt.key)) {
			t.Errorf("%s: not targeted %+v", tt.key, dr.NotTargeted)
		}
	}
}

//go:build e2e

package e2e

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Problem grouping on the real control plane: each situation prints its cause as one
// problem (one row of the default view), whatever the controller did.
func TestProblems(t *testing.T) {
	plugin(t)
	for _, sc := range []struct {
		name string
		fn   func(t *testing.T, s *scenario)
	}{
		{"stuck-surge-hostport", problemStuckSurgeHostPort},
		{"notready-several", problemNotReadySeveral},
		{"typo-selector", problemTypoSelector},
		{"untolerated-pool", problemUntoleratedPool},
	} {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.fn(t, newScenario(t, "p-"+sc.name))
		})
	}
}

// problemsFor runs the plugin on the scenario's namespace.
func (s *scenario) problems() *report.Report {
	s.t.Helper()
	rep, _ := runPlugin(s.t, "-n", s.name)
	return rep
}

func problemOf(rep *report.Report, typ string) *report.Problem {
	for i := range rep.Problems {
		if rep.Problems[i].Type == typ {
			return &rep.Problems[i]
		}
	}
	return nil
}

// assertStuckOnCrashLoop checks the problems of a rollout whose new
// revision crash-loops under maxUnavailable 1 (scenario rolling-unavailable
// builds it): RolloutStuck names the crash loop; the old Pods are one
// OutdatedPod problem that does not advise waiting.
func assertStuckOnCrashLoop(t *testing.T, s *scenario, oldNodes int) {
	t.Helper()
	rep := s.problems()
	stuck := problemOf(rep, string(report.RolloutStuck))
	if stuck == nil || !strings.Contains(stuck.Cause, "maxUnavailable 1") || !strings.Contains(stuck.Cause, "CrashLoopBackOff") || !stuck.Failing {
		t.Fatalf("want RolloutStuck blamed on the crash loop, got %+v", rep.Problems)
	}
	old := problemOf(rep, string(report.OutdatedPod))
	if old == nil || len(old.Nodes) != oldNodes || !strings.Contains(old.Fix, "stuck") {
		t.Errorf("want one OutdatedPod problem for %d nodes that points at the stuck rollout, got %+v", oldNodes, old)
	}
}

// maxUnavailable 0, maxSurge 1 with a host port: the surge Pod can never
// schedule next to the old Pod that holds the port.
func problemStuckSurgeHostPort(t *testing.T, s *scenario) {
	s.plainNodes(3)
	ds := s.newDaemonSet("exporter")
	ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
		MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromInt32(1))}}
	s.createDaemonSet(ds)
	s.settle("exporter", allReady(3))
	s.updateDaemonSet("exporter", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image += "-v2" })
	s.settle("exporter", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 4 })
	rep := s.problems()
	stuck := problemOf(rep, string(report.RolloutStuck))
	if stuck == nil || !strings.Contains(stuck.Cause, "maxSurge 1") || !strings.Contains(stuck.Cause, "host port") {
		t.Fatalf("want RolloutStuck blamed on the host port, got %+v", rep.Problems)
	}
}

// A NotReady node with three DaemonSets is one problem naming all three, and
// its fix is the node's.
func problemNotReadySeveral(t *testing.T, s *scenario) {
	s.plainNodes(1)
	sick := s.newFrozenNode("sick", nil)
	s.createNodes(true, sick)
	for _, name := range []string{"a", "b", "c"} {
		s.createDaemonSet(s.newDaemonSet(name))
		s.settle(name, allReady(2))
	}
	s.kubelet().set(s, sick.Name, map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse})
	waitTaint(t, s, sick.Name, corev1.TaintNodeNotReady)
	for _, name := range []string{"a", "b", "c"} {
		s.poke(name)
		s.settle(name, func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.DesiredNumberScheduled == 1 })
	}
	rep := s.problems()
	p := problemOf(rep, "NodeNotReady")
	if p == nil || len(p.DaemonSets) != 3 || len(p.Nodes) != 1 || p.Nodes[0] != sick.Name || !strings.Contains(p.Fix, "kubectl describe node "+sick.Name) {
		t.Fatalf("want one NodeNotReady problem for the 3 DaemonSets, got %+v", rep.Problems)
	}
	if len(rep.Problems) != 1 {
		t.Errorf("the node explains everything: want 1 problem, got %+v", rep.Problems)
	}
}

// A typo in the node selector: DESIRED 0, NoTargets with the near miss.
func problemTypoSelector(t *testing.T, s *scenario) {
	var nodes []*corev1.Node
	for _, short := range []string{"g1", "g2"} {
		n := s.newNode(short)
		n.Labels["example.com/gpu.present"] = "true"
		nodes = append(nodes, n)
	}
	s.createNodes(true, nodes...)
	ds := s.newDaemonSet("dcgm")
	ds.Spec.Template.Spec.NodeSelector["example.com/gpu.present"] = "ture"
	s.createDaemonSet(ds)
	s.settle("dcgm", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.DesiredNumberScheduled == 0 })
	rep := s.problems()
	p := problemOf(rep, string(report.NoTargets))
	if p == nil || !strings.Contains(p.Cause, "did you mean example.com/gpu.present=true (on 2 nodes)?") {
		t.Fatalf("want NoTargets with the near miss, got %+v", rep.Problems)
	}
}

// A tainted pool the agent does not tolerate: a coverage gap by pool,
// informational without a policy (no problem, exit 0).
func problemUntoleratedPool(t *testing.T, s *scenario) {
	s.plainNodes(2)
	var batch []*corev1.Node
	for _, short := range []string{"b1", "b2"} {
		n := s.newNode(short)
		n.Labels["karpenter.sh/nodepool"] = "batch-spot"
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
		batch = append(batch, n)
	}
	s.createNodes(true, batch...)
	s.createDaemonSet(s.newDaemonSet("falco"))
	s.settle("falco", allReady(2))
	rep, code := runPlugin(t, "-n", s.name)
	if code != 0 || len(rep.Problems) != 0 {
		t.Fatalf("exit %d, problems %+v: a gap is informational", code, rep.Problems)
	}
	var gap *report.CoverageGap
	for i, g := range rep.DaemonSets[0].NotTargeted {
		if g.Pool == "batch-spot" {
			gap = &rep.DaemonSets[0].NotTargeted[i]
		}
	}
	if gap == nil || gap.Count != 2 || !strings.Contains(gap.Reason, "dedicated=batch:NoSchedule") {
		t.Fatalf("want the batch-spot pool as one gap, got %+v", rep.DaemonSets[0].NotTargeted)
	}
}

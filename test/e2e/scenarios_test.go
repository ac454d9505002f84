//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// Each scenario has its own namespace and nodes (see ScenarioLabel), so they
// run in parallel on the shared rig.

func TestScenarios(t *testing.T) {
	runScenarios(t, "", []namedScenario{
		{"plain", scenarioPlain},
		{"nodeselector", scenarioNodeSelector},
		{"affinity", scenarioAffinity},
		{"taints", scenarioTaints},
		{"taint-noschedule-after", scenarioTaintNoScheduleAfter},
		{"taint-noexecute-after", scenarioTaintNoExecuteAfter},
		{"cordoned", scenarioCordoned},
		{"notready", scenarioNotReady},
		{"orphan", scenarioOrphan},
		{"hostnetwork", scenarioHostNetwork},
		{"rolling-unavailable", scenarioRollingMaxUnavailable},
		{"rolling-surge", scenarioRollingMaxSurge},
		{"pending-resources", scenarioPendingResources},
		{"pending-hostport", scenarioPendingHostPort},
		{"crashloop", scenarioCrashLoop},
		{"image-pull", scenarioImagePull},
		{"ondelete", scenarioOnDelete},
		{"min-ready-seconds", scenarioMinReadySeconds},
		{"template-nodename", scenarioTemplateNodeName},
		{"terminating", scenarioTerminating},
		{"overlapping-selectors", scenarioOverlappingSelectors},
		{"relabel-owned", scenarioRelabelOwned},
		{"orphan-adopt", scenarioOrphanAdopt},
		{"surge-taint", scenarioSurgeTaint},
		{"unscheduled-node-deleted", scenarioUnscheduledNodeDeleted},
	})
}

func allReady(n int32) func(*appsv1.DaemonSet, []corev1.Pod) bool {
	return func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == n && ds.Status.NumberReady == n && ds.Status.UpdatedNumberScheduled == n
	}
}

func scenarioPlain(t *testing.T, s *scenario) {
	s.plainNodes(4)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(4))
	s.check("agent", expectation{})
}

func scenarioNodeSelector(t *testing.T, s *scenario) {
	var nodes []*corev1.Node
	for i := 0; i < 4; i++ {
		n := s.newNode(fmt.Sprintf("n%d", i))
		if i%2 == 0 {
			n.Labels["role"] = "edge"
		} else {
			n.Labels["role"] = "core"
		}
		nodes = append(nodes, n)
	}
	s.createNodes(true, nodes...)
	ds := s.newDaemonSet("edge-agent")
	ds.Spec.Template.Spec.NodeSelector["role"] = "edge"
	s.createDaemonSet(ds)
	s.settle("edge-agent", allReady(2))
	s.check("edge-agent", expectation{})
}

func requiredAffinity(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
	}}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func scenarioAffinity(t *testing.T, s *scenario) {
	labels := []map[string]string{
		{"zone": "a", "tier": "3", "gpu": "true"},
		{"zone": "b", "tier": "7"},
		{"zone": "c", "tier": "12", "gpu": "true"},
		{"zone": "a"},
	}
	var nodes []*corev1.Node
	for i, l := range labels {
		n := s.newNode(fmt.Sprintf("n%d", i))
		for k, v := range l {
			n.Labels[k] = v
		}
		nodes = append(nodes, n)
	}
	s.createNodes(true, nodes...)
	cases := []struct {
		name  string
		terms []corev1.NodeSelectorTerm
		want  int32
	}{
		{"in", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "a", "b")}}}, 3},
		{"notin", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpNotIn, "a")}}}, 2},
		{"notin-absent", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("tier", corev1.NodeSelectorOpNotIn, "3")}}}, 3},
		{"exists", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("gpu", corev1.NodeSelectorOpExists)}}}, 2},
		{"doesnotexist", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("gpu", corev1.NodeSelectorOpDoesNotExist)}}}, 2},
		{"gt-lt", []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{expr("tier", corev1.NodeSelectorOpGt, "2"), expr("tier", corev1.NodeSelectorOpLt, "10")}}}, 2},
		// A metadata.name field selector takes exactly one value: OR two terms.
		{"matchfields", []corev1.NodeSelectorTerm{
			{MatchFields: []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpIn, s.nodeName("n1"))}},
			{MatchFields: []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpIn, s.nodeName("n3"))}},
		}, 2},
		{"terms-ored", []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "c")}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{expr("gpu", corev1.NodeSelectorOpDoesNotExist)}},
		}, 3},
		{"fields-and-labels", []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{expr("zone", corev1.NodeSelectorOpIn, "a")},
			MatchFields:      []corev1.NodeSelectorRequirement{expr("metadata.name", corev1.NodeSelectorOpNotIn, s.nodeName("n0"))},
		}}, 1},
	}
	for _, c := range cases {
		ds := s.newDaemonSet("aff-" + c.name)
		ds.Spec.Template.Spec.Affinity = requiredAffinity(c.terms...)
		s.createDaemonSet(ds)
	}
	for _, c := range cases {
		s.settle("aff-"+c.name, allReady(c.want))
		s.check("aff-"+c.name, expectation{})
	}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

func scenarioTaints(t *testing.T, s *scenario) {
	n0 := s.newNode("n0")
	n0.Spec.Taints = []corev1.Taint{taint("dedicated", "infra", corev1.TaintEffectNoSchedule)}
	n1 := s.newNode("n1")
	n1.Spec.Taints = []corev1.Taint{taint("maintenance", "true", corev1.TaintEffectNoExecute)}
	n2 := s.newNode("n2")
	n3 := s.newNode("n3")
	n3.Spec.Taints = []corev1.Taint{taint("soft", "x", corev1.TaintEffectPreferNoSchedule)}
	n4 := s.newNode("n4")
	n4.Spec.Taints = []corev1.Taint{taint("dedicated", "db", corev1.TaintEffectNoSchedule)}
	s.createNodes(true, n0, n1, n2, n3, n4)

	cases := []struct {
		name string
		tols []corev1.Toleration
		want int32
	}{
		// PreferNoSchedule (n3) is ignored: only n2, n3.
		{"none", nil, 2},
		{"equal-noschedule", []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule}}, 3},
		{"exists-noexecute", []corev1.Toleration{{Key: "maintenance", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}, 3},
		{"noexecute-wrong-effect", []corev1.Toleration{{Key: "maintenance", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, 2},
		{"key-any-effect", []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}, 4},
		{"exists-empty-key", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, 5},
		{"wrong-value", []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "web"}}, 2},
		{"noexecute-seconds", []corev1.Toleration{{Key: "maintenance", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr(int64(3600))}}, 3},
	}
	for _, c := range cases {
		ds := s.newDaemonSet("tol-" + c.name)
		ds.Spec.Template.Spec.Tolerations = c.tols
		s.createDaemonSet(ds)
	}
	for _, c := range cases {
		s.settle("tol-"+c.name, allReady(c.want))
		s.check("tol-"+c.name, expectation{})
	}
}

func ptr[T any](v T) *T { return &v }

// poke makes the controller resync the DaemonSet (any update does).
func (s *scenario) poke(name string) {
	s.t.Helper()
	s.updateDaemonSet(name, func(ds *appsv1.DaemonSet) {
		if ds.Annotations == nil {
			ds.Annotations = map[string]string{}
		}
		ds.Annotations["daemoncheck.e2e/poke"] = time.Now().Format(time.RFC3339Nano)
	})
}

func scenarioTaintNoScheduleAfter(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	s.check("agent", expectation{})

	s.updateNode(nodes[1], func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, taint("dedicated", "db", corev1.TaintEffectNoSchedule))
	})
	// The Pod stays (NoSchedule does not evict). The controller may not
	// resync on this node update (see controller-rules.md, "Status can go
	// stale"): then daemoncheck must say StaleStatus and recompute the truth.
	ds := s.settle("agent", nil)
	truth := report.Counts{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 2, NumberMisscheduled: 1}
	if ds.Status.NumberMisscheduled == 0 {
		t.Logf("controller status is stale after the taint, as documented: %+v", ds.Status)
		dr := s.check("agent", expectation{
			findings:   []string{f(report.MisscheduledPod, nodes[1]), f(report.StaleStatus, "")},
			keptPods:   []string{nodes[1]},
			allowStale: true,
		})
		if dr != nil && dr.Computed != nil {
			got := *dr.Computed
			got.ObservedGeneration = 0
			if got != truth {
				t.Errorf("computed %+v, want the true counts %+v", got, truth)
			}
		}
	}
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.NumberMisscheduled == 1 })
	s.check("agent", expectation{findings: []string{f(report.MisscheduledPod, nodes[1])}, keptPods: []string{nodes[1]}})
}

func scenarioTaintNoExecuteAfter(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	s.updateNode(nodes[1], func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, taint("dedicated", "db", corev1.TaintEffectNoExecute))
	})
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		for _, p := range pods {
			if podNode(&p) == nodes[1] {
				return false
			}
		}
		return ds.Status.DesiredNumberScheduled == 2
	})
	s.check("agent", expectation{})
}

func scenarioCordoned(t *testing.T, s *scenario) {
	n0, n1, n2 := s.newNode("n0"), s.newNode("n1"), s.newNode("n2")
	n1.Spec.Unschedulable = true
	s.createNodes(true, n0, n1, n2)
	// The node lifecycle controller taints a cordoned node
	// node.kubernetes.io/unschedulable:NoSchedule; daemon Pods tolerate it.
	waitTaint(t, s, n1.Name, corev1.TaintNodeUnschedulable)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	s.check("agent", expectation{})
}

func waitTaint(t *testing.T, s *scenario, node, key string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		n, err := cluster.Client.CoreV1().Nodes().Get(s.ctx, node, metav1.GetOptions{})
		if err == nil {
			for _, tn := range n.Spec.Taints {
				if tn.Key == key {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("node %s never got taint %s", node, key)
}

func scenarioNotReady(t *testing.T, s *scenario) {
	nodes := s.plainNodes(2)
	// n2 runs the daemon Pod and turns NotReady afterwards; n3 is NotReady
	// before the DaemonSet exists.
	n2 := s.newFrozenNode("n2", nil)
	n3 := s.newFrozenNode("n3", nil)
	s.createNodes(true, n2, n3)
	fk := s.kubelet()
	fk.set(s, n3.Name, map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse})
	waitTaint(t, s, n3.Name, corev1.TaintNodeNotReady)

	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	s.check("agent", expectation{})
	_ = nodes

	fk.set(s, n2.Name, map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse})
	waitTaint(t, s, n2.Name, corev1.TaintNodeNotReady)
	// not-ready:NoExecute is tolerated by daemon Pods, not-ready:NoSchedule
	// is not: the Pod stays, misscheduled. Make the controller resync.
	s.settle("agent", nil)
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool {
		return ds.Status.NumberMisscheduled == 1 && ds.Status.DesiredNumberScheduled == 2
	})
	s.check("agent", expectation{findings: []string{f(report.MisscheduledPod, n2.Name)}, keptPods: []string{n2.Name}})
}

func scenarioOrphan(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	// The suite runs without the pod garbage collector: the Pod of a deleted
	// node stays, and the controller counts it nowhere.
	if err := cluster.Client.CoreV1().Nodes().Delete(s.ctx, nodes[2], metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller does not resync the DaemonSet when a node is deleted
	// (seen on v1.37): its status keeps counting the node until something
	// else triggers a sync. daemoncheck must then say StaleStatus.
	ds := s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 3 })
	if ds.Status.DesiredNumberScheduled == 3 {
		t.Logf("controller status is stale after the node deletion: %+v", ds.Status)
		dr := s.check("agent", expectation{
			findings:   []string{f(report.OrphanedPod, nodes[2]), f(report.StaleStatus, "")},
			allowStale: true,
		})
		truth := report.Counts{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 2}
		if dr != nil && dr.Computed != nil {
			got := *dr.Computed
			got.ObservedGeneration = 0
			if got != truth {
				t.Errorf("computed %+v, want the true counts %+v", got, truth)
			}
		}
	}
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && len(pods) == 3
	})
	s.check("agent", expectation{findings: []string{f(report.OrphanedPod, nodes[2])}})
}

func scenarioHostNetwork(t *testing.T, s *scenario) {
	s.plainNodes(2)
	n2 := s.newFrozenNode("n2", map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeNetworkUnavailable: corev1.ConditionTrue})
	s.createNodes(false, n2)
	waitTaint(t, s, n2.Name, corev1.TaintNodeNetworkUnavailable)
	host := s.newDaemonSet("host-agent")
	host.Spec.Template.Spec.HostNetwork = true
	s.createDaemonSet(host)
	s.createDaemonSet(s.newDaemonSet("pod-agent"))
	s.settle("host-agent", allReady(3))
	s.settle("pod-agent", allReady(2))
	s.check("host-agent", expectation{})
	s.check("pod-agent", expectation{})
}

// breakTemplate makes every new Pod crash-loop (kwok's rig stage), so a
// rolling update stops after its first step and stays in progress.
func breakTemplate(ds *appsv1.DaemonSet) {
	ds.Spec.Template.Labels[rig.CrashLoopLabel] = "true"
	ds.Spec.Template.Spec.Containers[0].Image += "-broken"
}

// rolloutFindings derives the expected findings of a stuck rollout from the
// Pods the controller left: OutdatedPod for every Pod of an old revision,
// UnhealthyPod for every crash-looping new one.
func rolloutFindings(t *testing.T, s *scenario, name string) (findings []string, newNodes, oldNodes []string) {
	ds := s.getDaemonSet(name)
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		node := podNode(&p)
		if p.Labels[rig.CrashLoopLabel] == "true" {
			findings = append(findings, f(report.UnhealthyPod, node))
			newNodes = append(newNodes, node)
		} else {
			findings = append(findings, f(report.OutdatedPod, node))
			oldNodes = append(oldNodes, node)
		}
	}
	sort.Strings(findings)
	return findings, newNodes, oldNodes
}

func scenarioRollingMaxUnavailable(t *testing.T, s *scenario) {
	s.plainNodes(4)
	ds := s.newDaemonSet("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1))}}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(4))
	s.updateDaemonSet("agent", breakTemplate)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.UpdatedNumberScheduled == 1 && len(pods) == 4
	})
	findings, newNodes, oldNodes := rolloutFindings(t, s, "agent")
	if len(newNodes) != 1 || len(oldNodes) != 3 {
		t.Fatalf("want 1 new and 3 old Pods, got new on %v, old on %v", newNodes, oldNodes)
	}
	// The controller stopped: the crash-looping Pod uses up maxUnavailable.
	s.check("agent", expectation{findings: append(findings, string(report.RolloutStuck))})
	assertStuckOnCrashLoop(t, s, len(oldNodes))
}

func scenarioRollingMaxSurge(t *testing.T, s *scenario) {
	s.plainNodes(4)
	ds := s.newDaemonSet("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
		MaxUnavailable: ptr(intstr.FromInt32(0)),
		MaxSurge:       ptr(intstr.FromInt32(1)),
	}}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(4))
	s.updateDaemonSet("agent", breakTemplate)
	// One surge Pod (new, never Ready) next to the old Pod on one node; the
	// old Pods stay because maxUnavailable is 0. Old and new coexisting
	// during a surge update is not a duplicate.
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return len(pods) == 5
	})
	findings, newNodes, oldNodes := rolloutFindings(t, s, "agent")
	if len(newNodes) != 1 || len(oldNodes) != 4 {
		t.Fatalf("want 1 surge and 4 old Pods, got new on %v, old on %v", newNodes, oldNodes)
	}
	// The never-Ready surge Pod uses up maxSurge: the rollout is stuck.
	s.check("agent", expectation{findings: append(findings, string(report.RolloutStuck))})
}

func scenarioPendingResources(t *testing.T, s *scenario) {
	small := s.pendingOnSmallNode()
	s.check("agent", expectation{findings: []string{f(report.PendingPod, small.Name)}})
}

// pendingOnSmallNode creates two plain nodes and one with 1 CPU, and a
// DaemonSet "agent" requesting 2 CPUs: its Pod for the small node stays
// Pending (Insufficient cpu), aimed at that node by affinity.
func (s *scenario) pendingOnSmallNode() *corev1.Node {
	s.t.Helper()
	n0, n1, small := s.newNode("n0"), s.newNode("n1"), s.newNode("small")
	small.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("1")
	small.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1")
	s.createNodes(true, n0, n1, small)
	ds := s.newDaemonSet("agent")
	ds.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
	s.createDaemonSet(ds)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 3 && ds.Status.CurrentNumberScheduled == 3 && ds.Status.NumberReady == 2 && unschedulable(pods, small.Name)
	})
	return small
}

// unschedulable says the scheduler has tried and failed to place the Pod
// meant for node.
func unschedulable(pods []corev1.Pod, node string) bool {
	for _, p := range pods {
		if podNode(&p) != node {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return true
			}
		}
	}
	return false
}

func scenarioPendingHostPort(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	// A plain Pod holds host port 9100 on n1.
	squatter := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "port-squatter", Namespace: s.name},
		Spec: corev1.PodSpec{
			NodeName: nodes[1],
			Containers: []corev1.Container{{
				Name: "c", Image: "registry.example/squatter:1",
				Ports: []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}},
			}},
		},
	}
	if _, err := cluster.Client.CoreV1().Pods(s.name).Create(s.ctx, squatter, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ds := s.newDaemonSet("exporter")
	ds.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
	s.createDaemonSet(ds)
	s.settle("exporter", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 3 && ds.Status.CurrentNumberScheduled == 3 && ds.Status.NumberReady == 2 && unschedulable(pods, nodes[1])
	})
	s.check("exporter", expectation{findings: []string{f(report.PendingPod, nodes[1])}})
}

func scenarioCrashLoop(t *testing.T, s *scenario) {
	nodes := s.plainNodes(2)
	ds := s.newDaemonSet("agent")
	ds.Spec.Template.Labels[rig.CrashLoopLabel] = "true"
	s.createDaemonSet(ds)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		if ds.Status.CurrentNumberScheduled != 2 {
			return false
		}
		for _, p := range pods {
			if p.Status.Phase != corev1.PodRunning {
				return false
			}
		}
		return true
	})
	s.check("agent", expectation{findings: []string{f(report.UnhealthyPod, nodes[0]), f(report.UnhealthyPod, nodes[1])}})
}

func scenarioImagePull(t *testing.T, s *scenario) {
	nodes := s.plainNodes(2)
	ds := s.newDaemonSet("agent")
	ds.Spec.Template.Labels[rig.ImagePullErrorLabel] = "true"
	s.createDaemonSet(ds)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		if ds.Status.CurrentNumberScheduled != 2 || len(pods) != 2 {
			return false
		}
		for _, p := range pods {
			if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
				return false
			}
		}
		return true
	})
	s.check("agent", expectation{findings: []string{f(report.UnhealthyPod, nodes[0]), f(report.UnhealthyPod, nodes[1])}})
}

func scenarioOnDelete(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	ds := s.newDaemonSet("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(3))
	// OnDelete: a template change replaces no Pod until someone deletes one.
	s.updateDaemonSet("agent", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image += "-v2" })
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.UpdatedNumberScheduled == 0 })
	s.check("agent", expectation{findings: []string{f(report.OutdatedPod, nodes[0]), f(report.OutdatedPod, nodes[1]), f(report.OutdatedPod, nodes[2])}})
	// Delete the Pod on n1: the controller recreates it from the new template.
	pods, err := daemonPods(s.ctx, s.getDaemonSet("agent"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if podNode(&p) == nodes[1] {
			if err := deletePod(s.ctx, s.name, p.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.UpdatedNumberScheduled == 1 && ds.Status.NumberReady == 3
	})
	s.check("agent", expectation{findings: []string{f(report.OutdatedPod, nodes[0]), f(report.OutdatedPod, nodes[2])}})
}

// scenarioMinReadySeconds: Ready Pods are not yet available.
func scenarioMinReadySeconds(t *testing.T, s *scenario) {
	s.plainNodes(2)
	ds := s.newDaemonSet("agent")
	ds.Spec.MinReadySeconds = 3600
	s.createDaemonSet(ds)
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool {
		return ds.Status.NumberReady == 2
	})
	s.check("agent", expectation{})
}

// scenarioOverlappingSelectors: two DaemonSets whose selectors both match
// each other's Pods. Ownership is by controller reference, not by label.
func scenarioOverlappingSelectors(t *testing.T, s *scenario) {
	s.plainNodes(3)
	a, b := s.newDaemonSet("a"), s.newDaemonSet("b")
	for _, ds := range []*appsv1.DaemonSet{a, b} {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "infra"}}
		ds.Spec.Template.Labels = map[string]string{"team": "infra", "app": ds.Name}
		s.createDaemonSet(ds)
	}
	s.settle("a", allReady(3))
	s.settle("b", allReady(3))
	s.check("a", expectation{})
	s.check("b", expectation{})
}

// scenarioTemplateNodeName: a template that names a node targets only it.
func scenarioTemplateNodeName(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	ds := s.newDaemonSet("pinned")
	ds.Spec.Template.Spec.NodeName = nodes[1]
	s.createDaemonSet(ds)
	s.settle("pinned", allReady(1))
	s.check("pinned", expectation{})
}

// scenarioTerminating: a daemon Pod held in Terminating by a finalizer.
func scenarioTerminating(t *testing.T, s *scenario) {
	s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	ds := s.settle("agent", allReady(3))
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	held := pods[0]
	const finalizer = "daemoncheck.e2e/hold"
	t.Cleanup(func() {
		p, err := cluster.Client.CoreV1().Pods(s.name).Get(context.Background(), held.Name, metav1.GetOptions{})
		if err == nil {
			p.Finalizers = nil
			_, _ = cluster.Client.CoreV1().Pods(s.name).Update(context.Background(), p, metav1.UpdateOptions{})
		}
	})
	p, err := cluster.Client.CoreV1().Pods(s.name).Get(s.ctx, held.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Finalizers = append(p.Finalizers, finalizer)
	if _, err := cluster.Client.CoreV1().Pods(s.name).Update(s.ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Client.CoreV1().Pods(s.name).Delete(s.ctx, held.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Wait for the controller's reaction to the terminating Pod, whatever
	// it is, to settle (settle() itself waits for no terminating Pods).
	time.Sleep(5 * time.Second)
	var last string
	for i := 0; i < 60; i++ {
		cur := s.getDaemonSet("agent")
		ps, _ := daemonPods(s.ctx, cur)
		sig := fmt.Sprintf("%+v %s", cur.Status, podsSig(ps))
		if sig == last && cur.Status.ObservedGeneration == cur.Generation {
			break
		}
		last = sig
		time.Sleep(time.Second)
	}
	cur := s.getDaemonSet("agent")
	ps, _ := daemonPods(s.ctx, cur)
	for _, p := range ps {
		t.Logf("pod %s on %s: phase %s ready %v terminating %v", p.Name, podNode(&p), p.Status.Phase, podReady(&p), p.DeletionTimestamp != nil)
	}
	t.Logf("controller status: %+v", cur.Status)
	rep, _ := runPlugin(t, "-n", s.name, "agent")
	if len(rep.DaemonSets) != 1 {
		t.Fatalf("report has %d DaemonSets", len(rep.DaemonSets))
	}
	dr := rep.DaemonSets[0]
	st := cur.Status
	want := report.Counts{DesiredNumberScheduled: st.DesiredNumberScheduled, CurrentNumberScheduled: st.CurrentNumberScheduled, NumberReady: st.NumberReady, NumberAvailable: st.NumberAvailable, UpdatedNumberScheduled: st.UpdatedNumberScheduled, NumberMisscheduled: st.NumberMisscheduled, NumberUnavailable: st.NumberUnavailable}
	if dr.Computed == nil {
		t.Fatal("no computed counts")
	}
	got := *dr.Computed
	got.ObservedGeneration = 0
	if got != want {
		t.Errorf("with a terminating daemon Pod: computed %+v != controller status %+v", got, want)
	}
	// The controller counts the Terminating Pod as the node's Pod and does
	// not replace it (seen on v1.37): the node stays targeted and covered.
	for _, v := range dr.Nodes {
		if v.Name == podNode(&held) && !v.ShouldRun {
			t.Errorf("node %s (Terminating daemon Pod): daemoncheck says shouldRun=false (%s)", v.Name, v.Reason)
		}
	}
	// daemoncheck reports nothing for a Pod held in Terminating (the counts
	// agree with the controller's); asserted so a change is noticed.
	if got := findingSet(dr.Findings); len(got) != 0 {
		t.Errorf("findings %v, want none", got)
	}
}

// TestDuplicatePods runs alone: it stops the controller-manager, which would
// freeze every other scenario.
func TestDuplicatePods(t *testing.T) {
	plugin(t)
	s := newScenario(t, "duplicates")
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	ds := s.settle("agent", allReady(3))
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]corev1.Pod{}
	for _, p := range pods {
		byNode[podNode(&p)] = p
	}

	cluster.StopControllerManager()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := cluster.RestartControllerManager(); err != nil {
				t.Errorf("restart kube-controller-manager: %v", err)
			}
		}
	})
	// A second Pod of the DaemonSet on n0 (same owner, labels, revision), and
	// no Pod on n1.
	orig := byNode[nodes[0]]
	dup := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            "agent-duplicate",
			Namespace:       s.name,
			Labels:          orig.Labels,
			OwnerReferences: orig.OwnerReferences,
		},
		Spec: *orig.Spec.DeepCopy(),
	}
	if _, err := cluster.Client.CoreV1().Pods(s.name).Create(s.ctx, dup, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := deletePod(s.ctx, s.name, byNode[nodes[1]].Name); err != nil {
		t.Fatal(err)
	}
	waitPods(t, s, "agent", func(pods []corev1.Pod) bool {
		n0, n1 := 0, 0
		for _, p := range pods {
			switch podNode(&p) {
			case nodes[0]:
				if podReady(&p) {
					n0++
				}
			case nodes[1]:
				n1++
			}
		}
		return n0 == 2 && n1 == 0
	})
	s.check("agent", expectation{
		findings:   []string{f(report.DuplicatePods, nodes[0]), f(report.MissingPod, nodes[1]), f(report.StaleStatus, "")},
		missing:    []string{nodes[1]},
		allowStale: true,
	})

	restarted = true
	if err := cluster.RestartControllerManager(); err != nil {
		t.Fatal(err)
	}
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return len(pods) == 3 && ds.Status.NumberReady == 3
	})
	s.check("agent", expectation{})
}

func waitPods(t *testing.T, s *scenario, name string, cond func([]corev1.Pod) bool) {
	t.Helper()
	ds := s.getDaemonSet(name)
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	for {
		pods, err := daemonPods(ctx, ds)
		if err == nil && cond(pods) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pods of %s never reached the wanted state", name)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ---- the controller's corners: claiming, rolling-update fates, unscheduled Pods of deleted nodes ----

// offlineDump writes objects as a multi-document YAML file for -f, with their
// apiVersion and kind (typed clients leave TypeMeta empty).
func offlineDump(t *testing.T, nodes []corev1.Node, dss []appsv1.DaemonSet, pods []corev1.Pod, crs []appsv1.ControllerRevision) string {
	t.Helper()
	var b strings.Builder
	for i := range nodes {
		n := nodes[i]
		n.TypeMeta, n.ManagedFields = metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}, nil
		writeYAML(&b, n)
	}
	for i := range dss {
		d := dss[i]
		d.TypeMeta, d.ManagedFields = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, nil
		writeYAML(&b, d)
	}
	for i := range pods {
		p := pods[i]
		p.TypeMeta, p.ManagedFields = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, nil
		writeYAML(&b, p)
	}
	for i := range crs {
		c := crs[i]
		c.TypeMeta, c.ManagedFields = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"}, nil
		writeYAML(&b, c)
	}
	// An empty EventList: events read, none (see TestFilesEmptyListIsRead).
	b.WriteString("---\napiVersion: v1\nkind: EventList\nitems: []\n")
	file := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func (s *scenario) nodesOf() []corev1.Node {
	s.t.Helper()
	l, err := cluster.Client.CoreV1().Nodes().List(s.ctx, metav1.ListOptions{LabelSelector: ScenarioLabel + "=" + s.name})
	if err != nil {
		s.t.Fatal(err)
	}
	return l.Items
}

func (s *scenario) allPods() []corev1.Pod {
	s.t.Helper()
	l, err := cluster.Client.CoreV1().Pods(s.name).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return l.Items
}

func (s *scenario) revisions() []appsv1.ControllerRevision {
	s.t.Helper()
	l, err := cluster.Client.AppsV1().ControllerRevisions(s.name).List(s.ctx, metav1.ListOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	return l.Items
}

// scenarioRelabelOwned: a Pod the DaemonSet owns is relabelled out of its
// selector. ClaimPods releases it (owner reference removed, Pod left running)
// and the controller creates a new Pod on its node. daemoncheck on the state
// the controller saw (the relabelled Pod still owned) reports MissingPod with
// the release; afterwards it agrees with the controller.
func scenarioRelabelOwned(t *testing.T, s *scenario) {
	s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	ds := s.settle("agent", allReady(3))
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	nodes, crs := s.nodesOf(), s.revisions()
	victim := pods[0].DeepCopy()
	victim.Labels["app"] = "debug"
	relabelled, err := cluster.Client.CoreV1().Pods(s.name).Update(s.ctx, victim, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The state as the controller's next sync finds it: the relabelled Pod
	// still owned, the others unchanged.
	before := append([]corev1.Pod{*relabelled}, pods[1:]...)
	file := offlineDump(t, nodes, []appsv1.DaemonSet{*ds}, before, crs)
	rep, _ := runPlugin(t, "-f", file, "-n", s.name, "agent")
	dr := rep.DaemonSets[0]
	node := podNode(relabelled)
	if dr.Computed == nil || dr.Computed.CurrentNumberScheduled != 2 || dr.Computed.DesiredNumberScheduled != 3 {
		t.Errorf("offline, before the release: computed %+v, want desired 3, current 2", dr.Computed)
	}
	var missing *report.Finding
	for i := range dr.Findings {
		if dr.Findings[i].Type == report.MissingPod && dr.Findings[i].Node == node {
			missing = &dr.Findings[i]
		}
	}
	if missing == nil || !strings.Contains(missing.Message, "releases it") {
		t.Errorf("offline, before the release: want MissingPod@%s saying the controller releases the Pod, got %+v", node, dr.Findings)
	}

	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		for _, p := range pods {
			if p.Name == relabelled.Name {
				return false
			}
		}
		return len(pods) == 3 && allReady(3)(ds, pods)
	})
	p, err := cluster.Client.CoreV1().Pods(s.name).Get(s.ctx, relabelled.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ref := metav1.GetControllerOf(p); ref != nil {
		t.Errorf("the controller did not release the relabelled Pod: %+v", ref)
	}
	s.check("agent", expectation{})
}

// scenarioOrphanAdopt: kubectl delete ds --cascade=orphan leaves the Pods
// running without an owner; a DaemonSet re-created with the same selector
// adopts them in its first sync and counts them, replacing none. daemoncheck
// on the state that sync starts from (orphans + the new, never-synced
// DaemonSet) computes the status the controller then publishes.
func scenarioOrphanAdopt(t *testing.T, s *scenario) {
	s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	ds := s.settle("agent", allReady(3))
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	orphan := metav1.DeletePropagationOrphan
	if err := cluster.Client.AppsV1().DaemonSets(s.name).Delete(s.ctx, "agent", metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
		t.Fatal(err)
	}
	// The garbage collector removes the owner references.
	err = wait.PollUntilContextTimeout(s.ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if _, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(ctx, "agent", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		for _, p := range s.allPods() {
			if len(p.OwnerReferences) > 0 {
				return false, nil
			}
		}
		return len(s.allPods()) == 3, nil
	})
	if err != nil {
		t.Fatalf("Pods not orphaned: %v", err)
	}
	orphans, nodes, crs := s.allPods(), s.nodesOf(), s.revisions()
	created := s.createDaemonSet(s.newDaemonSet("agent"))

	file := offlineDump(t, nodes, []appsv1.DaemonSet{*created}, orphans, crs)
	rep, _ := runPlugin(t, "-f", file, "-n", s.name, "agent")
	dr := rep.DaemonSets[0]

	ds = s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 3 && allReady(3)(ds, pods) })
	after, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pods {
		if after[i].Name != pods[i].Name {
			t.Errorf("the controller replaced Pods instead of adopting them: %s -> %s", pods[i].Name, after[i].Name)
		}
	}
	want := report.Counts{DesiredNumberScheduled: ds.Status.DesiredNumberScheduled, CurrentNumberScheduled: ds.Status.CurrentNumberScheduled,
		NumberReady: ds.Status.NumberReady, NumberAvailable: ds.Status.NumberAvailable, UpdatedNumberScheduled: ds.Status.UpdatedNumberScheduled,
		NumberMisscheduled: ds.Status.NumberMisscheduled, NumberUnavailable: ds.Status.NumberUnavailable}
	if dr.Computed == nil {
		t.Fatal("offline: no computed counts")
	}
	got := *dr.Computed
	got.ObservedGeneration = 0
	if got != want {
		t.Errorf("offline, before adoption: computed %+v, the controller then published %+v", got, want)
	}
	adopted := 0
	for _, n := range dr.Nodes {
		for _, p := range n.Pods {
			if p.Adopted {
				adopted++
			}
		}
	}
	if adopted != 3 {
		t.Errorf("offline: %d Pods marked adopted, want 3", adopted)
	}
	for _, f := range dr.Findings {
		if f.Type != report.StaleStatus {
			t.Errorf("offline, before adoption: unexpected finding %+v", f)
		}
	}
	s.check("agent", expectation{})
}

// scenarioSurgeTaint: a surge rollout stuck on an unready new Pod, then a
// NoSchedule taint on a node whose old Pod may keep running. The surge
// rollout deletes that old Pod as soon as more Pods are available than
// desired (rollingUpdate, TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge);
// before the controller resyncs, daemoncheck says so in MisscheduledPod.
func scenarioSurgeTaint(t *testing.T, s *scenario) {
	nodes := s.plainNodes(4)
	ds := s.newDaemonSet("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{
		MaxUnavailable: ptr(intstr.FromInt32(0)),
		MaxSurge:       ptr(intstr.FromInt32(1)),
	}}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(4))
	s.updateDaemonSet("agent", breakTemplate)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool { return len(pods) == 5 })
	_, newNodes, oldNodes := rolloutFindings(t, s, "agent")
	if len(newNodes) != 1 {
		t.Fatalf("want 1 surge Pod, got new on %v, old on %v", newNodes, oldNodes)
	}
	// Taint a node that has only an old Pod.
	var tainted string
	for _, n := range nodes {
		if n != newNodes[0] {
			tainted = n
			break
		}
	}
	s.updateNode(tainted, func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "daemoncheck.e2e/dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule})
	})
	// What the controller will do with the old Pod, as daemoncheck says it
	// before the controller has acted (it may not resync on a taint).
	rep, _ := runPlugin(t, "-n", s.name, "agent")
	for _, f := range rep.DaemonSets[0].Findings {
		if f.Type == report.MisscheduledPod && f.Node == tainted {
			t.Logf("before the resync: %s", f.Message)
			if !strings.Contains(f.Message, "surge rolling update deletes it") {
				t.Errorf("an outdated Pod on a tainted node during a surge rollout is not left running: %s", f.Message)
			}
		}
	}
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		for _, p := range pods {
			if podNode(&p) == tainted {
				return false
			}
		}
		return true
	})
	// The crash-looping surge Pod still uses up maxSurge: stuck.
	findings, _, _ := rolloutFindings(t, s, "agent")
	s.check("agent", expectation{findings: append(findings, string(report.RolloutStuck))})
}

// scenarioUnscheduledNodeDeleted: a daemon Pod that cannot be scheduled
// (its node is too small) stays Pending, aimed at its node by affinity; the
// node is deleted. The Pod GC cannot delete an unbound Pod: the DaemonSet
// controller does, at its next sync (getUnscheduledPodsWithoutNode,
// TestDeleteUnscheduledPodForNotExistingNode). The suite runs without the
// Pod GC anyway, so only the DaemonSet controller can remove it.
func scenarioUnscheduledNodeDeleted(t *testing.T, s *scenario) {
	small := s.pendingOnSmallNode()
	if err := cluster.Client.CoreV1().Nodes().Delete(s.ctx, small.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The controller does not resync on a node deletion (see scenarioOrphan):
	// until it does, the Pod is there and daemoncheck must say the DaemonSet
	// controller, not the Pod GC, deletes it.
	time.Sleep(2 * time.Second)
	cur := s.getDaemonSet("agent")
	pods, _ := daemonPods(s.ctx, cur)
	if len(pods) == 3 {
		t.Logf("the controller has not resynced yet: checking the unscheduled Pod of the deleted node")
		rep, _ := runPlugin(t, "-n", s.name, "agent")
		var seen bool
		for _, f := range rep.DaemonSets[0].Findings {
			if f.Type == report.OrphanedPod && f.Node == small.Name {
				seen = true
				if !strings.Contains(f.Message, "DaemonSet controller deletes it") || strings.Contains(f.Suggestion, "garbage collector") {
					t.Errorf("unscheduled Pod of a deleted node: %s / %s", f.Message, f.Suggestion)
				}
			}
		}
		if !seen {
			t.Errorf("no OrphanedPod for the unscheduled Pod of deleted node %s: %+v", small.Name, rep.DaemonSets[0].Findings)
		}
	}
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return len(pods) == 2 && ds.Status.DesiredNumberScheduled == 2
	})
	s.check("agent", expectation{})
}

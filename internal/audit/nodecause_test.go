package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// condition sets a node condition (adding it when absent).
func condition(typ corev1.NodeConditionType, status corev1.ConditionStatus) fixture.NodeOpt {
	return func(n *corev1.Node) {
		for i := range n.Status.Conditions {
			if n.Status.Conditions[i].Type == typ {
				n.Status.Conditions[i].Status = status
				return
			}
		}
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: typ, Status: status})
	}
}

// A node condition that explains a finding takes it over: the cause and the
// fix become the node's, so that the Pods are not what the user chases.
func TestNodeCauseOnUnhealthyPods(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	notReadyPod := podOn(fixture.NotReadyPod())
	testDetector(t, report.UnhealthyPod, []detectorCase{
		{
			name:  "healthy node: the Pod's own cause stays",
			nodes: readyNodes("n1"), ds: ds, pods: notReadyPod,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "running but not Ready"}},
		},
		{
			name:  "kubelet reports NotReady: fix the node",
			nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeReady, corev1.ConditionFalse))}, ds: ds, pods: notReadyPod,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, nodeCause: "NotReady", cause: "node NotReady: its kubelet reports it cannot run Pods",
				message: []string{"node n1 is NotReady, which explains it"},
				fix:     []string{"fix the node, not the Pods: kubectl describe node n1"}}},
		},
		{
			name:  "memory pressure: the kubelet evicts",
			nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeMemoryPressure, corev1.ConditionTrue))}, ds: ds, pods: notReadyPod,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, nodeCause: "MemoryPressure", cause: "node under MemoryPressure: the kubelet evicts Pods",
				fix: []string{"free resources on n1"}}},
		},
		{
			name:  "network unavailable: look at the CNI",
			nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeNetworkUnavailable, corev1.ConditionTrue))}, ds: ds, pods: notReadyPod,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, nodeCause: "NetworkUnavailable",
				fix: []string{"check the CNI agent's Pod on n1"}}},
		},
		{
			name:  "cordoned node does not explain an unhealthy Pod",
			nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned())}, ds: ds, pods: notReadyPod,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "running but not Ready"}},
		},
	})
}

func TestNodeCauseOnMissingAndMisscheduledPods(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	t.Run("missing", func(t *testing.T) {
		testDetector(t, report.MissingPod, []detectorCase{{
			name:  "cordoned node explains a missing Pod",
			nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned())}, ds: ds,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, nodeCause: "Cordoned", cause: "node cordoned (maintenance or drain)",
				fix: []string{"if the maintenance is over: kubectl uncordon n1"}}},
		}})
	})
	t.Run("misscheduled", func(t *testing.T) {
		testDetector(t, report.MisscheduledPod, []detectorCase{
			{
				name:  "unreachable node's lifecycle taint explains the misscheduled Pod",
				nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady())}, ds: ds, pods: podOn(fixture.NotReadyPod()),
				want: []wantFinding{{node: "n1", severity: report.SeverityWarning, nodeCause: "Unreachable", cause: "node unreachable: its kubelet stopped reporting (status Unknown)",
					fix: []string{"check that n1 is running and reachable"}}},
			},
			{
				name:  "a user's taint is not the node's condition, even on a NotReady node",
				nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeReady, corev1.ConditionFalse), fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))},
				ds:    ds, pods: podsOn("n1"),
				want: []wantFinding{{node: "n1", severity: report.SeverityWarning, cause: "fragile coverage: left running under untolerated taint dedicated=db:NoSchedule"}},
			},
		})
	})
}

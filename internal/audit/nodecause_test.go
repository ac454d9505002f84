package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
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
	notReadyPod := detecttest.PodOn(fixture.NotReadyPod())
	detecttest.Run(t, report.UnhealthyPod, []detecttest.Case{
		{
			Name:  "healthy node: the Pod's own cause stays",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: notReadyPod,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "running but not Ready"}},
		},
		{
			Name:  "kubelet reports NotReady: fix the node",
			Nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeReady, corev1.ConditionFalse))}, DS: ds, Pods: notReadyPod,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, NodeCause: "NotReady", Cause: "node NotReady: its kubelet reports it cannot run Pods",
				Message: []string{"node n1 is NotReady, which explains it"},
				Fix:     []string{"fix the node, not the Pods: kubectl describe node n1"}}},
		},
		{
			Name:  "memory pressure: the kubelet evicts",
			Nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeMemoryPressure, corev1.ConditionTrue))}, DS: ds, Pods: notReadyPod,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, NodeCause: "MemoryPressure", Cause: "node under MemoryPressure: the kubelet evicts Pods",
				Fix: []string{"free resources on n1"}}},
		},
		{
			Name:  "network unavailable: look at the CNI",
			Nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeNetworkUnavailable, corev1.ConditionTrue))}, DS: ds, Pods: notReadyPod,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, NodeCause: "NetworkUnavailable",
				Fix: []string{"check the CNI agent's Pod on n1"}}},
		},
		{
			Name:  "cordoned node does not explain an unhealthy Pod",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned())}, DS: ds, Pods: notReadyPod,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "running but not Ready"}},
		},
	})
}

func TestNodeCauseOnMissingAndMisscheduledPods(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	t.Run("missing", func(t *testing.T) {
		detecttest.Run(t, report.MissingPod, []detecttest.Case{{
			Name:  "cordoned node explains a missing Pod",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned())}, DS: ds,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, NodeCause: "Cordoned", Cause: "node cordoned (maintenance or drain)",
				Fix: []string{"if the maintenance is over: kubectl uncordon n1"}}},
		}})
	})
	t.Run("misscheduled", func(t *testing.T) {
		detecttest.Run(t, report.MisscheduledPod, []detecttest.Case{
			{
				Name:  "unreachable node's lifecycle taint explains the misscheduled Pod",
				Nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady())}, DS: ds, Pods: detecttest.PodOn(fixture.NotReadyPod()),
				Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Unreachable", Cause: "node unreachable: its kubelet stopped reporting (status Unknown)",
					Fix: []string{"check that n1 is running and reachable"}}},
			},
			{
				Name:  "a user's taint is not the node's condition, even on a NotReady node",
				Nodes: []corev1.Node{fixture.Node("n1", condition(corev1.NodeReady, corev1.ConditionFalse), fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))},
				DS:    ds, Pods: detecttest.PodsOn("n1"),
				Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Cause: "fragile coverage: left running under untolerated taint dedicated=db:NoSchedule"}},
			},
		})
	})
}

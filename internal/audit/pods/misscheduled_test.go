package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestMisscheduledPodDetector(t *testing.T) {
	gpu := fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu"))
	gpuNodes := []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2", fixture.WithLabel("pool", "cpu"))}
	tainted := func(effect corev1.TaintEffect) []corev1.Node {
		return []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("dedicated", "db", effect))}
	}
	detecttest.Run(t, report.MisscheduledPod, []detecttest.Case{
		{
			Name:  "Pods only on targeted nodes: no finding",
			Nodes: gpuNodes, DS: gpu, Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "Pod on a node the nodeSelector no longer matches is deleted",
			Nodes: gpuNodes, DS: gpu, Pods: detecttest.PodsOn("n1", "n2"),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Cause: "on a node it does not target: nodeSelector pool=gpu",
				Message: []string{"is on node n2, which the DaemonSet does not target", "the controller will delete it"},
				Fix:     []string{"if node n2 should run it, relabel the node or widen the DaemonSet's node selector/affinity"}}},
		},
		{
			Name:  "NoSchedule taint added after the Pod: left running, counted misscheduled",
			Nodes: tainted(corev1.TaintEffectNoSchedule), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning,
				Message: []string{"the controller leaves it running (only NoExecute taints evict) but counts it as misscheduled"},
				Fix:     []string{"add the toleration", "kubectl taint node n2 dedicated:NoSchedule-"}}},
		},
		{
			Name:  "NoExecute taint: the Pod is deleted",
			Nodes: tainted(corev1.TaintEffectNoExecute), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning,
				Message: []string{"the controller will delete it"},
				Fix:     []string{"kubectl taint node n2 dedicated:NoExecute-"}}},
		},
		{
			Name:  "tolerated taint: the node is targeted, no finding",
			Nodes: tainted(corev1.TaintEffectNoSchedule), DS: fixture.DaemonSet("ns", "agent", fixture.WithToleration(fixture.Exists("dedicated", ""))), Pods: detecttest.PodsOn("n1", "n2"),
		},
	})
}

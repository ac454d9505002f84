package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestMisscheduledPodDetector(t *testing.T) {
	gpu := fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu"))
	gpuNodes := []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2", fixture.WithLabel("pool", "cpu"))}
	tainted := func(effect corev1.TaintEffect) []corev1.Node {
		return []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("dedicated", "db", effect))}
	}
	testDetector(t, report.MisscheduledPod, []detectorCase{
		{
			name:  "Pods only on targeted nodes: no finding",
			nodes: gpuNodes, ds: gpu, pods: podsOn("n1"),
		},
		{
			name:  "Pod on a node the nodeSelector no longer matches is deleted",
			nodes: gpuNodes, ds: gpu, pods: podsOn("n1", "n2"),
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning, cause: "on a node it does not target: nodeSelector pool=gpu",
				message: []string{"is on node n2, which the DaemonSet does not target", "the controller will delete it"},
				fix:     []string{"if node n2 should run it, relabel the node or widen the DaemonSet's node selector/affinity"}}},
		},
		{
			name:  "NoSchedule taint added after the Pod: left running, counted misscheduled",
			nodes: tainted(corev1.TaintEffectNoSchedule), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning,
				message: []string{"the controller leaves it running (only NoExecute taints evict) but counts it as misscheduled"},
				fix:     []string{"add the toleration", "kubectl taint node n2 dedicated:NoSchedule-"}}},
		},
		{
			name:  "NoExecute taint: the Pod is deleted",
			nodes: tainted(corev1.TaintEffectNoExecute), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning,
				message: []string{"the controller will delete it"},
				fix:     []string{"kubectl taint node n2 dedicated:NoExecute-"}}},
		},
		{
			name:  "tolerated taint: the node is targeted, no finding",
			nodes: tainted(corev1.TaintEffectNoSchedule), ds: fixture.DaemonSet("ns", "agent", fixture.WithToleration(fixture.Exists("dedicated", ""))), pods: podsOn("n1", "n2"),
		},
	})
}

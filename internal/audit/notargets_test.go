package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestNoTargetsDetector(t *testing.T) {
	pool := func(names ...string) []corev1.Node {
		out := make([]corev1.Node, len(names))
		for i, n := range names {
			out[i] = fixture.Node(n, fixture.WithLabel("pool", "gpu-node"))
		}
		return out
	}
	testDetector(t, report.NoTargets, []detectorCase{
		{
			name:  "at least one node targeted: no finding",
			nodes: pool("n1", "n2"), ds: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu-node")), pods: podsOn("n1", "n2"),
		},
		{
			name:  "selector value one typo away from the nodes' suggests the near miss",
			nodes: pool("n1", "n2"), ds: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu-nodes")),
			want: []wantFinding{{severity: report.SeverityError,
				cause:   "targets no node: nodeSelector pool=gpu-nodes: node has pool=gpu-node; pool=gpu-nodes matches no node; did you mean pool=gpu-node (on 2 nodes)?",
				message: []string{"the DaemonSet targets none of the 2 nodes (2: nodeSelector pool=gpu-nodes", "did you mean pool=gpu-node (on 2 nodes)?"},
				fix:     []string{"correct the node selector, affinity or tolerations", "kubectl edit daemonset/agent -n ns"}}},
		},
		{
			// A plugin waiting for its nodes (by design): Not targeted says why.
			name:  "label key no node carries: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("accelerator", "tpu")),
		},
		{
			name:  "label key a typo away from a node's key is a mistake",
			nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("example.com/accelerator", "tpu"))}, ds: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("example.com/acelerator", "tpu")),
			want: []wantFinding{{severity: report.SeverityError, message: []string{"no node has the label example.com/acelerator; did you mean example.com/accelerator?"}}},
		},
		{
			// Taints are how a pool keeps daemons off: by design.
			name:  "every node tainted: no finding",
			nodes: []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))}, ds: fixture.DaemonSet("ns", "agent"),
		},
		{
			name: "a cluster without nodes: nothing to target, no finding",
			ds:   fixture.DaemonSet("ns", "agent"),
		},
		{
			name:  "nodes not read: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("accelerator", "tpu")),
			edit: func(s *model.Snapshot) { s.Nodes = nil; s.MarkMissing(model.Nodes, "forbidden", "list nodes") },
		},
	})
}

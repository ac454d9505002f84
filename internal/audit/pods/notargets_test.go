package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
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
	detecttest.Run(t, report.NoTargets, []detecttest.Case{
		{
			Name:  "at least one node targeted: no finding",
			Nodes: pool("n1", "n2"), DS: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu-node")), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "selector value one typo away from the nodes' suggests the near miss",
			Nodes: pool("n1", "n2"), DS: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu-nodes")),
			Want: []detecttest.Want{{Severity: report.SeverityError,
				Cause:   "targets no node: nodeSelector pool=gpu-nodes: node has pool=gpu-node; pool=gpu-nodes matches no node; did you mean pool=gpu-node (on 2 nodes)?",
				Message: []string{"the DaemonSet targets none of the 2 nodes (2: nodeSelector pool=gpu-nodes", "did you mean pool=gpu-node (on 2 nodes)?"},
				Fix:     []string{"correct the node selector, affinity or tolerations", "kubectl edit daemonset/agent -n ns"}}},
		},
		{
			// A plugin waiting for its nodes (by design): Not targeted says why.
			Name:  "label key no node carries: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("accelerator", "tpu")),
		},
		{
			Name:  "label key a typo away from a node's key is a mistake",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("example.com/accelerator", "tpu"))}, DS: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("example.com/acelerator", "tpu")),
			Want: []detecttest.Want{{Severity: report.SeverityError, Message: []string{"no node has the label example.com/acelerator; did you mean example.com/accelerator?"}}},
		},
		{
			// Taints are how a pool keeps daemons off: by design.
			Name:  "every node tainted: no finding",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))}, DS: fixture.DaemonSet("ns", "agent"),
		},
		{
			Name: "a cluster without nodes: nothing to target, no finding",
			DS:   fixture.DaemonSet("ns", "agent"),
		},
		{
			Name:  "nodes not read: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("accelerator", "tpu")),
			Edit: func(s *model.Snapshot) { s.Nodes = nil; s.MarkMissing(model.Nodes, "forbidden", "list nodes") },
		},
	})
}

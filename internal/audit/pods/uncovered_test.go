package pods_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestUncoveredNodeDetector(t *testing.T) {
	required := audit.Options{Policy: fixture.Require(t, "ns/agent")}
	gpu := fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu"))
	mixed := []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2")}
	detecttest.Run(t, report.UncoveredNode, []detecttest.Case{
		{
			Name:  "every required node targeted: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"), Opts: required,
		},
		{
			Name:  "node outside the nodeSelector but no policy requires it: no finding",
			Nodes: mixed, DS: gpu, Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "required node outside the nodeSelector: label it",
			Nodes: mixed, DS: gpu, Pods: detecttest.PodsOn("n1"), Opts: required,
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError, Cause: "required by --require ns/agent, not targeted: nodeSelector pool=gpu: node has no label pool",
				Message: []string{"node n2 must run the DaemonSet (--require ns/agent) but the controller does not target it"},
				Fix:     []string{"kubectl label node n2 pool=gpu --overwrite", "or drop those keys from the DaemonSet's nodeSelector"}}},
		},
		{
			Name:  "required node with an untolerated taint: add the toleration",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))},
			DS:    fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"), Opts: required,
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError,
				Fix: []string{"add to the DaemonSet's Pod template tolerations: ", "dedicated"}}},
		},
		{
			Name:  "required node NotReady: covered again once Ready",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.NotReady())},
			DS:    fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"), Opts: required,
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError,
				Fix: []string{"node n2 is NotReady or has just joined; it is covered again once Ready"}}},
		},
	})
}

package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestUncoveredNodeDetector(t *testing.T) {
	required := audit.Options{Policy: fixture.Require(t, "ns/agent")}
	gpu := fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu"))
	mixed := []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2")}
	testDetector(t, report.UncoveredNode, []detectorCase{
		{
			name:  "every required node targeted: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"), opts: required,
		},
		{
			name:  "node outside the nodeSelector but no policy requires it: no finding",
			nodes: mixed, ds: gpu, pods: podsOn("n1"),
		},
		{
			name:  "required node outside the nodeSelector: label it",
			nodes: mixed, ds: gpu, pods: podsOn("n1"), opts: required,
			want: []wantFinding{{node: "n2", severity: report.SeverityError, cause: "required by --require ns/agent, not targeted: nodeSelector pool=gpu: node has no label pool",
				message: []string{"node n2 must run the DaemonSet (--require ns/agent) but the controller does not target it"},
				fix:     []string{"kubectl label node n2 pool=gpu --overwrite", "or drop those keys from the DaemonSet's nodeSelector"}}},
		},
		{
			name:  "required node with an untolerated taint: add the toleration",
			nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))},
			ds:    fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"), opts: required,
			want: []wantFinding{{node: "n2", severity: report.SeverityError,
				fix: []string{"add to the DaemonSet's Pod template tolerations: ", "dedicated"}}},
		},
		{
			name:  "required node NotReady: covered again once Ready",
			nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.NotReady())},
			ds:    fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"), opts: required,
			want: []wantFinding{{node: "n2", severity: report.SeverityError,
				fix: []string{"node n2 is NotReady or has just joined; it is covered again once Ready"}}},
		},
	})
}

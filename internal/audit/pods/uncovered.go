package pods

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.UncoveredNode, node: func(c dsContext, n *nodeCase) []report.Finding {
		if n.Node == nil || n.Verdict.ShouldRun {
			return nil
		}
		if rule := c.RequiredBy(n.Node); rule != "" {
			return []report.Finding{c.uncovered(n.Node, n.Verdict, rule)}
		}
		return nil
	}})
}

// uncovered reports a node a policy requires but the controller does not
// target, with the smallest change that would make it target the node.
func (c dsContext) uncovered(node *corev1.Node, v scheduling.Verdict, rule string) report.Finding {
	f := report.Finding{Type: report.UncoveredNode, Node: node.Name, Reason: report.ReasonRequiredNotTargeted,
		Params: report.Params{Rule: string(v.Cause), Detail: v.Reason, Other: rule}, Cause: fmt.Sprintf("required by %s, not targeted: %s", rule, v.Reason)}
	f.Message = fmt.Sprintf("node %s must run the DaemonSet (%s) but the controller does not target it: %s", node.Name, rule, v.Reason)
	a := explain.ExclusionFix(c.DS, c.Eval, node, v, rule, explain.LiveNode(node.Name))
	explain.Advise(&f, a.Text, a.Commands...)
	return f
}

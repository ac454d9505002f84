package audit

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.UncoveredNode, node: func(c *dsContext, n *nodeCase) []report.Finding {
		if n.node == nil || n.verdict.ShouldRun {
			return nil
		}
		if rule := c.requiredBy(n.node); rule != "" {
			return []report.Finding{c.uncovered(n.node, n.verdict, rule)}
		}
		return nil
	}})
}

// requiredBy names the first policy rule requiring the DaemonSet on node.
func (c *dsContext) requiredBy(node *corev1.Node) string {
	for i := range c.policy {
		if c.policy[i].Nodes.Matches(labels.Set(node.Labels)) {
			return c.policy[i].Source
		}
	}
	return ""
}

// uncovered reports a node a policy requires but the controller does not
// target, with the smallest change that would make it target the node.
func (c *dsContext) uncovered(node *corev1.Node, v scheduling.Verdict, rule string) report.Finding {
	f := report.Finding{Type: report.UncoveredNode, Node: node.Name, Reason: report.ReasonRequiredNotTargeted,
		Params: report.Params{Rule: string(v.Cause), Detail: v.Reason, Other: rule}, Cause: fmt.Sprintf("required by %s, not targeted: %s", rule, v.Reason)}
	f.Message = fmt.Sprintf("node %s must run the DaemonSet (%s) but the controller does not target it: %s", node.Name, rule, v.Reason)
	a := explain.ExclusionFix(c.ds, c.eval, node, v, rule, explain.LiveNode(node.Name))
	explain.Advise(&f, a.Text, a.Commands...)
	return f
}

package analyze

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/pkg/scheduling"
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
	f := report.Finding{Type: report.UncoveredNode, Node: node.Name}
	f.Message = fmt.Sprintf("node %s must run the DaemonSet (%s) but the controller does not target it: %s", node.Name, rule, v.Reason)
	switch v.Cause {
	case scheduling.CauseTaint:
		taints := c.eval.UntoleratedTaints(node)
		var tols []string
		notReady := false
		for i := range taints {
			t := &taints[i]
			if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
				notReady = true
			}
			tol := fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", t.Key, t.Effect)
			if t.Value != "" {
				tol = fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", t.Key, t.Value, t.Effect)
			}
			tols = append(tols, tol)
		}
		f.Suggestion = "add to the DaemonSet's Pod template tolerations: " + strings.Join(tols, ", ")
		if notReady {
			f.Suggestion = fmt.Sprintf("node %s is NotReady or has just joined; it is covered again once Ready. Otherwise %s", node.Name, f.Suggestion)
		}
	case scheduling.CauseNodeSelector:
		var fixes []string
		for k, want := range c.ds.Spec.Template.Spec.NodeSelector {
			if node.Labels[k] != want {
				fixes = append(fixes, fmt.Sprintf("%s=%s", k, want))
			}
		}
		sort.Strings(fixes)
		f.Suggestion = fmt.Sprintf("label the node (kubectl label node %s %s --overwrite) or drop those keys from the DaemonSet's nodeSelector", node.Name, strings.Join(fixes, " "))
	case scheduling.CauseNodeAffinity:
		f.Suggestion = fmt.Sprintf("widen the DaemonSet's required node affinity to admit node %s, or change the node's labels to match a term", node.Name)
	case scheduling.CauseNodeName:
		f.Suggestion = "remove spec.nodeName from the DaemonSet's Pod template"
	}
	return f
}

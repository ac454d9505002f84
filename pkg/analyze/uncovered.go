package analyze

import (
	"fmt"
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
	f := report.Finding{Type: report.UncoveredNode, Node: node.Name, Cause: fmt.Sprintf("required by %s, not targeted: %s", rule, v.Reason)}
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
			tols = append(tols, tolerationYAML(t))
		}
		f.Suggestion = "add to the DaemonSet's Pod template tolerations: " + strings.Join(tols, ", ")
		if notReady {
			f.Suggestion = fmt.Sprintf("node %s is NotReady or has just joined; it is covered again once Ready. Otherwise %s", node.Name, f.Suggestion)
		}
	case scheduling.CauseNodeSelector:
		fixes, owned := selectorMismatch(c.ds, node)
		if len(owned) > 0 {
			// A Windows node outside a Linux-only DaemonSet is the rule's
			// mistake, not the node's: its OS label is the kubelet's.
			f.Suggestion = fmt.Sprintf("%s; narrow the rule (%s) so it does not select nodes with %s, drop %s from the DaemonSet's nodeSelector if it really runs there, or run a separate DaemonSet for such nodes", ownedNote(owned), rule, ownedLabelValues(node, owned), strings.Join(owned, ", "))
			if len(fixes) > 0 {
				f.Suggestion += fmt.Sprintf("; the node also lacks %s, which you may set (kubectl label node %s %s --overwrite)", strings.Join(fixes, " "), node.Name, strings.Join(fixes, " "))
			}
			break
		}
		f.Suggestion = fmt.Sprintf("label the node (kubectl label node %s %s --overwrite) or drop those keys from the DaemonSet's nodeSelector", node.Name, strings.Join(fixes, " "))
	case scheduling.CauseNodeAffinity:
		if owned := affinityOwnedKeys(c.ds); len(owned) > 0 {
			f.Suggestion = fmt.Sprintf("narrow the rule (%s) so it does not select nodes like %s (%s), widen the DaemonSet's required node affinity if it really runs there, or run a separate DaemonSet for such nodes; the affinity tests %s, which the kubelet or the cloud provider sets: do not relabel the node", rule, node.Name, ownedLabelValues(node, owned), strings.Join(owned, ", "))
			break
		}
		f.Suggestion = fmt.Sprintf("widen the DaemonSet's required node affinity to admit node %s, or change the node's labels to match a term", node.Name)
	case scheduling.CauseNodeName:
		f.Suggestion = "remove spec.nodeName from the DaemonSet's Pod template"
	}
	return f
}

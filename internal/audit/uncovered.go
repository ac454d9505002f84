package audit

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

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
	a := exclusionFix(c.ds, c.eval, node, v, rule, liveNode(node.Name))
	advise(&f, a.Text, a.Commands...)
	return f
}

// labelTarget says, in a suggestion, which node(s) a fix is about and how
// they get labels: a live node is labelled with kubectl, a proposed pool's
// nodes through the object that creates them (what-if).
type labelTarget struct {
	// what names the nodes: "node worker-7", "the nodes of NodePool gpu".
	what string
	// label says how to give them the key=value pairs: words, where "{0}"
	// stands for the command, if any.
	label func(kvs []string) (string, []report.Command)
	// live: a real node, which may be NotReady or just joined.
	live bool
}

func liveNode(name string) labelTarget {
	return labelTarget{what: "node " + name, live: true, label: func(kvs []string) (string, []report.Command) {
		return "{0}", []report.Command{kubectlWrite(append(append([]string{"label", "node", name}, kvs...), "--overwrite")...)}
	}}
}

// exclusionFix is the smallest change that would make the controller target
// the node(s) of t, which rule requires: UncoveredNode's suggestion, also
// what-if's for a required daemon that would not land.
func exclusionFix(ds *appsv1.DaemonSet, eval *scheduling.Evaluator, node *corev1.Node, v scheduling.Verdict, rule string, t labelTarget) *report.Advice {
	switch v.Cause {
	case scheduling.CauseTaint:
		taints := eval.UntoleratedTaints(node)
		var tols []string
		notReady := false
		for i := range taints {
			tn := &taints[i]
			if tn.Key == corev1.TaintNodeNotReady || tn.Key == corev1.TaintNodeUnreachable {
				notReady = true
			}
			tols = append(tols, tolerationYAML(tn))
		}
		s := "add to the DaemonSet's Pod template tolerations: " + strings.Join(tols, ", ")
		if notReady && t.live {
			s = fmt.Sprintf("%s is NotReady or has just joined; it is covered again once Ready. Otherwise %s", t.what, s)
		}
		return report.Advise(s)
	case scheduling.CauseNodeSelector:
		fixes, owned := selectorMismatch(ds, node)
		if len(owned) > 0 {
			// A Windows node outside a Linux-only DaemonSet is the rule's
			// mistake, not the node's: its OS label is the kubelet's.
			s := fmt.Sprintf("%s; narrow the rule (%s) so it does not select nodes with %s, drop %s from the DaemonSet's nodeSelector if it really runs there, or run a separate DaemonSet for such nodes", ownedNote(owned), rule, ownedLabelValues(node, owned), strings.Join(owned, ", "))
			if len(fixes) > 0 {
				how, cmds := t.label(fixes)
				return report.Advise(s+fmt.Sprintf("; the node also lacks %s, which you may set (%s)", strings.Join(fixes, " "), how), cmds...)
			}
			return report.Advise(s)
		}
		how, cmds := t.label(fixes)
		return report.Advise(fmt.Sprintf("label the node (%s) or drop those keys from the DaemonSet's nodeSelector", how), cmds...)
	case scheduling.CauseNodeAffinity:
		if owned := affinityOwnedKeys(ds); len(owned) > 0 {
			return report.Advise(fmt.Sprintf("narrow the rule (%s) so it does not select nodes like %s (%s), widen the DaemonSet's required node affinity if it really runs there, or run a separate DaemonSet for such nodes; the affinity tests %s, which the kubelet or the cloud provider sets: do not relabel the node", rule, strings.TrimPrefix(t.what, "node "), ownedLabelValues(node, owned), strings.Join(owned, ", ")))
		}
		return report.Advise(fmt.Sprintf("widen the DaemonSet's required node affinity to admit %s, or change the node's labels to match a term", t.what))
	case scheduling.CauseNodeName:
		return report.Advise("remove spec.nodeName from the DaemonSet's Pod template")
	}
	return report.Advise("")
}

package pods

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.MisscheduledPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		if n.Node == nil || n.Verdict.ShouldRun {
			return nil
		}
		out := make([]report.Finding, 0, len(n.Pods))
		live := detect.LivePods(n.Pods)
		for _, p := range n.Pods {
			f := c.misscheduled(n.Node, p, n.Verdict)
			if n.Verdict.ShouldContinueRunning && len(live) == 1 && live[0] == p {
				if fate := c.rolloutFate(p); fate != "" {
					f.Message = strings.Replace(f.Message, leftRunning, fate, 1)
				}
			}
			out = append(out, f)
		}
		return out
	}})
}

func (c dsContext) misscheduled(node *corev1.Node, p *model.DaemonPod, v scheduling.Verdict) report.Finding {
	if fragile(p, v) {
		return c.fragileCoverage(node, p, v)
	}
	f := report.Finding{Type: report.MisscheduledPod, Node: node.Name, Pod: p.Name, Reason: report.ReasonNotTargeted,
		Params: report.Params{Rule: string(v.Cause), Detail: detect.RuleOf(v.Reason)}, Cause: "on a node it does not target: " + detect.RuleOf(v.Reason)}
	fate := "the controller will delete it"
	if v.ShouldContinueRunning {
		fate = leftRunning
	}
	f.Message = fmt.Sprintf("Pod %s is on node %s, which the DaemonSet does not target: %s; %s", p.Name, node.Name, v.Reason, fate)
	switch v.Cause {
	case scheduling.CauseTaint:
		if v.Taint.Key == corev1.TaintNodeNotReady {
			f.Message += fmt.Sprintf("; node %s is NotReady or has just joined, and daemon Pods tolerate not-ready only for NoExecute", node.Name)
			explain.Advise(&f, fmt.Sprintf("bring node %s back to Ready (check its kubelet); the taint then goes away by itself", node.Name))
		} else {
			tolerationSuggestion(&f, v.Taint, node.Name)
		}
	case scheduling.CauseNodeSelector, scheduling.CauseNodeAffinity:
		explain.Advise(&f, fmt.Sprintf("if node %s should run it, relabel the node or widen the DaemonSet's node selector/affinity; otherwise nothing to do", node.Name))
		if owned := explain.MisscheduledOwnedKeys(c.DS, node, v.Cause); len(owned) > 0 {
			explain.Advise(&f, fmt.Sprintf("if node %s should run it, widen the DaemonSet's node selector/affinity or run a separate DaemonSet for nodes with %s (%s); otherwise nothing to do", node.Name, explain.OwnedLabelValues(node, owned), explain.OwnedNote(owned)))
		}
	case scheduling.CauseNodeName:
		explain.Advise(&f, "remove spec.nodeName from the DaemonSet's Pod template")
	}
	return f
}

func tolerationSuggestion(f *report.Finding, t *corev1.Taint, node string) {
	explain.Advise(f, fmt.Sprintf("add the toleration %s to the DaemonSet's Pod template, or remove the taint: {0}", explain.TolerationYAML(t)),
		explain.KubectlWrite("taint", "node", node, fmt.Sprintf("%s:%s-", t.Key, t.Effect)))
}

const leftRunning = "the controller leaves it running (only NoExecute taints evict) but counts it as misscheduled"

// rolloutFate says what a rolling update does with an outdated Pod, the only
// live Pod on a node the DaemonSet no longer targets but may keep running
// (shouldContinueRunning), or "" when the update leaves it alone. Mirrors
// rollingUpdate (update.go), which walks every node with daemon Pods, not
// only the targeted ones:
//   - without surge, an old Pod is a replacement candidate: deleted at once
//     when unavailable, else within the maxUnavailable budget; no new Pod
//     follows on a node that should not run the DaemonSet;
//   - with surge, an unavailable old Pod on such a node is deleted at once,
//     an available one once more Pods are available than desired
//     (TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge).
func (c dsContext) rolloutFate(p *model.DaemonPod) string {
	if c.DS.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType || !c.RevKnown || c.IsUpdated(p) {
		return ""
	}
	switch {
	case !c.Surge && !c.Available(p):
		return "it is outdated and not available, so the rolling update deletes it at once (and creates no new Pod here, as the node is not targeted)"
	case !c.Surge:
		return "it is outdated, so the rolling update deletes it as a replacement candidate within maxUnavailable (and creates no new Pod here, as the node is not targeted)"
	case !c.Available(p):
		return "it is outdated and not available, so the surge rolling update deletes it at once"
	}
	return "it is outdated, so the surge rolling update deletes it once more Pods are available elsewhere than the DaemonSet desires"
}

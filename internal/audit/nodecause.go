package audit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Node-level causes, strongest first: when a node is NotReady, every daemon
// Pod on it looks broken, and the Pods are not what to fix.
const (
	condNotReady           = "NotReady"
	condUnreachable        = "Unreachable"
	condNetworkUnavailable = "NetworkUnavailable"
	condMemoryPressure     = "MemoryPressure"
	condDiskPressure       = "DiskPressure"
	condPIDPressure        = "PIDPressure"
	condCordoned           = "Cordoned"
)

// noteCauses records the strongest node-level cause the node shows, and
// the lifecycle operation behind it when it is one.
func (ni *nodeIndex) noteCauses(n *corev1.Node) {
	if s, ok := nodeLifecycle(n); ok {
		// Lifecycle causes rank above the conditions they bring about
		// (a node shutting down turns NotReady).
		ni.nodeCause[n.Name] = s.cause
		ni.lifecycle[n.Name] = s
		return
	}
	if conds := nodeConditions(n); len(conds) > 0 {
		ni.nodeCause[n.Name] = conds[0]
	}
}

// nodeConditions lists the node-level causes a node's conditions and
// cordon show, strongest first.
func nodeConditions(n *corev1.Node) []string {
	var out []string
	status := map[corev1.NodeConditionType]corev1.ConditionStatus{}
	for _, c := range n.Status.Conditions {
		status[c.Type] = c.Status
	}
	switch status[corev1.NodeReady] {
	case corev1.ConditionFalse:
		out = append(out, condNotReady)
	case corev1.ConditionUnknown:
		out = append(out, condUnreachable)
	}
	if status[corev1.NodeNetworkUnavailable] == corev1.ConditionTrue {
		out = append(out, condNetworkUnavailable)
	}
	for _, c := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		if status[c] == corev1.ConditionTrue {
			out = append(out, string(c))
		}
	}
	if n.Spec.Unschedulable {
		out = append(out, condCordoned)
	}
	return out
}

// nodeCauses points the findings a node condition explains at the node: a
// NotReady node makes every daemon Pod on it unhealthy or misscheduled, and
// reading those Pods' logs cannot help. Such findings get the node cause,
// which the problems stage groups across DaemonSets into one problem.
func (c *dsContext) nodeCauses(fs []report.Finding) []report.Finding {
	for i := range fs {
		f := &fs[i]
		cond := c.idx.causeOf(f.Node)
		if cond == "" || !c.explainedByNode(f, cond) {
			continue
		}
		f.NodeCause = cond
		if s, ok := c.idx.lifecycleOf(f.Node); ok {
			f.Cause = lifecycleText(cond)
			f.Message += lifecycleMessage(f.Node, s)
			if f.Since == nil {
				f.Since = sinceOf(s.since)
			}
			a := lifecycleFix(cond, f.Node)
			explain.Advise(f, a.Text, a.Commands...)
			continue
		}
		f.Cause = nodeCauseText(cond)
		f.Message += fmt.Sprintf("; node %s is %s, which explains it", f.Node, cond)
		a := nodeFix(cond, f.Node)
		explain.Advise(f, a.Text, a.Commands...)
	}
	return fs
}

// explainedByNode says whether a node condition explains a finding.
func (c *dsContext) explainedByNode(f *report.Finding, cond string) bool {
	lifecycle := report.LifecycleCause(cond)
	switch f.Type {
	case report.OutdatedPod, report.RecreateLoop:
		// The rollout does not reach a node its lifecycle holds: the old
		// Pod stays until the node comes back or goes.
		return lifecycle
	case report.UnhealthyPod, report.PendingPod, report.MissingPod:
		// Cordoning never stops a daemon Pod (they tolerate unschedulable),
		// and a cordoned node is not broken: only say so for a missing Pod.
		return cond != condCordoned || f.Type == report.MissingPod
	case report.MisscheduledPod:
		// Only the condition taints the node lifecycle controller sets.
		if pos, ok := c.idx.nodePos[f.Node]; ok && c.verdicts != nil {
			if t := c.verdicts[pos].Taint; t != nil && (strings.HasPrefix(t.Key, "node.kubernetes.io/") || (lifecycle && t.Key == taintKarpenterDisrupted)) {
				return cond != condCordoned
			}
		}
	}
	return false
}

func nodeCauseText(cond string) string {
	switch cond {
	case condNotReady:
		return "node NotReady: its kubelet reports it cannot run Pods"
	case condUnreachable:
		return "node unreachable: its kubelet stopped reporting (status Unknown)"
	case condNetworkUnavailable:
		return "node has no network (NetworkUnavailable): its CNI is not set up"
	case condCordoned:
		return "node cordoned (maintenance or drain)"
	}
	return "node under " + cond + ": the kubelet evicts Pods"
}

func nodeFix(cond, node string) *report.Advice {
	describe := explain.Kubectl("describe", "node", node)
	switch cond {
	case condNotReady:
		return report.Advise("fix the node, not the Pods: {0} (Conditions, Events), then its kubelet and container runtime; the daemon Pods recover once it is Ready", describe)
	case condUnreachable:
		return report.Advise(fmt.Sprintf("fix the node, not the Pods: check that %s is running and reachable, then its kubelet ({0})", node), describe)
	case condNetworkUnavailable:
		return report.Advise(fmt.Sprintf("check the CNI agent's Pod on %s and {0}", node), describe)
	case condCordoned:
		return report.Advise("if the maintenance is over: {0}", explain.KubectlWrite("uncordon", node))
	}
	return report.Advise(fmt.Sprintf("free resources on %s ({0} shows what the kubelet reclaims)", node), describe)
}

// lifecycleFix is the fix of a finding a lifecycle operation explains:
// nothing to do for the daemon; what to look at if the operation is stuck.
func lifecycleFix(cond, node string) *report.Advice {
	describe := explain.Kubectl("describe", "node", node)
	switch cond {
	case condDraining:
		return report.Advise("nothing to fix in the DaemonSet: wait for the drain; if it is over, {0}; if it is stuck, {1} shows what holds it", explain.KubectlWrite("uncordon", node), describe)
	case condDisrupted:
		return report.Advise("nothing to fix in the DaemonSet: Karpenter replaces the node; if it stays, {0} (Events) and the NodeClaim's status", describe)
	case condDeleting:
		return report.Advise("nothing to fix in the DaemonSet: Cluster API deletes the node's Machine; if it stays, {0} and the Machine's status", describe)
	case condShuttingDown:
		return report.Advise("nothing to fix in the DaemonSet: the node is shutting down; if it stays, {0}", describe)
	}
	return report.Advise("nothing to fix in the DaemonSet: wait for the maintenance to end ({0} shows its conditions)", describe)
}

package analyze

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

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

// nodeConditions lists the node-level causes a node shows, strongest first.
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
		cond := c.idx.nodeCause[f.Node]
		if cond == "" || !c.explainedByNode(f, cond) {
			continue
		}
		f.NodeCause = cond
		f.Cause = nodeCauseText(cond)
		f.Message += fmt.Sprintf("; node %s is %s, which explains it", f.Node, cond)
		f.Suggestion = nodeFix(cond, f.Node)
	}
	return fs
}

// explainedByNode says whether a node condition explains a finding.
func (c *dsContext) explainedByNode(f *report.Finding, cond string) bool {
	switch f.Type {
	case report.UnhealthyPod, report.PendingPod, report.MissingPod:
		// Cordoning never stops a daemon Pod (they tolerate unschedulable),
		// and a cordoned node is not broken: only say so for a missing Pod.
		return cond != condCordoned || f.Type == report.MissingPod
	case report.MisscheduledPod:
		// Only the condition taints the node lifecycle controller sets.
		if pos, ok := c.idx.nodePos[f.Node]; ok && c.verdicts != nil {
			if t := c.verdicts[pos].Taint; t != nil && strings.HasPrefix(t.Key, "node.kubernetes.io/") {
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

func nodeFix(cond, node string) string {
	switch cond {
	case condNotReady:
		return fmt.Sprintf("fix the node, not the Pods: kubectl describe node %s (Conditions, Events), then its kubelet and container runtime; the daemon Pods recover once it is Ready", node)
	case condUnreachable:
		return fmt.Sprintf("fix the node, not the Pods: check that %s is running and reachable, then its kubelet (kubectl describe node %s)", node, node)
	case condNetworkUnavailable:
		return fmt.Sprintf("check the CNI agent's Pod on %s and kubectl describe node %s", node, node)
	case condCordoned:
		return fmt.Sprintf("if the maintenance is over: kubectl uncordon %s", node)
	}
	return fmt.Sprintf("free resources on %s (kubectl describe node %s shows what the kubelet reclaims)", node, node)
}

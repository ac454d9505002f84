package audit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/audit/nodestate"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// noteCauses records the strongest node-level cause the node shows, and
// the lifecycle operation behind it when it is one.
func (ni *nodeIndex) noteCauses(n *corev1.Node) {
	if s, ok := nodestate.OfNode(n); ok {
		// Lifecycle causes rank above the conditions they bring about
		// (a node shutting down turns NotReady).
		ni.nodeCause[n.Name] = s.Cause
		ni.lifecycle[n.Name] = s
		return
	}
	if conds := nodestate.Conditions(n); len(conds) > 0 {
		ni.nodeCause[n.Name] = conds[0]
	}
}

// nodeCauses points the findings a node condition explains at the node: a
// NotReady node makes every daemon Pod on it unhealthy or misscheduled, and
// reading those Pods' logs cannot help. Such findings get the node cause,
// which the problems stage groups across DaemonSets into one problem.
func (c *dsContext) nodeCauses(fs []report.Finding) []report.Finding {
	for i := range fs {
		f := &fs[i]
		cond := c.Cluster.CauseOf(f.Node)
		if cond == "" || !c.explainedByNode(f, cond) {
			continue
		}
		f.NodeCause = cond
		if s, ok := c.Cluster.LifecycleOf(f.Node); ok {
			f.Cause = nodestate.LifecycleText(cond)
			f.Message += nodestate.LifecycleMessage(f.Node, s)
			if f.Since == nil {
				f.Since = detect.SinceOf(s.Since)
			}
			a := nodestate.LifecycleFix(cond, f.Node)
			explain.Advise(f, a.Text, a.Commands...)
			continue
		}
		f.Cause = nodestate.CauseText(cond)
		f.Message += fmt.Sprintf("; node %s is %s, which explains it", f.Node, cond)
		a := nodestate.Fix(cond, f.Node)
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
		return cond != nodestate.Cordoned || f.Type == report.MissingPod
	case report.MisscheduledPod:
		// Only the condition taints the node lifecycle controller sets.
		if pos, ok := c.Cluster.NodePos[f.Node]; ok && c.Verdicts != nil {
			if t := c.Verdicts[pos].Taint; t != nil && (strings.HasPrefix(t.Key, "node.kubernetes.io/") || (lifecycle && t.Key == nodestate.TaintKarpenterDisrupted)) {
				return cond != nodestate.Cordoned
			}
		}
	}
	return false
}

package pods

import (
	"fmt"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.OrphanedPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		// Only when nodes were read is a node missing from them deleted.
		if n.Node != nil || !c.NodesKnown {
			return nil
		}
		out := make([]report.Finding, 0, len(n.Pods))
		for _, p := range n.Pods {
			if p.NodeName == "" {
				// Not bound, so the Pod GC never deletes it: the DaemonSet
				// controller does (manage -> getUnscheduledPodsWithoutNode;
				// TestDeleteUnscheduledPodForNotExistingNode).
				f := report.Finding{
					Type: report.OrphanedPod, Node: n.Name, Pod: p.Name, Reason: report.ReasonNodeGone, Params: report.Params{State: "Unscheduled"},
					Message: fmt.Sprintf("Pod %s is not scheduled and aimed at node %s, which no longer exists; the DaemonSet controller deletes it at its next sync and does not count it", p.Name, n.Name),
				}
				explain.Advise(&f, "nothing to do if it goes within seconds; if it stays, the DaemonSet controller is not syncing: check kube-controller-manager and {0}", c.DescribeDS())
				out = append(out, f)
				continue
			}
			f := report.Finding{
				Type: report.OrphanedPod, Node: n.Name, Pod: p.Name, Reason: report.ReasonNodeGone, Cause: "bound to a node that no longer exists",
				Message: fmt.Sprintf("Pod %s is bound to node %s, which no longer exists; the DaemonSet controller does not count or manage it", p.Name, n.Name),
			}
			explain.Advise(&f, "the pod garbage collector in kube-controller-manager should delete it; if it stays, delete it: {0}", explain.KubectlWrite("delete", "pod", "-n", p.Namespace, p.Name))
			out = append(out, f)
		}
		return out
	}})
}

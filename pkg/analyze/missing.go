package analyze

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.MissingPod, node: func(c *dsContext, n *nodeCase) []report.Finding {
		if n.node == nil || !n.verdict.ShouldRun || len(n.pods) > 0 {
			return nil
		}
		return []report.Finding{c.missing(n.node)}
	}})
}

func (c *dsContext) missing(node *corev1.Node) report.Finding {
	f := report.Finding{Type: report.MissingPod, Node: node.Name, Cause: "no daemon Pod on a targeted node"}
	f.Message = fmt.Sprintf("node %s should run the DaemonSet but has no Pod of it", node.Name)
	if age := c.now.Sub(node.CreationTimestamp.Time); !node.CreationTimestamp.IsZero() && age < 2*time.Minute && age >= 0 {
		f.Message += fmt.Sprintf("; the node joined %s ago, the controller may not have created it yet", humanDuration(age))
	}
	if e := c.latestEvent(c.ds.UID, node.Name); e != nil {
		f.Message += fmt.Sprintf("; last %s event: %s", e.Reason, oneLine(e.Message))
		f.Cause = fmt.Sprintf("no daemon Pod; last %s event: %s", e.Reason, oneLine(e.Message))
		f.Suggestion = "fix what the event says; the controller retries with backoff"
	} else {
		f.Suggestion = fmt.Sprintf("check kubectl describe %s for FailedCreate events and that kube-controller-manager is running", c.objRef())
	}
	return f
}

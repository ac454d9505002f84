package analyze

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
)

func init() {
	register(detector{typ: report.DuplicatePods, node: func(c *dsContext, n *nodeCase) []report.Finding {
		if !c.targeted(n) {
			return nil
		}
		live := livePods(n.pods)
		if len(live) < 2 || c.surgePair(live) {
			return nil
		}
		names := make([]string, len(live))
		for i, p := range live {
			names[i] = p.Name
		}
		return []report.Finding{{
			Type: report.DuplicatePods, Node: n.name, Pod: strings.Join(names, ","), Cause: "several Pods of the DaemonSet on one node",
			Message:    fmt.Sprintf("node %s runs %d Pods of the DaemonSet (%s); the controller keeps the oldest bound one (%s) and deletes the others", n.name, len(live), strings.Join(names, ", "), live[0].Name),
			Suggestion: fmt.Sprintf("if they persist, the controller is not syncing: check kube-controller-manager and %s events", c.objRef()),
		}}
	}})
}

// surgePair reports whether several Pods on one node are the normal overlap of
// a surge rolling update: one old and one updated Pod.
func (c *dsContext) surgePair(pods []*snapshot.DaemonPod) bool {
	if !c.surge || len(pods) != 2 {
		return false
	}
	return c.isUpdated(pods[0]) != c.isUpdated(pods[1])
}

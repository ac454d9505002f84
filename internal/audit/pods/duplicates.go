package pods

import (
	"fmt"
	"strings"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.DuplicatePods, node: func(c dsContext, n *nodeCase) []report.Finding {
		if !c.Targeted(n) {
			return nil
		}
		live := detect.LivePods(n.Pods)
		if len(live) < 2 || c.surgePair(live) {
			return nil
		}
		names := make([]string, len(live))
		for i, p := range live {
			names[i] = p.Name
		}
		keep := fmt.Sprintf("the controller keeps the oldest bound one (%s) and deletes the others", live[0].Name)
		if c.Surge {
			kept := c.surgeKeeps(live)
			keptNames := make([]string, len(kept))
			for i, p := range kept {
				keptNames[i] = p.Name
			}
			keep = fmt.Sprintf("during a surge rollout the controller keeps %s and deletes the others", strings.Join(keptNames, " and "))
		}
		f := report.Finding{
			Type: report.DuplicatePods, Node: n.Name, Pod: strings.Join(names, ","), Reason: report.ReasonSeveralPods, Cause: "several Pods of the DaemonSet on one node",
			Message: fmt.Sprintf("node %s runs %d Pods of the DaemonSet (%s); %s", n.Name, len(live), strings.Join(names, ", "), keep),
		}
		explain.Advise(&f, "if they persist, the controller is not syncing: check kube-controller-manager and the DaemonSet's events ({0})", c.DescribeDS())
		return []report.Finding{f}
	}})
}

// surgePair reports whether several Pods on one node are the normal overlap of
// a surge rolling update: one old and one updated Pod.
func (c dsContext) surgePair(pods []*model.DaemonPod) bool {
	if !c.Surge || len(pods) != 2 {
		return false
	}
	return c.IsUpdated(pods[0]) != c.IsUpdated(pods[1])
}

// surgeKeeps returns the Pods podsShouldBeOnNode keeps on a node of a surge
// DaemonSet (pods sorted as the controller sorts them, none being deleted):
// the oldest Pod with the current revision hash label and the oldest without;
// of those two the old one also goes when it is not Ready or the new one is
// available (TestSurgeDeletesUnreadyOldPods). Failed and succeeded Pods are
// deleted anyway.
func (c dsContext) surgeKeeps(pods []*model.DaemonPod) []*model.DaemonPod {
	var oldestNew, oldestOld *model.DaemonPod
	for _, p := range pods {
		if podstate.Terminal(p) {
			continue
		}
		if p.RevisionHash == c.Hash {
			if oldestNew == nil {
				oldestNew = p
			}
		} else if oldestOld == nil {
			oldestOld = p
		}
	}
	switch {
	case oldestNew == nil && oldestOld == nil:
		return nil
	case oldestNew == nil:
		return []*model.DaemonPod{oldestOld}
	case oldestOld == nil || !oldestOld.Ready || c.Available(oldestNew):
		return []*model.DaemonPod{oldestNew}
	}
	return []*model.DaemonPod{oldestNew, oldestOld}
}

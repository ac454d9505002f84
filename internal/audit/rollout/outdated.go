package rollout

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.OutdatedPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		if !c.Targeted(n) || !c.RevKnown {
			return nil
		}
		var out []report.Finding
		for _, p := range n.Pods {
			// An Advanced DaemonSet's partition, update selector or
			// pause keeps some old Pods on purpose (detect/kruise.go).
			if !c.IsUpdated(p) && !p.Deleting && !c.KruiseHeld(n.Name) {
				out = append(out, c.outdated(n.Name, p))
			}
		}
		return out
	}})
}

func (c dsContext) outdated(nodeName string, p *model.DaemonPod) report.Finding {
	f := report.Finding{Type: report.OutdatedPod, Node: nodeName, Pod: p.Name}
	// Compare like with like: a hash with the current hash, a template
	// generation with the current generation.
	// A Pod without a hash label (made by a controller older than
	// ControllerRevisions) is judged by its generation alone.
	rev, cur := detect.PodRevision(p), c.Hash
	if c.Gen != nil && (cur == "" || p.RevisionHash == "") {
		cur = fmt.Sprintf("generation %d", *c.Gen)
		if p.TemplateGeneration != "" {
			rev = "generation " + p.TemplateGeneration
		}
	}
	if rev == "" {
		rev = "an unknown revision"
	}
	f.Message = fmt.Sprintf("Pod %s on node %s runs %s, the current revision is %s", p.Name, nodeName, rev, cur)
	f.Cause = fmt.Sprintf("runs old revision %s (current: %s)", rev, cur)
	f.Reason, f.Params = report.ReasonOldRevision, report.Params{Revision: rev, CurrentRevision: cur}
	if c.Rollout != "" {
		f.Message += " (" + c.Rollout + ")"
	}
	switch st := c.rolloutState(); {
	case c.DS.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType:
		c.onDeleteStraggler(&f, nodeName, p, rev, cur)
	case st != nil && st.stuck && c.waitsForLifecycle(st):
		explain.Advise(&f, "the rolling update waits for nodes in maintenance (see RolloutStuck): it replaces this Pod once they come back or leave; nothing to fix here")
	case st != nil && st.stuck:
		explain.Advise(&f, "the rolling update is stuck (see RolloutStuck): waiting will not replace this Pod; fix what blocks it or roll back")
	default:
		explain.Advise(&f, "the rolling update replaces it as the maxUnavailable/maxSurge budget allows; follow it with {0}", c.FollowRollout())
	}
	return f
}

// onDeleteStraggler makes an OutdatedPod of an OnDelete DaemonSet what it
// is: a Pod nothing will replace until someone deletes it. Stragglers group
// by node pool (one problem per pool: pools are upgraded, drained and
// replaced one at a time) and carry their age: an OnDelete rollout that
// was never finished shows as old Pods in some pools months later.
func (c dsContext) onDeleteStraggler(f *report.Finding, nodeName string, p *model.DaemonPod, rev, cur string) {
	pool := ""
	if n := c.Cluster.NodeByName[nodeName]; n != nil {
		pool = c.PoolOf(n)
	}
	f.Reason = report.ReasonOnDeleteStraggler
	f.Params.Pool = pool
	f.Since = detect.SinceOf(p.Created)
	in := "in no named pool"
	if pool != "" {
		in = "in pool " + pool
	}
	f.Cause = fmt.Sprintf("OnDelete: old revision %s left %s (current: %s)", rev, in, cur)
	if !p.Created.IsZero() {
		f.Message += fmt.Sprintf("; updateStrategy OnDelete replaces it only when it is deleted, and it was created %s ago", detect.HumanDuration(c.Now.Sub(p.Created)))
	}
	sel := c.outdatedSelector()
	explain.Advise(f, "with updateStrategy OnDelete a Pod is updated only when deleted; list the outdated Pods ({0}), then delete them all at once: {1}",
		explain.Kubectl("get", "pods", "-n", c.DS.Namespace, "-l", sel), explain.KubectlWrite("delete", "pods", "-n", c.DS.Namespace, "-l", sel))
}

// outdatedSelector selects the DaemonSet's Pods that are not on the current
// revision: its selector, and the revision labels unequal to the current
// ones. A Pod is updated when either its hash or its template generation
// matches (isUpdated), so outdated means both differ: on a DaemonSet of the
// extensions/v1beta1 days a Pod with an older hash may be current by
// generation, and must not be selected for deletion.
// Label values cannot contain quotes, so single quotes make it safe to paste
// (the list is shown first: another DaemonSet with an overlapping selector
// in the namespace would match too).
func (c dsContext) outdatedSelector() string {
	sel := metav1.FormatLabelSelector(c.DS.Spec.Selector)
	var reqs []string
	if c.Hash != "" {
		reqs = append(reqs, podstate.RevisionHashLabel+"!="+c.Hash)
	}
	if c.Gen != nil {
		reqs = append(reqs, fmt.Sprintf("%s!=%d", podstate.TemplateGenerationLabel, *c.Gen))
	}
	rev := strings.Join(reqs, ",")
	if sel == "" || sel == "<none>" {
		return rev
	}
	return sel + "," + rev
}

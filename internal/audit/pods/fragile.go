package pods

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// fragile reports whether a misscheduled Pod is fragile coverage: the
// controller's NodeShouldRunDaemonPod gives shouldRun=false and
// shouldContinueRunning=true only for an untolerated NoSchedule taint (a
// failed nodeName or node affinity gives false, false, and the Pod is
// deleted; an untolerated NoExecute taint too). The node is served by the
// running Pod, and nothing replaces it there once it goes: the controller
// creates Pods only where shouldRun holds (podsShouldBeOnNode).
//
// The condition taints the node lifecycle controller sets
// (node.kubernetes.io/not-ready and the like) are left to the node's
// condition: they go away with it, and the finding names the node cause.
func fragile(p *model.DaemonPod, v scheduling.Verdict) bool {
	return !p.Deleting && v.ShouldContinueRunning && v.Cause == scheduling.CauseTaint && v.Taint != nil &&
		v.Taint.Effect == corev1.TaintEffectNoSchedule && !strings.HasPrefix(v.Taint.Key, "node.kubernetes.io/")
}

// fragileCoverage is the MisscheduledPod finding of a fragile Pod. It stays a
// MisscheduledPod (the controller counts the Pod in numberMisscheduled, and
// the MISSCHEDULED column equals that count), with its own reason: the
// state is at risk, not merely off. It names the taint, since when the node
// has it (the taint's timeAdded, when set: the API server does not fill it
// in for node taints, kubectl taint does not either; the node lifecycle
// controller and some providers do) and whether the node changed under the
// Pod or the DaemonSet's tolerations changed since the Pod was made.
func (c dsContext) fragileCoverage(node *corev1.Node, p *model.DaemonPod, v scheduling.Verdict) report.Finding {
	t := v.Taint
	taint := scheduling.TaintString(t)
	f := report.Finding{Type: report.MisscheduledPod, Node: node.Name, Pod: p.Name, Reason: report.ReasonFragileCoverage,
		Params: report.Params{Rule: string(scheduling.CauseTaint), Detail: detect.RuleOf(v.Reason)},
		Cause:  "fragile coverage: left running under " + detect.RuleOf(v.Reason)}
	var since string
	switch {
	case t.TimeAdded == nil || t.TimeAdded.IsZero():
		since = "the taint has no timeAdded, so since when is unknown"
	case t.TimeAdded.After(p.Created):
		f.Params.State = report.StateTaintAddedUnderPod
		f.Since = detect.SinceOf(t.TimeAdded.Time)
		since = fmt.Sprintf("the taint was added %s after the Pod started (timeAdded %s)", duration.HumanDuration(t.TimeAdded.Sub(p.Created)), t.TimeAdded.UTC().Format("2006-01-02T15:04:05Z"))
	default:
		f.Params.State = report.StateTaintBeforePod
		f.Since = detect.SinceOf(t.TimeAdded.Time)
		since = fmt.Sprintf("the taint is older than the Pod (timeAdded %s), so the DaemonSet's tolerations changed since the Pod was made", t.TimeAdded.UTC().Format("2006-01-02T15:04:05Z"))
	}
	f.Message = fmt.Sprintf("Pod %s still serves node %s, but no replacement would be scheduled there: node %s has the taint %s, which the DaemonSet does not tolerate (%s); %s; when the Pod is deleted, evicted or fails, or a rollout replaces it, node %s is left without the daemon",
		p.Name, node.Name, node.Name, taint, since, leftRunning, node.Name)
	tol := explain.TolerationYAML(t)
	remove := explain.KubectlWrite("taint", "node", node.Name, fmt.Sprintf("%s:%s-", t.Key, t.Effect))
	c.AdviseChange(&f, owner.Change{What: "a toleration for " + taint + " in the Pod template", Field: "spec.template.spec.tolerations", Value: tol},
		fmt.Sprintf("if node %s should keep the daemon, add the toleration %s to the DaemonSet's Pod template, or remove the taint: {0}; if the node should not run it, nothing to do (the Pod stays until it is deleted)", node.Name, tol),
		remove)
	return f
}

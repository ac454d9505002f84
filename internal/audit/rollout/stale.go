package rollout

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.StaleStatus, ds: func(c dsContext) []report.Finding {
		want := c.Report.Status
		if c.Report.Computed != nil {
			want = *c.Report.Computed
		} else if c.DS.Status.ObservedGeneration >= c.DS.Generation {
			// Without recomputed counts only the generation can be judged.
			return nil
		}
		if f, ok := c.staleStatus(c.Report.Status, want); ok {
			return []report.Finding{f}
		}
		return nil
	}})
}

// staleStatus compares the controller's published status with the recomputed
// one. It returns ok=false when they agree and the status is current.
func (c dsContext) staleStatus(got, want report.Counts) (report.Finding, bool) {
	f := report.Finding{Type: report.StaleStatus, Reason: report.ReasonStatusStale, Cause: "the status the controller published is stale"}
	var parts []string
	if got.ObservedGeneration < c.DS.Generation {
		parts = append(parts, fmt.Sprintf("status.observedGeneration %d is behind metadata.generation %d: the controller has not processed the latest change", got.ObservedGeneration, c.DS.Generation))
	}
	var diffs []string
	cmp := func(name string, g, w int32) {
		if g != w {
			diffs = append(diffs, fmt.Sprintf("%s %d (recomputed %d)", name, g, w))
		}
	}
	cmp("desiredNumberScheduled", got.DesiredNumberScheduled, want.DesiredNumberScheduled)
	cmp("currentNumberScheduled", got.CurrentNumberScheduled, want.CurrentNumberScheduled)
	cmp("numberReady", got.NumberReady, want.NumberReady)
	cmp("numberAvailable", got.NumberAvailable, want.NumberAvailable)
	cmp("updatedNumberScheduled", got.UpdatedNumberScheduled, want.UpdatedNumberScheduled)
	cmp("numberMisscheduled", got.NumberMisscheduled, want.NumberMisscheduled)
	cmp("numberUnavailable", got.NumberUnavailable, want.NumberUnavailable)
	if len(diffs) > 0 {
		parts = append(parts, "the controller reports "+strings.Join(diffs, ", "))
	}
	if len(parts) == 0 {
		return f, false
	}
	f.Message = strings.Join(parts, "; ")
	if got.ObservedGeneration < c.DS.Generation {
		f.Params.Detail = "observedGeneration"
		explain.Advise(&f, "the DaemonSet controller in kube-controller-manager normally catches up within seconds: check that it is running and its logs for errors about this DaemonSet")
		return f, true
	}
	if c.Rules.StaleMisscheduledOnUntaint && got.NumberMisscheduled > want.NumberMisscheduled {
		// kubernetes#132459: 1.33 controllers do not resync when a node's
		// taints are lifted (fixed by #132477, back-ported as #133992).
		f.Message += fmt.Sprintf("; Kubernetes %s may keep numberMisscheduled stale after a node's taints are lifted (kubernetes#132459, fixed in later 1.33 patch releases)", c.Rules.Version)
	}
	f.Params.Detail = "counts"
	resync := explain.KubectlWrite("annotate", "-n", c.DS.Namespace, c.Resource(), "daemoncheck/resync=now", "--overwrite")
	if node, taint := c.newNoScheduleTaint(); node != "" {
		// The one cause known to leave counts stale on a healthy
		// controller (controllerRules, syncNodeUpdate).
		f.Params.Rule, f.Params.Other = string(scheduling.CauseTaint), node
		explain.Advise(&f, fmt.Sprintf("the controller has not resynced this DaemonSet: it does not requeue it when a node gains a NoSchedule taint the DaemonSet does not tolerate, as node %s did (%s); any update makes it resync, e.g. {0}",
			node, scheduling.TaintString(taint)), resync)
		return f, true
	}
	explain.Advise(&f, "no node gained an untolerated NoSchedule taint, so the controller is lagging: check that kube-controller-manager is running and its logs for errors about this DaemonSet; any update makes it resync, e.g. {0}", resync)
	return f, true
}

// newNoScheduleTaint returns the first node (in natural order) the
// DaemonSet was targeting and whose Pod may keep running, but which now
// has a NoSchedule taint the DaemonSet does not tolerate: the node-update
// path of the controller does not requeue the DaemonSet for it
// (syncNodeUpdate in daemon_controller.go).
func (c dsContext) newNoScheduleTaint() (string, *corev1.Taint) {
	for i, v := range c.Verdicts {
		if v.ShouldRun || !v.ShouldContinueRunning || v.Cause != scheduling.CauseTaint || v.Taint == nil || v.Taint.Effect != corev1.TaintEffectNoSchedule {
			continue
		}
		if node := c.Cluster.Nodes[i].Name; len(c.ByNode[node]) > 0 {
			return node, v.Taint
		}
	}
	return "", nil
}

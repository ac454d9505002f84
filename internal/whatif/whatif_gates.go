package whatif

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// gateCheck carries what a pool's shapes learn about its startup taints:
// per startup taint, the DaemonSets that run under it (tolerated) and,
// among them, those it waits for (agents).
type gateCheck struct {
	gates             *providers.Gates
	tolerated, agents []map[string]bool
}

// agent says whether the startup taint waits for the DaemonSet: its gate's
// agent (Cilium's, by its Pod labels), or one whose tolerations name the
// taint's key (meant to run under it, to lift it).
func (gc gateCheck) agent(d *dsInfo, st *corev1.Taint, labels map[string]string) bool {
	if providers.NamesTaint(d.ds.Spec.Template.Spec.Tolerations, st) {
		return true
	}
	g, ok := gc.gates.Of(st, labels)
	return ok && g.IsAgent(d.ds.Spec.Template.Labels)
}

// gateDeadlock is the what-if finding of a DaemonSet a startup taint waits
// for that does not tolerate it: on the pool's nodes it never starts, and
// the taint is never lifted. The fix goes through the DaemonSet's manager.
func gateDeadlock(d *dsInfo, st *corev1.Taint, shape string) report.WhatIfFinding {
	taint := scheduling.TaintString(st)
	tol := explain.TolerationYAML(st)
	f := report.WhatIfFinding{Type: report.WhatIfGateDeadlock, DaemonSet: d.key, Shapes: []string{shape}, Cause: taint,
		Message: fmt.Sprintf("startup taint %s on %s waits for daemonset %s (its agent, or its tolerations name the taint's key), but its Pods do not tolerate %s: they never start there, so the taint is never lifted and the nodes never become ready",
			taint, whereToken, d.key, taint)}
	direct := fmt.Sprintf("add the toleration %s to daemonset %s's Pod template (the right effect and value, or operator Exists)", tol, d.key)
	if m := owner.DetectDaemonSet(d.ds); m.Managed() {
		direct = m.Route(owner.Change{What: "a toleration of " + st.Key, Field: "spec.template.spec.tolerations", Value: tol,
			Namespace: d.ds.Namespace, Name: d.ds.Name}).Text
	}
	f.Suggestion = direct
	return f
}

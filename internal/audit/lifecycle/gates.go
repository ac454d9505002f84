package lifecycle

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Readiness gates: a taint that holds a new node until its agents are
// ready (providers.Gates says which taints, and whose). Three findings:
//   - GateDeadlock: the gate waits for a DaemonSet that does not tolerate
//     the gate's taint, so its Pod is never created and the gate never lifts;
//   - NodeHeldByGate: a node held, on each DaemonSet the gate waits for,
//     with since when (the taint's timeAdded, else the node's creation);
//   - GateWithoutLifter: a gate nothing lifts (no DaemonSet can run under
//     it, and no controller removes it), on each DaemonSet it keeps off a
//     node the DaemonSet would otherwise run on.
//
// The gate waits for a DaemonSet that runs on the node once the node's
// gates are lifted and is the gate's agent (Cilium's agent, Gardener's
// critical components, by their Pod labels) or names the taint's key in a
// toleration (the evidence that it is meant to run under the gate: the one
// that lifts it, or whose readiness its owner waits for).

// gateIndex holds the gates of every node, found once per analysis.
type gateIndex struct {
	byNode map[string][]*nodeGate
	// rulesRead: NodeReadinessRules were read (a readiness.k8s.io/ taint
	// without a rule then has none).
	rulesRead bool
	// unread says why the rules were not read ("" when read, or when the
	// input did not have them).
	unread string
}

// gatesKey and gatesOnceKey name the gates of every node, found once per
// analysis, and the DaemonSet's look at them.
var gatesKey, gatesOnceKey = detect.NewKey("gates"), detect.NewKey("gates of the DaemonSet")

// gates are the gates of every node (gateIndex), found once per analysis.
func (c dsContext) gates() *gateIndex {
	return detect.Once(c.Context, gatesOnceKey, func() *gateIndex {
		return detect.Shared(c.Cluster, gatesKey, func(cl *detect.Cluster) *gateIndex { return newGateIndex(cl.Snap, cl.Nodes) })
	})
}

// nodeGate is one gate taint on one node and how each DaemonSet relates to it.
type nodeGate struct {
	taint corev1.Taint
	gate  providers.Gate
	since time.Time
	// rel holds the DaemonSets that run on the node once its gates are
	// lifted (those the controller would target but for them).
	rel map[*appsv1.DaemonSet]gateRel
	// waited: the gate waits for at least one DaemonSet on the node;
	// tolerated: at least one DaemonSet can run there under the gate (one
	// that tolerates every taint may be what lifts it).
	waited, tolerated bool
	// unmet are the NodeReadinessRule's conditions the node does not meet
	// yet ("type=Status"), when the rule was read.
	unmet []string
}

type gateRel struct {
	// waits: the gate waits for the DaemonSet; tolerates: its Pods
	// tolerate the taint.
	waits, tolerates bool
}

// discard is the logger the upstream toleration helpers log parse problems
// of Gt/Lt values to; the verdict already reflects them.
var discard = logr.Discard()

// newGateIndex finds the gate taints on the nodes and, only when there are
// some, how every DaemonSet relates to them: a cluster without gates pays
// one look at each taint.
func newGateIndex(snap *model.Snapshot, nodes []*corev1.Node) *gateIndex {
	gates := providers.NewGates(snap.NodeReadinessRules, snap.NodeReadinessRulesRead, nil)
	gi := &gateIndex{rulesRead: gates.RulesRead(), unread: snap.NodeReadinessRulesUnread}
	var gated []*corev1.Node
	for _, n := range nodes {
		for i := range n.Spec.Taints {
			t := &n.Spec.Taints[i]
			g, ok := gates.Of(t, n.Labels)
			if !ok {
				continue
			}
			if gi.byNode == nil {
				gi.byNode = map[string][]*nodeGate{}
			}
			if len(gi.byNode[n.Name]) == 0 {
				gated = append(gated, n)
			}
			ng := &nodeGate{taint: *t, gate: g, since: n.CreationTimestamp.Time, rel: map[*appsv1.DaemonSet]gateRel{}}
			if t.TimeAdded != nil && !t.TimeAdded.IsZero() {
				ng.since = t.TimeAdded.Time
			}
			if g.Rule != nil {
				ng.unmet = unmetConditions(n, g.Rule)
			}
			gi.byNode[n.Name] = append(gi.byNode[n.Name], ng)
		}
	}
	if len(gated) == 0 {
		return gi
	}
	// Evaluators of our own: the plan's are in use by the DaemonSets'
	// analyses, which run in parallel.
	evals := make([]*scheduling.Evaluator, len(snap.DaemonSets))
	for _, n := range gated {
		ngs := gi.byNode[n.Name]
		open := *n
		open.Spec.Taints = nil
		for i := range n.Spec.Taints {
			if !isGateTaint(ngs, &n.Spec.Taints[i]) && !startingTaint[n.Spec.Taints[i].Key] {
				open.Spec.Taints = append(open.Spec.Taints, n.Spec.Taints[i])
			}
		}
		for d := range snap.DaemonSets {
			ds := &snap.DaemonSets[d]
			if evals[d] == nil {
				evals[d] = scheduling.NewEvaluator(ds)
			}
			if !evals[d].Evaluate(&open).ShouldRun {
				continue
			}
			tols := evals[d].Tolerations()
			for _, ng := range ngs {
				r := gateRel{
					waits:     ng.gate.IsAgent(ds.Spec.Template.Labels) || providers.NamesTaint(ds.Spec.Template.Spec.Tolerations, &ng.taint),
					tolerates: v1helper.TolerationsTolerateTaint(discard, tols, &ng.taint, scheduling.EnableComparisonOperators),
				}
				ng.rel[ds] = r
				ng.waited = ng.waited || r.waits
				ng.tolerated = ng.tolerated || r.tolerates
			}
		}
	}
	return gi
}

// startingTaint are the node lifecycle controller's taints of a node whose
// kubelet is not Ready yet: on a gated node, usually because the agent the
// gate waits for (the CNI) is not running; lifted with the gate, so they do
// not decide which DaemonSets run there once it is.
var startingTaint = map[string]bool{corev1.TaintNodeNotReady: true, corev1.TaintNodeNetworkUnavailable: true}

func isGateTaint(ngs []*nodeGate, t *corev1.Taint) bool {
	for _, ng := range ngs {
		if ng.taint.Key == t.Key && ng.taint.Effect == t.Effect {
			return true
		}
	}
	return false
}

// kubeletConditions are the node conditions the kubelet itself reports: a
// rule waiting only for them needs no agent.
var kubeletConditions = map[string]bool{string(corev1.NodeReady): true, string(corev1.NodeMemoryPressure): true,
	string(corev1.NodeDiskPressure): true, string(corev1.NodePIDPressure): true, string(corev1.NodeNetworkUnavailable): true}

// unmetConditions lists the rule's conditions the node does not meet.
func unmetConditions(n *corev1.Node, r *model.NodeReadinessRule) []string {
	var out []string
	for _, c := range r.Conditions {
		status := corev1.ConditionStatus("")
		for _, nc := range n.Status.Conditions {
			if string(nc.Type) == c.Type {
				status = nc.Status
			}
		}
		if status != c.RequiredStatus {
			out = append(out, c.Type+"="+string(c.RequiredStatus))
		}
	}
	return out
}

func init() {
	register(detector{typ: report.GateDeadlock, node: func(c dsContext, n *nodeCase) []report.Finding {
		return c.gateFindings(n, report.GateDeadlock)
	}})
	register(detector{typ: report.NodeHeldByGate, node: func(c dsContext, n *nodeCase) []report.Finding {
		return c.gateFindings(n, report.NodeHeldByGate)
	}})
	register(detector{typ: report.GateWithoutLifter, node: func(c dsContext, n *nodeCase) []report.Finding {
		return c.gateFindings(n, report.GateWithoutLifter)
	}})
}

// gateFindings are the findings of type typ about the node's gates.
func (c dsContext) gateFindings(n *nodeCase, typ report.FindingType) []report.Finding {
	if n.Node == nil {
		return nil
	}
	gates := c.gates()
	if gates.byNode == nil {
		return nil
	}
	ngs := gates.byNode[n.Name]
	if len(ngs) == 0 {
		return nil
	}
	var out []report.Finding
	for _, ng := range ngs {
		r, ok := ng.rel[c.DS]
		if !ok {
			continue
		}
		switch {
		case typ == report.GateDeadlock && r.waits && !r.tolerates:
			out = append(out, c.gateDeadlock(n, ng))
		case typ == report.NodeHeldByGate && r.waits && r.tolerates:
			out = append(out, c.nodeHeld(n, ng))
		case typ == report.GateWithoutLifter && !r.tolerates && !ng.waited && !ng.tolerated && !c.Cluster.Narrowed:
			if f, ok := c.gateWithoutLifter(n, ng); ok {
				out = append(out, f)
			}
		}
	}
	return out
}

func gateParams(ng *nodeGate) report.Params {
	return report.Params{Rule: string(scheduling.CauseTaint), Detail: scheduling.TaintString(&ng.taint), Other: string(ng.gate.Owner)}
}

// gateName is the gate in words: "Cilium's gate node.cilium.io/agent-not-ready:NoExecute".
func gateName(ng *nodeGate) string {
	s := fmt.Sprintf("%s gate %s", ng.gate.Owner, scheduling.TaintString(&ng.taint))
	switch {
	case ng.gate.Rule != nil:
		s += fmt.Sprintf(" (NodeReadinessRule %s)", ng.gate.Rule.Name)
	case ng.gate.Pool != "":
		s += fmt.Sprintf(" (startupTaints of NodePool %s)", ng.gate.Pool)
	}
	return s
}

// why says why the gate waits for the DaemonSet.
func (c dsContext) why(ng *nodeGate) string {
	if ng.gate.IsAgent(c.DS.Spec.Template.Labels) {
		var kv []string
		for k, v := range ng.gate.AgentLabels {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		return fmt.Sprintf("its Pods carry %s, the agent %s waits for", strings.Join(kv, ","), ng.gate.Owner)
	}
	return "its tolerations name the taint's key, so it is meant to run under the gate"
}

func (c dsContext) gateDeadlock(n *nodeCase, ng *nodeGate) report.Finding {
	taint := scheduling.TaintString(&ng.taint)
	f := report.Finding{Type: report.GateDeadlock, Node: n.Name, Reason: report.ReasonGateNotTolerated, Params: gateParams(ng),
		Since: detect.SinceOf(ng.since),
		Cause: "readiness gate " + taint + " waits for a DaemonSet that does not tolerate it"}
	f.Message = fmt.Sprintf("node %s is held by %s, which waits for this DaemonSet (%s), but its Pods do not tolerate %s: the controller creates no Pod there, so the gate is never lifted and the node never becomes ready",
		n.Name, gateName(ng), c.why(ng), taint)
	tol := explain.TolerationYAML(&ng.taint)
	c.AdviseChange(&f, owner.Change{What: "a toleration of " + ng.taint.Key, Field: "spec.template.spec.tolerations", Value: tol},
		fmt.Sprintf("add the toleration %s to the DaemonSet's Pod template (a toleration with the right effect and value, or operator Exists), then check the node: {0}", tol),
		explain.Kubectl("describe", "node", n.Name))
	return f
}

func (c dsContext) nodeHeld(n *nodeCase, ng *nodeGate) report.Finding {
	taint := scheduling.TaintString(&ng.taint)
	f := report.Finding{Type: report.NodeHeldByGate, Node: n.Name, Reason: report.ReasonGateWaiting, Params: gateParams(ng),
		Since: detect.SinceOf(ng.since),
		Cause: "node held by readiness gate " + taint}
	overdue := ng.since.Add(report.GateGrace)
	if !c.Now.Before(overdue) {
		f.Reason = report.ReasonGateOverdue
	} else {
		c.ChangesAt(overdue)
	}
	var pod *model.DaemonPod
	if live := detect.LivePods(n.Pods); len(live) > 0 {
		pod = live[0]
	}
	state := "NoPod"
	waiting := "it has no Pod there yet"
	if pod != nil {
		f.Pod = pod.Name
		h := c.Health(pod)
		state = h.State
		waiting = fmt.Sprintf("its Pod %s is %s", pod.Name, h.State)
		if pod.Ready {
			waiting = fmt.Sprintf("its Pod %s is Ready, yet the taint is still there", pod.Name)
		}
	}
	f.Params.State = state
	f.Message = fmt.Sprintf("node %s is held by %s for %s, waiting for this DaemonSet (%s): %s; removed by %s",
		n.Name, gateName(ng), detect.HumanDuration(c.Now.Sub(ng.since)), c.why(ng), waiting, ng.gate.Remover)
	if len(ng.unmet) > 0 {
		f.Message += "; conditions not met yet: " + strings.Join(ng.unmet, ", ")
	}
	describeNode := explain.Kubectl("describe", "node", n.Name)
	switch {
	case pod != nil && pod.Ready:
		explain.Advise(&f, fmt.Sprintf("the agent is Ready: check that %s runs and what it says; the node's taints and conditions: {0}", ng.gate.Remover), describeNode)
	case pod != nil:
		explain.Advise(&f, fmt.Sprintf("the gate lifts once the Pod is Ready: {0}, then {1}; if it stays past %s, fix the Pod", detect.HumanDuration(report.GateGrace)),
			explain.Kubectl("describe", "pod", "-n", pod.Namespace, pod.Name), describeNode)
	case f.Reason == report.ReasonGateOverdue:
		explain.Advise(&f, fmt.Sprintf("no Pod of the DaemonSet on the node after %s: look for FailedCreate events in {0}", detect.HumanDuration(report.GateGrace)), c.DescribeDS())
	default:
		explain.Advise(&f, "the gate lifts once the DaemonSet's Pod there is Ready; the DaemonSet's events: {0}", c.DescribeDS())
	}
	return f
}

func (c dsContext) gateWithoutLifter(n *nodeCase, ng *nodeGate) (report.Finding, bool) {
	taint := scheduling.TaintString(&ng.taint)
	f := report.Finding{Type: report.GateWithoutLifter, Node: n.Name, Reason: report.ReasonGateNoLifter, Params: gateParams(ng),
		Since: detect.SinceOf(ng.since), Cause: "readiness gate " + taint + " that nothing lifts"}
	var who string
	switch {
	case ng.gate.Owner == providers.OwnerNodeReadinessController && ng.gate.Rule == nil:
		if !c.gates().rulesRead {
			// The rule, and so whether its conditions need an agent,
			// is unknown: say so rather than guess.
			why := c.gates().unread
			if why == "" {
				why = "not in the input"
			}
			u := fmt.Sprintf("readiness gate %s: NodeReadinessRules not read (%s); whether anything lifts it is unknown", ng.taint.Key, why)
			if !slices.Contains(c.Report.Unknown, u) {
				c.Report.Unknown = append(c.Report.Unknown, u)
			}
			return f, false
		}
		f.Reason = report.ReasonGateNoRule
		who = "no NodeReadinessRule manages it, so node-readiness-controller never removes it, and no DaemonSet tolerates it"
	case ng.gate.Owner == providers.OwnerNodeReadinessController:
		if len(ng.unmet) == 0 {
			return f, false // conditions met: the controller removes it
		}
		for _, u := range ng.unmet {
			if !kubeletConditions[strings.SplitN(u, "=", 2)[0]] {
				who = fmt.Sprintf("NodeReadinessRule %s waits for %s, which no agent on the node can report: no DaemonSet tolerates the taint", ng.gate.Rule.Name, strings.Join(ng.unmet, ", "))
				break
			}
		}
		if who == "" {
			return f, false // the kubelet reports what the rule waits for
		}
	case ng.gate.Controller:
		return f, false // a controller removes it
	case len(ng.gate.AgentLabels) > 0:
		who = fmt.Sprintf("%s removes it only once its agent is Ready, and no DaemonSet here is that agent or tolerates the taint", ng.gate.Owner)
	default:
		who = fmt.Sprintf("%s only waits for it to go, and no DaemonSet tolerates it (the usual remover: an agent that tolerates it and removes it once ready)", ng.gate.Owner)
	}
	f.Message = fmt.Sprintf("node %s is held by %s and nothing lifts it: %s; this DaemonSet targets the node but does not tolerate the taint, so it never runs there",
		n.Name, gateName(ng), who)
	explain.Advise(&f, fmt.Sprintf("deploy the agent that lifts the gate (a DaemonSet that tolerates %s and removes it once ready), or, if nothing should hold the node, drop the taint where the node pool sets it and remove it from the node: {0}", taint),
		explain.KubectlWrite("taint", "node", n.Name, fmt.Sprintf("%s:%s-", ng.taint.Key, ng.taint.Effect)))
	return f, true
}

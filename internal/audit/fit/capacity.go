package fit

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/placement"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.HostPortConflict, node: func(c dsContext, n *nodeCase) []report.Finding {
		lo, _ := c.leftOut(n)
		if lo == nil {
			return nil
		}
		var out []report.Finding
		for k := range lo.Ports {
			out = append(out, c.hostPortConflict(n.Node, lo, k))
		}
		return out
	}})
	register(detector{typ: report.NodeTooSmall, node: func(c dsContext, n *nodeCase) []report.Finding {
		lo, nf := c.leftOut(n)
		if lo == nil || len(lo.Shortfalls) == 0 || nf.Alloc == nil {
			return nil
		}
		// A Pod waiting to be scheduled, or none at all: the PendingPod or
		// MissingPod finding says it, with this as its cause
		// (CapacityCauses). What is left is a Pod that runs today.
		if c.PodsKnown && (len(detect.LivePods(n.Pods)) == 0 || unscheduled(n.Pods) != nil) {
			return nil
		}
		f := report.Finding{Type: report.NodeTooSmall, Node: n.Name, Reason: report.ReasonDaemonsDontFit, Params: report.Params{Resource: shortResources(lo)}, Cause: tooSmallCause(lo)}
		f.Message = c.tooSmallWords(n.Node, lo, nf)
		if c.PodsKnown {
			f.Message += "; its Pod runs there today, but once it is replaced (a rollout, an eviction, a node restart) it stays Pending"
		}
		c.tooSmallFix(&f, lo)
		return []report.Finding{f}
	}})
}

// leftOut returns the DaemonSet's left-out record on the case's node and
// the node's plan, or nil when it fits there (or is not targeted).
func (c dsContext) leftOut(n *nodeCase) (*capacity.LeftOut, *placement.NodeFit) {
	if n.Node == nil || !n.Verdict.ShouldRun {
		return nil, nil
	}
	pos := c.Cluster.NodePos[n.Name]
	return c.Cluster.Plan.LeftOutOf(c.Cluster.Plan.Of(c.DS), pos), &c.Cluster.Plan.Nodes[pos]
}

// unscheduled is the first live Pod not bound to a node yet.
func unscheduled(pods []*model.DaemonPod) *model.DaemonPod {
	for _, p := range pods {
		if p.NodeName == "" && !p.Deleting && !podstate.Terminal(p) {
			return p
		}
	}
	return nil
}

// hostPortConflict reports the k-th host port the DaemonSet's Pod cannot
// get on node because another daemon holds it.
func (c dsContext) hostPortConflict(node *corev1.Node, lo *capacity.LeftOut, k int) report.Finding {
	pc, holder := lo.Ports[k], lo.HeldBy[k]
	plan := c.Cluster.Plan
	d, h := plan.Of(c.DS), plan.Index(holder)
	why := "it was created first"
	switch {
	case plan.Prio[h] > plan.Prio[d]:
		why = fmt.Sprintf("its priority %d is higher", plan.Prio[h])
	case plan.IsBound(h, c.Cluster.NodePos[node.Name]):
		why = "its Pod is already there"
	}
	f := report.Finding{Type: report.HostPortConflict, Node: node.Name, Reason: report.ReasonHostPortClaimed,
		Params: report.Params{Port: pc.Port.String(), Other: holder},
		Cause:  fmt.Sprintf("host port %s also claimed by DaemonSet %s", pc.Port, holder)}
	f.Message = fmt.Sprintf("DaemonSets %s and %s both target node %s and both claim host port %s (container %s; %s's %s): %s holds it (%s), so %s's Pod cannot run there",
		c.Name(), holder, node.Name, pc.Port, pc.Port.Container, holder, pc.Other, holder, why, c.Name())
	f.Suggestion = fmt.Sprintf("give container %s of %s another hostPort (or %s's), or keep the two DaemonSets off the same nodes with a nodeSelector or node affinity", pc.Port.Container, c.Name(), holder)
	return f
}

// tooSmallCause groups NodeTooSmall findings (and the Pending Pods they
// explain) by the resources short, not by the numbers.
func tooSmallCause(lo *capacity.LeftOut) string {
	return "the node's daemons alone need more " + strings.ReplaceAll(shortResources(lo), ",", ", ") + " than its allocatable"
}

// shortResources lists the resources short, comma-separated.
func shortResources(lo *capacity.LeftOut) string {
	var rs []string
	for _, s := range lo.Shortfalls {
		rs = append(rs, string(s.Resource))
	}
	return strings.Join(rs, ",")
}

// tooSmallWords says, with the numbers, that the DaemonSet is left out.
func (c dsContext) tooSmallWords(node *corev1.Node, lo *capacity.LeftOut, nf *placement.NodeFit) string {
	var parts, why []string
	for _, s := range lo.Shortfalls {
		// One unit for the resource's amounts in both halves of the message.
		over, alloc := nf.Place.Overhead[s.Resource], nf.Alloc[s.Resource]
		u := capacity.UnitFor(s.Resource, over, alloc, s.Requested, s.Used, s.Allocatable)
		parts = append(parts, fmt.Sprintf("%s: the %d daemons request %s of %s allocatable", s.Resource, nf.Daemons,
			capacity.FormatIn(s.Resource, over, u), capacity.FormatIn(s.Resource, alloc, u)))
		why = append(why, s.StringIn(u))
	}
	return fmt.Sprintf("the DaemonSets that should run on node %s do not all fit (%s); placed by priority, %s is left out: %s",
		node.Name, strings.Join(parts, "; "), c.Name(), strings.Join(why, ", "))
}

// tooSmallFix is what to do about a node too small for its daemons.
func (c dsContext) tooSmallFix(f *report.Finding, lo *capacity.LeftOut) {
	for _, s := range lo.Shortfalls {
		if s.Unresolvable {
			q := capacity.FormatEach(s.Resource, s.Requested, s.Allocatable)
			explain.Advise(f, fmt.Sprintf("%s alone asks more %s (%s) than the node's whole allocatable (%s): lower its requests, or keep it off such nodes with a nodeSelector or node affinity",
				c.Name(), s.Resource, q[0], q[1]))
			return
		}
	}
	explain.Advise(f, fmt.Sprintf("lower the requests of the node's daemons ({0} lists them per node), use nodes with more allocatable, or, if %s matters more than the daemons placed before it, give it a higher priorityClassName", c.Name()),
		explain.Kubectl("daemoncheck", "capacity", "-o", "wide"))
}

// CapacityCauses is capacityCauses for the engine, after the detectors.
func CapacityCauses(c *detect.Context, fs []report.Finding) []report.Finding {
	return dsContext{c}.capacityCauses(fs)
}

// capacityCauses makes the capacity stage the cause of the problems it
// explains, so nothing is said twice: a daemon Pod Pending on a host port
// another DaemonSet holds becomes part of that HostPortConflict; a Pending
// or missing Pod on a node too small for its daemons gets that as its
// cause; and with --workloads every Pending or missing Pod gets the fit
// with the Pods already on its node, and whether preemption can help.
func (c dsContext) capacityCauses(fs []report.Finding) []report.Finding {
	plan := c.Cluster.Plan
	d := plan.Of(c.DS)
	if d < 0 || plan.Verdicts == nil {
		return fs
	}
	conflict := map[string]int{}
	for i := range fs {
		if fs[i].Type == report.HostPortConflict {
			if _, seen := conflict[fs[i].Node]; !seen {
				conflict[fs[i].Node] = i
			}
		}
	}
	out := fs[:0]
	for i := range fs {
		f := fs[i]
		pos, known := c.Cluster.NodePos[f.Node]
		if !known || (f.Type != report.PendingPod && f.Type != report.MissingPod) {
			out = append(out, f)
			continue
		}
		var pod *model.DaemonPod
		if f.Type == report.PendingPod {
			pod = c.podOn(f.Node, f.Pod)
			if pod == nil || pod.NodeName != "" {
				out = append(out, f) // bound but not started: the kubelet's business
				continue
			}
			if k, ok := conflict[f.Node]; ok && (pod.ScheduledMessage == "" || f.Reason == report.ReasonHostPortTaken) {
				hc := &fs[k]
				hc.Pod = pod.Name
				hc.Message += fmt.Sprintf("; its Pod %s is Pending", pod.Name)
				if pod.ScheduledMessage != "" {
					hc.Message += ": " + text.OneLine(pod.ScheduledMessage)
				}
				continue
			}
		}
		nf := &plan.Nodes[pos]
		node := c.Cluster.Nodes[pos]
		if lo := plan.LeftOutOf(d, pos); lo != nil && len(lo.Shortfalls) > 0 && nf.Alloc != nil {
			words := c.tooSmallWords(node, lo, nf)
			if f.Type == report.PendingPod {
				f.Reason, f.Params = report.ReasonDaemonsDontFit, report.Params{Resource: shortResources(lo)}
				f.Cause = "unschedulable: " + tooSmallCause(lo)
				f.Message += "; " + words
				c.tooSmallFix(&f, lo)
			} else {
				f.Message += "; once created it would not fit: " + words
			}
		}
		if plan.Work != nil {
			name := ""
			if pod != nil {
				name = pod.Name
			}
			fit := plan.WorkloadFit(d, pos, node, name)
			f.Message += "; " + fit.Words
			if f.Type == report.PendingPod && f.Reason != report.ReasonDaemonsDontFit {
				f.Reason, f.Params = report.ReasonInsufficient, report.Params{Resource: fit.Resources, Detail: fit.Cause}
				if fit.Resources == "" {
					f.Reason = report.ReasonUnschedulable
				}
				f.Cause = "unschedulable: " + fit.Cause
				if fit.Fix != "" {
					explain.Advise(&f, fit.Fix, fit.Cmds...)
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// podOn finds the DaemonSet's Pod by name among those for node.
func (c dsContext) podOn(node, name string) *model.DaemonPod {
	for _, p := range c.ByNode[node] {
		if p.Name == name {
			return p
		}
	}
	return nil
}

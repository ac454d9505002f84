package placement

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Fit is the fit explanation of a daemon Pod on its node with every Pod of
// the node counted (--workloads).
type Fit struct {
	// Words say it with the numbers; Cause classifies it for grouping
	// (no numbers, no names); Fix is what to do ("" keep the finding's).
	Words, Cause, Fix string
	// Cmds are the commands Fix names ("{i}").
	Cmds []report.Command
	// Resources are what is short, for the finding's params.
	Resources string
}

// WorkloadFit explains whether ds[d]'s Pod fits on node position n next to the
// Pods bound there, as the scheduler's NodeResourcesFit and NodePorts
// filters decide, and whether preemption can make room: the scheduler may
// evict Pods of lower priority than the daemon's
// (DefaultPreemption), never of equal or higher priority.
func (p *Plan) WorkloadFit(d, n int, node *corev1.Node, pod string) Fit {
	alloc := p.Nodes[n].Alloc
	if alloc == nil {
		return Fit{Words: fmt.Sprintf("node %s reports no status.allocatable, so the fit is unknown", node.Name), Cause: "node reports no allocatable"}
	}
	load := p.Work.Nodes[node.Name]
	if load == nil {
		load = &model.NodeLoad{Requested: capacity.Amounts{}, Daemons: capacity.Amounts{}}
	}
	need := p.Req[d].Resources
	short := capacity.Fit(alloc, load.Requested, need)
	holders := clashing(load, p.Req[d].HostPorts)

	// One unit per resource for every amount the message shows, those
	// left once lower-priority Pods are preempted included.
	_, freed := load.Below(p.Prio[d])
	afterFreed := load.Requested.Clone()
	afterFreed.Sub(freed)
	unit := func(r corev1.ResourceName) capacity.Unit {
		return capacity.UnitFor(r, alloc[r], load.Requested[r], load.Daemons[r], need[r], afterFreed[r])
	}

	var w strings.Builder
	fmt.Fprintf(&w, "with every Pod read: node %s has ", node.Name)
	shown := short
	if len(shown) == 0 {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if need[r] > 0 {
				shown = append(shown, capacity.Shortfall{Resource: r, Requested: need[r], Used: load.Requested[r], Allocatable: alloc[r]})
			}
		}
	}
	var parts []string
	for _, s := range shown {
		if s.Resource == corev1.ResourcePods {
			parts = append(parts, fmt.Sprintf("%d Pod slots, all %d used", s.Allocatable, s.Used))
			continue
		}
		u := unit(s.Resource)
		parts = append(parts, fmt.Sprintf("%s %s allocatable of which the %d Pods there request %s (%s by daemons) and the daemon needs %s",
			s.Resource, capacity.FormatIn(s.Resource, s.Allocatable, u), load.Pods, capacity.FormatIn(s.Resource, s.Used, u),
			capacity.FormatIn(s.Resource, load.Daemons[s.Resource], u), capacity.FormatIn(s.Resource, s.Requested, u)))
	}
	if len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%d Pods", load.Pods))
	}
	w.WriteString(strings.Join(parts, "; "))
	var what []string
	for _, s := range short {
		what = append(what, s.StringIn(unit(s.Resource)))
	}
	for _, h := range holders {
		what = append(what, fmt.Sprintf("host port %s is held by Pod %s/%s (priority %d)", h.port, h.Namespace, h.Name, h.Priority))
	}
	if len(what) == 0 {
		w.WriteString(": it fits, so the scheduler's reason is not resources or host ports")
		return Fit{Words: w.String(), Cause: "fits next to the Pods on the node: not resources or host ports"}
	}
	w.WriteString(": " + strings.Join(what, ", "))
	res := shortNames(short, holders)
	f := Fit{Resources: res}

	p.preemption(&f, &w, fitCase{d: d, pod: pod, load: load, alloc: alloc, need: need, short: short, holders: holders, unit: unit})
	f.Words = w.String()
	return f
}

// fitCase is a daemon that does not fit next to the Pods on a node: DS[d]'s
// Pod (named pod, "" when it has none), the node's load and allocatable,
// what the daemon needs, what is short, the Pods holding its host ports,
// and the unit each resource is shown in.
type fitCase struct {
	d           int
	pod         string
	load        *model.NodeLoad
	alloc, need capacity.Amounts
	short       []capacity.Shortfall
	holders     []portHolder
	unit        func(corev1.ResourceName) capacity.Unit
}

// preemption says whether preemption can make room for DS[d]'s Pod on a
// node whose Pods request load (the fit failed): the scheduler evicts only
// Pods of lower priority than the daemon's, and only when that is enough.
func (p *Plan) preemption(f *Fit, w *strings.Builder, fc fitCase) {
	d, pod, load, alloc, need, short, holders, unit := fc.d, fc.pod, fc.load, fc.alloc, fc.need, fc.short, fc.holders, fc.unit
	res := f.Resources
	prio := p.Prio[d]
	switch {
	case anyUnresolvable(short):
		w.WriteString("; no preemption can help: it asks more than the node's whole allocatable")
		f.Cause = res + ": more than the node's allocatable"
		f.Fix = fmt.Sprintf("lower the requests of %s, or keep it off such nodes with a nodeSelector or node affinity", p.Names[d])
	case !p.Preempts[d]:
		w.WriteString("; it cannot preempt (preemptionPolicy: Never)")
		f.Cause = res + " taken by the Pods on the node; the daemon may not preempt"
		f.Fix = fmt.Sprintf("free room on the node, or let %s preempt (drop preemptionPolicy: Never)", p.Names[d])
	case !p.PrioKnown[d]:
		w.WriteString("; whether preemption can help is unknown: the daemon's priority depends on PriorityClasses that were not read")
		f.Cause = res + " taken by the Pods on the node"
	default:
		pods, freed := load.Below(prio)
		after := load.Requested.Clone()
		after.Sub(freed)
		still := capacity.Fit(alloc, after, need)
		var kept []portHolder
		for _, h := range holders {
			if h.Priority >= prio {
				kept = append(kept, h)
			}
		}
		switch {
		case len(still) == 0 && len(kept) == 0:
			fmt.Fprintf(w, "; preemption can help: the %d Pods below the daemon's priority %d request enough to make room, so the scheduler should evict some of them", pods, prio)
			f.Cause = res + " taken by lower-priority Pods; preemption can help"
			f.Fix = "the scheduler preempts by itself; if the Pod stays Pending, a PodDisruptionBudget or a nominated Pod may hold it back"
			if pod != "" {
				f.Fix += ": see its events ({0})"
				f.Cmds = []report.Command{explain.Kubectl("describe", "pod", "-n", p.DS[d].Namespace, pod)}
			}
		case pods == 0:
			fmt.Fprintf(w, "; preemption cannot help: no Pod there has a priority below the daemon's %d", prio)
			f.Cause = res + " taken by Pods of equal or higher priority; preemption cannot help"
			f.Fix = fmt.Sprintf("give %s a priorityClassName above the workloads' (e.g. system-node-critical) so the scheduler preempts them, lower its requests, or free room on the node", p.Names[d])
		default:
			var left []string
			for _, s := range still {
				left = append(left, s.StringIn(unit(s.Resource)))
			}
			for _, h := range kept {
				left = append(left, fmt.Sprintf("host port %s held by %s/%s", h.port, h.Namespace, h.Name))
			}
			fmt.Fprintf(w, "; preemption cannot help: even without the %d Pods below the daemon's priority %d: %s", pods, prio, strings.Join(left, ", "))
			f.Cause = res + " taken by Pods of equal or higher priority; preemption cannot help"
			f.Fix = fmt.Sprintf("give %s a priorityClassName above the workloads' (e.g. system-node-critical), lower its requests, or use nodes with more allocatable", p.Names[d])
		}
	}
}

// portHolder is a Pod holding a host port the daemon needs.
type portHolder struct {
	model.PortHolder
	port capacity.HostPort
}

// clashing lists the Pods on the node that hold one of ports.
func clashing(load *model.NodeLoad, ports []capacity.HostPort) []portHolder {
	var out []portHolder
	for _, h := range load.PortHolders {
		if cs := capacity.Clashes(ports, h.Ports); len(cs) > 0 {
			out = append(out, portHolder{PortHolder: h, port: cs[0].Port})
		}
	}
	return out
}

func anyUnresolvable(ss []capacity.Shortfall) bool {
	for _, s := range ss {
		if s.Unresolvable {
			return true
		}
	}
	return false
}

// shortNames names what is short, for a Cause: "Insufficient cpu, memory",
// "host port 9100/TCP".
func shortNames(short []capacity.Shortfall, holders []portHolder) string {
	var rs, out []string
	for _, s := range short {
		if s.Resource == corev1.ResourcePods {
			out = append(out, "Too many pods")
			continue
		}
		rs = append(rs, string(s.Resource))
	}
	if len(rs) > 0 {
		out = append([]string{"Insufficient " + strings.Join(rs, ", ")}, out...)
	}
	seen := map[string]bool{}
	for _, h := range holders {
		if s := "host port " + h.port.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

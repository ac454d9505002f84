package whatif

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// nodePlacement is the daemons placed on a cluster node.
type nodePlacement struct {
	p      capacity.Placement
	byName map[string]*dsInfo
}

// placeKey names a placement: a node and a set of DaemonSets (-1: the
// cluster's; i: the cluster's with change i applied).
type placeKey struct {
	node string
	set  int
}

// placement places on cluster node n the daemons of dss that the
// controller targets there. Other Pods on the node are not counted: the
// audit reads daemon Pods only.
func (w *whatIf) placement(n *corev1.Node, set int, dss []*dsInfo) *nodePlacement {
	k := placeKey{n.Name, set}
	if np := w.placed[k]; np != nil {
		return np
	}
	np := &nodePlacement{byName: map[string]*dsInfo{}}
	var daemons []capacity.Daemon
	for _, d := range dss {
		if d.eval.Evaluate(n).ShouldRun {
			daemons = append(daemons, daemonOf(d))
			np.byName[d.key] = d
		}
	}
	np.p = capacity.Place(capacity.FromList(n.Status.Allocatable), nil, daemons)
	w.placed[k] = np
	return np
}

// withChange is the cluster's DaemonSets with one changed (or added): what
// a change is judged against, so that each change answers for itself.
func withChange(before []*dsInfo, nw *dsInfo) []*dsInfo {
	out := make([]*dsInfo, 0, len(before)+1)
	added := false
	for _, d := range before {
		if d.key == nw.key {
			out = append(out, nw)
			added = true
			continue
		}
		out = append(out, d)
	}
	if !added {
		out = append(out, nw)
		sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	}
	return out
}

// nodeConditionTaint: a taint the node lifecycle controller or kubelet sets
// for a condition (not-ready, unreachable, pressure); it goes with the
// condition, so it is not the change's doing.
func nodeConditionTaint(v scheduling.Verdict) bool {
	return v.Taint != nil && strings.HasPrefix(v.Taint.Key, "node.kubernetes.io/")
}

// nodeGroups collects nodes by a key, in natural order of first sight.
type nodeGroups struct {
	order []string
	nodes map[string][]*corev1.Node
	first map[string]scheduling.Verdict
	extra map[string]string
}

func newNodeGroups() *nodeGroups {
	return &nodeGroups{nodes: map[string][]*corev1.Node{}, first: map[string]scheduling.Verdict{}, extra: map[string]string{}}
}

func (g *nodeGroups) add(key string, n *corev1.Node, v scheduling.Verdict) {
	if _, ok := g.nodes[key]; !ok {
		g.order = append(g.order, key)
		g.first[key] = v
	}
	g.nodes[key] = append(g.nodes[key], n)
}

func nodeNames(ns []*corev1.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

// change compares the nodes a changed DaemonSet would target with those the
// cluster's version targets: gained, lost (with the reason), required
// nodes newly left out, and daemons that newly do not fit or clash on a
// host port.
func (w *whatIf) change(idx int, ds *appsv1.DaemonSet, src string) report.DaemonSetChange {
	key := dsKey(ds)
	old := w.beforeByKey[key]
	var nw *dsInfo
	for _, d := range w.after {
		if d.key == key {
			nw = d
		}
	}
	ch := report.DaemonSetChange{Source: src, Namespace: ds.Namespace, Name: ds.Name, New: old == nil,
		RequestAfter: fmtAmounts(nw.req.Resources), RequestAfterValues: amountValues(nw.req.Resources), Gained: []report.NodeGroup{}, Lost: []report.NodeGroup{}, Findings: []report.WhatIfFinding{}}
	if old != nil {
		ch.RequestBefore, ch.RequestBeforeValues = fmtAmounts(old.req.Resources), amountValues(old.req.Resources)
	}
	if !w.nodesKnown {
		ch.Unknown = append(ch.Unknown, "nodes: "+w.snap.Missing[model.Nodes].Reason+"; the nodes gained and lost, required nodes left and fit cannot be determined")
		return ch
	}
	nc := w.compareNodes(idx, old, nw, &ch)
	ch.Gained = groups(nc.gained, func(k string) (string, string) { return k, "" })
	ch.Lost = groups(nc.lost, func(k string) (string, string) { return nc.lost.extra[k], nc.lost.first[k].Reason })
	ch.Findings = append(ch.Findings, w.uncoveredFindings(key, nw, nc.uncovered)...)
	ch.Findings = append(ch.Findings, w.misfitFindings(key, nc)...)
	return ch
}

// nodeChanges are the nodes a change moves, grouped: gained and lost (by
// pool and reason), required nodes newly left out (uncovered), and nodes
// where a daemon newly does not fit (misfit, with the first node's left-out
// daemon and placement per group).
type nodeChanges struct {
	gained, lost, uncovered, misfit *nodeGroups
	misfitLO                        map[string]capacity.LeftOut
	misfitP                         map[string]*nodePlacement
}

// compareNodes judges change idx (nw, replacing old: nil for a new
// DaemonSet) on every node, counting the nodes before and after in ch.
func (w *whatIf) compareNodes(idx int, old, nw *dsInfo, ch *report.DaemonSetChange) *nodeChanges {
	set := withChange(w.before, nw)
	nc := &nodeChanges{gained: newNodeGroups(), lost: newNodeGroups(), uncovered: newNodeGroups(), misfit: newNodeGroups(),
		misfitLO: map[string]capacity.LeftOut{}, misfitP: map[string]*nodePlacement{}}
	for _, n := range w.nodes {
		nv := nw.eval.Evaluate(n)
		var ov scheduling.Verdict
		if old != nil {
			ov = old.eval.Evaluate(n)
		}
		if nv.ShouldRun {
			ch.NodesAfter++
		}
		if ov.ShouldRun {
			ch.NodesBefore++
		}
		pool := providers.PoolOf(n, w.opts.PoolLabels)
		switch {
		case nv.ShouldRun && !ov.ShouldRun:
			nc.gained.add(pool, n, nv)
		case ov.ShouldRun && !nv.ShouldRun:
			k := pool + "\x00" + nv.Reason
			nc.lost.add(k, n, nv)
			nc.lost.extra[k] = pool
		}
		// Without a coverage rule, only nodes the change loses count: a new
		// DaemonSet that skips tainted nodes (the control plane) is by
		// design until a rule says otherwise.
		if by := w.required(nw, n.Labels, nv); by != "" && !nv.ShouldRun && !nodeConditionTaint(nv) && (by != byExpectation || ov.ShouldRun) {
			wasUncovered := old != nil && !ov.ShouldRun && w.required(old, n.Labels, ov) != ""
			if !wasUncovered {
				k := nv.Reason + "\x00" + by
				nc.uncovered.add(k, n, nv)
				nc.uncovered.extra[k] = by
			}
		}
		if !nv.ShouldRun || len(n.Status.Allocatable) == 0 {
			continue
		}
		after, before := w.placement(n, idx, set), w.placement(n, -1, w.before)
		for _, lo := range after.p.LeftOut {
			sig := leftOutSig(lo)
			if hasLeftOut(before.p, lo.Daemon, sig) {
				continue
			}
			k := lo.Daemon + "\x00" + sig
			if _, ok := nc.misfitLO[k]; !ok {
				nc.misfitLO[k], nc.misfitP[k] = lo, after
			}
			nc.misfit.add(k, n, nv)
		}
	}
	return nc
}

// uncoveredFindings say, per group, which required nodes the change to
// DaemonSet key (nw) leaves out, and how to keep them.
func (w *whatIf) uncoveredFindings(key string, nw *dsInfo, uncovered *nodeGroups) []report.WhatIfFinding {
	var out []report.WhatIfFinding
	for _, k := range uncovered.order {
		ns := uncovered.nodes[k]
		v := uncovered.first[k]
		by := uncovered.extra[k]
		where := w.nodesWhere(ns)
		f := report.WhatIfFinding{Type: report.WhatIfWillNotRun, DaemonSet: key, Nodes: nodeNames(ns)}
		f.Message = fmt.Sprintf("daemonset %s would not be targeted on %s, which %s requires: %s", key, where, by, v.Reason)
		if by == byExpectation {
			f.Message = fmt.Sprintf("daemonset %s would no longer run on %s, which its nodeSelector and node affinity still admit: %s (it has no coverage rule: admitting the node counts as meant to run there)", key, where, v.Reason)
		}
		f.Suggestion = explain.ExclusionFix(nw.ds, nw.eval, ns[0], v, by, clusterTarget(ns, w.opts.PoolLabels)).Render(report.RenderOptions{})
		out = append(out, f)
	}
	return out
}

// misfitFindings say, per group, which daemon newly does not fit (or
// clashes on a port) where the change to DaemonSet key runs.
func (w *whatIf) misfitFindings(key string, nc *nodeChanges) []report.WhatIfFinding {
	var out []report.WhatIfFinding
	for _, k := range nc.misfit.order {
		ns := nc.misfit.nodes[k]
		lo, np := nc.misfitLO[k], nc.misfitP[k]
		where := w.nodesWhere(ns)
		for _, f := range fitFindings(capacity.Placement{Placed: np.p.Placed, LeftOut: []capacity.LeftOut{lo}}, np.byName, nil, where) {
			f.Nodes = nodeNames(ns)
			if len(ns) > 1 && f.Type == report.WhatIfWillNotFit {
				f.Message += fmt.Sprintf(" (the numbers of %s)", ns[0].Name)
			}
			if lo.Daemon != key {
				today := "it fits there today"
				for _, o := range w.placement(ns[0], -1, w.before).p.LeftOut {
					if o.Daemon == lo.Daemon {
						today = "today it is left out for another reason"
					}
				}
				f.Message += fmt.Sprintf("; %s: the change to %s leaves it out", today, key)
			}
			out = append(out, f)
		}
	}
	return out
}

// leftOutSig identifies why a daemon is left out: the short resources and
// the clashing ports.
func leftOutSig(lo capacity.LeftOut) string {
	var parts []string
	for _, s := range lo.Shortfalls {
		parts = append(parts, string(s.Resource))
	}
	for i, pc := range lo.Ports {
		parts = append(parts, pc.Port.String()+"@"+lo.HeldBy[i])
	}
	return strings.Join(parts, ",")
}

func hasLeftOut(p capacity.Placement, daemon, sig string) bool {
	for _, lo := range p.LeftOut {
		if lo.Daemon == daemon && leftOutSig(lo) == sig {
			return true
		}
	}
	return false
}

// groups turns node groups into report groups, largest first.
func groups(g *nodeGroups, poolReason func(key string) (string, string)) []report.NodeGroup {
	out := make([]report.NodeGroup, 0, len(g.order))
	for _, k := range g.order {
		ns := nodeNames(g.nodes[k])
		pool, reason := poolReason(k)
		ng := report.NodeGroup{Pool: pool, Reason: reason, Count: len(ns), Range: names.Range(ns), Nodes: ns}
		if reason != "" {
			ng.Cause = string(g.first[k].Cause)
		}
		out = append(out, ng)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		if out[i].Pool != out[j].Pool {
			return out[i].Pool < out[j].Pool
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}

// nodesWhere names a group of cluster nodes: "node worker-3", "4 nodes of
// pool general (worker-1…4)", "5 nodes of pools arm, general (...)".
func (w *whatIf) nodesWhere(ns []*corev1.Node) string {
	if len(ns) == 1 {
		return "node " + ns[0].Name
	}
	r := names.Range(nodeNames(ns))
	seen := map[string]bool{}
	var pools []string
	for _, n := range ns {
		if p := providers.PoolOf(n, w.opts.PoolLabels); p != "" && !seen[p] {
			seen[p] = true
			pools = append(pools, p)
		}
	}
	switch len(pools) {
	case 0:
		return fmt.Sprintf("%d nodes (%s)", len(ns), r)
	case 1:
		return fmt.Sprintf("%d nodes of pool %s (%s)", len(ns), pools[0], r)
	}
	sort.Strings(pools)
	return fmt.Sprintf("%d nodes of pools %s (%s)", len(ns), strings.Join(pools, ", "), r)
}

// maxListedNodes bounds the node names a suggested kubectl command lists;
// past it, the command selects the pool by its label.
const maxListedNodes = 10

// clusterTarget says how a group of cluster nodes gets labels: kubectl label
// with their names, or with the pool's label selector when they are many.
func clusterTarget(ns []*corev1.Node, poolLabels []string) explain.LabelTarget {
	if len(ns) == 1 {
		return explain.LiveNode(ns[0].Name)
	}
	what := fmt.Sprintf("%d nodes (%s)", len(ns), names.Range(nodeNames(ns)))
	args := nodeNames(ns)
	if len(ns) > maxListedNodes {
		// One pool: its selector; several: every name (still valid).
		sel := poolSelector(ns[0], poolLabels)
		for _, n := range ns[1:] {
			if poolSelector(n, poolLabels) != sel {
				sel = ""
				break
			}
		}
		if sel != "" {
			args = []string{"-l", sel}
		}
	}
	return explain.LabelTarget{What: what, Live: true, Label: func(kvs []string) (string, []report.Command) {
		argv := append(append(append([]string{"label", "node"}, args...), kvs...), "--overwrite")
		return "{0}", []report.Command{explain.KubectlWrite(argv...)}
	}}
}

// poolSelector is the label selector of a node's pool (poolOf's label).
func poolSelector(n *corev1.Node, poolLabels []string) string {
	for _, l := range append(append([]string(nil), poolLabels...), providers.InstanceTypeLabel) {
		if v := n.Labels[l]; v != "" {
			return l + "=" + v
		}
	}
	return ""
}

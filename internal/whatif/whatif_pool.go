package whatif

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// startupTaints moves the readiness gates among t's taints (taints a node
// registers with that a known agent or controller removes once the node is
// ready: providers.Gates, whatever put them on the node, the kubelet's
// --register-with-taints, kubeadm's nodeRegistration, a Node manifest) to
// its startup taints: temporary, as the pool's own startup taints.
func startupTaints(t *model.PoolTemplate, gates *providers.Gates) *model.PoolTemplate {
	c := *t
	c.Taints = nil
	c.StartupTaints = append([]corev1.Taint(nil), t.StartupTaints...)
	c.Notes = append([]string(nil), t.Notes...)
	for _, tn := range t.Taints {
		if g, ok := gates.Of(&tn, t.Labels); ok {
			c.StartupTaints = append(c.StartupTaints, tn)
			c.Notes = append(c.Notes, fmt.Sprintf("%s is a readiness gate (%s) removed by %s: counted as a startup taint", scheduling.TaintString(&tn), g.Owner, g.Remover))
			continue
		}
		c.Taints = append(c.Taints, tn)
	}
	return &c
}

// poolGates recognises the gates of a pool: the cluster's
// NodeReadinessRules, the built-in gates, and a NodePool's startupTaints.
func (w *whatIf) poolGates(t *model.PoolTemplate) *providers.Gates {
	var startup map[string][]corev1.Taint
	if t.Kind == "NodePool" && len(t.StartupTaints) > 0 {
		startup = map[string][]corev1.Taint{t.Name: t.StartupTaints}
	}
	return providers.NewGates(w.snap.NodeReadinessRules, w.snap.NodeReadinessRulesRead, startup)
}

// pool judges one proposed pool, shape by shape.
func (w *whatIf) pool(t *model.PoolTemplate) report.PoolWhatIf {
	gates := w.poolGates(t)
	t = startupTaints(t, gates)
	pw := report.PoolWhatIf{Source: t.Source, Kind: t.Kind, APIVersion: t.APIVersion, Namespace: t.Namespace, Name: t.Name,
		Labels: map[string]string{}, FilledLabels: []string{}, Taints: []string{}, StartupTaints: []report.StartupTaint{},
		Notes: append([]string{}, t.Notes...), Shapes: []report.Shape{}, Findings: []report.WhatIfFinding{}}
	for i := range t.Taints {
		pw.Taints = append(pw.Taints, scheduling.TaintString(&t.Taints[i]))
	}
	for _, r := range t.Requirements {
		pw.Requirements = append(pw.Requirements, requirementText(r))
	}
	filled := map[string]bool{}
	for _, k := range t.Filled {
		filled[k] = true
	}
	set := w.shapes(t, filled, &pw.Notes)
	specs := set.specs
	tolerated := make([]map[string]bool, len(t.StartupTaints))
	agents := make([]map[string]bool, len(t.StartupTaints))
	for i := range tolerated {
		tolerated[i], agents[i] = map[string]bool{}, map[string]bool{}
	}
	var raw []report.WhatIfFinding
	for i, name := range shapeNames(t, specs) {
		s := specs[i]
		fillLabels(s.labels, name, filled)
		pw.Shapes = append(pw.Shapes, w.judge(t, name, s, &raw, gateCheck{gates: gates, tolerated: tolerated, agents: agents}))
	}
	pw.Findings = groupShapeFindings(raw, len(pw.Shapes))
	pw.Findings = append(pw.Findings, w.shapeCountFindings(&pw, set)...)
	// The pool's labels are those every shape has alike (not the hostname).
	if len(pw.Shapes) > 0 {
		for k, v := range pw.Shapes[0].Labels {
			same := k != corev1.LabelHostname
			for _, s := range pw.Shapes[1:] {
				if s.Labels[k] != v {
					same = false
					break
				}
			}
			if same {
				pw.Labels[k] = v
			}
		}
	}
	for k := range filled {
		pw.FilledLabels = append(pw.FilledLabels, k)
	}
	sort.Strings(pw.FilledLabels)
	for i := range t.StartupTaints {
		st := &t.StartupTaints[i]
		by := slices.Collect(maps.Keys(tolerated[i]))
		sort.Strings(by)
		ps := report.StartupTaint{Taint: scheduling.TaintString(st), ToleratedBy: by, Agents: slices.Sorted(maps.Keys(agents[i]))}
		g, gate := gates.Of(st, pw.Labels)
		if gate {
			ps.Owner, ps.RemovedBy = string(g.Owner), g.Remover
		}
		pw.StartupTaints = append(pw.StartupTaints, ps)
		// A controller lifts its own gate (Cluster API, the cloud node
		// controller, Karpenter's registration): no daemon need run under it.
		if len(by) == 0 && !g.Controller && (st.Effect == corev1.TaintEffectNoSchedule || st.Effect == corev1.TaintEffectNoExecute) {
			pw.Findings = append(pw.Findings, report.WhatIfFinding{Type: report.WhatIfStartupTaint,
				Message:    fmt.Sprintf("no DaemonSet that would run on the pool tolerates startup taint %s, so none of them can be what removes it; until something else does, no daemon lands on the pool's nodes", scheduling.TaintString(st)),
				Suggestion: fmt.Sprintf("check what removes %s (usually the agent it waits for, e.g. the CNI, as a DaemonSet that tolerates it: %s); if that DaemonSet exists, it may be outside the DaemonSets read (-n, -l)", st.Key, explain.TolerationYAML(st))})
		}
	}
	return pw
}

// shapeCountFindings say what of the pool was not judged: none of it, when
// its requirements allow no node (a pool that can create nothing must not
// pass for one whose nodes are all fine), or the shapes beyond MaxShapes
// (the failure may be in one of them).
func (w *whatIf) shapeCountFindings(pw *report.PoolWhatIf, set shapeSet) []report.WhatIfFinding {
	if set.none != "" {
		return []report.WhatIfFinding{{Type: report.WhatIfNoNodeShape,
			Message:    fmt.Sprintf("no node shape satisfies the requirements: %s; the pool cannot create a node, so nothing about it was judged", set.none),
			Suggestion: fmt.Sprintf("correct the requirements of %s %s (two that contradict each other, a bound no integer meets, an instance type the cluster has only on another architecture)", pw.Kind, pw.Name)}}
	}
	judged := big.NewInt(int64(len(set.specs)))
	if set.total.Cmp(judged) <= 0 {
		return nil
	}
	rest := new(big.Int).Sub(set.total, judged)
	pw.ShapesAllowed, pw.UnjudgedShapes = saturated(set.total), saturated(rest)
	return []report.WhatIfFinding{{Type: report.WhatIfShapesNotJudged,
		Message: fmt.Sprintf("not judged: %s node shapes beyond --max-shapes %d (the requirements allow %s distinct node shapes; the first %d were judged); a daemon that does not run or fit on one of them would go unseen",
			rest, w.opts.MaxShapes, set.total, len(set.specs)),
		Suggestion: fmt.Sprintf("raise --max-shapes to %s to judge them all, narrow the requirements of %s %s (fewer values of the labels the DaemonSets select on), or give --accept-unjudged-shapes to let the shapes judged decide",
			set.total, pw.Kind, pw.Name)}}
}

// saturated is n as an int64, math.MaxInt64 if larger.
func saturated(n *big.Int) int64 {
	if n.IsInt64() {
		return n.Int64()
	}
	return math.MaxInt64
}

// requirementText renders a pool requirement: "kubernetes.io/arch In [amd64,arm64]".
func requirementText(r corev1.NodeSelectorRequirement) string {
	if len(r.Values) == 0 {
		return fmt.Sprintf("%s %s", r.Key, r.Operator)
	}
	return fmt.Sprintf("%s %s [%s]", r.Key, r.Operator, strings.Join(r.Values, ","))
}

// poolTarget says how a proposed pool's nodes get labels: through the
// object that creates them.
func poolTarget(t *model.PoolTemplate) explain.LabelTarget {
	what := fmt.Sprintf("the nodes of %s %s", t.Kind, t.Name)
	label := func(kvs []string) (string, []report.Command) {
		if t.LabelsAt == "" {
			return "--labels " + strings.Join(kvs, ","), nil
		}
		fix := fmt.Sprintf("add %s to %s", strings.Join(kvs, " "), t.LabelsAt)
		if t.LabelsNote != "" {
			fix += " (" + t.LabelsNote + ")"
		}
		return fix, nil
	}
	if t.Kind == "Flags" {
		what = "the described node"
	}
	return explain.LabelTarget{What: what, Label: label}
}

// judge evaluates every DaemonSet on one node shape: the controller's
// verdict, the coverage verdict, startup taints, and the fit.
func (w *whatIf) judge(t *model.PoolTemplate, name string, s shapeSpec, findings *[]report.WhatIfFinding, gc gateCheck) report.Shape {
	node := &corev1.Node{Spec: corev1.NodeSpec{Taints: t.Taints}}
	node.Name, node.Labels = name, s.labels
	start := &corev1.Node{Spec: corev1.NodeSpec{Taints: t.StartupTaints}}
	start.Name, start.Labels = name, s.labels
	shape := report.Shape{Name: name, Varies: s.varies, Labels: s.labels, InstanceType: s.instanceType,
		InstanceTypes: s.instanceTypes, OtherInstanceTypes: s.moreTypes || s.otherType,
		OS: s.labels[corev1.LabelOSStable], Arch: s.labels[corev1.LabelArchStable], DaemonSets: []report.ShapeDaemon{}}
	alloc, from, unknown, unknownFix := w.allocatable(t, s)
	target := poolTarget(t)
	byName := map[string]*dsInfo{}
	at := map[string]int{}
	var daemons []capacity.Daemon
	for _, d := range w.after {
		v := d.eval.Evaluate(node)
		sd := report.ShapeDaemon{Namespace: d.ds.Namespace, Name: d.ds.Name, Runs: v.ShouldRun, Reason: v.Reason, Cause: string(v.Cause), Short: explain.ShortReason(v),
			Request: fmtAmounts(d.req.Resources), RequestValues: amountValues(d.req.Resources), Priority: d.prio, PriorityKnown: d.prioKnown}
		by := w.required(d, s.labels, v)
		if by == byExpectation && !v.ShouldRun {
			// Without a coverage policy, a taint that keeps a DaemonSet
			// its selectors admit off a node is by design, as the audit
			// calls the same exclusion on a real node (Not targeted):
			// taints are how a pool keeps daemons off (GPU, dedicated and
			// control-plane nodes), and nothing says this one is a mistake.
			by = ""
		}
		sd.Required, sd.RequiredBy = by != "", by
		switch {
		case v.ShouldRun:
			w.startupTaints(t, name, s.labels, start, d, &sd, findings, gc)
			daemons = append(daemons, daemonOf(d))
			byName[d.key] = d
			w.newPlatform(name, s, d, findings)
		case sd.Required:
			f := report.WhatIfFinding{Type: report.WhatIfWillNotRun, DaemonSet: d.key, Shapes: []string{name}, Cause: v.Reason, RequiredBy: by}
			f.Message = fmt.Sprintf("daemonset %s is required on %s by %s but the controller would not target it: %s", d.key, whereToken, by, v.Reason)
			f.Suggestion = explain.ExclusionFix(d.ds, d.eval, node, v, by, target).Render(report.RenderOptions{})
			if v.Cause == scheduling.CauseTaint {
				if ts := d.eval.UntoleratedTaints(node); len(ts) > 0 {
					f.Suggestion += "; or " + taintRemoval(t, ts) + " if the daemon must run there"
				}
			}
			*findings = append(*findings, f)
		}
		at[d.key] = len(shape.DaemonSets)
		shape.DaemonSets = append(shape.DaemonSets, sd)
	}
	p := place(alloc, daemons)
	fit := report.ShapeFitYes
	if alloc == nil {
		fit = report.ShapeFitUnknown
	}
	for _, n := range p.Placed {
		shape.DaemonSets[at[n]].Fit = fit
	}
	for _, lo := range p.LeftOut {
		sd := &shape.DaemonSets[at[lo.Daemon]]
		sd.Fit = report.ShapeFitNo
		sd.Shortfalls, sd.PortClashes = leftOutText(lo)
	}
	for _, f := range fitFindings(p, byName, alloc, whereToken) {
		f.Shapes = []string{name}
		*findings = append(*findings, f)
	}
	shape.Overhead, shape.OverheadValues = fmtAmounts(p.Overhead), amountValues(p.Overhead)
	if alloc == nil {
		shape.FitUnknown = unknown + "; " + unknownFix
		if len(daemons) > 0 {
			// The amounts are each shape's (its overhead): left out of the
			// message, so that shapes with one cause share one finding.
			*findings = append(*findings, report.WhatIfFinding{Type: report.WhatIfFitUnknown, Shapes: []string{name}, Cause: unknown,
				Message:    fmt.Sprintf("%s: the node's allocatable is not known (%s): whether the daemons fit there is unknown", whereToken, unknown),
				Suggestion: unknownFix})
		}
		return shape
	}
	shape.Allocatable, shape.AllocatableValues, shape.AllocatableFrom = fmtAmounts(alloc), amountValues(alloc), from
	headroom(&shape, alloc, p, byName)
	return shape
}

// startupTaints judges one DaemonSet that runs on a shape against the
// pool's startup taints: one it does not tolerate is temporary (it lands
// once the gate is lifted) unless the gate waits for it (GateDeadlock); the
// ones it tolerates are recorded for the gate checks.
func (w *whatIf) startupTaints(t *model.PoolTemplate, name string, labels map[string]string, start *corev1.Node, d *dsInfo, sd *report.ShapeDaemon, findings *[]report.WhatIfFinding, gc gateCheck) {
	untol := d.eval.UntoleratedTaints(start)
	for i := range t.StartupTaints {
		st := &t.StartupTaints[i]
		waits := false
		for j := range untol {
			if untol[j].MatchTaint(st) && untol[j].Value == st.Value {
				waits = true
			}
		}
		agent := gc.agent(d, st, labels)
		switch {
		case waits && agent:
			// The one the gate waits for cannot run under it: the
			// taint is never lifted (GateDeadlock in the audit).
			*findings = append(*findings, gateDeadlock(d, st, name))
		case waits:
			// Temporary: the daemon lands once the gate is lifted.
			sd.WaitsFor = append(sd.WaitsFor, scheduling.TaintString(st))
		case st.Effect != corev1.TaintEffectPreferNoSchedule:
			gc.tolerated[i][d.key] = true
			if agent {
				gc.agents[i][d.key] = true
			}
		}
	}
}

// headroom fills in what is left on a shape after its placed daemons, and
// the share their overhead takes, per resource.
func headroom(shape *report.Shape, alloc capacity.Amounts, p capacity.Placement, byName map[string]*dsInfo) {
	shape.OverheadPercent = map[string]int{}
	used := capacity.Amounts{}
	for _, n := range p.Placed {
		used.Add(byName[n].req.Resources)
	}
	shape.Headroom, shape.HeadroomValues = map[string]string{}, map[string]int64{}
	for _, r := range alloc.Names() {
		shape.Headroom[string(r)] = capacity.Format(r, alloc[r]-used[r])
		shape.HeadroomValues[string(r)] = alloc[r] - used[r]
		if o := p.Overhead[r]; o > 0 {
			shape.OverheadPercent[string(r)] = capacity.Percent(o, alloc[r])
		}
	}
}

// taintRemoval says how to take taints off a proposed pool's nodes, in the
// terms of its input: the flag that added each, or the field of the object
// that sets it.
func taintRemoval(t *model.PoolTemplate, ts []corev1.Taint) string {
	var parts []string
	for i := range ts {
		parts = append(parts, removeTaint(t, &ts[i]))
	}
	return strings.Join(parts, " and ")
}

func removeTaint(t *model.PoolTemplate, tn *corev1.Taint) string {
	ts := scheduling.TaintString(tn)
	if where := t.TaintOrigin[tn.Key]; where != "" {
		if strings.HasPrefix(where, "--") {
			return fmt.Sprintf("leave %s out of %s", ts, where)
		}
		return fmt.Sprintf("remove %s from %s", ts, where)
	}
	switch where := t.TaintsAt; {
	case strings.HasPrefix(where, "--"):
		return fmt.Sprintf("leave %s out of %s", ts, where)
	case where != "":
		return fmt.Sprintf("remove %s from %s", ts, where)
	}
	return fmt.Sprintf("remove %s from %s %s", ts, t.Kind, t.Name)
}

// allocatable is the shape's allocatable: the input's (manifest status,
// --allocatable), else that of a cluster node of the shape's instance
// type; unknown says why there is none, and fix what gives it.
func (w *whatIf) allocatable(t *model.PoolTemplate, s shapeSpec) (a capacity.Amounts, from, unknown, fix string) {
	if len(t.Allocatable) > 0 {
		return capacity.FromList(t.Allocatable), t.AllocatableFrom, "", ""
	}
	const hint = "give --allocatable (e.g. --allocatable cpu=4,memory=16Gi,pods=110)"
	it := s.instanceType
	switch {
	case s.otherType:
		return nil, "", "the pool may pick instance types it does not name, whose allocatable is not known", hint
	case it == "":
		where := ""
		if t.InstanceTypeWhere != "" {
			where = " (it is in " + t.InstanceTypeWhere + ")"
		}
		return nil, "", "the instance type is not known" + where, "give --instance-type (a cluster node of that type gives the allocatable) or " + strings.TrimPrefix(hint, "give ")
	case !w.nodesKnown:
		return nil, "", fmt.Sprintf("nodes were not read, so no node of instance type %s gives the allocatable", it), hint
	}
	n := w.sample(t, it)
	if n == nil {
		// The shape stands for every type grouped with it: none has a node.
		types := it
		if k := len(s.instanceTypes); k > 1 {
			types = strings.Join(s.instanceTypes[:k-1], ", ") + " or " + s.instanceTypes[k-1]
		}
		return nil, "", fmt.Sprintf("no node of instance type %s in the cluster to take the allocatable from", types), hint
	}
	from = fmt.Sprintf("node %s (instance type %s)", n.Name, it)
	base := amountsLine(capacity.FromList(n.Status.Allocatable))
	for _, o := range w.samples[it] {
		if len(o.Status.Allocatable) > 0 && amountsLine(capacity.FromList(o.Status.Allocatable)) != base {
			from += ", the smallest of the type's nodes"
			break
		}
	}
	return capacity.FromList(n.Status.Allocatable), from, "", ""
}

// whereToken stands for the shapes a finding is about until findings of
// several shapes that say the same are merged.
const whereToken = "\x00where\x00"

// groupShapeFindings merges the findings that say the same about several
// shapes into one (one line per cause, not per shape), in first-seen order,
// and names the shapes where the token stands.
func groupShapeFindings(raw []report.WhatIfFinding, shapes int) []report.WhatIfFinding {
	out := []report.WhatIfFinding{}
	at := map[string]int{}
	for _, f := range raw {
		k := string(f.Type) + "\x01" + f.DaemonSet + "\x01" + f.Message + "\x01" + f.Suggestion
		if i, ok := at[k]; ok {
			out[i].Shapes = append(out[i].Shapes, f.Shapes...)
			continue
		}
		at[k] = len(out)
		out = append(out, f)
	}
	for i := range out {
		f := &out[i]
		where := "node shape " + f.Shapes[0]
		switch {
		case len(f.Shapes) > 1 && len(f.Shapes) == shapes:
			where = fmt.Sprintf("all %d node shapes of the pool", shapes)
		case len(f.Shapes) > 1:
			where = "node shapes " + strings.Join(f.Shapes, ", ")
		}
		f.Message = strings.ReplaceAll(f.Message, whereToken, where)
		f.Suggestion = strings.ReplaceAll(f.Suggestion, whereToken, where)
	}
	return out
}

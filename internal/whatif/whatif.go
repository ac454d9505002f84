package whatif

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// WhatIfOptions tune a what-if.
type WhatIfOptions struct {
	// Now is the report's clock (nothing in a what-if ages).
	Now time.Time
	// Policy requires DaemonSets on nodes (validated by the caller).
	Policy *policy.Policy
	// MaxShapes bounds the node shapes evaluated per pool (default
	// DefaultMaxShapes).
	MaxShapes int
	// PoolLabels name a node's pool (default providers.DefaultPoolLabels).
	PoolLabels []string
	// AcceptUnjudged makes the shapes beyond MaxShapes a warning instead
	// of a failure: the user accepts that the shapes judged decide.
	AcceptUnjudged bool
	// Gate decides which findings fail and which are left out (default:
	// fail on severity error, leave none out).
	Gate report.WhatIfGate
}

// DefaultMaxShapes bounds the shapes of one pool: a NodePool that allows
// every architecture, several OSes and dozens of instance types of
// different sizes would otherwise multiply out.
const DefaultMaxShapes = 32

// byExpectation is RequiredBy when no coverage rule names the DaemonSet:
// its own selectors admit the node, so it was written to run there.
const byExpectation = report.RequiredBySelectors

// dsInfo is what a what-if needs of one DaemonSet, computed once.
type dsInfo struct {
	ds        *appsv1.DaemonSet
	key       string
	eval      *scheduling.Evaluator
	req       capacity.Request
	prio      int32
	prioKnown bool
	rules     []policy.Rule
}

type whatIf struct {
	snap        *model.Snapshot
	opts        WhatIfOptions
	classesRead bool
	nodesKnown  bool
	nodes       []*corev1.Node // natural order
	before      []*dsInfo      // the cluster's DaemonSets, by namespace/name
	after       []*dsInfo      // with the proposal's changes applied
	beforeByKey map[string]*dsInfo
	// samples are, per instance type, the cluster's nodes of that type.
	samples map[string][]*corev1.Node
	tests   map[string][]keyTest
	rep     *report.WhatIfReport
	// placed memoizes the daemons placed on a cluster node, before and
	// with each change.
	placed map[placeKey]*nodePlacement
	// platforms are the platforms each cluster DaemonSet's Pods run on,
	// by namespace/UID (ranOn).
	platforms map[string][]platform
}

// WhatIf judges a proposal (new node pools, changed DaemonSets) against the
// cluster in snap: which daemons would run on the proposed nodes and which
// would not and why, whether they fit and clash on host ports, the coverage
// policy's verdict, and for each changed DaemonSet the nodes it gains and
// loses. Pure: the same inputs give the same report.
func WhatIf(snap *model.Snapshot, prop *model.Proposal, opts WhatIfOptions) *report.WhatIfReport {
	if opts.MaxShapes <= 0 {
		opts.MaxShapes = DefaultMaxShapes
	}
	if opts.PoolLabels == nil {
		opts.PoolLabels = providers.DefaultPoolLabels
	}
	if opts.Gate.IsZero() {
		opts.Gate = report.DefaultWhatIfGate()
	}
	w := &whatIf{snap: snap, opts: opts, beforeByKey: map[string]*dsInfo{}, samples: map[string][]*corev1.Node{},
		placed: map[placeKey]*nodePlacement{}, nodesKnown: snap.Has(model.Nodes)}
	// A cluster always has the two system PriorityClasses: none read means
	// they were not listed (an older dump, or a reader without the kind).
	w.classesRead = snap.Has(model.PriorityClasses) && len(snap.PriorityClasses) > 0
	rep := report.NewWhatIf()
	w.rep = rep
	rep.GeneratedAt = opts.Now.UTC().Truncate(time.Second)
	rep.Source = snap.Source
	rep.Inputs = append(rep.Inputs, prop.Inputs...)
	kinds := make([]string, 0, len(snap.Missing))
	for k := range snap.Missing {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		switch model.Kind(k) {
		case model.Pods:
			// Only NewPlatform uses them (whatif_platform.go).
			gap := snap.Missing[model.Pods]
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("pods not read: %s; on which platforms the DaemonSets run is unknown, so no pool is checked for a new platform (NewPlatform)", gap.Reason))
			continue
		case model.ControllerRevisions, model.Events:
			continue // a what-if does not use them
		case model.PriorityClasses:
			continue // priorityWarning says whose priority it leaves unknown
		}
		gap := snap.Missing[model.Kind(k)]
		if gap.Optional {
			continue // the node-plugin kinds: a what-if does not use them
		}
		rep.Partial = true
		rep.Unread = append(rep.Unread, report.Unread{Kind: k, Reason: gap.Reason, Rule: gap.Rule})
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s not read: %s", k, gap.Reason))
	}
	rep.Warnings = append(rep.Warnings, snap.Warnings...)
	rep.Warnings = append(rep.Warnings, prop.Warnings...)

	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		w.nodes = append(w.nodes, n)
		if t := n.Labels[corev1.LabelInstanceTypeStable]; t != "" {
			w.samples[t] = append(w.samples[t], n)
		}
	}
	sort.SliceStable(w.nodes, func(i, j int) bool { return names.Less(w.nodes[i].Name, w.nodes[j].Name) })
	rep.NodeCount = len(w.nodes)

	w.before = w.infos(snap.DaemonSets, nil)
	for _, d := range w.before {
		w.beforeByKey[d.key] = d
	}
	w.after = w.infos(applyChanges(snap.DaemonSets, prop.DaemonSets), w.beforeByKey)
	rep.DaemonSets = len(w.after)
	w.priorityWarning()
	w.tests = selectorTests(w.after)

	for i := range prop.DaemonSets {
		src := ""
		if i < len(prop.Sources) {
			src = prop.Sources[i]
		}
		rep.Changes = append(rep.Changes, w.change(i, &prop.DaemonSets[i], src))
	}
	for i := range prop.Pools {
		rep.Pools = append(rep.Pools, w.pool(&prop.Pools[i]))
	}
	w.summarize()
	return rep
}

func dsKey(ds *appsv1.DaemonSet) string { return ds.Namespace + "/" + ds.Name }

// applyChanges returns the DaemonSets with the changed ones replaced (or
// added), sorted by namespace and name.
func applyChanges(current, changed []appsv1.DaemonSet) []appsv1.DaemonSet {
	out := make([]appsv1.DaemonSet, 0, len(current)+len(changed))
	at := map[string]int{}
	for i := range current {
		at[dsKey(&current[i])] = len(out)
		out = append(out, current[i])
	}
	for i := range changed {
		if j, ok := at[dsKey(&changed[i])]; ok {
			out[j] = changed[i]
			continue
		}
		at[dsKey(&changed[i])] = len(out)
		out = append(out, changed[i])
	}
	return out
}

// infos prepares the DaemonSets, sorted by namespace/name, reusing the
// prepared form of those that did not change.
func (w *whatIf) infos(dss []appsv1.DaemonSet, reuse map[string]*dsInfo) []*dsInfo {
	out := make([]*dsInfo, 0, len(dss))
	for i := range dss {
		ds := &dss[i]
		if r := reuse[dsKey(ds)]; r != nil && r.ds == ds {
			out = append(out, r)
			continue
		}
		d := &dsInfo{ds: ds, key: dsKey(ds), eval: scheduling.NewEvaluator(ds), req: capacity.PodRequest(&ds.Spec.Template.Spec)}
		d.prio, d.prioKnown = capacity.Priority(&ds.Spec.Template.Spec, w.snap.PriorityClasses, w.classesRead)
		// Errors (an annotation that does not parse) are warned about
		// by the caller (policy.AnnotationWarnings).
		d.rules, _ = w.opts.Policy.For(ds)
		out = append(out, d)
	}
	// applyChanges keeps the cluster's order; the analysis reads by name.
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// priorityWarning says once which DaemonSets' priorities are unknown: who
// is left out of a full node depends on them.
func (w *whatIf) priorityWarning() {
	var unknown []string
	for _, d := range w.after {
		if !d.prioKnown {
			unknown = append(unknown, fmt.Sprintf("%s (%s)", d.key, cmp.Or(d.ds.Spec.Template.Spec.PriorityClassName, "no class")))
		}
	}
	if len(unknown) == 0 {
		return
	}
	why := "PriorityClasses were not read"
	if gap, ok := w.snap.Missing[model.PriorityClasses]; ok {
		why += ": " + gap.Reason
	}
	if len(unknown) > 5 {
		unknown = append(unknown[:5], fmt.Sprintf("%d more", len(unknown)-5))
	}
	w.rep.Warnings = append(w.rep.Warnings, fmt.Sprintf("%s, so the priority of %s is unknown and taken as 0: which daemon is left out of a full node may differ", why, strings.Join(unknown, ", ")))
}

// required names the rule that requires d on a node with these labels, or
// byExpectation when no coverage policy is given and d's selectors admit
// the node (v is its verdict there), or "". With a policy (--require,
// --policy), the policy alone decides: a DaemonSet it does not name is
// required nowhere.
func (w *whatIf) required(d *dsInfo, ls map[string]string, v scheduling.Verdict) string {
	if len(d.rules) > 0 || (w.opts.Policy != nil && len(w.opts.Policy.Rules) > 0) {
		for i := range d.rules {
			if d.rules[i].Nodes.Matches(labels.Set(ls)) {
				return d.rules[i].Source
			}
		}
		return ""
	}
	if v.ShouldRun || v.Cause == scheduling.CauseTaint {
		return byExpectation
	}
	return ""
}

// fmtAmounts renders amounts as kubectl prints quantities, exactly (the
// report's strings, for programs).
func fmtAmounts(a capacity.Amounts) map[string]string {
	out := map[string]string{}
	for _, n := range a.Names() {
		out[string(n)] = capacity.Format(n, a[n])
	}
	return out
}

// amountValues are the amounts as integers, for the printers to choose
// one unit for those shown together.
func amountValues(a capacity.Amounts) map[string]int64 {
	out := map[string]int64{}
	for _, n := range a.Names() {
		out[string(n)] = a[n]
	}
	return out
}

// amountsLine renders amounts in their fixed order, each in the unit that
// reads best: "cpu 250m, memory 512Mi".
func amountsLine(a capacity.Amounts) string {
	var parts []string
	for _, n := range a.Names() {
		parts = append(parts, fmt.Sprintf("%s %s", n, capacity.FormatIn(n, a[n], capacity.UnitFor(n, a[n]))))
	}
	return strings.Join(parts, ", ")
}

// place puts the daemons on a node of allocatable alloc. With alloc nil
// (not known), only host ports are judged: every resource counts as
// plentiful.
func place(alloc capacity.Amounts, ds []capacity.Daemon) capacity.Placement {
	if alloc == nil {
		alloc = capacity.Amounts{}
		for _, d := range ds {
			alloc.Add(d.Request.Resources)
		}
	}
	return capacity.Place(alloc, nil, ds)
}

func daemonOf(d *dsInfo) capacity.Daemon {
	return capacity.Daemon{Name: d.key, Priority: d.prio, Request: d.req}
}

// leftOutText renders why a daemon is left out: its shortfalls and the
// host ports held by other daemons.
func leftOutText(lo capacity.LeftOut) (shortfalls, ports []string) {
	for _, s := range lo.Shortfalls {
		shortfalls = append(shortfalls, s.String())
	}
	for i, pc := range lo.Ports {
		ports = append(ports, fmt.Sprintf("%s held by %s", pc.Port, lo.HeldBy[i]))
	}
	return shortfalls, ports
}

// fitFindings turns a placement's left-out daemons into findings about
// where (a shape or cluster nodes), with the fix.
func fitFindings(p capacity.Placement, byName map[string]*dsInfo, alloc capacity.Amounts, where string) []report.WhatIfFinding {
	var out []report.WhatIfFinding
	for _, lo := range p.LeftOut {
		shortfalls, ports := leftOutText(lo)
		d := byName[lo.Daemon]
		if len(ports) > 0 {
			f := report.WhatIfFinding{Type: report.WhatIfHostPortConflict, DaemonSet: lo.Daemon}
			f.Message = fmt.Sprintf("daemonset %s claims host port %s on %s: its Pod stays Pending (the scheduler: node(s) didn't have free ports for the requested pod ports)", lo.Daemon, strings.Join(ports, ", "), where)
			f.Suggestion = fmt.Sprintf("change one of the hostPorts (containers[].ports[].hostPort of %s or %s), or keep the two DaemonSets off each other's nodes (disjoint nodeSelectors); with equal priority, which of the two stays Pending depends on which Pod is scheduled first", lo.Daemon, strings.Join(dedup(lo.HeldBy), ", "))
			out = append(out, f)
		}
		if len(shortfalls) > 0 {
			f := report.WhatIfFinding{Type: report.WhatIfWillNotFit, DaemonSet: lo.Daemon}
			f.Message = fmt.Sprintf("daemonset %s would be targeted on %s but does not fit once the daemons placed before it are there: %s", lo.Daemon, where, strings.Join(shortfalls, "; "))
			f.Suggestion = fitFix(p, lo, byName, d)
			out = append(out, f)
		}
	}
	return out
}

// fitFix says what frees room: larger nodes, smaller requests of the
// daemons that take most of the short resource, or a higher priority.
func fitFix(p capacity.Placement, lo capacity.LeftOut, byName map[string]*dsInfo, d *dsInfo) string {
	var parts []string
	for _, s := range lo.Shortfalls {
		if s.Resource == corev1.ResourcePods {
			parts = append(parts, fmt.Sprintf("the node has %d Pod slots (allocatable pods) and the daemons already take %d: raise the kubelet's maxPods or use an instance type with more", s.Allocatable, s.Used))
			continue
		}
		if s.Unresolvable {
			q := capacity.FormatEach(s.Resource, s.Requested, s.Allocatable)
			parts = append(parts, fmt.Sprintf("it asks %s %s, more than the node's whole allocatable (%s): a larger instance type, or lower its request", q[0], s.Resource, q[1]))
			continue
		}
		type big struct {
			name string
			v    int64
		}
		var bigs []big
		for _, n := range p.Placed {
			if o := byName[n]; o != nil && o.req.Resources[s.Resource] > 0 {
				bigs = append(bigs, big{n, o.req.Resources[s.Resource]})
			}
		}
		sort.SliceStable(bigs, func(i, j int) bool { return bigs[i].v > bigs[j].v })
		bigs = bigs[:min(len(bigs), 3)]
		// One unit for the resource's amounts in the sentence.
		vs := []int64{s.Used, s.Allocatable}
		for _, b := range bigs {
			vs = append(vs, b.v)
		}
		u := capacity.UnitFor(s.Resource, vs...)
		var top []string
		for _, b := range bigs {
			top = append(top, fmt.Sprintf("%s %s", b.name, capacity.FormatIn(s.Resource, b.v, u)))
		}
		txt := fmt.Sprintf("%s: the daemons placed first request %s of %s allocatable", s.Resource, capacity.FormatIn(s.Resource, s.Used, u), capacity.FormatIn(s.Resource, s.Allocatable, u))
		if len(top) > 0 {
			txt += " (largest: " + strings.Join(top, ", ") + ")"
		}
		parts = append(parts, txt)
	}
	s := strings.Join(parts, "; ") + "; use a larger instance type, lower those requests"
	if d != nil {
		s += fmt.Sprintf(", or, if %s must run, give it a higher priority than the others (priorityClassName: system-node-critical) so a lower one is left out instead", d.key)
	}
	return s
}

// satAdd adds two counts, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// summarize drops the findings the gate ignores, stamps the rest with
// their severity and whether the gate fails on them, and counts them.
func (w *whatIf) summarize() {
	rep := w.rep
	g := w.opts.Gate
	rep.Gate = g.Settings()
	s := report.WhatIfSummary{Pools: len(rep.Pools), Changes: len(rep.Changes), ByType: map[report.WhatIfFindingType]int{}}
	stamp := func(fs []report.WhatIfFinding) []report.WhatIfFinding {
		kept := fs[:0]
		for _, f := range fs {
			if g.Ignore[f.Type] {
				continue
			}
			f.Severity = report.WhatIfSeverity(f.Type)
			if f.Type == report.WhatIfShapesNotJudged && w.opts.AcceptUnjudged {
				f.Severity = report.SeverityWarning
			}
			f.Failing = g.Fails(f.Type, f.Severity)
			s.Findings++
			s.ByType[f.Type]++
			if f.Failing {
				s.Failing++
			}
			kept = append(kept, f)
		}
		return kept
	}
	for i := range rep.Pools {
		s.Shapes += len(rep.Pools[i].Shapes)
		s.UnjudgedShapes = satAdd(s.UnjudgedShapes, rep.Pools[i].UnjudgedShapes)
		rep.Pools[i].Findings = stamp(rep.Pools[i].Findings)
	}
	for i := range rep.Changes {
		rep.Changes[i].Findings = stamp(rep.Changes[i].Findings)
	}
	if len(s.ByType) == 0 {
		s.ByType = nil
	}
	rep.Summary = s
}

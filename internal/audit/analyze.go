// Package analyze turns a snapshot into a report. It is pure: no clients, no
// clock but the one passed in, no map-order leaks, so the same snapshot always
// yields the same report. For every DaemonSet and node it applies the
// controller's own rules (package scheduling), recomputes the status counts the
// controller would publish (status.go), names every difference between what
// should run and what does, with the reason and, where one is known, the fix
// (one detector per finding type, registered by the detector packages with
// package detect and run in the order of detectors.go), puts the findings a
// node's state explains down to it (nodecause.go) and judges each finding
// against the gate (gate.go). The report it returns is the final verdict: printers and
// the exit code only read it.
package audit

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/audit/fit"
	"github.com/daemoncheck/daemoncheck/internal/audit/nodestate"
	"github.com/daemoncheck/daemoncheck/internal/audit/storage"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/placement"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/problems"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Options tune an analysis.
type Options struct {
	// Now is the analysis clock (minReadySeconds, ages).
	Now time.Time
	// MaxEvents bounds the Warning events kept per DaemonSet (default 10).
	MaxEvents int
	// Policy requires DaemonSets on nodes (UncoveredNode). The caller
	// validates it against the snapshot first (policy.Validate).
	Policy *policy.Policy
	// Gate judges the findings (--fail-on, --ignore, --grace); the zero
	// Gate fails on every finding (report.DefaultGate).
	Gate report.Gate
	// Memo, when set, carries this analysis into the next one of the same
	// cluster, and reuses what the last one made where nothing changed
	// (memo.go).
	Memo *Memo
	// PoolLabels name a node's pool, first present wins (default
	// providers.DefaultPoolLabels); the instance type is the fallback.
	PoolLabels []string
	// CapacityNodes lists every node in the capacity section (the
	// capacity view), not only those where a daemon does not fit.
	CapacityNodes bool
	// Selection, when the DaemonSets read were narrowed (a namespace, a
	// label selector, a NAME), says how: the capacity stage counts only
	// the daemons read, and says so.
	Selection string
}

// Analyze builds the report for every DaemonSet in the snapshot.
func Analyze(snap *model.Snapshot, opts Options) *report.Report {
	if opts.MaxEvents == 0 {
		opts.MaxEvents = 10
	}
	if opts.Gate.FailOn.IsZero() {
		opts.Gate.FailOn = report.DefaultGate().FailOn
	}
	var prevNodes *nodeIndex
	if opts.Memo != nil {
		prevNodes = opts.Memo.nodes
	}
	idx := newIndex(snap, prevNodes)
	idx.cl.Narrowed = opts.Selection != ""
	r := newReport(snap, idx, opts)
	dss := sortedDaemonSets(snap)
	// With a Memo: when what every DaemonSet reads is the same as last
	// time, and so is the capacity plan, DaemonSets whose own objects did
	// not change keep their reports (kept[i]).
	m := opts.Memo
	var global memoGlobal
	kept := make([]*memoDS, len(dss))
	var podsSeen []bool
	if m != nil {
		global = globalOf(snap, idx, opts)
		if global.same(&m.global) {
			podsSeen = m.podsSeen(dss, idx)
			idx.cl.Plan = m.keptPlan(dss, idx, podsSeen)
		}
	}
	planKept := idx.cl.Plan != nil
	if !planKept {
		idx.cl.Plan = placement.New(dss, placement.Nodes{List: idx.nodes, Pos: idx.nodePos, ByNatural: idx.byNatural},
			func(ds *appsv1.DaemonSet) []bool { return boundRow(ds, idx) }, snap)
	}
	r.Gate = opts.Gate.Settings()
	r.Grace = r.Gate.Grace
	if planKept {
		r.Nodes = m.nodeInfo
		for i, ds := range dss {
			kept[i] = m.reusable(ds, idx, opts.Now, podsSeen[i])
		}
	} else {
		for _, name := range idx.byNatural {
			r.Nodes = append(r.Nodes, nodeInfo(idx.nodeByNm[name]))
		}
	}
	results, until, health, keptProblems := analyzeAll(dss, idx, snap, opts, kept)
	r.DaemonSets = results
	r.Warnings = append(r.Warnings, storage.Warnings(idx.cl, dss)...)
	r.Summary = report.Summarize(results)
	var own [][]report.Problem
	r.Problems, own = problems.Group(r, problems.Nodes{List: idx.nodes, Pos: idx.nodePos, Sort: idx.cl.SortNodes, Attrs: idx.attrs}, health, keptProblems)
	var capacity *report.Capacity
	if planKept {
		capacity = m.capacity
	} else {
		capacity = idx.cl.Plan.Section(opts.PoolLabels, opts.CapacityNodes)
	}
	r.Capacity = capacity
	if capacity != nil && opts.Selection != "" {
		c := *capacity
		c.Unknown = append(slices.Clip(c.Unknown), "only the DaemonSets of "+opts.Selection+" were read: daemons of others on the same nodes are not counted, nor their host ports")
		r.Capacity = &c
	}
	if m != nil {
		m.remember(global, idx.cl.Plan, idx, r, kept, until, health, own, capacity)
		m.Reused = 0
		for _, k := range kept {
			if k != nil {
				m.Reused++
			}
		}
		m.Analysed = len(dss) - m.Reused
	}
	return r
}

// index holds the lookups shared by all DaemonSets, built once: the
// engine's own, and the detectors' view of it (cl).
type index struct {
	nodeIndex
	// podsByDS keys Pods by their owner's namespace and UID: owner
	// references are namespaced, so a UID alone could join two DaemonSets
	// of different namespaces (a hand-edited dump).
	podsByDS map[ownerKey][]*model.DaemonPod
	// orphansByNS are Pods without a controller, not being deleted, by
	// namespace: candidates for adoption (claim).
	orphansByNS map[string][]*model.DaemonPod
	revByDS     map[types.UID]*appsv1.ControllerRevision
	eventsFor   map[types.UID][]*corev1.Event
	// cl is what the detectors see of the cluster (package detect): the
	// nodes, the events, the capacity plan, the node causes with what the
	// daemon Pods say of their nodes.
	cl *detect.Cluster
}

// nodeIndex is the part of the index made of nodes alone.
type nodeIndex struct {
	nodes    []*corev1.Node // in natural order of their names
	nodeByNm map[string]*corev1.Node
	// nodePos is a node's position in nodes (and in each dsContext.verdicts).
	nodePos map[string]int
	// nodeCause is the strongest node-level cause of each node that has one.
	nodeCause map[string]string
	// lifecycle is the lifecycle operation of each node whose cause is
	// one (package nodestate).
	lifecycle map[string]nodestate.Lifecycle
	// natural is each node's position in natural order ("n9" before
	// "n10"), computed once so that listing nodes sorts by an int;
	// byNatural lists the nodes in that order.
	natural   map[string]int
	byNatural []string
	// versions are the nodes' names and resourceVersions in the
	// snapshot's order (known: every node has one), and from[i] the
	// snapshot position of nodes[i]: a Memo's next analysis of the same
	// nodes reuses the rest (newNodeIndex).
	versions []objVersion
	known    bool
	from     []int
	// attrs caches the nodes' pattern attributes (package problems),
	// built at first use; kept while the nodes are the same.
	attrs *problems.Attrs
}

// newNodeIndex indexes snap's nodes. When prev indexed the very same
// nodes (names and resourceVersions, in the same order), only the
// pointers to this snapshot's nodes are new: orders, positions and causes
// are prev's.
func newNodeIndex(snap *model.Snapshot, prev *nodeIndex) nodeIndex {
	ni := nodeIndex{versions: make([]objVersion, len(snap.Nodes)), known: true}
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		ni.versions[i] = objVersion{n.Name, n.ResourceVersion}
		ni.known = ni.known && n.ResourceVersion != ""
	}
	ni.nodeByNm = make(map[string]*corev1.Node, len(snap.Nodes))
	if prev != nil && ni.known && prev.known && slices.Equal(ni.versions, prev.versions) {
		ni.nodePos, ni.nodeCause, ni.natural, ni.byNatural, ni.from, ni.attrs = prev.nodePos, prev.nodeCause, prev.natural, prev.byNatural, prev.from, prev.attrs
		ni.lifecycle = prev.lifecycle
		ni.nodes = make([]*corev1.Node, len(ni.from))
		for i, at := range ni.from {
			ni.nodes[i] = &snap.Nodes[at]
			ni.nodeByNm[ni.nodes[i].Name] = ni.nodes[i]
		}
		return ni
	}
	ni.attrs = &problems.Attrs{}
	ni.nodePos = make(map[string]int, len(snap.Nodes))
	ni.nodeCause = map[string]string{}
	ni.lifecycle = map[string]nodestate.Lifecycle{}
	ni.from = make([]int, len(snap.Nodes))
	for i := range ni.from {
		ni.from[i] = i
	}
	// Natural order ("node-9" before "node-10"): every view lists nodes
	// in this order.
	sort.Slice(ni.from, func(i, j int) bool { return names.Less(snap.Nodes[ni.from[i]].Name, snap.Nodes[ni.from[j]].Name) })
	for _, at := range ni.from {
		n := &snap.Nodes[at]
		ni.nodes = append(ni.nodes, n)
		ni.nodeByNm[n.Name] = n
	}
	byNatural := make([]string, len(ni.nodes))
	for i, n := range ni.nodes {
		byNatural[i] = n.Name
	}
	ni.byNatural = byNatural
	ni.natural = make(map[string]int, len(byNatural))
	for i, n := range byNatural {
		ni.natural[n] = i
	}
	for i, n := range ni.nodes {
		ni.nodePos[n.Name] = i
		ni.noteCauses(n)
	}
	return ni
}

func newIndex(snap *model.Snapshot, prev *nodeIndex) *index {
	idx := &index{
		nodeIndex:   newNodeIndex(snap, prev),
		podsByDS:    map[ownerKey][]*model.DaemonPod{},
		orphansByNS: map[string][]*model.DaemonPod{},
		revByDS:     map[types.UID]*appsv1.ControllerRevision{},
		eventsFor:   map[types.UID][]*corev1.Event{},
	}
	idx.cl = &detect.Cluster{Snap: snap, Nodes: idx.nodes, NodeByName: idx.nodeByNm, NodePos: idx.nodePos,
		Natural: idx.natural, ByNatural: idx.byNatural, EventsFor: idx.eventsFor}
	idx.cl.SetNodeCauses(idx.nodeCause, idx.lifecycle)
	pods := snap.DaemonPods
	// Pods come sorted by name, so a DaemonSet's Pods mostly follow each
	// other: collect a run of one owner's, then file it under its key
	// (one map access per run, not per Pod).
	var run []*model.DaemonPod
	var runOf ownerKey
	file := func() {
		if len(run) > 0 {
			idx.podsByDS[runOf] = append(idx.podsByDS[runOf], run...)
			run = run[:0]
		}
	}
	for i := range pods {
		p := &pods[i]
		if p.Evicted || p.Phase == corev1.PodFailed {
			idx.cl.NotePodLifecycle(p)
		}
		// Mirrors getNodesToDaemonPods(ds, includeDeletedTerminal=false):
		// a terminal Pod already being deleted is nothing to the controller.
		if podstate.Terminal(p) && p.Deleting {
			continue
		}
		switch {
		case p.OwnerUID == "":
			// An orphan: a DaemonSet of its namespace may adopt it (claim).
			if !p.Deleting {
				idx.orphansByNS[p.Namespace] = append(idx.orphansByNS[p.Namespace], p)
			}
		case p.OwnerKind == "DaemonSet":
			if k := (ownerKey{p.Namespace, p.OwnerUID, p.OwnerGroup}); k != runOf {
				file()
				runOf = k
			}
			run = append(run, p)
		}
	}
	file()
	for i := range snap.ControllerRevisions {
		cr := &snap.ControllerRevisions[i]
		ref := metav1.GetControllerOfNoCopy(cr)
		if ref == nil {
			continue
		}
		// The controller bumps the revision number of the revision matching
		// the current template, so after a sync the newest is the current one.
		if cur := idx.revByDS[ref.UID]; cur == nil || cr.Revision > cur.Revision ||
			(cr.Revision == cur.Revision && cr.Name > cur.Name) {
			idx.revByDS[ref.UID] = cr
		}
	}
	for i := range snap.Events {
		e := &snap.Events[i]
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		idx.eventsFor[e.InvolvedObject.UID] = append(idx.eventsFor[e.InvolvedObject.UID], e)
	}
	return idx
}

// ownerKey identifies an owner within its namespace, and by its API group
// (model.DaemonSetGroup): an Advanced DaemonSet's Pods name kind
// DaemonSet too, and an owner is matched by group and kind.
type ownerKey struct {
	namespace string
	uid       types.UID
	group     string
}

// keyOf is the ownerKey of a DaemonSet.
func keyOf(ds *appsv1.DaemonSet) ownerKey {
	return ownerKey{ds.Namespace, ds.UID, model.GroupOf(ds)}
}

// dsContext is the detectors' context of one DaemonSet (package detect)
// with the engine's index, for the stages around the detectors: the
// verdicts and counts, the coverage gaps, the node causes and the gate.
type dsContext struct {
	*detect.Context
	idx *index
}

// analyzeDaemonSet returns the DaemonSet's report, and the first moment at
// which it would change with time alone (zero: never).
func analyzeDaemonSet(ds *appsv1.DaemonSet, idx *index, snap *model.Snapshot, opts Options) (report.DaemonSetReport, time.Time) {
	c := &dsContext{Context: &detect.Context{DS: ds, Eval: idx.cl.Plan.Evals[idx.cl.Plan.Of(ds)], Cluster: idx.cl, Now: opts.Now,
		PodsKnown: snap.Has(model.Pods), NodesKnown: snap.Has(model.Nodes),
		Rules: detect.RulesFor(snap.ServerVersion), PoolLabels: opts.PoolLabels}, idx: idx}
	pods := c.Claim(idx.podsByDS[keyOf(ds)], idx.orphansByNS[ds.Namespace])
	dr := header(ds)
	c.Report = &dr
	c.Manager = owner.DetectDaemonSet(ds)
	if c.Manager.Managed() {
		m := c.Manager
		dr.ManagedBy = &report.Manager{Kind: string(m.Kind), Name: m.Name, Namespace: m.Namespace, Object: m.Object, APIVersion: m.APIVersion,
			Evidence: m.Evidence.String(), Summary: m.String()}
	}
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru != nil {
		c.Surge = ru.MaxSurge != nil && ru.MaxSurge.String() != "0" && ru.MaxSurge.String() != "0%"
	}
	kr := c.currentRevision(snap)

	byNode := make(map[string][]*model.DaemonPod, len(pods))
	for _, p := range pods {
		if p.HasTarget {
			byNode[p.TargetNode] = append(byNode[p.TargetNode], p)
		} else {
			c.Untargeted = append(c.Untargeted, p)
		}
	}
	for _, ps := range byNode {
		podstate.Sort(ps)
	}
	c.ByNode = byNode
	sort.SliceStable(c.Untargeted, func(i, j int) bool { return c.Untargeted[i].Name < c.Untargeted[j].Name })

	// Errors were reported by policy.Validate before the analysis.
	c.Policy, _ = opts.Policy.For(ds)

	var computed report.Counts
	if c.NodesKnown {
		dr.Nodes, computed = c.nodeVerdicts(byNode)
	}
	if kr != nil {
		c.KruisePlan(kr)
	}
	if c.NodesKnown {
		c.Rollout = c.rolloutProgress(computed)
	}
	switch {
	case !c.NodesKnown:
		dr.Unknown = append(dr.Unknown, "nodes: "+snap.Missing[model.Nodes].Reason+"; which nodes should run the DaemonSet, missing and misscheduled Pods cannot be determined")
	case !c.PodsKnown:
		dr.Unknown = append(dr.Unknown, "pods: "+snap.Missing[model.Pods].Reason+"; coverage and Pod health cannot be determined")
	default:
		dr.Computed = &computed
	}
	dr.NotTargeted = c.coverageGaps(dr.Nodes, opts.PoolLabels)
	dr.Findings = c.gate(c.nodeCauses(fit.CapacityCauses(c.Context, c.detect(byNode))), pods, opts.Gate)
	dr.Events = c.events(pods, opts.MaxEvents)
	// dr.Nodes follows idx.nodes: natural order (node-9 before node-10),
	// as every view lists them.
	return dr, c.Until()
}

// currentRevision finds the DaemonSet's current revision: the hash of its
// newest ControllerRevision (or an Advanced DaemonSet's own record of it)
// and its template generation; it returns the DaemonSet's Kruise record
// (nil for a core DaemonSet).
func (c *dsContext) currentRevision(snap *model.Snapshot) *model.KruiseDaemonSet {
	if cr := c.idx.revByDS[c.DS.UID]; cr != nil {
		c.Hash = cr.Labels[podstate.RevisionHashLabel]
		c.Report.CurrentRevision = c.Hash
	}
	kr := detect.KruiseOf(c.DS, snap)
	if kr != nil && c.Hash == "" && kr.UpdateRevision != "" {
		// No ControllerRevision read: Kruise's own record of the current
		// hash (status.daemonSetHash, v1beta1 status.updateRevision).
		c.Hash = kr.UpdateRevision
		c.Report.CurrentRevision = c.Hash
	}
	// Mirrors util.GetTemplateGeneration: the annotation the API server keeps
	// on the DaemonSet, compared with the Pods' pod-template-generation label.
	// An extensions/v1beta1 object keeps it in spec.templateGeneration; the
	// readers carry that into the annotation as the server's conversion to
	// apps/v1 does (apiconv.KeepTemplateGeneration).
	if g, ok := detect.TemplateGeneration(c.DS); ok {
		c.SetGeneration(g)
	}
	c.RevKnown = c.Hash != "" || c.Gen != nil
	if !c.RevKnown {
		c.Report.Unknown = append(c.Report.Unknown, "current revision: no ControllerRevision and no template generation (annotation or spec.templateGeneration); Pods are not checked for being up to date")
	}
	return kr
}

// header is the part of a DaemonSet's report read straight off the object.
func header(ds *appsv1.DaemonSet) report.DaemonSetReport {
	dr := report.DaemonSetReport{
		Namespace:       ds.Namespace,
		Name:            ds.Name,
		Generation:      ds.Generation,
		Created:         ds.CreationTimestamp.UTC(),
		Selector:        metav1.FormatLabelSelector(ds.Spec.Selector),
		NodeSelector:    formatMap(ds.Spec.Template.Spec.NodeSelector),
		MinReadySeconds: ds.Spec.MinReadySeconds,
		UpdateStrategy:  string(ds.Spec.UpdateStrategy.Type),
		Status: report.Counts{
			DesiredNumberScheduled: ds.Status.DesiredNumberScheduled,
			CurrentNumberScheduled: ds.Status.CurrentNumberScheduled,
			NumberReady:            ds.Status.NumberReady,
			NumberAvailable:        ds.Status.NumberAvailable,
			UpdatedNumberScheduled: ds.Status.UpdatedNumberScheduled,
			NumberMisscheduled:     ds.Status.NumberMisscheduled,
			NumberUnavailable:      ds.Status.NumberUnavailable,
			ObservedGeneration:     ds.Status.ObservedGeneration,
		},
		Images:   []string{},
		Unknown:  []string{},
		Nodes:    []report.NodeVerdict{},
		Findings: []report.Finding{},
		Events:   []report.Event{},
	}
	for _, ctr := range ds.Spec.Template.Spec.Containers {
		dr.Images = append(dr.Images, ctr.Image)
	}
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru != nil {
		dr.MaxUnavailable = intOrString(ru.MaxUnavailable)
		dr.MaxSurge = intOrString(ru.MaxSurge)
	}
	return dr
}

func nodeInfo(n *corev1.Node) report.NodeInfo {
	ni := report.NodeInfo{Name: n.Name, Ready: "Unknown", Created: n.CreationTimestamp.UTC(), Labels: n.Labels}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ni.Ready = string(c.Status)
		}
	}
	for i := range n.Spec.Taints {
		ni.Taints = append(ni.Taints, scheduling.TaintString(&n.Spec.Taints[i]))
	}
	if v, ok := n.Annotations[policy.ExemptAnnotation]; ok {
		ni.Exempt = &v
	}
	ni.Conditions = nodestate.Conditions(n)
	ni.KernelVersion = n.Status.NodeInfo.KernelVersion
	ni.OSImage = n.Status.NodeInfo.OSImage
	ni.KubeletVersion = n.Status.NodeInfo.KubeletVersion
	return ni
}

// rolloutProgress is the rollout in words: nodes updated, the strategy.
func (c *dsContext) rolloutProgress(computed report.Counts) string {
	s := fmt.Sprintf("%d of %d nodes updated", computed.UpdatedNumberScheduled, computed.DesiredNumberScheduled)
	if c.DS.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return s + "; updateStrategy OnDelete"
	}
	if ru := c.DS.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		s += fmt.Sprintf("; RollingUpdate maxUnavailable %s, maxSurge %s", orDefault(intOrString(ru.MaxUnavailable), "1"), orDefault(intOrString(ru.MaxSurge), "0"))
	}
	return s + c.KruiseProgress()
}

func intOrString(v *intstr.IntOrString) string {
	if v == nil {
		return ""
	}
	return v.String()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func formatMap(m map[string]string) string { return text.KeyValues(m) }

// boundRow says on which of idx.nodes ds has a Pod bound (not being
// deleted): it holds its room there, so the scheduler leaves out a
// newcomer of equal priority rather than it. nil when it is bound nowhere.
func boundRow(ds *appsv1.DaemonSet, idx *index) []bool {
	var row []bool
	for _, pod := range idx.podsByDS[keyOf(ds)] {
		if n, ok := idx.nodePos[pod.NodeName]; ok && !pod.Deleting {
			if row == nil {
				row = make([]bool, len(idx.nodes))
			}
			row[n] = true
		}
	}
	return row
}

// newReport is the report's header: when, from what, which kinds could
// not be read (a partial report) and the snapshot's warnings.
func newReport(snap *model.Snapshot, idx *index, opts Options) *report.Report {
	r := report.New()
	r.GeneratedAt = opts.Now.UTC().Truncate(time.Second)
	r.Source = snap.Source
	r.ServerVersion = snap.ServerVersion
	r.NodeCount = len(idx.nodes)
	r.Unread = []report.Unread{}
	kinds := make([]string, 0, len(snap.Missing))
	for k := range snap.Missing {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		gap := snap.Missing[model.Kind(k)]
		r.Partial = r.Partial || !gap.Optional
		r.Unread = append(r.Unread, report.Unread{Kind: k, Reason: gap.Reason, Rule: gap.Rule, Optional: gap.Optional})
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s not read: %s", k, gap.Reason))
	}
	r.Warnings = append(r.Warnings, snap.Warnings...)
	for _, ns := range snap.NotServed {
		r.NotServed = append(r.NotServed, report.NotServed{Kind: string(ns.Kind), Reason: ns.Reason})
	}
	return r
}

// sortedDaemonSets are the snapshot's DaemonSets in report order
// (namespace, then name).
func sortedDaemonSets(snap *model.Snapshot) []*appsv1.DaemonSet {
	dss := make([]*appsv1.DaemonSet, 0, len(snap.DaemonSets))
	for i := range snap.DaemonSets {
		dss = append(dss, &snap.DaemonSets[i])
	}
	sort.Slice(dss, func(i, j int) bool {
		if dss[i].Namespace != dss[j].Namespace {
			return dss[i].Namespace < dss[j].Namespace
		}
		return dss[i].Name < dss[j].Name
	})
	return dss
}

// analyzeAll analyses every DaemonSet a Memo did not keep (kept[i] nil):
// the report, until when it holds, and for kept ones their problems and
// pattern health as the Memo stored them.
func analyzeAll(dss []*appsv1.DaemonSet, idx *index, snap *model.Snapshot, opts Options, kept []*memoDS) ([]report.DaemonSetReport, []time.Time, map[string]*problems.Health, [][]report.Problem) {
	// DaemonSets are independent given the shared, read-only index: analyse
	// them on every core, each into its own slot so the order stays sorted.
	results := make([]report.DaemonSetReport, len(dss))
	until := make([]time.Time, len(dss))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(dss)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], until[i] = analyzeDaemonSet(dss[i], idx, snap, opts)
			}
		}()
	}
	health := map[string]*problems.Health{}
	keptProblems := make([][]report.Problem, len(dss))
	for i := range dss {
		if k := kept[i]; k != nil {
			results[i] = k.report
			keptProblems[i] = k.problems
			if k.health != nil {
				health[dss[i].Namespace+"/"+dss[i].Name] = k.health
			}
			continue
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return results, until, health, keptProblems
}

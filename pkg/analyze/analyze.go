// Package analyze turns a snapshot into a report. It is pure: no clients, no
// clock but the one passed in, no map-order leaks, so the same snapshot always
// yields the same report. For every DaemonSet and node it applies the
// controller's own rules (package scheduling), recomputes the status counts the
// controller would publish, and names every difference between what should run
// and what does, with the reason and, where one is known, the fix.
package analyze

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/pkg/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/pkg/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
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
	// Ignore drops findings of these types from the report.
	Ignore map[report.FindingType]bool
	// Grace holds back findings on nodes, and about Pods, younger than it.
	Grace time.Duration
}

// Analyze builds the report for every DaemonSet in the snapshot.
func Analyze(snap *snapshot.Snapshot, opts Options) *report.Report {
	if opts.MaxEvents == 0 {
		opts.MaxEvents = 10
	}
	idx := newIndex(snap)
	r := report.New()
	r.GeneratedAt = opts.Now.UTC().Truncate(time.Second)
	r.Source = snap.Source
	r.NodeCount = len(idx.nodes)
	kinds := make([]string, 0, len(snap.Missing))
	for k := range snap.Missing {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		r.Partial = true
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s not read: %s", k, snap.Missing[snapshot.Kind(k)]))
	}
	r.Warnings = append(r.Warnings, snap.Warnings...)

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
	if opts.Grace > 0 {
		r.Grace = opts.Grace.String()
	}
	for _, n := range idx.nodes {
		r.Nodes = append(r.Nodes, nodeInfo(n))
	}
	// DaemonSets are independent given the shared, read-only index: analyse
	// them on every core, each into its own slot so the order stays sorted.
	results := make([]report.DaemonSetReport, len(dss))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(dss)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = analyzeDaemonSet(dss[i], idx, snap, opts)
			}
		}()
	}
	for i := range dss {
		next <- i
	}
	close(next)
	wg.Wait()
	r.DaemonSets = results
	r.Summary = report.Summarize(results)
	return r
}

// index holds the lookups shared by all DaemonSets, built once.
type index struct {
	nodes     []*corev1.Node // sorted by name
	nodeByNm  map[string]*corev1.Node
	podsByDS  map[types.UID][]*snapshot.DaemonPod
	revByDS   map[types.UID]*appsv1.ControllerRevision
	eventsFor map[types.UID][]*corev1.Event
}

func newIndex(snap *snapshot.Snapshot) *index {
	idx := &index{
		nodeByNm:  make(map[string]*corev1.Node, len(snap.Nodes)),
		podsByDS:  map[types.UID][]*snapshot.DaemonPod{},
		revByDS:   map[types.UID]*appsv1.ControllerRevision{},
		eventsFor: map[types.UID][]*corev1.Event{},
	}
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		idx.nodes = append(idx.nodes, n)
		idx.nodeByNm[n.Name] = n
	}
	sort.Slice(idx.nodes, func(i, j int) bool { return idx.nodes[i].Name < idx.nodes[j].Name })
	pods := snap.DaemonPods
	for i := range pods {
		p := &pods[i]
		if p.OwnerKind != "DaemonSet" || p.OwnerUID == "" {
			continue
		}
		// Mirrors getNodesToDaemonPods(ds, includeDeletedTerminal=false):
		// a terminal Pod already being deleted is nothing to the controller.
		if isPodTerminal(p) && p.Deleting {
			continue
		}
		idx.podsByDS[p.OwnerUID] = append(idx.podsByDS[p.OwnerUID], p)
	}
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

// dsContext carries what every finding of one DaemonSet needs.
type dsContext struct {
	ds       *appsv1.DaemonSet
	eval     *scheduling.Evaluator
	hash     string
	gen      *int64
	revKnown bool
	now      time.Time
	idx      *index
	surge    bool
	rollout  string
	rules    []policy.Rule
	// verdicts[i] is the controller's decision for idx.nodes[i].
	verdicts []scheduling.Verdict
	genLabel string
	healthOf map[*snapshot.DaemonPod]health
}

func analyzeDaemonSet(ds *appsv1.DaemonSet, idx *index, snap *snapshot.Snapshot, opts Options) report.DaemonSetReport {
	c := &dsContext{ds: ds, eval: scheduling.NewEvaluator(ds), now: opts.Now, idx: idx, healthOf: make(map[*snapshot.DaemonPod]health, len(idx.podsByDS[ds.UID]))}
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
		Nodes:    []report.NodeVerdict{},
		Findings: []report.Finding{},
	}
	for _, ctr := range ds.Spec.Template.Spec.Containers {
		dr.Images = append(dr.Images, ctr.Image)
	}
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType && ru != nil {
		dr.MaxUnavailable = intOrString(ru.MaxUnavailable)
		dr.MaxSurge = intOrString(ru.MaxSurge)
		c.surge = ru.MaxSurge != nil && ru.MaxSurge.String() != "0" && ru.MaxSurge.String() != "0%"
	}
	if cr := idx.revByDS[ds.UID]; cr != nil {
		c.hash = cr.Labels[revisionHashLabel]
		dr.CurrentRevision = c.hash
	}
	// Mirrors util.GetTemplateGeneration: the annotation the API server keeps
	// on the DaemonSet, compared with the Pods' pod-template-generation label.
	if v, ok := ds.Annotations[templateGenerationAnno]; ok {
		var g int64
		if _, err := fmt.Sscan(v, &g); err == nil {
			c.gen = &g
			c.genLabel = strconv.FormatInt(g, 10)
		}
	}
	c.revKnown = c.hash != "" || c.gen != nil
	if !c.revKnown {
		dr.Unknown = append(dr.Unknown, "current revision: no ControllerRevision and no template generation annotation; Pods are not checked for being up to date")
	}

	podsKnown, nodesKnown := snap.Has(snapshot.Pods), snap.Has(snapshot.Nodes)
	pods := idx.podsByDS[ds.UID]
	byNode := make(map[string][]*snapshot.DaemonPod, len(pods))
	var untargeted []*snapshot.DaemonPod
	for _, p := range pods {
		if p.HasTarget {
			byNode[p.TargetNode] = append(byNode[p.TargetNode], p)
		} else {
			untargeted = append(untargeted, p)
		}
	}
	for _, ps := range byNode {
		sortDaemonPods(ps)
	}

	// Errors were reported by policy.Validate before the analysis.
	c.rules, _ = opts.Policy.For(ds)

	computed := report.Counts{ObservedGeneration: ds.Generation}
	var updatedNodes int32
	if nodesKnown {
		c.verdicts = make([]scheduling.Verdict, len(idx.nodes))
		dr.Nodes = make([]report.NodeVerdict, 0, len(idx.nodes))
		for i, node := range idx.nodes {
			v := c.eval.Evaluate(node)
			c.verdicts[i] = v
			ps := byNode[node.Name]
			nv := report.NodeVerdict{
				Name:                  node.Name,
				ShouldRun:             v.ShouldRun,
				ShouldContinueRunning: v.ShouldContinueRunning,
				Reason:                v.Reason,
				Cause:                 string(v.Cause),
				Short:                 shortReason(v),
				RequiredBy:            c.requiredBy(node),
			}
			nv.Required = nv.RequiredBy != ""
			for _, p := range ps {
				nv.Pods = append(nv.Pods, c.podRef(p))
			}
			switch {
			case !podsKnown:
				nv.Coverage = report.CoverageUnknown
			case !v.ShouldRun:
				nv.Coverage = report.NotTargeted
			case len(ps) > 0:
				nv.Coverage = report.Covered
			default:
				nv.Coverage = report.NotCovered
			}
			dr.Nodes = append(dr.Nodes, nv)

			// Mirrors updateDaemonSetStatus in daemon_controller.go.
			if v.ShouldRun {
				computed.DesiredNumberScheduled++
				if len(ps) == 0 {
					continue
				}
				computed.CurrentNumberScheduled++
				oldest := ps[0]
				if oldest.Ready {
					computed.NumberReady++
					if isPodAvailable(oldest, ds.Spec.MinReadySeconds, opts.Now) {
						computed.NumberAvailable++
					}
				}
				if c.isUpdated(oldest) {
					updatedNodes++
				}
			} else if len(ps) > 0 {
				computed.NumberMisscheduled++
			}
		}
		computed.UpdatedNumberScheduled = updatedNodes
		computed.NumberUnavailable = computed.DesiredNumberScheduled - computed.NumberAvailable
		c.rollout = c.rolloutProgress(computed)
	}

	switch {
	case !nodesKnown:
		dr.Unknown = append(dr.Unknown, "nodes: "+snap.Missing[snapshot.Nodes]+"; which nodes should run the DaemonSet, missing and misscheduled Pods cannot be determined")
	case !podsKnown:
		dr.Unknown = append(dr.Unknown, "pods: "+snap.Missing[snapshot.Pods]+"; coverage and Pod health cannot be determined")
	default:
		dr.Computed = &computed
	}

	if podsKnown {
		dr.Findings = c.findings(byNode, untargeted, nodesKnown)
	}
	if dr.Computed != nil {
		if f, ok := c.staleStatus(dr.Status, *dr.Computed); ok {
			dr.Findings = append([]report.Finding{f}, dr.Findings...)
		}
	} else if ds.Status.ObservedGeneration < ds.Generation {
		f, _ := c.staleStatus(dr.Status, dr.Status)
		dr.Findings = append([]report.Finding{f}, dr.Findings...)
	}
	dr.Findings = c.gate(dr.Findings, pods, opts)
	dr.Events = c.events(pods, opts.MaxEvents)
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
	return ni
}

// shortReason names the rule that excluded a node in a few words.
func shortReason(v scheduling.Verdict) string {
	switch v.Cause {
	case scheduling.CauseTaint:
		return "taint " + v.Taint.Key
	case scheduling.CauseNodeSelector:
		return "nodeSelector"
	case scheduling.CauseNodeAffinity:
		return "affinity"
	case scheduling.CauseNodeName:
		return "nodeName"
	}
	return ""
}

// requiredBy names the first policy rule requiring the DaemonSet on node.
func (c *dsContext) requiredBy(node *corev1.Node) string {
	for i := range c.rules {
		if c.rules[i].Nodes.Matches(labels.Set(node.Labels)) {
			return c.rules[i].Source
		}
	}
	return ""
}

// gate sets each finding's severity, drops ignored types, and marks the
// findings that exemption annotations or --grace set aside. Marked findings
// stay in the report so that nothing is hidden.
func (c *dsContext) gate(fs []report.Finding, pods []*snapshot.DaemonPod, opts Options) []report.Finding {
	podByName := make(map[string]*snapshot.DaemonPod, len(pods))
	for _, p := range pods {
		podByName[p.Name] = p
	}
	dsTypes, dsAll, dsExempt := policy.Exemption(c.ds.Annotations)
	out := fs[:0]
	for _, f := range fs {
		if opts.Ignore[f.Type] {
			continue
		}
		f.Severity = report.DefaultSeverity(f.Type)
		if dsExempt && (dsAll || dsTypes[string(f.Type)]) {
			f.Exempted = fmt.Sprintf("annotation %s on daemonset %s/%s", policy.ExemptAnnotation, c.ds.Namespace, c.ds.Name)
		}
		node := c.idx.nodeByNm[f.Node]
		if node != nil && f.Exempted == "" {
			if types, all, ok := policy.Exemption(node.Annotations); ok && (all || types[string(f.Type)]) {
				f.Exempted = fmt.Sprintf("annotation %s on node %s", policy.ExemptAnnotation, node.Name)
			}
		}
		if opts.Grace > 0 && f.Exempted == "" {
			if node != nil && !node.CreationTimestamp.IsZero() && c.now.Sub(node.CreationTimestamp.Time) < opts.Grace {
				f.HeldBack = fmt.Sprintf("node %s joined %s ago (--grace %s)", node.Name, humanDuration(c.now.Sub(node.CreationTimestamp.Time)), opts.Grace)
			} else if p := podByName[f.Pod]; p != nil && (f.Type == report.PendingPod || f.Type == report.UnhealthyPod || f.Type == report.OutdatedPod) &&
				c.now.Sub(p.Created) < opts.Grace {
				f.HeldBack = fmt.Sprintf("Pod %s is %s old (--grace %s)", p.Name, humanDuration(c.now.Sub(p.Created)), opts.Grace)
			}
		}
		out = append(out, f)
	}
	return out
}

// uncovered reports a node a policy requires but the controller does not
// target, with the smallest change that would make it target the node.
func (c *dsContext) uncovered(node *corev1.Node, v scheduling.Verdict, rule string) report.Finding {
	f := report.Finding{Type: report.UncoveredNode, Node: node.Name}
	f.Message = fmt.Sprintf("node %s must run the DaemonSet (%s) but the controller does not target it: %s", node.Name, rule, v.Reason)
	switch v.Cause {
	case scheduling.CauseTaint:
		taints := c.eval.UntoleratedTaints(node)
		var tols []string
		notReady := false
		for i := range taints {
			t := &taints[i]
			if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
				notReady = true
			}
			tol := fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", t.Key, t.Effect)
			if t.Value != "" {
				tol = fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", t.Key, t.Value, t.Effect)
			}
			tols = append(tols, tol)
		}
		f.Suggestion = "add to the DaemonSet's Pod template tolerations: " + strings.Join(tols, ", ")
		if notReady {
			f.Suggestion = fmt.Sprintf("node %s is NotReady or has just joined; it is covered again once Ready. Otherwise %s", node.Name, f.Suggestion)
		}
	case scheduling.CauseNodeSelector:
		var fixes []string
		for k, want := range c.ds.Spec.Template.Spec.NodeSelector {
			if node.Labels[k] != want {
				fixes = append(fixes, fmt.Sprintf("%s=%s", k, want))
			}
		}
		sort.Strings(fixes)
		f.Suggestion = fmt.Sprintf("label the node (kubectl label node %s %s --overwrite) or drop those keys from the DaemonSet's nodeSelector", node.Name, strings.Join(fixes, " "))
	case scheduling.CauseNodeAffinity:
		f.Suggestion = fmt.Sprintf("widen the DaemonSet's required node affinity to admit node %s, or change the node's labels to match a term", node.Name)
	case scheduling.CauseNodeName:
		f.Suggestion = "remove spec.nodeName from the DaemonSet's Pod template"
	}
	return f
}

// health returns podHealth(p), computed once per Pod.
func (c *dsContext) health(p *snapshot.DaemonPod) health {
	if h, ok := c.healthOf[p]; ok {
		return h
	}
	h := podHealth(p)
	c.healthOf[p] = h
	return h
}

func (c *dsContext) podRef(p *snapshot.DaemonPod) report.PodRef {
	h := c.health(p)
	return report.PodRef{
		Name:     p.Name,
		Phase:    string(p.Phase),
		Ready:    p.Ready,
		Revision: podRevision(p),
		Updated:  c.isUpdated(p),
		Restarts: h.restarts,
		Created:  p.Created.UTC(),
		State:    h.state,
	}
}

func podRevision(p *snapshot.DaemonPod) string {
	if h := p.RevisionHash; h != "" {
		return h
	}
	if g := p.TemplateGeneration; g != "" {
		return "generation " + g
	}
	return ""
}

// isUpdated mirrors util.IsPodUpdated: the Pod's revision hash label equals
// the current revision's hash, or its template generation label equals the
// DaemonSet's template generation.
func (c *dsContext) isUpdated(p *snapshot.DaemonPod) bool {
	templateMatches := c.gen != nil && p.TemplateGeneration == c.genLabel
	hashMatches := c.hash != "" && p.RevisionHash == c.hash
	return hashMatches || templateMatches
}

func (c *dsContext) rolloutProgress(computed report.Counts) string {
	s := fmt.Sprintf("%d of %d nodes updated", computed.UpdatedNumberScheduled, computed.DesiredNumberScheduled)
	if c.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return s + "; updateStrategy OnDelete"
	}
	if ru := c.ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		s += fmt.Sprintf("; RollingUpdate maxUnavailable %s, maxSurge %s", orDefault(intOrString(ru.MaxUnavailable), "1"), orDefault(intOrString(ru.MaxSurge), "0"))
	}
	return s
}

func (c *dsContext) objRef() string {
	return fmt.Sprintf("-n %s daemonset/%s", c.ds.Namespace, c.ds.Name)
}

// findings classifies every (node, Pods) pair of the DaemonSet.
func (c *dsContext) findings(byNode map[string][]*snapshot.DaemonPod, untargeted []*snapshot.DaemonPod, nodesKnown bool) []report.Finding {
	var out []report.Finding
	if nodesKnown {
		for i, node := range c.idx.nodes {
			out = append(out, c.nodeFindings(node, c.verdicts[i], byNode[node.Name])...)
		}
		orphanNodes := make([]string, 0)
		for name := range byNode {
			if _, ok := c.idx.nodeByNm[name]; !ok {
				orphanNodes = append(orphanNodes, name)
			}
		}
		sort.Strings(orphanNodes)
		for _, name := range orphanNodes {
			for _, p := range byNode[name] {
				out = append(out, report.Finding{
					Type: report.OrphanedPod, Node: name, Pod: p.Name,
					Message:    fmt.Sprintf("Pod %s is bound to node %s, which no longer exists; the DaemonSet controller does not count or manage it", p.Name, name),
					Suggestion: fmt.Sprintf("the pod garbage collector in kube-controller-manager should delete it; if it stays, delete it: kubectl delete pod -n %s %s", p.Namespace, p.Name),
				})
			}
		}
	} else {
		// Without nodes only what the Pods say of themselves is known.
		names := make([]string, 0, len(byNode))
		for name := range byNode {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			out = append(out, c.podFindings(name, byNode[name])...)
		}
	}
	sort.SliceStable(untargeted, func(i, j int) bool { return untargeted[i].Name < untargeted[j].Name })
	for _, p := range untargeted {
		out = append(out, report.Finding{
			Type: report.PendingPod, Pod: p.Name,
			Message:    fmt.Sprintf("Pod %s has no target node (no spec.nodeName and no required node affinity on metadata.name); the DaemonSet controller ignores it", p.Name),
			Suggestion: fmt.Sprintf("it was not created by the DaemonSet controller as is; delete it: kubectl delete pod -n %s %s", p.Namespace, p.Name),
		})
	}
	return out
}

func (c *dsContext) nodeFindings(node *corev1.Node, v scheduling.Verdict, pods []*snapshot.DaemonPod) []report.Finding {
	if !v.ShouldRun {
		out := make([]report.Finding, 0, len(pods)+1)
		if rule := c.requiredBy(node); rule != "" {
			out = append(out, c.uncovered(node, v, rule))
		}
		for _, p := range pods {
			out = append(out, c.misscheduled(node, p, v))
		}
		return out
	}
	if len(pods) == 0 {
		return []report.Finding{c.missing(node)}
	}
	return c.podFindings(node.Name, pods)
}

// podFindings reports duplicates, health and revision of the Pods on a node
// the DaemonSet should run on (or whose verdict is unknown).
func (c *dsContext) podFindings(nodeName string, pods []*snapshot.DaemonPod) []report.Finding {
	var out []report.Finding
	live := make([]*snapshot.DaemonPod, 0, len(pods))
	for _, p := range pods {
		if !p.Deleting {
			live = append(live, p)
		}
	}
	if len(live) > 1 && !c.surgePair(live) {
		names := make([]string, len(live))
		for i, p := range live {
			names[i] = p.Name
		}
		out = append(out, report.Finding{
			Type: report.DuplicatePods, Node: nodeName, Pod: strings.Join(names, ","),
			Message:    fmt.Sprintf("node %s runs %d Pods of the DaemonSet (%s); the controller keeps the oldest bound one (%s) and deletes the others", nodeName, len(live), strings.Join(names, ", "), live[0].Name),
			Suggestion: fmt.Sprintf("if they persist, the controller is not syncing: check kube-controller-manager and %s events", c.objRef()),
		})
	}
	for _, p := range pods {
		h := c.health(p)
		switch h.kind {
		case pending:
			out = append(out, c.pendingPod(nodeName, p, h))
		case unhealthy:
			out = append(out, c.unhealthyPod(nodeName, p, h))
		}
		if c.revKnown && !c.isUpdated(p) && !p.Deleting {
			out = append(out, c.outdated(nodeName, p))
		}
	}
	return out
}

// surgePair reports whether several Pods on one node are the normal overlap of
// a surge rolling update: one old and one updated Pod.
func (c *dsContext) surgePair(pods []*snapshot.DaemonPod) bool {
	if !c.surge || len(pods) != 2 {
		return false
	}
	return c.isUpdated(pods[0]) != c.isUpdated(pods[1])
}

func (c *dsContext) missing(node *corev1.Node) report.Finding {
	f := report.Finding{Type: report.MissingPod, Node: node.Name}
	f.Message = fmt.Sprintf("node %s should run the DaemonSet but has no Pod of it", node.Name)
	if age := c.now.Sub(node.CreationTimestamp.Time); !node.CreationTimestamp.IsZero() && age < 2*time.Minute && age >= 0 {
		f.Message += fmt.Sprintf("; the node joined %s ago, the controller may not have created it yet", humanDuration(age))
	}
	if e := c.latestEvent(c.ds.UID, node.Name); e != nil {
		f.Message += fmt.Sprintf("; last %s event: %s", e.Reason, oneLine(e.Message))
		f.Suggestion = "fix what the event says; the controller retries with backoff"
	} else {
		f.Suggestion = fmt.Sprintf("check kubectl describe %s for FailedCreate events and that kube-controller-manager is running", c.objRef())
	}
	return f
}

func (c *dsContext) misscheduled(node *corev1.Node, p *snapshot.DaemonPod, v scheduling.Verdict) report.Finding {
	f := report.Finding{Type: report.MisscheduledPod, Node: node.Name, Pod: p.Name}
	fate := "the controller will delete it"
	if v.ShouldContinueRunning {
		fate = "the controller leaves it running (only NoExecute taints evict) but counts it as misscheduled"
	}
	f.Message = fmt.Sprintf("Pod %s is on node %s, which the DaemonSet does not target: %s; %s", p.Name, node.Name, v.Reason, fate)
	switch v.Cause {
	case scheduling.CauseTaint:
		if v.Taint.Key == corev1.TaintNodeNotReady {
			f.Message += fmt.Sprintf("; node %s is NotReady or has just joined, and daemon Pods tolerate not-ready only for NoExecute", node.Name)
			f.Suggestion = fmt.Sprintf("bring node %s back to Ready (check its kubelet); the taint then goes away by itself", node.Name)
		} else {
			f.Suggestion = tolerationSuggestion(v.Taint, node.Name)
		}
	case scheduling.CauseNodeSelector, scheduling.CauseNodeAffinity:
		f.Suggestion = fmt.Sprintf("if node %s should run it, relabel the node or widen the DaemonSet's node selector/affinity; otherwise nothing to do", node.Name)
	case scheduling.CauseNodeName:
		f.Suggestion = "remove spec.nodeName from the DaemonSet's Pod template"
	}
	return f
}

func tolerationSuggestion(t *corev1.Taint, node string) string {
	tol := fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", t.Key, t.Effect)
	if t.Value != "" {
		tol = fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", t.Key, t.Value, t.Effect)
	}
	return fmt.Sprintf("add the toleration %s to the DaemonSet's Pod template, or remove the taint: kubectl taint node %s %s:%s-", tol, node, t.Key, t.Effect)
}

func (c *dsContext) pendingPod(nodeName string, p *snapshot.DaemonPod, h health) report.Finding {
	f := report.Finding{Type: report.PendingPod, Node: nodeName, Pod: p.Name}
	f.Message = fmt.Sprintf("Pod %s for node %s %s", p.Name, nodeName, h.detail)
	if age := c.now.Sub(p.Created); !p.Created.IsZero() && age >= 0 {
		f.Message += fmt.Sprintf(" (for %s)", humanDuration(age))
	}
	if e := c.latestEvent(p.UID, ""); e != nil && !strings.Contains(f.Message, oneLine(e.Message)) {
		f.Message += fmt.Sprintf("; last %s event: %s", e.Reason, oneLine(e.Message))
	}
	msg := f.Message
	switch {
	case strings.Contains(msg, "Insufficient"):
		f.Suggestion = fmt.Sprintf("free resources on node %s or lower the DaemonSet's resource requests; a priorityClassName such as system-node-critical lets the scheduler preempt other Pods", nodeName)
	case strings.Contains(msg, "free ports") || strings.Contains(msg, "host port"):
		f.Suggestion = fmt.Sprintf("another Pod on node %s uses the same hostPort; change one of them", nodeName)
	case p.NodeName == "":
		f.Suggestion = fmt.Sprintf("see why the scheduler cannot place it: kubectl describe pod -n %s %s", p.Namespace, p.Name)
	default:
		f.Suggestion = fmt.Sprintf("see what the kubelet on %s reports: kubectl describe pod -n %s %s", nodeName, p.Namespace, p.Name)
	}
	return f
}

func (c *dsContext) unhealthyPod(nodeName string, p *snapshot.DaemonPod, h health) report.Finding {
	f := report.Finding{Type: report.UnhealthyPod, Node: nodeName, Pod: p.Name}
	f.Message = fmt.Sprintf("Pod %s on node %s %s", p.Name, nodeName, h.detail)
	if h.restarts > 0 && !strings.Contains(h.detail, "restarts") {
		f.Message += fmt.Sprintf("; %d restarts", h.restarts)
	}
	switch {
	case h.reason == "CrashLoopBackOff" || h.reason == "Error" || h.reason == "RunContainerError":
		f.Suggestion = fmt.Sprintf("read its logs: kubectl logs -n %s %s --previous", p.Namespace, p.Name)
	case h.reason == "ImagePullBackOff" || h.reason == "ErrImagePull" || h.reason == "InvalidImageName" || h.reason == "ErrImageNeverPull":
		f.Suggestion = "check the image name and tag, and the registry's pull secret"
		if h.image != "" {
			f.Suggestion = fmt.Sprintf("check that image %s exists and can be pulled (name, tag, imagePullSecrets)", h.image)
		}
	case h.reason == "OOMKilled" || strings.Contains(h.detail, "OOMKilled"):
		f.Suggestion = "raise the container's memory limit in the DaemonSet"
	case h.reason == "CreateContainerConfigError":
		f.Suggestion = fmt.Sprintf("a referenced ConfigMap, Secret or key is missing: kubectl describe pod -n %s %s", p.Namespace, p.Name)
	case p.Phase == corev1.PodFailed || p.Phase == corev1.PodSucceeded:
		f.Suggestion = "the controller deletes failed daemon Pods and recreates them with backoff; if it repeats, see the Pod's events and logs"
	default:
		f.Suggestion = fmt.Sprintf("check its readiness probe and logs: kubectl describe pod -n %s %s", p.Namespace, p.Name)
	}
	return f
}

func (c *dsContext) outdated(nodeName string, p *snapshot.DaemonPod) report.Finding {
	f := report.Finding{Type: report.OutdatedPod, Node: nodeName, Pod: p.Name}
	rev := podRevision(p)
	if rev == "" {
		rev = "an unknown revision"
	}
	cur := c.hash
	if cur == "" && c.gen != nil {
		cur = fmt.Sprintf("generation %d", *c.gen)
	}
	f.Message = fmt.Sprintf("Pod %s on node %s runs %s, the current revision is %s", p.Name, nodeName, rev, cur)
	if c.rollout != "" {
		f.Message += " (" + c.rollout + ")"
	}
	if c.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		f.Suggestion = fmt.Sprintf("with updateStrategy OnDelete a Pod is updated only when deleted: kubectl delete pod -n %s %s", p.Namespace, p.Name)
	} else {
		f.Suggestion = fmt.Sprintf("the rolling update replaces it once fewer than maxUnavailable Pods are unavailable; follow it with kubectl rollout status -n %s daemonset/%s", c.ds.Namespace, c.ds.Name)
	}
	return f
}

// staleStatus compares the controller's published status with the recomputed
// one. It returns ok=false when they agree and the status is current.
func (c *dsContext) staleStatus(got, want report.Counts) (report.Finding, bool) {
	f := report.Finding{Type: report.StaleStatus}
	var parts []string
	if got.ObservedGeneration < c.ds.Generation {
		parts = append(parts, fmt.Sprintf("status.observedGeneration %d is behind metadata.generation %d: the controller has not processed the latest change", got.ObservedGeneration, c.ds.Generation))
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
	if got.ObservedGeneration < c.ds.Generation {
		f.Suggestion = "the DaemonSet controller in kube-controller-manager normally catches up within seconds: check that it is running and its logs for errors about this DaemonSet"
		return f, true
	}
	f.Suggestion = fmt.Sprintf("the controller has not resynced this DaemonSet (it does not requeue it when a node gains a NoSchedule taint); any update makes it resync, e.g. kubectl annotate %s daemoncheck/resync=now --overwrite; if it persists, check kube-controller-manager", c.objRef())
	return f, true
}

// latestEvent returns the newest Warning event about uid, optionally only one
// whose message names the node.
func (c *dsContext) latestEvent(uid types.UID, node string) *corev1.Event {
	var best *corev1.Event
	for _, e := range c.idx.eventsFor[uid] {
		if node != "" && !strings.Contains(e.Message, node) {
			continue
		}
		if best == nil || eventTime(e).After(eventTime(best)) {
			best = e
		}
	}
	if best == nil && node != "" {
		for _, e := range c.idx.eventsFor[uid] {
			if e.Reason == "FailedCreate" && (best == nil || eventTime(e).After(eventTime(best))) {
				best = e
			}
		}
	}
	return best
}

func eventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	}
	return e.CreationTimestamp.Time
}

func (c *dsContext) events(pods []*snapshot.DaemonPod, max int) []report.Event {
	var evs []*corev1.Event
	evs = append(evs, c.idx.eventsFor[c.ds.UID]...)
	for _, p := range pods {
		evs = append(evs, c.idx.eventsFor[p.UID]...)
	}
	sort.SliceStable(evs, func(i, j int) bool {
		ti, tj := eventTime(evs[i]), eventTime(evs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return evs[i].Name < evs[j].Name
	})
	if len(evs) > max {
		evs = evs[len(evs)-max:]
	}
	out := make([]report.Event, 0, len(evs))
	for _, e := range evs {
		count := e.Count
		if count == 0 {
			count = 1
		}
		out = append(out, report.Event{
			Object:   strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name,
			Reason:   e.Reason,
			Message:  oneLine(e.Message),
			Count:    count,
			LastSeen: eventTime(e).UTC(),
		})
	}
	return out
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

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// humanDuration prints a duration as kubectl's AGE column does (2m, 3h, 5d).
func humanDuration(d time.Duration) string { return duration.HumanDuration(d) }

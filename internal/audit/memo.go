package audit

import (
	"maps"
	"reflect"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/daemoncheck/daemoncheck/internal/audit/nodestate"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/placement"
	"github.com/daemoncheck/daemoncheck/internal/problems"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Memo carries the analysis of a cluster into the next analysis of the same
// cluster (a watch, a poll), so that a change costs what it touches: a
// DaemonSet none of whose inputs changed keeps its report, and only the
// stages across DaemonSets (problems, summary) run again. A single Pod's
// status change is one DaemonSet's analysis, not the cluster's.
//
// What a DaemonSet's report depends on, and how the Memo knows it is the
// same as last time:
//   - its own objects: the DaemonSet, the Pods it owns, the orphan Pods of
//     its namespace (it may adopt them), its newest ControllerRevision: the
//     same objects at the same resourceVersions (the API server gives every
//     write a new one; an object without one, from a file, is never taken
//     for unchanged);
//   - what every DaemonSet reads: nodes, events, PriorityClasses, workloads,
//     the server version, which kinds were read, the options; when any of
//     them changed, every DaemonSet is analysed again;
//   - the capacity plan (every template on every node, where daemon Pods
//     are bound, each node's placement): kept when every DaemonSet's spec
//     and every binding is the same, else every DaemonSet is analysed again;
//   - time: the first moment at which the DaemonSet's findings would change
//     with time alone (a --grace period ends, a Pod has been Ready for
//     minReadySeconds, a rollout reaches 15 minutes without progress, the
//     age in a cause rolls over), which the analysis records (changesAt).
//
// Ages inside messages ("Pending (for 3m)", "joined 40s ago") are as of
// the DaemonSet's last analysis: following them would mean analysing every
// DaemonSet with a Pending Pod every second. With the same snapshot and
// the same Now, Analyze with a Memo returns the report Analyze without one
// does (TestMemo*).
//
// A Memo belongs to one sequence of analyses with the same Options (a
// different option analyses everything again); it is not safe for
// concurrent use. The zero Memo is ready: its first analysis is a full one.
type Memo struct {
	// global is what every DaemonSet's report depends on, last time.
	global memoGlobal
	// nodes is the last index of the nodes, without the pointers to that
	// snapshot's nodes (newNodeIndex).
	nodes *nodeIndex
	plan  *placement.Plan
	// planDS are the DaemonSets the plan was built from, in report order.
	planDS   []*appsv1.DaemonSet
	nodeInfo []report.NodeInfo
	capacity *report.Capacity
	ds       map[ownerKey]*memoDS

	// Analysed and Reused count the DaemonSets the last analysis analysed
	// and took from the Memo (tests and benchmarks read them).
	Analysed, Reused int
}

// memoDS is one DaemonSet's report and what it was made from.
type memoDS struct {
	ds, rev       objVersion
	pods, orphans []objVersion
	until         time.Time
	report        report.DaemonSetReport
	// health is the problems stage's view of the DaemonSet (pattern), nil
	// until a problem needed it; problems are its own problems.
	health   *problems.Health
	problems []report.Problem
}

// objVersion names one version of an object.
type objVersion struct {
	id, rv string
}

// memoGlobal is what every DaemonSet's report depends on. known is false
// when some object has no resourceVersion: then nothing is reused.
type memoGlobal struct {
	known         bool
	source        string
	serverVersion string
	missing       map[model.Kind]model.Gap
	nodes         []objVersion
	events        []objVersion
	classes       []objVersion
	classesRead   bool
	workloads     *model.Workloads
	opts          Options
	// podLifecycle is what daemon Pods say of their nodes (detect.Cluster):
	// one DaemonSet's evicted Pod changes the cause of another's findings.
	podLifecycle map[string]nodestate.Lifecycle
}

func globalOf(snap *model.Snapshot, idx *index, opts Options) memoGlobal {
	opts.Now, opts.Memo = time.Time{}, nil
	g := memoGlobal{known: true, source: snap.Source, serverVersion: snap.ServerVersion, missing: snap.Missing,
		classesRead: snap.PriorityClassesRead, workloads: snap.Workloads, opts: opts, podLifecycle: idx.cl.PodLifecycle()}
	version := func(id, rv string) objVersion {
		if rv == "" {
			g.known = false
		}
		return objVersion{id, rv}
	}
	// In the snapshot's order: another order is taken for a change.
	g.nodes = idx.versions
	g.known = g.known && idx.known
	for i := range snap.Events {
		e := &snap.Events[i]
		g.events = append(g.events, version(string(e.UID), e.ResourceVersion))
	}
	for i := range snap.PriorityClasses {
		c := &snap.PriorityClasses[i]
		g.classes = append(g.classes, version(c.Name, c.ResourceVersion))
	}
	return g
}

func (g *memoGlobal) same(o *memoGlobal) bool {
	return g.known && o.known && g.source == o.source && g.serverVersion == o.serverVersion &&
		maps.Equal(g.missing, o.missing) && slices.Equal(g.nodes, o.nodes) && slices.Equal(g.events, o.events) &&
		slices.Equal(g.classes, o.classes) && g.classesRead == o.classesRead && g.workloads == o.workloads &&
		reflect.DeepEqual(g.opts, o.opts) && maps.Equal(g.podLifecycle, o.podLifecycle)
}

// keptPlan returns the Memo's capacity plan for dss when it still holds:
// the same DaemonSets with the same specs (a status write changes no
// verdict, request or priority), and every daemon Pod bound where it was
// (bindings order a node's placement). Called when the globals are the same
// (nodes, PriorityClasses, workloads).
// podsSeen says, for each of dss, whether its Pods and the orphans of its
// namespace are the ones the Memo saw (the same UIDs at the same
// resourceVersions).
func (m *Memo) podsSeen(dss []*appsv1.DaemonSet, idx *index) []bool {
	seen := make([]bool, len(dss))
	for d, ds := range dss {
		if md := m.ds[keyOf(ds)]; md != nil {
			seen[d] = samePods(md.pods, idx.podsByDS[keyOf(ds)]) && samePods(md.orphans, idx.orphansByNS[ds.Namespace])
		}
	}
	return seen
}

func (m *Memo) keptPlan(dss []*appsv1.DaemonSet, idx *index, seen []bool) *placement.Plan {
	if m.plan == nil || len(dss) != len(m.planDS) {
		return nil
	}
	for d, ds := range dss {
		old := m.planDS[d]
		if ds.UID != old.UID || ds.Namespace != old.Namespace || ds.Name != old.Name ||
			!ds.CreationTimestamp.Equal(&old.CreationTimestamp) {
			return nil
		}
		if ds.ResourceVersion != old.ResourceVersion && !equality.Semantic.DeepEqual(&ds.Spec, &old.Spec) {
			return nil
		}
	}
	if m.plan.Verdicts != nil {
		// Only a DaemonSet whose Pods changed can be bound elsewhere.
		for d, ds := range dss {
			if !seen[d] && !slices.Equal(boundRow(ds, idx), m.plan.Bound[d]) {
				return nil
			}
		}
	}
	// The same plan, for this snapshot's DaemonSet objects. The
	// Evaluators keep the old objects, whose specs are the same.
	return m.plan.Rebind(dss, placement.Nodes{List: idx.nodes, Pos: idx.nodePos, ByNatural: idx.byNatural})
}

// reusable returns the Memo's report of ds when none of its inputs changed
// and time has not reached a moment that changes it; podsSeen says whether
// its Pods are the ones the Memo saw. Called when the globals and the plan
// are the same.
func (m *Memo) reusable(ds *appsv1.DaemonSet, idx *index, now time.Time, podsSeen bool) *memoDS {
	md := m.ds[keyOf(ds)]
	if md == nil || !podsSeen || ds.ResourceVersion == "" || md.ds != (objVersion{string(ds.UID), ds.ResourceVersion}) ||
		md.rev != revisionOf(ds, idx) || (!md.until.IsZero() && !now.Before(md.until)) {
		return nil
	}
	return md
}

func revisionOf(ds *appsv1.DaemonSet, idx *index) objVersion {
	if cr := idx.revByDS[ds.UID]; cr != nil {
		return objVersion{string(cr.UID), cr.ResourceVersion}
	}
	return objVersion{}
}

func samePods(was []objVersion, pods []*model.DaemonPod) bool {
	if len(was) != len(pods) {
		return false
	}
	for i, p := range pods {
		if p.ResourceVersion == "" || was[i].rv != p.ResourceVersion || was[i].id != string(p.UID) {
			return false
		}
	}
	return true
}

func podVersions(pods []*model.DaemonPod) []objVersion {
	out := make([]objVersion, len(pods))
	for i, p := range pods {
		out[i] = objVersion{string(p.UID), p.ResourceVersion}
	}
	return out
}

// remember keeps what an analysis made for the next one: kept[d] is the
// entry whose report DaemonSet d reused, nil when it was analysed (until[d]
// then says until when its report holds).
func (m *Memo) remember(g memoGlobal, plan *placement.Plan, idx *index, r *report.Report, kept []*memoDS, until []time.Time, health map[string]*problems.Health, own [][]report.Problem, capacity *report.Capacity) {
	m.global, m.plan, m.planDS, m.nodeInfo, m.capacity = g, plan, plan.DS, r.Nodes, capacity
	if !g.known {
		// Nothing would be reused: keep nothing.
		m.plan, m.planDS, m.nodeInfo, m.capacity, m.ds, m.nodes = nil, nil, nil, nil, nil, nil
		return
	}
	nodes := idx.nodeIndex
	nodes.nodes, nodes.nodeByNm = nil, nil
	m.nodes = &nodes
	next := make(map[ownerKey]*memoDS, len(plan.DS))
	for d, ds := range plan.DS {
		md := kept[d]
		if md == nil {
			md = &memoDS{ds: objVersion{string(ds.UID), ds.ResourceVersion}, rev: revisionOf(ds, idx),
				pods:    podVersions(idx.podsByDS[keyOf(ds)]),
				orphans: podVersions(idx.orphansByNS[ds.Namespace]),
				until:   until[d], report: r.DaemonSets[d]}
		}
		md.health = health[ds.Namespace+"/"+ds.Name]
		md.problems = own[d]
		next[keyOf(ds)] = md
	}
	m.ds = next
}

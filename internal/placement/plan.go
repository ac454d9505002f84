// Package placement answers, for every DaemonSet and node, whether the
// controller wants a daemon Pod there (the verdict matrix) and whether the
// daemons that should run on a node fit on it together, placed as the
// scheduler would: by priority, the ones already bound keeping their room.
// The audit reads its verdicts and left-out daemons; the capacity view is
// its Section. It knows nothing of findings.
package placement

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Plan is where every daemon would be placed on every node, built once
// before the DaemonSets are analysed: the controller's verdict for every
// (DaemonSet, node) pair (the same Evaluator the audit uses, computed here
// once and handed to each DaemonSet's analysis), each DaemonSet's request
// and priority, and on every node the daemons that should run there,
// placed as the scheduler would (capacity.Place).
type Plan struct {
	DS    []*appsv1.DaemonSet
	pos   map[*appsv1.DaemonSet]int
	Names []string
	// byName is a DaemonSet's position by namespace/name.
	byName map[string]int
	Evals  []*scheduling.Evaluator
	// Verdicts[d][n] is the verdict for DS[d] on node position n (nil
	// when nodes were not read).
	Verdicts [][]scheduling.Verdict
	Req      []capacity.Request
	Prio     []int32
	// PrioKnown: the priority does not depend on PriorityClasses that
	// were not read.
	PrioKnown []bool
	// Preempts: the daemon's Pods may preempt (preemptionPolicy is not
	// Never).
	Preempts []bool
	// leftOut[d][n]: DS[d] is left out on node position n.
	leftOut []map[int]*capacity.LeftOut
	Nodes   []NodeFit
	// Bound[d][n]: DS[d] has a live Pod bound to node position n (nil:
	// none).
	Bound [][]bool
	// Work is the per-node load of every Pod (--workloads), or nil.
	Work        *model.Workloads
	Classes     []schedulingv1.PriorityClass
	ClassesRead bool
	nodes       Nodes
}

// Nodes are the nodes a plan places daemons on, as the audit indexes them:
// a node's position in List is its position in every per-node slice of
// the plan.
type Nodes struct {
	List []*corev1.Node
	// Pos is a node's position in List.
	Pos map[string]int
	// ByNatural lists the node names in natural order ("n9" before "n10"),
	// the order the capacity section lists them in.
	ByNatural []string
}

// NodeFit is what the plan knows of one node.
type NodeFit struct {
	// Alloc is the node's allocatable, nil when it reports none.
	Alloc capacity.Amounts
	// Daemons counts the DaemonSets that should run on the node; Place
	// is their placement (shared by the nodes of one shape).
	Daemons int
	Place   *capacity.Placement
}

// Of is the position of ds in the plan, -1 when it is not there (or the
// plan is nil).
func (p *Plan) Of(ds *appsv1.DaemonSet) int {
	if p == nil {
		return -1
	}
	if d, ok := p.pos[ds]; ok {
		return d
	}
	return -1
}

// Rebind is the same plan for another snapshot's objects of the same
// DaemonSets and nodes (a watch's next analysis, when nothing the plan
// depends on changed). The Evaluators keep the old objects, whose specs
// are the same.
func (p *Plan) Rebind(dss []*appsv1.DaemonSet, nodes Nodes) *Plan {
	q := *p
	q.DS, q.nodes = dss, nodes
	q.pos = make(map[*appsv1.DaemonSet]int, len(dss))
	for d, ds := range dss {
		q.pos[ds] = d
	}
	return &q
}

// New builds the plan. dss are the DaemonSets in report order; bound says
// on which node positions a DaemonSet has a live Pod bound (nil: none):
// the audit knows which Pods are whose.
func New(dss []*appsv1.DaemonSet, nodes Nodes, bound func(*appsv1.DaemonSet) []bool, snap *model.Snapshot) *Plan {
	p := &Plan{DS: dss, pos: make(map[*appsv1.DaemonSet]int, len(dss)), Work: snap.Workloads,
		Classes: snap.PriorityClasses, ClassesRead: snap.PriorityClassesRead, nodes: nodes}
	n := len(dss)
	p.Names = make([]string, n)
	p.byName = make(map[string]int, n)
	p.Evals = make([]*scheduling.Evaluator, n)
	p.Req = make([]capacity.Request, n)
	p.Prio = make([]int32, n)
	p.PrioKnown = make([]bool, n)
	p.Preempts = make([]bool, n)
	p.leftOut = make([]map[int]*capacity.LeftOut, n)
	for d, ds := range dss {
		p.pos[ds] = d
		p.Names[d] = ds.Namespace + "/" + ds.Name
		p.byName[p.Names[d]] = d
		p.Evals[d] = scheduling.NewEvaluator(ds)
		spec := &ds.Spec.Template.Spec
		p.Req[d] = capacity.PodRequest(spec)
		p.Prio[d], p.PrioKnown[d] = capacity.Priority(spec, snap.PriorityClasses, snap.PriorityClassesRead)
		p.Preempts[d] = preemptionPolicy(spec, snap.PriorityClasses) != corev1.PreemptNever
	}
	if !snap.Has(model.Nodes) {
		return p
	}
	// Verdicts: one Evaluator per DaemonSet, the DaemonSets on every core.
	p.Verdicts = make([][]scheduling.Verdict, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				vs := make([]scheduling.Verdict, len(nodes.List))
				for i, node := range nodes.List {
					vs[i] = p.Evals[d].Evaluate(node)
				}
				p.Verdicts[d] = vs
			}
		}()
	}
	for d := range dss {
		next <- d
	}
	close(next)
	wg.Wait()
	p.Bound = make([][]bool, len(dss))
	for d, ds := range dss {
		p.Bound[d] = bound(ds)
	}
	p.placeAll()
	return p
}

// preemptionPolicy is the policy a Pod of spec gets: its own, else its
// PriorityClass's (the Priority admission plugin copies it), else
// PreemptLowerPriority.
func preemptionPolicy(spec *corev1.PodSpec, classes []schedulingv1.PriorityClass) corev1.PreemptionPolicy {
	if spec.PreemptionPolicy != nil {
		return *spec.PreemptionPolicy
	}
	for i := range classes {
		if c := &classes[i]; spec.PriorityClassName != "" && c.Name == spec.PriorityClassName && c.PreemptionPolicy != nil {
			return *c.PreemptionPolicy
		}
	}
	return corev1.PreemptLowerPriority
}

// placeAll places the daemons of every node. Nodes of one shape (the same
// allocatable, the same DaemonSets, the same of them already bound there)
// share one placement: a pool of 1,000 identical nodes is placed once.
func (p *Plan) placeAll() {
	// The order within a priority: the oldest DaemonSet first (its Pods
	// were created first), then by name; where that leaves a daemon out,
	// the daemons bound to the node go first.
	order := make([]int, len(p.DS))
	for d := range order {
		order[d] = d
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := p.DS[order[a]], p.DS[order[b]]
		if !x.CreationTimestamp.Equal(&y.CreationTimestamp) {
			return x.CreationTimestamp.Before(&y.CreationTimestamp)
		}
		return p.Names[order[a]] < p.Names[order[b]]
	})
	// Placements are cached by shape: allocatable and daemons, and, only
	// for shapes where a daemon is left out (where the order matters),
	// which daemons are bound there.
	shapes := map[string]*capacity.Placement{}
	p.Nodes = make([]NodeFit, len(p.nodes.List))
	var key strings.Builder
	var daemons, held []int
	for i, node := range p.nodes.List {
		nf := &p.Nodes[i]
		if len(node.Status.Allocatable) > 0 {
			nf.Alloc = capacity.FromList(node.Status.Allocatable)
		}
		daemons = daemons[:0]
		for _, d := range order {
			if p.Verdicts[d][i].ShouldRun {
				daemons = append(daemons, d)
			}
		}
		nf.Daemons = len(daemons)
		if len(daemons) == 0 {
			continue
		}
		key.Reset()
		writeAmounts(&key, nf.Alloc)
		for _, d := range daemons {
			key.WriteString(strconv.Itoa(d))
			key.WriteByte(',')
		}
		pl, ok := shapes[key.String()]
		if !ok {
			pl = p.placeOn(nf.Alloc, daemons)
			shapes[key.String()] = pl
		}
		if len(pl.LeftOut) > 0 {
			held = held[:0]
			key.WriteByte('|')
			for _, bound := range []bool{true, false} {
				for _, d := range daemons {
					if p.IsBound(d, i) == bound {
						held = append(held, d)
						if bound {
							key.WriteString(strconv.Itoa(d))
							key.WriteByte(',')
						}
					}
				}
			}
			if pl, ok = shapes[key.String()]; !ok {
				pl = p.placeOn(nf.Alloc, held)
				shapes[key.String()] = pl
			}
		}
		nf.Place = pl
		for k := range pl.LeftOut {
			d := p.Index(pl.LeftOut[k].Daemon)
			if p.leftOut[d] == nil {
				p.leftOut[d] = map[int]*capacity.LeftOut{}
			}
			p.leftOut[d][i] = &pl.LeftOut[k]
		}
	}
}

// IsBound says whether DS[d] has a live Pod bound to node position n.
func (p *Plan) IsBound(d, n int) bool { return p.Bound[d] != nil && p.Bound[d][n] }

// placeOn places the daemons d (in tie order) on a node with allocatable
// alloc. With alloc unknown only host ports can clash: the daemons are
// placed on a node large enough for all of them.
func (p *Plan) placeOn(alloc capacity.Amounts, daemons []int) *capacity.Placement {
	cands := make([]capacity.Daemon, len(daemons))
	all := capacity.Amounts{}
	for k, d := range daemons {
		cands[k] = capacity.Daemon{Name: p.Names[d], Priority: p.Prio[d], Request: p.Req[d]}
		all.Add(p.Req[d].Resources)
	}
	if alloc == nil {
		alloc = all
	}
	pl := capacity.Place(alloc, nil, cands)
	return &pl
}

// Index is the position of the DaemonSet namespace/name; the plan made
// every name it hands out, so an unknown one is a bug.
func (p *Plan) Index(name string) int {
	d, ok := p.byName[name]
	if !ok {
		panic("placement: placement names an unknown DaemonSet " + name)
	}
	return d
}

// writeAmounts writes a canonical form of a (nil: "?").
func writeAmounts(b *strings.Builder, a capacity.Amounts) {
	if a == nil {
		b.WriteString("?|")
		return
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.FormatInt(a[corev1.ResourceName(k)], 10))
		b.WriteByte(';')
	}
	b.WriteByte('|')
}

// LeftOutOf is ds[d]'s left-out record on node position n, or nil.
func (p *Plan) LeftOutOf(d, n int) *capacity.LeftOut {
	if d < 0 || p.leftOut[d] == nil {
		return nil
	}
	return p.leftOut[d][n]
}

// Section builds the report's capacity section: pools, and the nodes (all
// of them when allNodes, else only those where a daemon is left out).
func (p *Plan) Section(poolLabels []string, allNodes bool) *report.Capacity {
	if p == nil || p.Verdicts == nil {
		return nil
	}
	if poolLabels == nil {
		poolLabels = providers.DefaultPoolLabels
	}
	c := &report.Capacity{Workloads: p.Work != nil, Pools: []report.PoolCapacity{}, Nodes: []report.NodeCapacity{}}
	res := p.shownResources()
	for _, r := range res {
		c.Resources = append(c.Resources, string(r))
	}
	pools := map[string]*poolSum{}
	var order []string
	unknownAlloc := 0
	for _, name := range p.nodes.ByNatural {
		i := p.nodes.Pos[name]
		node, nf := p.nodes.List[i], &p.Nodes[i]
		pool := providers.PoolOf(node, poolLabels)
		ps := pools[pool]
		if ps == nil {
			ps = &poolSum{PoolCapacity: report.PoolCapacity{Pool: pool}, alloc: capacity.Amounts{}, daemons: capacity.Amounts{}, work: capacity.Amounts{},
				minHead: capacity.Amounts{}, minNode: map[corev1.ResourceName]string{}, leftOut: map[string]bool{}}
			pools[pool] = ps
			order = append(order, pool)
		}
		ps.Nodes++
		ps.DaemonSets = max(ps.DaemonSets, nf.Daemons)
		overhead := capacity.Amounts{}
		if nf.Place != nil {
			overhead = nf.Place.Overhead
		}
		var work capacity.Amounts
		if p.Work != nil {
			work = capacity.Amounts{}
			if l := p.Work.Nodes[name]; l != nil {
				work.Add(l.Requested)
				work.Sub(l.Daemons)
			}
		}
		leftOut := nf.Place != nil && len(nf.Place.LeftOut) > 0
		if nf.Alloc == nil {
			unknownAlloc++
			ps.NodesUnknown++
		} else {
			ps.alloc.Add(nf.Alloc)
			ps.daemons.Add(overhead)
			ps.work.Add(work)
			for _, r := range res {
				if head := nf.Alloc[r] - overhead[r]; ps.minNode[r] == "" || head < ps.minHead[r] {
					ps.minHead[r], ps.minNode[r] = head, name
				}
			}
		}
		if leftOut {
			ps.notFitting = append(ps.notFitting, name)
			for _, lo := range nf.Place.LeftOut {
				ps.leftOut[lo.Daemon] = true
			}
		}
		// The per-node figures only for the nodes listed (a 5,000-node
		// audit lists a handful).
		if allNodes || leftOut {
			c.Nodes = append(c.Nodes, p.nodeReport(name, pool, nf, res, overhead, work))
		}
	}
	for _, pool := range order {
		c.Pools = append(c.Pools, pools[pool].report(res, p.Work != nil))
	}
	sort.SliceStable(c.Pools, func(i, j int) bool {
		if c.Pools[i].Nodes != c.Pools[j].Nodes {
			return c.Pools[i].Nodes > c.Pools[j].Nodes
		}
		return c.Pools[i].Pool < c.Pools[j].Pool
	})
	c.Unknown = p.unknowns(unknownAlloc)
	return c
}

// poolSum adds up a pool's nodes for the capacity section.
type poolSum struct {
	report.PoolCapacity
	alloc, daemons, work, minHead capacity.Amounts
	minNode                       map[corev1.ResourceName]string
	notFitting                    []string
	leftOut                       map[string]bool
}

// report is the pool's figures, per resource of res.
func (ps *poolSum) report(res []corev1.ResourceName, workloads bool) report.PoolCapacity {
	pc := ps.PoolCapacity
	for _, r := range res {
		rc := report.ResourceCapacity{Resource: string(r), Allocatable: capacity.Format(r, ps.alloc[r]), Daemons: capacity.Format(r, ps.daemons[r]),
			Headroom: capacity.Format(r, ps.alloc[r]-ps.daemons[r]), MinHeadroom: capacity.Format(r, ps.minHead[r]), MinHeadroomNode: ps.minNode[r],
			AllocatableValue: ps.alloc[r], DaemonsValue: ps.daemons[r], HeadroomValue: ps.alloc[r] - ps.daemons[r], MinHeadroomValue: ps.minHead[r]}
		rc.Percent = capacity.PercentUp(ps.daemons[r], ps.alloc[r])
		if ps.NodesUnknown == ps.Nodes {
			// No node of the pool says what it offers: its sums would
			// read as a pool of size zero.
			rc.Allocatable, rc.Headroom, rc.MinHeadroom = "unknown", "unknown", "unknown"
			rc.AllocatableValue, rc.HeadroomValue, rc.MinHeadroomValue = 0, 0, 0
		}
		if workloads {
			rc.Workloads, rc.WorkloadsValue = capacity.Format(r, ps.work[r]), ps.work[r]
		}
		pc.Resources = append(pc.Resources, rc)
	}
	pc.NotFitting = len(ps.notFitting)
	pc.NotFittingRange = names.Range(ps.notFitting)
	for d := range ps.leftOut {
		pc.LeftOut = append(pc.LeftOut, d)
	}
	sort.Strings(pc.LeftOut)
	return pc
}

// unknowns say what the capacity figures could not count.
func (p *Plan) unknowns(unknownAlloc int) []string {
	var out []string
	if unknownAlloc > 0 {
		out = append(out, fmt.Sprintf("%s report no status.allocatable: whether their daemons fit is unknown (host ports are still checked)", nodeCount(unknownAlloc)))
	}
	if !p.ClassesRead {
		out = append(out, "PriorityClasses were not read: daemons whose priority depends on them are placed as priority 0 (system-node-critical and system-cluster-critical are known)")
	}
	for d := range p.DS {
		if r := p.Req[d]; r.RuntimeClass != "" && !r.OverheadKnown {
			out = append(out, fmt.Sprintf("%s uses runtimeClassName %s: its Pods also request the RuntimeClass's overhead, which is not counted", p.Names[d], r.RuntimeClass))
		}
	}
	return out
}

// shownResources are the resources the capacity section shows: cpu,
// memory, pods, and whatever a daemon asks.
func (p *Plan) shownResources() []corev1.ResourceName {
	shown := map[corev1.ResourceName]bool{corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourcePods: true}
	for d := range p.DS {
		for _, r := range p.Req[d].Resources.Names() {
			shown[r] = true
		}
	}
	var res []corev1.ResourceName
	for r := range shown {
		res = append(res, r)
	}
	capacity.SortNames(res)
	return res
}

func quantities(res []corev1.ResourceName, a capacity.Amounts) map[string]string {
	m := make(map[string]string, len(res))
	for _, r := range res {
		m[string(r)] = capacity.Format(r, a[r])
	}
	return m
}

// values are the amounts of quantities as integers.
func values(res []corev1.ResourceName, a capacity.Amounts) map[string]int64 {
	m := make(map[string]int64, len(res))
	for _, r := range res {
		m[string(r)] = a[r]
	}
	return m
}

// nodeReport is one node's figures.
func (p *Plan) nodeReport(name, pool string, nf *NodeFit, res []corev1.ResourceName, overhead, work capacity.Amounts) report.NodeCapacity {
	nc := report.NodeCapacity{Name: name, Pool: pool, DaemonSets: nf.Daemons, Allocatable: map[string]string{}, Daemons: quantities(res, overhead),
		DaemonsValues: values(res, overhead)}
	if work != nil {
		nc.Workloads, nc.WorkloadsValues = quantities(res, work), values(res, work)
	}
	if nf.Alloc != nil {
		nc.Allocatable, nc.AllocatableValues = quantities(res, nf.Alloc), values(res, nf.Alloc)
		head := nf.Alloc.Clone()
		head.Sub(overhead)
		nc.Headroom, nc.HeadroomValues = quantities(res, head), values(res, head)
		nc.Percent = make(map[string]int, len(res))
		for _, r := range res {
			nc.Percent[string(r)] = capacity.PercentUp(overhead[r], nf.Alloc[r])
		}
	}
	if nf.Place != nil {
		for _, lo := range nf.Place.LeftOut {
			nc.LeftOut = append(nc.LeftOut, p.leftOutReport(&lo, nf.Alloc == nil))
		}
	}
	return nc
}

// leftOutReport says why a daemon is left out.
func (p *Plan) leftOutReport(lo *capacity.LeftOut, allocUnknown bool) report.LeftOutDaemon {
	out := report.LeftOutDaemon{DaemonSet: lo.Daemon}
	var why []string
	if !allocUnknown {
		for _, s := range lo.Shortfalls {
			out.Resources = append(out.Resources, string(s.Resource))
			why = append(why, s.String())
		}
	}
	for k, pc := range lo.Ports {
		out.HostPorts = append(out.HostPorts, fmt.Sprintf("%s held by %s", pc.Port, lo.HeldBy[k]))
		why = append(why, fmt.Sprintf("host port %s is held by %s", pc.Port, lo.HeldBy[k]))
	}
	out.Reason = strings.Join(why, "; ")
	return out
}

// nodeCount is "1 node", "3 nodes".
func nodeCount(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

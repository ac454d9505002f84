package audit

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

// capPlan is the capacity stage's view of the cluster, built once before
// the DaemonSets are analysed: the controller's verdict for every
// (DaemonSet, node) pair (the same Evaluator the audit uses, computed here
// once and handed to each DaemonSet's analysis), each DaemonSet's request
// and priority, and on every node the daemons that should run there,
// placed as the scheduler would (capacity.Place).
type capPlan struct {
	ds     []*appsv1.DaemonSet
	pos    map[*appsv1.DaemonSet]int
	name   []string
	byName map[string]int
	evals  []*scheduling.Evaluator
	// verdicts[d][n] is the verdict for ds[d] on idx.nodes[n] (nil when
	// nodes were not read).
	verdicts [][]scheduling.Verdict
	req      []capacity.Request
	prio     []int32
	// prioKnown: the priority does not depend on PriorityClasses that
	// were not read.
	prioKnown []bool
	// preempts: the daemon's Pods may preempt (preemptionPolicy is not
	// Never).
	preempts []bool
	// leftOut[d][n]: ds[d] is left out on idx.nodes[n].
	leftOut []map[int]*capacity.LeftOut
	nodes   []nodeFit
	// bound[d][n]: ds[d] has a live Pod bound to idx.nodes[n] (nil: none).
	bound [][]bool
	// work is the per-node load of every Pod (--workloads), or nil.
	work        *model.Workloads
	classes     []schedulingv1.PriorityClass
	classesRead bool
}

// nodeFit is what the plan knows of one node.
type nodeFit struct {
	// alloc is the node's allocatable, nil when it reports none.
	alloc capacity.Amounts
	// daemons counts the DaemonSets that should run on the node; place
	// is their placement (shared by the nodes of one shape).
	daemons int
	place   *capacity.Placement
}

func (p *capPlan) of(ds *appsv1.DaemonSet) int {
	if p == nil {
		return -1
	}
	if d, ok := p.pos[ds]; ok {
		return d
	}
	return -1
}

// planCapacity builds the plan. dss are the DaemonSets in report order.
func planCapacity(dss []*appsv1.DaemonSet, idx *index, snap *model.Snapshot) *capPlan {
	p := &capPlan{ds: dss, pos: make(map[*appsv1.DaemonSet]int, len(dss)), work: snap.Workloads,
		classes: snap.PriorityClasses, classesRead: snap.PriorityClassesRead}
	n := len(dss)
	p.name = make([]string, n)
	p.byName = make(map[string]int, n)
	p.evals = make([]*scheduling.Evaluator, n)
	p.req = make([]capacity.Request, n)
	p.prio = make([]int32, n)
	p.prioKnown = make([]bool, n)
	p.preempts = make([]bool, n)
	p.leftOut = make([]map[int]*capacity.LeftOut, n)
	for d, ds := range dss {
		p.pos[ds] = d
		p.name[d] = ds.Namespace + "/" + ds.Name
		p.byName[p.name[d]] = d
		p.evals[d] = scheduling.NewEvaluator(ds)
		spec := &ds.Spec.Template.Spec
		p.req[d] = capacity.PodRequest(spec)
		p.prio[d], p.prioKnown[d] = capacity.Priority(spec, snap.PriorityClasses, snap.PriorityClassesRead)
		p.preempts[d] = preemptionPolicy(spec, snap.PriorityClasses) != corev1.PreemptNever
	}
	if !snap.Has(model.Nodes) {
		return p
	}
	// Verdicts: one Evaluator per DaemonSet, the DaemonSets on every core.
	p.verdicts = make([][]scheduling.Verdict, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				vs := make([]scheduling.Verdict, len(idx.nodes))
				for i, node := range idx.nodes {
					vs[i] = p.evals[d].Evaluate(node)
				}
				p.verdicts[d] = vs
			}
		}()
	}
	for d := range dss {
		next <- d
	}
	close(next)
	wg.Wait()
	p.place(idx)
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

// boundOf says, for each of dss and each of idx.nodes, whether the
// DaemonSet has a Pod bound to the node (not being deleted): it holds its
// room there, so the scheduler leaves out a newcomer of equal priority
// rather than it.
func boundOf(dss []*appsv1.DaemonSet, idx *index) [][]bool {
	bound := make([][]bool, len(dss))
	for d, ds := range dss {
		bound[d] = boundRow(ds, idx)
	}
	return bound
}

// boundRow is boundOf for one DaemonSet: nil when it is bound nowhere.
func boundRow(ds *appsv1.DaemonSet, idx *index) []bool {
	var row []bool
	for _, pod := range idx.podsByDS[ownerKey{ds.Namespace, ds.UID}] {
		if n, ok := idx.nodePos[pod.NodeName]; ok && !pod.Deleting {
			if row == nil {
				row = make([]bool, len(idx.nodes))
			}
			row[n] = true
		}
	}
	return row
}

// place places the daemons of every node. Nodes of one shape (the same
// allocatable, the same DaemonSets, the same of them already bound there)
// share one placement: a pool of 1,000 identical nodes is placed once.
func (p *capPlan) place(idx *index) {
	p.bound = boundOf(p.ds, idx)
	// The order within a priority: the oldest DaemonSet first (its Pods
	// were created first), then by name; where that leaves a daemon out,
	// the daemons bound to the node go first.
	order := make([]int, len(p.ds))
	for d := range order {
		order[d] = d
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := p.ds[order[a]], p.ds[order[b]]
		if !x.CreationTimestamp.Equal(&y.CreationTimestamp) {
			return x.CreationTimestamp.Before(&y.CreationTimestamp)
		}
		return p.name[order[a]] < p.name[order[b]]
	})
	// Placements are cached by shape: allocatable and daemons, and, only
	// for shapes where a daemon is left out (where the order matters),
	// which daemons are bound there.
	shapes := map[string]*capacity.Placement{}
	p.nodes = make([]nodeFit, len(idx.nodes))
	var key strings.Builder
	var daemons, held []int
	for i, node := range idx.nodes {
		nf := &p.nodes[i]
		if len(node.Status.Allocatable) > 0 {
			nf.alloc = capacity.FromList(node.Status.Allocatable)
		}
		daemons = daemons[:0]
		for _, d := range order {
			if p.verdicts[d][i].ShouldRun {
				daemons = append(daemons, d)
			}
		}
		nf.daemons = len(daemons)
		if len(daemons) == 0 {
			continue
		}
		key.Reset()
		writeAmounts(&key, nf.alloc)
		for _, d := range daemons {
			key.WriteString(strconv.Itoa(d))
			key.WriteByte(',')
		}
		pl, ok := shapes[key.String()]
		if !ok {
			pl = p.placeOn(nf.alloc, daemons)
			shapes[key.String()] = pl
		}
		if len(pl.LeftOut) > 0 {
			held = held[:0]
			key.WriteByte('|')
			for _, bound := range []bool{true, false} {
				for _, d := range daemons {
					if p.isBound(d, i) == bound {
						held = append(held, d)
						if bound {
							key.WriteString(strconv.Itoa(d))
							key.WriteByte(',')
						}
					}
				}
			}
			if pl, ok = shapes[key.String()]; !ok {
				pl = p.placeOn(nf.alloc, held)
				shapes[key.String()] = pl
			}
		}
		nf.place = pl
		for k := range pl.LeftOut {
			d := p.index(pl.LeftOut[k].Daemon)
			if p.leftOut[d] == nil {
				p.leftOut[d] = map[int]*capacity.LeftOut{}
			}
			p.leftOut[d][i] = &pl.LeftOut[k]
		}
	}
}

// isBound says whether ds[d] has a live Pod bound to idx.nodes[n].
func (p *capPlan) isBound(d, n int) bool { return p.bound[d] != nil && p.bound[d][n] }

// placeOn places the daemons d (in tie order) on a node with allocatable
// alloc. With alloc unknown only host ports can clash: the daemons are
// placed on a node large enough for all of them.
func (p *capPlan) placeOn(alloc capacity.Amounts, daemons []int) *capacity.Placement {
	cands := make([]capacity.Daemon, len(daemons))
	all := capacity.Amounts{}
	for k, d := range daemons {
		cands[k] = capacity.Daemon{Name: p.name[d], Priority: p.prio[d], Request: p.req[d]}
		all.Add(p.req[d].Resources)
	}
	if alloc == nil {
		alloc = all
	}
	pl := capacity.Place(alloc, nil, cands)
	return &pl
}

func (p *capPlan) index(name string) int {
	d, ok := p.byName[name]
	if !ok {
		panic("analyze: placement names an unknown DaemonSet " + name)
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

// leftOutOf is ds[d]'s left-out record on node position n, or nil.
func (p *capPlan) leftOutOf(d, n int) *capacity.LeftOut {
	if d < 0 || p.leftOut[d] == nil {
		return nil
	}
	return p.leftOut[d][n]
}

// section builds the report's capacity section: pools, and the nodes (all
// of them when allNodes, else only those where a daemon is left out).
func (p *capPlan) section(idx *index, poolLabels []string, allNodes bool) *report.Capacity {
	if p == nil || p.verdicts == nil {
		return nil
	}
	if poolLabels == nil {
		poolLabels = providers.DefaultPoolLabels
	}
	c := &report.Capacity{Workloads: p.work != nil, Pools: []report.PoolCapacity{}, Nodes: []report.NodeCapacity{}}
	// The resources shown: cpu, memory, pods, and whatever a daemon asks.
	shown := map[corev1.ResourceName]bool{corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourcePods: true}
	for d := range p.ds {
		for _, r := range p.req[d].Resources.Names() {
			shown[r] = true
		}
	}
	var res []corev1.ResourceName
	for r := range shown {
		res = append(res, r)
	}
	capacity.SortNames(res)
	for _, r := range res {
		c.Resources = append(c.Resources, string(r))
	}
	type poolSum struct {
		report.PoolCapacity
		alloc, daemons, work, minHead capacity.Amounts
		minNode                       map[corev1.ResourceName]string
		notFitting                    []string
		leftOut                       map[string]bool
	}
	pools := map[string]*poolSum{}
	var order []string
	unknownAlloc := 0
	for _, name := range idx.byNatural {
		i := idx.nodePos[name]
		node, nf := idx.nodes[i], &p.nodes[i]
		pool := providers.PoolOf(node, poolLabels)
		ps := pools[pool]
		if ps == nil {
			ps = &poolSum{PoolCapacity: report.PoolCapacity{Pool: pool}, alloc: capacity.Amounts{}, daemons: capacity.Amounts{}, work: capacity.Amounts{},
				minHead: capacity.Amounts{}, minNode: map[corev1.ResourceName]string{}, leftOut: map[string]bool{}}
			pools[pool] = ps
			order = append(order, pool)
		}
		ps.Nodes++
		ps.DaemonSets = max(ps.DaemonSets, nf.daemons)
		overhead := capacity.Amounts{}
		if nf.place != nil {
			overhead = nf.place.Overhead
		}
		var work capacity.Amounts
		if p.work != nil {
			work = capacity.Amounts{}
			if l := p.work.Nodes[name]; l != nil {
				work.Add(l.Requested)
				work.Sub(l.Daemons)
			}
		}
		leftOut := nf.place != nil && len(nf.place.LeftOut) > 0
		if nf.alloc == nil {
			unknownAlloc++
			ps.NodesUnknown++
		} else {
			ps.alloc.Add(nf.alloc)
			ps.daemons.Add(overhead)
			ps.work.Add(work)
			for _, r := range res {
				if head := nf.alloc[r] - overhead[r]; ps.minNode[r] == "" || head < ps.minHead[r] {
					ps.minHead[r], ps.minNode[r] = head, name
				}
			}
		}
		if leftOut {
			ps.notFitting = append(ps.notFitting, name)
			for _, lo := range nf.place.LeftOut {
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
		ps := pools[pool]
		pc := ps.PoolCapacity
		for _, r := range res {
			rc := report.ResourceCapacity{Resource: string(r), Allocatable: capacity.Format(r, ps.alloc[r]), Daemons: capacity.Format(r, ps.daemons[r]),
				Headroom: capacity.Format(r, ps.alloc[r]-ps.daemons[r]), MinHeadroom: capacity.Format(r, ps.minHead[r]), MinHeadroomNode: ps.minNode[r],
				AllocatableValue: ps.alloc[r], DaemonsValue: ps.daemons[r], HeadroomValue: ps.alloc[r] - ps.daemons[r], MinHeadroomValue: ps.minHead[r]}
			rc.Percent = percent(ps.daemons[r], ps.alloc[r])
			if ps.NodesUnknown == ps.Nodes {
				// No node of the pool says what it offers: its sums would
				// read as a pool of size zero.
				rc.Allocatable, rc.Headroom, rc.MinHeadroom = "unknown", "unknown", "unknown"
				rc.AllocatableValue, rc.HeadroomValue, rc.MinHeadroomValue = 0, 0, 0
			}
			if p.work != nil {
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
		c.Pools = append(c.Pools, pc)
	}
	sort.SliceStable(c.Pools, func(i, j int) bool {
		if c.Pools[i].Nodes != c.Pools[j].Nodes {
			return c.Pools[i].Nodes > c.Pools[j].Nodes
		}
		return c.Pools[i].Pool < c.Pools[j].Pool
	})
	if unknownAlloc > 0 {
		c.Unknown = append(c.Unknown, fmt.Sprintf("%s report no status.allocatable: whether their daemons fit is unknown (host ports are still checked)", nodesWord(unknownAlloc)))
	}
	if !p.classesRead {
		c.Unknown = append(c.Unknown, "PriorityClasses were not read: daemons whose priority depends on them are placed as priority 0 (system-node-critical and system-cluster-critical are known)")
	}
	for d := range p.ds {
		if r := p.req[d]; r.RuntimeClass != "" && !r.OverheadKnown {
			c.Unknown = append(c.Unknown, fmt.Sprintf("%s uses runtimeClassName %s: its Pods also request the RuntimeClass's overhead, which is not counted", p.name[d], r.RuntimeClass))
		}
	}
	return c
}

// percent is part's share of whole, rounded up (0 when whole is not
// positive).
func percent(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	return int((part*100 + whole - 1) / whole)
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
func (p *capPlan) nodeReport(name, pool string, nf *nodeFit, res []corev1.ResourceName, overhead, work capacity.Amounts) report.NodeCapacity {
	nc := report.NodeCapacity{Name: name, Pool: pool, DaemonSets: nf.daemons, Allocatable: map[string]string{}, Daemons: quantities(res, overhead),
		DaemonsValues: values(res, overhead)}
	if work != nil {
		nc.Workloads, nc.WorkloadsValues = quantities(res, work), values(res, work)
	}
	if nf.alloc != nil {
		nc.Allocatable, nc.AllocatableValues = quantities(res, nf.alloc), values(res, nf.alloc)
		head := nf.alloc.Clone()
		head.Sub(overhead)
		nc.Headroom, nc.HeadroomValues = quantities(res, head), values(res, head)
		nc.Percent = make(map[string]int, len(res))
		for _, r := range res {
			nc.Percent[string(r)] = percent(overhead[r], nf.alloc[r])
		}
	}
	if nf.place != nil {
		for _, lo := range nf.place.LeftOut {
			nc.LeftOut = append(nc.LeftOut, p.leftOutReport(&lo, nf.alloc == nil))
		}
	}
	return nc
}

// leftOutReport says why a daemon is left out.
func (p *capPlan) leftOutReport(lo *capacity.LeftOut, allocUnknown bool) report.LeftOutDaemon {
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

package detect

import (
	"slices"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/audit/nodestate"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/placement"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Cluster is what every DaemonSet's analysis shares, built once by the
// engine and read-only while the DaemonSets are analysed in parallel.
type Cluster struct {
	// Snap is the snapshot analysed.
	Snap *model.Snapshot
	// Nodes are the snapshot's nodes in natural order of their names
	// ("n9" before "n10"), as every view lists them; NodePos is a node's
	// position in Nodes (and in each Context.Verdicts).
	Nodes      []*corev1.Node
	NodeByName map[string]*corev1.Node
	NodePos    map[string]int
	// Natural is each node's position in natural order, ByNatural the
	// node names in that order (SortNodes).
	Natural   map[string]int
	ByNatural []string
	// EventsFor are the Warning events about an object, by its UID.
	EventsFor map[types.UID][]*corev1.Event
	// Plan is the capacity stage's view (package placement): verdicts,
	// requests, priorities and the daemons' placement on every node.
	Plan *placement.Plan
	// Narrowed: only some DaemonSets were read (a namespace, a label
	// selector, a NAME), so what another DaemonSet does is not known.
	Narrowed bool

	// causes is the strongest node-level cause of each node, with what
	// the daemon Pods say of their nodes' lifecycle (podLifecycle) where
	// that is stronger; causesOwned once it is a copy of the engine's
	// (NotePodLifecycle). lifecycle is the lifecycle operation of each
	// node whose own cause is one.
	causes       map[string]string
	causesOwned  bool
	lifecycle    map[string]nodestate.Lifecycle
	podLifecycle map[string]nodestate.Lifecycle

	mu     sync.Mutex
	shared map[*Key]*sharedValue
}

// SetNodeCauses gives the cluster the nodes' own causes and lifecycle
// operations (nodestate.OfNode, nodestate.Conditions), which it does not
// change: a Memo may share them with the next analysis.
func (cl *Cluster) SetNodeCauses(causes map[string]string, lifecycle map[string]nodestate.Lifecycle) {
	cl.causes, cl.causesOwned, cl.lifecycle = causes, false, lifecycle
}

// NotePodLifecycle adds what a daemon Pod says of its node
// (nodestate.OfPod) where it is stronger than what the node shows.
// Called while the cluster is built, for the few Pods that are terminating
// or failed.
func (cl *Cluster) NotePodLifecycle(p *model.DaemonPod) {
	name := p.NodeName
	if name == "" {
		return
	}
	node := cl.NodeByName[name]
	if node == nil {
		return
	}
	s, ok := nodestate.OfPod(p, node)
	if !ok {
		return
	}
	cur, has := cl.causes[name]
	if has && nodestate.Rank(cur) <= nodestate.Rank(s.Cause) {
		return
	}
	if !cl.causesOwned {
		// The node causes may be shared with the next analysis (a
		// Memo): copy before the first change.
		m := make(map[string]string, len(cl.causes)+1)
		for k, v := range cl.causes {
			m[k] = v
		}
		cl.causes, cl.causesOwned = m, true
	}
	if cl.podLifecycle == nil {
		cl.podLifecycle = map[string]nodestate.Lifecycle{}
	}
	cl.causes[name] = s.Cause
	cl.podLifecycle[name] = s
}

// PodLifecycle is what daemon Pods say of their nodes (NotePodLifecycle):
// one DaemonSet's evicted Pod changes the cause of another's findings.
func (cl *Cluster) PodLifecycle() map[string]nodestate.Lifecycle { return cl.podLifecycle }

// CauseOf is the strongest node-level cause of a node: its conditions,
// taints and annotations, or what its daemon Pods say.
func (cl *Cluster) CauseOf(node string) string {
	return cl.causes[node]
}

// LifecycleOf returns the lifecycle operation behind a node's cause, if
// its cause is one.
func (cl *Cluster) LifecycleOf(node string) (nodestate.Lifecycle, bool) {
	if s, ok := cl.podLifecycle[node]; ok && cl.causes[node] == s.Cause {
		return s, true
	}
	s, ok := cl.lifecycle[node]
	if ok && cl.causes[node] == s.Cause {
		return s, true
	}
	return nodestate.Lifecycle{}, false
}

// NodeState is a node as a finding cites it (report.Params.Nodes).
func (cl *Cluster) NodeState(node string) report.NodeState {
	ns := report.NodeState{Node: node, Cause: cl.CauseOf(node)}
	if s, ok := cl.LifecycleOf(node); ok {
		ns.Evidence = s.Evidence
		ns.Since = SinceOf(s.Since)
	}
	return ns
}

// SortNodes sorts node names in natural order: known nodes by their
// precomputed position, names not in the snapshot (deleted nodes) after
// them, naturally.
func (cl *Cluster) SortNodes(ns []string) {
	// Usually every node is known: sort their positions.
	pos := make([]int, len(ns))
	for i, n := range ns {
		p, ok := cl.Natural[n]
		if !ok {
			pos = nil
			break
		}
		pos[i] = p
	}
	if pos != nil {
		slices.Sort(pos)
		for i, p := range pos {
			ns[i] = cl.ByNatural[p]
		}
		return
	}
	sort.SliceStable(ns, func(i, j int) bool {
		a, aok := cl.Natural[ns[i]]
		b, bok := cl.Natural[ns[j]]
		switch {
		case aok && bok:
			return a < b
		case aok != bok:
			return aok
		}
		return names.Less(ns[i], ns[j])
	})
}

type sharedValue struct {
	once sync.Once
	v    any
}

// Shared returns what build computes from the cluster, calling it once per
// analysis whichever DaemonSet asks first: an index a detector package
// keeps over every node (the readiness gates, the node plugins'
// registrations). Safe for concurrent use; a detector asks once per
// DaemonSet (Once), not per node.
func Shared[T any](cl *Cluster, k *Key, build func(*Cluster) T) T {
	cl.mu.Lock()
	if cl.shared == nil {
		cl.shared = map[*Key]*sharedValue{}
	}
	sv := cl.shared[k]
	if sv == nil {
		sv = &sharedValue{}
		cl.shared[k] = sv
	}
	cl.mu.Unlock()
	sv.once.Do(func() { sv.v = build(cl) })
	return sv.v.(T)
}

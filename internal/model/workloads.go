package model

import (
	"sort"
)

// Workloads is what the Pods bound to each node ask of it, summed as the
// scheduler's NodeInfo sums them (every non-terminal Pod bound to the node,
// daemon Pods included). It is built as the Pods are read, so no Pod is
// kept: only its node's totals, per priority, and, for the few Pods that
// hold host ports, their names and ports.
type Workloads struct {
	// Nodes holds the load of every node some Pod is bound to.
	Nodes map[string]*NodeLoad
	// Pods counts the non-terminal Pods read; Unbound those not bound to a
	// node yet (Pending ones, which request nothing of any node).
	Pods, Unbound int
}

// NodeLoad is the load of one node.
type NodeLoad struct {
	// Pods counts the Pods bound to the node (a Pod slot each);
	// Requested sums their effective requests.
	Pods      int
	Requested Amounts
	// ByPriority splits Pods and Requested by Pod priority, lowest first:
	// what preemption by a Pod of some priority could free.
	ByPriority []PriorityLoad
	// DaemonPods and Daemons are the part of Pods and Requested owned by
	// DaemonSets.
	DaemonPods int
	Daemons    Amounts
	// WorkloadPods counts the Pods not owned by a DaemonSet and
	// MaxWorkloadPriority is the highest priority among them (valid when
	// WorkloadPods > 0).
	WorkloadPods        int
	MaxWorkloadPriority int32
	// PortHolders are the Pods that hold host ports, in the order read.
	PortHolders []PortHolder
}

// PriorityLoad is the part of a node's load at one priority.
type PriorityLoad struct {
	Priority  int32
	Pods      int
	Requested Amounts
}

// PortHolder is a Pod holding host ports on a node.
type PortHolder struct {
	Namespace, Name string
	Priority        int32
	// OwnerKind and OwnerName name the Pod's controller ("" none).
	OwnerKind, OwnerName string
	Ports                []HostPort
}

// PodLoad is what one Pod adds to its node's load: the few fields the
// aggregation reads.
type PodLoad struct {
	Namespace, Name string
	Node            string
	Terminal        bool
	Priority        int32
	Daemon          bool
	OwnerKind       string
	OwnerName       string
	Requests        Amounts
	Ports           []HostPort
}

// NewWorkloads returns an empty aggregation.
func NewWorkloads() *Workloads { return &Workloads{Nodes: map[string]*NodeLoad{}} }

// AddLoad adds what one Pod adds (collect.LoadOf). Terminal Pods are
// skipped: the scheduler does not count them (its informer lists Pods with
// the field selector status.phase!=Succeeded,status.phase!=Failed).
func (w *Workloads) AddLoad(l PodLoad) {
	if l.Terminal {
		return
	}
	w.Pods++
	if l.Node == "" {
		w.Unbound++
		return
	}
	n := w.Nodes[l.Node]
	if n == nil {
		n = &NodeLoad{Requested: Amounts{}, Daemons: Amounts{}}
		w.Nodes[l.Node] = n
	}
	n.Pods++
	n.Requested.Add(l.Requests)
	i := sort.Search(len(n.ByPriority), func(i int) bool { return n.ByPriority[i].Priority >= l.Priority })
	if i == len(n.ByPriority) || n.ByPriority[i].Priority != l.Priority {
		n.ByPriority = append(n.ByPriority, PriorityLoad{})
		copy(n.ByPriority[i+1:], n.ByPriority[i:])
		n.ByPriority[i] = PriorityLoad{Priority: l.Priority, Requested: Amounts{}}
	}
	n.ByPriority[i].Pods++
	n.ByPriority[i].Requested.Add(l.Requests)
	if l.Daemon {
		n.DaemonPods++
		n.Daemons.Add(l.Requests)
	} else {
		if n.WorkloadPods == 0 || l.Priority > n.MaxWorkloadPriority {
			n.MaxWorkloadPriority = l.Priority
		}
		n.WorkloadPods++
	}
	if len(l.Ports) > 0 {
		n.PortHolders = append(n.PortHolders, PortHolder{Namespace: l.Namespace, Name: l.Name, Priority: l.Priority, OwnerKind: l.OwnerKind, OwnerName: l.OwnerName, Ports: l.Ports})
	}
}

// Below returns the Pods and requests on the node with a priority below p:
// what preempting for a Pod of priority p may evict.
func (n *NodeLoad) Below(p int32) (pods int, req Amounts) {
	req = Amounts{}
	for _, b := range n.ByPriority {
		if b.Priority >= p {
			break
		}
		pods += b.Pods
		req.Add(b.Requested)
	}
	return pods, req
}

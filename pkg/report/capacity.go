package report

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// CapacityKind is the kind of the capacity command's machine output.
const CapacityKind = "DaemonCapacityReport"

// Capacity is what the daemons ask of the nodes: per node pool, the
// overhead of the DaemonSets that should run on its nodes against their
// allocatable, and the nodes where those daemons alone do not all fit.
// Amounts are exact Kubernetes quantities ("250m", "1Gi", "4668352Ki"),
// for a program to parse; "pods" counts Pod slots. Each has its integer
// beside it (the fields ending in Value or Values) in the scheduler's
// units: millicores for cpu, bytes for memory, ephemeral-storage and
// hugepages, a count for pods and extended resources. The printers read
// the integers, to show the amounts of a resource that sit together (a
// table's column) in one unit.
type Capacity struct {
	// Workloads is true when every Pod of the cluster was read
	// (--workloads): workloads then says what the other Pods request.
	Workloads bool `json:"workloads"`
	// Resources lists the resources shown: cpu, memory, pods, and any
	// other resource a daemon requests (ephemeral-storage, hugepages,
	// extended resources such as nvidia.com/gpu).
	Resources []string `json:"resources"`
	// Pools are the node pools (by the usual pool labels, else the
	// instance type), largest first.
	Pools []PoolCapacity `json:"pools"`
	// Nodes are the per-node figures: every node in the capacity command,
	// only the nodes where the daemons alone do not fit in the audit.
	Nodes []NodeCapacity `json:"nodes"`
	// Unknown says what could not be determined, and why.
	Unknown []string `json:"unknown,omitempty"`
}

// PoolCapacity sums a pool's nodes.
type PoolCapacity struct {
	// Pool is "" for nodes without a pool label or instance type.
	Pool  string `json:"pool"`
	Nodes int    `json:"nodes"`
	// NodesUnknown counts nodes that report no status.allocatable: they
	// are left out of the sums.
	NodesUnknown int `json:"nodesUnknown,omitempty"`
	// DaemonSets is the largest number of DaemonSets that should run on
	// one node of the pool.
	DaemonSets int                `json:"daemonSets"`
	Resources  []ResourceCapacity `json:"resources"`
	// NotFitting counts the nodes where the daemons alone do not fit;
	// NotFittingRange names them compactly; LeftOut are the DaemonSets
	// left out there (namespace/name).
	NotFitting      int      `json:"notFitting"`
	NotFittingRange string   `json:"notFittingRange,omitempty"`
	LeftOut         []string `json:"leftOut,omitempty"`
}

// ResourceCapacity is one resource of a pool, summed over its nodes.
type ResourceCapacity struct {
	Resource    string `json:"resource"`
	Allocatable string `json:"allocatable"`
	// Daemons is what the DaemonSets that should run on the nodes request
	// (every one of them, whether it fits or not); Percent is that share
	// of Allocatable, rounded up (0 when nothing is allocatable).
	Daemons string `json:"daemons"`
	Percent int    `json:"percent"`
	// Allocatable, Headroom and MinHeadroom are "unknown" when no node of
	// the pool reports status.allocatable (Daemons and Percent are then 0:
	// only nodes with allocatable are summed).
	// Headroom is Allocatable minus Daemons; MinHeadroom the smallest
	// headroom of one node, on MinHeadroomNode (negative: the daemons alone
	// do not fit there).
	Headroom        string `json:"headroom"`
	MinHeadroom     string `json:"minHeadroom"`
	MinHeadroomNode string `json:"minHeadroomNode"`
	// Workloads is what the other Pods bound to the nodes request (with
	// --workloads).
	Workloads string `json:"workloads,omitempty"`
	// AllocatableValue ... WorkloadsValue are the amounts above as
	// integers (see Capacity); 0 where the string is "unknown", and
	// WorkloadsValue is left out when 0.
	AllocatableValue int64 `json:"allocatableValue"`
	DaemonsValue     int64 `json:"daemonsValue"`
	HeadroomValue    int64 `json:"headroomValue"`
	MinHeadroomValue int64 `json:"minHeadroomValue"`
	WorkloadsValue   int64 `json:"workloadsValue,omitempty"`
}

// NodeCapacity is one node.
type NodeCapacity struct {
	Name string `json:"name"`
	Pool string `json:"pool"`
	// DaemonSets counts the DaemonSets that should run on the node.
	DaemonSets int `json:"daemonSets"`
	// Allocatable is the node's status.allocatable (empty when the node
	// reports none: then nothing else is computed); Daemons what its
	// DaemonSets request; Headroom the difference; Workloads what its other
	// Pods request (with --workloads). Keys are resource names.
	Allocatable map[string]string `json:"allocatable"`
	Daemons     map[string]string `json:"daemons"`
	// Percent is Daemons' share of Allocatable, rounded up.
	Percent   map[string]int    `json:"percent,omitempty"`
	Headroom  map[string]string `json:"headroom,omitempty"`
	Workloads map[string]string `json:"workloads,omitempty"`
	// AllocatableValues ... WorkloadsValues are the same maps with the
	// amounts as integers (see Capacity).
	AllocatableValues map[string]int64 `json:"allocatableValues,omitempty"`
	DaemonsValues     map[string]int64 `json:"daemonsValues,omitempty"`
	HeadroomValues    map[string]int64 `json:"headroomValues,omitempty"`
	WorkloadsValues   map[string]int64 `json:"workloadsValues,omitempty"`
	// LeftOut are the daemons that do not fit once the others are placed
	// (higher priority first, then the Pods already bound there, then the
	// oldest DaemonSet).
	LeftOut []LeftOutDaemon `json:"leftOut,omitempty"`
}

// LeftOutDaemon is a DaemonSet whose Pod does not fit on a node.
type LeftOutDaemon struct {
	DaemonSet string `json:"daemonSet"`
	// Resources are the resources it lacks; HostPorts the host ports
	// another daemon holds ("9100/TCP held by monitoring/node-exporter").
	Resources []string `json:"resources,omitempty"`
	HostPorts []string `json:"hostPorts,omitempty"`
	// Reason says it in one sentence, with the numbers.
	Reason string `json:"reason"`
}

// CapacityReport is the capacity command's machine output: the capacity
// section with every node, and what the run could not read.
type CapacityReport struct {
	metav1.TypeMeta `json:",inline"`
	GeneratedAt     metav1.Time `json:"generatedAt"`
	Source          string      `json:"source"`
	Partial         bool        `json:"partial"`
	Unread          []Unread    `json:"unread"`
	Warnings        []string    `json:"warnings,omitempty"`
	NodeCount       int         `json:"nodeCount"`
	Capacity        `json:",inline"`
}

// NewCapacityReport returns the capacity command's object for r.
func NewCapacityReport(r *Report) *CapacityReport {
	c := &CapacityReport{TypeMeta: metav1.TypeMeta{APIVersion: CapacityAPIVersion, Kind: CapacityKind},
		GeneratedAt: metav1.NewTime(r.GeneratedAt), Source: r.Source, Partial: r.Partial, Unread: r.Unread,
		Warnings: r.Warnings, NodeCount: r.NodeCount}
	if r.Capacity != nil {
		c.Capacity = *r.Capacity
	}
	if c.Resources == nil {
		c.Resources = []string{}
	}
	if c.Pools == nil {
		c.Pools = []PoolCapacity{}
	}
	if c.Nodes == nil {
		c.Nodes = []NodeCapacity{}
	}
	return c
}

// DeepCopyObject implements runtime.Object (kubectl's printers need one).
func (c *CapacityReport) DeepCopyObject() runtime.Object {
	data, err := json.Marshal(c)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	out := &CapacityReport{}
	if err := json.Unmarshal(data, out); err != nil {
		panic(err)
	}
	return out
}

package model

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Kinds of the node-plugin registrations: what the kubelets say they run
// (CSINode), which CSI drivers are installed (CSIDriver), and what DRA
// drivers publish per node (ResourceSlice).
const (
	CSINodes       Kind = "csinodes"
	CSIDrivers     Kind = "csidrivers"
	ResourceSlices Kind = "resourceslices"
)

// Plugins are the node-plugin registrations of the cluster: only the fields
// the cross-checks read. Each part has its own Read flag, set when it holds
// the cluster's objects (live: the list succeeded; offline: the input has
// objects of the kind). Not read is not partial: most dumps lack them, and
// an API server that does not serve resource.k8s.io has no ResourceSlices;
// a live read the server refused is also in Snapshot.Missing, with the
// RBAC rule.
type Plugins struct {
	// CSINodes are the nodes' CSINode objects: the CSI drivers each
	// node's kubelet registered (spec.drivers[].name).
	CSINodes     []CSINode
	CSINodesRead bool
	// CSIDrivers are the names of the CSIDriver objects.
	CSIDrivers     []string
	CSIDriversRead bool
	// ResourceSlices are the node-local ResourceSlices (spec.nodeName
	// set): the devices a DRA driver's kubelet plugin published for its
	// node. SliceVersion is the resource.k8s.io version they were read at.
	ResourceSlices     []ResourceSlice
	ResourceSlicesRead bool
	SliceVersion       string
}

// CSINodeIDAnnotation is the Node annotation in which the kubelet records
// the CSI drivers it registered, with their node IDs (a JSON object), in
// the same step as the CSINode entry (nodeinfomanager.InstallCSIDriver,
// removed by UninstallCSIDriver): where CSINodes are not read, it says
// the same.
const CSINodeIDAnnotation = "csi.volume.kubernetes.io/nodeid"

// CSINode is a node's CSINode object: its name is the node's.
type CSINode struct {
	Node    string
	Drivers []string
}

// ResourceSlice is one node-local ResourceSlice.
type ResourceSlice struct {
	Name, Driver, Node string
}

// ResourceSliceList is one page of ResourceSlices as the readers keep it:
// whichever resource.k8s.io version was served, only these fields.
type ResourceSliceList struct {
	metav1.ListMeta
	Items []ResourceSlice
}

package storage

// DRA kubelet plugins publish the devices of their node as ResourceSlices
// (spec.driver, spec.nodeName); the scheduler allocates from them, and the
// kubelet asks the driver's plugin on that node to prepare the claim
// (NodePrepareResources). A slice for a node without the plugin offers
// devices nobody can prepare. The check is part of DriverWithoutPlugin
// (csi.go): a DaemonSet is a driver's kubelet plugin by the same evidence,
// the kubeletplugin helper's default data directory being
// /var/lib/kubelet/plugins/<driver> (k8s.io/dynamic-resource-allocation/
// kubeletplugin); one that mounts the whole plugins directory cannot be
// told, and its driver is reported as unknown (Warnings).

// slicesOn names the node's ResourceSlices of the driver, sorted.
func (x *pluginIndex) slicesOn(node, driver string) []string {
	var out []string
	for _, s := range x.slices[node] {
		if s.Driver == driver {
			out = append(out, s.Name)
		}
	}
	return out
}

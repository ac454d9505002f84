package providers

import (
	"cmp"

	corev1 "k8s.io/api/core/v1"
)

// Platform is a node's os and arch: its kubernetes.io/os and
// kubernetes.io/arch labels (the kubelet sets them from its own build),
// else status.nodeInfo; "" where neither says.
func Platform(n *corev1.Node) (os, arch string) {
	return cmp.Or(n.Labels[corev1.LabelOSStable], n.Status.NodeInfo.OperatingSystem),
		cmp.Or(n.Labels[corev1.LabelArchStable], n.Status.NodeInfo.Architecture)
}

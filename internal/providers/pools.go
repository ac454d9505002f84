// Package providers holds what daemoncheck knows of managed Kubernetes
// platforms and node provisioners: the labels that name a node's pool and
// the label namespaces a provider sets and reconciles.
package providers

import (
	"cmp"

	corev1 "k8s.io/api/core/v1"
)

// DefaultPoolLabels name a node's pool on the common platforms (EKS managed
// node groups, GKE, AKS, Karpenter); the instance type is the fallback.
var DefaultPoolLabels = []string{
	"eks.amazonaws.com/nodegroup",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
	"karpenter.sh/nodepool",
	// The labels older clusters carry (AKS before kubernetes.azure.com
	// labels, eksctl's unmanaged node groups).
	"agentpool",
	"alpha.eksctl.io/nodegroup-name",
}

// InstanceTypeLabel is the node's instance type, the pool of last resort.
const InstanceTypeLabel = corev1.LabelInstanceTypeStable

// PoolOf names the node's pool: the first pool label it carries, else its
// instance type, else "".
func PoolOf(n *corev1.Node, poolLabels []string) string {
	for _, l := range poolLabels {
		if v := n.Labels[l]; v != "" {
			return v
		}
	}
	return cmp.Or(n.Labels[InstanceTypeLabel], n.Labels[corev1.LabelInstanceType])
}

// OwnedLabelPrefixes are label namespaces that managed node pools and
// cloud controllers set and reconcile; a kubectl label on them is undone or
// confuses the provider, so it is never a fix to suggest. The kubelet's own
// labels (kubernetes.io/os, topology.kubernetes.io/zone, ...) come from
// k8s.io/kubelet's list, the one the NodeRestriction admission plugin uses.
var OwnedLabelPrefixes = []string{
	"cloud.google.com/",
	"eks.amazonaws.com/",
	"kubernetes.azure.com/",
	"karpenter.sh/",
	"karpenter.k8s.aws/",
}

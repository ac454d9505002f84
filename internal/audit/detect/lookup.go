package detect

import (
	"cmp"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/providers"
)

// PoolOf names the node's pool by the analysis's pool labels.
func (c *Context) PoolOf(n *corev1.Node) string {
	labels := c.PoolLabels
	if labels == nil {
		labels = providers.DefaultPoolLabels
	}
	return providers.PoolOf(n, labels)
}

// RequiredBy names the first policy rule requiring the DaemonSet on node.
func (c *Context) RequiredBy(node *corev1.Node) string {
	for i := range c.Policy {
		if c.Policy[i].Nodes.Matches(labels.Set(node.Labels)) {
			return c.Policy[i].Source
		}
	}
	return ""
}

// PlatformOf is a node's os/arch: its kubernetes.io/os and
// kubernetes.io/arch labels (the kubelet sets them from its own build),
// else status.nodeInfo; "" when neither says, "unknown" for the half that
// is missing.
func PlatformOf(n *corev1.Node) string { return JoinPlatform(providers.Platform(n)) }

// JoinPlatform writes os and arch as PlatformOf does.
func JoinPlatform(os, arch string) string {
	if os == "" && arch == "" {
		return ""
	}
	return cmp.Or(os, "unknown") + "/" + cmp.Or(arch, "unknown")
}

// TemplateImage is the image of the named container (or init container)
// in the DaemonSet's Pod template, "" when it has none of that name.
func TemplateImage(ds *appsv1.DaemonSet, container string) string {
	spec := &ds.Spec.Template.Spec
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == container {
				return cs[i].Image
			}
		}
	}
	return ""
}

package collect

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
)

// The reader turns API objects into the model's records; where a record
// holds what a rule decides (a Pod's target node, what it asks of its
// node), the rule is applied here, so that the model holds data only.

// Compact returns the DaemonPod of a Pod, with the node the DaemonSet
// controller attributes it to (scheduling.TargetNodeName).
func Compact(p *corev1.Pod) model.DaemonPod {
	d := model.Compact(p)
	d.TargetNode, d.HasTarget = scheduling.TargetNodeName(p)
	return d
}

// CompactPods returns the DaemonPods of full Pods (tests, fixtures).
func CompactPods(pods ...corev1.Pod) []model.DaemonPod {
	out := make([]model.DaemonPod, len(pods))
	for i := range pods {
		out[i] = Compact(&pods[i])
	}
	return out
}

// LoadOf returns what p adds to its node. p is a Pod read from the API (or
// a dump of it): its defaults are applied and its priority resolved.
func LoadOf(p *corev1.Pod) model.PodLoad {
	l := model.PodLoad{
		Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName,
		Terminal: p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed,
	}
	if l.Terminal || l.Node == "" {
		return l
	}
	if p.Spec.Priority != nil {
		l.Priority = *p.Spec.Priority
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		l.OwnerKind, l.OwnerName = ref.Kind, ref.Name
		l.Daemon = ref.Kind == "DaemonSet"
	}
	l.Requests = capacity.BoundPodRequest(p)
	l.Ports = capacity.HostPorts(&p.Spec)
	return l
}

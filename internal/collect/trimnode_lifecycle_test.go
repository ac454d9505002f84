package collect

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The node lifecycle reads Cluster API's delete-machine annotation: the
// trimmed node keeps it, and only it among the annotations of others.
func TestTrimNodeKeepsTheLifecycleAnnotation(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{
		"cluster.x-k8s.io/delete-machine": "yes",
		"cluster.x-k8s.io/machine":        "md-0-abc",
		"daemoncheck.io/exempt":           "MissingPod",
		"node.alpha.kubernetes.io/ttl":    "0",
	}}}
	TrimNode(n)
	if len(n.Annotations) != 2 || n.Annotations["cluster.x-k8s.io/delete-machine"] != "yes" || n.Annotations["daemoncheck.io/exempt"] != "MissingPod" {
		t.Errorf("trimmed annotations %v, want delete-machine and the exemption", n.Annotations)
	}
}

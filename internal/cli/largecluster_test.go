package cli

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// largeClusterYAML is a cluster of n nodes in three pools (general, gpu
// tainted, infra) with a dozen DaemonSets and problems spread over many
// nodes: image pulls failing on a range, crash loops here and there, a
// daemon missing on a pool, one pending for memory, a typo'd selector,
// and agents across several namespaces. Dated fixture.Epoch (demoNow).
func largeClusterYAML(t *testing.T, n int) string {
	t.Helper()
	var items []any
	var nodes []corev1.Node
	for i := 1; i <= n; i++ {
		var node corev1.Node
		switch {
		case i <= n*2/3:
			node = fixture.Node(fmt.Sprintf("general-%03d", i), fixture.WithLabel("eks.amazonaws.com/nodegroup", "general"), fixture.Sized("8", "32Gi"))
		case i <= n*9/10:
			node = fixture.Node(fmt.Sprintf("gpu-%03d", i), fixture.WithLabel("eks.amazonaws.com/nodegroup", "gpu"), fixture.WithLabel("accelerator", "nvidia"),
				fixture.WithTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule), fixture.Sized("16", "64Gi"))
		default:
			node = fixture.Node(fmt.Sprintf("infra-%03d", i), fixture.WithLabel("eks.amazonaws.com/nodegroup", "infra"), fixture.Sized("2", "1Gi"))
		}
		nodes = append(nodes, node)
		items = append(items, node)
	}
	all := fixture.Exists("", corev1.TaintEffectNoSchedule)
	dss := []appsv1.DaemonSet{
		fixture.DaemonSet("kube-system", "kube-proxy", fixture.WithToleration(all), fixture.Critical()),
		fixture.DaemonSet("kube-system", "aws-node", fixture.WithToleration(all), fixture.Critical()),
		fixture.DaemonSet("kube-system", "ebs-csi-node", fixture.WithToleration(all)),
		fixture.DaemonSet("logging", "fluent-bit"),
		fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100)),
		fixture.DaemonSet("monitoring", "dcgm-exporter", fixture.WithNodeSelector("accelerator", "nvdia"), fixture.WithToleration(all)),
		fixture.DaemonSet("gpu-operator", "nvidia-device-plugin", fixture.WithNodeSelector("accelerator", "nvidia"), fixture.WithToleration(all), fixture.Requests("memory", "2Gi")),
		fixture.DaemonSet("security", "falco", fixture.Requests("cpu", "1500m", "memory", "512Mi")),
		fixture.DaemonSet("observability", "otel-agent"),
		fixture.DaemonSet("storage", "longhorn-manager"),
	}
	for i := range dss {
		ds := &dss[i]
		items = append(items, fixture.Revision(ds, 1))
		var desired int32
		for j, node := range nodes {
			name := node.Name
			if !tolerates(ds, &node) || !selects(ds, &node) {
				continue
			}
			desired++
			switch {
			case ds.Name == "fluent-bit" && j%7 == 3:
				items = append(items, fixture.Pod(ds, name, fixture.Waiting("ImagePullBackOff", "Back-off pulling image \"registry.example.com/fluent-bit:v1\"", 0)))
			case ds.Name == "otel-agent" && j%41 == 5:
				items = append(items, fixture.Pod(ds, name, fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 12)))
			case ds.Name == "longhorn-manager" && node.Labels["eks.amazonaws.com/nodegroup"] == "infra":
				// missing: the controller did not create them
			case ds.Name == "falco" && node.Labels["eks.amazonaws.com/nodegroup"] == "infra":
				items = append(items, fixture.Pod(ds, "", fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.")))
			default:
				items = append(items, fixture.Pod(ds, name))
			}
		}
		ds.Status.DesiredNumberScheduled, ds.Status.CurrentNumberScheduled = desired, desired
		ds.Status.NumberReady, ds.Status.NumberAvailable, ds.Status.UpdatedNumberScheduled = desired, desired, desired
		items = append(items, *ds)
	}
	b, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tolerates and selects are the generator's own, simple rules (the DaemonSets
// here use only an Exists-all toleration and a nodeSelector).
func tolerates(ds *appsv1.DaemonSet, n *corev1.Node) bool {
	if len(n.Spec.Taints) == 0 {
		return true
	}
	for _, t := range ds.Spec.Template.Spec.Tolerations {
		if t.Key == "" && t.Operator == corev1.TolerationOpExists {
			return true
		}
	}
	return false
}

func selects(ds *appsv1.DaemonSet, n *corev1.Node) bool {
	for k, v := range ds.Spec.Template.Spec.NodeSelector {
		if n.Labels[k] != v {
			return false
		}
	}
	return true
}

//go:build browser

package browser

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// largeNodes is the size of the generated cluster: the size at which a
// grid of every cell would bury the few broken ones.
const largeNodes = 5000

// largePools are the generated cluster's node pools (EKS node groups) and
// their sizes: four above the collapse size, one below.
var largePools = []struct {
	name string
	size int
	gpu  bool
}{
	{"general", 2400, false},
	{"compute", 1500, false},
	{"memory", 800, false},
	{"gpu", 280, true},
	{"infra", 20, false},
}

// writeLargeCluster writes a 5,000-node cluster as one JSON List: eight
// DaemonSets, their Pods and revisions, with a few broken nodes of each
// kind (Pods missing, crashing, pending), and returns the pool sizes.
func writeLargeCluster(t *testing.T, path string) map[string]int {
	t.Helper()
	var nodes []corev1.Node
	sizes := map[string]int{}
	for _, p := range largePools {
		sizes[p.name] = p.size
		for i := range p.size {
			opts := []fixture.NodeOpt{fixture.WithLabel("eks.amazonaws.com/nodegroup", p.name)}
			if p.gpu {
				opts = append(opts, fixture.WithLabel("accelerator", "nvidia"), fixture.WithTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule))
			}
			nodes = append(nodes, fixture.Node(fmt.Sprintf("ip-10-%s-%04d", p.name, i+1), opts...))
		}
	}
	// Two of the nodes without their security agent are exempted from
	// MissingPod: their cells are excluded by policy.
	for _, i := range []int{7, 407} {
		nodes[i].Annotations = map[string]string{"daemoncheck.io/exempt": "MissingPod"}
	}
	if len(nodes) != largeNodes {
		t.Fatalf("generated %d nodes, want %d", len(nodes), largeNodes)
	}
	gpuOnly := fixture.WithNodeSelector("accelerator", "nvidia")
	tolerateGPU := fixture.WithToleration(fixture.Exists("nvidia.com/gpu", corev1.TaintEffectNoSchedule))
	tolerateAll := fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})
	dss := []appsv1.DaemonSet{
		fixture.DaemonSet("kube-system", "kube-proxy", tolerateAll, fixture.Critical()),
		fixture.DaemonSet("kube-system", "aws-node", tolerateAll, fixture.Critical()),
		fixture.DaemonSet("kube-system", "ebs-csi-node", tolerateAll, fixture.Critical()),
		fixture.DaemonSet("logging", "fluent-bit", fixture.Critical()),
		fixture.DaemonSet("monitoring", "node-exporter", tolerateAll, fixture.Critical()),
		fixture.DaemonSet("security", "falco", tolerateGPU, fixture.Critical()),
		fixture.DaemonSet("gpu-operator", "nvidia-device-plugin", gpuOnly, tolerateGPU, fixture.Critical()),
		fixture.DaemonSet("observability", "otel-agent", fixture.Critical()),
	}
	var pods []corev1.Pod
	var revisions []appsv1.ControllerRevision
	for d := range dss {
		ds := &dss[d]
		revisions = append(revisions, fixture.Revision(ds, 1))
		// The status the controller would publish, so that the page shows
		// the broken nodes, not a stale status.
		var desired, current, ready int32
		for i := range nodes {
			n := &nodes[i]
			gpu := n.Labels["accelerator"] == "nvidia"
			switch {
			case ds.Name == "nvidia-device-plugin" && !gpu,
				(ds.Name == "fluent-bit" || ds.Name == "otel-agent") && gpu:
				continue // not targeted, by design
			}
			desired++
			name := fixture.Named(fmt.Sprintf("%s-%05d", ds.Name, i))
			switch {
			case ds.Name == "falco" && i%400 == 7:
				continue // missing: 13 nodes without their security agent
			case ds.Name == "fluent-bit" && i%250 == 3:
				current++
				pods = append(pods, fixture.Pod(ds, n.Name, name, fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 42)))
			case ds.Name == "node-exporter" && i%1000 == 11:
				pods = append(pods, fixture.Pod(ds, n.Name, name, fixture.Unscheduled("0/5000 nodes are available: 1 Insufficient memory.")))
			default:
				current++
				ready++
				pods = append(pods, fixture.Pod(ds, n.Name, name))
			}
		}
		ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: desired, CurrentNumberScheduled: current,
			NumberReady: ready, NumberAvailable: ready, UpdatedNumberScheduled: current, NumberUnavailable: desired - ready}
	}
	list := &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	add := func(o runtime.Object) { list.Items = append(list.Items, runtime.RawExtension{Object: o}) }
	for i := range nodes {
		add(&nodes[i])
	}
	for i := range dss {
		add(&dss[i])
	}
	for i := range revisions {
		add(&revisions[i])
	}
	for i := range pods {
		add(&pods[i])
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := json.NewEncoder(w).Encode(list); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return sizes
}

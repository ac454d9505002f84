//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Fragile coverage and node plugins on the real control plane: the
// DaemonSet controller decides what stays and what is recreated; the
// registrations a kubelet would write (CSINode) and a DRA driver would
// publish (ResourceSlice) are written by the test, since kwok runs no
// kubelet and no plugin registers anything.
func TestFragile(t *testing.T) {
	runScenarios(t, "", []namedScenario{
		{"fragile-taint-under-pod", scenarioFragileTaintUnderPod},
		{"fragile-label-removed", scenarioFragileLabelRemoved},
		{"fragile-csi-plugin", scenarioFragileCSIPlugin},
		{"fragile-dra-plugin", scenarioFragileDRAPlugin},
	})
}

// livePodOn returns the DaemonSet's Pod on node that is not being deleted,
// nil when there is none.
func (s *scenario) livePodOn(ds, node string) *corev1.Pod {
	s.t.Helper()
	pods, err := daemonPods(s.ctx, s.getDaemonSet(ds))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := range pods {
		if podNode(&pods[i]) == node && pods[i].DeletionTimestamp == nil {
			return &pods[i]
		}
	}
	return nil
}

// A NoSchedule taint added under a running daemon Pod: the controller
// keeps the Pod (shouldContinueRunning) and counts it misscheduled;
// daemoncheck says fragile coverage, with the taint and since when. Once
// the Pod is deleted, the controller does not replace it: the coverage
// really was fragile.
func scenarioFragileTaintUnderPod(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	// timeAdded as the node lifecycle controller and some providers set
	// it (kubectl taint leaves it empty): a second after now, so that it
	// is after the Pod's creation whatever the clocks' rounding.
	added := metav1.NewTime(time.Now().Add(time.Second).Truncate(time.Second))
	s.updateNode(nodes[1], func(n *corev1.Node) {
		tn := taint("dedicated", "db", corev1.TaintEffectNoSchedule)
		tn.TimeAdded = &added
		n.Spec.Taints = append(n.Spec.Taints, tn)
	})
	// The controller does not requeue the DaemonSet for a new NoSchedule
	// taint (controller-rules.md, "Status can go stale"): any update does.
	s.poke("agent")
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.NumberMisscheduled == 1 })
	// The controller kept the Pod: keptPods asserts it against the report.
	s.check("agent", expectation{findings: []string{f(report.MisscheduledPod, nodes[1])}, keptPods: []string{nodes[1]}})
	kept := s.livePodOn("agent", nodes[1])
	if kept == nil {
		t.Fatalf("the controller deleted the Pod on %s under a NoSchedule taint", nodes[1])
	}
	rep, _ := runPlugin(t, "-n", s.name, "agent")
	fd := findingOn(rep, s.name, "agent", report.MisscheduledPod, nodes[1])
	if fd == nil {
		t.Fatalf("no MisscheduledPod on %s", nodes[1])
	}
	if fd.Reason != report.ReasonFragileCoverage || fd.Severity != report.SeverityWarning || fd.Params.Detail != "untolerated taint dedicated=db:NoSchedule" ||
		fd.Params.State != report.StateTaintAddedUnderPod || fd.Since == nil || !fd.Since.Equal(added.Time) {
		t.Errorf("finding %+v: want FragileCoverage (warning) naming the taint, added under the Pod, since %v", fd, added.Time)
	}
	if !strings.Contains(fd.Message, "no replacement would be scheduled there") || !strings.Contains(fd.Suggestion, "kubectl taint node "+nodes[1]+" dedicated:NoSchedule-") {
		t.Errorf("message/suggestion:\n%s\n%s", fd.Message, fd.Suggestion)
	}

	// What the finding warns of: the Pod goes, nothing replaces it.
	if err := deletePod(s.ctx, s.name, kept.Name); err != nil {
		t.Fatal(err)
	}
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.NumberMisscheduled == 0 && len(pods) == 2
	})
	if p := s.livePodOn("agent", nodes[1]); p != nil {
		t.Errorf("the controller replaced the Pod on %s (%s): the coverage was not fragile", nodes[1], p.Name)
	}
	s.check("agent", expectation{})
}

// A nodeSelector label removed under a running daemon Pod: the controller
// gives shouldRun=false, shouldContinueRunning=false and deletes the Pod
// (NodeShouldRunDaemonPod: a failed node affinity never continues), so
// there is no fragile coverage to report, only a node no longer served.
func scenarioFragileLabelRemoved(t *testing.T, s *scenario) {
	var ns []*corev1.Node
	for i := 0; i < 3; i++ {
		n := s.newNode(fmt.Sprintf("n%d", i))
		n.Labels["pool"] = "agents"
		ns = append(ns, n)
	}
	s.createNodes(true, ns...)
	ds := s.newDaemonSet("agent")
	ds.Spec.Template.Spec.NodeSelector["pool"] = "agents"
	s.createDaemonSet(ds)
	s.settle("agent", allReady(3))
	s.updateNode(ns[1].Name, func(n *corev1.Node) { delete(n.Labels, "pool") })
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && len(pods) == 2
	})
	if p := s.livePodOn("agent", ns[1].Name); p != nil {
		t.Fatalf("the controller kept Pod %s on %s after its selector label was removed", p.Name, ns[1].Name)
	}
	s.check("agent", expectation{})
}

// A CSI node plugin whose Pod is gone from a node it no longer targets,
// while the node's CSINode still registers its driver, and a node where
// the plugin runs but the kubelet does not list the driver. kwok runs no
// kubelet: the test writes the CSINode objects a kubelet's plugin
// registration would (pkg/volume/csi/nodeinfomanager), and the CSIDriver
// a driver's installer would.
func scenarioFragileCSIPlugin(t *testing.T, s *scenario) {
	driver := s.name + ".csi.example.com"
	nodes := s.plainNodes(3)
	ds := s.newDaemonSet("csi-node")
	spec := &ds.Spec.Template.Spec
	// A node agent (its hostPath), at the priority real CSI node plugins run at.
	spec.PriorityClassName = "system-node-critical"
	spec.Containers = append(spec.Containers, corev1.Container{Name: "node-driver-registrar", Image: "registry.example/csi-node-driver-registrar:v2",
		Args: []string{"--csi-address=$(ADDRESS)", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)"},
		Env: []corev1.EnvVar{{Name: "ADDRESS", Value: "/csi/csi.sock"},
			{Name: "DRIVER_REG_SOCK_PATH", Value: "/var/lib/kubelet/plugins/" + driver + "/csi.sock"}}})
	spec.Volumes = []corev1.Volume{{Name: "plugin-dir", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/plugins/" + driver + "/"}}}}
	s.createDaemonSet(ds)
	s.settle("csi-node", allReady(3))

	ctx := s.ctx
	if _, err := cluster.Client.StorageV1().CSIDrivers().Create(ctx, &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: driver}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Client.StorageV1().CSIDrivers().Delete(context.Background(), driver, metav1.DeleteOptions{})
	})
	for i, n := range nodes {
		cn := &storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: n}}
		if i != 1 {
			// nodes[1]'s kubelet did not take the registration.
			cn.Spec.Drivers = []storagev1.CSINodeDriver{{Name: driver, NodeID: n}}
		}
		if _, err := cluster.Client.StorageV1().CSINodes().Create(ctx, cn, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cluster.Client.StorageV1().CSINodes().Delete(context.Background(), n, metav1.DeleteOptions{})
		})
	}
	// The plugin leaves nodes[2]: a NoExecute taint it does not tolerate.
	// The controller deletes its Pod there and will not recreate it; the
	// registration stays, as a kubelet's does when the plugin goes without
	// deregistering.
	s.updateNode(nodes[2], func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, taint("storage", "off", corev1.TaintEffectNoExecute))
	})
	s.settle("csi-node", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && len(pods) == 2
	})
	if p := s.livePodOn("csi-node", nodes[2]); p != nil {
		t.Fatalf("the controller kept Pod %s on %s under a NoExecute taint", p.Name, nodes[2])
	}
	s.check("csi-node", expectation{findings: []string{f(report.DriverWithoutPlugin, nodes[2]), f(report.PluginNotRegistered, nodes[1])}})
	rep, _ := runPlugin(t, "-n", s.name, "csi-node")
	if fd := findingOn(rep, s.name, "csi-node", report.DriverWithoutPlugin, nodes[2]); fd == nil || fd.Reason != report.ReasonCSIRegistered ||
		fd.Params.Other != driver || fd.Params.Rule != "Taint" || fd.Severity != report.SeverityError ||
		!strings.Contains(fd.Message, "--kubelet-registration-path=/var/lib/kubelet/plugins/"+driver+"/csi.sock") {
		t.Errorf("DriverWithoutPlugin on %s: %+v", nodes[2], fd)
	}
	if fd := findingOn(rep, s.name, "csi-node", report.PluginNotRegistered, nodes[1]); fd == nil || fd.Params.Other != driver || fd.Severity != report.SeverityWarning {
		t.Errorf("PluginNotRegistered on %s: %+v", nodes[1], fd)
	}
	for _, w := range rep.Warnings {
		if strings.Contains(w, driver) {
			t.Errorf("the driver's plugin is identified, yet: %s", w)
		}
	}
}

// A DRA kubelet plugin, where the rig's API server serves resource.k8s.io:
// a ResourceSlice published for a node the plugin's DaemonSet does not
// target. No DRA driver runs here: the test writes the slices its kubelet
// plugins would publish.
func scenarioFragileDRAPlugin(t *testing.T, s *scenario) {
	groups, err := cluster.Client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	served := false
	for _, g := range groups.Groups {
		for _, v := range g.Versions {
			served = served || (g.Name == "resource.k8s.io" && v.Version == "v1")
		}
	}
	if !served {
		t.Skip("the rig's API server does not serve resource.k8s.io/v1")
	}
	driver := s.name + ".example.com"
	var ns []*corev1.Node
	for i := 0; i < 2; i++ {
		n := s.newNode(fmt.Sprintf("n%d", i))
		if i == 0 {
			n.Labels["gpu"] = "true"
		}
		ns = append(ns, n)
	}
	s.createNodes(true, ns...)
	ds := s.newDaemonSet("gpu-plugin")
	ds.Spec.Template.Spec.NodeSelector["gpu"] = "true"
	ds.Spec.Template.Spec.PriorityClassName = "system-node-critical"
	ds.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "plugin-data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/plugins/" + driver}}}}
	s.createDaemonSet(ds)
	s.settle("gpu-plugin", allReady(1))
	for _, n := range ns {
		name := n.Name + "-" + driver
		node := n.Name
		rs := &resourcev1.ResourceSlice{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: resourcev1.ResourceSliceSpec{
			Driver: driver, NodeName: &node, Pool: resourcev1.ResourcePool{Name: node, ResourceSliceCount: 1},
			Devices: []resourcev1.Device{{Name: "gpu-0"}}}}
		if _, err := cluster.Client.ResourceV1().ResourceSlices().Create(s.ctx, rs, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cluster.Client.ResourceV1().ResourceSlices().Delete(context.Background(), name, metav1.DeleteOptions{})
		})
	}
	// The API server has the slices once a list sees them.
	if err := wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := cluster.Client.ResourceV1().ResourceSlices().List(ctx, metav1.ListOptions{})
		n := 0
		for _, it := range l.Items {
			if it.Spec.Driver == driver {
				n++
			}
		}
		return err == nil && n == 2, nil
	}); err != nil {
		t.Fatal(err)
	}
	s.check("gpu-plugin", expectation{findings: []string{f(report.DriverWithoutPlugin, ns[1].Name)}})
	rep, _ := runPlugin(t, "-n", s.name, "gpu-plugin")
	if fd := findingOn(rep, s.name, "gpu-plugin", report.DriverWithoutPlugin, ns[1].Name); fd == nil || fd.Reason != report.ReasonSlicePublished ||
		fd.Params.Other != driver || fd.Params.Resource != ns[1].Name+"-"+driver || fd.Params.Rule != "NodeSelector" {
		t.Errorf("DriverWithoutPlugin on %s: %+v", ns[1].Name, fd)
	}
}

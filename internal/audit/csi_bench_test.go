package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// BenchmarkAnalyzeNodePlugins is BenchmarkAnalyze's cluster with its node
// plugins registered: both CSI DaemonSets carry a registrar naming their
// driver, every node's CSINode lists both drivers, and every GPU node has a
// ResourceSlice of a DRA driver the device plugin serves. The cross-checks
// run in the same pass over nodes: compare with BenchmarkAnalyze.
func BenchmarkAnalyzeNodePlugins(b *testing.B) {
	snap := benchSnapshot(5000)
	registrar := func(driver string) corev1.Container {
		return corev1.Container{Name: "node-driver-registrar", Image: "registrar",
			Args: []string{"--csi-address=/csi/csi.sock", "--kubelet-registration-path=/var/lib/kubelet/plugins/" + driver + "/csi.sock"}}
	}
	for i := range snap.DaemonSets {
		spec := &snap.DaemonSets[i].Spec.Template.Spec
		// The stored revisions keep the Pods current: only the spec the
		// identification reads changes.
		switch snap.DaemonSets[i].Name {
		case "ebs-csi-node":
			spec.Containers = append(spec.Containers, registrar("ebs.csi.aws.com"))
		case "csi-node":
			spec.Containers = append(spec.Containers, registrar("csi.example.com"))
		case "nvidia-device-plugin":
			spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "plugin-data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/plugins/gpu.nvidia.com"}}})
		}
	}
	snap.Plugins.CSINodesRead, snap.Plugins.ResourceSlicesRead = true, true
	for i := range snap.Nodes {
		n := &snap.Nodes[i]
		snap.Plugins.CSINodes = append(snap.Plugins.CSINodes, model.CSINode{Node: n.Name, Drivers: []string{"csi.example.com", "ebs.csi.aws.com"}})
		if n.Labels["node-pool"] == "gpu" {
			snap.Plugins.ResourceSlices = append(snap.Plugins.ResourceSlices, model.ResourceSlice{Name: n.Name + "-gpu", Driver: "gpu.nvidia.com", Node: n.Name})
		}
	}
	rep := audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	if rep.Summary.ByType[report.DriverWithoutPlugin] == 0 {
		b.Fatalf("no DriverWithoutPlugin finding: %v", rep.Summary.ByType)
	}
	b.ReportAllocs()
	for b.Loop() {
		audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	}
	b.ReportMetric(float64(rep.Summary.ByType[report.DriverWithoutPlugin]), "noplugin")
}

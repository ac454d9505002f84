package storage_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// ebsNode is a CSI node plugin written as the aws-ebs-csi-driver chart
// writes it (its DaemonSet in test/corpus/must-gather-aws): the registrar
// names the registration path through $(DRIVER_REG_SOCK_PATH), the plugin
// directory is a hostPath.
func ebsNode(opts ...fixture.DSOpt) appsv1.DaemonSet {
	ds := fixture.DaemonSet("kube-system", "ebs-csi-node", opts...)
	spec := &ds.Spec.Template.Spec
	spec.Containers = append(spec.Containers, corev1.Container{Name: "node-driver-registrar", Image: "registrar",
		Args: []string{"--csi-address=$(ADDRESS)", "--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)", "--v=2"},
		Env:  []corev1.EnvVar{{Name: "ADDRESS", Value: "/csi/csi.sock"}, {Name: "DRIVER_REG_SOCK_PATH", Value: "/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock"}}})
	return ds
}

// hostpathPlugin is csi-driver-host-path's plugin: its registration
// directory (csi-hostpath) is not its driver's name; --drivername is.
func hostpathPlugin(withName bool) appsv1.DaemonSet {
	ds := fixture.DaemonSet("default", "csi-hostpathplugin")
	spec := &ds.Spec.Template.Spec
	args := []string{"--v=5", "--endpoint=$(CSI_ENDPOINT)", "--nodeid=$(KUBE_NODE_NAME)"}
	if withName {
		args = append(args, "--drivername=hostpath.csi.k8s.io")
	}
	spec.Containers[0].Args = args
	spec.Containers = append(spec.Containers, corev1.Container{Name: "node-driver-registrar", Image: "registrar",
		Args: []string{"--v=5", "--csi-address=/csi/csi.sock", "--kubelet-registration-path=/var/lib/kubelet/plugins/csi-hostpath/csi.sock"}})
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: "socket-dir", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/plugins/csi-hostpath"}}})
	return ds
}

func csiNodes(reg map[string][]string) func(s *model.Snapshot) {
	return func(s *model.Snapshot) {
		s.Plugins.CSINodesRead = true
		for _, n := range []string{"n1", "n2", "n3", "n4"} {
			if d, ok := reg[n]; ok {
				s.Plugins.CSINodes = append(s.Plugins.CSINodes, model.CSINode{Node: n, Drivers: d})
			}
		}
	}
}

func TestDriverWithoutPluginDetector(t *testing.T) {
	ebs := []string{"ebs.csi.aws.com"}
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3", fixture.WithTaint("storage", "off", corev1.TaintEffectNoExecute)), fixture.Node("n4")}
	detecttest.Run(t, report.DriverWithoutPlugin, []detecttest.Case{
		{
			Name:  "registered on a node the plugin DaemonSet no longer targets and has no Pod on: error, with the evidence",
			Nodes: nodes, DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2", "n4"),
			Edit: csiNodes(map[string][]string{"n1": ebs, "n2": ebs, "n3": ebs, "n4": ebs}),
			Want: []detecttest.Want{{Node: "n3", Severity: report.SeverityError, Cause: "CSI driver ebs.csi.aws.com registered where its node plugin does not run: untolerated taint storage=off:NoExecute",
				Message: []string{"CSI driver ebs.csi.aws.com is registered on node n3", "no Pod of its node plugin kube-system/ebs-csi-node runs there",
					"identified by container node-driver-registrar: --kubelet-registration-path=/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock", "cannot mount or unmount its volumes there"},
				Fix: []string{"add to the DaemonSet's Pod template tolerations", "the kubelet drops it when the plugin's registration socket goes away"}}},
		},
		{
			Name:  "a targeted node without the Pod is MissingPod's, not this",
			Nodes: nodes, DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2"),
			Edit: csiNodes(map[string][]string{"n4": ebs}),
		},
		{
			Name:  "not registered on the untargeted node: nothing to say",
			Nodes: nodes, DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2", "n4"),
			Edit: csiNodes(map[string][]string{"n1": ebs, "n2": ebs, "n4": ebs}),
		},
		{
			Name:  "registrations not read: nothing reported",
			Nodes: nodes, DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2", "n4"),
		},
		{
			Name: "CSINodes not read: the kubelet's csi.volume.kubernetes.io/nodeid annotation says the same",
			Nodes: func() []corev1.Node {
				out := []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3", fixture.WithTaint("storage", "off", corev1.TaintEffectNoExecute)), fixture.Node("n4")}
				for i := range out {
					if out[i].Name != "n4" { // n4's kubelet never registered a driver: unknown there
						out[i].Annotations = map[string]string{model.CSINodeIDAnnotation: `{"ebs.csi.aws.com":"i-0` + out[i].Name + `"}`}
					}
				}
				return out
			}(),
			DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2", "n4"),
			Want: []detecttest.Want{{Node: "n3", Severity: report.SeverityError,
				Message: []string{"CSI driver ebs.csi.aws.com is registered on node n3 (its csi.volume.kubernetes.io/nodeid annotation lists it; CSINodes were not read)"}}},
		},
		{
			Name:  "a registration directory that is not a driver's name identifies nothing; --drivername does",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("storage", "off", corev1.TaintEffectNoExecute))},
			DS:    hostpathPlugin(true), Pods: detecttest.PodsOn("n1"),
			Edit: csiNodes(map[string][]string{"n1": {"hostpath.csi.k8s.io"}, "n2": {"hostpath.csi.k8s.io"}}),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError, Message: []string{"identified by container csi-hostpathplugin: --drivername=hostpath.csi.k8s.io"}}},
		},
		{
			Name:  "without --drivername the hostpath plugin's driver cannot be told: unknown, no finding",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("storage", "off", corev1.TaintEffectNoExecute))},
			DS:    hostpathPlugin(false), Pods: detecttest.PodsOn("n1"),
			Edit: csiNodes(map[string][]string{"n1": {"hostpath.csi.k8s.io"}, "n2": {"hostpath.csi.k8s.io"}}),
		},
		{
			Name:  "a DRA kubelet plugin's data directory names its driver; a slice for a node it does not target is an error",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("gpu", "true")), fixture.Node("n2")},
			DS: func() appsv1.DaemonSet {
				ds := fixture.DaemonSet("dra", "gpu-kubelet-plugin", fixture.WithNodeSelector("gpu", "true"))
				ds.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "plugin-data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/lib/kubelet/plugins/gpu.example.com"}}}}
				return ds
			}(),
			Pods: detecttest.PodsOn("n1"),
			Edit: func(s *model.Snapshot) {
				s.Plugins.ResourceSlicesRead = true
				s.Plugins.ResourceSlices = []model.ResourceSlice{{Name: "n1-gpu-abc", Driver: "gpu.example.com", Node: "n1"}, {Name: "n2-gpu-xyz", Driver: "gpu.example.com", Node: "n2"}}
			},
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError, Cause: "DRA driver gpu.example.com publishes devices where its kubelet plugin does not run: nodeSelector gpu=true",
				Message: []string{"DRA driver gpu.example.com published ResourceSlice n2-gpu-xyz for node n2", "hostPath volume plugin-data: /var/lib/kubelet/plugins/gpu.example.com"},
				Fix:     []string{"kubectl label node n2 gpu=true --overwrite", "delete its ResourceSlices once no claim uses their devices"}}},
		},
	})
}

func TestPluginNotRegisteredDetector(t *testing.T) {
	ebs := []string{"ebs.csi.aws.com"}
	detecttest.Run(t, report.PluginNotRegistered, []detecttest.Case{
		{
			Name:  "a Ready plugin Pod on a node whose CSINode lacks the driver: warning",
			Nodes: detecttest.ReadyNodes("n1", "n2", "n3"), DS: ebsNode(), Pods: detecttest.PodsOn("n1", "n2", "n3"),
			// n3 has no CSINode object: unknown there, not "not registered".
			Edit: csiNodes(map[string][]string{"n1": ebs, "n2": {"efs.csi.aws.com"}}),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Cause: "CSI driver ebs.csi.aws.com not registered with the kubelet",
				Message: []string{"runs and is Ready on node n2, but the node's CSINode does not list driver ebs.csi.aws.com"},
				Fix:     []string{"kubectl logs -n kube-system ebs-csi-node-"}}},
		},
		{
			Name:  "a plugin Pod that is not Ready is UnhealthyPod's",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: ebsNode(),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1"), fixture.Pod(ds, "n2", fixture.NotReadyPod())}
			},
			Edit: csiNodes(map[string][]string{"n1": ebs, "n2": {}}),
		},
	})
}

// What cannot be checked is said: a registrar whose driver cannot be told,
// registrations not read, and drivers no DaemonSet is the plugin of.
func TestPluginUnknowns(t *testing.T) {
	nodes := detecttest.ReadyNodes("n1")
	ebs, hp := ebsNode(), hostpathPlugin(false)
	pods := append(detecttest.PodsOn("n1")(&ebs), detecttest.PodsOn("n1")(&hp)...)
	unknownOf := func(rep *report.Report, name string) string {
		for _, d := range rep.DaemonSets {
			if d.Name == name {
				return strings.Join(d.Unknown, "\n")
			}
		}
		return ""
	}
	// Not read: the CSI plugin's registrations are unknown.
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ebs, hp}, pods, fixture.Revision(&ebs, 1), fixture.Revision(&hp, 1))
	s.Plugins.CSIDriversRead, s.Plugins.CSIDrivers = true, []string{"ebs.csi.aws.com"}
	rep := detecttest.Analyze(s, audit.Options{})
	if got := unknownOf(rep, "ebs-csi-node"); got != "CSI node plugin: csinodes not read (not in the input, or not served); its driver's registrations on nodes without its Pod are unknown" {
		t.Errorf("ebs-csi-node unknown:\n%s", got)
	}
	if got := unknownOf(rep, "csi-hostpathplugin"); !strings.Contains(got, "CSI node plugin: csinodes not read (not in the input, or not served); the driver of its registrar's /var/lib/kubelet/plugins/csi-hostpath/csi.sock and its registrations") {
		t.Errorf("csi-hostpathplugin unknown:\n%s", got)
	}
	// Read, and refused: the gap's reason with its rule.
	s = detecttest.Cluster(nodes, []appsv1.DaemonSet{ebs, hp}, pods, fixture.Revision(&ebs, 1), fixture.Revision(&hp, 1))
	s.Plugins.CSIDriversRead, s.Plugins.CSIDrivers = true, []string{"ebs.csi.aws.com"}
	s.MarkMissing(model.CSINodes, "forbidden: cannot list csinodes", "apiGroups: [storage.k8s.io], resources: [csinodes], verbs: [get, list]")
	rep = detecttest.Analyze(s, audit.Options{})
	if got := unknownOf(rep, "ebs-csi-node"); !strings.Contains(got, "CSI node plugin: forbidden: cannot list csinodes") {
		t.Errorf("ebs-csi-node unknown when refused:\n%s", got)
	}
	// Registered drivers without an identified plugin: a warning each.
	s = detecttest.Cluster(nodes, []appsv1.DaemonSet{ebs, hp}, pods, fixture.Revision(&ebs, 1), fixture.Revision(&hp, 1))
	csiNodes(map[string][]string{"n1": {"ebs.csi.aws.com", "hostpath.csi.k8s.io"}})(s)
	rep = detecttest.Analyze(s, audit.Options{})
	// Read: the registrar's directory that names no driver is said as such.
	if got := unknownOf(rep, "csi-hostpathplugin"); !strings.Contains(got, "CSI node plugin of an unidentified driver: its registrar registers /var/lib/kubelet/plugins/csi-hostpath/csi.sock, and no CSINode or CSIDriver names a driver after that directory") {
		t.Errorf("csi-hostpathplugin unknown with registrations read:\n%s", got)
	}
	if got := unknownOf(rep, "ebs-csi-node"); got != "" {
		t.Errorf("ebs-csi-node is identified and checked, yet: %s", got)
	}
	warned := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(warned, "node plugin of driver hostpath.csi.k8s.io (registered or publishing on 1 nodes) unknown") || strings.Contains(warned, "driver ebs.csi.aws.com") {
		t.Errorf("warnings:\n%s", warned)
	}
}

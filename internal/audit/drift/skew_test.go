package drift_test

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

// withImage sets the DaemonSet's (first) container image.
func withImage(image string) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = image }
}

// kubelet sets the node's kubelet version.
func kubelet(v string) fixture.NodeOpt {
	return func(n *corev1.Node) { n.Status.NodeInfo.KubeletVersion = v }
}

func serverVersion(v string) func(*model.Snapshot) {
	return func(s *model.Snapshot) { s.ServerVersion = v }
}

func TestVersionSkewDetector(t *testing.T) {
	proxy := func(tag string) appsv1.DaemonSet {
		return fixture.DaemonSet("kube-system", "kube-proxy", withImage("registry.k8s.io/kube-proxy:"+tag))
	}
	detecttest.Run(t, report.VersionSkew, []detecttest.Case{
		{
			Name:  "kube-proxy at the API server's version, kubelets within three minors: no finding",
			Nodes: []corev1.Node{fixture.Node("n1", kubelet("v1.33.2")), fixture.Node("n2", kubelet("v1.30.0"))},
			DS:    proxy("v1.33.4"), Pods: detecttest.PodsOn("n1", "n2"), Edit: serverVersion("v1.33.1"),
		},
		{
			Name:  "kube-proxy newer than the API server: on every node",
			Nodes: []corev1.Node{fixture.Node("n1", kubelet("v1.33.2")), fixture.Node("n2", kubelet("v1.33.2"))},
			DS:    proxy("v1.34.0"), Pods: detecttest.PodsOn("n1", "n2"), Edit: serverVersion("v1.33.1"),
			Want: []detecttest.Want{
				{Node: "n1", Severity: report.SeverityWarning, Cause: "kube-proxy 1.34 is newer than the API server 1.33 (the skew policy: never newer)",
					Fix: []string{"set the kube-proxy image to the API server's minor version", "kubectl get nodes -o"}},
				{Node: "n2", Severity: report.SeverityWarning, Cause: "kube-proxy 1.34 is newer than the API server 1.33 (the skew policy: never newer)"},
			},
		},
		{
			Name:  "kube-proxy four minors older than the API server, and than a kubelet",
			Nodes: []corev1.Node{fixture.Node("n1", kubelet("v1.33.2")), fixture.Node("n2", kubelet("v1.31.0"))},
			DS:    proxy("v1.29.0-minimal-eksbuild.1"), Pods: detecttest.PodsOn("n1", "n2"), Edit: serverVersion("v1.33.1-eks-1234"),
			Want: []detecttest.Want{
				{Node: "n1", Severity: report.SeverityWarning, Cause: "kube-proxy 1.29 is 4 minor versions older than the API server 1.33 (the skew policy: at most 3)"},
				{Node: "n1", Severity: report.SeverityWarning, Cause: "kube-proxy 1.29 is 4 minor versions from kubelet 1.33 on its node (the skew policy: at most 3)",
					Message: []string{"runs kube-proxy v1.29.0 beside kubelet v1.33.2, 4 minor versions apart"}},
				{Node: "n2", Severity: report.SeverityWarning, Cause: "kube-proxy 1.29 is 4 minor versions older than the API server 1.33 (the skew policy: at most 3)"},
			},
		},
		{
			Name:  "before 1.25 the policy allowed two minors",
			Nodes: []corev1.Node{fixture.Node("n1", kubelet("v1.24.0"))},
			DS:    proxy("v1.21.3"), Pods: detecttest.PodsOn("n1"), Edit: serverVersion("v1.23.0"),
			Want: []detecttest.Want{
				{Node: "n1", Severity: report.SeverityWarning, Cause: "kube-proxy 1.21 is 3 minor versions from kubelet 1.24 on its node (the skew policy: at most 2)"},
			},
		},
		{
			Name:  "an image tagged like a Kubernetes version that is not kube-proxy is not judged",
			Nodes: []corev1.Node{fixture.Node("n1", kubelet("v1.33.2"))},
			DS:    fixture.DaemonSet("kube-system", "ebs-csi-node", withImage("public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.45.0")),
			Pods:  detecttest.PodsOn("n1"), Edit: serverVersion("v1.33.1"),
		},
	})
}

// Versions that cannot be read are unknown, never guessed: no finding,
// and the DaemonSet's report says what could not be judged.
func TestVersionSkewUnknownVersions(t *testing.T) {
	ds := fixture.DaemonSet("kube-system", "kube-proxy", withImage("registry.k8s.io/kube-proxy:v1.20.0"))
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2", kubelet("v1.20.1"))}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, detecttest.PodsOn("n1", "n2")(&ds), fixture.Revision(&ds, 1))
	r := detecttest.Analyze(s, audit.Options{})
	for _, f := range detecttest.FindingsOf(r, "kube-system/kube-proxy") {
		if f.Type == report.VersionSkew {
			t.Errorf("finding with unknown versions: %s", f.Message)
		}
	}
	unknown := strings.Join(r.DaemonSets[0].Unknown, "\n")
	for _, want := range []string{"kube-proxy version skew against the API server: the server version is unknown",
		"kube-proxy version skew against the kubelet: 1 node reports no kubelet version"} {
		if !strings.Contains(unknown, want) {
			t.Errorf("unknown lacks %q:\n%s", want, unknown)
		}
	}
}

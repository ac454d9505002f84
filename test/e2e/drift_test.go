//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// Drift within a DaemonSet and platforms, on the real control plane.
//
// What kwok writes, and what the tests write instead (checked in
// sigs.k8s.io/kwok@v0.8.0 kustomize/stage):
//   - pod/fast/pod-ready.yaml writes containerStatuses without an imageID,
//     and only to Pending Pods that are not Ready: a Running, Ready Pod's
//     status is left alone, so an imageID the test writes through the
//     status subresource stays (the test reads it back to be sure).
//   - node/fast/node-initialize.yaml sets nodeInfo.kubeletVersion to
//     "kwok-v0.8.0" unless the Node already has one ({{ or
//     $nodeInfo.kubeletVersion $kwokVersion }}), and likewise architecture
//     ("amd64") and operatingSystem ("linux"): a node created with a
//     kubeletVersion keeps it, and a default kwok node's version is no
//     Kubernetes version (daemoncheck calls it unknown).
//   - a Pod on a node kwok does not manage is never touched by kwok: the
//     platform scenario's arm64 node is such a node (its heartbeat comes
//     from the test's fake kubelet), and the test writes its Pod's status
//     as a kubelet on containerd would.

func TestDrift(t *testing.T) {
	runScenarios(t, "", []namedScenario{
		{"drift-image-digest", scenarioImageDigestDrift},
		{"drift-ondelete-pools", scenarioOnDeleteStragglers},
		{"drift-kube-proxy-skew", scenarioKubeProxySkew},
		{"drift-platform", scenarioPlatformFailure},
		{"drift-whatif-platform", scenarioWhatIfNewPlatform},
	})
}

const (
	driftDigestA = "sha256:aaaaaaaaaaaa0000000000000000000000000000000000000000000000000001"
	driftDigestB = "sha256:bbbbbbbbbbbb0000000000000000000000000000000000000000000000000002"
)

// writePodStatus applies fn to the Pod's status through the status
// subresource (what the kubelet would report), retrying on conflicts.
func (s *scenario) writePodStatus(name string, fn func(*corev1.Pod)) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cluster.Client.CoreV1().Pods(s.name).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		fn(p)
		if _, err := cluster.Client.CoreV1().Pods(s.name).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		s.t.Fatalf("write status of Pod %s: %v", name, err)
	}
}

// podOn returns the DaemonSet's Pod on node.
func (s *scenario) podOn(dsName, node string) corev1.Pod {
	s.t.Helper()
	pods, err := daemonPods(s.ctx, s.getDaemonSet(dsName))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, p := range pods {
		if podNode(&p) == node {
			return p
		}
	}
	s.t.Fatalf("no Pod of %s on node %s", dsName, node)
	return corev1.Pod{}
}

// findingsOfType returns the report's findings of one type for the
// DaemonSet.
func findingsOfType(dr *report.DaemonSetReport, typ report.FindingType) []report.Finding {
	var out []report.Finding
	if dr == nil {
		return nil
	}
	for _, f := range dr.Findings {
		if f.Type == typ {
			out = append(out, f)
		}
	}
	return out
}

// scenarioImageDigestDrift: three Pods of one revision; the runtime on one
// node pulled the tag after it moved. The imageIDs are the kubelet's to
// report; kwok reports none, so the test writes them (as the kubelet would)
// and checks kwok left them.
func scenarioImageDigestDrift(t *testing.T, s *scenario) {
	nodes := s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(3))
	for i, n := range nodes {
		id := "registry.example/agent@" + driftDigestA
		if i == 2 {
			id = "registry.example/agent@" + driftDigestB
		}
		p := s.podOn("agent", n)
		s.writePodStatus(p.Name, func(p *corev1.Pod) {
			for j := range p.Status.ContainerStatuses {
				p.Status.ContainerStatuses[j].ImageID = id
			}
		})
	}
	s.settle("agent", allReady(3))
	if got := s.podOn("agent", nodes[2]).Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(got, driftDigestB) {
		t.Fatalf("kwok overwrote the imageID written through the status subresource: %q", got)
	}
	dr := s.check("agent", expectation{findings: []string{f(report.ImageDrift, nodes[2])}})
	for _, fd := range findingsOfType(dr, report.ImageDrift) {
		if fd.Params.Digest != driftDigestB || fd.Severity != report.SeverityWarning || fd.Reason != report.ReasonDigestDiffers {
			t.Errorf("drift finding: digest %q severity %s reason %s", fd.Params.Digest, fd.Severity, fd.Reason)
		}
		for _, want := range []string{"sha256:aaaaaaaaaaaa on 2 nodes", "sha256:bbbbbbbbbbbb on 1 node"} {
			if !strings.Contains(fd.Message, want) {
				t.Errorf("message lacks %q: %s", want, fd.Message)
			}
		}
		if !strings.Contains(fd.Suggestion, "kubectl set image daemonset/agent -n "+s.name+" agent=registry.example/agent:1@"+driftDigestA) {
			t.Errorf("fix does not pin the digest most nodes run: %s", fd.Suggestion)
		}
	}
}

// scenarioOnDeleteStragglers: an OnDelete rollout left old Pods in two
// pools; the real controller replaced only the Pod that was deleted.
func scenarioOnDeleteStragglers(t *testing.T, s *scenario) {
	var ns []*corev1.Node
	for i, pool := range []string{"general", "general", "gpu"} {
		n := s.newNode("n" + string(rune('0'+i)))
		n.Labels["karpenter.sh/nodepool"] = pool
		ns = append(ns, n)
	}
	s.createNodes(true, ns...)
	ds := s.newDaemonSet("agent")
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	s.createDaemonSet(ds)
	s.settle("agent", allReady(3))
	s.updateDaemonSet("agent", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image += "-v2" })
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool { return ds.Status.UpdatedNumberScheduled == 0 })
	if err := deletePod(s.ctx, s.name, s.podOn("agent", ns[1].Name).Name); err != nil {
		t.Fatal(err)
	}
	s.settle("agent", func(ds *appsv1.DaemonSet, _ []corev1.Pod) bool {
		return ds.Status.UpdatedNumberScheduled == 1 && ds.Status.NumberReady == 3
	})
	dr := s.check("agent", expectation{findings: []string{f(report.OutdatedPod, ns[0].Name), f(report.OutdatedPod, ns[2].Name)}})
	pools := map[string]string{}
	for _, fd := range findingsOfType(dr, report.OutdatedPod) {
		if fd.Reason != report.ReasonOnDeleteStraggler || fd.Since == nil {
			t.Errorf("%s: reason %s since %v, want OnDeleteStraggler with the Pod's age", fd.Node, fd.Reason, fd.Since)
		}
		pools[fd.Node] = fd.Params.Pool
		if !strings.Contains(fd.Cause, "left in pool "+fd.Params.Pool) {
			t.Errorf("cause does not name the pool: %s", fd.Cause)
		}
	}
	if pools[ns[0].Name] != "general" || pools[ns[2].Name] != "gpu" {
		t.Errorf("pools %v, want general and gpu", pools)
	}
	// One problem per pool.
	rep, _ := runPlugin(t, "-n", s.name, "agent")
	perPool := 0
	for _, p := range rep.Problems {
		if p.Type == string(report.OutdatedPod) {
			perPool++
		}
	}
	if perPool != 2 {
		t.Errorf("%d OutdatedPod problems, want one per pool (2)", perPool)
	}
}

// scenarioKubeProxySkew: kube-proxy at the API server's version (the rig
// runs v1.37.2) beside a kubelet four minor versions older, and one newer
// than the API server. The kubelet versions are the node's own: one node is
// created with v1.33.0 (kwok keeps it), the others get kwok's "kwok-v0.8.0",
// which is no Kubernetes version.
func scenarioKubeProxySkew(t *testing.T, s *scenario) {
	old := s.newNode("old")
	old.Status.NodeInfo.KubeletVersion = "v1.33.0"
	s.createNodes(true, old, s.newNode("cur"))
	n, err := cluster.Client.CoreV1().Nodes().Get(s.ctx, old.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := n.Status.NodeInfo.KubeletVersion; v != "v1.33.0" {
		t.Fatalf("kwok replaced the node's kubelet version: %q", v)
	}
	proxy := s.newDaemonSet("kube-proxy")
	proxy.Spec.Template.Spec.Containers[0].Image = "registry.k8s.io/kube-proxy:" + rig.KubernetesVersion
	s.createDaemonSet(proxy)
	s.settle("kube-proxy", allReady(2))
	dr := s.check("kube-proxy", expectation{findings: []string{f(report.VersionSkew, old.Name)}})
	for _, fd := range findingsOfType(dr, report.VersionSkew) {
		if fd.Reason != report.ReasonKubeletSkew || fd.Params.PeerVersion != "v1.33.0" {
			t.Errorf("skew finding: reason %s peer %q", fd.Reason, fd.Params.PeerVersion)
		}
	}
	if dr != nil && !strings.Contains(strings.Join(dr.Unknown, "\n"), "kube-proxy version skew against the kubelet: 1 node reports no kubelet version") {
		t.Errorf("the kwok node's version is not said to be unknown: %v", dr.Unknown)
	}

	newer := s.newDaemonSet("kube-proxy-next")
	newer.Spec.Template.Spec.Containers[0].Image = "registry.k8s.io/kube-proxy:v1.38.0"
	s.createDaemonSet(newer)
	s.settle("kube-proxy-next", allReady(2))
	dr = s.check("kube-proxy-next", expectation{findings: []string{f(report.VersionSkew, old.Name), f(report.VersionSkew, s.nodeName("cur"))}})
	reasons := map[report.Reason]int{}
	for _, fd := range findingsOfType(dr, report.VersionSkew) {
		reasons[fd.Reason]++
	}
	// v1.38 beside v1.33 is 5 minors apart as well: two findings on "old".
	if reasons[report.ReasonNewerThanAPIServer] != 2 || reasons[report.ReasonKubeletSkew] != 1 {
		t.Errorf("reasons %v, want NewerThanAPIServer on both nodes and KubeletSkew on the old one", reasons)
	}
}

// scenarioPlatformFailure: a DaemonSet without an arch constraint on a
// cluster with amd64 (kwok) nodes and an arm64 node. The image has no arm64
// variant: the kubelet on the arm64 node reports the pull error containerd
// returns. That node is not kwok's (kwok would report the Pod Running), so
// its Pod stays Pending until the test writes the kubelet's status.
func scenarioPlatformFailure(t *testing.T, s *scenario) {
	s.plainNodes(2)
	arm := s.newFrozenNode("arm", nil)
	delete(arm.Annotations, rig.FakeNodeAnnotation)
	arm.Labels[corev1.LabelArchStable] = "arm64"
	arm.Status.NodeInfo = corev1.NodeSystemInfo{Architecture: "arm64", OperatingSystem: "linux", KubeletVersion: rig.KubernetesVersion}
	s.createNodes(true, arm)
	s.createDaemonSet(s.newDaemonSet("agent"))
	var podName string
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		for _, p := range pods {
			if podNode(&p) == arm.Name && p.Spec.NodeName != "" {
				podName = p.Name
			}
		}
		return ds.Status.NumberReady == 2 && podName != ""
	})
	const pullErr = `rpc error: code = NotFound desc = failed to pull and unpack image "registry.example/agent:1": no match for platform in manifest: not found`
	s.writePodStatus(podName, func(p *corev1.Pod) {
		now := metav1.Now()
		p.Status.Phase = corev1.PodPending
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now},
			{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: now},
		}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "agent", Image: "registry.example/agent:1",
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: pullErr}}}}
	})
	s.settle("agent", nil)
	dr := s.check("agent", expectation{findings: []string{f(report.UnhealthyPod, arm.Name)}})
	for _, fd := range findingsOfType(dr, report.UnhealthyPod) {
		if fd.Severity != report.SeverityError || fd.Reason != report.ReasonNoPlatformVariant || fd.Params.Platform != "linux/arm64" {
			t.Errorf("finding: severity %s reason %s platform %q", fd.Severity, fd.Reason, fd.Params.Platform)
		}
		if fd.Cause != "image registry.example/agent:1 has no linux/arm64 variant" {
			t.Errorf("cause %q", fd.Cause)
		}
		if !strings.Contains(fd.Suggestion, `"nodeSelector":{"kubernetes.io/arch":"amd64"}`) || !strings.Contains(fd.Suggestion, "multi-arch image") {
			t.Errorf("fix %q", fd.Suggestion)
		}
	}
}

// scenarioWhatIfNewPlatform: the DaemonSet's Pods run on the kwok nodes
// (amd64, kwok's nodeInfo default); a proposed arm64 node would run it on a
// platform none of its Pods has run on: a warning, which does not fail;
// an amd64 node brings nothing new.
func scenarioWhatIfNewPlatform(t *testing.T, s *scenario) {
	s.plainNodes(2)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", allReady(2))
	dir := t.TempDir()
	for _, c := range []struct {
		arch string
		want int
	}{{"arm64", 1}, {"amd64", 0}} {
		n := s.newNode("proposed-" + c.arch)
		n.Labels[corev1.LabelArchStable] = c.arch
		n.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}
		rep, code := runWhatIf(t, "-n", s.name, writeManifest(t, dir, c.arch+".yaml", n))
		var got []report.WhatIfFinding
		for _, p := range rep.Pools {
			for _, f := range p.Findings {
				if f.Type == report.WhatIfNewPlatform {
					got = append(got, f)
				}
			}
		}
		if len(got) != c.want {
			t.Errorf("%s node: %d NewPlatform findings, want %d: %+v", c.arch, len(got), c.want, got)
		}
		for _, f := range got {
			if f.DaemonSet != s.name+"/agent" || f.Severity != report.SeverityWarning || f.Failing || code != 0 {
				t.Errorf("%s node: finding %+v, exit %d; want a warning on %s/agent that does not fail", c.arch, f, code, s.name)
			}
			if !strings.Contains(f.Message, "linux/arm64") || !strings.Contains(f.Message, "they run on linux/amd64") {
				t.Errorf("message: %s", f.Message)
			}
		}
	}
}

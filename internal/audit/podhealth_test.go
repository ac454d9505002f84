package audit_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// podOn returns one Pod of ds on node n1, built with opts.
func podOn(opts ...fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
	return func(ds *appsv1.DaemonSet) []corev1.Pod { return []corev1.Pod{fixture.Pod(ds, "n1", opts...)} }
}

func TestPendingPodDetector(t *testing.T) {
	containerCreating := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		p.Status.ContainerStatuses[0].Ready = false
		p.Status.Conditions[1].Status = corev1.ConditionFalse
	}
	noTarget := func(p *corev1.Pod) { p.Spec.NodeName, p.Spec.Affinity = "", nil }
	testDetector(t, report.PendingPod, []detectorCase{
		{
			name:  "Running and Ready: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"),
		},
		{
			name:  "unschedulable for lack of cpu: lower the requests or raise the priority",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: podOn(fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu.")),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "unschedulable: Insufficient cpu on the node",
				message: []string{"for node n1", "Insufficient cpu"},
				fix:     []string{"free resources on node n1 or lower the DaemonSet's resource requests", "system-node-critical"}}},
		},
		{
			name:  "unschedulable for a taken host port: change one of the ports",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: podOn(fixture.Unscheduled("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "unschedulable: a host port is taken on the node",
				fix: []string{"another Pod on node n1 uses the same hostPort"}}},
		},
		{
			name:  "bound but not started: ask the kubelet",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podOn(containerCreating),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "bound but not started: ContainerCreating",
				fix: []string{"see what the kubelet on n1 reports: kubectl describe pod -n ns agent-"}}},
		},
		{
			name:  "Pod with no target node is not the controller's",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1"), fixture.Pod(ds, "n1", fixture.Named("agent-manual"), noTarget)}
			},
			want: []wantFinding{{severity: report.SeverityError, cause: "no target node: not created by the DaemonSet controller",
				message: []string{"Pod agent-manual has no target node"},
				fix:     []string{"kubectl delete pod -n ns agent-manual"}}},
		},
	})
}

func TestUnhealthyPodDetector(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	testDetector(t, report.UnhealthyPod, []detectorCase{
		{
			name:  "Running and Ready: no finding",
			nodes: readyNodes("n1"), ds: ds, pods: podsOn("n1"),
		},
		{
			name:  "CrashLoopBackOff: read the previous logs",
			nodes: readyNodes("n1"), ds: ds, pods: podOn(fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 7)),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "CrashLoopBackOff",
				message: []string{"on node n1", "CrashLoopBackOff"},
				fix:     []string{"read its logs: kubectl logs -n ns agent-", "--previous"}}},
		},
		{
			name:  "ImagePullBackOff names the image",
			nodes: readyNodes("n1"), ds: ds, pods: podOn(fixture.Waiting("ImagePullBackOff", "Back-off pulling image", 0)),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "ImagePullBackOff: image registry.example.com/agent:v1",
				fix: []string{"check that image registry.example.com/agent:v1 exists and can be pulled"}}},
		},
		{
			name:  "OOMKilled: raise the memory limit",
			nodes: readyNodes("n1"), ds: ds, pods: podOn(fixture.OOMKilled(3)),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "OOMKilled (memory limit too low)",
				message: []string{"3 restarts"}, fix: []string{"raise the container's memory limit"}}},
		},
		{
			name:  "running but not Ready: check the readiness probe",
			nodes: readyNodes("n1"), ds: ds, pods: podOn(fixture.NotReadyPod()),
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "running but not Ready",
				fix: []string{"check its readiness probe and logs: kubectl describe pod -n ns agent-"}}},
		},
		{
			name:  "unhealthy Pod on a node the DaemonSet no longer targets is misscheduled, not unhealthy",
			nodes: []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))}, ds: ds,
			pods: podOn(fixture.NotReadyPod()),
		},
	})
}

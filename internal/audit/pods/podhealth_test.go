package pods_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestPendingPodDetector(t *testing.T) {
	containerCreating := func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
		p.Status.ContainerStatuses[0].Ready = false
		p.Status.Conditions[1].Status = corev1.ConditionFalse
	}
	noTarget := func(p *corev1.Pod) { p.Spec.NodeName, p.Spec.Affinity = "", nil }
	detecttest.Run(t, report.PendingPod, []detecttest.Case{
		{
			Name:  "Running and Ready: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "unschedulable for lack of cpu: lower the requests or raise the priority",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: detecttest.PodOn(fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu.")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "unschedulable: Insufficient cpu on the node",
				Message: []string{"for node n1", "Insufficient cpu"},
				Fix:     []string{"free resources on node n1 or lower the DaemonSet's resource requests", "system-node-critical"}}},
		},
		{
			Name:  "unschedulable for a taken host port: change one of the ports",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: detecttest.PodOn(fixture.Unscheduled("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "unschedulable: a host port is taken on the node",
				Fix: []string{"another Pod on node n1 uses the same hostPort"}}},
		},
		{
			Name:  "bound but not started: ask the kubelet",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodOn(containerCreating),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "bound but not started: ContainerCreating",
				Fix: []string{"see what the kubelet on n1 reports: kubectl describe pod -n ns agent-"}}},
		},
		{
			Name:  "Pod with no target node is not the controller's",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1"), fixture.Pod(ds, "n1", fixture.Named("agent-manual"), noTarget)}
			},
			Want: []detecttest.Want{{Severity: report.SeverityError, Cause: "no target node: not created by the DaemonSet controller",
				Message: []string{"Pod agent-manual has no target node"},
				Fix:     []string{"kubectl delete pod -n ns agent-manual"}}},
		},
	})
}

func TestUnhealthyPodDetector(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	detecttest.Run(t, report.UnhealthyPod, []detecttest.Case{
		{
			Name:  "Running and Ready: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "CrashLoopBackOff: read the previous logs",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: detecttest.PodOn(fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 7)),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "CrashLoopBackOff",
				Message: []string{"on node n1", "CrashLoopBackOff"},
				Fix:     []string{"read its logs: kubectl logs -n ns agent-", "--previous"}}},
		},
		{
			Name:  "ImagePullBackOff names the image",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: detecttest.PodOn(fixture.Waiting("ImagePullBackOff", "Back-off pulling image", 0)),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "ImagePullBackOff: image registry.example.com/agent:v1",
				Fix: []string{"check that image registry.example.com/agent:v1 exists and can be pulled"}}},
		},
		{
			Name:  "OOMKilled: raise the memory limit",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: detecttest.PodOn(fixture.OOMKilled(3)),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "OOMKilled (memory limit too low)",
				Message: []string{"3 restarts"}, Fix: []string{"raise the container's memory limit"}}},
		},
		{
			Name:  "running but not Ready: check the readiness probe",
			Nodes: detecttest.ReadyNodes("n1"), DS: ds, Pods: detecttest.PodOn(fixture.NotReadyPod()),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "running but not Ready",
				Fix: []string{"check its readiness probe and logs: kubectl describe pod -n ns agent-"}}},
		},
		{
			Name:  "unhealthy Pod on a node the DaemonSet no longer targets is misscheduled, not unhealthy",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule))}, DS: ds,
			Pods: detecttest.PodOn(fixture.NotReadyPod()),
		},
	})
}

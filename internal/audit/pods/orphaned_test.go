package pods_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestOrphanedPodDetector(t *testing.T) {
	detecttest.Run(t, report.OrphanedPod, []detecttest.Case{
		{
			Name:  "Pods only on existing nodes: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "Pod bound to a deleted node is left to the pod garbage collector",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "gone"),
			Want: []detecttest.Want{{Node: "gone", Severity: report.SeverityWarning, Cause: "bound to a node that no longer exists",
				Message: []string{"is bound to node gone, which no longer exists"},
				Fix:     []string{"pod garbage collector", "kubectl delete pod -n ns agent-"}}},
		},
		{
			Name:  "unbound Pod aimed at a deleted node is the DaemonSet controller's to delete",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1"), fixture.Pod(ds, "gone", fixture.Unscheduled("0/1 nodes are available"))}
			},
			Want: []detecttest.Want{{Node: "gone", Severity: report.SeverityWarning,
				Message: []string{"is not scheduled and aimed at node gone, which no longer exists", "deletes it at its next sync"},
				Fix:     []string{"the DaemonSet controller is not syncing", "kubectl describe -n ns daemonset/agent"}}},
		},
		{
			Name:  "nodes not read: a Pod's node cannot be judged deleted",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "gone"),
			Edit: func(s *model.Snapshot) { s.Nodes = nil; s.MarkMissing(model.Nodes, "forbidden", "list nodes") },
		},
	})
}

package audit_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestOrphanedPodDetector(t *testing.T) {
	testDetector(t, report.OrphanedPod, []detectorCase{
		{
			name:  "Pods only on existing nodes: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "Pod bound to a deleted node is left to the pod garbage collector",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "gone"),
			want: []wantFinding{{node: "gone", severity: report.SeverityWarning, cause: "bound to a node that no longer exists",
				message: []string{"is bound to node gone, which no longer exists"},
				fix:     []string{"pod garbage collector", "kubectl delete pod -n ns agent-"}}},
		},
		{
			name:  "unbound Pod aimed at a deleted node is the DaemonSet controller's to delete",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1"), fixture.Pod(ds, "gone", fixture.Unscheduled("0/1 nodes are available"))}
			},
			want: []wantFinding{{node: "gone", severity: report.SeverityWarning,
				message: []string{"is not scheduled and aimed at node gone, which no longer exists", "deletes it at its next sync"},
				fix:     []string{"the DaemonSet controller is not syncing", "kubectl describe -n ns daemonset/agent"}}},
		},
		{
			name:  "nodes not read: a Pod's node cannot be judged deleted",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "gone"),
			edit: func(s *model.Snapshot) { s.Nodes = nil; s.MarkMissing(model.Nodes, "forbidden", "list nodes") },
		},
	})
}

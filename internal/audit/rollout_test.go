package audit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestRolloutStuckDetector(t *testing.T) {
	rolling := fixture.DaemonSet("ns", "agent", fixture.Generation(2))
	// updated puts a generation-2 Pod on n1, built with opts, and leaves
	// the generation-1 Pod on n2.
	updated := func(opts ...fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			return []corev1.Pod{fixture.Pod(ds, "n1", append([]fixture.PodOpt{fixture.AtGeneration(ds, 2)}, opts...)...), fixture.Pod(ds, "n2")}
		}
	}
	testDetector(t, report.RolloutStuck, []detectorCase{
		{
			name:  "every node updated: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "new Pod ready two minutes ago: the rollout is moving, no finding",
			nodes: readyNodes("n1", "n2"), ds: rolling, pods: updated(fixture.PodCreatedAgo(2 * time.Minute)),
		},
		{
			name:  "new Pod crash-looping uses the maxUnavailable budget up",
			nodes: readyNodes("n1", "n2"), ds: rolling, pods: updated(fixture.Waiting("CrashLoopBackOff", "back-off", 4)),
			want: []wantFinding{{severity: report.SeverityError,
				message: []string{"the rolling update cannot progress: 1 unavailable of maxUnavailable 1", "1 node still on an old revision (n2)", "on n1: CrashLoopBackOff"},
				fix:     []string{"kubectl rollout undo daemonset/agent -n ns"}}},
		},
		{
			name:  "no node updated for hours: stalled",
			nodes: readyNodes("n1", "n2"), ds: rolling, pods: updated(),
			want: []wantFinding{{severity: report.SeverityError, cause: "no node updated for 19h",
				message: []string{"the rolling update has not updated a node for 19h; 1 node still on an old revision (n2)"}}},
		},
		{
			name:  "blocked only by a NotReady node: fix the node, not the revision",
			nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady()), fixture.Node("n2")}, ds: rolling, pods: updated(fixture.NotReadyPod()),
			want: []wantFinding{{severity: report.SeverityError,
				message: []string{"its node is Unreachable"},
				fix:     []string{"the blocking Pods are on broken nodes, not a broken revision", "kubectl describe node n1"}}},
		},
		{
			name:  "OnDelete is never stuck: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete()),
			pods: updated(fixture.Waiting("CrashLoopBackOff", "back-off", 4)),
		},
	})
}

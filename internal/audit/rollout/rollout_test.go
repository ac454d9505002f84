package rollout_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
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
	detecttest.Run(t, report.RolloutStuck, []detecttest.Case{
		{
			Name:  "every node updated: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "new Pod ready two minutes ago: the rollout is moving, no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling, Pods: updated(fixture.PodCreatedAgo(2 * time.Minute)),
		},
		{
			Name:  "new Pod crash-looping uses the maxUnavailable budget up",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling, Pods: updated(fixture.Waiting("CrashLoopBackOff", "back-off", 4)),
			Want: []detecttest.Want{{Severity: report.SeverityError,
				Message: []string{"the rolling update cannot progress: 1 unavailable of maxUnavailable 1", "1 node still on an old revision (n2)", "on n1: CrashLoopBackOff"},
				Fix:     []string{"kubectl rollout undo daemonset/agent -n ns"}}},
		},
		{
			Name:  "no node updated for hours: stalled",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling, Pods: updated(),
			Want: []detecttest.Want{{Severity: report.SeverityError, Cause: "no node updated for 19h",
				Message: []string{"the rolling update has not updated a node for 19h; 1 node still on an old revision (n2)"}}},
		},
		{
			Name:  "blocked only by a NotReady node: fix the node, not the revision",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady()), fixture.Node("n2")}, DS: rolling, Pods: updated(fixture.NotReadyPod()),
			Want: []detecttest.Want{{Severity: report.SeverityError,
				Message: []string{"its node is Unreachable"},
				Fix:     []string{"the blocking Pods are on broken nodes, not a broken revision", "kubectl describe node n1"}}},
		},
		{
			Name:  "OnDelete is never stuck: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete()),
			Pods: updated(fixture.Waiting("CrashLoopBackOff", "back-off", 4)),
		},
	})
}

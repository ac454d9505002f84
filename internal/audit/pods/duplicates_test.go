package pods_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestDuplicatePodsDetector(t *testing.T) {
	// twoOn puts an older and a newer Pod of ds on n1, the older at
	// generation g1, the newer at g2.
	twoOn := func(g1, g2 int64, more ...fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			return []corev1.Pod{
				fixture.Pod(ds, "n1", fixture.Named("agent-old"), fixture.PodCreatedAgo(2*time.Hour), fixture.AtGeneration(ds, g1)),
				fixture.Pod(ds, "n1", append([]fixture.PodOpt{fixture.Named("agent-new"), fixture.PodCreatedAgo(time.Hour), fixture.AtGeneration(ds, g2)}, more...)...),
			}
		}
	}
	detecttest.Run(t, report.DuplicatePods, []detecttest.Case{
		{
			Name:  "one Pod per node: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "two Pods on one node: the controller keeps the oldest",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: twoOn(1, 1),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Cause: "several Pods of the DaemonSet on one node",
				Message: []string{"node n1 runs 2 Pods of the DaemonSet (agent-old, agent-new)", "keeps the oldest bound one (agent-old)"},
				Fix:     []string{"the controller is not syncing", "daemonset/agent"}}},
		},
		{
			Name:  "a terminating second Pod is already going: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: twoOn(1, 1, fixture.Terminating()),
		},
		{
			Name:  "surge rollout's old and new Pod side by side are normal: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.Surge(1), fixture.Generation(2)), Pods: twoOn(1, 2),
		},
		{
			Name:  "surge DaemonSet with two new Pods: the controller keeps one",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.Surge(1), fixture.Generation(2)), Pods: twoOn(2, 2),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning,
				Message: []string{"during a surge rollout the controller keeps agent-old and deletes the others"}}},
		},
	})
}

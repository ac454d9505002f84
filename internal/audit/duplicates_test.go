package audit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

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
	testDetector(t, report.DuplicatePods, []detectorCase{
		{
			name:  "one Pod per node: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "two Pods on one node: the controller keeps the oldest",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: twoOn(1, 1),
			want: []wantFinding{{node: "n1", severity: report.SeverityWarning, cause: "several Pods of the DaemonSet on one node",
				message: []string{"node n1 runs 2 Pods of the DaemonSet (agent-old, agent-new)", "keeps the oldest bound one (agent-old)"},
				fix:     []string{"the controller is not syncing", "daemonset/agent"}}},
		},
		{
			name:  "a terminating second Pod is already going: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: twoOn(1, 1, fixture.Terminating()),
		},
		{
			name:  "surge rollout's old and new Pod side by side are normal: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent", fixture.Surge(1), fixture.Generation(2)), pods: twoOn(1, 2),
		},
		{
			name:  "surge DaemonSet with two new Pods: the controller keeps one",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent", fixture.Surge(1), fixture.Generation(2)), pods: twoOn(2, 2),
			want: []wantFinding{{node: "n1", severity: report.SeverityWarning,
				message: []string{"during a surge rollout the controller keeps agent-old and deletes the others"}}},
		},
	})
}

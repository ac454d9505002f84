package audit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestOutdatedPodDetector(t *testing.T) {
	rolling := fixture.DaemonSet("ns", "agent", fixture.Generation(2))
	onDelete := fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete())
	oldHash, newHash := fixture.Hash(&rolling, 1), fixture.Hash(&rolling, 2)
	// n1 updated two minutes ago, n2 still at generation 1.
	halfway := func(opts ...fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			return []corev1.Pod{fixture.Pod(ds, "n1", fixture.AtGeneration(ds, 2), fixture.PodCreatedAgo(2*time.Minute)), fixture.Pod(ds, "n2", opts...)}
		}
	}
	testDetector(t, report.OutdatedPod, []detectorCase{
		{
			name:  "every Pod on the current revision: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "old Pod during a rolling update: follow the rollout",
			nodes: readyNodes("n1", "n2"), ds: rolling, pods: halfway(),
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning, cause: "runs old revision " + oldHash + " (current: " + newHash + ")",
				message: []string{"runs " + oldHash + ", the current revision is " + newHash},
				fix:     []string{"kubectl rollout status -n ns daemonset/agent"}}},
		},
		{
			name:  "old Pod being deleted is on its way out: no finding",
			nodes: readyNodes("n1", "n2"), ds: rolling, pods: halfway(fixture.Terminating()),
		},
		{
			name:  "OnDelete: delete the outdated Pods, selected by revision",
			nodes: readyNodes("n1", "n2"), ds: onDelete, pods: halfway(),
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning,
				fix: []string{"with updateStrategy OnDelete a Pod is updated only when deleted",
					"kubectl delete pods -n ns -l 'app.kubernetes.io/name=agent,controller-revision-hash!=" + newHash + ",pod-template-generation!=2'"}}},
		},
		{
			name:  "rollout stuck on a crashing new Pod: waiting will not help",
			nodes: readyNodes("n1", "n2"), ds: rolling,
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.AtGeneration(ds, 2), fixture.Waiting("CrashLoopBackOff", "back-off restarting", 5)), fixture.Pod(ds, "n2")}
			},
			want: []wantFinding{{node: "n2", severity: report.SeverityWarning, fix: []string{"the rolling update is stuck (see RolloutStuck)"}}},
		},
	})
}

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
	detecttest.Run(t, report.OutdatedPod, []detecttest.Case{
		{
			Name:  "every Pod on the current revision: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "old Pod during a rolling update: follow the rollout",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling, Pods: halfway(),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Cause: "runs old revision " + oldHash + " (current: " + newHash + ")",
				Message: []string{"runs " + oldHash + ", the current revision is " + newHash},
				Fix:     []string{"kubectl rollout status -n ns daemonset/agent"}}},
		},
		{
			Name:  "old Pod being deleted is on its way out: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling, Pods: halfway(fixture.Terminating()),
		},
		{
			Name:  "OnDelete: delete the outdated Pods, selected by revision",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: onDelete, Pods: halfway(),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning,
				Fix: []string{"with updateStrategy OnDelete a Pod is updated only when deleted",
					"kubectl delete pods -n ns -l 'app.kubernetes.io/name=agent,controller-revision-hash!=" + newHash + ",pod-template-generation!=2'"}}},
		},
		{
			Name:  "rollout stuck on a crashing new Pod: waiting will not help",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: rolling,
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.AtGeneration(ds, 2), fixture.Waiting("CrashLoopBackOff", "back-off restarting", 5)), fixture.Pod(ds, "n2")}
			},
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Fix: []string{"the rolling update is stuck (see RolloutStuck)"}}},
		},
	})
}

package audit_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestStaleStatusDetector(t *testing.T) {
	podsUnread := func(s *model.Snapshot) { s.DaemonPods = nil; s.MarkMissing(model.Pods, "forbidden", "list pods") }
	testDetector(t, report.StaleStatus, []detectorCase{
		{
			name:  "published status equals the recomputed one: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "observedGeneration behind generation: the controller has not caught up",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"),
			edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.ObservedGeneration = 0 },
			want: []wantFinding{{severity: report.SeverityWarning, cause: "the status the controller published is stale",
				message: []string{"status.observedGeneration 0 is behind metadata.generation 1"},
				fix:     []string{"normally catches up within seconds"}}},
		},
		{
			name:  "counts disagree with the Pods: a resync is suggested",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
			edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.NumberReady = 1 },
			want: []wantFinding{{severity: report.SeverityWarning, cause: "the status the controller published is stale",
				message: []string{"the controller reports numberReady 1 (recomputed 2)"},
				fix: []string{"no node gained an untolerated NoSchedule taint, so the controller is lagging: check that kube-controller-manager is running",
					"kubectl annotate -n ns daemonset/agent daemoncheck/resync=now --overwrite"}}},
		},
		{
			// The status of before the taint: n2 desired, its Pod current.
			name:  "a node gained an untolerated NoSchedule taint: the controller did not requeue, named with the node",
			nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("maintenance", "db", corev1.TaintEffectNoSchedule))},
			ds:    fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
			edit: func(s *model.Snapshot) {
				st := &s.DaemonSets[0].Status
				st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = 2, 2, 0
			},
			want: []wantFinding{{severity: report.SeverityWarning,
				message: []string{"desiredNumberScheduled 2 (recomputed 1)"},
				fix: []string{"does not requeue it when a node gains a NoSchedule taint the DaemonSet does not tolerate, as node n2 did (maintenance=db:NoSchedule)",
					"kubectl annotate -n ns daemonset/agent daemoncheck/resync=now --overwrite"}}},
		},
		{
			name:  "a tolerated NoSchedule taint is not the cause: the controller is lagging",
			nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("maintenance", "db", corev1.TaintEffectNoSchedule))},
			ds:    fixture.DaemonSet("ns", "agent", fixture.WithToleration(fixture.Exists("maintenance", corev1.TaintEffectNoSchedule))), pods: podsOn("n1", "n2"),
			edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.NumberReady = 1 },
			want: []wantFinding{{severity: report.SeverityWarning,
				fix: []string{"no node gained an untolerated NoSchedule taint, so the controller is lagging"}}},
		},
		{
			name:  "Pods not read and status current: nothing to compare, no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"), edit: podsUnread,
		},
		{
			name:  "Pods not read but observedGeneration behind: still stale",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"),
			edit: func(s *model.Snapshot) { podsUnread(s); s.DaemonSets[0].Status.ObservedGeneration = 0 },
			want: []wantFinding{{severity: report.SeverityWarning, message: []string{"status.observedGeneration 0 is behind metadata.generation 1"}}},
		},
	})
}

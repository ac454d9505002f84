package rollout_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestStaleStatusDetector(t *testing.T) {
	podsUnread := func(s *model.Snapshot) { s.DaemonPods = nil; s.MarkMissing(model.Pods, "forbidden", "list pods") }
	detecttest.Run(t, report.StaleStatus, []detecttest.Case{
		{
			Name:  "published status equals the recomputed one: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "observedGeneration behind generation: the controller has not caught up",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"),
			Edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.ObservedGeneration = 0 },
			Want: []detecttest.Want{{Severity: report.SeverityWarning, Cause: "the status the controller published is stale",
				Message: []string{"status.observedGeneration 0 is behind metadata.generation 1"},
				Fix:     []string{"normally catches up within seconds"}}},
		},
		{
			Name:  "counts disagree with the Pods: a resync is suggested",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
			Edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.NumberReady = 1 },
			Want: []detecttest.Want{{Severity: report.SeverityWarning, Cause: "the status the controller published is stale",
				Message: []string{"the controller reports numberReady 1 (recomputed 2)"},
				Fix: []string{"no node gained an untolerated NoSchedule taint, so the controller is lagging: check that kube-controller-manager is running",
					"kubectl annotate -n ns daemonset/agent daemoncheck/resync=now --overwrite"}}},
		},
		{
			// The status of before the taint: n2 desired, its Pod current.
			Name:  "a node gained an untolerated NoSchedule taint: the controller did not requeue, named with the node",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("maintenance", "db", corev1.TaintEffectNoSchedule))},
			DS:    fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
			Edit: func(s *model.Snapshot) {
				st := &s.DaemonSets[0].Status
				st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = 2, 2, 0
			},
			Want: []detecttest.Want{{Severity: report.SeverityWarning,
				Message: []string{"desiredNumberScheduled 2 (recomputed 1)"},
				Fix: []string{"does not requeue it when a node gains a NoSchedule taint the DaemonSet does not tolerate, as node n2 did (maintenance=db:NoSchedule)",
					"kubectl annotate -n ns daemonset/agent daemoncheck/resync=now --overwrite"}}},
		},
		{
			Name:  "a tolerated NoSchedule taint is not the cause: the controller is lagging",
			Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithTaint("maintenance", "db", corev1.TaintEffectNoSchedule))},
			DS:    fixture.DaemonSet("ns", "agent", fixture.WithToleration(fixture.Exists("maintenance", corev1.TaintEffectNoSchedule))), Pods: detecttest.PodsOn("n1", "n2"),
			Edit: func(s *model.Snapshot) { s.DaemonSets[0].Status.NumberReady = 1 },
			Want: []detecttest.Want{{Severity: report.SeverityWarning,
				Fix: []string{"no node gained an untolerated NoSchedule taint, so the controller is lagging"}}},
		},
		{
			Name:  "Pods not read and status current: nothing to compare, no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"), Edit: podsUnread,
		},
		{
			Name:  "Pods not read but observedGeneration behind: still stale",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"),
			Edit: func(s *model.Snapshot) { podsUnread(s); s.DaemonSets[0].Status.ObservedGeneration = 0 },
			Want: []detecttest.Want{{Severity: report.SeverityWarning, Message: []string{"status.observedGeneration 0 is behind metadata.generation 1"}}},
		},
	})
}

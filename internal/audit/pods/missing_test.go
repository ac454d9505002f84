package pods_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestMissingPodDetector(t *testing.T) {
	failedCreate := func(s *model.Snapshot) {
		ds := &s.DaemonSets[0]
		s.Events = append(s.Events, corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: ds.Namespace, Name: "e1"}, Type: corev1.EventTypeWarning, Reason: "FailedCreate",
			Message: "Error creating: pods \"agent-x\" is forbidden: exceeded quota: pods", InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", UID: ds.UID, Name: ds.Name, Namespace: ds.Namespace},
			LastTimestamp: metav1.NewTime(fixture.Epoch.Add(-time.Minute))})
	}
	detecttest.Run(t, report.MissingPod, []detecttest.Case{
		{
			Name:  "every targeted node has its Pod: no finding",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1", "n2"),
		},
		{
			Name:  "a node the DaemonSet does not select needs no Pod",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2")},
			DS:    fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu")), Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "targeted node without a Pod points at the controller's events",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityError, Cause: "no daemon Pod on a targeted node",
				Message: []string{"node n2 should run the DaemonSet but has no Pod of it"},
				Fix:     []string{"kubectl describe -n ns daemonset/agent", "FailedCreate", "kube-controller-manager"}}},
		},
		{
			Name:  "FailedCreate event becomes the cause and message",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Edit: failedCreate,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: `no daemon Pod; last FailedCreate event: Error creating: pods "agent-x" is forbidden: exceeded quota: pods`,
				Message: []string{"last FailedCreate event: Error creating", "exceeded quota"},
				Fix:     []string{"fix what the event says"}}},
		},
		{
			Name:  "node that joined a minute ago: the controller may not have created it yet",
			Nodes: []corev1.Node{fixture.Node("new", fixture.CreatedAgo(time.Minute))}, DS: fixture.DaemonSet("ns", "agent"),
			Want: []detecttest.Want{{Node: "new", Severity: report.SeverityError,
				Message: []string{"the node joined 60s ago, the controller may not have created it yet"}}},
		},
		{
			Name:  "surge DaemonSet whose only Pod is terminating wants a replacement now",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.Surge(1)),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Terminating())}
			},
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError,
				Message: []string{"its only Pod (agent-", "is terminating; with maxSurge the controller creates a replacement at once"}}},
		},
		{
			Name:  "without surge a terminating Pod is waited for: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Terminating())}
			},
		},
		{
			Name:  "relabelled Pod is released and a new one is due",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Named("agent-old"), detecttest.Relabel("app.kubernetes.io/name", "debug"))}
			},
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError,
				Message: []string{"Pod agent-old no longer matches the selector app.kubernetes.io/name=agent", "the controller releases it"},
				Fix:     []string{"restore the labels of Pod agent-old", "kubectl delete pod -n ns agent-old"}}},
		},
	})
}

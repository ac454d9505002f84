package audit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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
	testDetector(t, report.MissingPod, []detectorCase{
		{
			name:  "every targeted node has its Pod: no finding",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1", "n2"),
		},
		{
			name:  "a node the DaemonSet does not select needs no Pod",
			nodes: []corev1.Node{fixture.Node("n1", fixture.WithLabel("pool", "gpu")), fixture.Node("n2")},
			ds:    fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("pool", "gpu")), pods: podsOn("n1"),
		},
		{
			name:  "targeted node without a Pod points at the controller's events",
			nodes: readyNodes("n1", "n2"), ds: fixture.DaemonSet("ns", "agent"), pods: podsOn("n1"),
			want: []wantFinding{{node: "n2", severity: report.SeverityError, cause: "no daemon Pod on a targeted node",
				message: []string{"node n2 should run the DaemonSet but has no Pod of it"},
				fix:     []string{"kubectl describe -n ns daemonset/agent", "FailedCreate", "kube-controller-manager"}}},
		},
		{
			name:  "FailedCreate event becomes the cause and message",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"), edit: failedCreate,
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: `no daemon Pod; last FailedCreate event: Error creating: pods "agent-x" is forbidden: exceeded quota: pods`,
				message: []string{"last FailedCreate event: Error creating", "exceeded quota"},
				fix:     []string{"fix what the event says"}}},
		},
		{
			name:  "node that joined a minute ago: the controller may not have created it yet",
			nodes: []corev1.Node{fixture.Node("new", fixture.CreatedAgo(time.Minute))}, ds: fixture.DaemonSet("ns", "agent"),
			want: []wantFinding{{node: "new", severity: report.SeverityError,
				message: []string{"the node joined 60s ago, the controller may not have created it yet"}}},
		},
		{
			name:  "surge DaemonSet whose only Pod is terminating wants a replacement now",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent", fixture.Surge(1)),
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Terminating())}
			},
			want: []wantFinding{{node: "n1", severity: report.SeverityError,
				message: []string{"its only Pod (agent-", "is terminating; with maxSurge the controller creates a replacement at once"}}},
		},
		{
			name:  "without surge a terminating Pod is waited for: no finding",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Terminating())}
			},
		},
		{
			name:  "relabelled Pod is released and a new one is due",
			nodes: readyNodes("n1"), ds: fixture.DaemonSet("ns", "agent"),
			pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Named("agent-old"), relabel("app.kubernetes.io/name", "debug"))}
			},
			want: []wantFinding{{node: "n1", severity: report.SeverityError,
				message: []string{"Pod agent-old no longer matches the selector app.kubernetes.io/name=agent", "the controller releases it"},
				fix:     []string{"restore the labels of Pod agent-old", "kubectl delete pod -n ns agent-old"}}},
		},
	})
}

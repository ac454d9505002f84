package audit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestHostPortConflictDetector(t *testing.T) {
	holder := fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100), createdAgo(40*time.Hour))
	sizedNodes := []corev1.Node{fixture.Node("n1", fixture.Sized("4", "8Gi"))}
	testDetector(t, report.HostPortConflict, []detectorCase{
		{
			name:  "different host ports: no finding",
			nodes: sizedNodes, ds: fixture.DaemonSet("vendor", "exporter", fixture.HostPort(9101)), others: []appsv1.DaemonSet{holder}, pods: podsOn("n1"),
		},
		{
			name:  "same host port on the same node: the later DaemonSet cannot run",
			nodes: sizedNodes, ds: fixture.DaemonSet("vendor", "exporter", fixture.HostPort(9100)), others: []appsv1.DaemonSet{holder},
			want: []wantFinding{{node: "n1", severity: report.SeverityError, cause: "host port 9100/TCP also claimed by DaemonSet monitoring/node-exporter",
				message: []string{"DaemonSets vendor/exporter and monitoring/node-exporter both target node n1 and both claim host port 9100/TCP", "it was created first"},
				fix:     []string{"give container exporter of vendor/exporter another hostPort"}}},
		},
		{
			name:   "same host port but disjoint nodes: no finding",
			nodes:  append([]corev1.Node{fixture.Node("n2", fixture.Sized("4", "8Gi"), fixture.WithLabel("role", "edge"))}, sizedNodes...),
			ds:     fixture.DaemonSet("edge", "proxy", fixture.HostPort(9100), fixture.WithNodeSelector("role", "edge")),
			others: []appsv1.DaemonSet{fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100), createdAgo(40*time.Hour), fixture.WithNodeSelector("role", "core"))},
			pods:   podsOn("n2"),
		},
	})
}

func TestNodeTooSmallDetector(t *testing.T) {
	big := fixture.DaemonSet("ns", "agent", fixture.Requests("cpu", "2", "memory", "64Mi"))
	testDetector(t, report.NodeTooSmall, []detectorCase{
		{
			name:  "daemons fit the node: no finding",
			nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("4", "8Gi"))}, ds: big, pods: podsOn("n1"),
		},
		{
			name:  "running Pod that asks more than the whole node: it will not come back once replaced",
			nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("1", "8Gi"))}, ds: big, pods: podsOn("n1"),
			want: []wantFinding{{node: "n1", severity: report.SeverityWarning, cause: "the node's daemons alone need more cpu than its allocatable",
				message: []string{"placed by priority, ns/agent is left out", "its Pod runs there today, but once it is replaced", "it stays Pending"},
				fix:     []string{"ns/agent alone asks more cpu (2) than the node's whole allocatable (1)"}}},
		},
		{
			name:  "Pod already Pending: PendingPod says it, no NodeTooSmall",
			nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("1", "8Gi"))}, ds: big, pods: podOn(fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu.")),
		},
		{
			name:  "node without allocatable: fit unknown, no finding",
			nodes: readyNodes("n1"), ds: big, pods: podsOn("n1"),
		},
	})
}

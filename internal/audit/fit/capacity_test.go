package fit_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestHostPortConflictDetector(t *testing.T) {
	holder := fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100), detecttest.CreatedAgo(40*time.Hour))
	sizedNodes := []corev1.Node{fixture.Node("n1", fixture.Sized("4", "8Gi"))}
	detecttest.Run(t, report.HostPortConflict, []detecttest.Case{
		{
			Name:  "different host ports: no finding",
			Nodes: sizedNodes, DS: fixture.DaemonSet("vendor", "exporter", fixture.HostPort(9101)), Others: []appsv1.DaemonSet{holder}, Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "same host port on the same node: the later DaemonSet cannot run",
			Nodes: sizedNodes, DS: fixture.DaemonSet("vendor", "exporter", fixture.HostPort(9100)), Others: []appsv1.DaemonSet{holder},
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError, Cause: "host port 9100/TCP also claimed by DaemonSet monitoring/node-exporter",
				Message: []string{"DaemonSets vendor/exporter and monitoring/node-exporter both target node n1 and both claim host port 9100/TCP", "it was created first"},
				Fix:     []string{"give container exporter of vendor/exporter another hostPort"}}},
		},
		{
			Name:   "same host port but disjoint nodes: no finding",
			Nodes:  append([]corev1.Node{fixture.Node("n2", fixture.Sized("4", "8Gi"), fixture.WithLabel("role", "edge"))}, sizedNodes...),
			DS:     fixture.DaemonSet("edge", "proxy", fixture.HostPort(9100), fixture.WithNodeSelector("role", "edge")),
			Others: []appsv1.DaemonSet{fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100), detecttest.CreatedAgo(40*time.Hour), fixture.WithNodeSelector("role", "core"))},
			Pods:   detecttest.PodsOn("n2"),
		},
	})
}

func TestNodeTooSmallDetector(t *testing.T) {
	big := fixture.DaemonSet("ns", "agent", fixture.Requests("cpu", "2", "memory", "64Mi"))
	detecttest.Run(t, report.NodeTooSmall, []detecttest.Case{
		{
			Name:  "daemons fit the node: no finding",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("4", "8Gi"))}, DS: big, Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "running Pod that asks more than the whole node: it will not come back once replaced",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("1", "8Gi"))}, DS: big, Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, Cause: "the node's daemons alone need more cpu than its allocatable",
				Message: []string{"placed by priority, ns/agent is left out", "its Pod runs there today, but once it is replaced", "it stays Pending"},
				Fix:     []string{"ns/agent alone asks more cpu (2) than the node's whole allocatable (1)"}}},
		},
		{
			Name:  "Pod already Pending: PendingPod says it, no NodeTooSmall",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Sized("1", "8Gi"))}, DS: big, Pods: detecttest.PodOn(fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu.")),
		},
		{
			Name:  "node without allocatable: fit unknown, no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: big, Pods: detecttest.PodsOn("n1"),
		},
	})
}

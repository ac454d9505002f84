package audit_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Two pools: on the small one the critical CNI and a monitoring agent do
// not both fit. The agent is left out (lower priority); where its Pod is
// Pending, the PendingPod carries that as its cause; where it still runs,
// NodeTooSmall warns that the next replacement will not fit.
func TestDaemonsAloneDoNotFit(t *testing.T) {
	pool := func(p string) fixture.NodeOpt { return fixture.WithLabel("karpenter.sh/nodepool", p) }
	nodes := []corev1.Node{
		fixture.Node("small-1", pool("small"), fixture.Sized("1", "2Gi")),
		fixture.Node("small-2", pool("small"), fixture.Sized("1", "2Gi")),
		fixture.Node("big-1", pool("big"), fixture.Sized("8", "32Gi")),
	}
	cni := fixture.DaemonSet("kube-system", "cni", fixture.Critical(), fixture.HostNetwork(), fixture.Requests("cpu", "600m", "memory", "256Mi"), detecttest.CreatedAgo(30*time.Hour))
	agent := fixture.DaemonSet("monitoring", "agent", fixture.Requests("cpu", "600m", "memory", "128Mi"))
	pods := []corev1.Pod{
		fixture.Pod(&cni, "small-1"), fixture.Pod(&cni, "small-2"), fixture.Pod(&cni, "big-1"),
		fixture.Pod(&agent, "small-1", fixture.Unscheduled("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector.")),
		fixture.Pod(&agent, "small-2"), fixture.Pod(&agent, "big-1"),
	}
	rep := detecttest.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{cni, agent}, pods), audit.Options{})
	if got, want := detecttest.KindsOf(rep, "monitoring/agent"), []string{"NodeTooSmall@small-2", "PendingPod@small-1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("agent findings %v, want %v", got, want)
	}
	if got := detecttest.KindsOf(rep, "kube-system/cni"); len(got) != 0 {
		t.Errorf("the critical CNI is placed first and fits: %v", got)
	}
	p := detecttest.FindingAt(rep, "monitoring/agent", report.PendingPod, "small-1")
	if p.Cause != "unschedulable: the node's daemons alone need more cpu than its allocatable" ||
		!strings.Contains(p.Message, "cpu: the 2 daemons request 1200m of 1000m allocatable") || !strings.Contains(p.Message, "Insufficient cpu (needs 600m; 600m of 1000m requested)") {
		t.Errorf("pending: cause %q, message %q", p.Cause, p.Message)
	}
	tooSmall := detecttest.FindingAt(rep, "monitoring/agent", report.NodeTooSmall, "small-2")
	if tooSmall.Severity != report.SeverityWarning || !strings.Contains(tooSmall.Message, "monitoring/agent is left out") || !strings.Contains(tooSmall.Message, "runs there today") {
		t.Errorf("NodeTooSmall: %+v", tooSmall)
	}
	// One problem for both nodes? No: one is Pending (error), one a warning.
	c := rep.Capacity
	if c == nil || len(c.Pools) != 2 || c.Pools[0].Pool != "small" || c.Pools[1].Pool != "big" {
		t.Fatalf("pools: %+v", c)
	}
	small := c.Pools[0]
	cpu := small.Resources[0]
	if small.Nodes != 2 || small.DaemonSets != 2 || small.NotFitting != 2 || small.NotFittingRange != "small-1…2" || !reflect.DeepEqual(small.LeftOut, []string{"monitoring/agent"}) ||
		cpu.Resource != "cpu" || cpu.Allocatable != "2" || cpu.Daemons != "2400m" || cpu.Percent != 120 || cpu.Headroom != "-400m" || cpu.MinHeadroom != "-200m" || cpu.MinHeadroomNode != "small-1" {
		t.Errorf("small pool: %+v", small)
	}
	if big := c.Pools[1]; big.NotFitting != 0 || big.Resources[1].Resource != "memory" || big.Resources[1].Daemons != "384Mi" || big.Resources[1].Percent != 2 {
		t.Errorf("big pool: %+v", big)
	}
	if !reflect.DeepEqual(c.Resources, []string{"cpu", "memory", "pods"}) {
		t.Errorf("resources %v", c.Resources)
	}
	// The audit lists only the nodes where a daemon is left out; the
	// capacity view every node.
	if len(c.Nodes) != 2 || c.Nodes[0].Name != "small-1" || c.Nodes[0].LeftOut[0].DaemonSet != "monitoring/agent" || !reflect.DeepEqual(c.Nodes[0].LeftOut[0].Resources, []string{"cpu"}) {
		t.Errorf("nodes %+v", c.Nodes)
	}
	all := detecttest.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{cni, agent}, pods), audit.Options{CapacityNodes: true}).Capacity
	if len(all.Nodes) != 3 || all.Nodes[0].Name != "big-1" || all.Nodes[0].Headroom["cpu"] != "6800m" || all.Nodes[0].Allocatable["memory"] != "32Gi" {
		t.Errorf("every node: %+v", all.Nodes)
	}
}

// With equal priority the daemon already bound to the node keeps its room:
// the newcomer is the one left out, whatever their age.
func TestBoundDaemonKeepsItsRoom(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1", fixture.Sized("1", "2Gi"))}
	old := fixture.DaemonSet("a", "old", fixture.Requests("cpu", "700m", "memory", "64Mi"), detecttest.CreatedAgo(50*time.Hour))
	newer := fixture.DaemonSet("a", "newer", fixture.Requests("cpu", "700m", "memory", "64Mi"))
	pods := []corev1.Pod{fixture.Pod(&newer, "n1"), fixture.Pod(&old, "n1", fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu."))}
	rep := detecttest.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{old, newer}, pods), audit.Options{})
	if got := detecttest.KindsOf(rep, "a/old"); !reflect.DeepEqual(got, []string{"PendingPod@n1"}) {
		t.Errorf("old: %v", got)
	}
	if got := detecttest.KindsOf(rep, "a/newer"); len(got) != 0 {
		t.Errorf("newer keeps its room: %v", got)
	}
}

// Two DaemonSets claim host port 9100 on the same nodes: the second is
// reported as HostPortConflict naming both, on every shared node, and its
// Pending Pod is part of that finding rather than a PendingPod of its own.
func TestHostPortConflict(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1", fixture.Sized("4", "8Gi")), fixture.Node("n2"), fixture.Node("n3", fixture.WithLabel("role", "edge"))}
	exporter := fixture.DaemonSet("monitoring", "node-exporter", fixture.HostPort(9100), detecttest.CreatedAgo(40*time.Hour))
	other := fixture.DaemonSet("vendor", "exporter", fixture.HostPort(9100), fixture.WithNodeSelector("kubernetes.io/os", "linux"))
	edge := fixture.DaemonSet("edge", "proxy", fixture.HostPort(9101), fixture.WithNodeSelector("role", "edge"))
	pods := []corev1.Pod{
		fixture.Pod(&exporter, "n1"), fixture.Pod(&exporter, "n2"), fixture.Pod(&exporter, "n3"),
		fixture.Pod(&other, "n1", fixture.Unscheduled("0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector.")),
		fixture.Pod(&other, "n3", fixture.Unscheduled("0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, 2 node(s) didn't match Pod's node affinity/selector.")),
		fixture.Pod(&edge, "n3"),
	}
	// n2 has no Pod of the vendor's exporter: MissingPod (the controller's
	// business), and the conflict all the same.
	rep := detecttest.Analyze(detecttest.Cluster(nodes, []appsv1.DaemonSet{exporter, other, edge}, pods), audit.Options{})
	if got, want := detecttest.KindsOf(rep, "vendor/exporter"), []string{"HostPortConflict@n1", "HostPortConflict@n2", "HostPortConflict@n3", "MissingPod@n2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
	for _, k := range []string{"monitoring/node-exporter", "edge/proxy"} {
		if got := detecttest.KindsOf(rep, k); len(got) != 0 {
			t.Errorf("%s holds its ports: %v", k, got)
		}
	}
	f := detecttest.FindingAt(rep, "vendor/exporter", report.HostPortConflict, "n1")
	if f.Severity != report.SeverityError || f.Pod == "" || f.Cause != "host port 9100/TCP also claimed by DaemonSet monitoring/node-exporter" ||
		!strings.Contains(f.Message, "DaemonSets vendor/exporter and monitoring/node-exporter both target node n1 and both claim host port 9100/TCP") ||
		!strings.Contains(f.Message, "its Pod "+f.Pod+" is Pending: 0/3 nodes are available") || !strings.Contains(f.Suggestion, "another hostPort") {
		t.Errorf("conflict: %+v", f)
	}
	// Grouped: one problem for the pair, both nodes.
	var ps []report.Problem
	for _, p := range rep.Problems {
		if p.Type == string(report.HostPortConflict) {
			ps = append(ps, p)
		}
	}
	if len(ps) != 1 || !reflect.DeepEqual(ps[0].Nodes, []string{"n1", "n2", "n3"}) {
		t.Errorf("problems %+v", ps)
	}
	// Node n2 reports no allocatable: its fit is unknown, its ports are not.
	if c := rep.Capacity; len(c.Unknown) == 0 || !strings.Contains(c.Unknown[0], "2 nodes report no status.allocatable") {
		t.Errorf("unknown: %v", c.Unknown)
	}
}

// With every Pod read, a Pending daemon Pod's explanation says what the
// Pods on its node request, and whether preemption can make room.
func TestFitWithWorkloads(t *testing.T) {
	pending := fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu.")
	cases := []struct {
		name      string
		opts      []fixture.DSOpt
		workloads []corev1.Pod
		cause     string
		words     []string
	}{
		{"equal priority", nil, []corev1.Pod{detecttest.Workload("web", "n1", 0, "1500m")},
			"unschedulable: Insufficient cpu taken by Pods of equal or higher priority; preemption cannot help",
			[]string{"cpu 2000m allocatable of which the 2 Pods there request 1510m (10m by daemons) and the daemon needs 1000m", "no Pod there has a priority below the daemon's 0"}},
		{"critical daemon", []fixture.DSOpt{fixture.Critical()}, []corev1.Pod{detecttest.Workload("web", "n1", 0, "1500m")},
			"unschedulable: Insufficient cpu taken by lower-priority Pods; preemption can help",
			[]string{"preemption can help: the 1 Pods below the daemon's priority 2000001000"}},
		{"even without the lower ones", []fixture.DSOpt{fixture.Critical()}, []corev1.Pod{detecttest.Workload("web", "n1", 0, "500m"), detecttest.Workload("db", "n1", 2000001000, "1200m")},
			"unschedulable: Insufficient cpu taken by Pods of equal or higher priority; preemption cannot help",
			[]string{"even without the 1 Pods below the daemon's priority 2000001000: Insufficient cpu (needs 1000m; 1210m of 2000m requested)"}},
		{"larger than the node", []fixture.DSOpt{fixture.Requests("cpu", "3", "memory", "32Mi")}, nil,
			"unschedulable: the node's daemons alone need more cpu than its allocatable",
			[]string{"no preemption can help: it asks more than the node's whole allocatable"}},
		{"host port held by a higher priority", []fixture.DSOpt{fixture.HostPort(8080), fixture.Requests("cpu", "100m", "memory", "32Mi")}, []corev1.Pod{func() corev1.Pod {
			p := detecttest.Workload("ingress", "n1", 100, "100m")
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 8080}}
			return p
		}()},
			"unschedulable: host port 8080/TCP taken by Pods of equal or higher priority; preemption cannot help",
			[]string{"host port 8080/TCP is held by Pod apps/ingress (priority 100)"}},
		{"may not preempt", []fixture.DSOpt{fixture.Critical(), func(ds *appsv1.DaemonSet) {
			never := corev1.PreemptNever
			ds.Spec.Template.Spec.PreemptionPolicy = &never
		}}, []corev1.Pod{detecttest.Workload("web", "n1", 0, "1500m")},
			"unschedulable: Insufficient cpu taken by the Pods on the node; the daemon may not preempt",
			[]string{"it cannot preempt (preemptionPolicy: Never)"}},
		{"priority unknown", []fixture.DSOpt{func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.PriorityClassName = "agents" }}, []corev1.Pod{detecttest.Workload("web", "n1", 0, "1500m")},
			"unschedulable: Insufficient cpu taken by the Pods on the node",
			[]string{"whether preemption can help is unknown: the daemon's priority depends on PriorityClasses that were not read"}},
		{"fits", []fixture.DSOpt{fixture.Requests("cpu", "100m", "memory", "32Mi")}, nil,
			"unschedulable: fits next to the Pods on the node: not resources or host ports",
			[]string{"it fits, so the scheduler's reason is not resources or host ports"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nodes := []corev1.Node{fixture.Node("n1", fixture.Sized("2", "4Gi"))}
			base := fixture.DaemonSet("kube-system", "base", fixture.Critical())
			ds := fixture.DaemonSet("a", "agent", append([]fixture.DSOpt{fixture.Requests("cpu", "1", "memory", "32Mi")}, c.opts...)...)
			pods := []corev1.Pod{fixture.Pod(&base, "n1"), fixture.Pod(&ds, "n1", pending)}
			s := detecttest.Cluster(nodes, []appsv1.DaemonSet{base, ds}, pods)
			w := model.NewWorkloads()
			w.AddLoad(collect.LoadOf(&pods[0]))
			for i := range c.workloads {
				w.AddLoad(collect.LoadOf(&c.workloads[i]))
			}
			s.Workloads = w
			// Classes not read: the priority of a named class is unknown.
			s.PriorityClassesRead = c.name != "priority unknown"
			rep := detecttest.Analyze(s, audit.Options{})
			f := detecttest.FindingAt(rep, "a/agent", report.PendingPod, "n1")
			if f == nil {
				t.Fatalf("no PendingPod: %v", detecttest.KindsOf(rep, "a/agent"))
			}
			if f.Cause != c.cause {
				t.Errorf("cause %q, want %q", f.Cause, c.cause)
			}
			for _, w := range c.words {
				if !strings.Contains(f.Message, w) {
					t.Errorf("message lacks %q:\n%s", w, f.Message)
				}
			}
			if !rep.Capacity.Workloads || rep.Capacity.Pools[0].Resources[0].Workloads == "" {
				t.Errorf("capacity section without workloads: %+v", rep.Capacity.Pools)
			}
		})
	}
}

//go:build e2e

package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// schedulerMessage is the PodScheduled=False message of the DaemonSet's
// Pod meant for node ("" when there is none).
func schedulerMessage(t *testing.T, s *scenario, ds, node string) string {
	t.Helper()
	pods, err := daemonPods(s.ctx, s.getDaemonSet(ds))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if podNode(&p) != node {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
				return c.Message
			}
		}
	}
	return ""
}

var insufficient = regexp.MustCompile(`Insufficient ([a-z0-9./-]+)`)

// findingOn is the DaemonSet's finding of type typ on node, or nil.
func findingOn(rep *report.Report, ns, ds string, typ report.FindingType, node string) *report.Finding {
	for i := range rep.DaemonSets {
		dr := &rep.DaemonSets[i]
		if dr.Namespace != ns || dr.Name != ds {
			continue
		}
		if f := dsFinding(dr, typ, node); f != nil {
			return f
		}
	}
	return nil
}

// capacityReport runs `capacity -o json` on the scenario's namespace.
func capacityReport(t *testing.T, s *scenario, args ...string) (*report.CapacityReport, int) {
	t.Helper()
	res := execPlugin(t, nil, append([]string{"--kubeconfig", cluster.KubeconfigPath, "capacity", "-n", s.name, "-o", "json"}, args...)...)
	if res.code != 0 && res.code != 1 {
		t.Fatalf("capacity: exit %d\n%s", res.code, res.stderr)
	}
	var c report.CapacityReport
	if err := json.Unmarshal([]byte(res.stdout), &c); err != nil {
		t.Fatalf("capacity: %v\n%s", err, res.stdout)
	}
	return &c, res.code
}

func nodeCapacity(c *report.CapacityReport, name string) *report.NodeCapacity {
	for i := range c.Nodes {
		if c.Nodes[i].Name == name {
			return &c.Nodes[i]
		}
	}
	return nil
}

func withRequests(ds *appsv1.DaemonSet, cpu, memory string) *appsv1.DaemonSet {
	ds.Spec.Template.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
	return ds
}

// TestCapacityDaemonsDoNotFit: on a kwok node with 1 CPU allocatable, two
// DaemonSets of 600m each do not both fit. The real scheduler leaves the
// second Pending (Insufficient cpu); daemoncheck names the same resource,
// with the daemons alone and with every Pod read, and the capacity view
// names the daemon left out.
func TestCapacityDaemonsDoNotFit(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "cap-small")
	big, small := s.newNode("big"), s.newNode("small")
	small.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("1")
	small.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("1")
	s.createNodes(true, big, small)
	s.createDaemonSet(withRequests(s.newDaemonSet("base"), "600m", "64Mi"))
	s.settle("base", allReady(2))
	s.createDaemonSet(withRequests(s.newDaemonSet("agent"), "600m", "64Mi"))
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.CurrentNumberScheduled == 2 && ds.Status.NumberReady == 1 && unschedulable(pods, small.Name)
	})
	msg := schedulerMessage(t, s, "agent", small.Name)
	m := insufficient.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("the scheduler's message names no resource: %q", msg)
	}
	res := m[1] // "cpu"

	for _, args := range [][]string{nil, {"--workloads"}} {
		rep, code := runPlugin(t, append([]string{"-n", s.name}, args...)...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		f := findingOn(rep, s.name, "agent", report.PendingPod, small.Name)
		if f == nil {
			t.Fatalf("%v: no PendingPod for agent on %s: %+v", args, small.Name, rep.DaemonSets)
		}
		// Without --workloads, from the daemons alone; with it, from every
		// Pod on the node: the same resource as the scheduler's.
		if f.Cause != "unschedulable: the node's daemons alone need more "+res+" than its allocatable" {
			t.Errorf("%v: cause %q, scheduler: %q", args, f.Cause, msg)
		}
		if !strings.Contains(f.Message, "Insufficient "+res+" (needs 600m; 600m of 1000m requested)") {
			t.Errorf("%v: message %q", args, f.Message)
		}
		if args != nil && !strings.Contains(f.Message, "with every Pod read: node "+small.Name+" has "+res+" 1000m allocatable of which the 1 Pods there request 600m (600m by daemons)") {
			t.Errorf("--workloads: message %q", f.Message)
		}
		if got := findingOn(rep, s.name, "agent", report.NodeTooSmall, small.Name); got != nil {
			t.Errorf("%v: NodeTooSmall said again next to the PendingPod: %s", args, got.Message)
		}
	}

	c, code := capacityReport(t, s)
	if code != 1 {
		t.Errorf("capacity: exit %d, want 1 (a daemon Pod the scheduler cannot place)", code)
	}
	n := nodeCapacity(c, small.Name)
	if n == nil || n.Allocatable["cpu"] != "1" || n.Daemons["cpu"] != "1200m" || len(n.LeftOut) != 1 ||
		n.LeftOut[0].DaemonSet != s.name+"/agent" || strings.Join(n.LeftOut[0].Resources, ",") != res {
		t.Errorf("capacity of %s: %+v", small.Name, n)
	}
	if n := nodeCapacity(c, big.Name); n == nil || len(n.LeftOut) != 0 || n.Headroom["cpu"] != "30800m" {
		t.Errorf("capacity of %s: %+v", big.Name, n)
	}
}

// TestCapacityWorkloadsFillTheNode: the daemons alone fit, but a Pod bound
// to the node holds its CPU. Only --workloads can say so; it names the
// scheduler's resource and agrees that preemption cannot help (the Pod's
// priority is the daemon's).
func TestCapacityWorkloadsFillTheNode(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "cap-busy")
	busy := s.newNode("busy")
	busy.Status.Capacity[corev1.ResourceCPU] = resource.MustParse("2")
	busy.Status.Allocatable[corev1.ResourceCPU] = resource.MustParse("2")
	s.createNodes(true, busy)
	filler := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "filler", Namespace: s.name},
		Spec: corev1.PodSpec{NodeName: busy.Name, Containers: []corev1.Container{{Name: "c", Image: "registry.example/filler:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1700m")}}}}},
	}
	if _, err := cluster.Client.CoreV1().Pods(s.name).Create(s.ctx, filler, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s.createDaemonSet(withRequests(s.newDaemonSet("agent"), "600m", "64Mi"))
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.CurrentNumberScheduled == 1 && unschedulable(pods, busy.Name)
	})
	msg := schedulerMessage(t, s, "agent", busy.Name)
	m := insufficient.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("the scheduler's message names no resource: %q", msg)
	}
	res := m[1]

	rep, _ := runPlugin(t, "-n", s.name)
	f := findingOn(rep, s.name, "agent", report.PendingPod, busy.Name)
	if f == nil || !strings.Contains(f.Cause, "Insufficient "+res) || strings.Contains(f.Message, "with every Pod read") {
		t.Fatalf("without --workloads the cause is the scheduler's: %+v", f)
	}
	rep, _ = runPlugin(t, "-n", s.name, "--workloads")
	f = findingOn(rep, s.name, "agent", report.PendingPod, busy.Name)
	if f == nil {
		t.Fatal("no PendingPod with --workloads")
	}
	if f.Cause != "unschedulable: Insufficient "+res+" taken by Pods of equal or higher priority; preemption cannot help" ||
		!strings.Contains(f.Message, "Insufficient "+res+" (needs 600m; 1700m of 2000m requested)") ||
		!strings.Contains(f.Message, "preemption cannot help: no Pod there has a priority below the daemon's 0") {
		t.Errorf("--workloads: cause %q, message %q; scheduler: %q", f.Cause, f.Message, msg)
	}
	// The scheduler tried preemption and found nothing to evict, as said.
	if !strings.Contains(msg, "preemption") || !(strings.Contains(msg, "No preemption victims") || strings.Contains(msg, "Preemption is not helpful")) {
		t.Errorf("the scheduler's message does not say preemption failed: %q", msg)
	}
	c, _ := capacityReport(t, s, "--workloads")
	if n := nodeCapacity(c, busy.Name); n == nil || n.Workloads["cpu"] != "1700m" || len(n.LeftOut) != 0 {
		t.Errorf("capacity of %s: %+v", busy.Name, n)
	}
}

// TestCapacityHostPortConflict: two DaemonSets claim host port 9100 on the
// same nodes. The real scheduler leaves the second one's Pods Pending;
// daemoncheck reports HostPortConflict on each node naming both, and no
// PendingPod besides.
func TestCapacityHostPortConflict(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "cap-ports")
	nodes := s.plainNodes(2)
	port := []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100, Protocol: corev1.ProtocolTCP}}
	first := s.newDaemonSet("first")
	first.Spec.Template.Spec.Containers[0].Ports = port
	s.createDaemonSet(first)
	s.settle("first", allReady(2))
	second := s.newDaemonSet("second")
	second.Spec.Template.Spec.Containers[0].Ports = port
	s.createDaemonSet(second)
	s.settle("second", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.CurrentNumberScheduled == 2 && unschedulable(pods, nodes[0]) && unschedulable(pods, nodes[1])
	})
	for _, n := range nodes {
		if msg := schedulerMessage(t, s, "second", n); !strings.Contains(msg, "free ports") {
			t.Fatalf("the scheduler left second's Pod on %s Pending for another reason: %q", n, msg)
		}
	}
	rep, code := runPlugin(t, "-n", s.name)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	var got []string
	for _, dr := range rep.DaemonSets {
		for _, f := range dr.Findings {
			got = append(got, dr.Name+":"+string(f.Type)+"@"+f.Node)
		}
	}
	want := []string{"second:HostPortConflict@" + nodes[0], "second:HostPortConflict@" + nodes[1]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("findings %v, want %v", got, want)
	}
	f := findingOn(rep, s.name, "second", report.HostPortConflict, nodes[0])
	if !strings.Contains(f.Message, "DaemonSets "+s.name+"/second and "+s.name+"/first both target node "+nodes[0]+" and both claim host port 9100/TCP") ||
		f.Pod == "" || !strings.Contains(f.Message, "is Pending: ") || f.Cause != "host port 9100/TCP also claimed by DaemonSet "+s.name+"/first" {
		t.Errorf("finding %+v", f)
	}
	// The detail view of one DaemonSet does not see the other: it says so.
	one, _ := runPlugin(t, "-n", s.name, "second")
	if one.Capacity == nil || !strings.Contains(strings.Join(one.Capacity.Unknown, "; "), "only the DaemonSets of DaemonSet "+s.name+"/second were read") {
		t.Errorf("detail view capacity: %+v", one.Capacity)
	}
	c, _ := capacityReport(t, s)
	n := nodeCapacity(c, nodes[1])
	if n == nil || len(n.LeftOut) != 1 || strings.Join(n.LeftOut[0].HostPorts, ",") != "9100/TCP held by "+s.name+"/first" {
		t.Errorf("capacity of %s: %+v", nodes[1], n)
	}
}

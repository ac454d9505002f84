//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// Node lifecycle attribution on the real control plane: a daemon Pod that
// is unavailable because its node is drained, disrupted, in maintenance or
// shutting down is put down to the node (a node problem, warning), a
// rollout held by such nodes waits while one held by a broken node or a
// bad revision fails, and the controller's recreate loop on a node
// shutting down is counted from its events.
func TestLifecycle(t *testing.T) {
	runScenarios(t, "l-", []namedScenario{
		{"drain-eviction", lifecycleDrainEviction},
		{"karpenter-disrupted", lifecycleKarpenterDisrupted},
		{"capi-delete-machine", lifecycleClusterAPIDeletion},
		{"rollout-revision", lifecycleRolloutRevision},
		{"rollout-notready", lifecycleRolloutNotReady},
		{"rollout-maintenance", lifecycleRolloutMaintenance},
		{"recreate-loop", lifecycleRecreateLoop},
	})
}

// newUnmanagedNode is newNode for a node no kwok kubelet serves: its Pods
// stay as the API server and the controllers leave them (Pending once
// bound, Terminating once deleted gracefully), as on a node whose kubelet
// is stopping or gone. It starts with the given conditions (default
// Ready); with heartbeat, the fake kubelet keeps them fresh (and owns the
// node's conditions), otherwise nobody does and the node lifecycle
// controller turns Ready Unknown after its grace period. Its Pods are
// force-deleted at the end: nothing else would finish their deletion.
func (s *scenario) newUnmanagedNode(short string, conds map[corev1.NodeConditionType]corev1.ConditionStatus, heartbeat bool) *corev1.Node {
	n := s.newNode(short)
	delete(n.Annotations, rig.FakeNodeAnnotation)
	want := defaultConditions()
	for k, v := range conds {
		want[k] = v
	}
	if heartbeat {
		fk := s.kubelet()
		fk.mu.Lock()
		fk.nodes[n.Name] = want
		fk.mu.Unlock()
	}
	n.Status.Conditions = conditionsFor(want, nil, metav1.Now())
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}, {Type: corev1.NodeHostName, Address: n.Name}}
	n.Status.Phase = corev1.NodeRunning
	s.t.Cleanup(func() { s.forceDeletePods() })
	return n
}

// forceDeletePods deletes every Pod of the scenario's namespace at once
// (grace 0): on an unmanaged node no kubelet confirms a deletion.
func (s *scenario) forceDeletePods() {
	ctx := context.Background()
	// The DaemonSets first, or their controller replaces what is deleted.
	_ = cluster.Client.AppsV1().DaemonSets(s.name).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	pods, err := cluster.Client.CoreV1().Pods(s.name).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	zero := int64(0)
	for _, p := range pods.Items {
		_ = cluster.Client.CoreV1().Pods(s.name).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
}

// tolerateAll lets the DaemonSet's Pods stay on nodes with any taint, as
// most node agents do.
func tolerateAll(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	return ds
}

// podOnNode returns the DaemonSet's Pod on node (nil when none).
func (s *scenario) podOnNode(name, node string) *corev1.Pod {
	s.t.Helper()
	pods, err := daemonPods(s.ctx, s.getDaemonSet(name))
	if err != nil {
		s.t.Fatal(err)
	}
	for i := range pods {
		if podNode(&pods[i]) == node {
			return &pods[i]
		}
	}
	return nil
}

func problemSummary(rep *report.Report) string {
	var b strings.Builder
	for _, p := range rep.Problems {
		fmt.Fprintf(&b, "\n  %s %s %v %v: %s", p.Severity, p.Type, p.DaemonSets, p.Nodes, p.Cause)
	}
	return b.String()
}

// Cordon and evict (the real Eviction API, which marks the Pod with a
// DisruptionTarget condition): the evicted daemon Pod stays Terminating on
// a node without a kubelet, which is how the drain shows;
// the other DaemonSet's Pod that does not start there is the drain's, not
// its own: one NodeDraining problem, a warning, exit 0. Before the drain
// the same Pod is an error.
func lifecycleDrainEviction(t *testing.T, s *scenario) {
	s.plainNodes(1)
	node := s.newUnmanagedNode("drain", nil, true)
	s.createNodes(true, node)
	agent := s.newDaemonSet("agent")
	// A grace period, so that the eviction is a graceful deletion that
	// the (absent) kubelet would finish.
	agent.Spec.Template.Spec.TerminationGracePeriodSeconds = ptr(int64(30))
	s.createDaemonSet(agent)
	s.createDaemonSet(s.newDaemonSet("probe"))
	for _, name := range []string{"agent", "probe"} {
		s.settle(name, func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
			return ds.Status.DesiredNumberScheduled == 2 && ds.Status.NumberReady == 1 && len(pods) == 2
		})
	}
	rep, code := runPlugin(t, "-n", s.name)
	if f := findingOn(rep, s.name, "probe", report.PendingPod, node.Name); f == nil || f.NodeCause != "" || f.Severity != report.SeverityError || code != 1 {
		t.Fatalf("before the drain: want probe's PendingPod on %s as its own error and exit 1, got %+v exit %d%s", node.Name, f, code, problemSummary(rep))
	}

	s.updateNode(node.Name, func(n *corev1.Node) { n.Spec.Unschedulable = true })
	victim := s.podOnNode("agent", node.Name)
	if victim == nil {
		t.Fatalf("no agent Pod on %s", node.Name)
	}
	ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: victim.Name, Namespace: s.name}}
	if err := cluster.Client.CoreV1().Pods(s.name).EvictV1(s.ctx, ev); err != nil {
		t.Fatalf("evict %s: %v", victim.Name, err)
	}
	err := wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		p, err := cluster.Client.CoreV1().Pods(s.name).Get(ctx, victim.Name, metav1.GetOptions{})
		return err == nil && p.DeletionTimestamp != nil, nil
	})
	if err != nil {
		t.Fatalf("evicted Pod %s never terminating: %v", victim.Name, err)
	}

	rep, code = runPlugin(t, "-n", s.name)
	p := problemOf(rep, "NodeDraining")
	if p == nil || len(p.Nodes) != 1 || p.Nodes[0] != node.Name || p.Severity != report.SeverityWarning || p.Failing {
		t.Fatalf("want a NodeDraining warning on %s, got%s", node.Name, problemSummary(rep))
	}
	f := findingOn(rep, s.name, "probe", report.PendingPod, node.Name)
	if f == nil || f.NodeCause != "Draining" || f.Severity != report.SeverityWarning || !strings.Contains(f.Message, "Pod "+victim.Name+" evicted") {
		t.Errorf("probe's PendingPod is not put down to the drain: %+v", f)
	}
	if code != 0 {
		t.Errorf("a drain alone fails the gate: exit %d%s", code, problemSummary(rep))
	}
}

// Karpenter's disruption taint on a node whose daemon Pod does not run:
// the node's lifecycle, not the Pod (NodeDisrupted, warning, exit 0); the
// same Pod was an error before the taint.
func lifecycleKarpenterDisrupted(t *testing.T, s *scenario) {
	s.plainNodes(1)
	node := s.newUnmanagedNode("k", nil, true)
	s.createNodes(true, node)
	s.createDaemonSet(tolerateAll(s.newDaemonSet("agent")))
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && ds.Status.NumberReady == 1 && len(pods) == 2
	})
	if _, code := runPlugin(t, "-n", s.name); code != 1 {
		t.Fatalf("before the taint: the Pod that does not start fails the gate: exit %d", code)
	}
	s.updateNode(node.Name, func(n *corev1.Node) {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule})
	})
	rep, code := runPlugin(t, "-n", s.name)
	f := findingOn(rep, s.name, "agent", report.PendingPod, node.Name)
	if f == nil || f.NodeCause != "Disrupted" || f.Severity != report.SeverityWarning || !strings.Contains(f.Message, "taint karpenter.sh/disrupted:NoSchedule") {
		t.Fatalf("want agent's PendingPod put down to the disruption, got %+v%s", f, problemSummary(rep))
	}
	if p := problemOf(rep, "NodeDisrupted"); p == nil || p.Failing || len(p.Nodes) != 1 {
		t.Errorf("want one NodeDisrupted problem, not failing, got%s", problemSummary(rep))
	}
	if code != 0 {
		t.Errorf("a disruption alone fails the gate: exit %d%s", code, problemSummary(rep))
	}
}

// Cluster API's delete-machine annotation on the node: alone (a Ready,
// schedulable node) it is only a preference for the next scale-down and
// hides nothing (the Pod that does not start stays an error, exit 1); once
// the node is cordoned, as Cluster API's drain before deleting a Machine
// does, it is the deletion (NodeDeleting, warning, exit 0).
func lifecycleClusterAPIDeletion(t *testing.T, s *scenario) {
	s.plainNodes(1)
	node := s.newUnmanagedNode("m", nil, true)
	s.createNodes(true, node)
	s.createDaemonSet(s.newDaemonSet("agent"))
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && ds.Status.NumberReady == 1 && len(pods) == 2
	})
	s.updateNode(node.Name, func(n *corev1.Node) {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations["cluster.x-k8s.io/delete-machine"] = ""
	})
	rep, code := runPlugin(t, "-n", s.name)
	if f := findingOn(rep, s.name, "agent", report.PendingPod, node.Name); f == nil || f.NodeCause != "" || code != 1 {
		t.Fatalf("delete-machine on a node in service: want the Pod's own error and exit 1, got %+v exit %d%s", f, code, problemSummary(rep))
	}
	s.updateNode(node.Name, func(n *corev1.Node) { n.Spec.Unschedulable = true })
	rep, code = runPlugin(t, "-n", s.name)
	f := findingOn(rep, s.name, "agent", report.PendingPod, node.Name)
	if f == nil || f.NodeCause != "Deleting" || f.Severity != report.SeverityWarning || !strings.Contains(f.Message, "annotation cluster.x-k8s.io/delete-machine") {
		t.Fatalf("want the Pod put down to the Machine's deletion, got %+v%s", f, problemSummary(rep))
	}
	if p := problemOf(rep, "NodeDeleting"); p == nil || p.Failing || code != 0 {
		t.Errorf("want a NodeDeleting problem, not failing, exit 0; got exit %d%s", code, problemSummary(rep))
	}
}

// rollingAgent is a DaemonSet tolerating every taint with maxUnavailable 1.
func (s *scenario) rollingAgent() *appsv1.DaemonSet {
	ds := tolerateAll(s.newDaemonSet("agent"))
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1))}}
	return ds
}

// stuckRollout runs the plugin and returns the agent's RolloutStuck.
func (s *scenario) stuckRollout() (*report.Finding, *report.Report, int) {
	s.t.Helper()
	rep, code := runPlugin(s.t, "-n", s.name)
	f := findingOn(rep, s.name, "agent", report.RolloutStuck, "")
	if f == nil {
		s.t.Fatalf("no RolloutStuck%s", problemSummary(rep))
	}
	return f, rep, code
}

// A new revision that crash-loops on a healthy node: the revision's fault
// (act), names no node.
func lifecycleRolloutRevision(t *testing.T, s *scenario) {
	s.plainNodes(3)
	s.createDaemonSet(s.rollingAgent())
	s.settle("agent", allReady(3))
	s.updateDaemonSet("agent", breakTemplate)
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.UpdatedNumberScheduled == 1 && len(pods) == 3
	})
	f, _, code := s.stuckRollout()
	if f.Reason != report.ReasonBudgetExhausted || f.Severity != report.SeverityError || len(f.Params.Nodes) != 0 || !strings.Contains(f.Suggestion, "rollout undo") || code != 1 {
		t.Errorf("want the revision blamed (BudgetExhausted, error, undo, exit 1), got %s %s nodes %v exit %d: %s", f.Reason, f.Severity, f.Params.Nodes, code, f.Suggestion)
	}
}

// rolloutHeldBy builds a rollout whose only unavailable Pod is on the
// unmanaged node n: the controller replaces the old Pod there first (it
// is unavailable), the new one never starts, and maxUnavailable 1 keeps
// the two healthy nodes on the old revision.
func (s *scenario) rolloutHeldBy(n *corev1.Node) {
	s.t.Helper()
	s.plainNodes(2)
	s.createNodes(false, n)
	s.createDaemonSet(s.rollingAgent())
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 3 && ds.Status.NumberReady == 2 && len(pods) == 3
	})
	s.updateDaemonSet("agent", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image += "-2" })
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.UpdatedNumberScheduled == 1 && len(pods) == 3
	})
	if p := s.podOnNode("agent", n.Name); p == nil || p.Spec.Containers[0].Image != "registry.example/agent:1-2" {
		s.t.Fatalf("the controller did not replace the Pod on %s first: %+v", n.Name, p)
	}
}

// A NotReady node holds the rollout: the node is broken, not the
// revision; someone must act on the node (error, exit 1).
func lifecycleRolloutNotReady(t *testing.T, s *scenario) {
	sick := s.newUnmanagedNode("sick", map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse}, false)
	s.rolloutHeldBy(sick)
	f, _, code := s.stuckRollout()
	if f.Reason != report.ReasonBlockedByBrokenNodes || f.Severity != report.SeverityError || len(f.Params.Nodes) != 1 || f.Params.Nodes[0].Node != sick.Name || code != 1 {
		t.Fatalf("want the rollout held by broken node %s (error, exit 1), got %s %s %+v exit %d", sick.Name, f.Reason, f.Severity, f.Params.Nodes, code)
	}
	if c := f.Params.Nodes[0].Cause; c != "NotReady" && c != "Unreachable" {
		t.Errorf("node cause %q, want NotReady (or Unreachable once the node lifecycle controller saw no heartbeat)", c)
	}
}

// A node in maintenance holds the rollout: the MaintenanceInProgress
// condition is written through the node status subresource, as an admin's
// tool would (KEP-5683: "the admin is responsible for setting and clearing
// this condition"), on a cordoned node. The rollout waits (warning, exit
// 0), with the node and since when. The same condition on a kwok node
// (whose heartbeat patches its status) survives the heartbeat: kwok does
// not overwrite conditions it does not own.
func lifecycleRolloutMaintenance(t *testing.T, s *scenario) {
	maint := s.newUnmanagedNode("maint", map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse}, false)
	maint.Spec.Unschedulable = true
	s.rolloutHeldBy(maint)
	since := writeCondition(t, s, maint.Name, "MaintenanceInProgress")

	f, rep, code := s.stuckRollout()
	if f.Reason != report.ReasonBlockedByNodeLifecycle || f.Severity != report.SeverityWarning || len(f.Params.Nodes) != 1 || code != 0 {
		t.Fatalf("want the rollout waiting for %s in maintenance (warning, exit 0), got %s %s %+v exit %d%s", maint.Name, f.Reason, f.Severity, f.Params.Nodes, code, problemSummary(rep))
	}
	n := f.Params.Nodes[0]
	if n.Node != maint.Name || n.Cause != "InMaintenance" || n.Evidence != "condition MaintenanceInProgress" || n.Since == nil || !n.Since.Equal(since) {
		t.Errorf("node state %+v, want %s InMaintenance since %s", n, maint.Name, since)
	}
	if strings.Contains(f.Suggestion, "rollout undo") {
		t.Errorf("a wait advises an undo: %s", f.Suggestion)
	}
	if p := findingOn(rep, s.name, "agent", report.PendingPod, maint.Name); p == nil || p.NodeCause != "InMaintenance" {
		t.Errorf("the new Pod that does not start on %s is not put down to the maintenance: %+v", maint.Name, p)
	}

	// kwok and a lifecycle condition: write it on a kwok node, wait for
	// kwok's next heartbeat, and read it back.
	kw := s.nodeName("n0")
	writeCondition(t, s, kw, "MaintenanceInProgress")
	beat := readyHeartbeat(t, s, kw)
	err := wait.PollUntilContextTimeout(s.ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		return readyHeartbeat(t, s, kw).After(beat), nil
	})
	if err != nil {
		t.Fatalf("kwok never renewed the heartbeat of %s: %v", kw, err)
	}
	if !hasCondition(t, s, kw, "MaintenanceInProgress") {
		t.Errorf("kwok's heartbeat dropped the MaintenanceInProgress condition of %s", kw)
	}
}

// writeCondition sets a True condition on the node through its status
// subresource and returns its transition time as the server stored it.
func writeCondition(t *testing.T, s *scenario, node, typ string) time.Time {
	t.Helper()
	var at time.Time
	err := wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		n, err := cluster.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		now := metav1.Now()
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeConditionType(typ), Status: corev1.ConditionTrue,
			Reason: "E2EMaintenance", Message: "set by the daemoncheck e2e suite", LastHeartbeatTime: now, LastTransitionTime: now})
		out, err := cluster.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return false, nil // a conflict with a heartbeat: retry
		}
		for _, c := range out.Status.Conditions {
			if string(c.Type) == typ {
				at = c.LastTransitionTime.Time
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("write condition %s on %s: %v", typ, node, err)
	}
	return at
}

func hasCondition(t *testing.T, s *scenario, node, typ string) bool {
	t.Helper()
	n, err := cluster.Client.CoreV1().Nodes().Get(s.ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.Status.Conditions {
		if string(c.Type) == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func readyHeartbeat(t *testing.T, s *scenario, node string) time.Time {
	t.Helper()
	n, err := cluster.Client.CoreV1().Nodes().Get(s.ctx, node, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.LastHeartbeatTime.Time
		}
	}
	return time.Time{}
}

// The recreate loop of a node shutting down: the node shows
// GracefulNodeShutdownInProgress and is NotReady; the test plays its
// kubelet's admission, which rejects every new Pod (status Failed,
// reason NodeShutdown, written through the Pod status subresource as the
// kubelet writes it). The real DaemonSet controller deletes each failed
// Pod (a FailedDaemonPod event) and creates another, backing off. The
// plugin counts the replacements from the events and puts them down to
// the shutdown (warning, exit 0).
func lifecycleRecreateLoop(t *testing.T, s *scenario) {
	s.plainNodes(1)
	down := s.newUnmanagedNode("down", map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse}, false)
	now := metav1.Now()
	down.Status.Conditions = append(down.Status.Conditions, corev1.NodeCondition{Type: "GracefulNodeShutdownInProgress", Status: corev1.ConditionTrue,
		Reason: "E2EShutdown", LastHeartbeatTime: now, LastTransitionTime: now})
	s.createNodes(false, down)
	s.createDaemonSet(tolerateAll(s.newDaemonSet("agent")))
	s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.DesiredNumberScheduled == 2 && len(pods) == 2
	})

	rejected := map[string]bool{}
	deadline := time.Now().Add(25 * time.Second)
	ds := s.getDaemonSet("agent")
	for time.Now().Before(deadline) {
		pods, err := daemonPods(s.ctx, ds)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pods {
			p := &pods[i]
			if podNode(p) != down.Name || p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodPending || rejected[p.Name] {
				continue
			}
			p.Status.Phase = corev1.PodFailed
			p.Status.Reason = "NodeShutdown"
			p.Status.Message = "Pod was rejected as the node is shutting down."
			if _, err := cluster.Client.CoreV1().Pods(s.name).UpdateStatus(s.ctx, p, metav1.UpdateOptions{}); err == nil {
				rejected[p.Name] = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(rejected) < 3 {
		t.Fatalf("the controller replaced the rejected Pod only %d times in 25s", len(rejected))
	}

	rep, code := runPlugin(t, "-n", s.name)
	f := findingOn(rep, s.name, "agent", report.RecreateLoop, down.Name)
	if f == nil {
		t.Fatalf("no RecreateLoop on %s after %d rejected Pods%s", down.Name, len(rejected), problemSummary(rep))
	}
	e := f.Params.Events
	if e == nil || e.Reason != "FailedDaemonPod" || e.Count < 3 || int(e.Count) > len(rejected) || !e.Last.After(e.First) {
		t.Errorf("loop events %+v, want FailedDaemonPod at least 3 and at most %d times, over a span", e, len(rejected))
	}
	if f.NodeCause != "ShuttingDown" || f.Severity != report.SeverityWarning {
		t.Errorf("RecreateLoop %s %s, want put down to the shutdown (warning)", f.NodeCause, f.Severity)
	}
	if p := problemOf(rep, "NodeShuttingDown"); p == nil || p.Failing {
		t.Errorf("want a NodeShuttingDown problem, not failing, got%s", problemSummary(rep))
	}
	if code != 0 {
		t.Errorf("a node shutting down fails the gate: exit %d%s", code, problemSummary(rep))
	}
}

package audit_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// lifecycleCondition sets a (1.37 lifecycle) node condition to True, its
// transition at Epoch-age.
func lifecycleCondition(typ string, age time.Duration) fixture.NodeOpt {
	return func(n *corev1.Node) {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeConditionType(typ), Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(fixture.Epoch.Add(-age))})
	}
}

// disrupted adds Karpenter's disruption taint, added at Epoch-age.
func disrupted(age time.Duration) fixture.NodeOpt {
	return func(n *corev1.Node) {
		at := metav1.NewTime(fixture.Epoch.Add(-age))
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "karpenter.sh/disrupted", Effect: corev1.TaintEffectNoSchedule, TimeAdded: &at})
	}
}

func annotated(k, v string) fixture.NodeOpt {
	return func(n *corev1.Node) {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[k] = v
	}
}

// A daemon Pod broken because its node is being taken away is the node's
// lifecycle, to be waited out (warning); the same Pod state on a node that
// still runs Pods stays the DaemonSet's fault (error).
func TestLifecycleCausesOnUnhealthyPods(t *testing.T) {
	tolerant := fixture.DaemonSet("ns", "agent", fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists}))
	crashing := detecttest.PodOn(fixture.Waiting("CrashLoopBackOff", "back-off", 5))
	detecttest.Run(t, report.UnhealthyPod, []detecttest.Case{
		{
			Name:  "Karpenter disruption taint: wait, since the taint was added",
			Nodes: []corev1.Node{fixture.Node("n1", disrupted(7*time.Minute))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Disrupted", Cause: "node disrupted by Karpenter: drained, then deleted; wait",
				Message: []string{"node n1 is Disrupted (taint karpenter.sh/disrupted:NoSchedule, since 2026-11-23T11:53:00Z)"},
				Fix:     []string{"nothing to fix in the DaemonSet", "kubectl describe node n1"}}},
		},
		{
			Name:  "MaintenanceInProgress on a node still in service does not hide the crash loop",
			Nodes: []corev1.Node{fixture.Node("n1", lifecycleCondition("MaintenanceInProgress", time.Hour))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError}},
		},
		{
			Name:  "MaintenanceInProgress on a cordoned node: wait",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned(), lifecycleCondition("MaintenanceInProgress", time.Hour))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "InMaintenance",
				Message: []string{"condition MaintenanceInProgress, since 2026-11-23T11:00:00Z"}}},
		},
		{
			Name:  "DrainInProgress on a cordoned node: draining",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned(), lifecycleCondition("DrainInProgress", time.Minute))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Draining", Fix: []string{"kubectl uncordon n1"}}},
		},
		{
			Name:  "Cluster API deletion of an unreachable node ranks above Unreachable",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady(), annotated("cluster.x-k8s.io/delete-machine", ""))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Deleting"}},
		},
		{
			Name:  "delete-machine on a Ready, schedulable node is only a preference: the Pod's own cause",
			Nodes: []corev1.Node{fixture.Node("n1", annotated("cluster.x-k8s.io/delete-machine", "yes"))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError}},
		},
		{
			Name:  "out-of-service taint: shutting down",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.NotReady(), fixture.WithTaint(corev1.TaintNodeOutOfService, "nodeshutdown", corev1.TaintEffectNoExecute))}, DS: tolerant, Pods: crashing,
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "ShuttingDown"}},
		},
		{
			Name:  "a Pod the kubelet rejected for the shutdown tells the node shuts down",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodOn(fixture.FailedPhase("NodeShutdown", "Pod was rejected as the node is shutting down.")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "ShuttingDown", Message: []string{"node n1 is ShuttingDown (Pod agent-", " NodeShutdown), which explains it"}}},
		},
		{
			Name:  "a Pod the kubelet stopped for the shutdown (reason Terminated, the shutdown manager's message)",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodOn(fixture.FailedPhase("Terminated", "Pod was terminated in response to imminent node shutdown.")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "ShuttingDown"}},
		},
		{
			Name:  "reason Terminated with another message is not the shutdown's",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodOn(fixture.FailedPhase("Terminated", "killed")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError}},
		},
		{
			Name:  "a Pod failed for another reason says nothing of the node",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodOn(fixture.FailedPhase("Evicted", "The node was low on resource: memory.")),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityError}},
		},
	})
}

// The disruption taint the DaemonSet does not tolerate makes its Pod
// misscheduled (NoSchedule: it stays); the rollout cannot reach an old Pod
// on a node in a lifecycle operation; a healthy node's fault stays an
// error next to them.
func TestLifecycleCausesOnOtherFindings(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	t.Run("misscheduled", func(t *testing.T) {
		detecttest.Run(t, report.MisscheduledPod, []detecttest.Case{{
			Name:  "untolerated disruption taint",
			Nodes: []corev1.Node{fixture.Node("n1", disrupted(time.Minute))}, DS: ds, Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Disrupted"}},
		}})
	})
	t.Run("outdated", func(t *testing.T) {
		detecttest.Run(t, report.OutdatedPod, []detecttest.Case{{
			Name:  "old Pod on a draining node is the node's; on a healthy node the rollout's",
			Nodes: []corev1.Node{fixture.Node("n1", fixture.Cordoned(), lifecycleCondition("Drained", time.Minute)), fixture.Node("n2")},
			DS:    fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete()), Pods: detecttest.PodsOn("n1", "n2"),
			Want: []detecttest.Want{
				{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Draining"},
				{Node: "n2", Severity: report.SeverityWarning},
			},
		}})
	})
	t.Run("healthy node keeps its error", func(t *testing.T) {
		tolerant := fixture.DaemonSet("ns", "agent", fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists}))
		detecttest.Run(t, report.UnhealthyPod, []detecttest.Case{{
			Name:  "crash loop on both",
			Nodes: []corev1.Node{fixture.Node("n1", disrupted(time.Minute)), fixture.Node("n2")}, DS: tolerant,
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "n1", fixture.Waiting("CrashLoopBackOff", "", 3)), fixture.Pod(ds, "n2", fixture.Waiting("CrashLoopBackOff", "", 3))}
			},
			Want: []detecttest.Want{
				{Node: "n1", Severity: report.SeverityWarning, NodeCause: "Disrupted"},
				{Node: "n2", Severity: report.SeverityError},
			},
		}})
	})
}

// evicted is a Pod the Eviction API is deleting: the DisruptionTarget
// condition it adds, and the deletion.
func evicted() fixture.PodOpt {
	return func(p *corev1.Pod) {
		fixture.Terminating()(p)
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"})
	}
}

// An evicted daemon Pod on a cordoned node says the node is being
// drained: the node problem groups every DaemonSet's findings there. A
// Pod a rolling update deletes there says nothing of the node.
func TestDrainFromEvictedPodGroupsAcrossDaemonSets(t *testing.T) {
	tol := fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})
	a := fixture.DaemonSet("ns", "a", tol)
	b := fixture.DaemonSet("ns", "b", tol)
	nodes := []corev1.Node{fixture.Node("n1", fixture.Cordoned()), fixture.Node("n2")}
	pods := []corev1.Pod{
		fixture.Pod(&a, "n1", evicted()), fixture.Pod(&a, "n2"),
		fixture.Pod(&b, "n1", fixture.Waiting("CrashLoopBackOff", "", 2)), fixture.Pod(&b, "n2"),
	}
	deleted := slices.Clone(pods)
	deleted[0] = fixture.Pod(&a, "n1", fixture.Terminating())
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{a, b}, deleted, fixture.Revision(&a, a.Generation), fixture.Revision(&b, b.Generation))
	if rep := detecttest.Analyze(s, audit.Options{}); len(rep.Problems) == 0 || strings.HasPrefix(rep.Problems[0].Type, "NodeDraining") || rep.Summary.Failing == 0 {
		t.Errorf("a Pod deleted (not evicted) on a cordoned node: want b's crash loop its own error, got %s", problemTypes(rep))
	}
	s = detecttest.Cluster(nodes, []appsv1.DaemonSet{a, b}, pods, fixture.Revision(&a, a.Generation), fixture.Revision(&b, b.Generation))
	rep := detecttest.Analyze(s, audit.Options{})
	var p *report.Problem
	for i := range rep.Problems {
		if rep.Problems[i].Type == "NodeDraining" {
			p = &rep.Problems[i]
		}
	}
	if p == nil {
		t.Fatalf("want a NodeDraining problem, got %s", problemTypes(rep))
	}
	if len(p.Nodes) != 1 || p.Nodes[0] != "n1" || p.Severity != report.SeverityWarning {
		t.Errorf("NodeDraining on %v severity %s, want n1 warning", p.Nodes, p.Severity)
	}
	if rep.Summary.Failing != 0 {
		t.Errorf("a drain alone fails the gate: %d failing findings", rep.Summary.Failing)
	}
}

// RolloutStuck says who holds the rollout: nodes in maintenance (wait,
// warning, with the nodes and since when), broken nodes, or the revision
// (act, error). A Pod of the new revision failing on a healthy node makes
// it the revision's, whatever the other nodes.
func TestRolloutStuckSaysWhoHoldsIt(t *testing.T) {
	tol := fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})
	rolling := fixture.DaemonSet("ns", "agent", fixture.Generation(2), tol)
	// n1 has a crash-looping new Pod, n2 and n3 old ones.
	pods := func(ds *appsv1.DaemonSet) []corev1.Pod {
		return []corev1.Pod{fixture.Pod(ds, "n1", fixture.AtGeneration(ds, 2), fixture.Waiting("CrashLoopBackOff", "", 4)), fixture.Pod(ds, "n2"), fixture.Pod(ds, "n3")}
	}
	for _, tc := range []struct {
		name     string
		n1       []fixture.NodeOpt
		reason   report.Reason
		severity report.Severity
		cause    string
	}{
		{"bad revision on a healthy node", nil, report.ReasonBudgetExhausted, report.SeverityError, "blocked: 1 unavailable of maxUnavailable 1"},
		{"NotReady node", []fixture.NodeOpt{fixture.NotReady()}, report.ReasonBlockedByBrokenNodes, report.SeverityError, "blocked by broken nodes, not the revision"},
		{"node in maintenance", []fixture.NodeOpt{fixture.Cordoned(), lifecycleCondition("MaintenanceInProgress", 20*time.Minute)}, report.ReasonBlockedByNodeLifecycle, report.SeverityWarning, "waiting for nodes in maintenance, not the revision"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nodes := []corev1.Node{fixture.Node("n1", tc.n1...), fixture.Node("n2"), fixture.Node("n3")}
			s := detecttest.Cluster(nodes, []appsv1.DaemonSet{rolling}, pods(&rolling), fixture.Revision(&rolling, 2))
			var stuck, outdated *report.Finding
			for _, f := range detecttest.FindingsOf(detecttest.Analyze(s, audit.Options{}), "ns/agent") {
				switch f.Type {
				case report.RolloutStuck:
					stuck = &f
				case report.OutdatedPod:
					outdated = &f
				}
			}
			if waits := outdated != nil && strings.Contains(outdated.Suggestion, "waits for nodes in maintenance"); waits != (tc.reason == report.ReasonBlockedByNodeLifecycle) {
				t.Errorf("the outdated Pod's advice: %+v", outdated)
			}
			if stuck == nil {
				t.Fatal("no RolloutStuck")
			}
			if stuck.Reason != tc.reason || stuck.Severity != tc.severity || !strings.HasPrefix(stuck.Cause, tc.cause) {
				t.Fatalf("RolloutStuck %s %s %q, want %s %s %q", stuck.Reason, stuck.Severity, stuck.Cause, tc.reason, tc.severity, tc.cause)
			}
			if tc.reason == report.ReasonBudgetExhausted {
				if len(stuck.Params.Nodes) != 0 {
					t.Errorf("the revision's fault names nodes: %+v", stuck.Params.Nodes)
				}
				return
			}
			if len(stuck.Params.Nodes) != 1 || stuck.Params.Nodes[0].Node != "n1" {
				t.Fatalf("nodes %+v, want n1", stuck.Params.Nodes)
			}
			if tc.reason == report.ReasonBlockedByNodeLifecycle {
				n := stuck.Params.Nodes[0]
				want := fixture.Epoch.Add(-20 * time.Minute)
				if n.Cause != "InMaintenance" || n.Evidence != "condition MaintenanceInProgress" || n.Since == nil || !n.Since.Equal(want) || stuck.Since == nil || !stuck.Since.Equal(want) {
					t.Errorf("node state %+v since %v, want InMaintenance since %s", n, stuck.Since, want)
				}
				if !strings.Contains(stuck.Suggestion, "nothing to fix in the revision") || strings.Contains(stuck.Suggestion, "rollout undo") {
					t.Errorf("a wait advises an undo: %s", stuck.Suggestion)
				}
			}
		})
	}
	t.Run("one node in maintenance, one bad Pod on a healthy node: the revision's", func(t *testing.T) {
		ds := fixture.DaemonSet("ns", "agent", fixture.Generation(2), tol, maxUnavailable(2))
		nodes := []corev1.Node{fixture.Node("n1", fixture.Cordoned(), lifecycleCondition("MaintenanceInProgress", time.Minute)), fixture.Node("n2"), fixture.Node("n3")}
		ps := []corev1.Pod{
			fixture.Pod(&ds, "n1", fixture.AtGeneration(&ds, 2), fixture.Waiting("CrashLoopBackOff", "", 4)),
			fixture.Pod(&ds, "n2", fixture.AtGeneration(&ds, 2), fixture.Waiting("CrashLoopBackOff", "", 4)),
			fixture.Pod(&ds, "n3"),
		}
		s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, ps, fixture.Revision(&ds, 2))
		for _, f := range detecttest.FindingsOf(detecttest.Analyze(s, audit.Options{}), "ns/agent") {
			if f.Type == report.RolloutStuck && (f.Reason != report.ReasonBudgetExhausted || f.Severity != report.SeverityError) {
				t.Errorf("mixed blockers: %s %s, want BudgetExhausted error", f.Reason, f.Severity)
			}
		}
	})
}

// failedDaemonPodEvent is the controller's event for a failed daemon Pod on
// node, seen count times from Epoch-first to Epoch-last.
func failedDaemonPodEvent(ds *appsv1.DaemonSet, i int, node string, count int32, first, last time.Duration) corev1.Event {
	return corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: ds.Namespace, Name: fmt.Sprintf("%s.%d", ds.Name, i)},
		InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Namespace: ds.Namespace, Name: ds.Name, UID: ds.UID},
		Type:           corev1.EventTypeWarning, Reason: "FailedDaemonPod", Count: count,
		Message:        fmt.Sprintf("Found failed daemon pod %s/%s-%d on node %s, will try to kill it", ds.Namespace, ds.Name, i, node),
		FirstTimestamp: metav1.NewTime(fixture.Epoch.Add(-first)), LastTimestamp: metav1.NewTime(fixture.Epoch.Add(-last)),
	}
}

// The recreate loop on a node shutting down: the controller's
// FailedDaemonPod events for one node, counted and spanned; attributed to
// the node's shutdown when its Pods say so.
func TestRecreateLoopFromEvents(t *testing.T) {
	tolerant := fixture.DaemonSet("ns", "agent", fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists}))
	events := func(evs ...func(ds *appsv1.DaemonSet, i int) corev1.Event) func(s *model.Snapshot) {
		return func(s *model.Snapshot) {
			for i, e := range evs {
				s.Events = append(s.Events, e(&s.DaemonSets[0], i))
			}
		}
	}
	ev := func(node string, count int32, first, last time.Duration) func(ds *appsv1.DaemonSet, i int) corev1.Event {
		return func(ds *appsv1.DaemonSet, i int) corev1.Event {
			return failedDaemonPodEvent(ds, i, node, count, first, last)
		}
	}
	shutdownPod := detecttest.PodOn(fixture.FailedPhase("NodeShutdown", "Pod was rejected as the node is shutting down."))
	detecttest.Run(t, report.RecreateLoop, []detecttest.Case{
		{
			Name:  "five replacements on a node shutting down",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: shutdownPod,
			Edit: events(ev("n1", 1, 4*time.Minute, 4*time.Minute), ev("n1", 1, 3*time.Minute, 3*time.Minute), ev("n1", 3, 2*time.Minute, 30*time.Second)),
			Want: []detecttest.Want{{Node: "n1", Severity: report.SeverityWarning, NodeCause: "ShuttingDown",
				Message: []string{"deleted 5 failed daemon Pods on n1 between 2026-11-23T11:56:00Z and 2026-11-23T11:59:30Z (FailedDaemonPod events)"}}},
		},
		{
			Name:  "two failures are a retry, not a loop",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodsOn("n1"),
			Edit: events(ev("n1", 2, 3*time.Minute, time.Minute)),
		},
		{
			Name:  "a loop that ended an hour ago is over",
			Nodes: detecttest.ReadyNodes("n1"), DS: tolerant, Pods: detecttest.PodsOn("n1"),
			Edit: events(ev("n1", 9, 70*time.Minute, 50*time.Minute)),
		},
		{
			Name:  "a loop on a healthy node has no node cause: the kubelet's reason is the lead",
			Nodes: detecttest.ReadyNodes("n1", "n2"), DS: tolerant, Pods: detecttest.PodsOn("n1", "n2"),
			Edit: events(ev("n2", 4, 5*time.Minute, time.Minute), ev("n1", 1, time.Minute, time.Minute)),
			Want: []detecttest.Want{{Node: "n2", Severity: report.SeverityWarning, Fix: []string{"kubectl describe daemonset agent -n ns", "kubectl describe node n2"}}},
		},
	})
}

func maxUnavailable(n int) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) {
		v := intstr.FromInt(n)
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &v}
	}
}

func problemTypes(rep *report.Report) []string {
	var out []string
	for _, p := range rep.Problems {
		out = append(out, p.Type+"("+p.Cause+")")
	}
	return out
}

// One DaemonSet's Pod evicted on a cordoned node changes the cause of
// another DaemonSet's findings there: a Memo must not keep the other's
// report from before. (Today the terminating Pod also changes the capacity
// plan, which already stops every reuse; the Memo compares the Pods'
// evidence itself so as not to depend on that.)
func TestMemoSeesADrainFromAnotherDaemonSetsPod(t *testing.T) {
	tol := fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists})
	a := fixture.DaemonSet("ns", "a", tol)
	b := fixture.DaemonSet("ns", "b", tol)
	nodes := []corev1.Node{fixture.Node("n1", fixture.Cordoned()), fixture.Node("n2")}
	pods := []corev1.Pod{
		fixture.Pod(&a, "n1"), fixture.Pod(&a, "n2"),
		fixture.Pod(&b, "n1", fixture.Waiting("CrashLoopBackOff", "", 2)), fixture.Pod(&b, "n2"),
	}
	snap := detecttest.Cluster(nodes, []appsv1.DaemonSet{a, b}, pods, fixture.Revision(&a, a.Generation), fixture.Revision(&b, b.Generation))
	rv := versioned(snap)
	memo := &audit.Memo{}
	opts := audit.Options{Now: fixture.Epoch}
	withMemo := opts
	withMemo.Memo = memo
	sameJSON(t, "before", audit.Analyze(snap, withMemo), audit.Analyze(snap, opts))
	snap = cloneSnapshot(snap)
	for i := range snap.DaemonPods {
		if p := &snap.DaemonPods[i]; p.OwnerUID == a.UID && p.NodeName == "n1" {
			p.Deleting, p.Evicted, p.ResourceVersion = true, true, rv.next()
		}
	}
	got := audit.Analyze(snap, withMemo)
	sameJSON(t, "after the eviction", got, audit.Analyze(snap, opts))
	for _, f := range detecttest.FindingsOf(got, "ns/b") {
		if f.Node == "n1" && f.NodeCause != "Draining" {
			t.Errorf("b's %s on n1: node cause %q, want Draining", f.Type, f.NodeCause)
		}
	}
}

package audit_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// withStatus sets a DaemonSet's status (as the controller would have).
func withStatus(c report.Counts) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) {
		ds.Status = appsv1.DaemonSetStatus{
			DesiredNumberScheduled: c.DesiredNumberScheduled, CurrentNumberScheduled: c.CurrentNumberScheduled,
			NumberReady: c.NumberReady, NumberAvailable: c.NumberAvailable, UpdatedNumberScheduled: c.UpdatedNumberScheduled,
			NumberMisscheduled: c.NumberMisscheduled, NumberUnavailable: c.NumberUnavailable, ObservedGeneration: ds.Generation,
		}
	}
}

func run(t *testing.T, s *model.Snapshot) *report.Report {
	t.Helper()
	return audit.Analyze(s, audit.Options{Now: fixture.Epoch})
}

// kinds returns "Type@node" of every finding, sorted.
func kinds(dr report.DaemonSetReport) []string {
	var out []string
	for _, f := range dr.Findings {
		out = append(out, string(f.Type)+"@"+f.Node)
	}
	sort.Strings(out)
	return out
}

func find(dr report.DaemonSetReport, typ report.FindingType) *report.Finding {
	for i := range dr.Findings {
		if dr.Findings[i].Type == typ {
			return &dr.Findings[i]
		}
	}
	return nil
}

func counts(desired, current, ready, available, updated, mis int32) report.Counts {
	return report.Counts{DesiredNumberScheduled: desired, CurrentNumberScheduled: current, NumberReady: ready, NumberAvailable: available,
		UpdatedNumberScheduled: updated, NumberMisscheduled: mis, NumberUnavailable: desired - available, ObservedGeneration: 1}
}

func TestFindingsAndCounts(t *testing.T) {
	type build func() *model.Snapshot
	tests := []struct {
		name     string
		snap     build
		want     []string
		computed report.Counts
		check    func(t *testing.T, dr report.DaemonSetReport)
	}{
		{
			name: "healthy",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			computed: counts(2, 2, 2, 2, 2, 0),
		},
		{
			name: "MissingPod",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"MissingPod@n2"},
			computed: counts(2, 1, 1, 1, 1, 0),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				if dr.Nodes[1].Coverage != report.Missing || dr.Nodes[0].Coverage != report.Covered {
					t.Errorf("coverage: %+v", dr.Nodes)
				}
			},
		},
		{
			name: "MissingPod names the FailedCreate event",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				ev := corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "e1"}, Type: corev1.EventTypeWarning, Reason: "FailedCreate",
					Message: "Error creating: exceeded quota", InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", UID: ds.UID, Name: "d"}, LastTimestamp: metav1.NewTime(fixture.Epoch)}
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds}, Events: []corev1.Event{ev}}
			},
			want:     []string{"MissingPod@n1"},
			computed: counts(1, 0, 0, 0, 0, 0),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				if f := find(dr, report.MissingPod); !strings.Contains(f.Message, "exceeded quota") {
					t.Errorf("message %q lacks the event", f.Message)
				}
			},
		},
		{
			name: "PendingPod unbound with target from affinity counts as current",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1", fixture.Unscheduled("0/1 nodes are available: 1 Insufficient cpu."))), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"PendingPod@n1"},
			computed: counts(1, 1, 0, 0, 1, 0),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				f := find(dr, report.PendingPod)
				if !strings.Contains(f.Message, "Insufficient cpu") || !strings.Contains(f.Suggestion, "resource requests") {
					t.Errorf("pending finding: %+v", f)
				}
			},
		},
		{
			name: "PendingPod bound but not started",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				p := fixture.Pod(&ds, "n1")
				p.Status.Phase = corev1.PodPending
				p.Status.ContainerStatuses[0].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
				p.Status.Conditions[1].Status = corev1.ConditionFalse
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(p), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"PendingPod@n1"},
			computed: counts(1, 1, 0, 0, 1, 0),
		},
		{
			name: "UnhealthyPod: CrashLoopBackOff, ImagePullBackOff, OOMKilled, Failed, not ready",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3"), fixture.Node("n4"), fixture.Node("n5")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(
						fixture.Pod(&ds, "n1", fixture.Waiting("CrashLoopBackOff", "back-off", 7)),
						fixture.Pod(&ds, "n2", fixture.Waiting("ImagePullBackOff", "Back-off pulling image", 0)),
						fixture.Pod(&ds, "n3", fixture.OOMKilled(2)),
						fixture.Pod(&ds, "n4", fixture.FailedPhase("Evicted", "The node was low on resource: memory.")),
						fixture.Pod(&ds, "n5", fixture.NotReadyPod()),
					), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"UnhealthyPod@n1", "UnhealthyPod@n2", "UnhealthyPod@n3", "UnhealthyPod@n4", "UnhealthyPod@n5"},
			computed: counts(5, 5, 0, 0, 5, 0),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				want := map[string]string{"n1": "logs", "n2": "image", "n3": "memory limit", "n4": "recreates", "n5": "readiness"}
				for _, f := range dr.Findings {
					if !strings.Contains(f.Suggestion, want[f.Node]) {
						t.Errorf("%s: suggestion %q lacks %q", f.Node, f.Suggestion, want[f.Node])
					}
				}
				if f := dr.Findings[0]; !strings.Contains(f.Message, "CrashLoopBackOff") || !strings.Contains(f.Message, "7 restarts") {
					t.Errorf("crashloop message %q", f.Message)
				}
			},
		},
		{
			name: "DuplicatePods: oldest bound Pod is counted",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(
						fixture.Pod(&ds, "n1", fixture.Named("d-new"), fixture.PodCreatedAgo(time.Minute)),
						fixture.Pod(&ds, "n1", fixture.Named("d-old"), fixture.PodCreatedAgo(time.Hour), fixture.NotReadyPod()),
					), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			// The controller counts the oldest (not ready) one: ready 0.
			want:     []string{"DuplicatePods@n1", "UnhealthyPod@n1"},
			computed: counts(1, 1, 0, 0, 1, 0),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				if f := find(dr, report.DuplicatePods); !strings.Contains(f.Message, "keeps the oldest bound one (d-old)") {
					t.Errorf("duplicate message %q", f.Message)
				}
			},
		},
		{
			name: "bound Pod is counted before an older unbound one",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(
						fixture.Pod(&ds, "n1", fixture.Named("d-bound"), fixture.PodCreatedAgo(time.Minute)),
						fixture.Pod(&ds, "n1", fixture.Named("d-unbound"), fixture.PodCreatedAgo(time.Hour), fixture.Unscheduled("")),
					), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"DuplicatePods@n1", "PendingPod@n1"},
			computed: counts(1, 1, 1, 1, 1, 0),
		},
		{
			name: "surge rollout: old and new Pod on one node is not a duplicate",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d", fixture.Surge(1), fixture.Generation(2))
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(
						fixture.Pod(&ds, "n1", fixture.Named("d-old"), fixture.PodCreatedAgo(time.Hour)),
						fixture.Pod(&ds, "n1", fixture.Named("d-new"), fixture.AtGeneration(&ds, 2), fixture.PodCreatedAgo(time.Minute), fixture.NotReadyPod()),
					), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)}}
			},
			want: []string{"OutdatedPod@n1", "UnhealthyPod@n1"},
			computed: func() report.Counts {
				c := counts(1, 1, 1, 1, 0, 0)
				c.ObservedGeneration = 2
				return c
			}(),
		},
		{
			name: "MisscheduledPod: NoSchedule taint keeps running, NoExecute and selector evict",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d", fixture.WithAffinity(fixture.Term(fixture.Req("pool", corev1.NodeSelectorOpNotIn, "batch"))))
				return &model.Snapshot{
					Nodes: []corev1.Node{fixture.Node("a", fixture.WithTaint("team", "x", corev1.TaintEffectNoSchedule)), fixture.Node("b", fixture.WithTaint("team", "x", corev1.TaintEffectNoExecute)),
						fixture.Node("c", fixture.WithLabel("pool", "batch")), fixture.Node("d", fixture.NotReady())},
					DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "a"), fixture.Pod(&ds, "b"), fixture.Pod(&ds, "c"), fixture.Pod(&ds, "d")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"MisscheduledPod@a", "MisscheduledPod@b", "MisscheduledPod@c", "MisscheduledPod@d"},
			computed: counts(0, 0, 0, 0, 0, 4),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				msgs := map[string]string{}
				for _, f := range dr.Findings {
					msgs[f.Node] = f.Message + " | " + f.Suggestion
				}
				for node, want := range map[string]string{"a": "leaves it running", "b": "will delete it", "c": "will delete it", "d": "NotReady"} {
					if !strings.Contains(msgs[node], want) {
						t.Errorf("%s: %q lacks %q", node, msgs[node], want)
					}
				}
				if !strings.Contains(msgs["a"], "{key: team, operator: Equal, value: x, effect: NoSchedule}") || !strings.Contains(msgs["a"], "kubectl taint node a team:NoSchedule-") {
					t.Errorf("taint suggestion: %q", msgs["a"])
				}
				if !strings.Contains(msgs["c"], "pool NotIn [batch] fails") {
					t.Errorf("affinity reason: %q", msgs["c"])
				}
				for _, nv := range dr.Nodes {
					if nv.ShouldRun || nv.Coverage != report.NotTargeted {
						t.Errorf("node %s: %+v", nv.Name, nv)
					}
					if wantCont := nv.Name == "a" || nv.Name == "d"; nv.ShouldContinueRunning != wantCont {
						t.Errorf("node %s shouldContinueRunning %v", nv.Name, nv.ShouldContinueRunning)
					}
				}
			},
		},
		{
			name: "OrphanedPod is counted nowhere",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "gone")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"OrphanedPod@gone"},
			computed: counts(1, 1, 1, 1, 1, 0),
		},
		{
			name: "OutdatedPod with OnDelete says to delete it",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d", fixture.OnDelete(), fixture.Generation(2))
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods:          collect.CompactPods(fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2", fixture.AtGeneration(&ds, 2))),
					ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)}}
			},
			want: []string{"OutdatedPod@n1"},
			computed: func() report.Counts {
				c := counts(2, 2, 2, 2, 1, 0)
				c.ObservedGeneration = 2
				return c
			}(),
			check: func(t *testing.T, dr report.DaemonSetReport) {
				f := find(dr, report.OutdatedPod)
				if !strings.Contains(f.Suggestion, "OnDelete") || !strings.Contains(f.Message, "1 of 2 nodes updated") {
					t.Errorf("outdated: %+v", f)
				}
			},
		},
		{
			name: "revision hash wins over template generation (either matching means updated)",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d", fixture.Generation(2))
				p := fixture.Pod(&ds, "n1", fixture.AtGeneration(&ds, 2))
				p.Labels["pod-template-generation"] = "1" // stale label, current hash
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(p),
					ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1), fixture.Revision(&ds, 2)}}
			},
			computed: func() report.Counts { c := counts(1, 1, 1, 1, 1, 0); c.ObservedGeneration = 2; return c }(),
		},
		{
			name: "terminal Pod being deleted is ignored, as by the controller",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1", fixture.FailedPhase("Error", ""), fixture.Terminating())), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"MissingPod@n1"},
			computed: counts(1, 0, 0, 0, 0, 0),
		},
		{
			name: "minReadySeconds: ready but not yet available",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				ds.Spec.MinReadySeconds = 600
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}, DaemonSets: []appsv1.DaemonSet{ds},
					DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2", fixture.PodCreatedAgo(2*time.Minute))), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			computed: counts(2, 2, 2, 1, 2, 0),
		},
		{
			name: "Pods of other owners are not the DaemonSet's, whatever their labels",
			snap: func() *model.Snapshot {
				ds := fixture.DaemonSet("ns", "d")
				other := fixture.DaemonSet("ns", "other")
				impostor := fixture.Pod(&other, "n1")
				impostor.Labels = ds.Spec.Template.Labels
				return &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(impostor), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			},
			want:     []string{"MissingPod@n1"},
			computed: counts(1, 0, 0, 0, 0, 0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := tt.snap()
			// The controller's status agrees with the expected counts, so
			// only the findings under test appear (no StaleStatus).
			withStatus(tt.computed)(&snap.DaemonSets[0])
			rep := run(t, snap)
			dr := rep.DaemonSets[0]
			if got := kinds(dr); !reflect.DeepEqual(got, tt.want) && (len(got) != 0 || len(tt.want) != 0) {
				t.Errorf("findings %v, want %v\n%+v", got, tt.want, dr.Findings)
			}
			if dr.Computed == nil || *dr.Computed != tt.computed {
				t.Errorf("computed %+v, want %+v", dr.Computed, tt.computed)
			}
			for _, f := range dr.Findings {
				if f.Message == "" || f.Suggestion == "" {
					t.Errorf("finding without message or suggestion: %+v", f)
				}
			}
			if tt.check != nil {
				tt.check(t, dr)
			}
		})
	}
}

func TestStaleStatus(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d", withStatus(counts(1, 1, 1, 1, 1, 0)))
	snap := func(ds appsv1.DaemonSet, nodes ...corev1.Node) *model.Snapshot {
		return &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
	}
	// Status agrees: no finding.
	if got := kinds(run(t, snap(ds, fixture.Node("n1"))).DaemonSets[0]); len(got) != 0 {
		t.Fatalf("agreeing status produced %v", got)
	}
	// The documented stale case: a NoSchedule taint was added, the controller
	// did not requeue, its status still counts the node as desired.
	dr := run(t, snap(ds, fixture.Node("n1", fixture.WithTaint("maint", "", corev1.TaintEffectNoSchedule)))).DaemonSets[0]
	if got := kinds(dr); !reflect.DeepEqual(got, []string{"MisscheduledPod@n1", "StaleStatus@"}) {
		t.Fatalf("findings %v", got)
	}
	f := find(dr, report.StaleStatus)
	for _, want := range []string{"desiredNumberScheduled 1 (recomputed 0)", "numberMisscheduled 0 (recomputed 1)", "kubectl annotate"} {
		if !strings.Contains(f.Message+f.Suggestion, want) {
			t.Errorf("stale finding lacks %q: %+v", want, f)
		}
	}
	// observedGeneration behind generation.
	behind := ds
	behind.Generation = 2
	dr = run(t, snap(behind, fixture.Node("n1"))).DaemonSets[0]
	if f := find(dr, report.StaleStatus); f == nil || !strings.Contains(f.Message, "observedGeneration 1 is behind metadata.generation 2") {
		t.Errorf("generation staleness not reported: %+v", dr.Findings)
	}
}

func TestPartialSnapshotsDoNotGuess(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	s := &model.Snapshot{DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1", fixture.Waiting("CrashLoopBackOff", "", 3)))}
	s.MarkMissing(model.Nodes, "forbidden", "")
	rep := run(t, s)
	dr := rep.DaemonSets[0]
	if !rep.Partial || dr.Computed != nil || len(dr.Unknown) == 0 {
		t.Fatalf("partial report: partial=%v computed=%v unknown=%v", rep.Partial, dr.Computed, dr.Unknown)
	}
	// Pod-level findings are still known; node-level ones are not guessed.
	if got := kinds(dr); !reflect.DeepEqual(got, []string{"UnhealthyPod@n1"}) {
		t.Errorf("findings %v", got)
	}

	s = &model.Snapshot{DaemonSets: []appsv1.DaemonSet{ds}, Nodes: []corev1.Node{fixture.Node("n1")}}
	s.MarkMissing(model.Pods, "forbidden", "")
	dr = run(t, s).DaemonSets[0]
	if len(dr.Findings) != 0 || dr.Computed != nil || dr.Nodes[0].Coverage != report.CoverageUnknown || !dr.Nodes[0].ShouldRun {
		t.Errorf("without pods: findings %v computed %v nodes %+v", kinds(dr), dr.Computed, dr.Nodes)
	}
}

func TestDeterministic(t *testing.T) {
	ds1, ds2 := fixture.DaemonSet("b", "x"), fixture.DaemonSet("a", "y")
	s := &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n2"), fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds1, ds2},
		DaemonPods: collect.CompactPods(fixture.Pod(&ds1, "n2"), fixture.Pod(&ds2, "gone2"), fixture.Pod(&ds2, "gone1"))}
	a, b := run(t, s), run(t, s)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two analyses of one snapshot differ")
	}
	if a.DaemonSets[0].Namespace != "a" || a.DaemonSets[0].Nodes[0].Name != "n1" {
		t.Errorf("not sorted: %s %s", a.DaemonSets[0].Namespace, a.DaemonSets[0].Nodes[0].Name)
	}
	if got := kinds(a.DaemonSets[0]); got[0] != "MissingPod@n1" {
		t.Errorf("order %v", got)
	}
}

// Owner references are namespaced: two DaemonSets of different namespaces
// that share a UID (a hand-edited dump) do not count each other's Pods.
func TestOwnershipIsPerNamespace(t *testing.T) {
	a := fixture.DaemonSet("ns1", "agent")
	b := fixture.DaemonSet("ns2", "agent")
	b.UID = a.UID
	s := &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{a, b},
		DaemonPods:          collect.CompactPods(fixture.Pod(&a, "n1"), fixture.Pod(&b, "n1")),
		ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&a, 1)}}
	for _, dr := range run(t, s).DaemonSets {
		if dr.Computed == nil || dr.Computed.CurrentNumberScheduled != 1 || len(dr.Nodes[0].Pods) != 1 {
			t.Errorf("%s/%s counts Pods of the other namespace: %+v", dr.Namespace, dr.Name, dr.Computed)
		}
		for _, f := range dr.Findings {
			if f.Type == report.DuplicatePods {
				t.Errorf("%s/%s: fake DuplicatePods %s", dr.Namespace, dr.Name, f.Message)
			}
		}
	}
}

package audit_test

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

const kruiseAPIVersion = "apps.kruise.io/v1alpha1"

// advanced makes ds an Advanced DaemonSet: its apiVersion, and its Pods'
// and revision's controller references, in apps.kruise.io.
func advanced(ds *appsv1.DaemonSet, pods []corev1.Pod, rev *appsv1.ControllerRevision) {
	ds.APIVersion = kruiseAPIVersion
	for i := range pods {
		pods[i].OwnerReferences[0].APIVersion = kruiseAPIVersion
	}
	rev.OwnerReferences[0].APIVersion = kruiseAPIVersion
}

// kruiseRun analyses one DaemonSet at generation 2 on nodes, with a Pod at
// the given generation on each node that has one (0: none); k, when set,
// makes it an Advanced DaemonSet with those settings.
func kruiseRun(t *testing.T, k *model.KruiseDaemonSet, nodes []corev1.Node, gens map[string]int64) report.DaemonSetReport {
	t.Helper()
	ds := fixture.DaemonSet("ns", "ads", fixture.Generation(2))
	var pods []corev1.Pod
	for _, n := range nodes {
		if g := gens[n.Name]; g > 0 {
			pods = append(pods, fixture.Pod(&ds, n.Name, fixture.AtGeneration(&ds, g)))
		}
	}
	rev := fixture.Revision(&ds, 2)
	if k != nil {
		advanced(&ds, pods, &rev)
		k.Namespace, k.Name, k.UID, k.APIVersion = ds.Namespace, ds.Name, ds.UID, kruiseAPIVersion
	}
	s := &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pods...), ControllerRevisions: []appsv1.ControllerRevision{rev}}
	if k != nil {
		s.Kruise = []model.KruiseDaemonSet{*k}
	}
	// Publish the recomputed status, so only the findings asked about show.
	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	c := rep.DaemonSets[0].Computed
	s.DaemonSets[0].Status = appsv1.DaemonSetStatus{ObservedGeneration: 2, DesiredNumberScheduled: c.DesiredNumberScheduled,
		CurrentNumberScheduled: c.CurrentNumberScheduled, NumberReady: c.NumberReady, NumberAvailable: c.NumberAvailable,
		UpdatedNumberScheduled: c.UpdatedNumberScheduled, NumberUnavailable: c.NumberUnavailable}
	return audit.Analyze(s, audit.Options{Now: fixture.Epoch}).DaemonSets[0]
}

func findingNodes(dr report.DaemonSetReport, typ report.FindingType) []string {
	var out []string
	for _, f := range dr.Findings {
		if f.Type == typ {
			out = append(out, f.Node)
		}
	}
	return out
}

func partition(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }

func TestKruiseRolloutKeepsOldPodsOnPurpose(t *testing.T) {
	three := []corev1.Node{fixture.Node("n1"), fixture.Node("n2", fixture.WithLabel("pool", "canary")), fixture.Node("n3", fixture.WithLabel("pool", "canary"))}
	canary := &metav1.LabelSelector{MatchLabels: map[string]string{"pool": "canary"}}
	for _, tc := range []struct {
		name     string
		kruise   *model.KruiseDaemonSet
		gens     map[string]int64
		outdated []string
		held     []report.HeldNode
	}{
		{name: "core DaemonSet: every old Pod is outdated",
			gens: map[string]int64{"n1": 1, "n2": 2, "n3": 2}, outdated: []string{"n1"}},
		{name: "partition 1: the lowest-named old node stays on purpose",
			kruise: &model.KruiseDaemonSet{Partition: partition(1)}, gens: map[string]int64{"n1": 1, "n2": 2, "n3": 2},
			held: []report.HeldNode{{Node: "n1", Why: "partition"}}},
		{name: "partition 1 with two old nodes: the higher-named one is next",
			kruise: &model.KruiseDaemonSet{Partition: partition(1)}, gens: map[string]int64{"n1": 1, "n2": 1, "n3": 2},
			outdated: []string{"n2"}, held: []report.HeldNode{{Node: "n1", Why: "partition"}}},
		{name: "update selector: unmatched nodes keep their old Pod",
			kruise: &model.KruiseDaemonSet{UpdateSelector: canary}, gens: map[string]int64{"n1": 1, "n2": 1, "n3": 2},
			outdated: []string{"n2"}, held: []report.HeldNode{{Node: "n1", Why: "selector"}}},
		{name: "paused: no Pod is updated, nothing is stuck",
			kruise: &model.KruiseDaemonSet{Paused: true}, gens: map[string]int64{"n1": 1, "n2": 1, "n3": 1},
			held: []report.HeldNode{{Node: "n1", Why: "paused"}, {Node: "n2", Why: "paused"}, {Node: "n3", Why: "paused"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dr := kruiseRun(t, tc.kruise, three, tc.gens)
			if got := findingNodes(dr, report.OutdatedPod); !slices.Equal(got, tc.outdated) {
				t.Errorf("OutdatedPod on %v, want %v", got, tc.outdated)
			}
			// Old Pods kept on purpose do not make a rollout stuck; one
			// the controller should have replaced for hours does.
			if got := findingNodes(dr, report.RolloutStuck); (len(got) > 0) != (len(tc.outdated) > 0) {
				t.Errorf("RolloutStuck %d, want one exactly when a node is outdated: %v", len(got), dr.Findings)
			}
			if tc.kruise == nil {
				if dr.Kruise != nil || dr.Group != "" {
					t.Fatalf("core DaemonSet has group %q, kruise %+v", dr.Group, dr.Kruise)
				}
				return
			}
			if dr.Group != "apps.kruise.io" || dr.Resource != "daemonset.apps.kruise.io" || dr.Kruise == nil {
				t.Fatalf("group %q resource %q kruise %+v", dr.Group, dr.Resource, dr.Kruise)
			}
			var held []report.HeldNode
			for _, h := range dr.Kruise.HeldNodes {
				h.Pod = ""
				held = append(held, h)
			}
			if !slices.Equal(held, tc.held) {
				t.Errorf("held %v, want %v", held, tc.held)
			}
		})
	}
}

func TestKruisePartitionedScalingLeavesNodesEmptyOnPurpose(t *testing.T) {
	three := []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3")}
	gens := map[string]int64{"n1": 2}
	// desired 3, one new Pod, partition 2: no Pod is created on n2, n3.
	dr := kruiseRun(t, &model.KruiseDaemonSet{Partition: partition(2), PartitionedScaling: true}, three, gens)
	if got := findingNodes(dr, report.MissingPod); len(got) > 0 {
		t.Errorf("MissingPod on %v, want none: partitioned scaling holds them back", got)
	}
	if !slices.Equal(dr.Kruise.NotCreatedNodes, []string{"n2", "n3"}) {
		t.Errorf("notCreatedNodes %v, want [n2 n3]", dr.Kruise.NotCreatedNodes)
	}
	// Partition 1: one more Pod may be created, on n2 (name order).
	dr = kruiseRun(t, &model.KruiseDaemonSet{Partition: partition(1), PartitionedScaling: true}, three, gens)
	if got := findingNodes(dr, report.MissingPod); !slices.Equal(got, []string{"n2"}) {
		t.Errorf("MissingPod on %v, want [n2]", got)
	}
	// Without partitioned scaling the partition holds back updates only.
	dr = kruiseRun(t, &model.KruiseDaemonSet{Partition: partition(2)}, three, gens)
	if got := findingNodes(dr, report.MissingPod); !slices.Equal(got, []string{"n2", "n3"}) {
		t.Errorf("MissingPod on %v, want [n2 n3]", got)
	}
}

// A Pod owned by kind DaemonSet in apps.kruise.io is not a core
// DaemonSet's, even under the same UID (a hand-edited dump): owners match by
// group and kind.
func TestKruiseOwnerMatchesByGroup(t *testing.T) {
	ds := fixture.DaemonSet("ns", "agent")
	pods := []corev1.Pod{fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2")}
	pods[1].OwnerReferences[0].APIVersion = kruiseAPIVersion
	s := &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1"), fixture.Node("n2")}, DaemonSets: []appsv1.DaemonSet{ds},
		DaemonPods: collect.CompactPods(pods...), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
	dr := audit.Analyze(s, audit.Options{Now: fixture.Epoch}).DaemonSets[0]
	if got := findingNodes(dr, report.MissingPod); !slices.Equal(got, []string{"n2"}) {
		t.Fatalf("MissingPod on %v, want [n2]: the Advanced DaemonSet's Pod is not the core one's", got)
	}
	own := collect.Owners(s.DaemonSets)
	if collect.KeepPod(&s.DaemonPods[1], own) {
		t.Fatalf("KeepPod kept %s, owned by an apps.kruise.io DaemonSet, for a core DaemonSet", s.DaemonPods[1].Name)
	}
}

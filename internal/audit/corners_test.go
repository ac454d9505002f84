package audit_test

// The DaemonSet controller's corner cases. Each test names the upstream function
// or test (k8s.io/kubernetes v1.37.2) whose expectation it mirrors.

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func snap(ds appsv1.DaemonSet, nodes []corev1.Node, pods ...corev1.Pod) *model.Snapshot {
	return &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{ds}, DaemonPods: collect.CompactPods(pods...),
		ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, ds.Generation)}}
}

func twoNodes() []corev1.Node { return []corev1.Node{fixture.Node("n1"), fixture.Node("n2")} }

func orphan() fixture.PodOpt { return func(p *corev1.Pod) { p.OwnerReferences = nil } }

// wantKinds compares the findings but StaleStatus (the fixtures leave the
// published status empty).
func wantKinds(t *testing.T, dr report.DaemonSetReport, want ...string) {
	t.Helper()
	var got []string
	for _, k := range kinds(dr) {
		if k != "StaleStatus@" {
			got = append(got, k)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("findings %q, want %q", got, want)
	}
}

func wantComputed(t *testing.T, dr report.DaemonSetReport, want report.Counts) {
	t.Helper()
	if dr.Computed == nil || *dr.Computed != want {
		t.Errorf("computed %+v, want %+v", dr.Computed, want)
	}
}

// BaseControllerRefManager.ClaimObject (controller_ref_manager.go;
// TestClaimPods "Controller releases claimed pods when selector doesn't
// match"): an owned Pod whose labels no longer match is released, counted
// nowhere, and the node gets a new Pod.
func TestClaimReleasesRelabelledPod(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	s := snap(ds, twoNodes(), fixture.Pod(&ds, "n1", detecttest.Relabel("app.kubernetes.io/name", "debug")), fixture.Pod(&ds, "n2"))
	dr := run(t, s).DaemonSets[0]
	wantComputed(t, dr, counts(2, 1, 1, 1, 1, 0))
	wantKinds(t, dr, "MissingPod@n1")
	if f := find(dr, report.MissingPod); f == nil || !strings.Contains(f.Message, "releases it") || !strings.Contains(f.Message, "creates a new Pod") {
		t.Errorf("MissingPod does not say the controller releases and replaces the Pod: %+v", f)
	}
	if len(dr.Nodes[0].Pods) != 0 {
		t.Errorf("a released Pod is listed on its node: %+v", dr.Nodes[0].Pods)
	}

	// While the DaemonSet is being deleted the controller releases nothing,
	// but it still does not count the Pod (ClaimObject returns false).
	deleting := ds.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: fixture.Epoch}
	s.DaemonSets[0] = *deleting
	dr = run(t, s).DaemonSets[0]
	wantComputed(t, dr, counts(2, 1, 1, 1, 1, 0))
	if f := find(dr, report.MissingPod); f == nil || strings.Contains(f.Message, "releases") {
		t.Errorf("a DaemonSet being deleted releases nothing: %+v", f)
	}
}

// ClaimObject's orphan branch (TestGetNodesToDaemonPods
// "matching-orphan" Pods are the DaemonSet's; TestClaimPods "Claim pods with
// correct label"): an orphan in the namespace matching the selector and not
// being deleted is adopted and counted in the same sync.
func TestClaimAdoptsOrphan(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	s := snap(ds, twoNodes(), fixture.Pod(&ds, "n1", orphan()), fixture.Pod(&ds, "n2"))
	dr := run(t, s).DaemonSets[0]
	wantComputed(t, dr, counts(2, 2, 2, 2, 2, 0))
	wantKinds(t, dr)
	if ps := dr.Nodes[0].Pods; len(ps) != 1 || !ps[0].Adopted {
		t.Errorf("the orphan on n1 is not shown as adopted: %+v", ps)
	}

	for name, p := range map[string]corev1.Pod{
		"being deleted":   fixture.Pod(&ds, "n1", orphan(), fixture.Terminating()),
		"other labels":    fixture.Pod(&ds, "n1", orphan(), detecttest.Relabel("app.kubernetes.io/name", "x")),
		"other namespace": fixture.Pod(&ds, "n1", orphan(), func(p *corev1.Pod) { p.Namespace = "other" }),
		"other owner":     fixture.Pod(&ds, "n1", func(p *corev1.Pod) { p.OwnerReferences[0].UID = "rs"; p.OwnerReferences[0].Kind = "ReplicaSet" }),
	} {
		s := snap(ds, twoNodes(), p, fixture.Pod(&ds, "n2"))
		dr := run(t, s).DaemonSets[0]
		if dr.Computed.CurrentNumberScheduled != 1 {
			t.Errorf("%s: orphan adopted: %+v", name, dr.Computed)
		}
	}
	deleting := ds.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: fixture.Epoch}
	s = snap(*deleting, twoNodes(), fixture.Pod(&ds, "n1", orphan()), fixture.Pod(&ds, "n2"))
	if dr := run(t, s).DaemonSets[0]; dr.Computed.CurrentNumberScheduled != 1 {
		t.Errorf("a DaemonSet being deleted adopts nothing: %+v", dr.Computed)
	}
}

func readyFor(d time.Duration) fixture.PodOpt {
	return func(p *corev1.Pod) {
		for i := range p.Status.Conditions {
			if p.Status.Conditions[i].Type == corev1.PodReady {
				p.Status.Conditions[i].LastTransitionTime = metav1.NewTime(fixture.Epoch.Add(-d))
			}
		}
	}
}

// Items 2 and 7. podutil.IsPodAvailable (pkg/api/v1/pod/util.go;
// TestIsPodAvailable): a Pod Ready for exactly minReadySeconds is available
// since kubernetes#132122 (v1.34); before, it was not.
func TestMinReadySecondsBoundary(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d", func(ds *appsv1.DaemonSet) { ds.Spec.MinReadySeconds = 30 })
	for _, tc := range []struct {
		version   string
		readyFor  time.Duration
		available int32
	}{
		{"", 30 * time.Second, 1},
		{"v1.34.0", 30 * time.Second, 1},
		{"v1.37.2", 30 * time.Second, 1},
		{"v1.33.4", 30 * time.Second, 0},
		{"v1.30.0-eks-1234", 30 * time.Second, 0},
		{"v1.33.4", 31 * time.Second, 1},
		{"v1.37.2", 29 * time.Second, 0},
	} {
		s := snap(ds, []corev1.Node{fixture.Node("n1")}, fixture.Pod(&ds, "n1", readyFor(tc.readyFor)))
		s.ServerVersion = tc.version
		r := audit.Analyze(s, audit.Options{Now: fixture.Epoch})
		if got := r.DaemonSets[0].Computed.NumberAvailable; got != tc.available {
			t.Errorf("server %q, ready for %s: numberAvailable %d, want %d", tc.version, tc.readyFor, got, tc.available)
		}
		if r.ServerVersion != tc.version {
			t.Errorf("report.serverVersion %q, want %q", r.ServerVersion, tc.version)
		}
	}
}

// rollingUpdate (update.go) walks every node with daemon Pods: an
// outdated Pod on a node that no longer targets the DaemonSet (NoSchedule
// taint, so shouldContinueRunning) is a replacement candidate without surge,
// and deleted once enough Pods are available with surge
// (TestDaemonSetUpdatesPodsNotMatchTainstWithMaxSurge). Only an up-to-date
// Pod, or OnDelete, is left running.
func TestMisscheduledPodDuringRollingUpdate(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("n1", fixture.WithTaint("dedicated", "x", corev1.TaintEffectNoSchedule)), fixture.Node("n2")}
	for _, tc := range []struct {
		name string
		opts []fixture.DSOpt
		pod  []fixture.PodOpt
		want string
	}{
		{"non-surge, outdated", nil, nil, "replacement candidate"},
		{"non-surge, outdated, unready", nil, []fixture.PodOpt{fixture.NotReadyPod()}, "deletes it at once"},
		{"surge, outdated", []fixture.DSOpt{fixture.Surge(1)}, nil, "surge rolling update deletes it once more Pods are available"},
		{"surge, outdated, unready", []fixture.DSOpt{fixture.Surge(1)}, []fixture.PodOpt{fixture.NotReadyPod()}, "surge rolling update deletes it at once"},
		{"OnDelete, outdated", []fixture.DSOpt{fixture.OnDelete()}, nil, "leaves it running"},
		{"up to date", []fixture.DSOpt{fixture.Generation(1)}, nil, "leaves it running"},
	} {
		opts := append([]fixture.DSOpt{fixture.Generation(2)}, tc.opts...)
		ds := fixture.DaemonSet("ns", "d", opts...)
		s := snap(ds, nodes, fixture.Pod(&ds, "n1", tc.pod...), fixture.Pod(&ds, "n2", fixture.AtGeneration(&ds, ds.Generation)))
		dr := run(t, s).DaemonSets[0]
		f := find(dr, report.MisscheduledPod)
		if f == nil || !strings.Contains(f.Message, tc.want) {
			t.Errorf("%s: MisscheduledPod %+v, want it to say %q", tc.name, f, tc.want)
		}
	}
}

// podsShouldBeOnNode with surge (TestSurgeDeletesUnreadyOldPods):
// of a new Pod, an unready old Pod and a younger ready old Pod, the
// controller keeps the new Pod and deletes both old ones.
func TestSurgeDuplicateKeepsNewPod(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d", fixture.Generation(2), fixture.Surge(1))
	newPod := fixture.Pod(&ds, "n1", fixture.Named("new"), fixture.AtGeneration(&ds, 2), fixture.PodCreatedAgo(time.Minute))
	oldUnready := fixture.Pod(&ds, "n1", fixture.Named("old-unready"), fixture.PodCreatedAgo(3*time.Hour), fixture.NotReadyPod())
	oldReady := fixture.Pod(&ds, "n1", fixture.Named("old-ready"), fixture.PodCreatedAgo(2*time.Hour))
	s := snap(ds, []corev1.Node{fixture.Node("n1")}, newPod, oldUnready, oldReady)
	dr := run(t, s).DaemonSets[0]
	f := find(dr, report.DuplicatePods)
	if f == nil || !strings.Contains(f.Message, "keeps new and deletes the others") {
		t.Errorf("DuplicatePods %+v: want the new Pod named as the survivor", f)
	}
	// The normal overlap (old Ready, new not yet available) is no finding.
	s = snap(ds, []corev1.Node{fixture.Node("n1")}, fixture.Pod(&ds, "n1", fixture.Named("new"), fixture.AtGeneration(&ds, 2), fixture.NotReadyPod()), oldReady)
	if f := find(run(t, s).DaemonSets[0], report.DuplicatePods); f != nil {
		t.Errorf("surge overlap reported: %+v", f)
	}
}

// podsShouldBeOnNode with surge
// (TestSurgeCreatesNewPodWhenAtMaxSurgeAndOldPodDeleted): a node whose only
// Pod is terminating gets a new Pod at once; without surge the controller
// waits for the old one to go.
func TestSurgeTerminatingOnlyPod(t *testing.T) {
	for _, surge := range []bool{true, false} {
		opts := []fixture.DSOpt{fixture.Generation(2)}
		if surge {
			opts = append(opts, fixture.Surge(1))
		}
		ds := fixture.DaemonSet("ns", "d", opts...)
		s := snap(ds, twoNodes(), fixture.Pod(&ds, "n1", fixture.Terminating()), fixture.Pod(&ds, "n2", fixture.AtGeneration(&ds, 2)))
		dr := run(t, s).DaemonSets[0]
		f := find(dr, report.MissingPod)
		switch {
		case surge && (f == nil || f.Node != "n1" || !strings.Contains(f.Message, "creates a replacement at once")):
			t.Errorf("surge: MissingPod %+v, want the replacement reported on n1", f)
		case !surge && f != nil:
			t.Errorf("no surge: MissingPod %+v, the controller waits for the terminating Pod", f)
		}
		// The terminating Pod still counts (getNodesToDaemonPods keeps it).
		if dr.Computed.CurrentNumberScheduled != 2 {
			t.Errorf("surge=%v: computed %+v", surge, dr.Computed)
		}
	}
}

// getUnscheduledPodsWithoutNode (daemon_controller.go;
// TestDeleteUnscheduledPodForNotExistingNode): an unscheduled Pod aimed at a
// node that no longer exists is deleted by the DaemonSet controller itself;
// a bound one is the Pod GC's.
func TestUnscheduledPodForDeletedNode(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	s := snap(ds, []corev1.Node{fixture.Node("n1")}, fixture.Pod(&ds, "n1"),
		fixture.Pod(&ds, "gone", fixture.Unscheduled("")), fixture.Pod(&ds, "bound-gone"))
	dr := run(t, s).DaemonSets[0]
	wantComputed(t, dr, counts(1, 1, 1, 1, 1, 0))
	for _, f := range dr.Findings {
		switch f.Node {
		case "gone":
			if !strings.Contains(f.Message, "DaemonSet controller deletes it") || strings.Contains(f.Message+f.Suggestion, "garbage collector") || strings.Contains(f.Message, "bound to") {
				t.Errorf("unscheduled Pod of a deleted node: %+v", f)
			}
		case "bound-gone":
			if !strings.Contains(f.Suggestion, "garbage collector") {
				t.Errorf("bound Pod of a deleted node: %+v", f)
			}
		}
	}
}

// util.GetTemplateGeneration (daemon/util/daemonset_util.go) parses
// the annotation with strconv.ParseInt(s, 10, 64): anything else is no
// generation.
func TestTemplateGenerationParsedLikeUpstream(t *testing.T) {
	for v, ok := range map[string]bool{"12345": true, "-1": true, "0x3039": false, " 12345": false, "12345abc": false, "": false, "1e3": false} { //nolint:gocritic // mapKey: the leading space is the case under test
		ds := fixture.DaemonSet("ns", "d", func(ds *appsv1.DaemonSet) { ds.Annotations["deprecated.daemonset.template.generation"] = v })
		// No ControllerRevision: the generation alone decides whether the
		// revision is known.
		s := &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
			DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1", detecttest.Relabel("pod-template-generation", v)))}
		dr := run(t, s).DaemonSets[0]
		known := !strings.Contains(strings.Join(dr.Unknown, ";"), "current revision")
		if known != ok {
			t.Errorf("annotation %q: revision known %v, want %v", v, known, ok)
		}
	}
}

// On 1.33 a stale numberMisscheduled after a taint is lifted is the
// known regression kubernetes#132459; the StaleStatus finding names it there
// and only there.
func TestStaleMisscheduledNamesRegressionOn133(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d", withStatus(counts(1, 1, 1, 1, 1, 1)))
	for version, named := range map[string]bool{"v1.33.1": true, "v1.34.0": false, "": false} {
		s := snap(ds, []corev1.Node{fixture.Node("n1")}, fixture.Pod(&ds, "n1"))
		s.ServerVersion = version
		f := find(run(t, s).DaemonSets[0], report.StaleStatus)
		if f == nil || strings.Contains(f.Message, "kubernetes#132459") != named {
			t.Errorf("server %q: StaleStatus %+v, want the regression named: %v", version, f, named)
		}
	}
}

package audit_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// A Memo must never change a report: after any change to the cluster, the
// report analysed with the Memo is the report a fresh analysis of the same
// snapshot at the same time makes. And it must pay off: a Pod's status
// change re-analyses that Pod's DaemonSet only.

// versioned gives every object of snap a resourceVersion, as the API
// server does (a Memo takes nothing without one for unchanged).
func versioned(snap *model.Snapshot) *rvClock {
	c := &rvClock{}
	for i := range snap.Nodes {
		snap.Nodes[i].ResourceVersion = c.next()
	}
	for i := range snap.DaemonSets {
		snap.DaemonSets[i].ResourceVersion = c.next()
	}
	for i := range snap.DaemonPods {
		snap.DaemonPods[i].ResourceVersion = c.next()
	}
	for i := range snap.ControllerRevisions {
		snap.ControllerRevisions[i].ResourceVersion = c.next()
	}
	for i := range snap.Events {
		snap.Events[i].UID = types.UID("event-" + strconv.Itoa(i))
		snap.Events[i].ResourceVersion = c.next()
	}
	return c
}

type rvClock struct{ n int }

func (c *rvClock) next() string { c.n++; return strconv.Itoa(c.n) }

// cloneSnapshot copies what the mutations below change, so that the
// previous snapshot (which a Memo may still refer to) stays as it was, as
// a watch's stores replace an object rather than change it.
func cloneSnapshot(s *model.Snapshot) *model.Snapshot {
	c := *s
	c.Nodes = make([]corev1.Node, len(s.Nodes))
	for i := range s.Nodes {
		c.Nodes[i] = *s.Nodes[i].DeepCopy()
	}
	c.DaemonSets = make([]appsv1.DaemonSet, len(s.DaemonSets))
	for i := range s.DaemonSets {
		c.DaemonSets[i] = *s.DaemonSets[i].DeepCopy()
	}
	c.DaemonPods = slices.Clone(s.DaemonPods)
	for i := range c.DaemonPods {
		c.DaemonPods[i].Containers = slices.Clone(c.DaemonPods[i].Containers)
	}
	c.ControllerRevisions = slices.Clone(s.ControllerRevisions)
	c.Events = slices.Clone(s.Events)
	return &c
}

// mutation changes one thing of a snapshot, as one watch event would.
type mutation struct {
	name string
	// podOnly: only one Pod's status changed; the Memo must re-analyse
	// its DaemonSet alone.
	podOnly bool
	apply   func(s *model.Snapshot, r *rand.Rand, rv *rvClock)
}

func ownedPod(s *model.Snapshot, r *rand.Rand) *model.DaemonPod {
	for {
		p := &s.DaemonPods[r.Intn(len(s.DaemonPods))]
		if p.OwnerUID != "" && !p.Deleting {
			return p
		}
	}
}

var mutations = []mutation{
	{"pod turns unready", true, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := ownedPod(s, r)
		p.Ready = !p.Ready
		p.ReadySince = fixture.Epoch.Add(-time.Duration(r.Intn(120)) * time.Second)
		p.ResourceVersion = rv.next()
	}},
	{"pod crash-loops", true, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := ownedPod(s, r)
		if len(p.Containers) > 0 {
			p.Containers[0].Ready = false
			p.Containers[0].Restarts += 3
			p.Containers[0].WaitingReason = "CrashLoopBackOff"
		}
		p.Ready = false
		p.ResourceVersion = rv.next()
	}},
	{"pod written, nothing changed", true, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		ownedPod(s, r).ResourceVersion = rv.next()
	}},
	{"pod deleted", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		i := r.Intn(len(s.DaemonPods))
		s.DaemonPods = slices.Delete(s.DaemonPods, i, i+1)
	}},
	{"pod created on another node", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := *ownedPod(s, r)
		node := s.Nodes[r.Intn(len(s.Nodes))].Name
		p.Name, p.UID = p.Name+"-x"+rv.next(), types.UID("new-"+rv.next())
		p.NodeName, p.TargetNode, p.HasTarget = node, node, true
		p.ResourceVersion = rv.next()
		s.DaemonPods = append(s.DaemonPods, p)
		sortPods(s.DaemonPods)
	}},
	{"pod terminating", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := ownedPod(s, r)
		p.Deleting = true
		p.ResourceVersion = rv.next()
	}},
	{"pod orphaned", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := ownedPod(s, r)
		p.OwnerUID, p.OwnerKind = "", ""
		p.ResourceVersion = rv.next()
	}},
	{"DaemonSet status written", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		ds := &s.DaemonSets[r.Intn(len(s.DaemonSets))]
		ds.Status.NumberReady += int32(r.Intn(3)) - 1
		ds.ResourceVersion = rv.next()
	}},
	{"DaemonSet spec changed", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		ds := &s.DaemonSets[r.Intn(len(s.DaemonSets))]
		ds.Spec.Template.Spec.Tolerations = append(ds.Spec.Template.Spec.Tolerations, fixture.Exists("dedicated", corev1.TaintEffectNoSchedule))
		ds.Generation++
		ds.ResourceVersion = rv.next()
	}},
	{"revision written", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		cr := &s.ControllerRevisions[r.Intn(len(s.ControllerRevisions))]
		cr.Revision += 10
		cr.ResourceVersion = rv.next()
	}},
	{"node relabelled", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		n := &s.Nodes[r.Intn(len(s.Nodes))]
		n.Labels["node-pool"] = []string{"general", "gpu", "infra", "edge"}[r.Intn(4)]
		n.ResourceVersion = rv.next()
	}},
	{"node goes NotReady", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		n := &s.Nodes[r.Intn(len(s.Nodes))]
		for i := range n.Status.Conditions {
			if n.Status.Conditions[i].Type == corev1.NodeReady {
				n.Status.Conditions[i].Status = corev1.ConditionFalse
			}
		}
		n.ResourceVersion = rv.next()
	}},
	{"warning event", false, func(s *model.Snapshot, r *rand.Rand, rv *rvClock) {
		p := ownedPod(s, r)
		s.Events = append(s.Events, corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name + ".e" + rv.next(), UID: types.UID("event-new-" + rv.next()), ResourceVersion: rv.next()},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
			Type:           corev1.EventTypeWarning, Reason: "BackOff", Message: "Back-off restarting failed container",
			LastTimestamp: metav1.NewTime(fixture.Epoch),
		})
	}},
	{"nothing", false, func(*model.Snapshot, *rand.Rand, *rvClock) {}},
}

func sortPods(ps []model.DaemonPod) {
	slices.SortFunc(ps, func(a, b model.DaemonPod) int {
		if a.Namespace != b.Namespace {
			return compare(a.Namespace, b.Namespace)
		}
		if a.Name != b.Name {
			return compare(a.Name, b.Name)
		}
		return compare(string(a.UID), string(b.UID))
	})
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// sameJSON fails the test when two reports differ, naming where.
func sameJSON(t *testing.T, step string, got, want *report.Report) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) == string(w) {
		return
	}
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	lo := max(0, i-300)
	t.Fatalf("%s: the report with a Memo differs from a fresh analysis at byte %d:\nwith Memo: ...%s...\nfresh:     ...%s...",
		step, i, g[lo:min(len(g), i+200)], w[lo:min(len(w), i+200)])
}

func TestMemoMatchesAFreshAnalysis(t *testing.T) {
	seeds, steps := []int64{1, 2}, 60
	if testing.Short() {
		// make race runs -short: under the race detector the full walk
		// takes minutes on 2 cores; one shorter walk still exercises
		// every reuse path the detector can watch.
		seeds, steps = []int64{1}, 12
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			snap := benchSnapshot(200)
			rv := versioned(snap)
			grace := report.DefaultGate()
			grace.Grace = 20 * time.Hour // some Pods (19h old) held back, some not
			opts := audit.Options{Now: fixture.Epoch, Gate: grace}
			memo := &audit.Memo{}
			withMemo := opts
			withMemo.Memo = memo
			sameJSON(t, "first analysis", audit.Analyze(snap, withMemo), audit.Analyze(snap, opts))
			if memo.Analysed != len(snap.DaemonSets) || memo.Reused != 0 {
				t.Fatalf("first analysis: analysed %d, reused %d; want every DaemonSet analysed", memo.Analysed, memo.Reused)
			}
			reusedAny := false
			for step := range steps {
				m := mutations[r.Intn(len(mutations))]
				snap = cloneSnapshot(snap)
				m.apply(snap, r, rv)
				name := fmt.Sprintf("step %d (%s)", step, m.name)
				sameJSON(t, name, audit.Analyze(snap, withMemo), audit.Analyze(snap, opts))
				if m.podOnly && (memo.Analysed != 1 || memo.Reused != len(snap.DaemonSets)-1) {
					t.Fatalf("%s: analysed %d DaemonSets, reused %d; want only the Pod's DaemonSet analysed", name, memo.Analysed, memo.Reused)
				}
				reusedAny = reusedAny || memo.Reused > 0
			}
			if !reusedAny {
				t.Fatal("no analysis reused a DaemonSet's report")
			}
		})
	}
}

// Without resourceVersions (a snapshot from files), a Memo reuses nothing:
// it cannot tell a changed object from an unchanged one.
func TestMemoReusesNothingWithoutResourceVersions(t *testing.T) {
	snap := benchSnapshot(50)
	memo := &audit.Memo{}
	opts := audit.Options{Now: fixture.Epoch, Memo: memo}
	audit.Analyze(snap, opts)
	snap.DaemonPods[0].Ready = !snap.DaemonPods[0].Ready
	audit.Analyze(snap, opts)
	if memo.Reused != 0 {
		t.Fatalf("reused %d DaemonSets of a snapshot without resourceVersions", memo.Reused)
	}
}

// verdicts is what a report decides, without the words that carry ages
// ("Pending (for 3m)"), which a Memo leaves as of a DaemonSet's last
// analysis.
func verdicts(r *report.Report) string {
	out := fmt.Sprintf("summary %+v\n", r.Summary)
	for _, ds := range r.DaemonSets {
		out += fmt.Sprintf("%s/%s computed %+v\n", ds.Namespace, ds.Name, ds.Computed)
		for _, f := range ds.Findings {
			out += fmt.Sprintf("  %s node=%s pod=%s cause=%q severity=%s failing=%v active=%v\n", f.Type, f.Node, f.Pod, f.Cause, f.Severity, f.Failing, f.Active())
		}
	}
	for _, p := range r.Problems {
		out += fmt.Sprintf("problem %s %v %s %q %s failing=%v\n", p.Type, p.DaemonSets, p.Range, p.Cause, p.Severity, p.Failing)
	}
	return out
}

// As time passes with no change, a Memo re-analyses a DaemonSet when its
// verdicts change by themselves: a grace period ends, a Pod has been Ready
// for minReadySeconds, a rollout has made no progress for 15 minutes and
// the age in its cause rolls over.
func TestMemoFollowsTime(t *testing.T) {
	ds := fixture.DaemonSet("kube-system", "agent", fixture.WithToleration(fixture.Exists("", "")), fixture.Generation(2))
	ds.Spec.MinReadySeconds = 60
	slow := fixture.DaemonSet("kube-system", "slow", fixture.WithToleration(fixture.Exists("", "")), fixture.Generation(2))
	stable := fixture.DaemonSet("kube-system", "stable", fixture.WithToleration(fixture.Exists("", "")))
	snap := &model.Snapshot{Source: "test"}
	for i := range 6 {
		snap.Nodes = append(snap.Nodes, fixture.Node(fmt.Sprintf("node-%d", i)))
	}
	// A node that joined a minute ago: its findings are held back by
	// --grace 5m, and its missing Pod "may not be created yet" for 2m.
	snap.Nodes = append(snap.Nodes, fixture.Node("node-new", fixture.CreatedAgo(time.Minute)))
	for _, d := range []*appsv1.DaemonSet{&ds, &slow, &stable} {
		for g := int64(1); g <= d.Generation; g++ {
			snap.ControllerRevisions = append(snap.ControllerRevisions, fixture.Revision(d, g))
		}
	}
	var pods []corev1.Pod
	for i := range 6 {
		node := fmt.Sprintf("node-%d", i)
		// agent: Pods Ready 10s, 40s, 70s, ... ago, minReadySeconds 60.
		p := fixture.Pod(&ds, node, fixture.AtGeneration(&ds, 2), fixture.PodCreatedAgo(time.Duration(30*i+20)*time.Second))
		pods = append(pods, p)
		// slow: a rolling update whose newest Pod started 14m25s ago (stuck after 35s); the
		// others are still on the old revision.
		switch i {
		case 0:
			pods = append(pods, fixture.Pod(&slow, node, fixture.AtGeneration(&slow, 2), fixture.PodCreatedAgo(14*time.Minute+25*time.Second)))
		default:
			pods = append(pods, fixture.Pod(&slow, node, fixture.AtGeneration(&slow, 1)))
		}
		pods = append(pods, fixture.Pod(&stable, node))
	}
	snap.DaemonSets = []appsv1.DaemonSet{ds, slow, stable}
	snap.DaemonPods = collect.CompactPods(pods...)
	sortPods(snap.DaemonPods)
	versioned(snap)

	gate := report.DefaultGate()
	gate.Grace = 5 * time.Minute
	memo := &audit.Memo{}
	reusedAny, analysedAny := false, false
	for _, after := range []time.Duration{0, 5 * time.Second, 11 * time.Second, 41 * time.Second, 50 * time.Second, 61 * time.Second,
		2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute, 59*time.Second + time.Minute*15, 16 * time.Minute, 17*time.Minute + 30*time.Second, 20 * time.Minute} {
		now := fixture.Epoch.Add(after)
		got := verdicts(audit.Analyze(snap, audit.Options{Now: now, Gate: gate, Memo: memo}))
		want := verdicts(audit.Analyze(snap, audit.Options{Now: now, Gate: gate}))
		if got != want {
			t.Fatalf("after %s: the verdicts with a Memo differ from a fresh analysis\nwith Memo:\n%s\nfresh:\n%s", after, got, want)
		}
		if after > 0 {
			reusedAny = reusedAny || memo.Reused > 0
			analysedAny = analysedAny || memo.Analysed > 0
		}
	}
	if !reusedAny || !analysedAny {
		t.Fatalf("as time passed the Memo reused (%v) and re-analysed (%v): want both", reusedAny, analysedAny)
	}
}

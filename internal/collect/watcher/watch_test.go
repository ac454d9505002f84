package watcher

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// readLive reads cs with Live, recording where its lists stood.
func readLive(t *testing.T, cs *fake.Clientset, opts collect.Options) (*model.Snapshot, *collect.Cursor, collect.Options) {
	t.Helper()
	cur := &collect.Cursor{}
	opts.Cursor = cur
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", opts)
	if err != nil {
		t.Fatal(err)
	}
	return snap, cur, opts
}

// startWatch reads cs with Live and watches on from there.
func startWatch(t *testing.T, cs *fake.Clientset, opts collect.Options) (*Watcher, *model.Snapshot) {
	t.Helper()
	snap, cur, opts := readLive(t, cs, opts)
	w, err := Start(t.Context(), collecttest.New(cs), snap, cur, Options{Read: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	select {
	case <-w.Ready():
	case <-w.Failed():
		t.Fatalf("watch refused: %v", w.Err())
	case <-time.After(30 * time.Second):
		t.Fatal("watches never opened")
	}
	return w, snap
}

// until waits for the watcher's snapshot to satisfy cond (events arrive
// asynchronously); a test that fails shows the last snapshot.
func until(t *testing.T, w *Watcher, what string, cond func(*model.Snapshot) bool) *model.Snapshot {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s := w.Snapshot()
		if cond(s) {
			return s
		}
		select {
		case <-w.Changed():
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: never; last snapshot: %d ds, %d nodes, pods %v", what, len(s.DaemonSets), len(s.Nodes), podNames(s))
		}
	}
}

func podNames(s *model.Snapshot) []string {
	var out []string
	for _, p := range s.DaemonPods {
		out = append(out, p.Name)
	}
	return out
}

func TestWatchStartsAsLiveRead(t *testing.T) {
	w, live := startWatch(t, collecttest.Fixture(), collect.Options{ChunkSize: 500})
	got := w.Snapshot()
	if len(got.DaemonSets) != len(live.DaemonSets) || len(got.Nodes) != len(live.Nodes) || len(got.ControllerRevisions) != len(live.ControllerRevisions) {
		t.Fatalf("watch snapshot %d ds %d nodes %d revs, live %d %d %d", len(got.DaemonSets), len(got.Nodes), len(got.ControllerRevisions), len(live.DaemonSets), len(live.Nodes), len(live.ControllerRevisions))
	}
	if strings.Join(podNames(got), ",") != strings.Join(podNames(live), ",") || got.Source != live.Source {
		t.Errorf("pods %v, live read %v", podNames(got), podNames(live))
	}
	// What is not watched is kept from the read: without the
	// PriorityClasses every later analysis would call priorities unknown.
	if !live.PriorityClassesRead || got.PriorityClassesRead != live.PriorityClassesRead || len(got.PriorityClasses) != len(live.PriorityClasses) {
		t.Errorf("PriorityClasses read %v (%d), live read %v (%d)", got.PriorityClassesRead, len(got.PriorityClasses), live.PriorityClassesRead, len(live.PriorityClasses))
	}
}

func TestWatchFollowsChanges(t *testing.T) {
	cs := collecttest.Fixture()
	w, _ := startWatch(t, cs, collect.Options{ChunkSize: 500})
	ctx := context.Background()
	a, err := cs.AppsV1().DaemonSets("agents").Get(ctx, "a", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// A Pod crash-loops: the record is updated (in place).
	p := fixture.Pod(a, "n1", fixture.Waiting("CrashLoopBackOff", "back-off", 3))
	if _, err := cs.CoreV1().Pods("agents").Update(ctx, &p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, w, "the crash loop", func(s *model.Snapshot) bool {
		return len(s.DaemonPods) == 1 && len(s.DaemonPods[0].Containers) == 1 && s.DaemonPods[0].Containers[0].WaitingReason == "CrashLoopBackOff"
	})

	// A node joins and gets its Pod; a Pod of another controller with the
	// same labels is not the DaemonSet's.
	n2 := fixture.Node("n2")
	if _, err := cs.CoreV1().Nodes().Create(ctx, &n2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p2 := fixture.Pod(a, "n2")
	stray := fixture.Pod(a, "n2", fixture.Named("stray-2"))
	stray.OwnerReferences[0].Kind, stray.OwnerReferences[0].UID = "ReplicaSet", "rs"
	for _, pod := range []*corev1.Pod{&stray, &p2} {
		if _, err := cs.CoreV1().Pods("agents").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	s := until(t, w, "the new node's Pod", func(s *model.Snapshot) bool { return len(s.Nodes) == 2 && len(s.DaemonPods) == 2 })
	for _, p := range s.DaemonPods {
		if p.Name == "stray-2" {
			t.Errorf("a ReplicaSet's Pod was kept: %v", podNames(s))
		}
	}

	// A new DaemonSet whose Pods existed before it: its selection is
	// listed (not seeded), then watched.
	c := fixture.DaemonSet("agents", "c")
	pc := fixture.Pod(&c, "n1")
	if _, err := cs.CoreV1().Pods("agents").Create(ctx, &pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.AppsV1().DaemonSets("agents").Create(ctx, &c, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, w, "the new DaemonSet and its Pod", func(s *model.Snapshot) bool {
		return len(s.DaemonSets) == 3 && len(s.DaemonPods) == 3
	})

	// Deleting the DaemonSet stops its watches and drops its Pods; deleting
	// a node drops it.
	if err := cs.AppsV1().DaemonSets("agents").Delete(ctx, "c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Nodes().Delete(ctx, "n2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, w, "the deletions", func(s *model.Snapshot) bool {
		return len(s.DaemonSets) == 2 && len(s.Nodes) == 1 && len(s.DaemonPods) == 2
	})
	w.mu.Lock()
	sels := len(w.sels)
	w.mu.Unlock()
	if sels != 2 {
		t.Errorf("%d selections watched after c was deleted, want 2 (a and b)", sels)
	}
}

// A watch whose resourceVersion expired (410 Gone) makes the Reflector list
// again; the list brings what the watch could not (here: a Pod created while
// no watch was open, which the later watch does not replay).
func TestWatchRelistsOnGone(t *testing.T) {
	cs := collecttest.Fixture()
	snap, cur, opts := readLive(t, cs, collect.Options{ChunkSize: 500})
	a, _ := cs.AppsV1().DaemonSets("agents").Get(context.Background(), "a", metav1.GetOptions{})
	late := fixture.Pod(a, "n1", fixture.Named("a-late"))
	if _, err := cs.CoreV1().Pods("agents").Create(context.Background(), &late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var lists, gone atomic.Int32
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		lists.Add(1)
		return false, nil, nil
	})
	cs.PrependWatchReactor("pods", func(action k8stesting.Action) (bool, watch.Interface, error) {
		if !action.(k8stesting.WatchAction).GetWatchRestrictions().Labels.Matches(labels.Set(late.Labels)) || gone.Add(1) > 1 {
			// Later watches start after the re-list's resourceVersion.
			return false, nil, nil
		}
		fw := watch.NewFake()
		go fw.Error(&apierrors.NewResourceExpired("too old resource version").ErrStatus)
		return true, fw, nil
	})
	w, err := Start(t.Context(), collecttest.New(cs), snap, cur, Options{Read: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	until(t, w, "the re-listed Pod", func(s *model.Snapshot) bool {
		for _, p := range s.DaemonPods {
			if p.Name == "a-late" {
				return true
			}
		}
		return false
	})
	if lists.Load() == 0 {
		t.Error("the Pod arrived without a re-list")
	}
}

func TestWatchRefused(t *testing.T) {
	cs := collecttest.Fixture()
	snap, cur, opts := readLive(t, cs, collect.Options{ChunkSize: 500})
	cs.PrependWatchReactor("nodes", func(k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "nodes"}, "", errors.New(`User "ci" cannot watch resource "nodes"`))
	})
	w, err := Start(t.Context(), collecttest.New(cs), snap, cur, Options{Read: opts})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case <-w.Failed():
	case <-time.After(30 * time.Second):
		t.Fatal("a forbidden watch did not stop the watcher")
	}
	var refused *RefusedError
	if err := w.Err(); !errors.As(err, &refused) || !strings.Contains(err.Error(), "resources: [nodes], verbs: [get, list, watch]") {
		t.Errorf("error %v", err)
	}
}

// What the analysis does not read is no change: a node heartbeat, a
// resourceVersion, an identical Pod status.
func TestWatchIgnoresNonChanges(t *testing.T) {
	w := &Watcher{nodeMap: map[string]*corev1.Node{}, nodes: true}
	s := w.nodeSource()
	n := fixture.Node("n1")
	n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(fixture.Epoch)
	n.ResourceVersion = "1"
	if !s.put(n.DeepCopy()) {
		t.Fatal("a new node is a change")
	}
	n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(fixture.Epoch.Add(time.Minute))
	n.ResourceVersion = "2"
	if s.put(n.DeepCopy()) {
		t.Error("a heartbeat is no change")
	}
	// The node keeps the version it had: an analysis carried forward
	// (analyze.Memo) takes the same resourceVersion for unchanged.
	if rv := w.nodeMap["n1"].ResourceVersion; rv != "1" {
		t.Errorf("after a heartbeat the node is at resourceVersion %s; want 1, the last change's", rv)
	}
	n.Spec.Unschedulable = true
	n.ResourceVersion = "3"
	if !s.put(n.DeepCopy()) || w.nodeMap["n1"].ResourceVersion != "3" {
		t.Error("cordoning is a change, at its resourceVersion")
	}

	ds := fixture.DaemonSet("ns", "a")
	sel := newSelection(collect.Selection{Namespace: "ns", Selector: "app.kubernetes.io/name=a"})
	w.sels = map[collect.Selection]*selection{sel.at: sel}
	ps := w.podSource(sel)
	p := fixture.Pod(&ds, "n1")
	p.ResourceVersion = "10"
	if !ps.put(p.DeepCopy()) {
		t.Error("a new Pod is a change")
	}
	p.ResourceVersion = "11" // a status write that changed nothing kept
	if ps.put(p.DeepCopy()) || sel.pods["ns/"+p.Name].ResourceVersion != "10" {
		t.Error("the same Pod again is no change, and keeps its resourceVersion")
	}
	rec := sel.pods["ns/"+p.Name]
	w.podOrder = []*model.DaemonPod{rec}
	q := fixture.Pod(&ds, "n1", fixture.NotReadyPod())
	q.ResourceVersion = "12"
	if !ps.put(&q) || sel.pods["ns/"+p.Name] != rec || w.podOrder == nil || rec.Ready || rec.ResourceVersion != "12" {
		t.Error("a status change updates the record in place, at its resourceVersion, keeping the sorted order")
	}
	other := fixture.Pod(&ds, "n1", fixture.Named("other"))
	other.Labels = map[string]string{"app": "else"}
	if ps.put(&other) {
		t.Error("a Pod outside the selection is no change")
	}
}

package watcher

// The kinds a Watcher follows: what each watches and lists, what it keeps of
// an object as it arrives, and what counts as a change.

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

func (w *Watcher) daemonSetSource() *source {
	ns, o := w.opts.Read.Namespace, w.opts.Read
	scope := func(lo metav1.ListOptions) metav1.ListOptions {
		lo.LabelSelector = o.LabelSelector
		if o.Name != "" {
			lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", o.Name).String()
		}
		return lo
	}
	s := &source{name: "daemonsets" + collect.ScopeWords(ns), resource: "daemonsets", group: "apps", namespace: ns, expectedType: &appsv1.DaemonSet{}}
	s.list = func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
		l, err := w.cs.ListDaemonSets(ctx, ns, scope(lo))
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			l.Items[i].ManagedFields = nil
		}
		return l, nil
	}
	s.watch = func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		return w.cs.WatchDaemonSets(ctx, ns, scope(lo))
	}
	s.put = func(obj any) bool {
		ds, ok := obj.(*appsv1.DaemonSet)
		if !ok {
			return false
		}
		k := ds.Namespace + "/" + ds.Name
		if !w.selects(ds) {
			return w.dropDaemonSet(k)
		}
		ds.ManagedFields = nil
		old := w.dss[k]
		if old != nil && sameIgnoringVersion(old, ds, func(d *appsv1.DaemonSet) *string { return &d.ResourceVersion }) {
			// Kept at its old resourceVersion: an analysis carried
			// forward (analyze.Memo) takes it for unchanged, as it is.
			return false
		}
		w.dss[k] = ds
		w.use(k, ds)
		return true
	}
	s.drop = func(obj any) bool {
		ds, ok := obj.(*appsv1.DaemonSet)
		return ok && w.dropDaemonSet(ds.Namespace+"/"+ds.Name)
	}
	s.replace = func(items []any) bool {
		keep := map[string]bool{}
		for _, it := range items {
			if ds, ok := it.(*appsv1.DaemonSet); ok {
				keep[ds.Namespace+"/"+ds.Name] = true
				s.put(ds)
			}
		}
		for k := range w.dss {
			// Advanced DaemonSets are not in this list (see dsKey).
			if !keep[k] && !model.IsKruise(w.dss[k]) {
				w.dropDaemonSet(k)
			}
		}
		return true
	}
	return s
}

// selects applies Live's selection to a DaemonSet (the server did; a fake
// clientset does not).
func (w *Watcher) selects(ds *appsv1.DaemonSet) bool {
	o := w.opts.Read
	return (o.Namespace == "" || ds.Namespace == o.Namespace) && (o.Name == "" || ds.Name == o.Name) &&
		w.dsSel.Matches(labels.Set(ds.Labels))
}

// use makes the DaemonSet k use its selection, starting the selection's
// watches if it is new. Called with w.mu held.
func (w *Watcher) use(k string, ds *appsv1.DaemonSet) {
	at, _ := collect.SelectionOf(ds)
	if prev, ok := w.dsAt[k]; ok {
		if prev == at {
			return
		}
		w.release(k)
	}
	w.dsAt[k] = at
	s := w.sels[at]
	if s == nil {
		s = newSelection(at)
		w.sels[at] = s
		w.startSelection(s, "", "", false)
	}
	s.users++
}

func (w *Watcher) dropDaemonSet(k string) bool {
	if _, ok := w.dss[k]; !ok {
		return false
	}
	delete(w.dss, k)
	w.release(k)
	return true
}

// release ends the DaemonSet k's use of its selection, and the selection's
// watches when no DaemonSet uses it any more. Called with w.mu held.
func (w *Watcher) release(k string) {
	at, ok := w.dsAt[k]
	if !ok {
		return
	}
	delete(w.dsAt, k)
	s := w.sels[at]
	if s == nil {
		return
	}
	if s.users--; s.users > 0 {
		return
	}
	if s.cancel != nil {
		s.cancel()
	}
	delete(w.sels, at)
	w.podOrder = nil
}

// startSelection starts the Pod and revision watches of s (those whose kind
// is watched). Called with w.mu held.
func (w *Watcher) startSelection(s *selection, podSeed, revSeed string, initial bool) {
	ctx, cancel := context.WithCancel(w.ctx)
	s.cancel = cancel
	if w.pods {
		w.start(ctx, w.podSource(s), podSeed, initial)
	}
	if w.revs {
		w.start(ctx, w.revisionSource(s), revSeed, initial)
	}
}

func selectorWords(at collect.Selection) string {
	if at.Selector == "" {
		return " in namespace " + at.Namespace
	}
	return fmt.Sprintf(" in namespace %s (%s)", at.Namespace, at.Selector)
}

func (w *Watcher) podSource(s *selection) *source {
	at := s.at
	src := &source{name: "pods" + selectorWords(at), resource: "pods", namespace: at.Namespace, expectedType: &corev1.Pod{}}
	src.list = func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
		lo.LabelSelector = at.Selector
		l, err := w.cs.ListPods(ctx, at.Namespace, lo)
		if err != nil {
			return nil, err
		}
		out := &podRecordList{ListMeta: l.ListMeta}
		for i := range l.Items {
			if p := &l.Items[i]; s.admits(p) {
				out.Items = append(out.Items, podRecord{DaemonPod: collect.Compact(p)})
			}
		}
		return out, nil
	}
	src.watch = func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		lo.LabelSelector = at.Selector
		return w.cs.WatchPods(ctx, at.Namespace, lo)
	}
	src.put = func(obj any) bool { return w.putPod(s, src, obj) }
	src.drop = func(obj any) bool { return w.dropPod(s, obj) }
	src.replace = func(items []any) bool {
		s.pods = make(map[string]*model.DaemonPod, len(items))
		for _, it := range items {
			if rec, ok := s.podRecordOf(it); ok {
				s.pods[rec.Namespace+"/"+rec.Name] = &rec
			}
		}
		w.podOrder = nil
		return true
	}
	return src
}

// podRecordOf is the record kept of a Pod the watch or the list delivered
// (false when s does not admit it: the record then holds its key only).
func (s *selection) podRecordOf(obj any) (model.DaemonPod, bool) {
	switch p := obj.(type) {
	case *corev1.Pod:
		if !s.admits(p) {
			return model.DaemonPod{Namespace: p.Namespace, Name: p.Name}, false
		}
		return collect.Compact(p), true
	case *podRecord:
		return p.DaemonPod, true
	}
	return model.DaemonPod{}, false
}

// putPod is the Pod source's put: it keeps the Pod's record in s, and
// says whether that changed anything to analyse.
func (w *Watcher) putPod(s *selection, src *source, obj any) bool {
	rec, ok := s.podRecordOf(obj)
	k := rec.Namespace + "/" + rec.Name
	if !ok {
		return src.drop(obj)
	}
	if old := s.pods[k]; old != nil {
		// A write that changed nothing the record keeps (most of a
		// kubelet's status writes) keeps the old record and its
		// resourceVersion: no change to analyse.
		same := rec
		same.ResourceVersion = old.ResourceVersion
		if reflect.DeepEqual(*old, same) {
			return false
		}
		if old.UID == rec.UID {
			// In place: podOrder holds the pointer; the next
			// Snapshot copies it into podVals.
			*old = rec
			if w.podOrder != nil {
				w.podDirty = append(w.podDirty, old)
			}
			return true
		}
	}
	s.pods[k] = &rec
	w.podOrder = nil
	return true
}

// dropPod is the Pod source's drop: it forgets the Pod's record.
func (w *Watcher) dropPod(s *selection, obj any) bool {
	var k string
	switch p := obj.(type) {
	case *corev1.Pod:
		k = p.Namespace + "/" + p.Name
	case *podRecord:
		k = p.Namespace + "/" + p.Name
	default:
		return false
	}
	if _, ok := s.pods[k]; !ok {
		return false
	}
	delete(s.pods, k)
	w.podOrder = nil
	return true
}

// admits says whether a Pod the watch delivered may be a DaemonSet's daemon
// Pod: in the selection (the server filtered; a fake clientset does not),
// controlled by a DaemonSet or by nothing (an orphan the DaemonSet would
// adopt). Which DaemonSet owns it is decided when a snapshot is assembled
// (KeepPod), since DaemonSets come and go.
func (s *selection) admits(p *corev1.Pod) bool {
	if p.Namespace != s.at.Namespace || !s.sel.Matches(labels.Set(p.Labels)) {
		return false
	}
	ref := metav1.GetControllerOfNoCopy(p)
	return ref == nil || ref.Kind == "DaemonSet"
}

func (w *Watcher) revisionSource(s *selection) *source {
	at := s.at
	src := &source{name: "controllerrevisions" + selectorWords(at), resource: "controllerrevisions", group: "apps", namespace: at.Namespace, expectedType: &appsv1.ControllerRevision{}}
	admit := func(cr *appsv1.ControllerRevision) bool {
		ref := metav1.GetControllerOfNoCopy(cr)
		if cr.Namespace != at.Namespace || !s.sel.Matches(labels.Set(cr.Labels)) || ref == nil || ref.Kind != "DaemonSet" {
			return false
		}
		collect.TrimRevision(cr)
		return true
	}
	src.list = func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
		lo.LabelSelector = at.Selector
		l, err := w.cs.ListControllerRevisions(ctx, at.Namespace, lo)
		if err != nil {
			return nil, err
		}
		kept := l.Items[:0]
		for i := range l.Items {
			if admit(&l.Items[i]) {
				kept = append(kept, l.Items[i])
			}
		}
		l.Items = kept
		return l, nil
	}
	src.watch = func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		lo.LabelSelector = at.Selector
		return w.cs.WatchControllerRevisions(ctx, at.Namespace, lo)
	}
	src.put = func(obj any) bool {
		cr, ok := obj.(*appsv1.ControllerRevision)
		if !ok {
			return false
		}
		if !admit(cr) {
			return src.drop(obj)
		}
		k := cr.Namespace + "/" + cr.Name
		old := s.revs[k]
		if old != nil && sameIgnoringVersion(old, cr, func(c *appsv1.ControllerRevision) *string { return &c.ResourceVersion }) {
			return false
		}
		s.revs[k] = cr
		return true
	}
	src.drop = func(obj any) bool {
		cr, ok := obj.(*appsv1.ControllerRevision)
		if !ok {
			return false
		}
		k := cr.Namespace + "/" + cr.Name
		if _, ok := s.revs[k]; !ok {
			return false
		}
		delete(s.revs, k)
		return true
	}
	src.replace = func(items []any) bool {
		s.revs = make(map[string]*appsv1.ControllerRevision, len(items))
		for _, it := range items {
			if cr, ok := it.(*appsv1.ControllerRevision); ok && admit(cr) {
				s.revs[cr.Namespace+"/"+cr.Name] = cr
			}
		}
		return true
	}
	return src
}

func (w *Watcher) nodeSource() *source {
	s := &source{name: "nodes", resource: "nodes", expectedType: &corev1.Node{}}
	s.list = func(ctx context.Context, lo metav1.ListOptions) (runtime.Object, error) {
		l, err := w.cs.ListNodes(ctx, lo)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			collect.TrimNode(&l.Items[i])
			forgetHeartbeats(&l.Items[i])
		}
		return l, nil
	}
	s.watch = func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		return w.cs.WatchNodes(ctx, lo)
	}
	s.put = func(obj any) bool {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return false
		}
		collect.TrimNode(n)
		forgetHeartbeats(n)
		old := w.nodeMap[n.Name]
		if old != nil && sameIgnoringVersion(old, n, func(n *corev1.Node) *string { return &n.ResourceVersion }) {
			// Kubelets write their status every few minutes even when
			// nothing changed: that is no change to analyse, and the
			// node keeps its old resourceVersion (analyze.Memo).
			return false
		}
		w.nodeMap[n.Name] = n
		if old == nil {
			w.nodeOrder = nil
			return true
		}
		w.replaceInOrder(old, n)
		return true
	}
	s.drop = func(obj any) bool {
		n, ok := obj.(*corev1.Node)
		if !ok {
			return false
		}
		if _, ok := w.nodeMap[n.Name]; !ok {
			return false
		}
		delete(w.nodeMap, n.Name)
		w.nodeOrder = nil
		return true
	}
	s.replace = func(items []any) bool {
		w.nodeMap = make(map[string]*corev1.Node, len(items))
		for _, it := range items {
			if n, ok := it.(*corev1.Node); ok {
				w.nodeMap[n.Name] = n
			}
		}
		w.nodeOrder = nil
		return true
	}
	return s
}

// replaceInOrder swaps an updated node into nodeOrder (same name, same place).
func (w *Watcher) replaceInOrder(old, n *corev1.Node) {
	if w.nodeOrder == nil {
		return
	}
	i := sort.Search(len(w.nodeOrder), func(i int) bool { return w.nodeOrder[i].Name >= n.Name })
	if i < len(w.nodeOrder) && w.nodeOrder[i] == old {
		w.nodeOrder[i] = n
		w.nodeDirty = append(w.nodeDirty, i)
	} else {
		w.nodeOrder = nil
	}
}

// forgetHeartbeats drops the condition heartbeat times (the analysis reads
// statuses and transitions), so a heartbeat alone is no change.
func forgetHeartbeats(n *corev1.Node) {
	for i := range n.Status.Conditions {
		n.Status.Conditions[i].LastHeartbeatTime = metav1.Time{}
	}
}

// sameIgnoringVersion compares two objects as the analysis sees them: every
// field but the resourceVersion.
func sameIgnoringVersion[T any](a, b *T, rv func(*T) *string) bool {
	ac, bc := *a, *b
	*rv(&ac), *rv(&bc) = "", ""
	return equality.Semantic.DeepEqual(&ac, &bc)
}

// podRecord carries a compact DaemonPod through client-go's pager and
// Reflector on a re-list, so a re-list holds records, not Pods.
type podRecord struct {
	metav1.TypeMeta
	model.DaemonPod
}

func (p *podRecord) DeepCopyObject() runtime.Object { c := *p; return &c }

type podRecordList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []podRecord
}

func (l *podRecordList) DeepCopyObject() runtime.Object {
	c := *l
	c.Items = slices.Clone(l.Items)
	return &c
}

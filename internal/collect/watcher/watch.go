// Package watcher keeps a collect.Live read current for -w, --wait and
// serve, with watches instead of new reads.
//
// A watch carries a Live read forward: the objects Live read seed compact
// stores, one client-go Reflector per kind and scope watches from the
// resourceVersion each list stood at (collect.Cursor), and Snapshot
// assembles the same model.Snapshot a new Live read would return, for the
// same analysis.
// After the read the API server does no list work per change: only watch
// events arrive. Reflectors re-list on their own when a watch's
// resourceVersion has expired (410 Gone) or the connection broke (an API
// server restart), and retry with backoff while the server is away.
//
// Daemon Pods are watched as Live lists them: one watch per (namespace,
// selector) of the DaemonSets, so the server filters by label and a
// namespace's other Pods never reach the client; one cluster-wide Pod watch
// filtered here would receive every Pod's churn, and re-list every Pod of the
// cluster after a 410. The number of watches follows the number of distinct
// DaemonSet selectors (twice: Pods and ControllerRevisions), started and
// stopped as DaemonSets come and go. Events are not watched: the Warning
// events of the Live read are kept (they only add words to messages); nor
// are PriorityClasses (rarely changed) and --workloads (a cluster-wide Pod
// watch is what the per-selector watches avoid): the Live read's are kept.
//
// A write that changes nothing the kept record holds keeps the old object
// and its resourceVersion, so that an analysis carried forward
// (analyze.Memo), which takes an object at the same resourceVersion for
// unchanged, sees only real changes.
package watcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Options say what a watch follows.
type Options struct {
	// Read is the selection of the Live read the watch carries on
	// (namespace, name, label selector); ChunkSize pages a re-list.
	Read collect.Options
	// RequestTimeout bounds each list of a re-list (a watch is one long
	// request: the client that watches must have no overall timeout).
	RequestTimeout time.Duration
	// Status, when set, is told when the watches are interrupted (the
	// first error: the API server went away, a re-list failed) and, with
	// nil, when every watch is back. Called without locks held.
	Status func(err error)
}

// RefusedError says that the server would not let daemoncheck watch: the
// RBAC role lacks the watch verb, or a proxy does not serve watches.
type RefusedError struct {
	Resource, Group, Namespace string
	Err                        error
}

func (e *RefusedError) Error() string {
	group := e.Group
	if group == "" {
		group = `""`
	}
	where := ""
	if e.Namespace != "" {
		where = " in namespace " + e.Namespace
	}
	return fmt.Sprintf("cannot watch %s%s (%s); the watch verb is optional: add it to the rule apiGroups: [%s], resources: [%s], verbs: [get, list, watch]",
		e.Resource, where, text.Shorten(e.Err.Error(), 200), group, e.Resource)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// Watcher keeps the objects of a Live read current. Create it with Start.
type Watcher struct {
	cs   collect.Client
	opts Options
	// dsSel is the --selector on DaemonSets.
	dsSel labels.Selector

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	changed chan struct{}
	ready   chan struct{}
	failed  chan struct{}

	mu sync.Mutex
	// base holds what is not watched: source, server version, the Live
	// read's events, PriorityClasses, workloads (--workloads), warnings and
	// unread kinds.
	base model.Snapshot
	// Which kinds are watched: a kind Live could not read stays unread.
	pods, revs, nodes bool
	dss               map[string]*appsv1.DaemonSet
	dsAt              map[string]collect.Selection
	sels              map[collect.Selection]*selection
	nodeMap           map[string]*corev1.Node
	// nodeOrder and podOrder cache the sorted members between changes of
	// membership (nil: rebuild), nodeVals and podVals the values the last
	// snapshot handed out, and the dirty lists what changed in place since:
	// a Pod status update costs one copy, not a sort and a copy of every
	// daemon Pod (tens of MB per analysis on a large cluster).
	nodeOrder []*corev1.Node
	nodeVals  []corev1.Node
	nodeDirty []int
	podOrder  []*model.DaemonPod
	podVals   []model.DaemonPod
	podDirty  []*model.DaemonPod
	// pending counts the first watches not yet open (ready closes at 0).
	pending int
	err     error
	failing map[*source]bool
}

// selection holds the Pods and ControllerRevisions of one Selection, and the
// DaemonSets that use it.
type selection struct {
	at     collect.Selection
	sel    labels.Selector
	users  int
	cancel context.CancelFunc
	pods   map[string]*model.DaemonPod
	revs   map[string]*appsv1.ControllerRevision
}

// Start starts watching from where a Live read stood: snap and cur are what
// Live returned and recorded (collect.Options.Cursor), with the same
// opts.Read. It takes its own copy of what it keeps: the caller may drop
// snap. Stop ends it; so does ctx.
func Start(ctx context.Context, cs collect.Client, snap *model.Snapshot, cur *collect.Cursor, opts Options) (*Watcher, error) {
	dsSel := labels.Everything()
	if opts.Read.LabelSelector != "" {
		s, err := labels.Parse(opts.Read.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("invalid label selector %q: %v", opts.Read.LabelSelector, err)
		}
		dsSel = s
	}
	w := &Watcher{
		cs: cs, opts: opts, dsSel: dsSel,
		changed: make(chan struct{}, 1), ready: make(chan struct{}), failed: make(chan struct{}),
		base: readOnce(snap),
		pods: snap.Has(model.Pods), revs: snap.Has(model.ControllerRevisions), nodes: snap.Has(model.Nodes),
		dss: map[string]*appsv1.DaemonSet{}, dsAt: map[string]collect.Selection{}, sels: map[collect.Selection]*selection{},
		nodeMap: map[string]*corev1.Node{}, failing: map[*source]bool{},
	}
	w.ctx, w.cancel = context.WithCancel(ctx)
	var at collect.Positions
	if cur != nil {
		at = cur.At()
	}
	w.mu.Lock()
	defer w.mu.Unlock()

	w.seed(snap)

	w.start(w.ctx, w.daemonSetSource(), at.DaemonSets, true)
	if w.nodes {
		w.start(w.ctx, w.nodeSource(), at.Nodes, true)
	}
	for sel, s := range w.sels {
		w.startSelection(s, at.Pods[sel], at.Revisions[sel], true)
	}
	if w.pending == 0 {
		close(w.ready)
	}
	return w, nil
}

// seed fills the stores from the read the watch carries on from, with
// copies (each its own allocation, so the read's large slices can go).
// Called with w.mu held.
func (w *Watcher) seed(snap *model.Snapshot) {
	for i := range snap.DaemonSets {
		ds := snap.DaemonSets[i]
		k := dsKey(&ds)
		w.dss[k] = &ds
		at, _ := collect.SelectionOf(&ds)
		w.dsAt[k] = at
		s := w.sels[at]
		if s == nil {
			s = newSelection(at)
			w.sels[at] = s
		}
		s.users++
	}
	if w.nodes {
		for i := range snap.Nodes {
			n := snap.Nodes[i]
			forgetHeartbeats(&n)
			w.nodeMap[n.Name] = &n
		}
	}
	byNS := map[string][]*selection{}
	for _, s := range w.sels {
		byNS[s.at.Namespace] = append(byNS[s.at.Namespace], s)
	}
	for i := range snap.DaemonPods {
		p := new(model.DaemonPod)
		*p = snap.DaemonPods[i]
		for _, s := range byNS[p.Namespace] {
			if s.sel.Matches(p.Labels) {
				s.pods[p.Namespace+"/"+p.Name] = p
			}
		}
	}
	for i := range snap.ControllerRevisions {
		cr := snap.ControllerRevisions[i]
		for _, s := range byNS[cr.Namespace] {
			if s.sel.Matches(labels.Set(cr.Labels)) {
				s.revs[cr.Namespace+"/"+cr.Name] = &cr
			}
		}
	}
}

// dsKey keys a DaemonSet in Watcher.dss: namespace/name, and for an
// Advanced DaemonSet its group after it, so that one of the same name as a
// core DaemonSet is another entry. Advanced DaemonSets are kept as the
// Live read found them (like events and PriorityClasses): their Pods and
// revisions are watched through their selectors, their own spec is not.
func dsKey(ds *appsv1.DaemonSet) string {
	if model.IsKruise(ds) {
		return ds.Namespace + "/" + ds.Name + "@" + model.KruiseGroup
	}
	return ds.Namespace + "/" + ds.Name
}

func newSelection(at collect.Selection) *selection {
	sel := labels.Everything()
	if at.Selector != "" {
		// Built by LabelSelectorAsSelector: it parses back.
		if s, err := labels.Parse(at.Selector); err == nil {
			sel = s
		}
	}
	return &selection{at: at, sel: sel, pods: map[string]*model.DaemonPod{}, revs: map[string]*appsv1.ControllerRevision{}}
}

// Changed receives a value when something the analysis reads changed since
// the last Snapshot (several changes may be one value).
func (w *Watcher) Changed() <-chan struct{} { return w.changed }

// Ready is closed once every watch the Watcher started with is open (the
// server accepted it): from then on, changes arrive.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Failed is closed when the server refused a watch (Err says why); the
// Watcher has stopped then.
func (w *Watcher) Failed() <-chan struct{} { return w.failed }

// Err is the RefusedError that stopped the Watcher, or nil.
func (w *Watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends every watch and waits for them to end.
func (w *Watcher) Stop() {
	w.cancel()
	w.wg.Wait()
}

func (w *Watcher) notify() {
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

// refuse stops the Watcher on a refused watch: the caller decides what
// next (poll instead, or fail).
func (w *Watcher) refuse(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	w.err = err
	close(w.failed)
	w.cancel()
}

// readOnce is what a watch keeps of a read: everything but the kinds it
// watches, which each Snapshot rebuilds (events, priority classes, node
// plugins, readiness rules and the Kruise records are read once), with
// the warnings and gaps copied, since a snapshot's reader adds to them.
// Copying the whole snapshot keeps a field added to it later, where a
// list of fields would drop it without a word.
func readOnce(snap *model.Snapshot) model.Snapshot {
	b := *snap
	b.DaemonSets, b.Nodes, b.DaemonPods, b.ControllerRevisions = nil, nil, nil, nil
	b.Warnings, b.Missing = slices.Clone(snap.Warnings), maps.Clone(snap.Missing)
	return b
}

// Snapshot assembles the current objects into a snapshot, as a Live read
// would return them: the DaemonSets the selection names, every node, the
// daemon Pods those DaemonSets own or would adopt, their revisions. The
// objects are shared with the stores, which never change an object they
// handed out (a change replaces it): the analysis only reads. The node and
// Pod slices are reused: a snapshot is valid until the next call.
func (w *Watcher) Snapshot() *model.Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	base := readOnce(&w.base)
	snap := &base
	keys := slices.Sorted(maps.Keys(w.dss))
	snap.DaemonSets = make([]appsv1.DaemonSet, 0, len(keys))
	for _, k := range keys {
		snap.DaemonSets = append(snap.DaemonSets, *w.dss[k])
	}
	if w.nodes {
		if w.nodeOrder == nil {
			w.nodeOrder = make([]*corev1.Node, 0, len(w.nodeMap))
			for _, n := range w.nodeMap {
				w.nodeOrder = append(w.nodeOrder, n)
			}
			sort.Slice(w.nodeOrder, func(i, j int) bool { return w.nodeOrder[i].Name < w.nodeOrder[j].Name })
			w.nodeVals = make([]corev1.Node, len(w.nodeOrder))
			for i, n := range w.nodeOrder {
				w.nodeVals[i] = *n
			}
		} else {
			for _, i := range w.nodeDirty {
				w.nodeVals[i] = *w.nodeOrder[i]
			}
		}
		w.nodeDirty = nil
		snap.Nodes = w.nodeVals
	}
	o := collect.Owners(snap.DaemonSets)
	if w.pods {
		snap.DaemonPods = w.daemonPods(o)
	}
	if w.revs {
		seen := map[types.UID]bool{}
		for _, s := range w.sels {
			for _, cr := range s.revs {
				if !seen[cr.UID] && collect.KeepRevision(cr, o) {
					seen[cr.UID] = true
					snap.ControllerRevisions = append(snap.ControllerRevisions, *cr)
				}
			}
		}
		sort.Slice(snap.ControllerRevisions, func(i, j int) bool {
			a, b := &snap.ControllerRevisions[i], &snap.ControllerRevisions[j]
			return collect.KeyLess(a.Namespace, a.Name, b.Namespace, b.Name)
		})
	}
	return snap
}

// daemonPods brings podVals up to date and returns the Pods to analyse:
// podVals itself when every Pod is kept (the usual case), else a filtered
// copy. Called with w.mu held.
func (w *Watcher) daemonPods(o collect.PodOwners) []model.DaemonPod {
	if w.podOrder == nil {
		w.podOrder = w.sortedPods()
		w.podVals = make([]model.DaemonPod, len(w.podOrder))
		for i, p := range w.podOrder {
			w.podVals[i] = *p
		}
	} else {
		for _, p := range w.podDirty {
			if i := w.podIndex(p); i >= 0 {
				w.podVals[i] = *p
			}
		}
	}
	w.podDirty = nil
	kept := len(w.podVals)
	for _, p := range w.podOrder {
		if !collect.KeepPod(p, o) {
			kept--
		}
	}
	if kept == len(w.podVals) {
		return w.podVals
	}
	out := make([]model.DaemonPod, 0, kept)
	for i, p := range w.podOrder {
		if collect.KeepPod(p, o) {
			out = append(out, w.podVals[i])
		}
	}
	return out
}

// podIndex finds p in podOrder (sorted by namespace, name, UID); -1 if absent.
func (w *Watcher) podIndex(p *model.DaemonPod) int {
	i := sort.Search(len(w.podOrder), func(i int) bool { return !podLess(w.podOrder[i], p) })
	if i < len(w.podOrder) && w.podOrder[i] == p {
		return i
	}
	return -1
}

func podLess(a, b *model.DaemonPod) bool {
	if a.Namespace == b.Namespace && a.Name == b.Name {
		return a.UID < b.UID
	}
	return collect.KeyLess(a.Namespace, a.Name, b.Namespace, b.Name)
}

// sortedPods lists every selection's Pods once (selectors may overlap),
// sorted as Live sorts them.
func (w *Watcher) sortedPods() []*model.DaemonPod {
	n := 0
	for _, s := range w.sels {
		n += len(s.pods)
	}
	all := make([]*model.DaemonPod, 0, n)
	for _, s := range w.sels {
		for _, p := range s.pods {
			all = append(all, p)
		}
	}
	sort.Slice(all, func(i, j int) bool { return podLess(all[i], all[j]) })
	out := all[:0]
	for i, p := range all {
		if i > 0 && p.UID == all[i-1].UID {
			continue
		}
		out = append(out, p)
	}
	return slices.Clip(out)
}

// ---- sources: one Reflector's ListerWatcher and store ----

// source is the ListerWatcher and the store of one Reflector: one kind in
// one scope. Its first list is the Live read (seed): the Reflector gets an
// empty list at the read's resourceVersion, and the Replace that follows
// keeps the stores as seeded. Later lists (after a 410 or a broken
// connection) are real, paged, and converted to the kept form per page.
type source struct {
	w                          *Watcher
	name                       string
	resource, group, namespace string
	// seed is the resourceVersion of the Live list; seeded until the
	// Reflector's first list has used it, keep until its Replace.
	seed         string
	seeded, keep bool
	counts, open bool
	list         func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error)
	watch        func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
	put, drop    func(obj any) bool
	replace      func(items []any) bool
	expectedType runtime.Object
}

// start runs a Reflector for s. initial: s carries on from the Live read
// (its stores are seeded, seed is the list's resourceVersion), and Ready
// waits for its first watch; else it lists first. Called with w.mu held.
func (w *Watcher) start(ctx context.Context, s *source, seed string, initial bool) {
	if ctx.Err() != nil {
		return
	}
	s.w = w
	s.seed, s.seeded, s.counts = seed, initial, initial
	if initial {
		w.pending++
	}
	r := cache.NewReflectorWithOptions(s, s.expectedType, s, cache.ReflectorOptions{Name: s.name})
	// A re-list pages like Live, and each page becomes compact records
	// before the next is read.
	r.WatchListPageSize = w.opts.Read.ChunkSize
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		r.RunWithContext(ctx)
	}()
}

// IsWatchListSemanticsUnSupported keeps the Reflector on list-then-watch:
// its first "list" is the Live read, and a streamed watch-list would skip it.
func (s *source) IsWatchListSemanticsUnSupported() bool { return true }

func (s *source) List(o metav1.ListOptions) (runtime.Object, error) {
	return s.ListWithContext(s.w.ctx, o)
}

func (s *source) Watch(o metav1.ListOptions) (watch.Interface, error) {
	return s.WatchWithContext(s.w.ctx, o)
}

func (s *source) ListWithContext(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
	s.w.mu.Lock()
	seeded, seed := s.seeded, s.seed
	if seeded {
		s.seeded, s.keep = false, true
	}
	err := s.w.err
	s.w.mu.Unlock()
	if seeded {
		return &metav1.List{ListMeta: metav1.ListMeta{ResourceVersion: seed}}, nil
	}
	if err != nil {
		return nil, err
	}
	if t := s.w.opts.RequestTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if o.ResourceVersion != "" && o.ResourceVersion != "0" && o.Continue == "" && o.Limit > 0 {
		// A re-list after a watch ended asks for data at least as new as
		// what the watch saw. Paged, the API server would read it at
		// exactly that resourceVersion (from etcd), which a restarted
		// server's watch cache no longer serves: every watch from it
		// would end in 410 and re-list the same again. NotOlderThan
		// gives the newest data, and a resourceVersion a watch can
		// start from. (The pager clears it on later pages.)
		o.ResourceVersionMatch = metav1.ResourceVersionMatchNotOlderThan
	}
	l, err := s.list(ctx, o)
	if err != nil && ctx.Err() == nil {
		s.w.interrupted(s, err)
	}
	return l, err
}

func (s *source) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	if err := s.w.Err(); err != nil {
		return nil, err
	}
	wi, err := s.watch(ctx, o)
	switch {
	case err == nil:
		s.w.opened(s)
		return s.reportBrokenStream(wi), nil
	case apierrors.IsForbidden(err) || apierrors.IsMethodNotSupported(err):
		s.w.refuse(&RefusedError{Resource: s.resource, Group: s.group, Namespace: s.namespace, Err: err})
	case ctx.Err() == nil:
		s.w.interrupted(s, err)
	}
	return nil, err
}

// reportBrokenStream passes the events of wi on, and reports the error
// event that ends a broken stream (an event over MaxEventBytes, one that
// does not decode, a server error) as an interruption, as a failed list or
// watch is: the Reflector only logs it before it lists and watches again.
// An expired resourceVersion (410) is routine, and not reported.
func (s *source) reportBrokenStream(wi watch.Interface) watch.Interface {
	r := &reportingWatch{Interface: wi, result: make(chan watch.Event), done: make(chan struct{})}
	go func() {
		defer close(r.result)
		for ev := range wi.ResultChan() {
			if ev.Type == watch.Error {
				if err := streamError(ev.Object); !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
					s.w.interrupted(s, err)
				}
			}
			select {
			case r.result <- ev:
			case <-r.done:
				// The Reflector stopped reading (watch.Filter would
				// block here forever).
				return
			}
		}
	}()
	return r
}

// streamError is the error an error event carries. client-go reports a
// stream it could not decode as a server error ("an error on the server
// ... has prevented the request from succeeding"); the cause it records
// says what happened, in the client.
func streamError(obj runtime.Object) error {
	err := apierrors.FromObject(obj)
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Details != nil {
		for _, c := range st.Status().Details.Causes {
			if c.Type == "ClientWatchDecoding" {
				return errors.New(c.Message)
			}
		}
	}
	return err
}

type reportingWatch struct {
	watch.Interface
	result chan watch.Event
	done   chan struct{}
	once   sync.Once
}

func (r *reportingWatch) ResultChan() <-chan watch.Event { return r.result }

func (r *reportingWatch) Stop() {
	r.once.Do(func() { close(r.done) })
	r.Interface.Stop()
}

func (s *source) Add(obj any) error    { s.apply(func() bool { return s.put(obj) }); return nil }
func (s *source) Update(obj any) error { s.apply(func() bool { return s.put(obj) }); return nil }
func (s *source) Delete(obj any) error { s.apply(func() bool { return s.drop(obj) }); return nil }
func (s *source) Resync() error        { return nil }

func (s *source) Replace(items []any, _ string) error {
	s.w.mu.Lock()
	if s.keep {
		s.keep = false
		s.w.mu.Unlock()
		return nil
	}
	changed := s.replace(items)
	s.w.mu.Unlock()
	s.w.recovered(s)
	if changed {
		s.w.notify()
	}
	return nil
}

func (s *source) apply(f func() bool) {
	s.w.mu.Lock()
	changed := f()
	s.w.mu.Unlock()
	if changed {
		s.w.notify()
	}
}

// opened counts a first watch, and says that an interrupted source is back.
func (w *Watcher) opened(s *source) {
	w.mu.Lock()
	if !s.open {
		s.open = true
		if s.counts {
			if w.pending--; w.pending == 0 {
				close(w.ready)
			}
		}
	}
	w.mu.Unlock()
	w.recovered(s)
}

func (w *Watcher) interrupted(s *source, err error) {
	w.mu.Lock()
	first := len(w.failing) == 0
	w.failing[s] = true
	w.mu.Unlock()
	if first && w.opts.Status != nil {
		w.opts.Status(fmt.Errorf("watching %s: %w", s.name, err))
	}
}

func (w *Watcher) recovered(s *source) {
	w.mu.Lock()
	was := w.failing[s]
	delete(w.failing, s)
	back := was && len(w.failing) == 0
	w.mu.Unlock()
	if back && w.opts.Status != nil {
		w.opts.Status(nil)
	}
}

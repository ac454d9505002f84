// Package collect reads the objects an audit needs, from a live cluster or
// from files, into a model.Snapshot. It only ever lists and gets: nothing
// here writes to the cluster. A list the user may not make (Forbidden) is not
// fatal: the kind is marked missing with the RBAC rule to add, and the
// analysis reports what it could see.
package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Options say what to read.
type Options struct {
	// Namespace restricts DaemonSets to one namespace; "" means all.
	Namespace string
	// Name selects one DaemonSet (requires Namespace).
	Name string
	// LabelSelector filters DaemonSets.
	LabelSelector string
	// ChunkSize is the page size of every list (0: no paging).
	ChunkSize int64
	// PodEvents also reads Warning events of the DaemonSets' Pods (detail view).
	PodEvents bool
	// Workloads also reads every non-terminal Pod of the cluster and sums
	// their requests per node (model.Workloads): one more paginated list,
	// of all Pods, never kept.
	Workloads bool
	// Parallel bounds concurrent list calls (default 4).
	Parallel int
	// Progress, when set, is told what is being read (for a terminal).
	Progress func(format string, args ...any)
	// Cursor, when set, is filled with the resourceVersion of every list,
	// so that a watch can carry on from the read (package watcher).
	Cursor *Cursor
	// NoPods reads DaemonSets and Nodes only (no daemon Pods, revisions
	// or events): a what-if judges specs against nodes.
	NoPods bool
	// DaemonPods, with NoPods, still reads the daemon Pods (not revisions
	// or events): what-if looks at the platforms they run on.
	DaemonPods bool
}

// Live reads a snapshot from the cluster behind cs. host names the server in
// messages. Errors other than Forbidden (unreachable server, timeouts) end the
// read: a report from half a cluster read would be a guess. The first such
// error cancels the lists still running, and the error returned names it (and
// how many other lists failed on their own), in one line.
//
// ctx bounds the whole read: every request and every retry wait ends when
// it is done.
func Live(ctx context.Context, cs Client, host string, opts Options) (*model.Snapshot, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	cur := opts.Cursor
	if cur == nil {
		cur = &Cursor{}
	}
	cur.reset()
	snap := &model.Snapshot{Source: host}
	dss, err := readDaemonSets(ctx, cs, opts, cur, progress, snap)
	if err != nil {
		return nil, err
	}
	snap.DaemonSets = dss
	snap.ServerVersion = serverVersion(ctx, cs) // after a good read: an unreachable server fails on the list, as before

	// Nodes, Pods, revisions and events are independent: read them at once.
	g := newListGroup(ctx, snap, opts.Parallel)
	defer g.stop()
	r := &liveRead{cs: cs, opts: opts, cur: cur, progress: progress, g: g, snap: snap}
	r.nodes()
	r.priorityClasses()
	r.readinessRules()
	if opts.Workloads {
		r.workloads()
	}
	if !opts.NoPods || opts.DaemonPods {
		r.podsAndRevisions(dss)
	}
	if !opts.NoPods {
		r.events(dss)
		r.plugins()
	}
	if err := g.wait(); err != nil {
		return nil, err
	}
	if err := r.finish(ctx); err != nil {
		return nil, err
	}
	return snap, nil
}

// readDaemonSets lists the DaemonSets opts selects, the read every other
// list of Live follows from.
func readDaemonSets(ctx context.Context, cs Client, opts Options, cur *Cursor, progress func(string, ...any), snap *model.Snapshot) ([]appsv1.DaemonSet, error) {
	progress("reading daemonsets")
	dsOpts := metav1.ListOptions{LabelSelector: opts.LabelSelector}
	if opts.Name != "" {
		dsOpts.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.Name).String()
	}
	dss, err := listAll(ctx, opts.ChunkSize, dsOpts, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.DaemonSet, metav1.ListMeta, error) {
		l, err := cs.ListDaemonSets(ctx, opts.Namespace, o)
		if err != nil {
			return nil, metav1.ListMeta{}, err
		}
		cur.record(o, &cur.DaemonSets, l.ResourceVersion)
		return l.Items, l.ListMeta, nil
	})
	if err != nil {
		return nil, shortError(fmt.Errorf("listing daemonsets%s: %w", ScopeWords(opts.Namespace), explain(deadlineWords(ctx, err), "list", "daemonsets", "apps", opts.Namespace)))
	}
	for i := range dss {
		dss[i].ManagedFields = nil
	}
	// Advanced DaemonSets are DaemonSets too: selected by the same
	// options, their Pods and revisions read with the core ones'.
	kr, err := readKruise(ctx, cs, opts, progress)
	if err != nil {
		return nil, err
	}
	dss = append(dss, kr.dss...)
	if kr.notServed != nil {
		snap.NotServed = append(snap.NotServed, *kr.notServed)
	}
	if kr.gap != nil {
		snap.MarkMissing(model.KruiseDaemonSets, kr.gap.Reason, kr.gap.Rule)
	}
	dss, err = SelectDaemonSets(dss, opts, "")
	if err != nil {
		return nil, err
	}
	snap.Kruise = KeepKruise(kr.kruise, dss)
	return dss, nil
}

// liveRead is one Live read after the DaemonSets: each method starts the
// lists of one kind in g, and each list merges into snap under g's lock.
type liveRead struct {
	cs       Client
	opts     Options
	cur      *Cursor
	progress func(string, ...any)
	g        *listGroup
	snap     *model.Snapshot
	// podPages are the pages of daemon Pods, merged once all lists are in
	// (see mergePods).
	podPages [][]model.DaemonPod
}

func (r *liveRead) nodes() {
	r.g.run(func(ctx context.Context) {
		r.progress("reading nodes")
		nodes, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Node, metav1.ListMeta, error) {
			l, err := r.cs.ListNodes(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			r.cur.record(o, &r.cur.Nodes, l.ResourceVersion)
			for i := range l.Items {
				TrimNode(&l.Items[i])
			}
			return l.Items, l.ListMeta, nil
		})
		if err != nil {
			r.g.fail(model.Nodes, "", err)
			return
		}
		r.g.locked(func() { r.snap.Nodes = nodes })
	})
}

func (r *liveRead) priorityClasses() {
	r.g.run(func(ctx context.Context) {
		r.progress("reading priorityclasses")
		pcs, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]schedulingv1.PriorityClass, metav1.ListMeta, error) {
			l, err := r.cs.ListPriorityClasses(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			for j := range l.Items {
				l.Items[j].ManagedFields = nil
			}
			return l.Items, l.ListMeta, nil
		})
		if err != nil {
			r.g.fail(model.PriorityClasses, "", err)
			return
		}
		r.g.locked(func() { r.snap.PriorityClasses, r.snap.PriorityClassesRead = pcs, true })
	})
}

func (r *liveRead) workloads() {
	r.g.run(func(ctx context.Context) {
		r.progress("reading all pods (--workloads)")
		w, err := readWorkloads(ctx, r.cs, r.opts.ChunkSize)
		if err != nil {
			r.g.fail(model.AllPods, "", err)
			return
		}
		r.g.locked(func() { r.snap.Workloads = w })
	})
}

// podsAndRevisions lists the Pods and ControllerRevisions of every
// DaemonSet: once per namespace and selector.
func (r *liveRead) podsAndRevisions(dss []appsv1.DaemonSet) {
	owners := Owners(dss)
	seenRev := map[types.UID]bool{}
	listed := map[Selection]bool{}
	for i := range dss {
		ds := &dss[i]
		at, selErr := SelectionOf(ds)
		if selErr != nil {
			r.g.locked(func() {
				r.snap.Warnings = append(r.snap.Warnings, fmt.Sprintf("daemonset %s/%s has an invalid selector (%v); reading all Pods of namespace %s to find its own", ds.Namespace, ds.Name, selErr, ds.Namespace))
			})
		}
		if listed[at] {
			// Another DaemonSet of the namespace has the same selector:
			// its lists hold these Pods and revisions already.
			continue
		}
		listed[at] = true
		r.pods(ds.Name, at, owners)
		if !r.opts.NoPods {
			r.revisions(at, owners, seenRev)
		}
	}
}

// pods lists the Pods at selects, keeping the compact record of those
// owned by an audited DaemonSet (named dsName in progress).
func (r *liveRead) pods(dsName string, at Selection, owners PodOwners) {
	ns, selector := at.Namespace, at.Selector
	r.g.run(func(ctx context.Context) {
		r.progress("reading pods of daemonset %s/%s", ns, dsName)
		// Only Pods the DaemonSet selects can be its own (the API server
		// validates that the template's labels match the selector); the
		// owner reference decides, the selector only narrows the read.
		pages, err := listPages(ctx, r.opts.ChunkSize, metav1.ListOptions{LabelSelector: selector}, func(ctx context.Context, o metav1.ListOptions) ([]model.DaemonPod, metav1.ListMeta, error) {
			l, err := r.cs.ListPods(ctx, ns, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			r.cur.recordAt(o, r.cur.Pods, at, l.ResourceVersion)
			// Keep the compact record only: the decoded page is garbage
			// as soon as this returns.
			var kept []model.DaemonPod
			for j := range l.Items {
				p := &l.Items[j]
				if ref := metav1.GetControllerOfNoCopy(p); ref == nil || owners.uids[refKey(p.Namespace, ref)] {
					if dp := Compact(p); KeepPod(&dp, owners) {
						kept = append(kept, dp)
					}
				}
			}
			return kept, l.ListMeta, nil
		})
		if err != nil {
			r.g.fail(model.Pods, ns, err)
			return
		}
		r.g.locked(func() { r.podPages = append(r.podPages, pages...) })
	})
}

// revisions lists the ControllerRevisions at selects that an audited
// DaemonSet owns; seenRev (guarded by g's lock) keeps each once.
func (r *liveRead) revisions(at Selection, owners PodOwners, seenRev map[types.UID]bool) {
	ns, selector := at.Namespace, at.Selector
	r.g.run(func(ctx context.Context) {
		revs, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{LabelSelector: selector}, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ControllerRevision, metav1.ListMeta, error) {
			l, err := r.cs.ListControllerRevisions(ctx, ns, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			r.cur.recordAt(o, r.cur.Revisions, at, l.ResourceVersion)
			kept := l.Items[:0]
			for j := range l.Items {
				cr := &l.Items[j]
				if KeepRevision(cr, owners) {
					TrimRevision(cr)
					kept = append(kept, *cr)
				}
			}
			return kept, l.ListMeta, nil
		})
		if err != nil {
			r.g.fail(model.ControllerRevisions, ns, err)
			return
		}
		r.g.locked(func() {
			for _, cr := range revs {
				if !seenRev[cr.UID] {
					seenRev[cr.UID] = true
					r.snap.ControllerRevisions = append(r.snap.ControllerRevisions, cr)
				}
			}
		})
	})
}

// events lists Warning events about DaemonSets, and in the detail view
// about their Pods too, one list per namespace that has DaemonSets.
func (r *liveRead) events(dss []appsv1.DaemonSet) {
	for _, ns := range eventNamespaces(dss, r.opts.Namespace) {
		r.g.run(func(ctx context.Context) {
			sel := fields.Set{"type": corev1.EventTypeWarning}
			if !r.opts.PodEvents {
				sel["involvedObject.kind"] = "DaemonSet"
			}
			evs, err := listAll(ctx, r.opts.ChunkSize, metav1.ListOptions{FieldSelector: sel.AsSelector().String()}, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Event, metav1.ListMeta, error) {
				l, err := r.cs.ListEvents(ctx, ns, o)
				if err != nil {
					return nil, metav1.ListMeta{}, err
				}
				for j := range l.Items {
					l.Items[j].ManagedFields = nil
				}
				return l.Items, l.ListMeta, nil
			})
			if err != nil {
				r.g.fail(model.Events, ns, err)
				return
			}
			r.g.locked(func() { r.snap.Events = append(r.snap.Events, evs...) })
		})
	}
}

// finish completes the snapshot once every list is in: the daemon Pods
// merged, the nodes they name confirmed, and an order independent of
// timing. ctx is the read's own (the group's is cancelled by now).
func (r *liveRead) finish(ctx context.Context) error {
	snap := r.snap
	if snap.Has(model.Pods) {
		snap.DaemonPods = mergePods(r.podPages)
	} else {
		// A partial Pod list would make present Pods look missing.
		snap.DaemonPods = nil
	}
	r.podPages = nil
	if err := confirmNodes(ctx, r.cs, snap); err != nil {
		return shortError(deadlineWords(ctx, err))
	}
	// Lists ran concurrently; make the order independent of timing.
	// (Pods are already in order: mergePods.)
	sort.Slice(snap.ControllerRevisions, func(i, j int) bool {
		a, b := &snap.ControllerRevisions[i], &snap.ControllerRevisions[j]
		return KeyLess(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	sort.Slice(snap.Events, func(i, j int) bool {
		a, b := &snap.Events[i], &snap.Events[j]
		return KeyLess(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	return nil
}

// deadlineWords says plainly that the run's own time limit (ctx) ended a
// request, rather than a bare "context deadline exceeded".
func deadlineWords(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the run's time limit passed: %w", err)
	}
	return err
}

// shortError keeps an error to one line of at most 400 characters (server
// messages can carry a whole HTML page) while errors.Is/As still see the
// original.
func shortError(err error) error {
	if err == nil {
		return nil
	}
	if s := text.Shorten(err.Error(), 400); s != err.Error() {
		return &short{msg: s, err: err}
	}
	return err
}

type short struct {
	msg string
	err error
}

func (s *short) Error() string { return s.msg }
func (s *short) Unwrap() error { return s.err }

// mergePods returns the Pods of every page, each once (two DaemonSets'
// selectors may both match a Pod), sorted by namespace/name, in one slice of
// the exact size. It sorts pointers, not the records, and copies each once.
func mergePods(pages [][]model.DaemonPod) []model.DaemonPod {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	ptrs := make([]*model.DaemonPod, 0, n)
	seen := make(map[types.UID]struct{}, n)
	for _, page := range pages {
		for i := range page {
			p := &page[i]
			if _, dup := seen[p.UID]; dup {
				continue
			}
			seen[p.UID] = struct{}{}
			ptrs = append(ptrs, p)
		}
	}
	sort.Slice(ptrs, func(i, j int) bool {
		return KeyLess(ptrs[i].Namespace, ptrs[i].Name, ptrs[j].Namespace, ptrs[j].Name)
	})
	out := make([]model.DaemonPod, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// confirmNodes re-reads the nodes that Pods name but the node list lacks.
// Nodes and Pods are listed at once, each list consistent at its own
// resourceVersion; a node that joined between the two lists, with a daemon
// Pod already bound, would otherwise be reported as a deleted node's orphan.
// Orphans are rare, so this costs nothing on a healthy cluster.
func confirmNodes(ctx context.Context, cs Client, snap *model.Snapshot) error {
	if !snap.Has(model.Nodes) || len(snap.DaemonPods) == 0 {
		return nil
	}
	known := make(map[string]bool, len(snap.Nodes))
	for i := range snap.Nodes {
		known[snap.Nodes[i].Name] = true
	}
	asked := map[string]bool{}
	for i := range snap.DaemonPods {
		name := snap.DaemonPods[i].NodeName
		if name == "" || known[name] || asked[name] {
			continue
		}
		asked[name] = true
		var n *corev1.Node
		_, _, err := pageWithRetry(ctx, metav1.ListOptions{}, func(ctx context.Context, _ metav1.ListOptions) ([]struct{}, metav1.ListMeta, error) {
			var err error
			n, err = cs.GetNode(ctx, name)
			return nil, metav1.ListMeta{}, err
		})
		switch {
		case apierrors.IsNotFound(err):
			continue // really gone: the Pod is an orphan
		case err != nil:
			return fmt.Errorf("getting node %s: %w", name, err)
		}
		TrimNode(n)
		snap.Nodes = append(snap.Nodes, *n)
		known[name] = true
	}
	return nil
}

// eventNamespaces lists the namespaces to read events from: every namespace
// holding an audited DaemonSet.
func eventNamespaces(dss []appsv1.DaemonSet, ns string) []string {
	if ns != "" {
		return []string{ns}
	}
	set := map[string]bool{}
	for i := range dss {
		set[dss[i].Namespace] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ScopeWords names a namespace scope in messages as Live's lists do ("" is
// every namespace).
func ScopeWords(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in namespace " + ns
}

// explain turns a Forbidden error into the RBAC rule to add; other errors pass.
func explain(err error, verb, resource, group, ns string) error {
	if !apierrors.IsForbidden(err) {
		return err
	}
	scope := "a ClusterRole"
	if ns != "" {
		scope = "a Role in namespace " + ns + " (or a ClusterRole)"
	}
	hint := ""
	if ns == "" && resource == "daemonsets" {
		hint = " (with access to one namespace only, run with -n NAMESPACE)"
	}
	return fmt.Errorf("forbidden: cannot %s %s; add to %s: %s%s", verb, resource, scope, rbacRule(resource, group), hint)
}

// groupOf is the API group of a kind's resource.
func groupOf(kind model.Kind) string {
	switch kind {
	case model.DaemonSets, model.ControllerRevisions:
		return "apps"
	case model.PriorityClasses:
		return "scheduling.k8s.io"
	case model.CSINodes, model.CSIDrivers:
		return "storage.k8s.io"
	case model.ResourceSlices:
		return "resource.k8s.io"
	}
	return ""
}

// rbacRule is the RBAC rule that lets daemoncheck read a resource.
func rbacRule(resource, group string) string {
	if group == "" {
		group = `""`
	}
	return fmt.Sprintf("apiGroups: [%s], resources: [%s], verbs: [get, list]", group, resource)
}

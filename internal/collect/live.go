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
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/model"
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
	// so that a watch can carry on from the read (see Watch).
	Cursor *Cursor
	// NoPods reads DaemonSets and Nodes only (no daemon Pods, revisions
	// or events): a what-if judges specs against nodes.
	NoPods bool
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
	snap := &model.Snapshot{Source: host}

	progress("reading daemonsets")
	dsOpts := metav1.ListOptions{LabelSelector: opts.LabelSelector}
	if opts.Name != "" {
		dsOpts.FieldSelector = fields.OneTermEqualSelector("metadata.name", opts.Name).String()
	}
	cur := opts.Cursor
	if cur == nil {
		cur = &Cursor{}
	}
	cur.reset()
	dss, err := listAll(ctx, opts.ChunkSize, dsOpts, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.DaemonSet, metav1.ListMeta, error) {
		l, err := cs.ListDaemonSets(ctx, opts.Namespace, o)
		if err != nil {
			return nil, metav1.ListMeta{}, err
		}
		cur.record(o, &cur.DaemonSets, l.ResourceVersion)
		return l.Items, l.ListMeta, nil
	})
	if err != nil {
		return nil, shortError(fmt.Errorf("listing daemonsets%s: %w", scopeWords(opts.Namespace), explain(deadlineWords(ctx, err), "list", "daemonsets", "apps", opts.Namespace)))
	}
	for i := range dss {
		dss[i].ManagedFields = nil
	}
	if dss, err = SelectDaemonSets(dss, opts, ""); err != nil {
		return nil, err
	}
	snap.DaemonSets = dss
	snap.ServerVersion = serverVersion(ctx, cs) // after a good read: an unreachable server fails on the list, as before

	// Nodes, Pods, revisions and events are independent: read them at once.
	// The first fatal error cancels the others (errgroup-style): the run
	// fails anyway, and 40 DaemonSets' lists each waiting out a hanging
	// server would take minutes.
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu     sync.Mutex
		first  error
		others int
		wg     sync.WaitGroup
		sem    = make(chan struct{}, opts.Parallel)
	)
	fail := func(kind model.Kind, ns string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if kind == model.PriorityClasses && apierrors.IsNotFound(err) {
			// Served by every supported API server; a proxy or an
			// aggregated server that lacks it costs the priorities only.
			snap.MarkMissing(kind, "the server does not serve priorityclasses (scheduling.k8s.io/v1): "+shorten(err.Error(), 200), "")
			return
		}
		if apierrors.IsForbidden(err) {
			group, resource := groupOf(kind), string(kind)
			if kind == model.AllPods {
				resource = "pods"
			}
			why := explain(err, "list", resource, group, ns).Error()
			if _, already := snap.Missing[kind]; !already {
				snap.MarkMissing(kind, why, rbacRule(resource, group))
			}
			return
		}
		if first == nil {
			first = fmt.Errorf("listing %s%s: %w", kind, scopeWords(ns), deadlineWords(parent, err))
			cancel(errStopped)
			return
		}
		// Count the lists that failed on their own, not those stopped by
		// the cancel above or by the run's deadline (which stops them all).
		if parent.Err() == nil && (!errors.Is(context.Cause(ctx), errStopped) || !errors.Is(err, context.Canceled)) {
			others++
		}
	}
	run := func(f func(ctx context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			f(ctx)
		}()
	}

	run(func(ctx context.Context) {
		progress("reading nodes")
		nodes, err := listAll(ctx, opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Node, metav1.ListMeta, error) {
			l, err := cs.ListNodes(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			cur.record(o, &cur.Nodes, l.ResourceVersion)
			for i := range l.Items {
				TrimNode(&l.Items[i])
			}
			return l.Items, l.ListMeta, nil
		})
		if err != nil {
			fail(model.Nodes, "", err)
			return
		}
		mu.Lock()
		snap.Nodes = nodes
		mu.Unlock()
	})

	run(func(ctx context.Context) {
		progress("reading priorityclasses")
		pcs, err := listAll(ctx, opts.ChunkSize, metav1.ListOptions{}, func(ctx context.Context, o metav1.ListOptions) ([]schedulingv1.PriorityClass, metav1.ListMeta, error) {
			l, err := cs.ListPriorityClasses(ctx, o)
			if err != nil {
				return nil, metav1.ListMeta{}, err
			}
			for j := range l.Items {
				l.Items[j].ManagedFields = nil
			}
			return l.Items, l.ListMeta, nil
		})
		if err != nil {
			fail(model.PriorityClasses, "", err)
			return
		}
		mu.Lock()
		snap.PriorityClasses, snap.PriorityClassesRead = pcs, true
		mu.Unlock()
	})
	if opts.Workloads {
		run(func(ctx context.Context) {
			progress("reading all pods (--workloads)")
			w, err := readWorkloads(ctx, cs, opts.ChunkSize)
			if err != nil {
				fail(model.AllPods, "", err)
				return
			}
			mu.Lock()
			snap.Workloads = w
			mu.Unlock()
		})
	}

	owners := Owners(dss)
	// Pages of daemon Pods, merged once all lists are in (see mergePods).
	var podPages [][]model.DaemonPod
	seenRev := map[types.UID]bool{}
	listed := map[Selection]bool{}
	for i := range dss {
		if opts.NoPods {
			break
		}
		ds := &dss[i]
		at, selErr := selectionOf(ds)
		if selErr != nil {
			mu.Lock()
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("daemonset %s/%s has an invalid selector (%v); reading all Pods of namespace %s to find its own", ds.Namespace, ds.Name, selErr, ds.Namespace))
			mu.Unlock()
		}
		ns, selector := at.Namespace, at.Selector
		if listed[at] {
			// Another DaemonSet of the namespace has the same selector:
			// its lists hold these Pods and revisions already.
			continue
		}
		listed[at] = true
		run(func(ctx context.Context) {
			progress("reading pods of daemonset %s/%s", ns, ds.Name)
			// Only Pods the DaemonSet selects can be its own (the API server
			// validates that the template's labels match the selector); the
			// owner reference decides, the selector only narrows the read.
			pages, err := listPages(ctx, opts.ChunkSize, metav1.ListOptions{LabelSelector: selector}, func(ctx context.Context, o metav1.ListOptions) ([]model.DaemonPod, metav1.ListMeta, error) {
				l, err := cs.ListPods(ctx, ns, o)
				if err != nil {
					return nil, metav1.ListMeta{}, err
				}
				cur.recordAt(o, cur.Pods, at, l.ResourceVersion)
				// Keep the compact record only: the decoded page is garbage
				// as soon as this returns.
				var kept []model.DaemonPod
				for j := range l.Items {
					p := &l.Items[j]
					if ref := metav1.GetControllerOfNoCopy(p); ref == nil || owners.uids[ownerKey{p.Namespace, ref.UID}] {
						if dp := Compact(p); KeepPod(&dp, owners) {
							kept = append(kept, dp)
						}
					}
				}
				return kept, l.ListMeta, nil
			})
			if err != nil {
				fail(model.Pods, ns, err)
				return
			}
			mu.Lock()
			podPages = append(podPages, pages...)
			mu.Unlock()
		})
		run(func(ctx context.Context) {
			revs, err := listAll(ctx, opts.ChunkSize, metav1.ListOptions{LabelSelector: selector}, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ControllerRevision, metav1.ListMeta, error) {
				l, err := cs.ListControllerRevisions(ctx, ns, o)
				if err != nil {
					return nil, metav1.ListMeta{}, err
				}
				cur.recordAt(o, cur.Revisions, at, l.ResourceVersion)
				kept := l.Items[:0]
				for j := range l.Items {
					cr := &l.Items[j]
					if ref := metav1.GetControllerOfNoCopy(cr); ref != nil && owners.uids[ownerKey{cr.Namespace, ref.UID}] {
						TrimRevision(cr)
						kept = append(kept, *cr)
					}
				}
				return kept, l.ListMeta, nil
			})
			if err != nil {
				fail(model.ControllerRevisions, ns, err)
				return
			}
			mu.Lock()
			for _, cr := range revs {
				if !seenRev[cr.UID] {
					seenRev[cr.UID] = true
					snap.ControllerRevisions = append(snap.ControllerRevisions, cr)
				}
			}
			mu.Unlock()
		})
	}

	// Events: Warning events about DaemonSets, and in the detail view about
	// their Pods too, one list per namespace that has DaemonSets.
	for _, ns := range eventNamespaces(dss, opts.Namespace) {
		if opts.NoPods {
			break
		}
		run(func(ctx context.Context) {
			sel := fields.Set{"type": corev1.EventTypeWarning}
			if !opts.PodEvents {
				sel["involvedObject.kind"] = "DaemonSet"
			}
			evs, err := listAll(ctx, opts.ChunkSize, metav1.ListOptions{FieldSelector: sel.AsSelector().String()}, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Event, metav1.ListMeta, error) {
				l, err := cs.ListEvents(ctx, ns, o)
				if err != nil {
					return nil, metav1.ListMeta{}, err
				}
				for j := range l.Items {
					l.Items[j].ManagedFields = nil
				}
				return l.Items, l.ListMeta, nil
			})
			if err != nil {
				fail(model.Events, ns, err)
				return
			}
			mu.Lock()
			snap.Events = append(snap.Events, evs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if first != nil {
		if others > 0 {
			first = fmt.Errorf("%w (and %d other lists failed)", shortError(first), others)
		}
		return nil, shortError(first)
	}
	if err := parent.Err(); err != nil {
		// Stopped before any list failed (the run's deadline passed while
		// lists waited for their turn).
		return nil, deadlineWords(parent, err)
	}
	if snap.Has(model.Pods) {
		snap.DaemonPods = mergePods(podPages)
	} else {
		// A partial Pod list would make present Pods look missing.
		snap.DaemonPods = nil
	}
	podPages = nil
	if err := confirmNodes(parent, cs, snap); err != nil {
		return nil, shortError(deadlineWords(parent, err))
	}
	// Lists ran concurrently; make the order independent of timing.
	// (Pods are already in order: mergePods.)
	sort.Slice(snap.ControllerRevisions, func(i, j int) bool {
		a, b := &snap.ControllerRevisions[i], &snap.ControllerRevisions[j]
		return keyLess(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	sort.Slice(snap.Events, func(i, j int) bool {
		a, b := &snap.Events[i], &snap.Events[j]
		return keyLess(a.Namespace, a.Name, b.Namespace, b.Name)
	})
	return snap, nil
}

// errStopped is the cause of cancelling sibling lists after a fatal error.
var errStopped = errors.New("stopped: another list failed")

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
	if s := shorten(err.Error(), 400); s != err.Error() {
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
		return keyLess(ptrs[i].Namespace, ptrs[i].Name, ptrs[j].Namespace, ptrs[j].Name)
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

func scopeWords(ns string) string {
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

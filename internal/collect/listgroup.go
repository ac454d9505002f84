package collect

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// listGroup runs the lists of a Live read at once, at most n at a time.
// The first fatal error cancels the others (errgroup-style): the run fails
// anyway, and 40 DaemonSets' lists each waiting out a hanging server would
// take minutes. Unlike an errgroup, not every error is fatal (fail marks a
// Forbidden kind missing and reads on), and the error returned counts the
// other lists that failed on their own.
type listGroup struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	sem    chan struct{}

	mu     sync.Mutex // guards snap and first, others
	snap   *model.Snapshot
	first  error
	others int
}

// errStopped is the cause of cancelling sibling lists after a fatal error.
var errStopped = errors.New("stopped: another list failed")

func newListGroup(parent context.Context, snap *model.Snapshot, n int) *listGroup {
	ctx, cancel := context.WithCancelCause(parent)
	return &listGroup{parent: parent, ctx: ctx, cancel: cancel, sem: make(chan struct{}, n), snap: snap}
}

// stop releases the group's context (deferred by its owner).
func (g *listGroup) stop() { g.cancel(nil) }

// run starts f once a slot is free; f is skipped when the group is
// cancelled first.
func (g *listGroup) run(f func(ctx context.Context)) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		select {
		case g.sem <- struct{}{}:
		case <-g.ctx.Done():
			return
		}
		defer func() { <-g.sem }()
		if g.ctx.Err() != nil {
			return
		}
		f(g.ctx)
	}()
}

// locked runs f under the group's lock, which guards the snapshot.
func (g *listGroup) locked(f func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f()
}

// fail records the error of the list of kind in namespace ns ("" for
// cluster-scoped kinds and all namespaces).
func (g *listGroup) fail(kind model.Kind, ns string, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	snap := g.snap
	if kind == model.PriorityClasses && apierrors.IsNotFound(err) {
		// Served by every supported API server; a proxy or an
		// aggregated server that lacks it costs the priorities only.
		snap.MarkMissing(kind, "the server does not serve priorityclasses (scheduling.k8s.io/v1): "+text.Shorten(err.Error(), 200), "")
		return
	}
	if model.OptionalKinds[kind] && !apierrors.IsForbidden(err) && g.parent.Err() == nil {
		// A kind only some checks use must not fail the whole read: those
		// checks say unknown.
		if _, already := snap.Missing[kind]; !already {
			snap.MarkMissing(kind, fmt.Sprintf("listing %s failed: %s", kind, text.Shorten(err.Error(), 200)), "")
		}
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
	if g.first == nil {
		g.first = fmt.Errorf("listing %s%s: %w", kind, ScopeWords(ns), deadlineWords(g.parent, err))
		g.cancel(errStopped)
		return
	}
	// Count the lists that failed on their own, not those stopped by
	// the cancel above or by the run's deadline (which stops them all).
	if g.parent.Err() == nil && (!errors.Is(context.Cause(g.ctx), errStopped) || !errors.Is(err, context.Canceled)) {
		g.others++
	}
}

// wait waits for every list, and returns the first fatal error (with the
// count of the others), or the parent's if it ended the read before any
// list failed.
func (g *listGroup) wait() error {
	g.wg.Wait()
	if g.first != nil {
		first := g.first
		if g.others > 0 {
			first = fmt.Errorf("%w (and %d other lists failed)", shortError(first), g.others)
		}
		return shortError(first)
	}
	if err := g.parent.Err(); err != nil {
		// Stopped before any list failed (the run's deadline passed while
		// lists waited for their turn).
		return deadlineWords(g.parent, err)
	}
	return nil
}

package rollout

import (
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/audit/nodestate"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// stuckAfter is how long a rolling update may go without updating a node
// before it counts as stuck (kube-state-metrics' usual alert waits 15m).
const stuckAfter = 15 * time.Minute

func init() {
	register(detector{typ: report.RolloutStuck, ds: func(c dsContext) []report.Finding {
		st := c.rolloutState()
		if st == nil || !st.stuck {
			return nil
		}
		return []report.Finding{c.rolloutStuck(st)}
	}})
}

// rollout is what rollingUpdate (update.go) would do with the DaemonSet now.
type rollout struct {
	surge          bool
	maxUnavailable int
	maxSurge       int
	unavailable    int // numUnavailable (non-surge) or numSurge (surge)
	candidates     []string
	blockers       []*model.DaemonPod
	blockerNodes   []string
	// notProgressing counts the unavailable nodes whose Pod waiting will
	// not make available (see progressing).
	notProgressing int
	// heldBy are the nodes of those Pods (not progressing), sorted.
	heldBy                []string
	stuck                 bool
	stalledFor            time.Duration // > 0: no node updated for this long
	oldRevisionsRemaining int
	// waits memoizes waitsForLifecycle: every OutdatedPod of a stuck
	// rollout asks it (thousands on a large cluster).
	waits *bool
}

// rolloutState mirrors the budget arithmetic of rollingUpdate in
// pkg/controller/daemon/update.go (v1.37): per node with daemon Pods,
// findUpdatedPodsOnNode's old/new Pod; without surge, available old Pods are
// deleted only while numUnavailable < maxUnavailable; with surge, new Pods are
// created next to available old ones only while numSurge < maxSurge. When the
// budget is used up and such candidates remain, waiting cannot help: the
// rollout is stuck until a blocking Pod becomes available. Computed once.
func (c dsContext) rolloutState() *rollout {
	return detect.Once(c.Context, rolloutKey, c.findRolloutState)
}

// rolloutKey names the DaemonSet's rolloutState.
var rolloutKey = detect.NewKey("rollout")

func (c dsContext) findRolloutState() *rollout {
	ru := c.DS.Spec.UpdateStrategy.RollingUpdate
	if c.DS.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || !c.PodsKnown || !c.NodesKnown || !c.RevKnown || c.Report.Computed == nil {
		return nil
	}
	if c.KruisePaused() {
		// A paused Advanced DaemonSet runs no rolling update: nothing
		// to be stuck.
		return nil
	}
	desired := int(c.Report.Computed.DesiredNumberScheduled)
	// The API server defaults maxUnavailable to 1 and maxSurge to 0.
	maxUnavailable, maxSurge := 1, 0
	if ru != nil && ru.MaxUnavailable != nil {
		maxUnavailable, _ = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
	}
	if ru != nil && ru.MaxSurge != nil {
		maxSurge, _ = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true)
	}
	st := &rollout{surge: maxSurge > 0, maxUnavailable: maxUnavailable, maxSurge: maxSurge}
	var newest time.Time
	// Map order is fine here: only counts and the lists sorted below
	// leave the loop.
	for name := range c.ByNode {
		// An Advanced DaemonSet's rolling update looks only at the nodes
		// its partition and update selector leave to it (detect/kruise.go).
		if c.KruiseRollsOut(name) {
			c.rolloutNode(st, name, &newest)
		}
	}
	c.Cluster.SortNodes(st.candidates)
	// By name, then node: a hand-made dump may hold two Pods of one name
	// (on different nodes), and the nodes were visited in map order.
	sort.Slice(st.blockers, func(i, j int) bool {
		a, b := st.blockers[i], st.blockers[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.TargetNode < b.TargetNode
	})
	c.Cluster.SortNodes(st.blockerNodes)
	c.Cluster.SortNodes(st.heldBy)
	budget := st.maxUnavailable
	if st.surge {
		budget = st.maxSurge
	}
	switch {
	case len(st.candidates) == 0:
	case st.notProgressing >= budget:
		// Only Pods that waiting will not make available use the budget
		// up for good: at maxUnavailable 1, one new Pod starting is how
		// every rolling update looks between two nodes.
		st.stuck = true
	case !newest.IsZero() && c.Now.Sub(newest) > stuckAfter:
		st.stuck, st.stalledFor = true, c.Now.Sub(newest)
		// The cause says for how long: it changes as that age rolls over.
		c.ChangesAt(detect.AgeTextChangesAt(newest, c.Now))
	case !newest.IsZero():
		c.ChangesAt(newest.Add(stuckAfter + time.Nanosecond))
	}
	return st
}

// rolloutNode is rollingUpdate's view of one node: its old and new Pod
// (findUpdatedPodsOnNode), whether it uses the budget (an unavailable new
// Pod, or, without surge, a node with neither or both) and whether it is
// a candidate for the next step. newest is raised to the newest updated
// Pod's creation.
func (c dsContext) rolloutNode(st *rollout, name string, newest *time.Time) {
	var newPod, oldPod *model.DaemonPod
	ok := true
	for _, p := range c.ByNode[name] {
		if p.Deleting {
			continue
		}
		if c.IsUpdated(p) {
			if newPod != nil {
				ok = false
			}
			newPod = p
			if p.Created.After(*newest) {
				*newest = p.Created
			}
		} else {
			if oldPod != nil {
				ok = false
			}
			oldPod = p
		}
	}
	if oldPod != nil {
		st.oldRevisionsRemaining++
	}
	avail := c.Available
	block := func(p *model.DaemonPod) {
		st.unavailable++
		if !c.progressing(p) {
			st.notProgressing++
			st.heldBy = append(st.heldBy, name)
		}
		st.blockerNodes = append(st.blockerNodes, name)
		if p != nil {
			st.blockers = append(st.blockers, p)
		}
	}
	switch {
	case !ok:
		if !st.surge {
			block(newPod)
		}
	case !st.surge && (oldPod == nil) == (newPod == nil):
		block(newPod)
	case !st.surge && newPod != nil:
		if !avail(newPod) {
			block(newPod)
		}
	case !st.surge:
		if avail(oldPod) {
			st.candidates = append(st.candidates, name)
		}
	case oldPod == nil:
	case newPod == nil:
		if avail(oldPod) {
			st.candidates = append(st.candidates, name)
		}
	case !avail(newPod):
		block(newPod)
	}
}

func (c dsContext) rolloutStuck(st *rollout) report.Finding {
	f := report.Finding{Type: report.RolloutStuck}
	budget := fmt.Sprintf("%d unavailable of maxUnavailable %d", st.unavailable, st.maxUnavailable)
	if st.surge {
		budget = fmt.Sprintf("%d new Pods not yet available of maxSurge %d", st.unavailable, st.maxSurge)
	}
	var why []string
	for _, p := range st.blockers {
		why = append(why, fmt.Sprintf("%s on %s: %s", p.Name, p.TargetNode, c.blockerCause(p)))
	}
	if len(why) > 3 {
		why = append(why[:3], fmt.Sprintf("%d more", len(why)-3))
	}
	nodes := st.candidates
	switch {
	case st.stalledFor > 0:
		f.Reason = report.ReasonNoProgress
		f.Since = detect.SinceOf(c.Now.Add(-st.stalledFor))
		f.Cause = fmt.Sprintf("no node updated for %s", detect.HumanDuration(st.stalledFor))
		f.Message = fmt.Sprintf("the rolling update has not updated a node for %s; %s still on an old revision (%s)", detect.HumanDuration(st.stalledFor), detect.NodesWord(len(st.candidates)), names.Range(nodes))
	default:
		var blocking []string
		for _, p := range st.blockers {
			blocking = append(blocking, p.Name)
		}
		f.Reason, f.Params = report.ReasonBudgetExhausted, report.Params{Detail: budget, Other: strings.Join(blocking, ",")}
		f.Cause = "blocked: " + budget
		if held, lifecycle := c.heldByNodes(st); held {
			// Not the revision: every Pod that holds the budget is on a
			// node whose state explains it (package nodestate).
			for _, n := range st.heldBy {
				f.Params.Nodes = append(f.Params.Nodes, c.Cluster.NodeState(n))
			}
			f.Reason = report.ReasonBlockedByBrokenNodes
			f.Cause = "blocked by broken nodes, not the revision: " + budget
			if lifecycle {
				f.Reason = report.ReasonBlockedByNodeLifecycle
				f.Cause = "waiting for nodes in maintenance, not the revision: " + budget
				f.Since = earliestSince(f.Params.Nodes)
			}
		}
		if len(st.blockerNodes) > 0 {
			f.Cause += " (" + strings.Join(why, "; ") + ")"
		}
		f.Message = fmt.Sprintf("the rolling update cannot progress: %s, so the controller replaces no more old Pods; %s still on an old revision (%s)", budget, detect.NodesWord(len(st.candidates)), names.Range(nodes))
		if len(why) > 0 {
			f.Message += "; blocking: " + strings.Join(why, "; ")
		}
	}
	c.AdviseChange(&f, owner.Change{What: "the Pod template back to the last working revision, or a larger maxUnavailable", Field: "spec.template"},
		"fix the new revision (see the blocking Pods), or roll back: {0}; or change the strategy (a larger maxUnavailable lets it continue past broken nodes)",
		c.RollBack())
	switch f.Reason {
	case report.ReasonBlockedByNodeLifecycle:
		explain.Advise(&f, fmt.Sprintf("nothing to fix in the revision: the rollout waits for %s in maintenance (%s) and continues once they come back or leave; {0} shows what holds one", detect.NodesWord(len(st.heldBy)), names.Range(st.heldBy)),
			explain.Kubectl("describe", "node", st.heldBy[0]))
	case report.ReasonBlockedByBrokenNodes:
		explain.Advise(&f, "the blocking Pods are on broken nodes, not a broken revision: fix or remove those nodes ({0}), or raise maxUnavailable so the rollout continues past them",
			explain.Kubectl("describe", "node", st.heldBy[0]))
	}
	return f
}

// heldByNodes says whether every Pod that holds the rollout's budget for
// good sits on a node whose state explains it (held), and whether those
// nodes are all in a lifecycle operation (waited out) rather than broken.
// One Pod on a healthy node makes it the revision's: the gate must not
// put a broken revision down to the nodes.
func (c dsContext) heldByNodes(st *rollout) (held, lifecycle bool) {
	if len(st.heldBy) == 0 {
		return false, false
	}
	lifecycle = true
	for _, n := range st.heldBy {
		cond := c.Cluster.CauseOf(n)
		if cond == "" || cond == nodestate.Cordoned {
			return false, false
		}
		lifecycle = lifecycle && report.LifecycleCause(cond)
	}
	return true, lifecycle
}

// waitsForLifecycle says whether a stuck rollout only waits for nodes in a
// lifecycle operation (BlockedByNodeLifecycle).
func (c dsContext) waitsForLifecycle(st *rollout) bool {
	if st.waits == nil {
		held, lifecycle := c.heldByNodes(st)
		w := held && lifecycle && st.stalledFor == 0
		st.waits = &w
	}
	return *st.waits
}

// earliestSince is the earliest known since of the nodes.
func earliestSince(ns []report.NodeState) *time.Time {
	var out *time.Time
	for _, n := range ns {
		if n.Since != nil && (out == nil || n.Since.Before(*out)) {
			out = n.Since
		}
	}
	return out
}

// blockerCause says in a few words why a blocking Pod is not available.
func (c dsContext) blockerCause(p *model.DaemonPod) string {
	if cond := c.Cluster.CauseOf(p.TargetNode); cond != "" && cond != nodestate.Cordoned {
		return "its node is " + cond
	}
	h := c.Health(p)
	switch h.Kind {
	case podstate.Pending:
		return detect.PendingCause(p, h)
	case podstate.Unhealthy:
		return detect.UnhealthyCause(p, h)
	}
	if p.Ready {
		return fmt.Sprintf("Ready for less than minReadySeconds %d", c.DS.Spec.MinReadySeconds)
	}
	return h.State
}

// progressing reports whether a Pod that uses the rollout's budget is on
// its way to available, so that waiting frees the budget: a Ready Pod still
// inside minReadySeconds, a node between its old Pod's deletion and its new
// Pod's creation (nil), or a Pod younger than stuckAfter that is being
// scheduled, started or readied with no error (no unschedulable verdict,
// bad waiting reason, failed container or restart) on a node that is not
// broken. The controller counts all of them as unavailable; only the others
// block the rolling update until someone acts.
func (c dsContext) progressing(p *model.DaemonPod) bool {
	if p == nil {
		return true
	}
	if cond := c.Cluster.CauseOf(p.TargetNode); cond != "" && cond != nodestate.Cordoned {
		return false
	}
	if p.Ready {
		return true
	}
	if p.Created.IsZero() || c.Now.Sub(p.Created) >= stuckAfter {
		return false
	}
	c.ChangesAt(p.Created.Add(stuckAfter))
	h := c.Health(p)
	switch h.Kind {
	case podstate.Pending:
		return !p.Unschedulable
	case podstate.Unhealthy:
		return h.Reason == "" && h.Restarts == 0
	}
	return true
}

package audit

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Node lifecycle causes: a node an operator or a provisioner is taking
// away (or through maintenance) loses its daemons on purpose. Upstream
// publishes no status for it through 1.37; it is read off the node
// (conditions, taints, annotations) and, where only the Pods tell, off its
// daemon Pods. The values are NodeCauses (report.NodeProblems).
const (
	condShuttingDown  = "ShuttingDown"
	condDeleting      = "Deleting"
	condDisrupted     = "Disrupted"
	condDraining      = "Draining"
	condInMaintenance = "InMaintenance"
)

// Where the lifecycle operations show. The conditions are the ones KEP-5683
// adds to core/v1 in 1.37 (types.go: "The admin is responsible for setting
// and clearing this condition"); the kubelet's shutdown words are
// pkg/kubelet/nodeshutdown (nodeShutdownReason, nodeShutdownMessage,
// NodeShutdownNotAdmittedReason).
const (
	condTypeGracefulShutdown   corev1.NodeConditionType = "GracefulNodeShutdownInProgress"
	condTypeDrainInProgress    corev1.NodeConditionType = "DrainInProgress"
	condTypeDrained            corev1.NodeConditionType = "Drained"
	condTypeMaintenanceRunning corev1.NodeConditionType = "MaintenanceInProgress"

	taintKarpenterDisrupted = "karpenter.sh/disrupted"
	taintOutOfService       = corev1.TaintNodeOutOfService

	annotationCAPIDeleteMachine = "cluster.x-k8s.io/delete-machine"

	podReasonShutdownRejected = "NodeShutdown"
	podReasonShutdownKilled   = "Terminated"
	podMessageShutdownKilled  = "Pod was terminated in response to imminent node shutdown."
)

// lifecycleState is a node's lifecycle operation: the cause, what shows it
// (a condition, taint, annotation or Pod) and since when, where known.
type lifecycleState struct {
	cause    string
	evidence string
	since    time.Time
	// alone: the evidence takes the node out of service by itself (a
	// NoSchedule or NoExecute taint, a Pod the kubelet rejected). A
	// condition or annotation is an admin's or a tool's statement: it
	// explains the daemons only on a node that is also out of service
	// (outOfService), so that it never hides a daemon's own fault on a
	// node that still runs Pods (a live-patch "maintenance" keeps the
	// node in service).
	alone bool
}

// outOfService says whether a node no longer runs new Pods as usual:
// cordoned, or not Ready.
func outOfService(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return true
	}
	for i := range n.Status.Conditions {
		if c := &n.Status.Conditions[i]; c.Type == corev1.NodeReady {
			return c.Status != corev1.ConditionTrue
		}
	}
	return true
}

// nodeLifecycle returns the strongest lifecycle operation the node itself
// shows, strongest first as in report.NodeProblems, among those that
// explain its daemons (alone, or on a node out of service).
func nodeLifecycle(n *corev1.Node) (lifecycleState, bool) {
	var best lifecycleState
	found := false
	out := -1 // outOfService, computed at most once
	consider := func(s lifecycleState) {
		if !s.alone {
			if out < 0 {
				out = 0
				if outOfService(n) {
					out = 1
				}
			}
			if out == 0 {
				return
			}
		}
		if !found || causeRank(s.cause) < causeRank(best.cause) {
			best, found = s, true
		}
	}
	for i := range n.Status.Conditions {
		c := &n.Status.Conditions[i]
		if c.Status != corev1.ConditionTrue {
			continue
		}
		var cause string
		switch c.Type {
		case condTypeGracefulShutdown:
			cause = condShuttingDown
		case condTypeDrainInProgress, condTypeDrained:
			cause = condDraining
		case condTypeMaintenanceRunning:
			cause = condInMaintenance
		default:
			continue
		}
		consider(lifecycleState{cause: cause, evidence: "condition " + string(c.Type), since: c.LastTransitionTime.Time})
	}
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		var cause string
		switch t.Key {
		case taintOutOfService:
			cause = condShuttingDown
		case taintKarpenterDisrupted:
			cause = condDisrupted
		default:
			continue
		}
		s := lifecycleState{cause: cause, evidence: "taint " + t.ToString(), alone: true}
		if t.TimeAdded != nil {
			s.since = t.TimeAdded.Time
		}
		consider(s)
	}
	if _, ok := n.Annotations[annotationCAPIDeleteMachine]; ok {
		consider(lifecycleState{cause: condDeleting, evidence: "annotation " + annotationCAPIDeleteMachine})
	}
	return best, found
}

// podLifecycle is what a daemon Pod says of its node's lifecycle: the
// kubelet rejected or terminated it for a shutdown, or it was evicted (the
// Eviction API, as a drain does) on a cordoned node. A Pod deleted by a
// rolling update on a cordoned node says nothing of the node.
func podLifecycle(p *model.DaemonPod, node *corev1.Node) (lifecycleState, bool) {
	if p.Phase == corev1.PodFailed && (p.Reason == podReasonShutdownRejected || (p.Reason == podReasonShutdownKilled && p.Message == podMessageShutdownKilled)) {
		return lifecycleState{cause: condShuttingDown, evidence: "Pod " + p.Name + " " + p.Reason, alone: true}, true
	}
	if p.Evicted && node != nil && node.Spec.Unschedulable {
		return lifecycleState{cause: condDraining, evidence: "cordoned, Pod " + p.Name + " evicted", alone: true}, true
	}
	return lifecycleState{}, false
}

// causeRank is a NodeCause's position in report.NodeProblems (strongest
// first); unknown causes last.
func causeRank(cond string) int {
	for i, np := range report.NodeProblems {
		if np.Condition == cond {
			return i
		}
	}
	return len(report.NodeProblems)
}

// notePodLifecycle adds what a daemon Pod says of its node (podLifecycle)
// to the index, where it is stronger than what the node shows. Called for
// the few Pods that are terminating or failed.
func (idx *index) notePodLifecycle(p *model.DaemonPod) {
	name := p.NodeName
	if name == "" {
		return
	}
	node := idx.nodeByNm[name]
	if node == nil {
		return
	}
	s, ok := podLifecycle(p, node)
	if !ok {
		return
	}
	cur, has := idx.causes[name]
	if has && causeRank(cur) <= causeRank(s.cause) {
		return
	}
	if !idx.causesOwned {
		// idx.causes is the node index's map, which a Memo may share
		// with the next analysis: copy before the first change.
		m := make(map[string]string, len(idx.nodeCause)+1)
		for k, v := range idx.nodeCause {
			m[k] = v
		}
		idx.causes, idx.causesOwned = m, true
	}
	if idx.podLifecycle == nil {
		idx.podLifecycle = map[string]lifecycleState{}
	}
	idx.causes[name] = s.cause
	idx.podLifecycle[name] = s
}

// causeOf is the strongest node-level cause of a node: its conditions,
// taints and annotations (nodeCause), or what its daemon Pods say.
func (idx *index) causeOf(node string) string {
	return idx.causes[node]
}

// lifecycleOf returns the lifecycle operation behind a node's cause, if
// its cause is one.
func (idx *index) lifecycleOf(node string) (lifecycleState, bool) {
	if s, ok := idx.podLifecycle[node]; ok && idx.causes[node] == s.cause {
		return s, true
	}
	s, ok := idx.lifecycle[node]
	if ok && idx.causes[node] == s.cause {
		return s, true
	}
	return lifecycleState{}, false
}

// nodeState is a node as a finding cites it (report.Params.Nodes).
func (idx *index) nodeState(node string) report.NodeState {
	ns := report.NodeState{Node: node, Cause: idx.causeOf(node)}
	if s, ok := idx.lifecycleOf(node); ok {
		ns.Evidence = s.evidence
		ns.Since = sinceOf(s.since)
	}
	return ns
}

// lifecycleText says what a lifecycle cause means for the daemons, the
// cause a finding groups by (the same for every node in that state).
func lifecycleText(cond string) string {
	switch cond {
	case condShuttingDown:
		return "node shutting down: its kubelet stops (and rejects) Pods; wait for it to come back or be removed"
	case condDeleting:
		return "node being deleted by Cluster API (delete-machine): its daemons go with it; wait"
	case condDisrupted:
		return "node disrupted by Karpenter: drained, then deleted; wait"
	case condDraining:
		return "node being drained (maintenance): its daemons come back when it is uncordoned; wait"
	case condInMaintenance:
		return "node in maintenance (MaintenanceInProgress): wait for it to end"
	}
	return ""
}

// lifecycleMessage says which node, what shows it and since when.
func lifecycleMessage(node string, s lifecycleState) string {
	m := fmt.Sprintf("; node %s is %s (%s", node, s.cause, s.evidence)
	if !s.since.IsZero() {
		m += ", since " + s.since.UTC().Format(time.RFC3339)
	}
	return m + "), which explains it"
}

// Package nodestate says what state a node is in, as far as its daemons
// are concerned: a node-level cause (NotReady, under pressure, cordoned)
// or a lifecycle operation (shutting down, drained, disrupted, deleted,
// in maintenance) that explains what its daemon Pods show. The engine
// (package audit) records each node's cause once per analysis and puts the
// findings it explains down to it; detectors read it through the
// detector context (detect.Cluster.CauseOf).
package nodestate

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Node lifecycle causes: a node an operator or a provisioner is taking
// away (or through maintenance) loses its daemons on purpose. Upstream
// publishes no status for it through 1.37; it is read off the node
// (conditions, taints, annotations) and, where only the Pods tell, off its
// daemon Pods. The values are NodeCauses (report.NodeProblems).
const (
	ShuttingDown  = "ShuttingDown"
	Deleting      = "Deleting"
	Disrupted     = "Disrupted"
	Draining      = "Draining"
	InMaintenance = "InMaintenance"
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

	TaintKarpenterDisrupted = "karpenter.sh/disrupted"
	taintOutOfService       = corev1.TaintNodeOutOfService

	annotationCAPIDeleteMachine = "cluster.x-k8s.io/delete-machine"

	podReasonShutdownRejected = "NodeShutdown"
	podReasonShutdownKilled   = "Terminated"
	podMessageShutdownKilled  = "Pod was terminated in response to imminent node shutdown."
)

// Lifecycle is a node's lifecycle operation: the cause, what shows it
// (a condition, taint, annotation or Pod) and since when, where known.
type Lifecycle struct {
	Cause    string
	Evidence string
	Since    time.Time
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

// OfNode returns the strongest lifecycle operation the node itself
// shows, strongest first as in report.NodeProblems, among those that
// explain its daemons (alone, or on a node out of service).
func OfNode(n *corev1.Node) (Lifecycle, bool) {
	var best Lifecycle
	found := false
	out := -1 // outOfService, computed at most once
	consider := func(s Lifecycle) {
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
		if !found || Rank(s.Cause) < Rank(best.Cause) {
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
			cause = ShuttingDown
		case condTypeDrainInProgress, condTypeDrained:
			cause = Draining
		case condTypeMaintenanceRunning:
			cause = InMaintenance
		default:
			continue
		}
		consider(Lifecycle{Cause: cause, Evidence: "condition " + string(c.Type), Since: c.LastTransitionTime.Time})
	}
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		var cause string
		switch t.Key {
		case taintOutOfService:
			cause = ShuttingDown
		case TaintKarpenterDisrupted:
			cause = Disrupted
		default:
			continue
		}
		s := Lifecycle{Cause: cause, Evidence: "taint " + t.ToString(), alone: true}
		if t.TimeAdded != nil {
			s.Since = t.TimeAdded.Time
		}
		consider(s)
	}
	if _, ok := n.Annotations[annotationCAPIDeleteMachine]; ok {
		consider(Lifecycle{Cause: Deleting, Evidence: "annotation " + annotationCAPIDeleteMachine})
	}
	return best, found
}

// OfPod is what a daemon Pod says of its node's lifecycle: the
// kubelet rejected or terminated it for a shutdown, or it was evicted (the
// Eviction API, as a drain does) on a cordoned node. A Pod deleted by a
// rolling update on a cordoned node says nothing of the node.
func OfPod(p *model.DaemonPod, node *corev1.Node) (Lifecycle, bool) {
	if p.Phase == corev1.PodFailed && (p.Reason == podReasonShutdownRejected || (p.Reason == podReasonShutdownKilled && p.Message == podMessageShutdownKilled)) {
		return Lifecycle{Cause: ShuttingDown, Evidence: "Pod " + p.Name + " " + p.Reason, alone: true}, true
	}
	if p.Evicted && node != nil && node.Spec.Unschedulable {
		return Lifecycle{Cause: Draining, Evidence: "cordoned, Pod " + p.Name + " evicted", alone: true}, true
	}
	return Lifecycle{}, false
}

// Rank is a NodeCause's position in report.NodeProblems (strongest
// first); unknown causes last.
func Rank(cond string) int {
	for i, np := range report.NodeProblems {
		if np.Condition == cond {
			return i
		}
	}
	return len(report.NodeProblems)
}

// LifecycleText says what a lifecycle cause means for the daemons, the
// cause a finding groups by (the same for every node in that state).
func LifecycleText(cond string) string {
	switch cond {
	case ShuttingDown:
		return "node shutting down: its kubelet stops (and rejects) Pods; wait for it to come back or be removed"
	case Deleting:
		return "node being deleted by Cluster API (delete-machine): its daemons go with it; wait"
	case Disrupted:
		return "node disrupted by Karpenter: drained, then deleted; wait"
	case Draining:
		return "node being drained (maintenance): its daemons come back when it is uncordoned; wait"
	case InMaintenance:
		return "node in maintenance (MaintenanceInProgress): wait for it to end"
	}
	return ""
}

// LifecycleMessage says which node, what shows it and since when.
func LifecycleMessage(node string, s Lifecycle) string {
	m := fmt.Sprintf("; node %s is %s (%s", node, s.Cause, s.Evidence)
	if !s.Since.IsZero() {
		m += ", since " + s.Since.UTC().Format(time.RFC3339)
	}
	return m + "), which explains it"
}

// Node-level causes, strongest first: when a node is NotReady, every daemon
// Pod on it looks broken, and the Pods are not what to fix.
const (
	NotReady           = "NotReady"
	Unreachable        = "Unreachable"
	NetworkUnavailable = "NetworkUnavailable"
	MemoryPressure     = "MemoryPressure"
	DiskPressure       = "DiskPressure"
	PIDPressure        = "PIDPressure"
	Cordoned           = "Cordoned"
)

// Conditions lists the node-level causes a node's conditions and
// cordon show, strongest first.
func Conditions(n *corev1.Node) []string {
	var out []string
	status := map[corev1.NodeConditionType]corev1.ConditionStatus{}
	for _, c := range n.Status.Conditions {
		status[c.Type] = c.Status
	}
	switch status[corev1.NodeReady] {
	case corev1.ConditionFalse:
		out = append(out, NotReady)
	case corev1.ConditionUnknown:
		out = append(out, Unreachable)
	}
	if status[corev1.NodeNetworkUnavailable] == corev1.ConditionTrue {
		out = append(out, NetworkUnavailable)
	}
	for _, c := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		if status[c] == corev1.ConditionTrue {
			out = append(out, string(c))
		}
	}
	if n.Spec.Unschedulable {
		out = append(out, Cordoned)
	}
	return out
}

// CauseText is the cause a finding gets from a node-level cause that is
// not a lifecycle operation (the same for every node in that state).
func CauseText(cond string) string {
	switch cond {
	case NotReady:
		return "node NotReady: its kubelet reports it cannot run Pods"
	case Unreachable:
		return "node unreachable: its kubelet stopped reporting (status Unknown)"
	case NetworkUnavailable:
		return "node has no network (NetworkUnavailable): its CNI is not set up"
	case Cordoned:
		return "node cordoned (maintenance or drain)"
	}
	return "node under " + cond + ": the kubelet evicts Pods"
}

// Fix is the fix of a finding a node-level cause explains: the node's,
// not the Pods'.
func Fix(cond, node string) *report.Advice {
	describe := explain.Kubectl("describe", "node", node)
	switch cond {
	case NotReady:
		return report.Advise("fix the node, not the Pods: {0} (Conditions, Events), then its kubelet and container runtime; the daemon Pods recover once it is Ready", describe)
	case Unreachable:
		return report.Advise(fmt.Sprintf("fix the node, not the Pods: check that %s is running and reachable, then its kubelet ({0})", node), describe)
	case NetworkUnavailable:
		return report.Advise(fmt.Sprintf("check the CNI agent's Pod on %s and {0}", node), describe)
	case Cordoned:
		return report.Advise("if the maintenance is over: {0}", explain.KubectlWrite("uncordon", node))
	}
	return report.Advise(fmt.Sprintf("free resources on %s ({0} shows what the kubelet reclaims)", node), describe)
}

// LifecycleFix is the fix of a finding a lifecycle operation explains:
// nothing to do for the daemon; what to look at if the operation is stuck.
func LifecycleFix(cond, node string) *report.Advice {
	describe := explain.Kubectl("describe", "node", node)
	switch cond {
	case Draining:
		return report.Advise("nothing to fix in the DaemonSet: wait for the drain; if it is over, {0}; if it is stuck, {1} shows what holds it", explain.KubectlWrite("uncordon", node), describe)
	case Disrupted:
		return report.Advise("nothing to fix in the DaemonSet: Karpenter replaces the node; if it stays, {0} (Events) and the NodeClaim's status", describe)
	case Deleting:
		return report.Advise("nothing to fix in the DaemonSet: Cluster API deletes the node's Machine; if it stays, {0} and the Machine's status", describe)
	case ShuttingDown:
		return report.Advise("nothing to fix in the DaemonSet: the node is shutting down; if it stays, {0}", describe)
	}
	return report.Advise("nothing to fix in the DaemonSet: wait for the maintenance to end ({0} shows its conditions)", describe)
}

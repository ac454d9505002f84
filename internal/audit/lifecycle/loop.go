package lifecycle

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The DaemonSet controller's words when it deletes a failed daemon Pod
// (daemon_controller.go, podsShouldBeOnNode: FailedDaemonPodReason, "Found
// failed daemon pod %s/%s on node %s, will try to kill it"); it creates the
// replacement at the same sync. Repeated for one node, that is the loop of
// kubernetes/kubernetes#122912: a node shutting down rejects every new
// Pod (NodeShutdown), and the controller, backing off at most 15m
// (failedPodsBackoff), keeps replacing them. The event recorder folds
// similar events into one with a count, and after 10 within 10 minutes
// into a "(combined from similar events): " message, which still names
// the last node.
const (
	eventFailedDaemonPod  = "FailedDaemonPod"
	failedDaemonPodNodeAt = " on node "
	failedDaemonPodEnd    = ", will try to kill it"
	// loopMinCount failed Pods replaced on one node make a loop: one is
	// a Pod that failed, two a retry.
	loopMinCount = 3
	// loopRecent: a loop whose last replacement is older has ended (the
	// node left or recovered); events live an hour by default.
	loopRecent = 15 * time.Minute
)

func init() {
	register(detector{typ: report.RecreateLoop, ds: func(c dsContext) []report.Finding { return c.recreateLoops() }})
}

// recreateLoops reports, per node, the failed daemon Pods the controller
// replaced at least loopMinCount times, the last within loopRecent.
func (c dsContext) recreateLoops() []report.Finding {
	byNode := map[string]*report.EventSpan{}
	for _, e := range c.Cluster.EventsFor[c.DS.UID] {
		if e.Reason != eventFailedDaemonPod {
			continue
		}
		node := failedDaemonPodNode(e.Message)
		if node == "" {
			continue
		}
		first, last := eventFirst(e), detect.EventTime(e)
		n := eventCount(e)
		s := byNode[node]
		if s == nil {
			byNode[node] = &report.EventSpan{Reason: eventFailedDaemonPod, Count: n, First: first.UTC(), Last: last.UTC()}
			continue
		}
		s.Count += n
		if first.Before(s.First) {
			s.First = first.UTC()
		}
		if last.After(s.Last) {
			s.Last = last.UTC()
		}
	}
	nodes := make([]string, 0, len(byNode))
	for n := range byNode {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	var out []report.Finding
	for _, node := range nodes {
		s := byNode[node]
		if s.Count < loopMinCount || c.Now.Sub(s.Last) > loopRecent {
			continue
		}
		if c.NodesKnown && c.Cluster.NodeByName[node] == nil {
			continue // the node is gone, and the loop with it
		}
		c.ChangesAt(s.Last.Add(loopRecent + time.Nanosecond))
		f := report.Finding{
			Type:   report.RecreateLoop,
			Reason: report.ReasonFailedPodsRecreated,
			Node:   node,
			Params: report.Params{Events: s, Nodes: []report.NodeState{c.Cluster.NodeState(node)}},
			Since:  detect.SinceOf(s.First),
			Cause:  "the controller keeps replacing daemon Pods the node's kubelet fails",
		}
		f.Message = fmt.Sprintf("the controller deleted %d failed daemon Pods on %s between %s and %s (%s events) and created a new one each time: the kubelet fails them as they come",
			s.Count, node, s.First.Format(time.RFC3339), s.Last.Format(time.RFC3339), s.Reason)
		explain.Advise(&f, "see why the kubelet fails the Pods: {0} (Events: the Pods' reason, e.g. NodeShutdown) and {1}",
			explain.Kubectl("describe", "daemonset", c.DS.Name, "-n", c.DS.Namespace), explain.Kubectl("describe", "node", node))
		out = append(out, f)
	}
	return out
}

// failedDaemonPodNode is the node a FailedDaemonPod event names, "" when
// the message is not the controller's.
func failedDaemonPodNode(msg string) string {
	i := strings.LastIndex(msg, failedDaemonPodNodeAt)
	if i < 0 || !strings.HasSuffix(msg, failedDaemonPodEnd) {
		return ""
	}
	node := msg[i+len(failedDaemonPodNodeAt) : len(msg)-len(failedDaemonPodEnd)]
	if node == "" || strings.ContainsAny(node, " ,") {
		return ""
	}
	return node
}

// eventCount is how many times the event happened: its series' count
// (events.k8s.io), else its count, at least 1.
func eventCount(e *corev1.Event) int32 {
	if e.Series != nil && e.Series.Count > 0 {
		return e.Series.Count
	}
	return max(e.Count, 1)
}

// eventFirst is when the event first happened.
func eventFirst(e *corev1.Event) time.Time {
	switch {
	case !e.FirstTimestamp.IsZero():
		return e.FirstTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return detect.EventTime(e)
}

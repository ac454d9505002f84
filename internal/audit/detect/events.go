package detect

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// LatestEvent returns the newest Warning event about uid, optionally only one
// whose message names the node.
func (c *Context) LatestEvent(uid types.UID, node string) *corev1.Event {
	var best *corev1.Event
	for _, e := range c.Cluster.EventsFor[uid] {
		if node != "" && !strings.Contains(e.Message, node) {
			continue
		}
		if best == nil || EventTime(e).After(EventTime(best)) {
			best = e
		}
	}
	if best == nil && node != "" {
		for _, e := range c.Cluster.EventsFor[uid] {
			if e.Reason == "FailedCreate" && (best == nil || EventTime(e).After(EventTime(best))) {
				best = e
			}
		}
	}
	return best
}

// EventTime is when an event last happened.
func EventTime(e *corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	case e.Series != nil:
		return e.Series.LastObservedTime.Time
	}
	return e.CreationTimestamp.Time
}

package audit

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// latestEvent returns the newest Warning event about uid, optionally only one
// whose message names the node.
func (c *dsContext) latestEvent(uid types.UID, node string) *corev1.Event {
	var best *corev1.Event
	for _, e := range c.idx.eventsFor[uid] {
		if node != "" && !strings.Contains(e.Message, node) {
			continue
		}
		if best == nil || eventTime(e).After(eventTime(best)) {
			best = e
		}
	}
	if best == nil && node != "" {
		for _, e := range c.idx.eventsFor[uid] {
			if e.Reason == "FailedCreate" && (best == nil || eventTime(e).After(eventTime(best))) {
				best = e
			}
		}
	}
	return best
}

func eventTime(e *corev1.Event) time.Time {
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

func (c *dsContext) events(pods []*model.DaemonPod, max int) []report.Event {
	var evs []*corev1.Event
	evs = append(evs, c.idx.eventsFor[c.ds.UID]...)
	for _, p := range pods {
		evs = append(evs, c.idx.eventsFor[p.UID]...)
	}
	sort.SliceStable(evs, func(i, j int) bool {
		ti, tj := eventTime(evs[i]), eventTime(evs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		return evs[i].Name < evs[j].Name
	})
	if len(evs) > max {
		evs = evs[len(evs)-max:]
	}
	out := make([]report.Event, 0, len(evs))
	for _, e := range evs {
		count := e.Count
		if count == 0 {
			count = 1
		}
		out = append(out, report.Event{
			Object:   strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name,
			From:     eventSource(e),
			Reason:   e.Reason,
			Message:  text.OneLine(e.Message),
			Count:    count,
			LastSeen: eventTime(e).UTC(),
		})
	}
	return out
}

// eventSource is what kubectl describe prints under FROM: the legacy source
// (component, host) when set, else the events.k8s.io reporter.
func eventSource(e *corev1.Event) string {
	component, host := e.Source.Component, e.Source.Host
	if component == "" {
		component, host = e.ReportingController, e.ReportingInstance
	}
	if host == "" {
		return component
	}
	return component + ", " + host
}

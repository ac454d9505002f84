package audit

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func (c *dsContext) events(pods []*model.DaemonPod, max int) []report.Event {
	var evs []*corev1.Event
	evs = append(evs, c.Cluster.EventsFor[c.DS.UID]...)
	for _, p := range pods {
		evs = append(evs, c.Cluster.EventsFor[p.UID]...)
	}
	sort.SliceStable(evs, func(i, j int) bool {
		ti, tj := detect.EventTime(evs[i]), detect.EventTime(evs[j])
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
			LastSeen: detect.EventTime(e).UTC(),
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

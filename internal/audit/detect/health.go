package detect

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Health returns podstate.Of(p), computed once per Pod.
func (c *Context) Health(p *model.DaemonPod) podstate.Health {
	if h, ok := c.healthOf[p]; ok {
		return h
	}
	h := podstate.Of(p)
	if c.healthOf == nil {
		c.healthOf = map[*model.DaemonPod]podstate.Health{}
	}
	c.healthOf[p] = h
	c.ImageIDs.See(p) // while the Pod's containers are at hand (package drift)
	return h
}

// PodRevision is the revision a Pod runs: its hash, else its template
// generation, "" when it has neither.
func PodRevision(p *model.DaemonPod) string {
	if h := p.RevisionHash; h != "" {
		return h
	}
	if g := p.TemplateGeneration; g != "" {
		return "generation " + g
	}
	return ""
}

// IsUpdated mirrors util.IsPodUpdated: the Pod's revision hash label equals
// the current revision's hash, or its template generation label equals the
// DaemonSet's template generation.
func (c *Context) IsUpdated(p *model.DaemonPod) bool {
	templateMatches := c.Gen != nil && p.TemplateGeneration == c.genLabel
	hashMatches := c.Hash != "" && p.RevisionHash == c.Hash
	return hashMatches || templateMatches
}

// Available is podstate.Available with the DaemonSet's minReadySeconds, the
// analysis clock and the server version's rule.
func (c *Context) Available(p *model.DaemonPod) bool {
	ok := podstate.Available(p, c.DS.Spec.MinReadySeconds, c.Now, c.Rules.AvailableAtBoundary)
	if !ok && p.Ready && !p.ReadySince.IsZero() {
		// Ready, not yet for minReadySeconds: available from then on.
		at := p.ReadySince.Add(time.Duration(c.DS.Spec.MinReadySeconds) * time.Second)
		if !c.Rules.AvailableAtBoundary {
			at = at.Add(time.Nanosecond)
		}
		c.ChangesAt(at)
	}
	return ok
}

// PendingReason is PendingCause as data.
func PendingReason(p *model.DaemonPod, h podstate.Health) (report.Reason, report.Params) {
	msg := p.ScheduledMessage
	switch {
	case p.NodeName != "":
		return report.ReasonNotStarted, report.Params{State: h.State}
	case strings.Contains(msg, "free ports") || strings.Contains(msg, "host port"):
		return report.ReasonHostPortTaken, report.Params{Resource: "host port"}
	case strings.Contains(msg, "Insufficient "):
		return report.ReasonInsufficient, report.Params{Resource: strings.Join(insufficient(msg), ",")}
	case h.Reason != "":
		return report.ReasonUnschedulable, report.Params{State: h.Reason}
	}
	return report.ReasonNotScheduled, report.Params{}
}

// insufficient lists the resources a scheduler message calls short
// ("Insufficient cpu").
func insufficient(msg string) []string {
	var res []string
	for _, part := range strings.Split(msg, ",") {
		if i := strings.Index(part, "Insufficient "); i >= 0 {
			res = append(res, strings.TrimSuffix(strings.TrimSpace(part[i+len("Insufficient "):]), "."))
		}
	}
	return res
}

// PendingCause classifies why a Pod is pending, for grouping: the scheduler's
// reason class ("Insufficient cpu", a host port conflict), not its exact
// words, which name node counts.
func PendingCause(p *model.DaemonPod, h podstate.Health) string {
	msg := p.ScheduledMessage
	switch {
	case p.NodeName != "":
		return "bound but not started: " + h.State
	case strings.Contains(msg, "free ports") || strings.Contains(msg, "host port"):
		return "unschedulable: a host port is taken on the node"
	case strings.Contains(msg, "Insufficient "):
		res := insufficient(msg)
		for i := range res {
			res[i] = "Insufficient " + res[i]
		}
		return "unschedulable: " + strings.Join(res, ", ") + " on the node"
	case h.Reason != "":
		return "unschedulable (" + h.Reason + ")"
	}
	return "not scheduled"
}

// UnhealthyCause classifies why a Pod is unhealthy, for grouping: the state
// and, for image problems, the image.
func UnhealthyCause(p *model.DaemonPod, h podstate.Health) string {
	switch {
	case h.Image != "" && strings.Contains(h.Reason, "Image"):
		return h.Reason + ": image " + h.Image
	case h.Reason != "" && h.Reason != "OOMKilled":
		return h.Reason
	case h.Reason == "OOMKilled":
		return "OOMKilled (memory limit too low)"
	case p.Phase == corev1.PodFailed:
		return "Failed"
	}
	return "running but not Ready"
}

// LivePods are the Pods of a case that are not being deleted.
func LivePods(pods []*model.DaemonPod) []*model.DaemonPod {
	live := make([]*model.DaemonPod, 0, len(pods))
	for _, p := range pods {
		if !p.Deleting {
			live = append(live, p)
		}
	}
	return live
}

// ImageIDs records the first imageID of each container name among the
// Pods seen, and whether another Pod's differs: a Pod has a few containers,
// a slice is all it takes. The health of every Pod on a known node is
// computed before the detectors run (nodeVerdicts), so its containers are
// looked at once, while at hand, instead of in a pass of their own.
type ImageIDs struct {
	first  [][2]string
	differ bool
}

func (s *ImageIDs) See(p *model.DaemonPod) {
	if s.differ || p.Deleting {
		return
	}
next:
	for i := range p.Containers {
		cs := &p.Containers[i]
		if cs.ImageID == "" {
			continue
		}
		for _, f := range s.first {
			if f[0] == cs.Name {
				if f[1] != cs.ImageID {
					s.differ = true
					return
				}
				continue next
			}
		}
		s.first = append(s.first, [2]string{cs.Name, cs.ImageID})
	}
}

// Differ reports whether two containers of one name run different
// imageIDs among the Pods seen.
func (s *ImageIDs) Differ() bool { return s.differ }

package audit

import (
	"time"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// nodeVerdicts decides, for every node, whether the controller wants the
// DaemonSet there and what is on it, and recomputes the status counts the
// controller would publish, as updateDaemonSetStatus in daemon_controller.go
// does.
func (c *dsContext) nodeVerdicts(byNode map[string][]*model.DaemonPod) ([]report.NodeVerdict, report.Counts) {
	computed := report.Counts{ObservedGeneration: c.ds.Generation}
	// The capacity plan evaluated every node already, with c.eval.
	c.verdicts = c.idx.plan.Verdicts[c.idx.plan.Of(c.ds)]
	nvs := make([]report.NodeVerdict, 0, len(c.idx.nodes))
	for i, node := range c.idx.nodes {
		v := c.verdicts[i]
		ps := byNode[node.Name]
		nv := report.NodeVerdict{
			Name:                  node.Name,
			ShouldRun:             v.ShouldRun,
			ShouldContinueRunning: v.ShouldContinueRunning,
			Reason:                v.Reason,
			Cause:                 string(v.Cause),
			Short:                 explain.ShortReason(v),
			RequiredBy:            c.requiredBy(node),
		}
		nv.Required = nv.RequiredBy != ""
		for _, p := range ps {
			nv.Pods = append(nv.Pods, c.podRef(p))
		}
		switch {
		case !c.podsKnown:
			nv.Coverage = report.CoverageUnknown
		case !v.ShouldRun:
			nv.Coverage = report.NotTargeted
		case len(ps) > 0:
			nv.Coverage = report.Covered
		default:
			nv.Coverage = report.Missing
		}
		nvs = append(nvs, nv)

		if !v.ShouldRun {
			if len(ps) > 0 {
				computed.NumberMisscheduled++
			}
			continue
		}
		computed.DesiredNumberScheduled++
		if len(ps) == 0 {
			continue
		}
		computed.CurrentNumberScheduled++
		oldest := ps[0]
		if oldest.Ready {
			computed.NumberReady++
			if c.available(oldest) {
				computed.NumberAvailable++
			}
		}
		if c.isUpdated(oldest) {
			computed.UpdatedNumberScheduled++
		}
	}
	computed.NumberUnavailable = computed.DesiredNumberScheduled - computed.NumberAvailable
	return nvs, computed
}

func (c *dsContext) podRef(p *model.DaemonPod) report.PodRef {
	h := c.health(p)
	return report.PodRef{
		Name:     p.Name,
		Phase:    string(p.Phase),
		Ready:    p.Ready,
		Revision: podRevision(p),
		Updated:  c.isUpdated(p),
		Restarts: h.Restarts,
		Created:  p.Created.UTC(),
		State:    h.State,
		Adopted:  c.adopted[p],
	}
}

func podRevision(p *model.DaemonPod) string {
	if h := p.RevisionHash; h != "" {
		return h
	}
	if g := p.TemplateGeneration; g != "" {
		return "generation " + g
	}
	return ""
}

// isUpdated mirrors util.IsPodUpdated: the Pod's revision hash label equals
// the current revision's hash, or its template generation label equals the
// DaemonSet's template generation.
func (c *dsContext) isUpdated(p *model.DaemonPod) bool {
	templateMatches := c.gen != nil && p.TemplateGeneration == c.genLabel
	hashMatches := c.hash != "" && p.RevisionHash == c.hash
	return hashMatches || templateMatches
}

// available is podstate.Available with the DaemonSet's minReadySeconds, the
// analysis clock and the server version's rule.
func (c *dsContext) available(p *model.DaemonPod) bool {
	ok := podstate.Available(p, c.ds.Spec.MinReadySeconds, c.now, c.rules.availableAtBoundary)
	if !ok && p.Ready && !p.ReadySince.IsZero() {
		// Ready, not yet for minReadySeconds: available from then on.
		at := p.ReadySince.Add(time.Duration(c.ds.Spec.MinReadySeconds) * time.Second)
		if !c.rules.availableAtBoundary {
			at = at.Add(time.Nanosecond)
		}
		c.changesAt(at)
	}
	return ok
}

package audit

import (
	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// nodeVerdicts decides, for every node, whether the controller wants the
// DaemonSet there and what is on it, and recomputes the status counts the
// controller would publish, as updateDaemonSetStatus in daemon_controller.go
// does.
func (c *dsContext) nodeVerdicts(byNode map[string][]*model.DaemonPod) ([]report.NodeVerdict, report.Counts) {
	computed := report.Counts{ObservedGeneration: c.DS.Generation}
	// The capacity plan evaluated every node already, with c.Eval.
	c.Verdicts = c.Cluster.Plan.Verdicts[c.Cluster.Plan.Of(c.DS)]
	nvs := make([]report.NodeVerdict, 0, len(c.Cluster.Nodes))
	for i, node := range c.Cluster.Nodes {
		v := c.Verdicts[i]
		ps := byNode[node.Name]
		nv := report.NodeVerdict{
			Name:                  node.Name,
			ShouldRun:             v.ShouldRun,
			ShouldContinueRunning: v.ShouldContinueRunning,
			Reason:                v.Reason,
			Cause:                 string(v.Cause),
			Short:                 explain.ShortReason(v),
			RequiredBy:            c.RequiredBy(node),
		}
		nv.Required = nv.RequiredBy != ""
		for _, p := range ps {
			nv.Pods = append(nv.Pods, c.podRef(p))
		}
		switch {
		case !c.PodsKnown:
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
			if c.Available(oldest) {
				computed.NumberAvailable++
			}
		}
		if c.IsUpdated(oldest) {
			computed.UpdatedNumberScheduled++
		}
	}
	computed.NumberUnavailable = computed.DesiredNumberScheduled - computed.NumberAvailable
	return nvs, computed
}

func (c *dsContext) podRef(p *model.DaemonPod) report.PodRef {
	h := c.Health(p)
	return report.PodRef{
		Name:     p.Name,
		Phase:    string(p.Phase),
		Ready:    p.Ready,
		Revision: detect.PodRevision(p),
		Updated:  c.IsUpdated(p),
		Restarts: h.Restarts,
		Created:  p.Created.UTC(),
		State:    h.State,
		Adopted:  c.Adopted[p],
	}
}

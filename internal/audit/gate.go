package audit

import (
	"fmt"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// gate is the last stage of the analysis: it drops ignored types, sets each
// finding's severity from the catalog, marks what exemption annotations and
// --grace set aside (those stay in the report, so nothing is hidden), and
// stamps the findings --fail-on selects as failing. Every count, printer and
// the exit code read these stamps; nothing decides the verdict again.
func (c *dsContext) gate(fs []report.Finding, pods []*model.DaemonPod, g report.Gate) []report.Finding {
	podByName := make(map[string]*model.DaemonPod, len(pods))
	for _, p := range pods {
		podByName[p.Name] = p
	}
	dsTypes, dsAll, dsExempt := policy.Exemption(c.DS.Annotations)
	dsKey := string(c.DS.UID)
	if dsKey == "" {
		dsKey = c.DS.Namespace + "/" + c.DS.Name
	}
	ids := make(map[string]int, len(fs))
	out := fs[:0]
	for _, f := range fs {
		if report.Ignored(g.Ignore, &f) {
			continue
		}
		info := report.Info(f.Type)
		f.Severity = report.SeverityOf(&f)
		if dsExempt && (dsAll || dsTypes[string(f.Type)]) {
			f.Exempted = fmt.Sprintf("annotation %s on daemonset %s/%s", policy.ExemptAnnotation, c.DS.Namespace, c.DS.Name)
		}
		node := c.Cluster.NodeByName[f.Node]
		if node != nil && f.Exempted == "" {
			if types, all, ok := policy.Exemption(node.Annotations); ok && (all || types[string(f.Type)]) {
				f.Exempted = fmt.Sprintf("annotation %s on node %s", policy.ExemptAnnotation, node.Name)
			}
		}
		if g.Grace > 0 && f.Exempted == "" {
			if node != nil && !node.CreationTimestamp.IsZero() && c.Now.Sub(node.CreationTimestamp.Time) < g.Grace {
				c.ChangesAt(node.CreationTimestamp.Add(g.Grace))
				f.HeldBack = fmt.Sprintf("node %s joined %s ago (--grace %s)", node.Name, detect.HumanDuration(c.Now.Sub(node.CreationTimestamp.Time)), g.Grace)
			} else if p := podByName[f.Pod]; p != nil && info.PodGrace && c.Now.Sub(p.Created) < g.Grace {
				c.ChangesAt(p.Created.Add(g.Grace))
				f.HeldBack = fmt.Sprintf("Pod %s is %s old (--grace %s)", p.Name, detect.HumanDuration(c.Now.Sub(p.Created)), g.Grace)
			}
		}
		f.State = f.StateOf()
		f.Failing = f.Active() && g.FailOn.Selects(&f)
		// Two findings with one identity (two port clashes of one Pod)
		// are told apart by their order, which is canonical.
		id := report.FindingID(dsKey, &f)
		if n := ids[id]; n > 0 {
			ids[id] = n + 1
			id = fmt.Sprintf("%s-%d", id, n+1)
		} else {
			ids[id] = 1
		}
		f.ID = id
		out = append(out, f)
	}
	return out
}

package analyze

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/pkg/snapshot"
)

func init() {
	register(detector{typ: report.OutdatedPod, node: func(c *dsContext, n *nodeCase) []report.Finding {
		if !c.targeted(n) || !c.revKnown {
			return nil
		}
		var out []report.Finding
		for _, p := range n.pods {
			if !c.isUpdated(p) && !p.Deleting {
				out = append(out, c.outdated(n.name, p))
			}
		}
		return out
	}})
}

func (c *dsContext) outdated(nodeName string, p *snapshot.DaemonPod) report.Finding {
	f := report.Finding{Type: report.OutdatedPod, Node: nodeName, Pod: p.Name}
	rev := podRevision(p)
	if rev == "" {
		rev = "an unknown revision"
	}
	cur := c.hash
	if cur == "" && c.gen != nil {
		cur = fmt.Sprintf("generation %d", *c.gen)
	}
	f.Message = fmt.Sprintf("Pod %s on node %s runs %s, the current revision is %s", p.Name, nodeName, rev, cur)
	if c.rollout != "" {
		f.Message += " (" + c.rollout + ")"
	}
	if c.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		f.Suggestion = fmt.Sprintf("with updateStrategy OnDelete a Pod is updated only when deleted: kubectl delete pod -n %s %s", p.Namespace, p.Name)
	} else {
		f.Suggestion = fmt.Sprintf("the rolling update replaces it once fewer than maxUnavailable Pods are unavailable; follow it with kubectl rollout status -n %s daemonset/%s", c.ds.Namespace, c.ds.Name)
	}
	return f
}

func (c *dsContext) rolloutProgress(computed report.Counts) string {
	s := fmt.Sprintf("%d of %d nodes updated", computed.UpdatedNumberScheduled, computed.DesiredNumberScheduled)
	if c.ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return s + "; updateStrategy OnDelete"
	}
	if ru := c.ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		s += fmt.Sprintf("; RollingUpdate maxUnavailable %s, maxSurge %s", orDefault(intOrString(ru.MaxUnavailable), "1"), orDefault(intOrString(ru.MaxSurge), "0"))
	}
	return s
}

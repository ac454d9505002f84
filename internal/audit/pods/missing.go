package pods

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.MissingPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		// Partitioned scaling leaves some nodes of an Advanced
		// DaemonSet without a Pod on purpose (detect/kruise.go).
		if n.Node == nil || !n.Verdict.ShouldRun || c.KruiseNotCreated(n.Name) {
			return nil
		}
		if len(n.Pods) == 0 {
			return []report.Finding{c.missing(n.Node)}
		}
		// A surge DaemonSet wants one Pod on the node that is not being
		// deleted: podsShouldBeOnNode creates a replacement at once when all
		// it has is terminating (TestSurgeCreatesNewPodWhenAtMaxSurgeAndOldPodDeleted);
		// without surge the controller waits for the Pod to go.
		if c.Surge && len(detect.LivePods(n.Pods)) == 0 {
			f := c.missing(n.Node)
			f.Message = fmt.Sprintf("node %s should run the DaemonSet but its only Pod (%s) is terminating; with maxSurge the controller creates a replacement at once, without waiting for it to go", n.Node.Name, n.Pods[0].Name)
			return []report.Finding{f}
		}
		return nil
	}})
}

func (c dsContext) missing(node *corev1.Node) report.Finding {
	f := report.Finding{Type: report.MissingPod, Node: node.Name, Reason: report.ReasonNoPod, Cause: "no daemon Pod on a targeted node"}
	f.Message = fmt.Sprintf("node %s should run the DaemonSet but has no Pod of it", node.Name)
	if age := c.Now.Sub(node.CreationTimestamp.Time); !node.CreationTimestamp.IsZero() && age < 2*time.Minute && age >= 0 {
		c.ChangesAt(node.CreationTimestamp.Add(2 * time.Minute))
		f.Message += fmt.Sprintf("; the node joined %s ago, the controller may not have created it yet", detect.HumanDuration(age))
		f.Since = detect.SinceOf(node.CreationTimestamp.Time)
	}
	if rel := c.Released[node.Name]; len(rel) > 0 {
		// ClaimObject releases an owned Pod whose labels no longer match the
		// selector; the node then has no Pod of the DaemonSet and
		// podsShouldBeOnNode creates one.
		f.Message = fmt.Sprintf("node %s should run the DaemonSet but has no Pod of it: Pod %s no longer matches the selector %s; the controller releases it (removes its owner reference, leaving it running) and creates a new Pod on the node", node.Name, rel[0].Name, metav1.FormatLabelSelector(c.DS.Spec.Selector))
		f.Reason, f.Params = report.ReasonPodReleased, report.Params{Other: rel[0].Name}
		explain.Advise(&f, fmt.Sprintf("if the relabel was a mistake, restore the labels of Pod %s; otherwise delete the released Pod once the new one runs: {0}", rel[0].Name), explain.KubectlWrite("delete", "pod", "-n", rel[0].Namespace, rel[0].Name))
		return f
	}
	if e := c.LatestEvent(c.DS.UID, node.Name); e != nil {
		f.Message += fmt.Sprintf("; last %s event: %s", e.Reason, text.OneLine(e.Message))
		f.Cause = fmt.Sprintf("no daemon Pod; last %s event: %s", e.Reason, text.OneLine(e.Message))
		f.Reason, f.Params = report.ReasonFailedCreate, report.Params{Event: e.Reason + ": " + text.OneLine(e.Message)}
		explain.Advise(&f, "fix what the event says; the controller retries with backoff")
	} else {
		explain.Advise(&f, "check {0} for FailedCreate events and that "+c.ControllerName()+" is running", c.DescribeDS())
	}
	return f
}

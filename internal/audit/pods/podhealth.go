package pods

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.PendingPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		return c.healthFindings(n, podstate.Pending, c.pendingPod)
	}, ds: func(c dsContext) []report.Finding {
		return c.untargetedPods()
	}})
	register(detector{typ: report.UnhealthyPod, node: func(c dsContext, n *nodeCase) []report.Finding {
		return c.healthFindings(n, podstate.Unhealthy, c.unhealthyPod)
	}})
}

// healthFindings reports the Pods of a targeted node whose health is kind.
func (c dsContext) healthFindings(n *nodeCase, kind podstate.Kind, f func(string, *model.DaemonPod, podstate.Health) report.Finding) []report.Finding {
	if !c.Targeted(n) {
		return nil
	}
	var out []report.Finding
	for _, p := range n.Pods {
		if h := c.Health(p); h.Kind == kind {
			out = append(out, f(n.Name, p, h))
		}
	}
	return out
}

// untargetedPods reports daemon Pods the controller cannot attribute to any
// node.
func (c dsContext) untargetedPods() []report.Finding {
	var out []report.Finding
	for _, p := range c.Untargeted {
		f := report.Finding{
			Type: report.PendingPod, Pod: p.Name, Reason: report.ReasonNoTargetNode, Cause: "no target node: not created by the DaemonSet controller",
			Message: fmt.Sprintf("Pod %s has no target node (no spec.nodeName and no required node affinity on metadata.name); the DaemonSet controller ignores it", p.Name),
		}
		explain.Advise(&f, "it was not created by the DaemonSet controller as is; delete it: {0}", explain.KubectlWrite("delete", "pod", "-n", p.Namespace, p.Name))
		out = append(out, f)
	}
	return out
}

func (c dsContext) pendingPod(nodeName string, p *model.DaemonPod, h podstate.Health) report.Finding {
	f := report.Finding{Type: report.PendingPod, Node: nodeName, Pod: p.Name}
	f.Reason, f.Params = detect.PendingReason(p, h)
	f.Cause = detect.PendingCause(p, h)
	f.Message = fmt.Sprintf("Pod %s for node %s %s", p.Name, nodeName, h.Detail)
	if age := c.Now.Sub(p.Created); !p.Created.IsZero() && age >= 0 {
		f.Message += fmt.Sprintf(" (for %s)", detect.HumanDuration(age))
		f.Since = detect.SinceOf(p.Created)
	}
	// What the cluster said (the scheduler's condition, the last event),
	// not the message composed here, tells which fix applies.
	said := p.ScheduledMessage
	if e := c.LatestEvent(p.UID, ""); e != nil {
		said += "\n" + e.Message
		if !strings.Contains(f.Message, text.OneLine(e.Message)) {
			f.Message += fmt.Sprintf("; last %s event: %s", e.Reason, text.OneLine(e.Message))
		}
	}
	describe := explain.Kubectl("describe", "pod", "-n", p.Namespace, p.Name)
	switch {
	case f.Reason == report.ReasonInsufficient || strings.Contains(said, "Insufficient"):
		explain.Advise(&f, fmt.Sprintf("free resources on node %s or lower the DaemonSet's resource requests; a priorityClassName such as system-node-critical lets the scheduler preempt other Pods", nodeName))
	case f.Reason == report.ReasonHostPortTaken || strings.Contains(said, "free ports") || strings.Contains(said, "host port"):
		explain.Advise(&f, fmt.Sprintf("another Pod on node %s uses the same hostPort; change one of them", nodeName))
	case p.NodeName == "":
		explain.Advise(&f, "see why the scheduler cannot place it: {0}", describe)
	default:
		explain.Advise(&f, fmt.Sprintf("see what the kubelet on %s reports: {0}", nodeName), describe)
	}
	return f
}

func (c dsContext) unhealthyPod(nodeName string, p *model.DaemonPod, h podstate.Health) report.Finding {
	f := report.Finding{Type: report.UnhealthyPod, Node: nodeName, Pod: p.Name, Reason: report.ReasonPodNotReady, Cause: detect.UnhealthyCause(p, h)}
	f.Params = report.Params{State: h.State, Image: h.Image}
	if h.Reason != "" {
		f.Params.State = h.Reason
	}
	f.Message = fmt.Sprintf("Pod %s on node %s %s", p.Name, nodeName, h.Detail)
	if h.Restarts > 0 && !strings.Contains(h.Detail, "restarts") {
		f.Message += fmt.Sprintf("; %d restarts", h.Restarts)
	}
	// An image that cannot run on the node's platform explains any of
	// the states below (a pull error, a crash loop): say that instead.
	if pf, ok := c.platformFailureOf(p); ok {
		c.platformUnhealthy(&f, nodeName, pf)
		return f
	}
	describe := explain.Kubectl("describe", "pod", "-n", p.Namespace, p.Name)
	switch {
	case h.Reason == "CrashLoopBackOff" || h.Reason == "Error" || h.Reason == "RunContainerError":
		explain.Advise(&f, "read its logs: {0}", explain.Kubectl("logs", "-n", p.Namespace, p.Name, "--previous"))
	case h.Reason == "ImagePullBackOff" || h.Reason == "ErrImagePull" || h.Reason == "InvalidImageName" || h.Reason == "ErrImageNeverPull":
		explain.Advise(&f, "check the image name and tag, and the registry's pull secret")
		if h.Image != "" {
			explain.Advise(&f, fmt.Sprintf("check that image %s exists and can be pulled (name, tag, imagePullSecrets)", h.Image))
		}
	case h.Reason == "OOMKilled" || strings.Contains(h.Detail, "OOMKilled"):
		explain.Advise(&f, "raise the container's memory limit in the DaemonSet")
	case h.Reason == "CreateContainerConfigError":
		explain.Advise(&f, "a referenced ConfigMap, Secret or key is missing: {0}", describe)
	case p.Phase == corev1.PodFailed || p.Phase == corev1.PodSucceeded:
		explain.Advise(&f, "the controller deletes failed daemon Pods and recreates them with backoff; if it repeats, see the Pod's events and logs")
	default:
		explain.Advise(&f, "check its readiness probe and logs: {0}", describe)
	}
	return f
}

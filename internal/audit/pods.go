package audit

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Label and annotation keys the DaemonSet controller uses to tell a Pod's
// revision (k8s.io/api apps/v1 and pkg/apis/extensions).
const (
	revisionHashLabel       = "controller-revision-hash"
	templateGenerationLabel = "pod-template-generation"
	templateGenerationAnno  = "deprecated.daemonset.template.generation"
)

// isPodAvailable mirrors podutil.IsPodAvailable (pkg/api/v1/pod/util.go):
// Ready, and, when minReadySeconds is set, Ready since at least
// minReadySeconds before now. atBoundary says whether exactly minReadySeconds
// is enough: it is since kubernetes#132122 (v1.34; controllerRules).
func isPodAvailable(p *model.DaemonPod, minReadySeconds int32, now time.Time, atBoundary bool) bool {
	if !p.Ready {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	if p.ReadySince.IsZero() {
		return false
	}
	availableAt := p.ReadySince.Add(time.Duration(minReadySeconds) * time.Second)
	if atBoundary {
		return !availableAt.After(now)
	}
	return availableAt.Before(now)
}

// available is isPodAvailable with the DaemonSet's minReadySeconds, the
// analysis clock and the server version's rule.
func (c *dsContext) available(p *model.DaemonPod) bool {
	ok := isPodAvailable(p, c.ds.Spec.MinReadySeconds, c.now, c.rules.availableAtBoundary)
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

// isPodTerminal mirrors podutil.IsPodTerminal.
func isPodTerminal(p *model.DaemonPod) bool {
	return p.Phase == corev1.PodFailed || p.Phase == corev1.PodSucceeded
}

// sortDaemonPods orders Pods as the controller's podByCreationTimestampAndPhase
// does: bound Pods first, then oldest first, then by name. The first Pod is
// the one whose readiness and revision the controller counts for the node.
func sortDaemonPods(pods []*model.DaemonPod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.NodeName != "") != (b.NodeName != "") {
			return a.NodeName != ""
		}
		if a.Created.Equal(b.Created) {
			return a.Name < b.Name
		}
		return a.Created.Before(b.Created)
	})
}

// health is what daemoncheck makes of one Pod's status.
type health struct {
	// state is a short word like kubectl's STATUS column.
	state string
	// kind is "" for a healthy Pod, else pending or unhealthy.
	kind healthKind
	// detail explains the state in a sentence fragment.
	detail string
	// reason is the machine reason behind the state (container waiting or
	// terminated reason, PodScheduled reason).
	reason   string
	restarts int32
	image    string
}

type healthKind int

const (
	healthy healthKind = iota
	pending
	unhealthy
	terminating
)

// badWaiting are container waiting reasons that mean the Pod will not start
// by itself; other waiting reasons (ContainerCreating, PodInitializing) are
// progress.
var badWaiting = map[string]bool{
	"CrashLoopBackOff":           true,
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"InvalidImageName":           true,
	"ErrImageNeverPull":          true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
	"PreStartHookError":          true,
	"PostStartHookError":         true,
}

func podHealth(pod *model.DaemonPod) health {
	var h health
	var lastOOM string
	for i := range pod.Containers {
		cs := &pod.Containers[i]
		h.restarts += cs.Restarts
		if cs.LastTerminatedReason == "OOMKilled" {
			lastOOM = cs.Name
		}
	}
	switch {
	case pod.Deleting:
		h.state, h.kind, h.detail = "Terminating", terminating, "is being deleted"
		return h
	case pod.Phase == corev1.PodFailed:
		h.state, h.kind, h.reason = "Failed", unhealthy, pod.Reason
		h.detail = "has failed"
		if pod.Reason != "" {
			h.state = pod.Reason
			h.detail = fmt.Sprintf("has failed (%s)", pod.Reason)
		}
		if pod.Message != "" {
			h.detail += ": " + text.OneLine(pod.Message)
		}
		return h
	case pod.Phase == corev1.PodSucceeded:
		h.state, h.kind, h.detail = "Completed", unhealthy, "has exited (phase Succeeded); a daemon Pod is expected to keep running"
		return h
	case pod.NodeName == "":
		h.state, h.kind = "Pending", pending
		h.detail = "is not scheduled"
		if pod.Unschedulable {
			h.reason = pod.ScheduledReason
			if pod.ScheduledMessage != "" {
				h.detail = fmt.Sprintf("is not scheduled (%s): %s", pod.ScheduledReason, text.OneLine(pod.ScheduledMessage))
			}
		}
		return h
	}
	// A bound Pod: the first container stuck in a bad waiting state, or
	// terminated, explains it best.
	for i := range pod.Containers {
		cs := &pod.Containers[i]
		if badWaiting[cs.WaitingReason] {
			h.state, h.kind, h.reason, h.image = cs.WaitingReason, unhealthy, cs.WaitingReason, cs.Image
			h.detail = fmt.Sprintf("container %s is in %s", cs.Name, cs.WaitingReason)
			if cs.LastTerminatedReason != "" {
				h.detail += fmt.Sprintf(" (last exit: %s, code %d)", cs.LastTerminatedReason, cs.LastExitCode)
			}
			if cs.WaitingMessage != "" {
				h.detail += ": " + text.OneLine(cs.WaitingMessage)
			}
			return h
		}
		if cs.Terminated && cs.TerminatedExitCode != 0 && !cs.Init {
			h.state, h.kind, h.reason = cs.TerminatedReason, unhealthy, cs.TerminatedReason
			h.detail = fmt.Sprintf("container %s terminated (%s, exit code %d)", cs.Name, cs.TerminatedReason, cs.TerminatedExitCode)
			return h
		}
	}
	if pod.Phase == corev1.PodPending || pod.Phase == "" {
		h.state, h.kind = "ContainerCreating", pending
		h.detail = "is bound but its containers have not started"
		for i := range pod.Containers {
			if cs := &pod.Containers[i]; cs.WaitingReason != "" {
				h.state = cs.WaitingReason
				h.detail = fmt.Sprintf("is bound but container %s is %s", cs.Name, cs.WaitingReason)
				break
			}
		}
		return h
	}
	h.state = "Running"
	if !pod.Ready {
		h.kind = unhealthy
		h.detail = "is running but not Ready"
		var notReady []string
		for i := range pod.Containers {
			if cs := &pod.Containers[i]; !cs.Init && !cs.Ready {
				notReady = append(notReady, cs.Name)
			}
		}
		if len(notReady) > 0 {
			h.detail += fmt.Sprintf(" (containers not ready: %s)", strings.Join(notReady, ", "))
		}
		if lastOOM != "" {
			h.reason = "OOMKilled"
			h.detail += fmt.Sprintf("; container %s was OOMKilled", lastOOM)
		}
		if h.restarts > 0 {
			h.detail += fmt.Sprintf("; %d restarts", h.restarts)
		}
	}
	return h
}

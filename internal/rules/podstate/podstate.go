// Package podstate holds the rules a daemon Pod's state is judged by:
// when the controller counts it available, the order it picks a node's Pod
// in, the revision labels it stamps, and what daemoncheck makes of a Pod's
// status (running, pending, unhealthy, terminating, and why).
package podstate

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
	RevisionHashLabel       = "controller-revision-hash"
	TemplateGenerationLabel = "pod-template-generation"
	TemplateGenerationAnno  = "deprecated.daemonset.template.generation"
)

// Available mirrors podutil.IsPodAvailable (pkg/api/v1/pod/util.go):
// Ready, and, when minReadySeconds is set, Ready since at least
// minReadySeconds before now. atBoundary says whether exactly minReadySeconds
// is enough: it is since kubernetes#132122 (v1.34; controllerRules).
func Available(p *model.DaemonPod, minReadySeconds int32, now time.Time, atBoundary bool) bool {
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

// Terminal mirrors podutil.IsPodTerminal.
func Terminal(p *model.DaemonPod) bool {
	return p.Phase == corev1.PodFailed || p.Phase == corev1.PodSucceeded
}

// Sort orders Pods as the controller's podByCreationTimestampAndPhase
// does: bound Pods first, then oldest first, then by name. The first Pod is
// the one whose readiness and revision the controller counts for the node.
func Sort(pods []*model.DaemonPod) {
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

// Health is what daemoncheck makes of one Pod's status.
type Health struct {
	// State is a short word like kubectl's STATUS column.
	State string
	// Kind is Healthy for a healthy Pod, else what is wrong.
	Kind Kind
	// Detail explains the state in a sentence fragment.
	Detail string
	// Reason is the machine reason behind the state (container waiting or
	// terminated reason, PodScheduled reason).
	Reason   string
	Restarts int32
	Image    string
}

// Kind says what is wrong with a Pod, if anything.
type Kind int

const (
	Healthy Kind = iota
	Pending
	Unhealthy
	Terminating
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

// Of is what daemoncheck makes of pod's status.
//
// Of is long on purpose: it is one precedence list (deleting, failed,
// succeeded, unscheduled, a container stuck or failed, still creating,
// running but not Ready), the order kubectl's STATUS column picks a
// Pod's state in; split up, that order would be spread over functions.
func Of(pod *model.DaemonPod) Health {
	var h Health
	var lastOOM string
	for i := range pod.Containers {
		cs := &pod.Containers[i]
		h.Restarts += cs.Restarts
		if cs.LastTerminatedReason == "OOMKilled" {
			lastOOM = cs.Name
		}
	}
	switch {
	case pod.Deleting:
		h.State, h.Kind, h.Detail = "Terminating", Terminating, "is being deleted"
		return h
	case pod.Phase == corev1.PodFailed:
		h.State, h.Kind, h.Reason = "Failed", Unhealthy, pod.Reason
		h.Detail = "has failed"
		if pod.Reason != "" {
			h.State = pod.Reason
			h.Detail = fmt.Sprintf("has failed (%s)", pod.Reason)
		}
		if pod.Message != "" {
			h.Detail += ": " + text.OneLine(pod.Message)
		}
		return h
	case pod.Phase == corev1.PodSucceeded:
		h.State, h.Kind, h.Detail = "Completed", Unhealthy, "has exited (phase Succeeded); a daemon Pod is expected to keep running"
		return h
	case pod.NodeName == "":
		h.State, h.Kind = "Pending", Pending
		h.Detail = "is not scheduled"
		if pod.Unschedulable {
			h.Reason = pod.ScheduledReason
			if pod.ScheduledMessage != "" {
				h.Detail = fmt.Sprintf("is not scheduled (%s): %s", pod.ScheduledReason, text.OneLine(pod.ScheduledMessage))
			}
		}
		return h
	}
	// A bound Pod: the first container stuck in a bad waiting state, or
	// terminated, explains it best.
	for i := range pod.Containers {
		cs := &pod.Containers[i]
		if badWaiting[cs.WaitingReason] {
			h.State, h.Kind, h.Reason, h.Image = cs.WaitingReason, Unhealthy, cs.WaitingReason, cs.Image
			h.Detail = fmt.Sprintf("container %s is in %s", cs.Name, cs.WaitingReason)
			if cs.LastTerminatedReason != "" {
				h.Detail += fmt.Sprintf(" (last exit: %s, code %d)", cs.LastTerminatedReason, cs.LastExitCode)
			}
			if cs.WaitingMessage != "" {
				h.Detail += ": " + text.OneLine(cs.WaitingMessage)
			}
			return h
		}
		if cs.Terminated && cs.TerminatedExitCode != 0 && !cs.Init {
			h.State, h.Kind, h.Reason = cs.TerminatedReason, Unhealthy, cs.TerminatedReason
			h.Detail = fmt.Sprintf("container %s terminated (%s, exit code %d)", cs.Name, cs.TerminatedReason, cs.TerminatedExitCode)
			return h
		}
	}
	if pod.Phase == corev1.PodPending || pod.Phase == "" {
		h.State, h.Kind = "ContainerCreating", Pending
		h.Detail = "is bound but its containers have not started"
		for i := range pod.Containers {
			if cs := &pod.Containers[i]; cs.WaitingReason != "" {
				h.State = cs.WaitingReason
				h.Detail = fmt.Sprintf("is bound but container %s is %s", cs.Name, cs.WaitingReason)
				break
			}
		}
		return h
	}
	h.State = "Running"
	if !pod.Ready {
		h.Kind = Unhealthy
		h.Detail = "is running but not Ready"
		var notReady []string
		for i := range pod.Containers {
			if cs := &pod.Containers[i]; !cs.Init && !cs.Ready {
				notReady = append(notReady, cs.Name)
			}
		}
		if len(notReady) > 0 {
			h.Detail += fmt.Sprintf(" (containers not ready: %s)", strings.Join(notReady, ", "))
		}
		if lastOOM != "" {
			h.Reason = "OOMKilled"
			h.Detail += fmt.Sprintf("; container %s was OOMKilled", lastOOM)
		}
		if h.Restarts > 0 {
			h.Detail += fmt.Sprintf("; %d restarts", h.Restarts)
		}
	}
	return h
}

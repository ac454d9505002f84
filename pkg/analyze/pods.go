package analyze

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Label and annotation keys the DaemonSet controller uses to tell a Pod's
// revision (k8s.io/api apps/v1 and pkg/apis/extensions).
const (
	revisionHashLabel          = "controller-revision-hash"
	podTemplateGenerationLabel = "pod-template-generation"
	templateGenerationAnno     = "deprecated.daemonset.template.generation"
)

// isPodReady mirrors podutil.IsPodReady: the Ready condition is True.
func isPodReady(pod *corev1.Pod) bool {
	c := podCondition(pod, corev1.PodReady)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isPodAvailable mirrors podutil.IsPodAvailable: Ready, and for at least
// minReadySeconds when that is set.
func isPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := podCondition(pod, corev1.PodReady)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	min := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(min).Before(now)
}

// isPodTerminal mirrors podutil.IsPodTerminal.
func isPodTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// sortDaemonPods orders Pods as the controller's podByCreationTimestampAndPhase
// does: bound Pods first, then oldest first, then by name. The first Pod is
// the one whose readiness and revision the controller counts for the node.
func sortDaemonPods(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
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

func podHealth(pod *corev1.Pod) health {
	var h health
	// Pointers: container statuses are large, and this runs for every Pod.
	statuses := make([]*corev1.ContainerStatus, 0, len(pod.Status.InitContainerStatuses)+len(pod.Status.ContainerStatuses))
	for i := range pod.Status.InitContainerStatuses {
		statuses = append(statuses, &pod.Status.InitContainerStatuses[i])
	}
	for i := range pod.Status.ContainerStatuses {
		statuses = append(statuses, &pod.Status.ContainerStatuses[i])
	}
	var lastOOM string
	for _, cs := range statuses {
		h.restarts += cs.RestartCount
		if t := cs.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
			lastOOM = cs.Name
		}
	}
	switch {
	case pod.DeletionTimestamp != nil:
		h.state, h.kind, h.detail = "Terminating", terminating, "is being deleted"
		return h
	case pod.Status.Phase == corev1.PodFailed:
		h.state, h.kind, h.reason = "Failed", unhealthy, pod.Status.Reason
		h.detail = "has failed"
		if pod.Status.Reason != "" {
			h.state = pod.Status.Reason
			h.detail = fmt.Sprintf("has failed (%s)", pod.Status.Reason)
		}
		if pod.Status.Message != "" {
			h.detail += ": " + oneLine(pod.Status.Message)
		}
		return h
	case pod.Status.Phase == corev1.PodSucceeded:
		h.state, h.kind, h.detail = "Completed", unhealthy, "has exited (phase Succeeded); a daemon Pod is expected to keep running"
		return h
	case pod.Spec.NodeName == "":
		h.state, h.kind = "Pending", pending
		h.detail = "is not scheduled"
		if c := podCondition(pod, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse {
			h.reason = c.Reason
			if c.Message != "" {
				h.detail = fmt.Sprintf("is not scheduled (%s): %s", c.Reason, oneLine(c.Message))
			}
		}
		return h
	}
	// A bound Pod: the first container stuck in a bad waiting state, or
	// terminated, explains it best.
	for _, cs := range statuses {
		if w := cs.State.Waiting; w != nil && badWaiting[w.Reason] {
			h.state, h.kind, h.reason, h.image = w.Reason, unhealthy, w.Reason, cs.Image
			h.detail = fmt.Sprintf("container %s is in %s", cs.Name, w.Reason)
			if cs.LastTerminationState.Terminated != nil && cs.LastTerminationState.Terminated.Reason != "" {
				t := cs.LastTerminationState.Terminated
				h.detail += fmt.Sprintf(" (last exit: %s, code %d)", t.Reason, t.ExitCode)
			}
			if w.Message != "" {
				h.detail += ": " + oneLine(w.Message)
			}
			return h
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && !isInit(pod, cs.Name) {
			h.state, h.kind, h.reason = t.Reason, unhealthy, t.Reason
			h.detail = fmt.Sprintf("container %s terminated (%s, exit code %d)", cs.Name, t.Reason, t.ExitCode)
			return h
		}
	}
	if pod.Status.Phase == corev1.PodPending || pod.Status.Phase == "" {
		h.state, h.kind = "ContainerCreating", pending
		h.detail = "is bound but its containers have not started"
		for _, cs := range statuses {
			if w := cs.State.Waiting; w != nil && w.Reason != "" {
				h.state = w.Reason
				h.detail = fmt.Sprintf("is bound but container %s is %s", cs.Name, w.Reason)
				break
			}
		}
		return h
	}
	h.state = "Running"
	if !isPodReady(pod) {
		h.kind = unhealthy
		h.detail = "is running but not Ready"
		var notReady []string
		for i := range pod.Status.ContainerStatuses {
			if cs := &pod.Status.ContainerStatuses[i]; !cs.Ready {
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

func isInit(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// oneLine folds a multi-line message so that table cells stay on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

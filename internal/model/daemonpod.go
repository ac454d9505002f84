package model

import (
	"sort"
	"strings"
	"time"
	"unique"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DaemonPod is what the analysis reads of a daemon Pod, and nothing more. A
// large cluster has tens of thousands of daemon Pods: as corev1.Pod they
// would hold ~1.2 KB of mostly empty struct each plus their decoded status,
// several times this record. The live reader converts each Pod as soon as
// its page is decoded.
type DaemonPod struct {
	Namespace, Name string
	UID             types.UID
	// ResourceVersion tells one version of the Pod from another: an
	// analysis carried forward (audit.Memo) takes a Pod with the same
	// UID and resourceVersion as unchanged.
	ResourceVersion string
	// OwnerUID and OwnerKind name the controller owner reference.
	OwnerUID  types.UID
	OwnerKind string
	// OwnerGroup is the owner reference's API group as DaemonSetGroup
	// names it ("" for the core DaemonSet): an Advanced DaemonSet's Pods
	// are owned by kind DaemonSet too, in apps.kruise.io.
	OwnerGroup string
	Created    time.Time
	// Deleting is true when the Pod has a deletion timestamp.
	Deleting bool
	// Labels are the Pod's labels, which the controller matches against the
	// DaemonSet's selector when it claims Pods (ClaimPods). One string, not
	// a map: a map costs ~300 bytes per Pod, the string only its text.
	Labels Labels
	// RevisionHash and TemplateGeneration are the controller-revision-hash
	// and pod-template-generation labels (substrings of Labels).
	RevisionHash, TemplateGeneration string
	// NodeName is spec.nodeName; TargetNode the node the DaemonSet
	// controller attributes the Pod to (scheduling.TargetNodeName), valid
	// when HasTarget.
	NodeName   string
	TargetNode string
	HasTarget  bool
	Phase      corev1.PodPhase
	Reason     string
	Message    string
	// Ready is the Ready condition; ReadySince its last transition.
	Ready      bool
	ReadySince time.Time
	// Unschedulable is a PodScheduled=False condition, with its reason and
	// message (the scheduler's words).
	Unschedulable bool
	// Evicted is a DisruptionTarget=True condition with reason
	// EvictionByEvictionAPI, which the eviction subresource adds before
	// it deletes the Pod (pkg/registry/core/pod/storage/eviction.go): a
	// drain, not a rollout, took the Pod away.
	Evicted                           bool
	ScheduledReason, ScheduledMessage string
	// Containers are the init containers' statuses, then the containers'.
	Containers []ContainerState
}

// ContainerState summarizes one container status.
type ContainerState struct {
	Name, Image          string
	Init, Ready          bool
	Restarts             int32
	WaitingReason        string
	WaitingMessage       string
	Terminated           bool
	TerminatedReason     string
	TerminatedExitCode   int32
	LastTerminatedReason string
	LastExitCode         int32
	// ImageID is status.containerStatuses[].imageID, the image the
	// runtime runs (a digest): Pods of one revision whose imageIDs differ
	// run different builds of one tag. Interned: every Pod of a DaemonSet
	// mostly runs the same one.
	ImageID string
	// TerminatedMessage is the runtime's message of the current, else the
	// last, termination (a StartError says "exec format error" there).
	TerminatedMessage string
}

// Compact returns the DaemonPod of a Pod, but for its target node, which
// takes the controller's rule (collect.Compact sets it).
func Compact(p *corev1.Pod) DaemonPod {
	d := DaemonPod{
		Namespace:       p.Namespace,
		Name:            p.Name,
		UID:             p.UID,
		ResourceVersion: p.ResourceVersion,
		Created:         p.CreationTimestamp.Time,
		Deleting:        p.DeletionTimestamp != nil,
		Labels:          NewLabels(p.Labels),
		NodeName:        p.Spec.NodeName,
		Phase:           p.Status.Phase,
		Reason:          p.Status.Reason,
		Message:         p.Status.Message,
	}
	d.RevisionHash = d.Labels.Get("controller-revision-hash")
	d.TemplateGeneration = d.Labels.Get("pod-template-generation")
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		d.OwnerUID, d.OwnerKind, d.OwnerGroup = ref.UID, ref.Kind, DaemonSetGroup(ref.APIVersion)
	}
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		switch c.Type {
		case corev1.PodReady:
			d.Ready = c.Status == corev1.ConditionTrue
			d.ReadySince = c.LastTransitionTime.Time
		case corev1.PodScheduled:
			if c.Status == corev1.ConditionFalse {
				d.Unschedulable, d.ScheduledReason, d.ScheduledMessage = true, c.Reason, c.Message
			}
		case corev1.DisruptionTarget:
			d.Evicted = c.Status == corev1.ConditionTrue && c.Reason == "EvictionByEvictionAPI"
		}
	}
	n := len(p.Status.InitContainerStatuses) + len(p.Status.ContainerStatuses)
	if n > 0 {
		d.Containers = make([]ContainerState, 0, n)
	}
	for i := range p.Status.InitContainerStatuses {
		d.Containers = append(d.Containers, containerState(&p.Status.InitContainerStatuses[i], true))
	}
	for i := range p.Status.ContainerStatuses {
		d.Containers = append(d.Containers, containerState(&p.Status.ContainerStatuses[i], false))
	}
	return d
}

func containerState(cs *corev1.ContainerStatus, init bool) ContainerState {
	s := ContainerState{Name: cs.Name, Image: cs.Image, Init: init, Ready: cs.Ready, Restarts: cs.RestartCount, ImageID: intern(cs.ImageID)}
	if w := cs.State.Waiting; w != nil {
		s.WaitingReason, s.WaitingMessage = w.Reason, w.Message
	}
	if t := cs.State.Terminated; t != nil {
		s.Terminated, s.TerminatedReason, s.TerminatedExitCode = true, t.Reason, t.ExitCode
	}
	if t := cs.LastTerminationState.Terminated; t != nil {
		s.LastTerminatedReason, s.LastExitCode = t.Reason, t.ExitCode
		s.TerminatedMessage = t.Message
	}
	if t := cs.State.Terminated; t != nil && t.Message != "" {
		s.TerminatedMessage = t.Message
	}
	return s
}

// intern returns the one shared copy of s: tens of thousands of Pods hold
// a few distinct imageIDs, each otherwise a string of its own from the
// decoder.
func intern(s string) string {
	if s == "" {
		return ""
	}
	return unique.Make(s).Value()
}

// Labels is a compact, read-only label set: "key=value" pairs sorted by key,
// each ended by a NUL byte. It implements k8s.io/apimachinery labels.Labels,
// so a labels.Selector matches it as it matches the Pod's map.
type Labels string

// NewLabels encodes a label map.
func NewLabels(m map[string]string) Labels {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	n := 0
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 2
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(n)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return Labels(b.String())
}

// Lookup returns the value of key and whether it is set.
func (l Labels) Lookup(key string) (string, bool) {
	s := string(l)
	for s != "" {
		end := strings.IndexByte(s, 0)
		if end < 0 {
			end = len(s)
		}
		pair := s[:end]
		if k, v, ok := strings.Cut(pair, "="); ok && k == key {
			return v, true
		}
		if end == len(s) {
			break
		}
		s = s[end+1:]
	}
	return "", false
}

// Has reports whether key is set.
func (l Labels) Has(key string) bool { _, ok := l.Lookup(key); return ok }

// Get returns the value of key, "" when it is not set.
func (l Labels) Get(key string) string { v, _ := l.Lookup(key); return v }

// Map decodes the labels (tests, printing).
func (l Labels) Map() map[string]string {
	m := map[string]string{}
	for _, pair := range strings.Split(strings.TrimSuffix(string(l), "\x00"), "\x00") {
		if k, v, ok := strings.Cut(pair, "="); ok {
			m[k] = v
		}
	}
	return m
}

// Package capacity does the scheduler's resource arithmetic for daemon Pods:
// what one Pod asks of a node (resources, a Pod slot, host ports), what a
// node offers, and whether a set of daemons fits on it. The effective request
// comes from the upstream helper the scheduler itself calls
// (k8s.io/component-helpers/resource.PodRequests: init containers, restartable
// sidecar init containers, pod-level resources and pod overhead); the fit
// rule mirrors NodeResourcesFit's fitsRequest
// (pkg/scheduler/framework/plugins/noderesources/fit.go, v1.37) and the
// host-port rule NodePorts (plugins/nodeports, framework.HostPortInfo).
//
// The package is pure: no clients, no clock. The analysis and the what-if
// commands feed it templates and nodes.
package capacity

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// Amounts are resource amounts in the scheduler's units (model.Amounts: a
// data type the model holds; its arithmetic is here).
type Amounts = model.Amounts

// FromList converts a ResourceList (a node's allocatable, a Pod's requests)
// through Amount. The readers refuse objects whose amounts do not convert
// (CheckNode, CheckPodSpec), so here it is exact; an amount that was not
// checked saturates rather than wraps (see fromListSaturated).
func FromList(l corev1.ResourceList) Amounts { return fromListSaturated(l) }

// SortNames orders resource names: cpu, memory, ephemeral-storage, pods,
// then the rest by name.
func SortNames(ns []corev1.ResourceName) { model.SortNames(ns) }

// Format renders an amount of one resource exactly, as kubectl prints
// quantities: "250m" or "2" cpu, "512Mi" or "4668352Ki" memory, "1"
// nvidia.com/gpu. It is for machine output (the reports' quantity strings,
// which a program parses back); what a person reads goes through UnitFor
// and FormatIn, one unit for the amounts shown together, never Ki.
func Format(name corev1.ResourceName, v int64) string {
	switch {
	case name == corev1.ResourceCPU:
		return resource.NewMilliQuantity(v, resource.DecimalSI).String()
	case name == corev1.ResourcePods || isCount(name):
		return resource.NewQuantity(v, resource.DecimalSI).String()
	default:
		return resource.NewQuantity(v, resource.BinarySI).String()
	}
}

// isCount says whether a resource is counted in units rather than bytes:
// extended resources (vendor-domain names such as nvidia.com/gpu) are
// devices. Memory, storage and hugepages are bytes.
func isCount(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceMemory, corev1.ResourceEphemeralStorage, corev1.ResourceStorage:
		return false
	}
	return !isHugePages(name)
}

func isHugePages(name corev1.ResourceName) bool {
	return len(name) > len(corev1.ResourceHugePagesPrefix) && string(name[:len(corev1.ResourceHugePagesPrefix)]) == corev1.ResourceHugePagesPrefix
}

// Request is what one Pod of a template asks of a node.
type Request struct {
	// Resources is the effective request as the scheduler computes it, plus
	// one pods slot.
	Resources Amounts
	// HostPorts are the host ports the Pod claims.
	HostPorts []HostPort
	// RuntimeClass is the template's runtimeClassName. Its overhead is added
	// to a Pod by admission from the RuntimeClass object, so a template
	// carries it only if someone wrote spec.overhead: callers say the
	// request may be short by that overhead when RuntimeClass is set and
	// OverheadKnown is false.
	RuntimeClass  string
	OverheadKnown bool
}

// PodRequest returns the request of a Pod created from spec. spec is
// defaulted first as the API server would (Defaults), so a manifest that
// never went through the API (a what-if input) counts like the Pods it
// would create.
func PodRequest(spec *corev1.PodSpec) Request {
	s := Defaults(spec)
	// The scheduler's NodeResourcesFit calls the same helper with
	// SkipPodLevelResources = !PodLevelResources (on by default since it
	// went beta) and no status resources for a Pod not yet running.
	l := resourcehelper.PodRequests(&corev1.Pod{Spec: *s}, resourcehelper.PodResourcesOptions{})
	r := Request{Resources: FromList(l), HostPorts: HostPorts(s)}
	r.Resources[corev1.ResourcePods] = 1
	if s.RuntimeClassName != nil {
		r.RuntimeClass = *s.RuntimeClassName
		r.OverheadKnown = len(s.Overhead) > 0
	}
	return r
}

// Defaults returns spec with the API server's defaults that change what a
// Pod asks of a node (SetDefaults_Pod and SetDefaults_ContainerPort in
// pkg/apis/core/v1/defaults.go): a container's limits stand in for requests
// it does not set, and with hostNetwork a container port's hostPort defaults
// to its containerPort. Objects read from the API already carry these
// defaults; applying them again changes nothing. spec is not modified.
func Defaults(spec *corev1.PodSpec) *corev1.PodSpec {
	s := spec.DeepCopy()
	fix := func(cs []corev1.Container) {
		for i := range cs {
			c := &cs[i]
			for k, v := range c.Resources.Limits {
				if _, ok := c.Resources.Requests[k]; !ok {
					if c.Resources.Requests == nil {
						c.Resources.Requests = corev1.ResourceList{}
					}
					c.Resources.Requests[k] = v.DeepCopy()
				}
			}
			if s.HostNetwork {
				for j := range c.Ports {
					if c.Ports[j].HostPort == 0 {
						c.Ports[j].HostPort = c.Ports[j].ContainerPort
					}
				}
			}
		}
	}
	fix(s.InitContainers)
	fix(s.Containers)
	return s
}

// BoundPodRequest returns what a Pod read from the API asks of the node it
// is bound to, as the scheduler's NodeInfo counts it (PodInfo.CalculateResource):
// the effective request, with a resized Pod's status resources
// (UseStatusResources, on since InPlacePodVerticalScaling went GA), plus
// one pods slot. Unlike PodRequest it applies no defaults (the API server
// did) and copies nothing: it runs once per Pod of the cluster.
func BoundPodRequest(p *corev1.Pod) Amounts {
	l := resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{UseStatusResources: true})
	a := FromList(l)
	a[corev1.ResourcePods] = 1
	return a
}

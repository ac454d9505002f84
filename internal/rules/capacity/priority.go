package capacity

import (
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
)

// The two PriorityClasses every cluster has, created by the API server
// (pkg/apis/scheduling/types.go: SystemCriticalPriority = 2e9, and
// system-node-critical 1000 above it). k8s.io/api does not export them.
const (
	SystemClusterCritical         = "system-cluster-critical"
	SystemNodeCritical            = "system-node-critical"
	systemClusterCriticalPriority = int32(2000000000)
	systemNodeCriticalPriority    = systemClusterCriticalPriority + 1000
)

// Priority resolves the priority a Pod created from spec gets, as the
// Priority admission plugin assigns it: spec.priority when set (a Pod read
// back from the API), else the value of the PriorityClass spec names, else
// the globalDefault class's value, else 0. classes are the cluster's
// PriorityClasses; classesRead says whether they could be read. known is
// false when the answer depends on classes that were not read.
func Priority(spec *corev1.PodSpec, classes []schedulingv1.PriorityClass, classesRead bool) (value int32, known bool) {
	if spec.Priority != nil {
		return *spec.Priority, true
	}
	switch spec.PriorityClassName {
	case SystemNodeCritical:
		return systemNodeCriticalPriority, true
	case SystemClusterCritical:
		return systemClusterCriticalPriority, true
	}
	if !classesRead {
		return 0, false
	}
	for i := range classes {
		c := &classes[i]
		if spec.PriorityClassName == "" && c.GlobalDefault {
			return c.Value, true
		}
		if spec.PriorityClassName != "" && c.Name == spec.PriorityClassName {
			return c.Value, true
		}
	}
	// A named class that does not exist: admission would refuse the Pod;
	// no class and no global default: 0.
	return 0, spec.PriorityClassName == ""
}

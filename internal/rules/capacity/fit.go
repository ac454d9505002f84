package capacity

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Shortfall is one resource a Pod needs more of than a node has left.
type Shortfall struct {
	Resource corev1.ResourceName
	// Requested is what the Pod asks, Used what the Pods already on the
	// node request, Allocatable what the node offers.
	Requested, Used, Allocatable int64
	// Unresolvable: the Pod asks more than the node's whole allocatable, so
	// no eviction or preemption can make room.
	Unresolvable bool
}

// String says it as the scheduler does, with the numbers:
// "Insufficient cpu (needs 500m; 3800m of 4000m requested)", the three
// amounts in one unit.
func (s Shortfall) String() string {
	if s.Resource == corev1.ResourcePods {
		return fmt.Sprintf("Too many pods (%d of %d Pod slots used)", s.Used, s.Allocatable)
	}
	return s.StringIn(UnitFor(s.Resource, s.Requested, s.Used, s.Allocatable))
}

// StringIn is String with the amounts in unit u: a message that shows
// other amounts of the resource chooses one unit for all of them.
func (s Shortfall) StringIn(u Unit) string {
	if s.Resource == corev1.ResourcePods {
		return s.String()
	}
	return fmt.Sprintf("Insufficient %s (needs %s; %s of %s requested)", s.Resource,
		FormatIn(s.Resource, s.Requested, u), FormatIn(s.Resource, s.Used, u), FormatIn(s.Resource, s.Allocatable, u))
}

// Fit mirrors the scheduler's fitsRequest (NodeResourcesFit): alloc is the
// node's allocatable, used the summed requests of the Pods already bound to
// it (its pods entry counts them), req the new Pod's request. It returns
// nothing when the Pod fits. Resources the Pod does not request are never
// short; a requested resource the node does not offer is (an extended
// resource such as nvidia.com/gpu on a node without the device plugin).
func Fit(alloc, used, req Amounts) []Shortfall {
	var out []Shortfall
	// used >= alloc, not used+1 > alloc: a saturated count must not wrap.
	if used[corev1.ResourcePods] >= alloc[corev1.ResourcePods] {
		out = append(out, Shortfall{Resource: corev1.ResourcePods, Requested: 1, Used: used[corev1.ResourcePods], Allocatable: alloc[corev1.ResourcePods]})
	}
	for _, name := range req.Names() {
		if name == corev1.ResourcePods {
			continue
		}
		need := req[name]
		if need <= 0 {
			continue
		}
		if need > alloc[name]-used[name] {
			out = append(out, Shortfall{Resource: name, Requested: need, Used: used[name], Allocatable: alloc[name], Unresolvable: need > alloc[name]})
		}
	}
	return out
}

// Daemon is one DaemonSet's Pod as a candidate for a node.
type Daemon struct {
	// Name identifies it in results (namespace/name).
	Name string
	// Priority is the Pod's priority (its PriorityClass's value).
	Priority int32
	Request  Request
}

// LeftOut is a daemon that does not fit on a node once the daemons placed
// before it are there.
type LeftOut struct {
	Daemon     string
	Shortfalls []Shortfall
	// Ports are its host ports already held by a placed daemon, and by
	// which one (HeldBy, parallel to Ports).
	Ports  []PortClash
	HeldBy []string
}

// Placement is the outcome of placing a node's daemons on it.
type Placement struct {
	// Overhead is what all the daemons that should run on the node request
	// together, whether or not they fit.
	Overhead Amounts
	// Placed are the daemons that fit, in placement order.
	Placed []string
	// LeftOut are the daemons that do not, in placement order.
	LeftOut []LeftOut
}

// Place puts daemons on a node with allocatable alloc, on top of what is
// already requested there (used, may be nil), in the order the scheduler's
// preemption converges to: higher priority first (a higher-priority daemon
// Pod preempts a lower one that took its room), then in the given order. A
// daemon that does not fit is left out and the next ones are still tried,
// as smaller ones may fit in what is left.
func Place(alloc, used Amounts, daemons []Daemon) Placement {
	order := make([]int, len(daemons))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return daemons[order[i]].Priority > daemons[order[j]].Priority })
	p := Placement{Overhead: Amounts{}}
	requested := Amounts{}
	addSat(requested, used)
	type held struct {
		port HostPort
		by   string
	}
	var ports []held
	for _, i := range order {
		d := &daemons[i]
		addSat(p.Overhead, d.Request.Resources)
		lo := LeftOut{Daemon: d.Name, Shortfalls: Fit(alloc, requested, d.Request.Resources)}
		for _, hp := range d.Request.HostPorts {
			for _, h := range ports {
				if Conflicts(hp, h.port) {
					lo.Ports = append(lo.Ports, PortClash{Port: hp, Other: h.port})
					lo.HeldBy = append(lo.HeldBy, h.by)
					break
				}
			}
		}
		if len(lo.Shortfalls) > 0 || len(lo.Ports) > 0 {
			p.LeftOut = append(p.LeftOut, lo)
			continue
		}
		addSat(requested, d.Request.Resources)
		for _, hp := range d.Request.HostPorts {
			ports = append(ports, held{hp, d.Name})
		}
		p.Placed = append(p.Placed, d.Name)
	}
	return p
}

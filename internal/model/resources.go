package model

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Amounts are resource amounts in the scheduler's units: cpu in millicores,
// everything else (memory, ephemeral-storage, hugepages, extended resources,
// pods) in base units. A missing key is zero.
type Amounts map[corev1.ResourceName]int64

// Add adds b to a (a must not be nil).
func (a Amounts) Add(b Amounts) {
	for k, v := range b {
		a[k] += v
	}
}

// Clone returns a copy of a.
func (a Amounts) Clone() Amounts {
	c := make(Amounts, len(a))
	for k, v := range a {
		c[k] = v
	}
	return c
}

// Names returns the resource names with a non-zero amount, in a fixed order:
// cpu, memory, ephemeral-storage, pods, then the rest by name.
func (a Amounts) Names() []corev1.ResourceName {
	var out []corev1.ResourceName
	for k, v := range a {
		if v != 0 {
			out = append(out, k)
		}
	}
	SortNames(out)
	return out
}

// Sub subtracts b from a (a must not be nil).
func (a Amounts) Sub(b Amounts) {
	for k, v := range b {
		a[k] -= v
	}
}

var nameRank = map[corev1.ResourceName]int{
	corev1.ResourceCPU: 0, corev1.ResourceMemory: 1, corev1.ResourceEphemeralStorage: 2, corev1.ResourcePods: 3,
}

// SortNames sorts resource names as Names returns them.
func SortNames(ns []corev1.ResourceName) {
	rank := func(n corev1.ResourceName) int {
		if r, ok := nameRank[n]; ok {
			return r
		}
		return len(nameRank)
	}
	sort.Slice(ns, func(i, j int) bool {
		ri, rj := rank(ns[i]), rank(ns[j])
		if ri != rj {
			return ri < rj
		}
		return ns[i] < ns[j]
	})
}

// HostPort is one host port a Pod claims, sanitized as the scheduler's
// HostPortInfo does: an empty IP is 0.0.0.0 (every address), an empty
// protocol TCP.
type HostPort struct {
	IP       string
	Protocol corev1.Protocol
	Port     int32
	// Container names the container that declares the port (for messages).
	Container string
}

// BindAll is the IP of a host port bound to every address.
const BindAll = "0.0.0.0"

// String renders the port as people write it: "9100/TCP", "10.0.0.1:53/UDP".
func (p HostPort) String() string {
	if p.IP == BindAll {
		return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
	}
	return fmt.Sprintf("%s:%d/%s", p.IP, p.Port, p.Protocol)
}

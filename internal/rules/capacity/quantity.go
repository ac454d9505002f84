package capacity

import (
	"fmt"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// The scheduler counts cpu in int64 millicores and everything else in int64
// base units (resource.Quantity's MilliValue and Value). A Quantity holds
// any decimal, so a request of "1e16" cpu (10^19 millicores) or an
// extended resource of 2^63 does not fit: MilliValue and Value then wrap
// without a word (1e16 cpu reads as 0m, 2^63 as -2^63), and a daemon that
// can never fit would pass the fit check, or a node that holds everything
// would hold nothing. Every conversion of an amount for fit arithmetic goes
// through Amount, which refuses what does not fit instead.

var (
	maxMilli = resource.NewMilliQuantity(math.MaxInt64, resource.DecimalSI)
	maxUnits = resource.NewQuantity(math.MaxInt64, resource.DecimalSI)
)

// Amount converts a quantity of resource name to the scheduler's unit
// (millicores for cpu, else base units): an error when it is negative (the
// API server refuses negative requests and allocatable) or more than an
// int64 of that unit holds. A fractional amount is rounded up, as
// MilliValue and Value do.
func Amount(name corev1.ResourceName, q resource.Quantity) (int64, error) {
	if q.Sign() < 0 {
		return 0, fmt.Errorf("%s %s: must not be negative", name, q.String())
	}
	if name == corev1.ResourceCPU {
		if q.Cmp(*maxMilli) > 0 {
			return 0, fmt.Errorf("%s %s: more than the scheduler can count (at most %s, %d millicores in an int64)", name, q.String(), maxMilli.String(), int64(math.MaxInt64))
		}
		return q.MilliValue(), nil
	}
	if q.Cmp(*maxUnits) > 0 {
		return 0, fmt.Errorf("%s %s: more than the scheduler can count (at most %d in an int64)", name, q.String(), int64(math.MaxInt64))
	}
	return q.Value(), nil
}

// ToAmounts converts a ResourceList with Amount; the error names the first
// resource (by name) that does not convert.
func ToAmounts(l corev1.ResourceList) (Amounts, error) {
	a := make(Amounts, len(l))
	for _, name := range sortedNames(l) {
		v, err := Amount(name, l[name])
		if err != nil {
			return nil, err
		}
		a[name] = v
	}
	return a, nil
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// CheckList says whether every amount of a ResourceList converts; field
// is where the list is ("status.allocatable"), for the error.
func CheckList(l corev1.ResourceList, field string) error {
	if _, err := ToAmounts(l); err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	return nil
}

// CheckNode checks the amounts of a Node the fit is judged with: its
// allocatable, and its capacity (what stands in when allocatable is not
// given).
func CheckNode(n *corev1.Node) error {
	if err := CheckList(n.Status.Allocatable, "status.allocatable"); err != nil {
		return err
	}
	return CheckList(n.Status.Capacity, "status.capacity")
}

// CheckPodSpec checks every amount a Pod of spec asks (field is where the
// spec is: "spec.template.spec" for a DaemonSet): each container's and
// init container's requests and limits (a limit stands in for a request
// it does not set), the pod-level resources and the overhead, then the
// effective request they add up to, which may overflow where no single
// amount does.
func CheckPodSpec(spec *corev1.PodSpec, field string) error {
	for _, cs := range []struct {
		list []corev1.Container
		name string
	}{{spec.InitContainers, "initContainers"}, {spec.Containers, "containers"}} {
		for i := range cs.list {
			r := &cs.list[i].Resources
			at := fmt.Sprintf("%s.%s[%d].resources", field, cs.name, i)
			if err := CheckList(r.Requests, at+".requests"); err != nil {
				return err
			}
			if err := CheckList(r.Limits, at+".limits"); err != nil {
				return err
			}
		}
	}
	if r := spec.Resources; r != nil {
		if err := CheckList(r.Requests, field+".resources.requests"); err != nil {
			return err
		}
		if err := CheckList(r.Limits, field+".resources.limits"); err != nil {
			return err
		}
	}
	if err := CheckList(spec.Overhead, field+".overhead"); err != nil {
		return err
	}
	total := resourcehelper.PodRequests(&corev1.Pod{Spec: *Defaults(spec)}, resourcehelper.PodResourcesOptions{})
	if _, err := ToAmounts(total); err != nil {
		return fmt.Errorf("%s: the Pod's effective request (its containers' requests added up): %w", field, err)
	}
	return nil
}

// fromListSaturated converts a ResourceList for the arithmetic of objects
// that were checked when read (CheckNode, CheckPodSpec): there it is exact.
// Should an unchecked amount come by, it never wraps: more than an int64
// holds counts as math.MaxInt64 (more than any node offers; a request so
// large never fits), a negative one as 0.
func fromListSaturated(l corev1.ResourceList) Amounts {
	a := make(Amounts, len(l))
	for name, q := range l {
		v, err := Amount(name, q)
		if err != nil && q.Sign() > 0 {
			v = math.MaxInt64
		}
		a[name] = v
	}
	return a
}

// addSat adds b to a, saturating at math.MaxInt64: the daemons of a node
// together may ask more than an int64 holds even when each fits in one.
func addSat(a, b Amounts) {
	for k, v := range b {
		a[k] = satAdd(a[k], v)
	}
}

func satAdd(x, y int64) int64 {
	s := x + y
	switch {
	case x > 0 && y > 0 && s < 0:
		return math.MaxInt64
	case x < 0 && y < 0 && s >= 0:
		return math.MinInt64
	}
	return s
}

// Percent is part of whole in percent, rounded half up, without the
// overflow of part*100 for amounts near the int64 bound; 0 when whole is
// not positive.
func Percent(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	if part <= (math.MaxInt64-whole/2)/100 && part >= 0 {
		return int((part*100 + whole/2) / whole)
	}
	return int(math.Round(float64(part) / float64(whole) * 100))
}

// PercentUp is Percent rounded up: the share of a node the daemons take,
// which must not read 0% when they take something, nor 100% before they
// take it all is reached.
func PercentUp(part, whole int64) int {
	if whole <= 0 {
		return 0
	}
	if part <= (math.MaxInt64-whole)/100 && part >= 0 {
		return int((part*100 + whole - 1) / whole)
	}
	return int(math.Ceil(float64(part) / float64(whole) * 100))
}

// CheckSnapshot checks the amounts of what a reader read (CheckNode for
// every Node, CheckPodSpec for every DaemonSet's template), naming the
// object and the field of the first that does not convert. The offline
// reader checks each object as it decodes it (naming the file); this is
// the same check for the live reader's objects: an API server stores a
// quantity of any size (it refuses only negative ones), and the
// scheduler's own int64 arithmetic wraps on such a value, so no verdict
// about that node or daemon can be trusted.
func CheckSnapshot(snap *model.Snapshot) error {
	for i := range snap.Nodes {
		if err := CheckNode(&snap.Nodes[i]); err != nil {
			return fmt.Errorf("node %s: %w", snap.Nodes[i].Name, err)
		}
	}
	for i := range snap.DaemonSets {
		ds := &snap.DaemonSets[i]
		if err := CheckPodSpec(&ds.Spec.Template.Spec, "spec.template.spec"); err != nil {
			return fmt.Errorf("daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
		}
	}
	return nil
}

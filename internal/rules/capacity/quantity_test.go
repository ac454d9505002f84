package capacity

import (
	"math"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestAmountRefusesWhatAnInt64CannotHold(t *testing.T) {
	for _, c := range []struct {
		name corev1.ResourceName
		q    string
		want int64
		err  string
	}{
		{"cpu", "250m", 250, ""},
		{"cpu", "0.1m", 1, ""}, // rounded up, as MilliValue does
		{"cpu", "9223372036854775807m", math.MaxInt64, ""},
		{"cpu", "9223372036854775.807", math.MaxInt64, ""},
		{"cpu", "9223372036854775.8071", 0, "more than the scheduler can count"},
		{"cpu", "1e16", 0, "more than the scheduler can count"}, // MilliValue: 0
		{"cpu", "9223372036854775807", 0, "more than the scheduler can count"},
		{"memory", "9223372036854775807", math.MaxInt64, ""},
		{"memory", "16Gi", 16 << 30, ""},
		{"example.com/dev", "9223372036854775808", 0, "more than the scheduler can count"}, // Value: -2^63
		{"example.com/dev", "1e300", 0, "more than the scheduler can count"},
		{"memory", "-1", 0, "must not be negative"},
		{"cpu", "-100m", 0, "must not be negative"},
	} {
		got, err := Amount(c.name, resource.MustParse(c.q))
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("Amount(%s, %s) = %d, %v; want %d", c.name, c.q, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), string(c.name))):
			t.Errorf("Amount(%s, %s) = %d, %v; want an error naming %s with %q", c.name, c.q, got, err, c.name, c.err)
		}
	}
}

func TestCheckPodSpecNamesTheField(t *testing.T) {
	big := resource.MustParse("5e18")
	for _, c := range []struct {
		name string
		spec corev1.PodSpec
		err  string
	}{
		{"fits", corev1.PodSpec{Containers: []corev1.Container{ctr("a", res("cpu", "1", "memory", "1Gi"))}}, ""},
		{"cpu overflows millicores", corev1.PodSpec{Containers: []corev1.Container{ctr("a", res("memory", "1Gi")), ctr("b", res("cpu", "1e16"))}},
			"spec.containers[1].resources.requests: cpu 10e15: more than"},
		{"extended resource of 2^63", corev1.PodSpec{Containers: []corev1.Container{ctr("a", res("example.com/dev", "9223372036854775808"))}},
			"spec.containers[0].resources.requests: example.com/dev"},
		{"limit that stands in for a request", corev1.PodSpec{InitContainers: []corev1.Container{{Name: "i", Resources: corev1.ResourceRequirements{Limits: res("cpu", "1e17")}}}},
			"spec.initContainers[0].resources.limits: cpu"},
		{"negative request", corev1.PodSpec{Containers: []corev1.Container{ctr("a", res("memory", "-1Gi"))}},
			"spec.containers[0].resources.requests: memory -1Gi: must not be negative"},
		{"overhead", corev1.PodSpec{Overhead: res("cpu", "1e17")}, "spec.overhead: cpu"},
		{"sum of containers overflows", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", corev1.ResourceList{"memory": big}), ctr("b", corev1.ResourceList{"memory": big}),
		}}, "spec: the Pod's effective request (its containers' requests added up): memory 10e18: more than"},
	} {
		err := CheckPodSpec(&c.spec, "spec")
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.err)
		}
	}
}

func TestCheckNodeRefusesOverflowAndNegatives(t *testing.T) {
	n := &corev1.Node{}
	n.Status.Allocatable = res("cpu", "4", "pods", "110", "example.com/dev", "9223372036854775808")
	if err := CheckNode(n); err == nil || !strings.HasPrefix(err.Error(), "status.allocatable: example.com/dev") {
		t.Errorf("overflowing allocatable: %v", err)
	}
	n.Status.Allocatable = nil
	n.Status.Capacity = res("memory", "-4Gi")
	if err := CheckNode(n); err == nil || !strings.HasPrefix(err.Error(), "status.capacity: memory -4Gi: must not be negative") {
		t.Errorf("negative capacity: %v", err)
	}
}

// Amounts near the int64 bound, each valid, never wrap when the daemons
// of a node add up: the one that does not fit is left out, the Pod slots
// are counted without overflow.
func TestPlaceDoesNotWrapNearTheBound(t *testing.T) {
	huge := int64(6e18)
	d := func(name string) Daemon {
		return Daemon{Name: name, Request: Request{Resources: Amounts{"memory": huge, "pods": 1}}}
	}
	p := Place(Amounts{"memory": math.MaxInt64, "pods": 110}, nil, []Daemon{d("a"), d("b"), d("c")})
	if len(p.Placed) != 1 || len(p.LeftOut) != 2 {
		t.Fatalf("placed %v, left out %v: want a placed, b and c left out", p.Placed, p.LeftOut)
	}
	if p.Overhead["memory"] != math.MaxInt64 {
		t.Errorf("overhead %d: want it saturated at MaxInt64, not wrapped", p.Overhead["memory"])
	}
	if s := Fit(Amounts{"pods": 110}, Amounts{"pods": math.MaxInt64}, Amounts{"pods": 1}); len(s) != 1 {
		t.Errorf("a saturated Pod count must leave no slot: %v", s)
	}
	if got := FromList(res("cpu", "1e16")); got["cpu"] != math.MaxInt64 {
		t.Errorf("FromList of an unchecked 1e16 cpu = %d, want it saturated", got["cpu"])
	}
	if got := Percent(math.MaxInt64, math.MaxInt64); got != 100 {
		t.Errorf("Percent at the bound = %d", got)
	}
	if got := Percent(250, 4000); got != 6 {
		t.Errorf("Percent(250, 4000) = %d", got)
	}
}

func TestPercentUpRoundsUpWithoutOverflow(t *testing.T) {
	cases := []struct {
		part, whole int64
		want        int
	}{
		{0, 100, 0}, {1, 1000, 1}, {999, 1000, 100}, {1000, 1000, 100}, {2020, 1930, 105},
		{math.MaxInt64, math.MaxInt64, 100}, {math.MaxInt64 / 2, math.MaxInt64, 50}, {5, 0, 0},
	}
	for _, c := range cases {
		if got := PercentUp(c.part, c.whole); got != c.want {
			t.Errorf("PercentUp(%d, %d) = %d, want %d", c.part, c.whole, got, c.want)
		}
	}
}

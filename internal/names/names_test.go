package names

import (
	"fmt"
	"reflect"
	"testing"
)

func TestSortNatural(t *testing.T) {
	ns := []string{"node-10", "node-9", "node-1", "gpu-2", "node-09", "a"}
	Sort(ns)
	if want := []string{"a", "gpu-2", "node-1", "node-9", "node-09", "node-10"}; !reflect.DeepEqual(ns, want) {
		t.Errorf("got %v, want %v", ns, want)
	}
}

func TestRange(t *testing.T) {
	seq := func(prefix string, width, lo, hi int, skip ...int) []string {
		var out []string
	next:
		for i := lo; i <= hi; i++ {
			for _, s := range skip {
				if s == i {
					continue next
				}
			}
			out = append(out, fmt.Sprintf("%s%0*d", prefix, width, i))
		}
		return out
	}
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"worker-3"}, "worker-3"},
		{seq("worker-", 0, 1, 6), "worker-1…6"},
		{seq("worker-", 2, 1, 24, 7), "worker-01…24 except 07"},
		{append(seq("gpu-", 0, 1, 3), seq("gpu-", 0, 7, 9)...), "gpu-1…3, gpu-7…9"},
		{[]string{"cp", "worker-1", "worker-2"}, "cp, worker-1…2"},
		{[]string{"n1", "n3", "n5", "n7", "n9", "n11", "n13", "n15"}, "n1, n3, n5, n7, n9, +3 more"},
		{seq("ip-10-0-0-", 0, 1, 3000), "ip-10-0-0-1…3000"},
	} {
		if got := Range(tc.in); got != tc.want {
			t.Errorf("Range(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRangeOrdersPartsNaturally(t *testing.T) {
	got := Range([]string{"worker-b3", "worker-b4", "worker-b5", "worker-a10", "control-plane", "worker-a9", "worker-c1", "worker-a8"})
	if want := "control-plane, worker-a8…10, worker-b3…5, worker-c1"; got != want {
		t.Fatalf("Range = %q, want %q", got, want)
	}
}

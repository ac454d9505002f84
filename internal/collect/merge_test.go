package collect

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

func TestKeyLessMatchesJoinedKey(t *testing.T) {
	names := []string{"", "a", "a-b", "a/b", "ab", "b", "a.", "kube-system", "kube"}
	for _, ns1 := range names {
		for _, n1 := range names {
			for _, ns2 := range names {
				for _, n2 := range names {
					want := ns1+"/"+n1 < ns2+"/"+n2
					if got := KeyLess(ns1, n1, ns2, n2); got != want {
						t.Fatalf("KeyLess(%q, %q, %q, %q) = %v, want %v", ns1, n1, ns2, n2, got, want)
					}
				}
			}
		}
	}
}

func TestMergePodsSortsDedupsExactSize(t *testing.T) {
	pod := func(ns, name string) model.DaemonPod {
		return model.DaemonPod{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name)}
	}
	pages := [][]model.DaemonPod{
		{pod("kube-system", "b"), pod("kube", "z")},
		{pod("kube-system", "a"), pod("kube-system", "b")}, // b again: two selectors matched it
		nil,
		{pod("a-b", "x")},
	}
	got := mergePods(pages)
	var keys []string
	for _, p := range got {
		keys = append(keys, p.Namespace+"/"+p.Name)
	}
	if want := "[a-b/x kube-system/a kube-system/b kube/z]"; fmt.Sprint(keys) != want {
		t.Fatalf("mergePods = %v, want %s", keys, want)
	}
	if cap(got) != len(got) {
		t.Fatalf("cap %d != len %d", cap(got), len(got))
	}
}

func TestConcat(t *testing.T) {
	if got := concat([][]int{{1, 2}, nil, {3}}); fmt.Sprint(got) != "[1 2 3]" || cap(got) != 3 {
		t.Fatalf("concat = %v (cap %d)", got, cap(got))
	}
}

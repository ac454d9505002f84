package collect

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

func TestLiveReadsAdvancedDaemonSets(t *testing.T) {
	snap, err := Live(context.Background(), collecttest.KruiseCluster("v1alpha1", nil), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 2 || len(snap.Kruise) != 1 || len(snap.NotServed) != 0 || len(snap.Missing) != 0 {
		t.Fatalf("read %d DaemonSets, kruise %v, not served %v, missing %v", len(snap.DaemonSets), snap.Kruise, snap.NotServed, snap.Missing)
	}
	owners := map[string]string{}
	for _, p := range snap.DaemonPods {
		owners[p.Name] = p.OwnerGroup
	}
	if len(snap.DaemonPods) != 2 || !model.IsKruise(&snap.DaemonSets[1]) || !slicesContains(owners, model.KruiseGroup) {
		t.Fatalf("pods %v (want both, the Advanced DaemonSet's with its group), daemonsets %v", owners, snap.DaemonSets)
	}
}

func TestLiveAdvancedDaemonSetsNotServedOrForbidden(t *testing.T) {
	snap, err := Live(context.Background(), collecttest.KruiseCluster("", nil), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Not served: nothing to read, nothing missing; the Pod that names an
	// apps.kruise.io owner is no core DaemonSet's.
	if len(snap.NotServed) != 1 || snap.NotServed[0].Kind != model.KruiseDaemonSets || len(snap.Missing) != 0 || len(snap.DaemonPods) != 1 {
		t.Fatalf("not served %v, missing %v, pods %d", snap.NotServed, snap.Missing, len(snap.DaemonPods))
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps.kruise.io", Resource: "daemonsets"}, "", nil)
	snap, err = Live(context.Background(), collecttest.KruiseCluster("v1alpha1", forbidden), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	gap, ok := snap.Missing[model.KruiseDaemonSets]
	if !ok || gap.Rule != "apiGroups: [apps.kruise.io], resources: [daemonsets], verbs: [get, list]" || len(snap.NotServed) != 0 {
		t.Fatalf("missing %v, not served %v: want unread with the RBAC rule", snap.Missing, snap.NotServed)
	}
}

func slicesContains(m map[string]string, v string) bool {
	for _, x := range m {
		if x == v {
			return true
		}
	}
	return false
}

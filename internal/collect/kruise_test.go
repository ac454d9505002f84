package collect

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/kruise"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// kruiseFake adds the KruiseClient calls to a fake clientset: version ""
// is not served; listErr answers every list.
type kruiseFake struct {
	*collecttest.Client
	version string
	items   []kruise.Object
	listErr error
}

func (k *kruiseFake) KruiseDaemonSetVersion(context.Context) (string, error) { return k.version, nil }

func (k *kruiseFake) ListKruiseDaemonSets(_ context.Context, _, ns string, _ metav1.ListOptions) ([]kruise.Object, metav1.ListMeta, error) {
	if k.listErr != nil {
		return nil, metav1.ListMeta{}, k.listErr
	}
	var out []kruise.Object
	for _, o := range k.items {
		if ns == "" || o.Namespace == ns {
			out = append(out, o)
		}
	}
	return out, metav1.ListMeta{}, nil
}

// kruiseCluster is a core DaemonSet and an Advanced one, each with a Pod on
// n1 carrying the same labels: the owner reference's group tells them apart.
func kruiseCluster(version string, listErr error) *kruiseFake {
	core := fixture.DaemonSet("agents", "a")
	adv := fixture.DaemonSet("agents", "b")
	adv.Spec.Selector = core.Spec.Selector // both select every Pod below
	n1 := fixture.Node("n1")
	p1 := fixture.Pod(&core, "n1")
	p2 := fixture.Pod(&adv, "n1")
	p2.OwnerReferences[0].APIVersion = "apps.kruise.io/v1alpha1"
	p2.Labels["app.kubernetes.io/name"] = "a"
	cs := fake.NewClientset([]runtime.Object{&core, &n1, &p1, &p2}...)
	obj := kruise.Object{TypeMeta: metav1.TypeMeta{APIVersion: "apps.kruise.io/v1alpha1", Kind: "DaemonSet"}, ObjectMeta: adv.ObjectMeta}
	obj.Spec.Selector, obj.Spec.Template = adv.Spec.Selector, adv.Spec.Template
	return &kruiseFake{Client: collecttest.New(cs), version: version, items: []kruise.Object{obj}, listErr: listErr}
}

func TestLiveReadsAdvancedDaemonSets(t *testing.T) {
	snap, err := Live(context.Background(), kruiseCluster("v1alpha1", nil), "https://test", Options{})
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
	snap, err := Live(context.Background(), kruiseCluster("", nil), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Not served: nothing to read, nothing missing; the Pod that names an
	// apps.kruise.io owner is no core DaemonSet's.
	if len(snap.NotServed) != 1 || snap.NotServed[0].Kind != model.KruiseDaemonSets || len(snap.Missing) != 0 || len(snap.DaemonPods) != 1 {
		t.Fatalf("not served %v, missing %v, pods %d", snap.NotServed, snap.Missing, len(snap.DaemonPods))
	}
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "apps.kruise.io", Resource: "daemonsets"}, "", nil)
	snap, err = Live(context.Background(), kruiseCluster("v1alpha1", forbidden), "https://test", Options{})
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

// A watch carries the Advanced DaemonSets of its Live read forward (they
// are not watched): they stay through the core DaemonSets' changes, with
// their Kruise records, and their Pods are watched by their selector.
func TestWatchKeepsAdvancedDaemonSets(t *testing.T) {
	kf := kruiseCluster("v1alpha1", nil)
	cur := &Cursor{}
	snap, err := Live(context.Background(), kf, "https://test", Options{Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Watch(t.Context(), kf, snap, cur, WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	<-w.Ready()
	cs := kf.Interface.(*fake.Clientset)
	core := fixture.DaemonSet("agents", "a")
	core.Labels["changed"] = "yes"
	if _, err := cs.AppsV1().DaemonSets("agents").Update(context.Background(), &core, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	s := until(t, w, "the core DaemonSet's change", func(s *model.Snapshot) bool {
		for i := range s.DaemonSets {
			if s.DaemonSets[i].Labels["changed"] == "yes" {
				return true
			}
		}
		return false
	})
	if len(s.DaemonSets) != 2 || len(s.Kruise) != 1 || len(s.DaemonPods) != 2 {
		t.Fatalf("after a change: %d DaemonSets, kruise %v, %d pods", len(s.DaemonSets), s.Kruise, len(s.DaemonPods))
	}
}

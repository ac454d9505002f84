package collecttest

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/internal/kruise"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// KruiseClient adds collect.KruiseClient's calls to a fake clientset:
// Version "" is not served; ListErr answers every list.
type KruiseClient struct {
	*Client
	Version string
	Items   []kruise.Object
	ListErr error
}

func (k *KruiseClient) KruiseDaemonSetVersion(context.Context) (string, error) {
	return k.Version, nil
}

func (k *KruiseClient) ListKruiseDaemonSets(_ context.Context, _, ns string, _ metav1.ListOptions) ([]kruise.Object, metav1.ListMeta, error) {
	if k.ListErr != nil {
		return nil, metav1.ListMeta{}, k.ListErr
	}
	var out []kruise.Object
	for _, o := range k.Items {
		if ns == "" || o.Namespace == ns {
			out = append(out, o)
		}
	}
	return out, metav1.ListMeta{}, nil
}

// KruiseCluster is a core DaemonSet (a) and an Advanced one (b) in
// namespace agents, each with a Pod on n1 carrying the same labels: the
// owner reference's group tells them apart.
func KruiseCluster(version string, listErr error) *KruiseClient {
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
	return &KruiseClient{Client: New(cs), Version: version, Items: []kruise.Object{obj}, ListErr: listErr}
}

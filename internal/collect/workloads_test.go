package collect_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// workloadObjects: a daemon Pod (10m cpu, 32Mi) and two workload Pods (1500m cpu each) on n1 (one holding a
// host port, at priority 1000), a finished Pod and an unbound one, and a
// PriorityClass.
func workloadObjects() []runtime.Object {
	ds := fixture.DaemonSet("agents", "a")
	n1 := fixture.Node("n1")
	daemon := fixture.Pod(&ds, "n1")
	prio := int32(1000)
	web := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "web-1", UID: "web-1"},
		Spec: corev1.PodSpec{NodeName: "n1", Priority: &prio, Containers: []corev1.Container{{
			Name: "web", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")}},
			Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80, Protocol: corev1.ProtocolTCP}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	batch := web.DeepCopy()
	batch.Name, batch.UID, batch.Spec.Priority = "batch-1", "batch-1", nil
	batch.Spec.Containers[0].Ports = nil
	done := batch.DeepCopy()
	done.Name, done.UID, done.Status.Phase = "done", "done", corev1.PodSucceeded
	unbound := batch.DeepCopy()
	unbound.Name, unbound.UID, unbound.Spec.NodeName, unbound.Status.Phase = "waiting", "waiting", "", corev1.PodPending
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Value: 1000}
	return []runtime.Object{&ds, &n1, &daemon, &web, batch, done, unbound, pc}
}

func checkWorkloads(t *testing.T, w *model.Workloads) {
	t.Helper()
	if w == nil {
		t.Fatal("no workloads read")
	}
	n := w.Nodes["n1"]
	if w.Pods != 4 || w.Unbound != 1 || n == nil || n.Pods != 3 || n.DaemonPods != 1 || n.WorkloadPods != 2 {
		t.Fatalf("pods %d unbound %d, node %+v: want the finished Pod skipped, the unbound one counted apart", w.Pods, w.Unbound, n)
	}
	if n.Requested["cpu"] != 3010 || n.Requested["memory"] != 32<<20 || n.Requested["pods"] != 3 || n.MaxWorkloadPriority != 1000 {
		t.Errorf("requested %v, max workload priority %d", n.Requested, n.MaxWorkloadPriority)
	}
	if len(n.ByPriority) != 2 || n.ByPriority[0].Priority != 0 || n.ByPriority[0].Pods != 2 || n.ByPriority[1].Requested["cpu"] != 1500 {
		t.Errorf("by priority %+v", n.ByPriority)
	}
	if pods, req := n.Below(1000); pods != 2 || req["cpu"] != 1510 {
		t.Errorf("below 1000: %d Pods, %v", pods, req)
	}
	if len(n.PortHolders) != 1 || n.PortHolders[0].Name != "web-1" || n.PortHolders[0].Ports[0].String() != "80/TCP" {
		t.Errorf("port holders %+v", n.PortHolders)
	}
}

func TestLiveWorkloadsAndPriorityClasses(t *testing.T) {
	cs := fake.NewClientset(workloadObjects()...)
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{ChunkSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Workloads != nil {
		t.Error("Pods of the cluster read without --workloads")
	}
	if !snap.PriorityClassesRead || len(snap.PriorityClasses) != 1 {
		t.Errorf("priority classes: read %v, %v", snap.PriorityClassesRead, snap.PriorityClasses)
	}
	var selectors []string
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() == "" {
			selectors = append(selectors, a.(k8stesting.ListAction).GetListRestrictions().Fields.String())
		}
		return false, nil, nil
	})
	snap, err = collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{ChunkSize: 500, Workloads: true})
	if err != nil {
		t.Fatal(err)
	}
	checkWorkloads(t, snap.Workloads)
	if len(selectors) != 1 || selectors[0] != "status.phase!=Failed,status.phase!=Succeeded" {
		t.Errorf("all-Pods list field selectors %q: want the scheduler's non-terminal selector, one list", selectors)
	}
}

func TestLiveWorkloadsForbidden(t *testing.T) {
	cs := fake.NewClientset(workloadObjects()...)
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetNamespace() != "" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "ci" cannot list resource "pods" at the cluster scope`))
	})
	fixture.Forbid(cs, "priorityclasses")
	snap, err := collect.Live(context.Background(), collecttest.New(cs), "https://test", collect.Options{Workloads: true})
	if err != nil {
		t.Fatal(err)
	}
	gap, ok := snap.Missing[model.AllPods]
	if !ok || snap.Workloads != nil || !strings.Contains(gap.Reason, "cannot list pods") || gap.Rule != `apiGroups: [""], resources: [pods], verbs: [get, list]` {
		t.Errorf("workloads gap %+v (ok %v)", gap, ok)
	}
	gap, ok = snap.Missing[model.PriorityClasses]
	if !ok || snap.PriorityClassesRead || gap.Rule != "apiGroups: [scheduling.k8s.io], resources: [priorityclasses], verbs: [get, list]" {
		t.Errorf("priorityclasses gap %+v (ok %v)", gap, ok)
	}
	if !snap.Has(model.Pods) || len(snap.DaemonPods) != 1 {
		t.Errorf("the daemon Pods must still be read: %v", snap.Missing)
	}
}

func TestFilesWorkloadsAndPriorityClasses(t *testing.T) {
	list := &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, o := range workloadObjects() {
		list.Items = append(list.Items, runtime.RawExtension{Object: o})
	}
	// kubectl prints apiVersion and kind on every item of a mixed List.
	for i := range list.Items {
		o := list.Items[i].Object
		gvks, _, _ := scheme.Scheme.ObjectKinds(o)
		o.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	data, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The same dump twice: every Pod is still counted once.
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := decode.Files([]string{dir}, nil, collect.Options{Workloads: true})
	if err != nil {
		t.Fatal(err)
	}
	checkWorkloads(t, snap.Workloads)
	if !snap.PriorityClassesRead || len(snap.PriorityClasses) != 1 || snap.PriorityClasses[0].Value != 1000 {
		t.Errorf("priority classes: read %v, %+v", snap.PriorityClassesRead, snap.PriorityClasses)
	}
	snap, err = decode.Files([]string{filepath.Join(dir, "a.yaml")}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Workloads != nil || len(snap.Missing) != 0 {
		t.Errorf("without --workloads: workloads %v, missing %v", snap.Workloads, snap.Missing)
	}
	// A dump without PriorityClasses is not partial; the classes are unread.
	noPC := strings.Replace(string(data), "kind: PriorityClass\n", "kind: ConfigMap\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(noPC), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err = decode.Files([]string{filepath.Join(dir, "c.yaml")}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.PriorityClassesRead || len(snap.Missing) != 0 {
		t.Errorf("no PriorityClass in the input: read %v, missing %v", snap.PriorityClassesRead, snap.Missing)
	}
}

// A list restarted after its continue token expired reads every Pod again:
// what the abandoned attempt summed must not count twice.
func TestWorkloadsRestartedListCountsOnce(t *testing.T) {
	objs := workloadObjects()
	web, batch := objs[3].(*corev1.Pod), objs[4].(*corev1.Pod)
	cs := fake.NewClientset()
	calls := 0
	cs.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		calls++
		switch calls {
		case 1:
			return true, &corev1.PodList{ListMeta: metav1.ListMeta{Continue: "t1"}, Items: []corev1.Pod{*web}}, nil
		case 2:
			return true, nil, apierrors.NewResourceExpired("the continue token has expired")
		}
		return true, &corev1.PodList{Items: []corev1.Pod{*web, *batch}}, nil
	})
	w, err := collect.ReadWorkloads(context.Background(), collecttest.New(cs), 1)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || w.Pods != 2 || w.Nodes["n1"].Requested["cpu"] != 3000 {
		t.Errorf("%d calls, %d Pods, node %+v: want the restarted list counted once", calls, w.Pods, w.Nodes["n1"])
	}
}

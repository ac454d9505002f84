package collect_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Both readers honour namespace, name and selector the same way and fail the
// same way for a NAME that is missing or in several namespaces.
func TestReadersShareOneContract(t *testing.T) {
	a1 := fixture.DaemonSet("ns1", "agent")
	a2 := fixture.DaemonSet("ns2", "agent")
	b := fixture.DaemonSet("ns1", "other")
	b.Labels = map[string]string{"tier": "x"}
	n := fixture.Node("n1")
	pa1, pa2, pb := fixture.Pod(&a1, "n1"), fixture.Pod(&a2, "n1"), fixture.Pod(&b, "n1")
	objs := []runtime.Object{&a1, &a2, &b, &n, &pa1, &pa2, &pb}

	list := &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}}
	for _, o := range objs {
		list.Items = append(list.Items, runtime.RawExtension{Object: o})
	}
	data, err := yaml.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dump.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	readers := map[string]func(collect.Options) (*model.Snapshot, error){
		"live": func(o collect.Options) (*model.Snapshot, error) {
			return collect.Live(context.Background(), collecttest.New(fake.NewClientset(objs...)), "https://test", o)
		},
		"files": func(o collect.Options) (*model.Snapshot, error) { return decode.Files([]string{file}, nil, o) },
	}
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			snap, err := read(collect.Options{Namespace: "ns1"})
			if err != nil || len(snap.DaemonSets) != 2 || len(snap.DaemonPods) != 2 {
				t.Fatalf("-n ns1: %v, %d DaemonSets, %d Pods (want 2, 2: only Pods of the DaemonSets read)", err, len(snap.DaemonSets), len(snap.DaemonPods))
			}
			snap, err = read(collect.Options{LabelSelector: "tier=x"})
			if err != nil || len(snap.DaemonSets) != 1 || snap.DaemonSets[0].Name != "other" || len(snap.DaemonPods) != 1 {
				t.Fatalf("-l tier=x: %v, %v", err, snap)
			}
			snap, err = read(collect.Options{Namespace: "ns2", Name: "agent"})
			if err != nil || len(snap.DaemonSets) != 1 || snap.DaemonSets[0].Namespace != "ns2" {
				t.Fatalf("ns2/agent: %v", err)
			}
			var nf *collect.NotFoundError
			if _, err := read(collect.Options{Namespace: "ns2", Name: "nope"}); !errors.As(err, &nf) {
				t.Errorf("missing NAME: want collect.NotFoundError, got %v", err)
			}
			var amb *collect.AmbiguousError
			if _, err := read(collect.Options{Name: "agent"}); !errors.As(err, &amb) || len(amb.Namespaces) != 2 {
				t.Errorf("NAME in two namespaces: want collect.AmbiguousError, got %v", err)
			}
		})
	}
}

// An empty typed List is "read, none"; a kind absent from the input is "not
// read" (issue: an empty PodList must not make the report partial).
func TestFilesEmptyListIsRead(t *testing.T) {
	ds := fixture.DaemonSet("ns", "d")
	n := fixture.Node("n1")
	dir := t.TempDir()
	write := func(name string, o any) {
		data, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ds.yaml", &ds)
	write("node.yaml", &n)
	snap, err := decode.Files([]string{dir}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Has(model.Pods) {
		t.Fatal("no Pods in the input: Pods must be marked not read")
	}
	write("pods.yaml", &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}})
	snap, err = decode.Files([]string{dir}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Has(model.Pods) {
		t.Fatalf("an empty PodList means the Pods were read and there are none: %v", snap.Missing)
	}
}

// The readers keep what the controller's ClaimPods looks at
// (controller_ref_manager.go ClaimObject): owned Pods whatever their labels
// (the analysis decides about release), and orphans in the DaemonSet's
// namespace that match its selector and are not being deleted (adoption).
func TestKeepPodClaims(t *testing.T) {
	ds := fixture.DaemonSet("ns1", "agent")
	own := collect.Owners([]appsv1.DaemonSet{ds})
	compact := func(mut func(p *corev1.Pod)) model.DaemonPod {
		p := fixture.Pod(&ds, "n1")
		mut(&p)
		return collect.Compact(&p)
	}
	for _, tc := range []struct {
		name string
		mut  func(p *corev1.Pod)
		keep bool
	}{
		{"owned", func(*corev1.Pod) {}, true},
		{"owned, relabelled", func(p *corev1.Pod) { p.Labels = map[string]string{"x": "y"} }, true},
		{"other controller", func(p *corev1.Pod) { p.OwnerReferences[0].UID = "other" }, false},
		{"orphan matching", func(p *corev1.Pod) { p.OwnerReferences = nil }, true},
		{"orphan, other namespace", func(p *corev1.Pod) { p.OwnerReferences = nil; p.Namespace = "ns2" }, false},
		{"orphan, not matching", func(p *corev1.Pod) { p.OwnerReferences = nil; p.Labels = map[string]string{"x": "y"} }, false},
		{"orphan, being deleted", func(p *corev1.Pod) { p.OwnerReferences = nil; p.DeletionTimestamp = &metav1.Time{} }, false},
		{"non-controller owner ref only", func(p *corev1.Pod) { p.OwnerReferences[0].Controller = nil }, true},
	} {
		p := compact(tc.mut)
		if got := collect.KeepPod(&p, own); got != tc.keep {
			t.Errorf("%s: collect.KeepPod = %v, want %v", tc.name, got, tc.keep)
		}
	}
	deleting := ds.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{}
	p := compact(func(p *corev1.Pod) { p.OwnerReferences = nil })
	if collect.KeepPod(&p, collect.Owners([]appsv1.DaemonSet{*deleting})) {
		t.Error("a DaemonSet being deleted adopts nothing")
	}
}

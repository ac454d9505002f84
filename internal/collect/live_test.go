package collect

import (
	"context"
	"errors"
	"strings"
	"testing"

	fakediscovery "k8s.io/client-go/discovery/fake"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestLiveReadsAndTrims(t *testing.T) {
	snap, err := Live(context.Background(), collecttest.New(collecttest.Fixture()), "https://test", Options{ChunkSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.DaemonSets) != 2 || len(snap.Nodes) != 1 || len(snap.ControllerRevisions) != 1 {
		t.Fatalf("read %d ds, %d nodes, %d revs", len(snap.DaemonSets), len(snap.Nodes), len(snap.ControllerRevisions))
	}
	if len(snap.DaemonPods) != 1 || snap.DaemonPods[0].Name == "stray" {
		t.Fatalf("pods %v: only owned Pods are kept, compacted", snap.DaemonPods)
	}
	if p := snap.DaemonPods[0]; snap.Nodes[0].Status.Images != nil || p.NodeName != "n1" || !p.HasTarget || p.TargetNode != "n1" || !p.Ready || p.OwnerKind != "DaemonSet" {
		t.Errorf("objects not reduced to what the analysis reads: %+v", p)
	}
	if len(snap.Missing) != 0 {
		t.Errorf("missing %v", snap.Missing)
	}
}

func TestLiveForbiddenIsPartial(t *testing.T) {
	for _, res := range []string{"nodes", "pods", "controllerrevisions", "events"} {
		t.Run(res, func(t *testing.T) {
			cs := collecttest.Fixture()
			fixture.Forbid(cs, res)
			snap, err := Live(context.Background(), collecttest.New(cs), "https://test", Options{ChunkSize: 500})
			if err != nil {
				t.Fatalf("a Forbidden %s list must not fail the read: %v", res, err)
			}
			why, missing := snap.Missing[model.Kind(res)]
			if !missing || !strings.Contains(why.Reason, "cannot list "+res) || why.Rule != rbacRule(res, map[string]string{"daemonsets": "apps", "controllerrevisions": "apps"}[res]) || !strings.Contains(why.Reason, "resources: ["+res+"]") {
				t.Errorf("missing[%s] = %+v", res, why)
			}
			if res == "pods" && len(snap.DaemonPods) != 0 {
				t.Error("a partly read Pod list must be dropped, not used")
			}
		})
	}
	cs := collecttest.Fixture()
	fixture.Forbid(cs, "daemonsets")
	if _, err := Live(context.Background(), collecttest.New(cs), "https://test", Options{}); err == nil || !strings.Contains(err.Error(), "cannot list daemonsets") {
		t.Errorf("daemonsets forbidden: %v", err)
	}
}

func TestLiveNameNotFound(t *testing.T) {
	_, err := Live(context.Background(), collecttest.New(collecttest.Fixture()), "https://test", Options{Namespace: "agents", Name: "nope"})
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("want NotFoundError, got %v", err)
	}
}

func TestLiveServerErrorIsFatal(t *testing.T) {
	cs := collecttest.Fixture()
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection reset by peer")
	})
	if _, err := Live(context.Background(), collecttest.New(cs), "https://test", Options{}); err == nil || !strings.Contains(err.Error(), "listing nodes") {
		t.Errorf("want a fatal error naming the list, got %v", err)
	}
}

// A node that joined after the node list but before the Pod list must not
// make its daemon Pod look orphaned.
func TestLiveConfirmsNodesNamedByPods(t *testing.T) {
	cs := collecttest.Fixture()
	ds := fixture.DaemonSet("agents", "a")
	late := fixture.Node("late")
	gone := fixture.Pod(&ds, "gone", fixture.Named("a-gone"))
	onLate := fixture.Pod(&ds, "late", fixture.Named("a-late"))
	for _, p := range []*corev1.Pod{&gone, &onLate} {
		if _, err := cs.CoreV1().Pods("agents").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The node list does not show "late" yet; a GET does.
	cs.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		n1 := fixture.Node("n1")
		return true, &corev1.NodeList{Items: []corev1.Node{n1}}, nil
	})
	if _, err := cs.CoreV1().Nodes().Create(context.Background(), &late, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	snap, err := Live(context.Background(), collecttest.New(cs), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, n := range snap.Nodes {
		names[n.Name] = true
	}
	if !names["late"] || names["gone"] || len(snap.Nodes) != 2 {
		t.Errorf("nodes %v: want n1 and late (confirmed), not gone", names)
	}
}

// Live records the server's version from discovery (the rules that differ by
// minor version follow it); without an answer it stays unknown.
func TestLiveRecordsServerVersion(t *testing.T) {
	cs := collecttest.Fixture()
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.33.4"}
	snap, err := Live(context.Background(), collecttest.New(cs), "https://test", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.ServerVersion != "v1.33.4" {
		t.Errorf("ServerVersion %q, want v1.33.4", snap.ServerVersion)
	}
}

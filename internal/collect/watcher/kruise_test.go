package watcher

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// A watch carries the Advanced DaemonSets of its Live read forward (they
// are not watched): they stay through the core DaemonSets' changes, with
// their Kruise records, and their Pods are watched by their selector.
func TestWatchKeepsAdvancedDaemonSets(t *testing.T) {
	kf := collecttest.KruiseCluster("v1alpha1", nil)
	cur := &collect.Cursor{}
	snap, err := collect.Live(context.Background(), kf, "https://test", collect.Options{Cursor: cur})
	if err != nil {
		t.Fatal(err)
	}
	w, err := Start(t.Context(), kf, snap, cur, Options{})
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

//go:build e2e

package e2e

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TestSmoke proves the rig: three kwok nodes become Ready, and the real
// DaemonSet controller and scheduler run a DaemonSet on all of them.
func TestSmoke(t *testing.T) {
	s := newScenario(t, "smoke")
	s.plainNodes(3)
	s.createDaemonSet(s.newDaemonSet("agent"))
	ds := s.settle("agent", func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
		return ds.Status.NumberReady == 3
	})
	st := ds.Status
	if st.DesiredNumberScheduled != 3 || st.CurrentNumberScheduled != 3 || st.NumberReady != 3 || st.NumberAvailable != 3 || st.NumberMisscheduled != 0 {
		t.Fatalf("status = %+v, want 3 desired/current/ready/available", st)
	}
	pods, err := daemonPods(s.ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning || !podReady(&p) {
			t.Errorf("pod %s on %s: phase %s ready %v", p.Name, p.Spec.NodeName, p.Status.Phase, podReady(&p))
		}
		seen[p.Spec.NodeName] = true
	}
	if len(pods) != 3 || len(seen) != 3 {
		t.Errorf("want one Pod on each of 3 nodes, got %d Pods on %v", len(pods), seen)
	}
}

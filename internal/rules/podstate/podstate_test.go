package podstate

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

func TestAvailableHonoursMinReadySecondsAndTheBoundaryRule(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	readyFor := func(d time.Duration) *model.DaemonPod {
		return &model.DaemonPod{Ready: true, ReadySince: now.Add(-d)}
	}
	cases := []struct {
		name       string
		pod        *model.DaemonPod
		minReady   int32
		atBoundary bool
		want       bool
	}{
		{"not ready", &model.DaemonPod{}, 0, true, false},
		{"ready, no minReadySeconds", readyFor(0), 0, true, true},
		{"ready for less than minReadySeconds", readyFor(9 * time.Second), 10, true, false},
		{"ready for exactly minReadySeconds counts since v1.34", readyFor(10 * time.Second), 10, true, true},
		{"ready for exactly minReadySeconds did not count before v1.34", readyFor(10 * time.Second), 10, false, false},
		{"ready with no transition time is not available under minReadySeconds", &model.DaemonPod{Ready: true}, 10, true, false},
	}
	for _, c := range cases {
		if got := Available(c.pod, c.minReady, now, c.atBoundary); got != c.want {
			t.Errorf("%s: Available = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestOfExplainsWhyAPodDoesNotServe(t *testing.T) {
	cases := []struct {
		name      string
		pod       model.DaemonPod
		kind      Kind
		state     string
		inDetail  string
		reasonIs  string
		restarted int32
	}{
		{"crash loop names the container and the last exit", model.DaemonPod{NodeName: "n1", Phase: corev1.PodRunning,
			Containers: []model.ContainerState{{Name: "agent", WaitingReason: "CrashLoopBackOff", LastTerminatedReason: "Error", LastExitCode: 2, Restarts: 7}}},
			Unhealthy, "CrashLoopBackOff", "container agent is in CrashLoopBackOff (last exit: Error, code 2)", "CrashLoopBackOff", 7},
		{"unscheduled Pod is pending with the scheduler's reason", model.DaemonPod{Phase: corev1.PodPending, Unschedulable: true, ScheduledReason: "Unschedulable", ScheduledMessage: "0/3 nodes are available"},
			Pending, "Pending", "is not scheduled (Unschedulable): 0/3 nodes are available", "Unschedulable", 0},
		{"bound Pod still creating is pending, not unhealthy", model.DaemonPod{NodeName: "n1", Phase: corev1.PodPending,
			Containers: []model.ContainerState{{Name: "agent", WaitingReason: "ContainerCreating"}}},
			Pending, "ContainerCreating", "container agent is ContainerCreating", "", 0},
		{"running but not ready after an OOM kill", model.DaemonPod{NodeName: "n1", Phase: corev1.PodRunning,
			Containers: []model.ContainerState{{Name: "agent", LastTerminatedReason: "OOMKilled", Restarts: 2}}},
			Unhealthy, "Running", "container agent was OOMKilled; 2 restarts", "OOMKilled", 2},
		{"deleting wins over everything", model.DaemonPod{NodeName: "n1", Deleting: true, Phase: corev1.PodFailed},
			Terminating, "Terminating", "is being deleted", "", 0},
		{"ready running Pod is healthy", model.DaemonPod{NodeName: "n1", Phase: corev1.PodRunning, Ready: true,
			Containers: []model.ContainerState{{Name: "agent", Ready: true}}}, Healthy, "Running", "", "", 0},
	}
	for _, c := range cases {
		h := Of(&c.pod)
		if h.Kind != c.kind || h.State != c.state || h.Reason != c.reasonIs || h.Restarts != c.restarted {
			t.Errorf("%s: got kind %v state %q reason %q restarts %d", c.name, h.Kind, h.State, h.Reason, h.Restarts)
		}
		if c.inDetail == "" && h.Detail != "" || c.inDetail != "" && !strings.Contains(h.Detail, c.inDetail) {
			t.Errorf("%s: detail %q, want it to contain %q", c.name, h.Detail, c.inDetail)
		}
	}
}

func TestSortPutsBoundThenOldestPodFirstAsTheController(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pods := []*model.DaemonPod{
		{Name: "unbound-old", Created: t0},
		{Name: "b-new", NodeName: "n1", Created: t0.Add(2 * time.Minute)},
		{Name: "b-old-z", NodeName: "n1", Created: t0.Add(time.Minute)},
		{Name: "b-old-a", NodeName: "n1", Created: t0.Add(time.Minute)},
	}
	Sort(pods)
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	want := []string{"b-old-a", "b-old-z", "b-new", "unbound-old"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

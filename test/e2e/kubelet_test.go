//go:build e2e

package e2e

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// fakeKubelet plays the kubelet's node-status role for "frozen" nodes (see
// rig.FrozenNodeAnnotation): kwok runs their Pods, the test owns their
// conditions. It refreshes the heartbeat so the node lifecycle controller
// believes exactly the conditions the scenario set.
type fakeKubelet struct {
	mu    sync.Mutex
	nodes map[string]map[corev1.NodeConditionType]corev1.ConditionStatus
	stop  chan struct{}
	done  chan struct{}
}

func (s *scenario) kubelet() *fakeKubelet {
	if s.fk != nil {
		return s.fk
	}
	fk := &fakeKubelet{nodes: map[string]map[corev1.NodeConditionType]corev1.ConditionStatus{}, stop: make(chan struct{}), done: make(chan struct{})}
	s.fk = fk
	go fk.run()
	s.t.Cleanup(func() { close(fk.stop); <-fk.done })
	return fk
}

func (fk *fakeKubelet) run() {
	defer close(fk.done)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-fk.stop:
			return
		case <-tick.C:
			fk.mu.Lock()
			names := make([]string, 0, len(fk.nodes))
			for n := range fk.nodes {
				names = append(names, n)
			}
			fk.mu.Unlock()
			for _, n := range names {
				_ = fk.sync(context.Background(), n, false)
			}
		}
	}
}

func defaultConditions() map[corev1.NodeConditionType]corev1.ConditionStatus {
	return map[corev1.NodeConditionType]corev1.ConditionStatus{
		corev1.NodeReady:              corev1.ConditionTrue,
		corev1.NodeMemoryPressure:     corev1.ConditionFalse,
		corev1.NodeDiskPressure:       corev1.ConditionFalse,
		corev1.NodePIDPressure:        corev1.ConditionFalse,
		corev1.NodeNetworkUnavailable: corev1.ConditionFalse,
	}
}

func conditionsFor(want map[corev1.NodeConditionType]corev1.ConditionStatus, old []corev1.NodeCondition, now metav1.Time) []corev1.NodeCondition {
	var out []corev1.NodeCondition
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeNetworkUnavailable} {
		st := want[t]
		trans := now
		for _, c := range old {
			if c.Type == t && c.Status == st {
				trans = c.LastTransitionTime
			}
		}
		out = append(out, corev1.NodeCondition{Type: t, Status: st, Reason: "E2E" + string(t) + string(st), Message: "set by the daemoncheck e2e suite", LastHeartbeatTime: now, LastTransitionTime: trans})
	}
	return out
}

// sync writes the wanted conditions when they differ or the heartbeat is
// older than 10s (force: always).
func (fk *fakeKubelet) sync(ctx context.Context, name string, force bool) error {
	fk.mu.Lock()
	want := fk.nodes[name]
	fk.mu.Unlock()
	n, err := cluster.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	stale := force
	for _, c := range n.Status.Conditions {
		if w, ok := want[c.Type]; ok && w != c.Status {
			stale = true
		}
		if c.Type == corev1.NodeReady && time.Since(c.LastHeartbeatTime.Time) > 10*time.Second {
			stale = true
		}
	}
	if len(n.Status.Conditions) == 0 {
		stale = true
	}
	if !stale {
		return nil
	}
	n.Status.Conditions = conditionsFor(want, n.Status.Conditions, metav1.Now())
	_, err = cluster.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// set changes some conditions of a frozen node and writes them now.
func (fk *fakeKubelet) set(s *scenario, name string, conds map[corev1.NodeConditionType]corev1.ConditionStatus) {
	s.t.Helper()
	fk.mu.Lock()
	if fk.nodes[name] == nil {
		fk.nodes[name] = defaultConditions()
	}
	for k, v := range conds {
		fk.nodes[name][k] = v
	}
	fk.mu.Unlock()
	var err error
	for i := 0; i < 20; i++ {
		if err = fk.sync(s.ctx, name, true); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	s.t.Fatalf("set conditions of node %s: %v", name, err)
}

// newFrozenNode is newNode for a node whose conditions the test owns: kwok
// runs its Pods but never touches its status. It starts with the given
// conditions (default: Ready, no pressure).
func (s *scenario) newFrozenNode(short string, conds map[corev1.NodeConditionType]corev1.ConditionStatus) *corev1.Node {
	n := s.newNode(short)
	n.Annotations[rig.FrozenNodeAnnotation] = "true"
	want := defaultConditions()
	for k, v := range conds {
		want[k] = v
	}
	fk := s.kubelet()
	fk.mu.Lock()
	fk.nodes[n.Name] = want
	fk.mu.Unlock()
	n.Status.Conditions = conditionsFor(want, nil, metav1.Now())
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}, {Type: corev1.NodeHostName, Address: n.Name}}
	n.Status.Phase = corev1.NodeRunning
	return n
}

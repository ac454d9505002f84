package decode

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// The offline clock is the newest timestamp in the input; a node whose
// kubelet clock runs ahead (its heartbeats dated hours later than the
// other nodes') does not set it, and the run says so.
func TestOfflineClockIgnoresANodeWhoseClockRunsAhead(t *testing.T) {
	at := func(n corev1.Node, ts time.Time) corev1.Node {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.NewTime(ts), LastTransitionTime: metav1.NewTime(ts.Add(-time.Hour))}}
		return n
	}
	base := fixture.Epoch
	nodes := []corev1.Node{at(fixture.Node("a"), base), at(fixture.Node("b"), base.Add(-30*time.Second)), at(fixture.Node("c"), base.Add(-2*time.Minute))}
	dir := t.TempDir()
	write := func(ns []corev1.Node) string {
		list := corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, Items: ns}
		data, err := yaml.Marshal(&list)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "nodes.yaml")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	snap, err := Files([]string{write(nodes)}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.NewestTime.Equal(base) || strings.Contains(strings.Join(snap.Warnings, "\n"), "clock") {
		t.Fatalf("agreeing clocks: newest %s, warnings %q", snap.NewestTime, snap.Warnings)
	}
	skewed := append(slices.Clone(nodes), at(fixture.Node("d"), base.Add(3*time.Hour)))
	snap, err = Files([]string{write(skewed)}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.NewestTime.Equal(base) {
		t.Errorf("analysis clock %s follows the skewed node (want %s)", snap.NewestTime, base)
	}
	if w := strings.Join(snap.Warnings, "\n"); !strings.Contains(w, "node d's clock looks 3h0m30s ahead") {
		t.Errorf("warnings %q", w)
	}
}

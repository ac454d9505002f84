package audit_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Odd shapes: thousands of DaemonSets, nodes with hundreds of
// taints, Pods with very long names. Compare ns/op across sizes to see that
// cost grows linearly (DaemonSets x nodes), not quadratically.
//
//	go test ./internal/audit -run '^$' -bench 'Odd' -benchmem

func oddSnapshot(dss, nodes, taints, nameLen int) *model.Snapshot {
	s := &model.Snapshot{}
	for i := range nodes {
		var opts []fixture.NodeOpt
		for j := range taints {
			opts = append(opts, fixture.WithTaint(fmt.Sprintf("example.com/t%03d", j), "v", corev1.TaintEffectNoSchedule))
		}
		s.Nodes = append(s.Nodes, fixture.Node(fmt.Sprintf("node-%04d", i), opts...))
	}
	for i := range dss {
		opts := []fixture.DSOpt{}
		if i%2 == 0 {
			opts = append(opts, fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists}))
		}
		ds := fixture.DaemonSet(fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("ds-%04d", i), opts...)
		s.DaemonSets = append(s.DaemonSets, ds)
		s.ControllerRevisions = append(s.ControllerRevisions, fixture.Revision(&ds, 1))
		for n := 0; n < nodes; n += 7 {
			name := fmt.Sprintf("%s-%s-%04d", ds.Name, strings.Repeat("x", nameLen), n)
			s.DaemonPods = append(s.DaemonPods, collect.CompactPods(fixture.Pod(&ds, fmt.Sprintf("node-%04d", n), fixture.Named(name)))...)
		}
	}
	return s
}

func benchOdd(b *testing.B, dss, nodes, taints, nameLen int) {
	s := oddSnapshot(dss, nodes, taints, nameLen)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	}
}

func BenchmarkOddDaemonSets500x100(b *testing.B)  { benchOdd(b, 500, 100, 0, 0) }
func BenchmarkOddDaemonSets2000x100(b *testing.B) { benchOdd(b, 2000, 100, 0, 0) }
func BenchmarkOddTaints100(b *testing.B)          { benchOdd(b, 20, 500, 100, 0) }
func BenchmarkOddTaints400(b *testing.B)          { benchOdd(b, 20, 500, 400, 0) }
func BenchmarkOddLongPodNames(b *testing.B)       { benchOdd(b, 20, 500, 0, 200) }

// TestOddShapes runs the odd shapes once for correctness: hundreds of
// untolerated taints are all named, long names survive intact.
func TestOddShapes(t *testing.T) {
	s := oddSnapshot(2, 3, 300, 240)
	rep := audit.Analyze(s, audit.Options{Now: fixture.Epoch})
	for _, dr := range rep.DaemonSets {
		for _, nv := range dr.Nodes {
			if dr.Name == "ds-0001" && (nv.ShouldRun || strings.Count(nv.Reason, "example.com/t") != 300) {
				t.Fatalf("%s on %s: want all 300 taints named, got %q", dr.Name, nv.Name, nv.Reason[:min(len(nv.Reason), 120)])
			}
			if dr.Name == "ds-0000" && !nv.ShouldRun {
				t.Fatalf("%s tolerates everything but skips %s", dr.Name, nv.Name)
			}
		}
		for _, f := range dr.Findings {
			if f.Pod != "" && len(f.Pod) < 240 {
				t.Errorf("pod name cut: %q", f.Pod)
			}
		}
	}
}

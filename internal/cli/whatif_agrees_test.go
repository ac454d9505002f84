package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// whatif on a copy of an existing node says what the audit says of that
// node: which DaemonSets run there, and which are required but kept off
// (WillNotRun vs UncoveredNode). Without a policy neither fails on a
// taint that keeps a DaemonSet off (by design); with one, both fail on
// the same DaemonSets.
func TestWhatIfOnACopyOfEachNodeAgreesWithTheAudit(t *testing.T) {
	snap, err := decode.Files([]string{demo}, nil, collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, policy := range [][]string{nil, {"--require", "security/falco"}, {"--require", "logging/fluent-bit"}} {
		auditOut, _, _ := runCmd(t, "", append([]string{"-f", demo, demoNow, "-o", "json"}, policy...)...)
		audit := decodeReport(t, auditOut)
		compared := 0
		for _, n := range snap.Nodes {
			// The audit's verdict for the node, per DaemonSet.
			runs, uncovered := map[string]bool{}, map[string]bool{}
			for _, ds := range audit.DaemonSets {
				name := ds.Namespace + "/" + ds.Name
				for _, nv := range ds.Nodes {
					if nv.Name == n.Name {
						runs[name] = nv.ShouldRun
					}
				}
				for _, f := range ds.Findings {
					if f.Node == n.Name && f.Type == report.UncoveredNode {
						uncovered[name] = true
					}
				}
			}
			node := corev1.Node{TypeMeta: n.TypeMeta, ObjectMeta: n.ObjectMeta, Spec: n.Spec, Status: corev1.NodeStatus{Allocatable: n.Status.Allocatable, NodeInfo: n.Status.NodeInfo}}
			node.APIVersion, node.Kind = "v1", "Node"
			node.ResourceVersion, node.UID = "", ""
			data, err := yaml.Marshal(&node)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, n.Name+".yaml")
			if err := os.WriteFile(file, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out, errOut, _ := runCmd(t, "", append([]string{"whatif", file, "-f", demo, "-o", "json"}, policy...)...)
			var wi report.WhatIfReport
			if err := json.Unmarshal([]byte(out), &wi); err != nil {
				t.Fatalf("%s: %v (stderr %s)", n.Name, err, errOut)
			}
			if len(wi.Pools) != 1 || len(wi.Pools[0].Shapes) != 1 {
				t.Fatalf("%s: want one pool of one shape, got %+v", n.Name, wi.Pools)
			}
			for _, d := range wi.Pools[0].Shapes[0].DaemonSets {
				name := d.Namespace + "/" + d.Name
				if got, ok := runs[name]; ok && got != d.Runs {
					t.Errorf("%v node %s: %s runs %v in whatif, %v in the audit", policy, n.Name, name, d.Runs, got)
				}
			}
			willNotRun := map[string]bool{}
			for _, f := range wi.Pools[0].Findings {
				if f.Type == report.WhatIfWillNotRun {
					willNotRun[f.DaemonSet] = true
				}
			}
			for name := range runs {
				if willNotRun[name] != uncovered[name] {
					t.Errorf("%v node %s: %s WillNotRun %v in whatif, UncoveredNode %v in the audit", policy, n.Name, name, willNotRun[name], uncovered[name])
				}
			}
			compared++
		}
		if compared < 5 {
			t.Fatalf("compared only %d nodes", compared)
		}
	}
}

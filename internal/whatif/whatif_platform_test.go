package whatif_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// A pool that may create arm64 nodes, in a cluster where the DaemonSet's
// Pods have only ever run on amd64: a warning, not a failure, for the
// platform the Pods never ran on, and nothing for the one they run on.
func TestWhatIfNewPlatform(t *testing.T) {
	amd := func(n string) corev1.Node { return fixture.Node(n, fixture.WithLabel(corev1.LabelArchStable, "amd64")) }
	nodes := []corev1.Node{amd("a1"), amd("a2")}
	agent := fixture.DaemonSet("ns", "agent")
	fresh := fixture.DaemonSet("ns", "idle")
	pods := collect.CompactPods(fixture.Pod(&agent, "a1"), fixture.Pod(&agent, "a2"))
	mixed := karpenter("mixed", fixture.Req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64", "arm64"))
	for _, c := range []struct {
		name string
		snap *model.Snapshot
		pool model.PoolTemplate
		want []string
	}{
		{"arm64 is new to the agent; idle never ran anywhere (nothing known)",
			&model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{agent, fresh}, DaemonPods: pods}, mixed,
			[]string{"NewPlatform ns/agent"}},
		{"an amd64 pool brings nothing new",
			&model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{agent}, DaemonPods: pods},
			karpenter("amd", fixture.Req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64")), nil},
		{"a NodePool that leaves the architecture to Karpenter may bring arm64",
			&model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{agent}, DaemonPods: pods}, karpenter("any"), []string{"NewPlatform ns/agent"}},
		{"a Node manifest of arm64",
			&model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{agent}, DaemonPods: pods},
			model.PoolTemplate{Source: "node.yaml", Kind: "Node", Name: "n9", NodeName: "n9", Labels: map[string]string{corev1.LabelOSStable: "linux", corev1.LabelArchStable: "arm64"}},
			[]string{"NewPlatform ns/agent"}},
		{"Pods on nodes whose architecture is not known: they may run on arm64 already, no warning",
			&model.Snapshot{Nodes: []corev1.Node{fixture.Node("u1"), amd("a2")}, DaemonSets: []appsv1.DaemonSet{agent},
				DaemonPods: collect.CompactPods(fixture.Pod(&agent, "u1"), fixture.Pod(&agent, "a2"))}, mixed, nil},
		{"Pods not read: unknown, no warning",
			func() *model.Snapshot {
				s := &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{agent}}
				s.MarkMissing(model.Pods, "forbidden", "")
				return s
			}(), mixed, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := whatIf(t, c.snap, &model.Proposal{Pools: []model.PoolTemplate{c.pool}}, nil)
			if unread := strings.Contains(strings.Join(rep.Warnings, "\n"), "pods not read: forbidden; on which platforms the DaemonSets run is unknown"); unread != !c.snap.Has(model.Pods) {
				t.Errorf("warnings %q: the unread Pods must be said, and only then", rep.Warnings)
			}
			var got []report.WhatIfFinding
			for _, f := range rep.Pools[0].Findings {
				if f.Type == report.WhatIfNewPlatform {
					got = append(got, f)
				}
			}
			var keys []string
			for _, f := range got {
				keys = append(keys, string(f.Type)+" "+f.DaemonSet)
				if f.Severity != report.SeverityWarning || f.Failing {
					t.Errorf("%s: severity %s failing %v, want a warning that does not fail", f.DaemonSet, f.Severity, f.Failing)
				}
				for _, part := range []string{"whose nodes may be linux/arm64", "they run on linux/amd64", "no match for platform in manifest"} {
					if !strings.Contains(f.Message, part) {
						t.Errorf("message lacks %q: %s", part, f.Message)
					}
				}
				if !strings.Contains(f.Suggestion, "image registry.example.com/agent:v1 has a linux/arm64 variant") || !strings.Contains(f.Suggestion, "nodeSelector kubernetes.io/arch: amd64") {
					t.Errorf("suggestion: %s", f.Suggestion)
				}
			}
			if strings.Join(keys, ";") != strings.Join(c.want, ";") {
				t.Errorf("findings %v, want %v", keys, c.want)
			}
		})
	}
}

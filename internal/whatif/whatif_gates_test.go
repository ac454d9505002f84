package whatif_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// withTemplateLabel sets a Pod template label (a copy: the fixture's
// template shares its labels with the selector).
func withTemplateLabel(k, v string) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) {
		labels := map[string]string{k: v}
		for lk, lv := range ds.Spec.Template.Labels {
			labels[lk] = lv
		}
		ds.Spec.Template.Labels = labels
	}
}

// A startup taint is temporary: a DaemonSet that does not tolerate it
// lands once it is lifted; the one it waits for must tolerate it.
func TestStartupTaintsAreTemporaryExceptForTheirAgent(t *testing.T) {
	const cilium = "node.cilium.io/agent-not-ready"
	ne := corev1.TaintEffectNoExecute
	pool := model.PoolTemplate{Kind: "MachineDeployment", Name: "md", Labels: map[string]string{},
		Taints: []corev1.Taint{{Key: cilium, Value: "true", Effect: ne}}}
	exporter := fixture.DaemonSet("monitoring", "exporter")
	cases := []struct {
		name     string
		agent    appsv1.DaemonSet
		findings []string
		agents   []string
		waits    []string // DaemonSets that land once the gate is lifted
	}{
		{
			name:     "the agent tolerates its gate",
			agent:    fixture.DaemonSet("kube-system", "cilium", withTemplateLabel("k8s-app", "cilium"), fixture.WithToleration(fixture.Exists("", ""))),
			findings: []string{"FitUnknown  md-node"}, agents: []string{"kube-system/cilium"}, waits: []string{"monitoring/exporter"},
		},
		{
			name:     "the agent does not tolerate its gate: deadlock",
			agent:    fixture.DaemonSet("kube-system", "cilium", withTemplateLabel("k8s-app", "cilium")),
			findings: []string{"GateDeadlock kube-system/cilium md-node", "FitUnknown  md-node", "StartupTaintUntolerated  "}, waits: []string{"monitoring/exporter"},
		},
		{
			name:     "a toleration naming the gate with the wrong effect: deadlock",
			agent:    fixture.DaemonSet("kube-system", "taint-remover", fixture.WithToleration(fixture.Exists(cilium, corev1.TaintEffectNoSchedule))),
			findings: []string{"GateDeadlock kube-system/taint-remover md-node", "FitUnknown  md-node", "StartupTaintUntolerated  "}, waits: []string{"monitoring/exporter"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := whatIf(t, &model.Snapshot{DaemonSets: []appsv1.DaemonSet{tc.agent, exporter}}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, nil)
			p := rep.Pools[0]
			if got := findings(p.Findings); !reflect.DeepEqual(got, tc.findings) {
				t.Fatalf("findings %q, want %q", got, tc.findings)
			}
			if st := p.StartupTaints[0]; st.Owner != "cilium" || !strings.Contains(st.RemovedBy, "cilium-operator") || !reflect.DeepEqual(st.Agents, tc.agents) {
				t.Errorf("startup taint %+v, want agents %v", st, tc.agents)
			}
			var waits []string
			for _, d := range p.Shapes[0].DaemonSets {
				if !d.Runs {
					t.Errorf("%s/%s does not run: %s", d.Namespace, d.Name, d.Reason)
				}
				if len(d.WaitsFor) > 0 {
					waits = append(waits, d.Namespace+"/"+d.Name)
				}
			}
			if !reflect.DeepEqual(waits, tc.waits) {
				t.Errorf("waiting for the gate %v, want %v", waits, tc.waits)
			}
			for _, f := range p.Findings {
				if f.Type == report.WhatIfGateDeadlock && (f.Severity != report.SeverityError || !f.Failing ||
					!strings.Contains(f.Message, "the taint is never lifted") || !strings.Contains(f.Suggestion, "add the toleration")) {
					t.Errorf("deadlock finding %+v", f)
				}
			}
		})
	}
}

// A NodePool's own startupTaints are gates too; a gate a controller lifts
// needs no DaemonSet under it.
func TestNodePoolStartupTaintsAndControllerGates(t *testing.T) {
	const key = "example.com/disk-setup"
	remover := fixture.DaemonSet("storage", "disk-setup", fixture.WithToleration(fixture.Exists(key, corev1.TaintEffectNoSchedule)))
	np := model.PoolTemplate{Kind: "NodePool", Name: "gpu", Labels: map[string]string{"karpenter.sh/nodepool": "gpu"},
		StartupTaints: []corev1.Taint{{Key: key, Effect: corev1.TaintEffectNoExecute}}}
	rep := whatIf(t, &model.Snapshot{DaemonSets: []appsv1.DaemonSet{remover}}, &model.Proposal{Pools: []model.PoolTemplate{np}}, nil)
	p := rep.Pools[0]
	if got := findings(p.Findings); !slices.Contains(got, "GateDeadlock storage/disk-setup gpu-node") {
		t.Errorf("findings %q, want the disk-setup deadlock", got)
	}
	if st := p.StartupTaints[0]; st.Owner != "karpenter" {
		t.Errorf("NodePool startup taint %+v, want owner karpenter", st)
	}

	capi := model.PoolTemplate{Kind: "MachineDeployment", Name: "md", Labels: map[string]string{},
		Taints: []corev1.Taint{{Key: "node.cluster.x-k8s.io/uninitialized", Effect: corev1.TaintEffectNoSchedule}}}
	rep = whatIf(t, &model.Snapshot{DaemonSets: []appsv1.DaemonSet{fixture.DaemonSet("monitoring", "exporter")}}, &model.Proposal{Pools: []model.PoolTemplate{capi}}, nil)
	if got := findings(rep.Pools[0].Findings); slices.Contains(got, "StartupTaintUntolerated  ") {
		t.Errorf("Cluster API's own gate wants a DaemonSet to tolerate it: %q", got)
	}
	if st := rep.Pools[0].StartupTaints; len(st) != 1 || st[0].Owner != "cluster-api" {
		t.Errorf("startup taints %+v", st)
	}
}

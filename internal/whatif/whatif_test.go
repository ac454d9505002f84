package whatif_test

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/whatif"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func priorityClass(name string) fixture.DSOpt {
	return func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.PriorityClassName = name }
}

func allocatable(cpu, mem, pods string) fixture.NodeOpt {
	return func(n *corev1.Node) {
		n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu),
			corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse(pods)}
	}
}

func whatIf(t *testing.T, s *model.Snapshot, p *model.Proposal, pol *policy.Policy) *report.WhatIfReport {
	t.Helper()
	rep := whatif.WhatIf(s, p, whatif.WhatIfOptions{Now: fixture.Epoch, Policy: pol})
	// The report is a pure function of its inputs.
	if again := whatif.WhatIf(s, p, whatif.WhatIfOptions{Now: fixture.Epoch, Policy: pol}); !reflect.DeepEqual(rep, again) {
		t.Fatal("two what-ifs of the same inputs differ")
	}
	return rep
}

func findings(fs []report.WhatIfFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f.Type)+" "+f.DaemonSet+" "+strings.Join(append(f.Shapes, f.Nodes...), ","))
	}
	return out
}

func daemonOn(s report.Shape, name string) report.ShapeDaemon {
	for _, d := range s.DaemonSets {
		if d.Name == name {
			return d
		}
	}
	return report.ShapeDaemon{}
}

func shapeNames(p report.PoolWhatIf) []string {
	var out []string
	for _, s := range p.Shapes {
		out = append(out, s.Name)
	}
	return out
}

// karpenter is a NodePool template as the reader makes it.
func karpenter(name string, reqs ...corev1.NodeSelectorRequirement) model.PoolTemplate {
	return model.PoolTemplate{Source: "pool.yaml", Kind: "NodePool", Name: name, Requirements: reqs,
		Labels: map[string]string{"karpenter.sh/nodepool": name, "kubernetes.io/os": "linux"}, MemberLabel: "karpenter.sh/nodepool",
		LabelsAt: "NodePool " + name + " spec.template.metadata.labels", TaintsAt: "NodePool " + name + " spec.template.spec.taints",
		Chosen: []string{"kubernetes.io/arch", "node.kubernetes.io/instance-type", "topology.kubernetes.io/zone"}}
}

// Shapes are the groups of values the selectors can tell apart, crossed:
// an arch only matters when a DaemonSet tests it, an instance type by its
// capacity, and a type the cluster has on one arch is not tried on the other.
func TestShapeEnumeration(t *testing.T) {
	it := corev1.LabelInstanceTypeStable
	nodes := []corev1.Node{
		fixture.Node("m5-1", fixture.WithLabel(it, "m5.xlarge"), fixture.WithLabel("kubernetes.io/arch", "amd64"), allocatable("4", "16Gi", "58")),
		fixture.Node("m6g-1", fixture.WithLabel(it, "m6g.xlarge"), fixture.WithLabel("kubernetes.io/arch", "arm64"), allocatable("4", "16Gi", "58")),
		fixture.Node("c5-1", fixture.WithLabel(it, "c5.xlarge"), fixture.WithLabel("kubernetes.io/arch", "amd64"), allocatable("4", "8Gi", "58")),
	}
	plain := fixture.DaemonSet("kube-system", "proxy", fixture.Requests("cpu", "100m", "memory", "64Mi"))
	amd64Only := fixture.DaemonSet("monitoring", "amd64-agent", fixture.WithNodeSelector("kubernetes.io/arch", "amd64"))
	cases := []struct {
		name   string
		dss    []appsv1.DaemonSet
		pool   model.PoolTemplate
		shapes []string
		varies [][]string
	}{
		{"untested arch is one shape", []appsv1.DaemonSet{plain},
			karpenter("p", fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64", "arm64"), fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge")),
			[]string{"p-node"}, [][]string{nil}},
		{"tested arch splits", []appsv1.DaemonSet{plain, amd64Only},
			karpenter("p", fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64", "arm64")),
			// The instance type is left to Karpenter: the pool has no nodes
			// yet, so any type, fit unknown.
			[]string{"p-amd64", "p-arm64"},
			[][]string{{"kubernetes.io/arch in (amd64)"}, {"kubernetes.io/arch in (arm64)"}}},
		{"unconstrained arch takes the known values", []appsv1.DaemonSet{amd64Only}, karpenter("p"),
			[]string{"p-amd64", "p-arm64"}, [][]string{{"kubernetes.io/arch in (amd64)"}, {"kubernetes.io/arch in (arm64)"}}},
		// m5 and c5 differ in memory: two shapes; m6g is arm64 in the
		// cluster, so it is not paired with amd64 (and m5/c5 not with arm64).
		{"instance types by capacity and arch", []appsv1.DaemonSet{amd64Only},
			karpenter("p", fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge", "c5.xlarge", "m6g.xlarge")),
			[]string{"p-amd64-c5.xlarge", "p-amd64-m5.xlarge", "p-arm64-m6g.xlarge"},
			[][]string{{"kubernetes.io/arch in (amd64)", "node.kubernetes.io/instance-type in (c5.xlarge)"},
				{"kubernetes.io/arch in (amd64)", "node.kubernetes.io/instance-type in (m5.xlarge)"},
				{"kubernetes.io/arch in (arm64)", "node.kubernetes.io/instance-type in (m6g.xlarge)"}}},
		{"NotIn leaves any other value", []appsv1.DaemonSet{fixture.DaemonSet("ns", "spot-only", fixture.WithNodeSelector("karpenter.sh/capacity-type", "spot"))},
			karpenter("p", fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"), fixture.Req("karpenter.sh/capacity-type", corev1.NodeSelectorOpNotIn, "reserved"), fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge")),
			[]string{"p-on-demand", "p-spot"},
			[][]string{{"karpenter.sh/capacity-type in (on-demand)"}, {"karpenter.sh/capacity-type in (spot)"}}},
		{"Gt on a custom key", []appsv1.DaemonSet{fixture.DaemonSet("ns", "new-gen", fixture.WithAffinity(fixture.Term(fixture.Req("example.com/gen", corev1.NodeSelectorOpGt, "5"))))},
			karpenter("p", fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"), fixture.Req("example.com/gen", corev1.NodeSelectorOpGt, "3"), fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge")),
			[]string{"p-4", "p-6"}, [][]string{{"example.com/gen in (4, 5)"}, {"example.com/gen in (6)"}}},
		{"DoesNotExist", []appsv1.DaemonSet{fixture.DaemonSet("ns", "gpu", fixture.WithNodeSelector("gpu", "true"))},
			karpenter("p", fixture.Req("gpu", corev1.NodeSelectorOpDoesNotExist), fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"), fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge")),
			[]string{"p-node"}, [][]string{nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := whatIf(t, &model.Snapshot{Nodes: nodes, DaemonSets: c.dss}, &model.Proposal{Pools: []model.PoolTemplate{c.pool}}, nil)
			p := rep.Pools[0]
			if got := shapeNames(p); !reflect.DeepEqual(got, c.shapes) {
				t.Fatalf("shapes %v, want %v", got, c.shapes)
			}
			for i, s := range p.Shapes {
				if !reflect.DeepEqual(s.Varies, c.varies[i]) {
					t.Errorf("shape %s varies %q, want %q", s.Name, s.Varies, c.varies[i])
				}
			}
		})
	}
}

// taggedPool is a NodePool whose requirements allow k labels two values
// each, and a DaemonSet that selects on all of them: 2^k node shapes the
// selectors tell apart.
func taggedPool(k int) (model.PoolTemplate, appsv1.DaemonSet) {
	var reqs []corev1.NodeSelectorRequirement
	var sel []string
	for i := range k {
		key := fmt.Sprintf("example.com/key-%02d", i)
		reqs = append(reqs, fixture.Req(key, corev1.NodeSelectorOpIn, "a", "b"))
		sel = append(sel, key, "a")
	}
	return karpenter("p", reqs...), fixture.DaemonSet("ns", "picky", fixture.WithNodeSelector(sel...))
}

// Shapes beyond MaxShapes are not judged, and the pool says so with a
// failing finding (a failure may hide there), unless the user accepts
// them; with the bound raised, the failure past the first shapes is found.
func TestShapesBeyondTheBoundFailUnlessAccepted(t *testing.T) {
	pool, picky := taggedPool(6)
	// Required on every node but selecting key-00=a: it would not run on
	// the 32 shapes with key-00=b, the second half of the enumeration.
	req := fixture.Require(t, "ns/late")
	late := fixture.DaemonSet("ns", "late", fixture.WithNodeSelector("example.com/key-00", "a"))
	snap := &model.Snapshot{DaemonSets: []appsv1.DaemonSet{picky, late}}
	prop := &model.Proposal{Pools: []model.PoolTemplate{pool}}
	run := func(max int, accept bool) *report.WhatIfReport {
		return whatif.WhatIf(snap, prop, whatif.WhatIfOptions{Now: fixture.Epoch, Policy: req, MaxShapes: max, AcceptUnjudged: accept})
	}
	rep := run(10, false)
	p := rep.Pools[0]
	if len(p.Shapes) != 10 || p.ShapesAllowed != 64 || p.UnjudgedShapes != 54 || rep.Summary.UnjudgedShapes != 54 {
		t.Fatalf("%d shapes judged, %d allowed, %d unjudged (summary %d); want 10, 64, 54", len(p.Shapes), p.ShapesAllowed, p.UnjudgedShapes, rep.Summary.UnjudgedShapes)
	}
	var nj *report.WhatIfFinding
	for i := range p.Findings {
		if p.Findings[i].Type == report.WhatIfShapesNotJudged {
			nj = &p.Findings[i]
		}
	}
	if nj == nil || !nj.Failing || rep.Summary.Failing == 0 ||
		!strings.Contains(nj.Message, "not judged: 54 node shapes beyond --max-shapes 10 (the requirements allow 64 distinct node shapes; the first 10 were judged)") ||
		!strings.Contains(nj.Suggestion, "--max-shapes to 64") || !strings.Contains(nj.Suggestion, "--accept-unjudged-shapes") {
		t.Fatalf("want a failing ShapesNotJudged finding, got %+v (summary %+v)", nj, rep.Summary)
	}
	if rep.Summary.Failing != 1 {
		t.Errorf("the first 10 shapes are fine; only the unjudged rest fails: %+v", rep.Summary)
	}
	// Accepted: the same finding, a warning; the gate passes on what was
	// judged, as the user chose.
	if rep := run(10, true); rep.Summary.Failing != 0 || rep.Summary.ByType[report.WhatIfShapesNotJudged] != 1 {
		t.Errorf("accepted: summary %+v", rep.Summary)
	}
	// Every shape judged: no such finding, and the failure beyond the
	// first 10 is found.
	rep = run(64, false)
	if rep.Pools[0].UnjudgedShapes != 0 || rep.Summary.ByType[report.WhatIfShapesNotJudged] != 0 || len(rep.Pools[0].Shapes) != 64 || rep.Summary.ByType[report.WhatIfWillNotRun] != 1 {
		t.Errorf("all judged: %d shapes, summary %+v", len(rep.Pools[0].Shapes), rep.Summary)
	}
}

// Enumerating a pool's shapes is bounded before it allocates: 2^20
// shapes with MaxShapes 32 build 32 of them and count the rest (it used
// to build all 2^20 first: 4.9 GB and 114 s).
func TestShapeEnumerationIsBoundedBeforeItAllocates(t *testing.T) {
	pool, picky := taggedPool(20)
	snap := &model.Snapshot{DaemonSets: []appsv1.DaemonSet{picky}}
	prop := &model.Proposal{Pools: []model.PoolTemplate{pool}}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep := whatif.WhatIf(snap, prop, whatif.WhatIfOptions{Now: fixture.Epoch, MaxShapes: 32})
	runtime.ReadMemStats(&after)
	p := rep.Pools[0]
	if len(p.Shapes) != 32 || p.ShapesAllowed != 1<<20 || p.UnjudgedShapes != 1<<20-32 {
		t.Fatalf("%d shapes, %d allowed, %d unjudged", len(p.Shapes), p.ShapesAllowed, p.UnjudgedShapes)
	}
	const limit = 16 << 20
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit {
		t.Errorf("allocated %d MB for 32 shapes of 2^20; want under %d MB", alloc>>20, limit>>20)
	}
}

// Shapes more than an int64 can count are counted exactly and saturate in
// the report's integers.
func TestShapeCountBeyondInt64(t *testing.T) {
	pool, picky := taggedPool(70)
	rep := whatif.WhatIf(&model.Snapshot{DaemonSets: []appsv1.DaemonSet{picky}}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, whatif.WhatIfOptions{Now: fixture.Epoch})
	p := rep.Pools[0]
	if p.ShapesAllowed != math.MaxInt64 || p.UnjudgedShapes != math.MaxInt64 || len(p.Shapes) != whatif.DefaultMaxShapes {
		t.Fatalf("%d shapes, %d allowed, %d unjudged", len(p.Shapes), p.ShapesAllowed, p.UnjudgedShapes)
	}
	if !strings.Contains(findingMessages(p.Findings), "not judged: 1180591620717411303392 node shapes beyond --max-shapes 32") {
		t.Errorf("findings: %s", findingMessages(p.Findings))
	}
}

func findingMessages(fs []report.WhatIfFinding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(string(f.Type) + ": " + f.Message + "\n")
	}
	return b.String()
}

// Integer bounds at the int64 edges do not wrap, and a pool whose
// requirements allow no node fails, naming them: it used to pass with 0
// shapes.
func TestRequirementsThatAllowNoNodeFail(t *testing.T) {
	it := corev1.LabelInstanceTypeStable
	gen := "example.com/gen"
	m5 := fixture.Req(it, corev1.NodeSelectorOpIn, "m5.xlarge")
	amd := fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64")
	op := func(o string, v ...string) corev1.NodeSelectorRequirement {
		return fixture.Req(gen, corev1.NodeSelectorOperator(o), v...)
	}
	nodes := []corev1.Node{fixture.Node("m6g-1", fixture.WithLabel(it, "m6g.xlarge"), fixture.WithLabel("kubernetes.io/arch", "arm64"), allocatable("4", "16Gi", "58"))}
	for _, c := range []struct {
		name   string
		reqs   []corev1.NodeSelectorRequirement
		shapes int
		none   string
	}{
		{"Gte the lowest int64 allows every integer", []corev1.NodeSelectorRequirement{amd, m5, op("Gte", "-9223372036854775808")}, 1, ""},
		{"Lte the highest int64 allows every integer", []corev1.NodeSelectorRequirement{amd, m5, op("Lte", "9223372036854775807")}, 1, ""},
		{"Lt the lowest int64 allows none", []corev1.NodeSelectorRequirement{amd, m5, op("Lt", "-9223372036854775808")}, 0, "example.com/gen Lt [-9223372036854775808] allow no value"},
		{"Gt the highest int64 allows none", []corev1.NodeSelectorRequirement{amd, m5, op("Gt", "9223372036854775807")}, 0, "example.com/gen Gt [9223372036854775807] allow no value"},
		{"Gt above Lt", []corev1.NodeSelectorRequirement{amd, m5, op("Gt", "5"), op("Lt", "3")}, 0, "example.com/gen Gt [5] and example.com/gen Lt [3] allow no value"},
		{"an integer between bounds whose neighbours are excluded", []corev1.NodeSelectorRequirement{amd, m5, op("Gt", "3"), op("Lt", "7"), op("NotIn", "4", "6")}, 1, ""},
		{"every integer between the bounds excluded", []corev1.NodeSelectorRequirement{amd, m5, op("Gte", "4"), op("Lte", "5"), op("NotIn", "4", "5")}, 0, "allow no value"},
		{"In and NotIn of the same value", []corev1.NodeSelectorRequirement{m5, amd, fixture.Req("kubernetes.io/arch", corev1.NodeSelectorOpNotIn, "amd64")}, 0, "kubernetes.io/arch In [amd64] and kubernetes.io/arch NotIn [amd64] allow no value"},
		{"DoesNotExist and In", []corev1.NodeSelectorRequirement{amd, m5, op("DoesNotExist"), op("In", "1")}, 0, "example.com/gen DoesNotExist and example.com/gen In [1] allow no value"},
		{"an instance type only on another arch", []corev1.NodeSelectorRequirement{amd, fixture.Req(it, corev1.NodeSelectorOpIn, "m6g.xlarge")}, 0, "no instance type they allow has, in the cluster, the architecture and OS they allow"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := whatIf(t, &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{fixture.DaemonSet("ns", "agent")}}, &model.Proposal{Pools: []model.PoolTemplate{karpenter("p", c.reqs...)}}, nil)
			p := rep.Pools[0]
			if len(p.Shapes) != c.shapes {
				t.Fatalf("%d shapes, want %d; findings:\n%s", len(p.Shapes), c.shapes, findingMessages(p.Findings))
			}
			msgs := findingMessages(p.Findings)
			if c.none == "" {
				if rep.Summary.ByType[report.WhatIfNoNodeShape] != 0 {
					t.Errorf("unexpected:\n%s", msgs)
				}
				return
			}
			if rep.Summary.Failing == 0 || !strings.Contains(msgs, "NoNodeShape: no node shape satisfies the requirements: ") || !strings.Contains(msgs, c.none) {
				t.Errorf("want a failing NoNodeShape naming %q; failing %d, findings:\n%s", c.none, rep.Summary.Failing, msgs)
			}
		})
	}
}

// Labels a real node carries are filled in and listed; a manifest's own
// values win; what nothing says is assumed, and said so.
func TestLabelFilling(t *testing.T) {
	n := fixture.Node("m5-1", fixture.WithLabel(corev1.LabelInstanceTypeStable, "m5.xlarge"), fixture.WithLabel("kubernetes.io/arch", "amd64"), allocatable("4", "16Gi", "58"))
	pools := []model.PoolTemplate{
		{Source: "node.yaml", Kind: "Node", Name: "bare-1", NodeName: "bare-1", Labels: map[string]string{"kubernetes.io/arch": "arm64", "topology.kubernetes.io/zone": "dc1"}},
		{Source: "flags", Kind: "Flags", Name: "whatif-node", NodeName: "whatif-node", Labels: map[string]string{}, InstanceType: "m5.xlarge"},
	}
	rep := whatIf(t, &model.Snapshot{Nodes: []corev1.Node{n}}, &model.Proposal{Pools: pools}, nil)
	bare := rep.Pools[0]
	want := map[string]string{"kubernetes.io/arch": "arm64", "beta.kubernetes.io/arch": "arm64", "kubernetes.io/os": "linux", "beta.kubernetes.io/os": "linux",
		"kubernetes.io/hostname": "bare-1", "topology.kubernetes.io/zone": "dc1", "failure-domain.beta.kubernetes.io/zone": "dc1"}
	if !reflect.DeepEqual(bare.Shapes[0].Labels, want) {
		t.Errorf("labels %v, want %v", bare.Shapes[0].Labels, want)
	}
	if !reflect.DeepEqual(bare.FilledLabels, []string{"beta.kubernetes.io/arch", "beta.kubernetes.io/os", "failure-domain.beta.kubernetes.io/zone", "kubernetes.io/hostname", "kubernetes.io/os"}) {
		t.Errorf("filled %v", bare.FilledLabels)
	}
	if !reflect.DeepEqual(bare.Notes, []string{"kubernetes.io/os: not stated; assumed linux (give --os)"}) {
		t.Errorf("notes %q", bare.Notes)
	}
	// An instance type with a node in the cluster gives the architecture
	// and the allocatable.
	fl := rep.Pools[1].Shapes[0]
	if fl.Labels["kubernetes.io/arch"] != "amd64" || fl.Labels["beta.kubernetes.io/instance-type"] != "m5.xlarge" || fl.AllocatableFrom != "node m5-1 (instance type m5.xlarge)" || fl.Allocatable["memory"] != "16Gi" {
		t.Errorf("flags shape %+v", fl)
	}
	if !strings.Contains(strings.Join(rep.Pools[1].Notes, "\n"), "kubernetes.io/arch: amd64, as node m5-1 of instance type m5.xlarge") {
		t.Errorf("notes %q", rep.Pools[1].Notes)
	}
}

// Who runs on a proposed pool and why not, the coverage verdict, and the
// fixes. With a coverage policy, the policy alone says what is required
// (a DaemonSet it does not name is required nowhere); without one, a
// DaemonSet is required where it runs, and a taint that keeps one its
// selectors admit off the pool is by design, as the audit says of the same
// exclusion on a real node.
func TestPoolVerdicts(t *testing.T) {
	dss := []appsv1.DaemonSet{
		fixture.DaemonSet("kube-system", "cni", fixture.WithToleration(corev1.Toleration{Operator: corev1.TolerationOpExists}), priorityClass("system-node-critical"), fixture.Requests("cpu", "100m", "memory", "128Mi")),
		fixture.DaemonSet("kube-system", "csi-node", fixture.WithNodeSelector("kubernetes.io/os", "linux"), fixture.Requests("cpu", "30m", "memory", "120Mi")),
		fixture.DaemonSet("gpu", "device-plugin", fixture.WithNodeSelector("accelerator", "nvidia"), fixture.WithToleration(fixture.Exists("nvidia.com/gpu", corev1.TaintEffectNoSchedule))),
		fixture.DaemonSet("ops", "windows-agent", fixture.WithNodeSelector("kubernetes.io/os", "windows")),
		fixture.DaemonSet("security", "agent", fixture.WithToleration(fixture.Exists("nvidia.com/gpu", corev1.TaintEffectNoSchedule)), fixture.WithNodeSelector("tier", "prod")),
	}
	pool := model.PoolTemplate{Source: "pool.yaml", Kind: "NodePool", Name: "gpu", Labels: map[string]string{"accelerator": "nvidia"},
		LabelsAt: "NodePool gpu spec.template.metadata.labels", TaintsAt: "NodePool gpu spec.template.spec.taints",
		Taints:        []corev1.Taint{{Key: "nvidia.com/gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}},
		StartupTaints: []corev1.Taint{{Key: "example.com/agent-not-ready", Effect: corev1.TaintEffectNoExecute}},
		Allocatable:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("58")}, AllocatableFrom: "--allocatable"}
	rep := whatIf(t, &model.Snapshot{DaemonSets: dss}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, fixture.Require(t, "security/agent"))
	p := rep.Pools[0]
	s := p.Shapes[0]
	type v struct {
		runs     bool
		required bool
	}
	want := map[string]v{"cni": {true, false}, "csi-node": {false, false}, "device-plugin": {true, false}, "windows-agent": {false, false}, "agent": {false, true}}
	for name, w := range want {
		d := daemonOn(s, name)
		if d.Runs != w.runs || d.Required != w.required {
			t.Errorf("%s: runs %v required %v (%s), want %+v", name, d.Runs, d.Required, d.RequiredBy, w)
		}
	}
	if by := daemonOn(s, "agent").RequiredBy; by != "--require security/agent" {
		t.Errorf("agent required by %q", by)
	}
	got := findings(p.Findings)
	wantF := []string{"WillNotRun security/agent gpu-node"}
	if !reflect.DeepEqual(got, wantF) {
		t.Fatalf("findings %q, want %q", got, wantF)
	}
	// The fix for the selector: the label to give the pool's nodes
	// through the NodePool.
	if sg := p.Findings[0].Suggestion; !strings.Contains(sg, "add tier=prod to NodePool gpu spec.template.metadata.labels") {
		t.Errorf("agent fix: %s", sg)
	}
	// Without a policy: the DaemonSets that run are required (their fit
	// counts), csi-node kept off by the GPU taint is by design, not a
	// failure; the toleration is still what the shape's row says.
	rep = whatIf(t, &model.Snapshot{DaemonSets: dss}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, nil)
	s = rep.Pools[0].Shapes[0]
	want = map[string]v{"cni": {true, true}, "csi-node": {false, false}, "device-plugin": {true, true}, "windows-agent": {false, false}, "agent": {false, false}}
	for name, w := range want {
		if d := daemonOn(s, name); d.Runs != w.runs || d.Required != w.required {
			t.Errorf("no policy: %s: runs %v required %v (%s), want %+v", name, d.Runs, d.Required, d.RequiredBy, w)
		}
	}
	if got := findings(rep.Pools[0].Findings); len(got) != 0 {
		t.Errorf("no policy: findings %q, want none (the taint keeps csi-node off by design)", got)
	}
	// cni tolerates the startup taint (it may be what removes it); the
	// device plugin lands after.
	if len(p.StartupTaints) != 1 || !reflect.DeepEqual(p.StartupTaints[0].ToleratedBy, []string{"kube-system/cni"}) {
		t.Errorf("startup taints %+v", p.StartupTaints)
	}
	if d := daemonOn(s, "device-plugin"); !reflect.DeepEqual(d.WaitsFor, []string{"example.com/agent-not-ready:NoExecute"}) {
		t.Errorf("device-plugin waits for %v", d.WaitsFor)
	}
	// cni 100m and device-plugin fixture.DaemonSet's default 10m.
	if s.Overhead["cpu"] != "110m" || s.OverheadPercent["cpu"] != 3 || s.Headroom["cpu"] != "3890m" {
		t.Errorf("overhead %v %v headroom %v", s.Overhead, s.OverheadPercent, s.Headroom)
	}
}

func TestStartupTaintNobodyTolerates(t *testing.T) {
	dss := []appsv1.DaemonSet{fixture.DaemonSet("ns", "a"), fixture.DaemonSet("ns", "b", fixture.WithToleration(fixture.Exists("other", corev1.TaintEffectNoExecute)))}
	// kubeadm registration taints with a known key are startup taints.
	pool := model.PoolTemplate{Kind: "MachineDeployment", Name: "md", Labels: map[string]string{},
		Taints: []corev1.Taint{{Key: "node.cilium.io/agent-not-ready", Value: "true", Effect: corev1.TaintEffectNoExecute}}}
	rep := whatIf(t, &model.Snapshot{DaemonSets: dss}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, nil)
	p := rep.Pools[0]
	if len(p.Taints) != 0 || len(p.StartupTaints) != 1 || len(p.StartupTaints[0].ToleratedBy) != 0 {
		t.Fatalf("taints %v startup %+v", p.Taints, p.StartupTaints)
	}
	if got := findings(p.Findings); !reflect.DeepEqual(got, []string{"FitUnknown  md-node", "StartupTaintUntolerated  "}) {
		t.Fatalf("findings %q", got)
	}
	if rep.Summary.Failing != 0 || !strings.Contains(strings.Join(p.Notes, "\n"), "removed by cilium-operator, once the Cilium agent Pod on the node is Ready: counted as a startup taint") {
		t.Errorf("failing %d notes %q", rep.Summary.Failing, p.Notes)
	}
}

// Fit: daemons placed by priority; the one left out is named with the
// numbers; host ports clash; without an allocatable the fit is unknown.
func TestPoolFit(t *testing.T) {
	dss := []appsv1.DaemonSet{
		fixture.DaemonSet("kube-system", "cni", priorityClass("system-node-critical"), fixture.Requests("cpu", "1", "memory", "1Gi"), fixture.HostPort(9100)),
		fixture.DaemonSet("monitoring", "exporter", fixture.Requests("cpu", "100m", "memory", "100Mi"), fixture.HostPort(9100)),
		fixture.DaemonSet("security", "big", fixture.Requests("cpu", "1500m", "memory", "1Gi")),
		fixture.DaemonSet("security", "small", fixture.Requests("cpu", "100m", "memory", "100Mi")),
	}
	small := model.PoolTemplate{Kind: "Flags", Name: "small", NodeName: "small", Labels: map[string]string{},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")}}
	unknownCap := model.PoolTemplate{Kind: "Flags", Name: "nocap", NodeName: "nocap", Labels: map[string]string{}}
	rep := whatIf(t, &model.Snapshot{DaemonSets: dss}, &model.Proposal{Pools: []model.PoolTemplate{small, unknownCap}}, nil)
	s := rep.Pools[0].Shapes[0]
	fits := map[string]string{}
	for _, d := range s.DaemonSets {
		fits[d.Name] = d.Fit
	}
	if !reflect.DeepEqual(fits, map[string]string{"cni": "Yes", "exporter": "No", "big": "No", "small": "Yes"}) {
		t.Errorf("fits %v", fits)
	}
	if d := daemonOn(s, "exporter"); !reflect.DeepEqual(d.PortClashes, []string{"9100/TCP held by kube-system/cni"}) {
		t.Errorf("exporter %+v", d)
	}
	if d := daemonOn(s, "big"); !reflect.DeepEqual(d.Shortfalls, []string{"Insufficient cpu (needs 1500m; 1000m of 2000m requested)"}) {
		t.Errorf("big %+v", d)
	}
	got := findings(rep.Pools[0].Findings)
	if !reflect.DeepEqual(got, []string{"HostPortConflict monitoring/exporter small", "WillNotFit security/big small"}) {
		t.Fatalf("findings %q", got)
	}
	if sg := rep.Pools[0].Findings[1].Suggestion; !strings.Contains(sg, "largest: kube-system/cni 1") {
		t.Errorf("fit fix %s", sg)
	}
	// Unknown capacity: host ports are still judged, resources are not.
	nc := rep.Pools[1]
	if nc.Shapes[0].FitUnknown == "" || daemonOn(nc.Shapes[0], "big").Fit != "Unknown" || daemonOn(nc.Shapes[0], "exporter").Fit != "No" {
		t.Errorf("unknown capacity shape %+v", nc.Shapes[0])
	}
	if got := findings(nc.Findings); !reflect.DeepEqual(got, []string{"HostPortConflict monitoring/exporter nocap", "FitUnknown  nocap"}) {
		t.Errorf("findings %q", got)
	}
	if rep.Summary.Failing != 3 || rep.Summary.Findings != 4 {
		t.Errorf("summary %+v", rep.Summary)
	}
}

// Priorities come from the PriorityClasses when they were read; otherwise
// the report says whose are unknown.
func TestWhatIfPriorities(t *testing.T) {
	dss := []appsv1.DaemonSet{
		fixture.DaemonSet("a", "low", fixture.Requests("cpu", "1500m", "memory", "1Gi")),
		fixture.DaemonSet("z", "high", fixture.Requests("cpu", "1500m", "memory", "1Gi"), priorityClass("agents")),
	}
	pool := model.PoolTemplate{Kind: "Flags", Name: "n", NodeName: "n", Labels: map[string]string{},
		Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("10")}}
	prop := &model.Proposal{Pools: []model.PoolTemplate{pool}}
	rep := whatIf(t, &model.Snapshot{DaemonSets: dss}, prop, nil)
	// Unknown: name order, a/low first.
	if daemonOn(rep.Pools[0].Shapes[0], "high").Fit != "No" || !strings.Contains(strings.Join(rep.Warnings, "\n"), "z/high (agents)") {
		t.Errorf("unknown priorities: %+v %q", rep.Pools[0].Shapes[0].DaemonSets, rep.Warnings)
	}
	classes := []schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "system-node-critical"}, Value: 2000001000},
		{ObjectMeta: metav1.ObjectMeta{Name: "agents"}, Value: 1000000},
	}
	// Not readable (RBAC): a warning that says why, not a partial report.
	forbidden := &model.Snapshot{DaemonSets: dss}
	forbidden.MarkMissing(model.PriorityClasses, "forbidden: cannot list priorityclasses", "")
	rep = whatIf(t, forbidden, prop, nil)
	if rep.Partial || !strings.Contains(strings.Join(rep.Warnings, "\n"), "PriorityClasses were not read: forbidden: cannot list priorityclasses") {
		t.Errorf("partial %v, warnings %q", rep.Partial, rep.Warnings)
	}
	rep = whatIf(t, &model.Snapshot{DaemonSets: dss, PriorityClasses: classes}, prop, nil)
	s := rep.Pools[0].Shapes[0]
	if daemonOn(s, "high").Fit != "Yes" || daemonOn(s, "low").Fit != "No" || daemonOn(s, "high").Priority != 1000000 || len(rep.Warnings) != 0 {
		t.Errorf("known priorities: %+v %q", s.DaemonSets, rep.Warnings)
	}
}

// A DaemonSet change: nodes gained and lost by pool and reason, required
// nodes newly left out (a rule, or a taint on a node it ran on), daemons
// that newly do not fit, and nothing about what was already so.
func TestDaemonSetChange(t *testing.T) {
	pool := func(p string) fixture.NodeOpt { return fixture.WithLabel("karpenter.sh/nodepool", p) }
	nodes := []corev1.Node{
		fixture.Node("general-1", pool("general"), allocatable("2", "4Gi", "20")),
		fixture.Node("general-2", pool("general"), allocatable("2", "4Gi", "20")),
		fixture.Node("arm-1", pool("arm"), fixture.WithLabel("kubernetes.io/arch", "arm64"), allocatable("2", "4Gi", "20")),
		fixture.Node("gpu-1", pool("gpu"), fixture.WithTaint("nvidia.com/gpu", "true", corev1.TaintEffectNoSchedule), allocatable("2", "4Gi", "20")),
		fixture.Node("small-1", pool("small"), fixture.WithTaint("dedicated", "edge", corev1.TaintEffectNoSchedule), allocatable("1", "1Gi", "20")),
		fixture.Node("cp-1", fixture.WithTaint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule), allocatable("2", "4Gi", "20")),
		// Required and left out before and after: not the change's doing.
		fixture.Node("legacy-1", pool("legacy"), fixture.WithTaint("legacy", "true", corev1.TaintEffectNoSchedule), allocatable("2", "4Gi", "20")),
	}
	dedicated := fixture.Exists("dedicated", corev1.TaintEffectNoSchedule)
	old := fixture.DaemonSet("security", "agent", fixture.WithToleration(dedicated), fixture.Requests("cpu", "100m", "memory", "100Mi"))
	other := fixture.DaemonSet("monitoring", "exporter", fixture.WithToleration(dedicated), fixture.Requests("cpu", "400m", "memory", "512Mi"))
	// The change: amd64 only (loses arm-1), tolerates the GPU taint (gains
	// gpu-1), no longer tolerates dedicated (loses small-1: its selectors
	// still admit it), and asks for more cpu, so exporter no longer fits on
	// 2-cpu nodes next to it.
	changed := fixture.DaemonSet("security", "agent", fixture.WithNodeSelector("kubernetes.io/arch", "amd64"),
		fixture.WithToleration(fixture.Exists("nvidia.com/gpu", corev1.TaintEffectNoSchedule)), fixture.Requests("cpu", "1800m", "memory", "100Mi"))
	changed.Spec.Template.Spec.Tolerations = changed.Spec.Template.Spec.Tolerations[len(changed.Spec.Template.Spec.Tolerations)-1:]
	for i := range nodes {
		if nodes[i].Name != "arm-1" {
			nodes[i].Labels["kubernetes.io/arch"] = "amd64"
		}
	}
	snap := &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{old, other}}
	prop := &model.Proposal{DaemonSets: []appsv1.DaemonSet{changed}, Sources: []string{"agent.yaml"}}
	rep := whatIf(t, snap, prop, fixture.Require(t, "security/agent=karpenter.sh/nodepool"))
	c := rep.Changes[0]
	if c.New || c.NodesBefore != 4 || c.NodesAfter != 3 {
		t.Fatalf("before %d after %d new %v", c.NodesBefore, c.NodesAfter, c.New)
	}
	groups := func(gs []report.NodeGroup) []string {
		var out []string
		for _, g := range gs {
			out = append(out, g.Pool+": "+g.Range+": "+g.Reason)
		}
		return out
	}
	if got := groups(c.Gained); !reflect.DeepEqual(got, []string{"gpu: gpu-1: "}) {
		t.Errorf("gained %q", got)
	}
	wantLost := []string{
		"arm: arm-1: nodeSelector kubernetes.io/arch=amd64: node has kubernetes.io/arch=arm64",
		"small: small-1: untolerated taint dedicated=edge:NoSchedule",
	}
	if got := groups(c.Lost); !reflect.DeepEqual(got, wantLost) {
		t.Errorf("lost %q", got)
	}
	// arm-1 is required by the rule; small-1 lost to a taint; on the
	// general nodes exporter (placed first: equal priority, name order)
	// leaves too little cpu for the new request (on gpu-1 the exporter does
	// not run). cp-1 is not required (the rule selects pool nodes) and was
	// not targeted before.
	got := findings(c.Findings)
	want := []string{
		"WillNotRun security/agent arm-1",
		"WillNotRun security/agent small-1",
		"WillNotFit security/agent general-1,general-2",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("findings %q, want %q", got, want)
	}
	if sg := c.Findings[1].Suggestion; !strings.Contains(sg, "{key: dedicated, operator: Equal, value: edge, effect: NoSchedule}") {
		t.Errorf("taint fix %s", sg)
	}
	if m := c.Findings[2].Message; !strings.Contains(m, "2 nodes of pool general (general-1…2)") || !strings.Contains(m, "Insufficient cpu (needs 1800m; 400m of 2000m requested)") {
		t.Errorf("fit message %s", m)
	}
}

// A new DaemonSet gains every node it targets; without a rule, the tainted
// nodes it skips (a control plane) are by design, not findings.
func TestNewDaemonSet(t *testing.T) {
	nodes := []corev1.Node{fixture.Node("w-1", allocatable("2", "4Gi", "20")), fixture.Node("cp-1", fixture.WithTaint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule), allocatable("2", "4Gi", "20"))}
	ds := fixture.DaemonSet("obs", "new")
	rep := whatIf(t, &model.Snapshot{Nodes: nodes}, &model.Proposal{DaemonSets: []appsv1.DaemonSet{ds}}, nil)
	c := rep.Changes[0]
	if !c.New || c.NodesAfter != 1 || len(c.Gained) != 1 || c.Gained[0].Nodes[0] != "w-1" || len(c.Lost) != 0 || len(c.Findings) != 0 {
		t.Fatalf("change %+v", c)
	}
	if rep.DaemonSets != 1 {
		t.Errorf("daemonSets %d", rep.DaemonSets)
	}
}

// Without a coverage rule, a change that drops a toleration loses the
// tainted nodes its selectors still admit: a failure; narrowing the
// selector is by design.
func TestChangeWithoutRule(t *testing.T) {
	nodes := []corev1.Node{
		fixture.Node("w-1", fixture.WithLabel("tier", "web"), allocatable("2", "4Gi", "20")),
		fixture.Node("db-1", fixture.WithLabel("tier", "db"), fixture.WithTaint("dedicated", "db", corev1.TaintEffectNoSchedule), allocatable("2", "4Gi", "20")),
		fixture.Node("batch-1", fixture.WithLabel("tier", "batch"), allocatable("2", "4Gi", "20")),
	}
	old := fixture.DaemonSet("ops", "agent", fixture.WithToleration(fixture.Exists("dedicated", corev1.TaintEffectNoSchedule)))
	changed := fixture.DaemonSet("ops", "agent", fixture.WithAffinity(fixture.Term(fixture.Req("tier", corev1.NodeSelectorOpIn, "web", "db"))))
	rep := whatIf(t, &model.Snapshot{Nodes: nodes, DaemonSets: []appsv1.DaemonSet{old}}, &model.Proposal{DaemonSets: []appsv1.DaemonSet{changed}}, nil)
	c := rep.Changes[0]
	if len(c.Lost) != 2 {
		t.Fatalf("lost %+v", c.Lost)
	}
	if got := findings(c.Findings); !reflect.DeepEqual(got, []string{"WillNotRun ops/agent db-1"}) {
		t.Fatalf("findings %q", got)
	}
	if !strings.Contains(c.Findings[0].Message, "would no longer run on node db-1, which its nodeSelector and node affinity still admit: untolerated taint dedicated=db:NoSchedule") {
		t.Errorf("message %s", c.Findings[0].Message)
	}
}

// Without nodes, a change cannot be compared, and says so; the report is
// partial (exit 3 unless something fails).
func TestChangeWithoutNodes(t *testing.T) {
	snap := &model.Snapshot{DaemonSets: []appsv1.DaemonSet{fixture.DaemonSet("ns", "a")}}
	snap.MarkMissing(model.Nodes, "forbidden: cannot list nodes", "")
	rep := whatIf(t, snap, &model.Proposal{DaemonSets: []appsv1.DaemonSet{fixture.DaemonSet("ns", "a", fixture.HostNetwork())}}, nil)
	c := rep.Changes[0]
	if !rep.Partial || len(c.Unknown) != 1 || !strings.Contains(c.Unknown[0], "forbidden: cannot list nodes") || len(c.Gained)+len(c.Lost) != 0 {
		t.Fatalf("partial %v, change %+v", rep.Partial, c)
	}
}

// A pool being changed already has nodes (a NodePool's nodes carry its
// MemberLabel): the allocatable of an instance type is read from the
// pool's own node of that type, not from a smaller one elsewhere.
func TestPoolOwnNodesGiveTheAllocatable(t *testing.T) {
	const it = "m5.large"
	own := fixture.Node("gpu-1", fixture.WithLabel(corev1.LabelInstanceTypeStable, it), fixture.WithLabel("karpenter.sh/nodepool", "gpu"), allocatable("4", "16Gi", "58"))
	other := fixture.Node("batch-1", fixture.WithLabel(corev1.LabelInstanceTypeStable, it), allocatable("1", "4Gi", "58"))
	pool := karpenter("gpu", corev1.NodeSelectorRequirement{Key: corev1.LabelInstanceTypeStable, Operator: corev1.NodeSelectorOpIn, Values: []string{it}})
	rep := whatIf(t, &model.Snapshot{Nodes: []corev1.Node{other, own}}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, nil)
	if from := rep.Pools[0].Shapes[0].AllocatableFrom; !strings.Contains(from, "gpu-1") {
		t.Errorf("allocatable from %q, want the pool's own node gpu-1", from)
	}
	// A pool whose nodes cannot be told apart takes the smallest node of
	// the type, so a fit judged on it holds on every node.
	pool.MemberLabel = ""
	rep = whatIf(t, &model.Snapshot{Nodes: []corev1.Node{other, own}}, &model.Proposal{Pools: []model.PoolTemplate{pool}}, nil)
	if from := rep.Pools[0].Shapes[0].AllocatableFrom; !strings.Contains(from, "batch-1") {
		t.Errorf("allocatable from %q, want the smallest node batch-1", from)
	}
}

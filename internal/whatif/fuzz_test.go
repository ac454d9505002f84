package whatif_test

import (
	"bytes"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/whatif"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// fuzzCluster is what the fuzzed proposals are judged against: DaemonSets
// that select on labels a pool may vary (arch, a custom key, an integer
// key) and nodes of instance types on both architectures.
func fuzzCluster() *model.Snapshot {
	it := corev1.LabelInstanceTypeStable
	return &model.Snapshot{
		Nodes: []corev1.Node{
			fixture.Node("m5-1", fixture.WithLabel(it, "m5.xlarge"), fixture.WithLabel("kubernetes.io/arch", "amd64"), fixture.Sized("4", "16Gi")),
			fixture.Node("m6g-1", fixture.WithLabel(it, "m6g.xlarge"), fixture.WithLabel("kubernetes.io/arch", "arm64"), fixture.Sized("4", "16Gi")),
		},
		DaemonSets: []appsv1.DaemonSet{
			fixture.DaemonSet("kube-system", "proxy", fixture.Requests("cpu", "100m", "memory", "64Mi")),
			fixture.DaemonSet("monitoring", "amd64-agent", fixture.WithNodeSelector("kubernetes.io/arch", "amd64"), fixture.Requests("cpu", "3900m")),
			fixture.DaemonSet("ns", "gpu", fixture.WithNodeSelector("example.com/gpu", "true")),
			fixture.DaemonSet("ns", "new-gen", fixture.WithAffinity(fixture.Term(fixture.Req("example.com/gen", corev1.NodeSelectorOpGt, "5")))),
		},
	}
}

// FuzzWhatIfProposal feeds what-if inputs (NodePool, Cluster API and Node
// manifests, DaemonSets) through the reader, the shape enumeration and the
// verdict. Properties: nothing panics; an input the reader accepts gets a
// verdict for every pool that is either judged (at least one shape, and
// the shapes beyond --max-shapes named by a failing finding) or explicitly
// failing (no shape: a failing NoNodeShape); the summary counts what the
// pools hold.
func FuzzWhatIfProposal(f *testing.F) {
	for _, seed := range []string{
		"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      requirements:\n      - {key: kubernetes.io/arch, operator: In, values: [amd64, arm64]}\n      - {key: node.kubernetes.io/instance-type, operator: In, values: [m5.xlarge, m6g.xlarge, c5.xlarge]}\n",
		"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      requirements:\n      - {key: example.com/gen, operator: Gte, values: [\"-9223372036854775808\"]}\n      - {key: example.com/gen, operator: Lt, values: [\"9223372036854775807\"]}\n",
		"apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec:\n  template:\n    spec:\n      requirements:\n      - {key: example.com/gpu, operator: In, values: [\"true\"]}\n      - {key: example.com/gpu, operator: DoesNotExist}\n      - {key: example.com/gen, operator: Gt, values: [\"3\"]}\n      - {key: example.com/gen, operator: Lt, values: [\"7\"]}\n      - {key: example.com/gen, operator: NotIn, values: [\"4\", \"6\"]}\n",
		"# saved\n{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"n\",\"labels\":{\"example.com/gpu\":\"true\"}},\"status\":{\"allocatable\":{\"cpu\":\"4\",\"pods\":\"110\",\"memory\":\"9223372036854775807\"}}}\n{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\",\"resources\":{\"requests\":{\"cpu\":\"1e16\"}}}]}}}}\n",
		"apiVersion: cluster.x-k8s.io/v1beta2\nkind: MachineDeployment\nmetadata: {name: md, namespace: default}\nspec:\n  template:\n    metadata:\n      labels: {node-role.kubernetes.io/worker: \"\"}\n    spec:\n      infrastructureRef: {kind: AWSMachineTemplate, name: t}\n      taints:\n      - {key: dedicated, value: x, effect: NoSchedule, propagation: OnInitialization}\n---\napiVersion: infrastructure.cluster.x-k8s.io/v1beta2\nkind: AWSMachineTemplate\nmetadata: {name: t}\nspec: {template: {spec: {instanceType: m5.xlarge}}}\n",
	} {
		f.Add([]byte(seed), uint8(4))
	}
	f.Fuzz(func(t *testing.T, in []byte, max uint8) {
		if len(in) > 8<<10 {
			return // larger inputs only slow the search down
		}
		prop, err := decode.ReadProposal([]string{"-"}, bytes.NewReader(in))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		maxShapes := int(max%40) + 1
		for _, accept := range []bool{false, true} {
			rep := whatif.WhatIf(fuzzCluster(), prop, whatif.WhatIfOptions{Now: fixture.Epoch, MaxShapes: maxShapes, AcceptUnjudged: accept})
			if len(rep.Pools) != len(prop.Pools) {
				t.Fatalf("%d pools in, %d judged", len(prop.Pools), len(rep.Pools))
			}
			shapes, failing := 0, 0
			for i := range rep.Pools {
				p := &rep.Pools[i]
				shapes += len(p.Shapes)
				kinds := map[report.WhatIfFindingType]bool{}
				for _, f := range p.Findings {
					if f.Failing {
						kinds[f.Type] = true
					}
				}
				switch {
				case len(p.Shapes) == 0 && !kinds[report.WhatIfNoNodeShape]:
					t.Fatalf("pool %s: no shape and no failing NoNodeShape: %+v", p.Name, p.Findings)
				case len(p.Shapes) > maxShapes:
					t.Fatalf("pool %s: %d shapes judged, --max-shapes %d", p.Name, len(p.Shapes), maxShapes)
				case p.UnjudgedShapes > 0 && !accept && !kinds[report.WhatIfShapesNotJudged]:
					t.Fatalf("pool %s: %d shapes not judged without a failing ShapesNotJudged", p.Name, p.UnjudgedShapes)
				case p.UnjudgedShapes > 0 && accept && kinds[report.WhatIfShapesNotJudged]:
					t.Fatalf("pool %s: unjudged shapes accepted but still failing", p.Name)
				}
			}
			for i := range rep.Changes {
				for _, f := range rep.Changes[i].Findings {
					if f.Failing {
						failing++
					}
				}
			}
			for i := range rep.Pools {
				for _, f := range rep.Pools[i].Findings {
					if f.Failing {
						failing++
					}
				}
			}
			if rep.Summary.Shapes != shapes || rep.Summary.Failing != failing {
				t.Fatalf("summary %+v; pools hold %d shapes, %d failing findings", rep.Summary, shapes, failing)
			}
		}
	})
}

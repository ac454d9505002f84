package providers_test

import (
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/decode"
)

func TestKarpenterNodePool(t *testing.T) {
	p := readOne(t, whatifData+"nodepool-gpu.yaml")
	if p.Kind != "NodePool" || p.Name != "gpu" || p.APIVersion != "karpenter.sh/v1" {
		t.Fatalf("identity: %+v", p)
	}
	// The template's labels, plus what Karpenter adds itself.
	want := map[string]string{
		"nvidia.com/gpu.present": "true", "team": "ml",
		"karpenter.sh/nodepool": "gpu", "karpenter.k8s.aws/ec2nodeclass": "gpu",
		"karpenter.sh/registered": "true", "karpenter.sh/initialized": "true",
	}
	if !reflect.DeepEqual(p.Labels, want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	filled := append([]string(nil), p.Filled...)
	sort.Strings(filled)
	if !reflect.DeepEqual(filled, []string{"karpenter.k8s.aws/ec2nodeclass", "karpenter.sh/initialized", "karpenter.sh/nodepool", "karpenter.sh/registered"}) {
		t.Errorf("filled %v", filled)
	}
	if got := taints(p.Taints); !reflect.DeepEqual(got, []string{"nvidia.com/gpu=true:NoSchedule"}) {
		t.Errorf("taints %v", got)
	}
	if got := taints(p.StartupTaints); !reflect.DeepEqual(got, []string{"node.cilium.io/agent-not-ready=true:NoExecute"}) {
		t.Errorf("startup taints %v", got)
	}
	var reqs []string
	for _, r := range p.Requirements {
		reqs = append(reqs, r.Key+" "+string(r.Operator)+" "+strings.Join(r.Values, ","))
	}
	wantReqs := []string{
		"kubernetes.io/arch In amd64,arm64", "kubernetes.io/os In linux", "karpenter.sh/capacity-type In on-demand",
		"node.kubernetes.io/instance-type In g5.xlarge,g5.2xlarge,g5g.xlarge", "topology.kubernetes.io/zone In us-east-1a,us-east-1b",
	}
	if !reflect.DeepEqual(reqs, wantReqs) {
		t.Errorf("requirements %q, want %q", reqs, wantReqs)
	}
	// Region is a well-known label the pool leaves to Karpenter.
	if !reflect.DeepEqual(p.Chosen, []string{"topology.kubernetes.io/region"}) {
		t.Errorf("chosen %v", p.Chosen)
	}
}

func TestKarpenterOperators(t *testing.T) {
	yaml := `apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: general}
spec:
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: default}
      requirements:
      - {key: karpenter.k8s.aws/instance-cpu, operator: Gte, values: ["4"]}
      - {key: karpenter.k8s.aws/instance-memory, operator: Lte, values: ["32768"]}
      - {key: karpenter.k8s.aws/instance-family, operator: NotIn, values: [t2, t3]}
      - {key: example.com/no-gpu, operator: DoesNotExist}
`
	prop, err := decode.ReadProposal([]string{"-"}, strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	p := prop.Pools[0]
	var got []string
	for _, r := range p.Requirements {
		got = append(got, string(r.Operator)+" "+strings.Join(r.Values, ","))
	}
	// Gte/Lte are kept as written (Gt n-1 would wrap at the int64 bound).
	want := []string{"Gte 4", "Lte 32768", "NotIn t2,t3", "DoesNotExist "}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// Unconstrained OS is assumed linux, and said so; arch is left to the
	// analysis to enumerate.
	if p.Labels["kubernetes.io/os"] != "linux" || !hasNote(p.Notes, "assumed linux") {
		t.Errorf("os %q, notes %v", p.Labels["kubernetes.io/os"], p.Notes)
	}
	sort.Strings(p.Chosen)
	if !reflect.DeepEqual(p.Chosen, []string{"karpenter.sh/capacity-type", "kubernetes.io/arch", "node.kubernetes.io/instance-type", "topology.kubernetes.io/region", "topology.kubernetes.io/zone"}) {
		t.Errorf("chosen %v", p.Chosen)
	}
}

// A NodePool's template says where its nodes' labels and taints are set,
// and which label names the nodes it already has.
func TestKarpenterTemplateSaysWhereToFix(t *testing.T) {
	prop, err := decode.ReadProposal([]string{"-"}, strings.NewReader("apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: gpu}\nspec: {template: {spec: {requirements: []}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := prop.Pools[0]
	if p.MemberLabel != "karpenter.sh/nodepool" || p.LabelsAt != "NodePool gpu spec.template.metadata.labels" || p.TaintsAt != "NodePool gpu spec.template.spec.taints" {
		t.Errorf("member %q, labels at %q, taints at %q", p.MemberLabel, p.LabelsAt, p.TaintsAt)
	}
}

package decode

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// The what-if inputs live beside the command's goldens, which use them too.
const whatifData = "../cli/testdata/whatif/"

func readOne(t *testing.T, path string) model.PoolTemplate {
	t.Helper()
	prop, err := ReadProposal([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(prop.Pools) != 1 {
		t.Fatalf("%s: %d pools, want 1", path, len(prop.Pools))
	}
	return prop.Pools[0]
}

func taints(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		out = append(out, s+":"+string(t.Effect))
	}
	return out
}

func hasNote(notes []string, part string) bool {
	for _, n := range notes {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

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
	prop, err := ReadProposal([]string{"-"}, strings.NewReader(yaml))
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

func TestMachineDeploymentV1beta2(t *testing.T) {
	prop, err := ReadProposal([]string{whatifData + "machinedeployment.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The bootstrap and infrastructure templates it references are read,
	// not ignored.
	if len(prop.Pools) != 1 || len(prop.Warnings) != 0 {
		t.Fatalf("pools %d, warnings %v", len(prop.Pools), prop.Warnings)
	}
	p := prop.Pools[0]
	// Only the synced domains reach the Node, plus the kubelet's
	// --node-labels from the KubeadmConfigTemplate.
	want := map[string]string{
		"node-role.kubernetes.io/batch": "", "node.cluster.x-k8s.io/workload": "batch",
		"storage.example.com/local-ssd": "true",
	}
	if !reflect.DeepEqual(p.Labels, want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	if !hasNote(p.Notes, "cluster.x-k8s.io/cluster-name, pool stay on the Machines") {
		t.Errorf("no note about labels that stay on the Machines: %v", p.Notes)
	}
	// Machine taints (Always) and kubeadm's registration taints.
	if got := taints(p.Taints); !reflect.DeepEqual(got, []string{"workload=batch:NoSchedule", "node.cilium.io/agent-not-ready=true:NoExecute"}) {
		t.Errorf("taints %v", got)
	}
	if !hasNote(p.Notes, "MachineTaintPropagation") {
		t.Errorf("no note about the feature gate: %v", p.Notes)
	}
	if p.InstanceType != "m5.xlarge" || p.Namespace != "clusters" || p.Name != "prod-batch" {
		t.Errorf("instance type %q, %s/%s", p.InstanceType, p.Namespace, p.Name)
	}
}

func TestMachineDeploymentV1beta1(t *testing.T) {
	p := readOne(t, whatifData+"machinedeployment-v1beta1.yaml")
	if !reflect.DeepEqual(p.Labels, map[string]string{"node-role.kubernetes.io/worker": ""}) {
		t.Errorf("labels %v", p.Labels)
	}
	// What the MachineDeployment cannot tell is said.
	if p.InstanceTypeWhere != "the infrastructure template AWSMachineTemplate prod-md-0, not in the input" {
		t.Errorf("instance type where %q", p.InstanceTypeWhere)
	}
	for _, part := range []string{"KubeadmConfigTemplate prod-md-0", "environment stay on the Machines"} {
		if !hasNote(p.Notes, part) {
			t.Errorf("no note naming %q: %v", part, p.Notes)
		}
	}
	if p.InstanceType != "" || len(p.Taints) != 0 {
		t.Errorf("instance type %q, taints %v", p.InstanceType, p.Taints)
	}
}

func TestMachinePoolAndOnInitialization(t *testing.T) {
	p := readOne(t, whatifData+"machinepool.yaml")
	if p.Kind != "MachinePool" || p.Labels["node.cluster.x-k8s.io/pool"] != "mp-0" {
		t.Errorf("%s labels %v", p.Kind, p.Labels)
	}
	// Cluster API does not propagate MachinePool taints.
	if len(p.Taints) != 0 || !hasNote(p.Notes, "does not propagate taints for MachinePools") || !hasNote(p.Notes, "MachinePool Machines") {
		t.Errorf("taints %v, notes %v", p.Taints, p.Notes)
	}
	md := `apiVersion: cluster.x-k8s.io/v1beta2
kind: MachineSet
metadata: {name: gpu-ms, namespace: clusters}
spec:
  template:
    spec:
      taints:
      - {key: nvidia.com/gpu, value: "true", effect: NoSchedule, propagation: Always}
      - {key: example.com/driver-installing, effect: NoSchedule, propagation: OnInitialization}
`
	prop, err := ReadProposal([]string{"-"}, strings.NewReader(md))
	if err != nil {
		t.Fatal(err)
	}
	ms := prop.Pools[0]
	// OnInitialization taints are set once and removed by whoever
	// initializes the node: startup taints.
	if got := taints(ms.Taints); !reflect.DeepEqual(got, []string{"nvidia.com/gpu=true:NoSchedule"}) {
		t.Errorf("taints %v", got)
	}
	if got := taints(ms.StartupTaints); !reflect.DeepEqual(got, []string{"example.com/driver-installing:NoSchedule"}) {
		t.Errorf("startup taints %v", got)
	}
}

func TestNodeManifest(t *testing.T) {
	p := readOne(t, whatifData+"node.yaml")
	if p.NodeName != "storage-1" || p.Kind != "Node" {
		t.Errorf("node %+v", p)
	}
	if p.Allocatable.Cpu().String() != "32" || !strings.Contains(p.AllocatableFrom, "status.capacity") || !strings.Contains(p.AllocatableFrom, "optimistic") {
		t.Errorf("allocatable %v from %q", p.Allocatable, p.AllocatableFrom)
	}
	if got := taints(p.Taints); !reflect.DeepEqual(got, []string{"storage=ceph:NoSchedule"}) {
		t.Errorf("taints %v", got)
	}
}

func TestProposalMixedAndLists(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: a, image: a}]}
  status: {desiredNumberScheduled: 3}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: agent-config}
---
apiVersion: v1
kind: Service
metadata: {name: agent}
---
`
	prop, err := ReadProposal([]string{"-"}, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(prop.DaemonSets) != 1 || prop.DaemonSets[0].Name != "agent" || prop.Sources[0] != "<stdin>" {
		t.Fatalf("daemonsets %+v", prop.DaemonSets)
	}
	// A manifest's status is not the cluster's.
	if prop.DaemonSets[0].Status.DesiredNumberScheduled != 0 {
		t.Errorf("status kept: %+v", prop.DaemonSets[0].Status)
	}
	if len(prop.Warnings) != 1 || !strings.Contains(prop.Warnings[0], "ignored 2 objects of kinds whatif does not read (ConfigMap, Service)") {
		t.Errorf("warnings %v", prop.Warnings)
	}
}

func TestProposalErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"not yaml", "a: [b", "not valid JSON or YAML"},
		{"binary", "\x00\x01", "binary data"},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "object has no kind"},
		{"nothing to do", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "nothing to evaluate"},
		{"old nodepool", "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: x}\n", "whatif reads karpenter.sh/v1"},
		{"old capi", "apiVersion: cluster.x-k8s.io/v1alpha4\nkind: MachineDeployment\nmetadata: {name: x}\n", "v1beta1 and v1beta2"},
		{"extensions ds", "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: x}\n", "whatif reads apps/v1"},
		{"no name", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {}\n", "no metadata.name"},
		{"bad effect", "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nspec: {taints: [{key: a, effect: NoScheduel}]}\n", `effect "NoScheduel"`},
		{"bad operator", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: Equals, values: [b]}]}}}\n", `unknown operator "Equals"`},
		{"In without values", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: In}]}}}\n", "needs values"},
		{"Gt not int", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: Gt, values: [x]}]}}}\n", "needs an integer"},
		{"bad kubelet labels", "apiVersion: cluster.x-k8s.io/v1beta1\nkind: MachineDeployment\nmetadata: {name: md}\nspec: {template: {spec: {bootstrap: {configRef: {kind: KubeadmConfigTemplate, name: k}}}}}\n---\napiVersion: bootstrap.cluster.x-k8s.io/v1beta1\nkind: KubeadmConfigTemplate\nmetadata: {name: k}\nspec: {template: {spec: {joinConfiguration: {nodeRegistration: {kubeletExtraArgs: {node-labels: \"a=b=c\"}}}}}}\n", "node-labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadProposal([]string{"-"}, strings.NewReader(c.in))
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an InputError with %q", err, c.want)
			}
		})
	}
	if _, err := ReadProposal([]string{"/nonexistent/pool.yaml"}, nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseFlags(t *testing.T) {
	ts, err := ParseTaints([]string{"nvidia.com/gpu=true:NoSchedule", "dedicated:NoExecute", " "})
	if err != nil || !reflect.DeepEqual(taints(ts), []string{"nvidia.com/gpu=true:NoSchedule", "dedicated:NoExecute"}) {
		t.Errorf("taints %v %v", ts, err)
	}
	for _, bad := range []string{"a=b", "a:Sometimes", "a=b:c:NoSchedule", "-bad:NoSchedule", "a=b c:NoSchedule"} {
		if _, err := ParseTaints([]string{bad}); err == nil {
			t.Errorf("taint %q accepted", bad)
		}
	}
	rl, err := ParseResources("cpu=3920m,memory=15Gi,pods=58,nvidia.com/gpu=1")
	if err != nil || rl.Cpu().MilliValue() != 3920 || rl.Pods().Value() != 58 || rl.Name("nvidia.com/gpu", "").Value() != 1 {
		t.Errorf("resources %v %v", rl, err)
	}
	for _, bad := range []string{"", "cpu", "cpu=lots", "memory=-1Gi", "=4"} {
		if _, err := ParseResources(bad); err == nil {
			t.Errorf("resources %q accepted", bad)
		}
	}
	ls, err := ParseLabels("pool=gpu,node-role.kubernetes.io/gpu=")
	if err != nil || !reflect.DeepEqual(ls, map[string]string{"pool": "gpu", "node-role.kubernetes.io/gpu": ""}) {
		t.Errorf("labels %v %v", ls, err)
	}
	for _, bad := range []string{"a", "a=b c", "-a=b", "a=" + strings.Repeat("x", 64)} {
		if _, err := ParseLabels(bad); err == nil {
			t.Errorf("labels %q accepted", bad)
		}
	}
}

// Every document of a what-if input is read, or the error names the one
// that could not be: a JSON stream with a comment line on top (a saved
// kubectl cluster-info dump with a note) used to be taken as YAML and cut
// to its first document, the DaemonSets after it never judged.
func TestProposalReadsEveryDocument(t *testing.T) {
	node := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`
	ds := func(name string) string {
		return `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"` + name + `","namespace":"ns"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	}
	list := `{"apiVersion":"v1","kind":"List","items":[` + ds("in-list") + `]}`
	for _, c := range []struct {
		name, in string
		pools    int
		dss      []string
		err      string
	}{
		{"JSON stream with a comment on top", "# saved by me\n# cluster-info dump\n" + node + "\n" + ds("first") + "\n" + list + "\n", 1, []string{"first", "in-list"}, ""},
		{"JSON stream after blank lines", "\n\n  " + node + ds("glued"), 1, []string{"glued"}, ""},
		{"YAML documents", "# note\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n" + ds("flow") + "\n---\n", 1, []string{"flow"}, ""},
		{"a JSON stream inside a YAML document", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n# two values\n" + ds("a") + "\n" + ds("b") + "\n", 0, nil,
			"document 2: more than one JSON value in one YAML document"},
		{"a comment between JSON values", "# top\n" + node + "\n# between\n" + ds("late") + "\n", 0, nil, "document 2: not valid JSON"},
		{"a broken value later in the stream", node + "\n" + ds("ok") + "\n{\"kind\": \n", 0, nil, "document 3: not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prop, err := ReadProposal([]string{"-"}, strings.NewReader(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), "<stdin>: "+c.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("want one line with %q, got %v", c.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range prop.DaemonSets {
				names = append(names, d.Name)
			}
			if len(prop.Pools) != c.pools || !reflect.DeepEqual(names, c.dss) {
				t.Errorf("%d pools, DaemonSets %v; want %d, %v", len(prop.Pools), names, c.pools, c.dss)
			}
		})
	}
}

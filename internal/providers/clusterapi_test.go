package providers_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/decode"
)

func TestMachineDeploymentV1beta2(t *testing.T) {
	prop, err := decode.ReadProposal([]string{whatifData + "machinedeployment.yaml"}, nil)
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
	prop, err := decode.ReadProposal([]string{"-"}, strings.NewReader(md))
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

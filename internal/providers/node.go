package providers

import (
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/nodespec"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// A Node manifest is a pool of one: the node it describes.
func init() {
	registerPoolKind(PoolKind{Kinds: []string{"Node"}, Versions: []string{"v1"}, Read: func(o *Object, _ *Input) (model.PoolTemplate, error) { return nodeTemplate(o) }})
}

// nodeTemplate is a Node manifest as the node it describes.
func nodeTemplate(o *Object) (model.PoolTemplate, error) {
	var n corev1.Node
	if err := json.Unmarshal(o.Raw, &n); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid Node: %s", text.OneLine(err.Error()))
	}
	if n.Name == "" {
		return model.PoolTemplate{}, errors.New("Node has no metadata.name") //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	if err := nodespec.CheckTaints(n.Spec.Taints, "spec.taints"); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("Node %s: %w", n.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	if err := capacity.CheckNode(&n); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("Node %s: %w", n.Name, err) //nolint:staticcheck // ST1005: starts with a kind name, capitalised as in the API
	}
	t := model.PoolTemplate{Source: o.File, Kind: "Node", APIVersion: o.APIVersion, Name: n.Name, NodeName: n.Name,
		Labels: copyLabels(n.Labels), Taints: n.Spec.Taints,
		OS: n.Status.NodeInfo.OperatingSystem, Arch: n.Status.NodeInfo.Architecture,
		LabelsAt: "the Node's metadata.labels", TaintsAt: "the Node manifest's spec.taints"}
	switch {
	case len(n.Status.Allocatable) > 0:
		t.Allocatable, t.AllocatableFrom = n.Status.Allocatable, "the manifest's status.allocatable"
	case len(n.Status.Capacity) > 0:
		t.Allocatable, t.AllocatableFrom = n.Status.Capacity, "the manifest's status.capacity (no status.allocatable: the kubelet reserves part of it, so the fit is optimistic)"
	}
	t.InstanceType = t.Labels[corev1.LabelInstanceTypeStable]
	if n.Spec.Unschedulable {
		t.Notes = append(t.Notes, "spec.unschedulable is set: daemon Pods tolerate it (node.kubernetes.io/unschedulable), other Pods do not")
	}
	return t, nil
}

package whatif

import (
	"cmp"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/nodespec"
)

// NodeFlags describe a node as whatif's flags do (--labels, --taints,
// --allocatable, ...): the node itself without FILE arguments, else what
// is added to every FILE pool.
type NodeFlags struct {
	Name          string
	Labels        string
	Taints        []string
	StartupTaints []string
	Allocatable   string
	OS            string
	Arch          string
	InstanceType  string
}

// Template is what the flags describe; its errors name the flag.
func (f NodeFlags) Template() (model.PoolTemplate, error) {
	var err error
	var t model.PoolTemplate
	if len(f.Taints)+len(f.StartupTaints) > 0 {
		t.TaintOrigin = map[string]string{}
	}
	if f.Labels != "" {
		ls, err := nodespec.ParseLabels(f.Labels)
		if err != nil {
			return t, fmt.Errorf("--labels %v", err)
		}
		t.Labels = ls
	}
	if t.Taints, err = nodespec.ParseTaints(f.Taints); err != nil {
		return t, fmt.Errorf("--taints: %v", err)
	}
	if t.StartupTaints, err = nodespec.ParseTaints(f.StartupTaints); err != nil {
		return t, fmt.Errorf("--startup-taints: %v", err)
	}
	// In a fixed order (a slice, not a map), so that a key given to both
	// flags is always said to come from --startup-taints.
	for _, o := range []struct {
		flag   string
		taints []corev1.Taint
	}{{"--taints", t.Taints}, {"--startup-taints", t.StartupTaints}} {
		for _, tn := range o.taints {
			t.TaintOrigin[tn.Key] = o.flag
		}
	}
	if f.Allocatable != "" {
		if t.Allocatable, err = nodespec.ParseResources(f.Allocatable); err != nil {
			return t, fmt.Errorf("--allocatable %v", err)
		}
		t.AllocatableFrom = "--allocatable"
	}
	t.OS, t.Arch, t.InstanceType = f.OS, f.Arch, f.InstanceType
	// In the order of the flags' help, so that the first bad one is the
	// one named, every time.
	for _, o := range [][2]string{{"--os", f.OS}, {"--arch", f.Arch}, {"--instance-type", f.InstanceType}, {"--node-name", f.Name}} {
		if flag, v := o[0], o[1]; v != "" {
			if _, err := nodespec.ParseLabels("k=" + v); err != nil || strings.Contains(v, ",") {
				return t, fmt.Errorf("%s %q is not a valid label value", flag, v)
			}
		}
	}
	return t, nil
}

// FlagNode is the proposal of a node described by flags alone (t, from
// Template), named by --node-name.
func (f NodeFlags) FlagNode(t model.PoolTemplate) *model.Proposal {
	node := t
	node.Source, node.Kind, node.Name = "flags", "Flags", cmp.Or(f.Name, "whatif-node")
	node.TaintsAt = "--taints" // its labels come from --labels: LabelsAt stays empty
	node.NodeName = node.Name
	if node.Labels == nil {
		node.Labels = map[string]string{}
	}
	return &model.Proposal{Pools: []model.PoolTemplate{node}, Inputs: []string{"flags"}}
}

// AddToPools adds what the node flags say (extra, from Template) to every
// pool of prop read from FILE arguments.
func AddToPools(prop *model.Proposal, extra model.PoolTemplate) {
	for i := range prop.Pools {
		p := &prop.Pools[i]
		for k, v := range extra.Labels {
			p.Labels[k] = v
		}
		p.Taints = append(p.Taints, extra.Taints...)
		for k, v := range extra.TaintOrigin {
			if p.TaintOrigin == nil {
				p.TaintOrigin = map[string]string{}
			}
			p.TaintOrigin[k] = v
		}
		p.StartupTaints = append(p.StartupTaints, extra.StartupTaints...)
		if len(extra.Allocatable) > 0 {
			p.Allocatable, p.AllocatableFrom = extra.Allocatable, extra.AllocatableFrom
		}
		for _, f := range []struct {
			from string
			to   *string
		}{{extra.OS, &p.OS}, {extra.Arch, &p.Arch}, {extra.InstanceType, &p.InstanceType}} {
			if f.from != "" {
				*f.to = f.from
			}
		}
	}
}

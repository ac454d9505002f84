package providers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/nodespec"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Cluster API (sigs.k8s.io/cluster-api): MachineDeployments, MachineSets
// and MachinePools propose nodes; a kubeadm bootstrap template and an
// infrastructure machine template they reference add taints, labels and
// the instance type.
func init() {
	registerPoolKind(PoolKind{Group: capiGroup, Kinds: []string{"MachineDeployment", "MachineSet", "MachinePool"}, Versions: []string{"v1beta1", "v1beta2"},
		Read: capiTemplate})
}

// capiGroup is Cluster API's core group.
const capiGroup = "cluster.x-k8s.io"

// capiMachine is the part of a Cluster API MachineDeployment, MachineSet or
// MachinePool (v1beta1 and v1beta2; sigs.k8s.io/cluster-api api/core) that
// reaches the Node: spec.template (a MachineTemplateSpec).
type capiMachine struct {
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Bootstrap struct {
					ConfigRef *capiRef `json:"configRef"`
				} `json:"bootstrap"`
				InfrastructureRef capiRef `json:"infrastructureRef"`
				// Taints exist since Cluster API v1.12 in both versions.
				Taints []struct {
					corev1.Taint `json:",inline"`
					Propagation  string `json:"propagation"`
				} `json:"taints"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// capiRef is a v1beta1 ObjectReference or a v1beta2
// ContractVersionedObjectReference: kind and name are what both have.
type capiRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Label domains the Machine controller syncs to the Node (Cluster API book,
// "Metadata propagation", Machine; util/labels GetManagedLabels).
const (
	capiNodeRolePrefix       = "node-role.kubernetes.io"
	capiNodeRestrictionLabel = "node-restriction.kubernetes.io"
	capiManagedLabelDomain   = "node.cluster.x-k8s.io"
)

// capiSynced says whether the Machine controller copies a Machine label to
// its Node: the node-role.kubernetes.io prefix, and the
// node-restriction.kubernetes.io and node.cluster.x-k8s.io domains and their
// subdomains (GetManagedLabels). The manager's --additional-sync-machine-
// labels patterns are not known here.
func capiSynced(key string) bool {
	domain, _, _ := strings.Cut(key, "/")
	if domain == capiNodeRolePrefix {
		return true
	}
	for _, d := range []string{capiNodeRestrictionLabel, capiManagedLabelDomain} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// capiTemplate mirrors Cluster API's propagation: a MachineDeployment's (or
// MachineSet's) spec.template labels reach its Machines, and a Machine's
// labels in the synced domains reach the Node; with the
// MachineTaintPropagation feature gate, spec.template.spec.taints reach the
// Node (Always: kept; OnInitialization: set once, then up to whoever removes
// it: a startup taint). A MachinePool's nodes get template labels only when
// its infrastructure provider creates MachinePool Machines, and taints are
// not propagated for MachinePools. Taints and labels of the bootstrap
// configuration (kubeadm nodeRegistration) are read when the referenced
// KubeadmConfigTemplate is in the input, and the instance type from a
// referenced infrastructure machine template (AWS, GCP: instanceType;
// Azure: vmSize).
func capiTemplate(o *Object, in *Input) (model.PoolTemplate, error) {
	var m capiMachine
	if err := json.Unmarshal(o.Raw, &m); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid %s: %s", o.Kind, text.OneLine(err.Error()))
	}
	if o.Name == "" {
		return model.PoolTemplate{}, fmt.Errorf("%s has no metadata.name", o.Kind)
	}
	t := model.PoolTemplate{Source: o.File, Kind: o.Kind, APIVersion: o.APIVersion, Namespace: o.Namespace, Name: o.Name, Labels: map[string]string{},
		LabelsAt:   fmt.Sprintf("%s %s spec.template.metadata.labels", o.Kind, o.Name),
		LabelsNote: "Cluster API syncs only node-role.kubernetes.io/*, node-restriction.kubernetes.io and node.cluster.x-k8s.io keys to Nodes; others go in the bootstrap config's node-labels"}
	if o.Kind != "MachinePool" {
		// Cluster API does not propagate a MachinePool's taints.
		t.TaintsAt = fmt.Sprintf("%s %s spec.template.spec.taints", o.Kind, o.Name)
	}
	var stayed []string
	for k, v := range m.Spec.Template.Metadata.Labels {
		if capiSynced(k) {
			t.Labels[k] = v
		} else {
			stayed = append(stayed, k)
		}
	}
	sort.Strings(stayed)
	if len(stayed) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("spec.template.metadata.labels %s stay on the Machines: Cluster API syncs only node-role.kubernetes.io/*, node-restriction.kubernetes.io and node.cluster.x-k8s.io labels to Nodes (plus the manager's --additional-sync-machine-labels patterns, not known here; give such labels with --labels)", strings.Join(stayed, ", ")))
	}
	if o.Kind == "MachinePool" && len(t.Labels) > 0 {
		t.Notes = append(t.Notes, "a MachinePool's template labels reach its Nodes only when its infrastructure provider creates MachinePool Machines; otherwise the provider's own configuration labels the nodes")
	}
	for i, mt := range m.Spec.Template.Spec.Taints {
		if err := nodespec.CheckTaints([]corev1.Taint{mt.Taint}, fmt.Sprintf("spec.template.spec.taints[%d]", i)); err != nil {
			return model.PoolTemplate{}, fmt.Errorf("%s %s: %w", o.Kind, o.Name, err)
		}
		if o.Kind == "MachinePool" {
			continue
		}
		if mt.Propagation == "OnInitialization" {
			t.StartupTaints = append(t.StartupTaints, mt.Taint)
		} else {
			t.Taints = append(t.Taints, mt.Taint)
		}
	}
	if n := len(m.Spec.Template.Spec.Taints); n > 0 {
		if o.Kind == "MachinePool" {
			t.Notes = append(t.Notes, "spec.template.spec.taints are ignored: Cluster API does not propagate taints for MachinePools yet")
		} else {
			t.Notes = append(t.Notes, "spec.template.spec.taints reach the Nodes only when the Cluster API manager runs with the MachineTaintPropagation feature gate (alpha, off by default); OnInitialization taints are counted as startup taints")
		}
	}
	if ref := m.Spec.Template.Spec.Bootstrap.ConfigRef; ref != nil && ref.Name != "" {
		var b *Object
		if ref.Kind == "KubeadmConfigTemplate" {
			b = in.Ref(ref.Kind, ref.Name)
		}
		if b != nil {
			if err := kubeadmRegistration(b, &t); err != nil {
				return model.PoolTemplate{}, &ObjectError{Object: b, Err: err}
			}
		} else {
			t.Notes = append(t.Notes, fmt.Sprintf("taints and labels the bootstrap configuration sets at registration (%s %s, e.g. kubeadm's joinConfiguration.nodeRegistration taints and kubeletExtraArgs node-labels) are not in the %s: add that object to the input, or give them with --taints and --labels", ref.Kind, ref.Name, o.Kind))
		}
	}
	if ref := m.Spec.Template.Spec.InfrastructureRef; ref.Name != "" {
		if inf := in.Ref(ref.Kind, ref.Name); inf != nil {
			var it struct {
				Spec struct {
					Template struct {
						Spec struct {
							InstanceType string `json:"instanceType"`
							VMSize       string `json:"vmSize"`
						} `json:"spec"`
					} `json:"template"`
				} `json:"spec"`
			}
			_ = json.Unmarshal(inf.Raw, &it)
			t.InstanceType = it.Spec.Template.Spec.InstanceType
			if t.InstanceType == "" {
				t.InstanceType = it.Spec.Template.Spec.VMSize
			}
		}
		if t.InstanceType == "" {
			t.InstanceTypeWhere = fmt.Sprintf("the infrastructure template %s %s, not in the input", ref.Kind, ref.Name)
		}
	}
	return t, nil
}

// kubeadmRegistration reads what a KubeadmConfigTemplate
// (bootstrap.cluster.x-k8s.io v1beta1 or v1beta2) gives the Node at
// registration: joinConfiguration.nodeRegistration.taints (kubeadm sets
// them; nothing removes them) and the kubelet's --node-labels.
func kubeadmRegistration(b *Object, t *model.PoolTemplate) error {
	var kc struct {
		Spec struct {
			Template struct {
				Spec struct {
					JoinConfiguration struct {
						NodeRegistration struct {
							Taints           []corev1.Taint  `json:"taints"`
							KubeletExtraArgs json.RawMessage `json:"kubeletExtraArgs"`
						} `json:"nodeRegistration"`
					} `json:"joinConfiguration"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b.Raw, &kc); err != nil {
		return fmt.Errorf("invalid KubeadmConfigTemplate: %s", text.OneLine(err.Error()))
	}
	nr := kc.Spec.Template.Spec.JoinConfiguration.NodeRegistration
	if err := nodespec.CheckTaints(nr.Taints, "spec.template.spec.joinConfiguration.nodeRegistration.taints"); err != nil {
		return fmt.Errorf("KubeadmConfigTemplate %s: %w", b.Name, err)
	}
	t.Taints = append(t.Taints, nr.Taints...)
	setTaintOrigin(t, nr.Taints, fmt.Sprintf("KubeadmConfigTemplate %s spec.template.spec.joinConfiguration.nodeRegistration.taints", b.Name))
	// v1beta1: a map; v1beta2: a list of {name, value}.
	args := map[string]string{}
	if len(nr.KubeletExtraArgs) > 0 && nr.KubeletExtraArgs[0] == '[' {
		var list []struct{ Name, Value string }
		if err := json.Unmarshal(nr.KubeletExtraArgs, &list); err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: invalid kubeletExtraArgs: %s", b.Name, text.OneLine(err.Error()))
		}
		for _, a := range list {
			args[a.Name] = a.Value
		}
	} else if len(nr.KubeletExtraArgs) > 0 {
		if err := json.Unmarshal(nr.KubeletExtraArgs, &args); err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: invalid kubeletExtraArgs: %s", b.Name, text.OneLine(err.Error()))
		}
	}
	if v := args["node-labels"]; v != "" {
		ls, err := nodespec.ParseLabels(v)
		if err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: kubeletExtraArgs node-labels: %v", b.Name, err)
		}
		for k, val := range ls {
			t.Labels[k] = val
		}
	}
	if v := args["register-with-taints"]; v != "" {
		ts, err := nodespec.ParseTaints(strings.Split(v, ","))
		if err != nil {
			return fmt.Errorf("KubeadmConfigTemplate %s: kubeletExtraArgs register-with-taints: %v", b.Name, err)
		}
		t.Taints = append(t.Taints, ts...)
		setTaintOrigin(t, ts, fmt.Sprintf("KubeadmConfigTemplate %s kubeletExtraArgs register-with-taints", b.Name))
	}
	t.Notes = append(t.Notes, fmt.Sprintf("taints and node-labels from KubeadmConfigTemplate %s (joinConfiguration.nodeRegistration)", b.Name))
	return nil
}

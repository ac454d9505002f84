package providers

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/nodespec"
	"github.com/daemoncheck/daemoncheck/internal/text"
)

// Karpenter (sigs.k8s.io/karpenter): a NodePool proposes nodes whose
// instance type, architecture and zone Karpenter picks node by node.
func init() {
	ClosedLabelValues[KarpenterCapacityType] = []string{"on-demand", "reserved", "spot"}
	registerPoolKind(PoolKind{Group: "karpenter.sh", Kinds: []string{"NodePool"}, Versions: []string{"v1"},
		Read:   func(o *Object, _ *Input) (model.PoolTemplate, error) { return karpenterTemplate(o) },
		Export: "export it from a Karpenter v1 cluster: kubectl get nodepool NAME -o yaml"})
}

// karpenterNodePool is the part of a karpenter.sh/v1 NodePool that decides
// what its nodes carry (sigs.k8s.io/karpenter pkg/apis/v1 NodePoolSpec,
// NodeClaimTemplate, NodeClaimSpec); the rest (disruption, limits, weight)
// does not matter to daemons.
type karpenterNodePool struct {
	Spec struct {
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Taints        []corev1.Taint `json:"taints"`
				StartupTaints []corev1.Taint `json:"startupTaints"`
				Requirements  []struct {
					Key      string   `json:"key"`
					Operator string   `json:"operator"`
					Values   []string `json:"values"`
				} `json:"requirements"`
				NodeClassRef *struct {
					Group string `json:"group"`
					Kind  string `json:"kind"`
					Name  string `json:"name"`
				} `json:"nodeClassRef"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// Karpenter's well-known labels (pkg/apis/v1 labels.go WellKnownLabels): it
// sets each on every node, to the value of the instance type and offering
// it launched, within the NodePool's requirements.
const (
	karpenterNodePoolLabel    = "karpenter.sh/nodepool"
	KarpenterCapacityType     = "karpenter.sh/capacity-type"
	karpenterRegisteredLabel  = "karpenter.sh/registered"
	karpenterInitializedLabel = "karpenter.sh/initialized"
)

var karpenterWellKnown = []string{
	corev1.LabelArchStable, corev1.LabelOSStable, corev1.LabelInstanceTypeStable,
	corev1.LabelTopologyZone, corev1.LabelTopologyRegion, KarpenterCapacityType,
}

// karpenterTemplate mirrors how Karpenter labels and taints a node
// (NewNodeClaimTemplate and the registration controller's syncNode in
// sigs.k8s.io/karpenter): the template's labels, karpenter.sh/nodepool and
// the NodeClass label, a concrete value for every requirement on a custom
// key, the well-known labels of the instance type it picks, and the
// template's taints and startupTaints. karpenter.sh/registered and
// karpenter.sh/initialized are set once the node is up.
func karpenterTemplate(o *Object) (model.PoolTemplate, error) {
	var np karpenterNodePool
	if err := json.Unmarshal(o.Raw, &np); err != nil {
		return model.PoolTemplate{}, fmt.Errorf("invalid NodePool: %s", text.OneLine(err.Error()))
	}
	if o.Name == "" {
		return model.PoolTemplate{}, errors.New("NodePool has no metadata.name")
	}
	s := &np.Spec.Template.Spec
	for _, tt := range []struct {
		ts    []corev1.Taint
		field string
	}{{s.Taints, "spec.template.spec.taints"}, {s.StartupTaints, "spec.template.spec.startupTaints"}} {
		if err := nodespec.CheckTaints(tt.ts, tt.field); err != nil {
			return model.PoolTemplate{}, fmt.Errorf("NodePool %s: %w", o.Name, err)
		}
	}
	t := model.PoolTemplate{Source: o.File, Kind: "NodePool", APIVersion: o.APIVersion, Name: o.Name,
		Labels: copyLabels(np.Spec.Template.Metadata.Labels), Taints: s.Taints, StartupTaints: s.StartupTaints,
		LabelsAt:    fmt.Sprintf("NodePool %s spec.template.metadata.labels", o.Name),
		TaintsAt:    fmt.Sprintf("NodePool %s spec.template.spec.taints", o.Name),
		MemberLabel: karpenterNodePoolLabel}
	fill := func(k, v string) {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = v
			t.Filled = append(t.Filled, k)
		}
	}
	fill(karpenterNodePoolLabel, o.Name)
	if ref := s.NodeClassRef; ref != nil && ref.Group != "" && ref.Kind != "" && ref.Name != "" {
		// NodeClassLabelKey: group/lowercased kind, e.g. karpenter.k8s.aws/ec2nodeclass.
		fill(ref.Group+"/"+strings.ToLower(ref.Kind), ref.Name)
	}
	fill(karpenterRegisteredLabel, "true")
	fill(karpenterInitializedLabel, "true")
	constrained := map[string]bool{}
	for i, r := range s.Requirements {
		req := corev1.NodeSelectorRequirement{Key: r.Key, Operator: corev1.NodeSelectorOperator(r.Operator), Values: r.Values}
		where := fmt.Sprintf("NodePool %s: spec.template.spec.requirements[%d] (%s)", o.Name, i, r.Key)
		switch r.Operator {
		case "In", "NotIn":
			if len(r.Values) == 0 {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs values", where, r.Operator)
			}
		case "Exists", "DoesNotExist":
		case "Gt", "Lt", "Gte", "Lte":
			// Gte/Lte are Karpenter's; a node selector only has Gt/Lt.
			if len(r.Values) != 1 {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs one integer value", where, r.Operator)
			}
			// Kept as written: Gte n is not Gt n-1 at the int64 bound,
			// where n-1 wraps to the other end and nothing matches.
			if n, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil || strconv.FormatInt(n, 10) != r.Values[0] {
				return model.PoolTemplate{}, fmt.Errorf("%s: operator %s needs an integer (int64), got %q", where, r.Operator, r.Values[0])
			}
		default:
			return model.PoolTemplate{}, fmt.Errorf("%s: unknown operator %q (In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte)", where, r.Operator)
		}
		constrained[r.Key] = true
		t.Requirements = append(t.Requirements, req)
	}
	for _, k := range karpenterWellKnown {
		if _, fixed := t.Labels[k]; fixed || constrained[k] {
			continue
		}
		if k == corev1.LabelOSStable {
			// The NodeClass's image family decides the OS, not the pool.
			t.Labels[k] = "linux"
			t.Filled = append(t.Filled, k)
			t.Notes = append(t.Notes, "kubernetes.io/os: the NodePool does not constrain it; assumed linux (the NodeClass's image decides; add a kubernetes.io/os requirement, or give --os)")
			continue
		}
		// Set on every node, to a value the cloud provider offers.
		t.Chosen = append(t.Chosen, k)
	}
	if v, ok := t.Labels[corev1.LabelInstanceTypeStable]; ok {
		t.InstanceType = v
	}
	if len(s.StartupTaints) > 0 {
		t.Notes = append(t.Notes, "startupTaints are on each node until something removes them (usually a DaemonSet that tolerates them); Karpenter does not provision for them")
	}
	return t, nil
}

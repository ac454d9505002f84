// Package nodespec reads what describes a node in words people and tools
// already use: taints as `kubectl taint` and the kubelet's
// --register-with-taints take them, labels as the kubelet's --node-labels,
// resources as name=quantity; and checks taints as the API server would.
// The what-if flags and the readers of pool objects (a kubeadm
// configuration's kubelet flags) share them.
package nodespec

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
)

// CheckTaints refuses taints the API server would refuse: an effect the
// controller would not know, or no key.
func CheckTaints(ts []corev1.Taint, field string) error {
	for i, t := range ts {
		if t.Key == "" {
			return fmt.Errorf("%s[%d]: taint has no key", field, i)
		}
		switch t.Effect {
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			return fmt.Errorf("%s[%d]: taint %s has effect %q; want NoSchedule, PreferNoSchedule or NoExecute", field, i, t.Key, t.Effect)
		}
	}
	return nil
}

// ParseTaints parses taints as `kubectl taint` takes them:
// key[=value]:Effect. It mirrors kubectl's parseTaint
// (k8s.io/kubectl/pkg/cmd/taint/utils.go, unexported there): the key is a
// qualified name, the value a label value, the effect one of the three.
func ParseTaints(specs []string) ([]corev1.Taint, error) {
	var out []corev1.Taint
	for _, s := range specs {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		kv, effect, ok := strings.Cut(s, ":")
		if !ok || strings.Contains(effect, ":") {
			return nil, fmt.Errorf("invalid taint %q: write key[=value]:Effect, e.g. nvidia.com/gpu=true:NoSchedule", s)
		}
		t := corev1.Taint{Effect: corev1.TaintEffect(effect)}
		t.Key, t.Value, _ = strings.Cut(kv, "=")
		if errs := validation.IsQualifiedName(t.Key); len(errs) > 0 {
			return nil, fmt.Errorf("invalid taint %q: key: %s", s, strings.Join(errs, "; "))
		}
		if t.Value != "" {
			if errs := validation.IsValidLabelValue(t.Value); len(errs) > 0 {
				return nil, fmt.Errorf("invalid taint %q: value: %s", s, strings.Join(errs, "; "))
			}
		}
		if err := CheckTaints([]corev1.Taint{t}, "taint"); err != nil {
			return nil, fmt.Errorf("invalid taint %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", s)
		}
		out = append(out, t)
	}
	return out, nil
}

// ParseLabels parses key=value,key=value (the kubelet's --node-labels and
// whatif's --labels), each key a qualified name and each value a label value.
func ParseLabels(s string) (map[string]string, error) {
	m, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil {
		return nil, fmt.Errorf("%q: write key=value,key=value (%v)", s, err)
	}
	for k, v := range m {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label %s value %q: %s", k, v, strings.Join(errs, "; "))
		}
	}
	return m, nil
}

// ParseResources parses name=quantity,name=quantity (cpu=4,memory=16Gi,
// pods=110, nvidia.com/gpu=1) as --allocatable takes them.
func ParseResources(s string) (corev1.ResourceList, error) {
	out := corev1.ResourceList{}
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, q, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: write name=quantity, e.g. cpu=4,memory=16Gi,pods=110", part)
		}
		if errs := validation.IsQualifiedName(name); len(errs) > 0 {
			return nil, fmt.Errorf("resource name %q: %s", name, strings.Join(errs, "; "))
		}
		qty, err := resource.ParseQuantity(q)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: not a quantity (e.g. 4, 500m, 16Gi)", name, q)
		}
		if _, err := capacity.Amount(corev1.ResourceName(name), qty); err != nil {
			return nil, fmt.Errorf("%s=%s: %v", name, q, err)
		}
		out[corev1.ResourceName(name)] = qty
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q: no resources, e.g. cpu=4,memory=16Gi,pods=110", s)
	}
	return out, nil
}

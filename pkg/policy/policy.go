// Package policy states expected coverage: "this DaemonSet must run on every
// node matching this selector". A DaemonSet's own desired count silently
// leaves out the nodes its selectors and tolerations miss; a policy names
// them, so the analysis can report each as UncoveredNode. Rules come from
// --require flags, a --policy file, and an annotation on the DaemonSet.
package policy

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	// RequireAnnotation on a DaemonSet requires it on every node matching
	// the annotation's label selector ("" means every node).
	RequireAnnotation = "daemoncheck.io/required-nodes"
	// ExemptAnnotation on a node or DaemonSet exempts its findings: "true"
	// (or "") exempts all, else a comma-separated list of finding types.
	ExemptAnnotation = "daemoncheck.io/exempt"

	// FileAPIVersion and FileKind identify a policy file.
	FileAPIVersion = "daemoncheck/v1alpha1"
	FileKind       = "CoveragePolicy"
)

// Rule requires matching DaemonSets on matching nodes.
type Rule struct {
	// Source names the rule for messages: the flag, file rule or annotation.
	Source string
	// Namespace and Name pick DaemonSets by name ("" matches any); Selector
	// picks them by label. A rule has a Name or a Selector.
	Namespace string
	Name      string
	Selector  labels.Selector
	// Nodes selects the nodes that must run the DaemonSet.
	Nodes labels.Selector
}

// Matches reports whether the rule applies to the DaemonSet.
func (r *Rule) Matches(ds *appsv1.DaemonSet) bool {
	if r.Namespace != "" && r.Namespace != ds.Namespace {
		return false
	}
	if r.Name != "" && r.Name != ds.Name {
		return false
	}
	if r.Selector != nil && !r.Selector.Matches(labels.Set(ds.Labels)) {
		return false
	}
	return true
}

// Policy is a set of rules.
type Policy struct {
	Rules []Rule
}

// ParseRequire parses a --require value: NAMESPACE/NAME[=NODE_SELECTOR].
func ParseRequire(v string) (Rule, error) {
	ref, sel, hasSel := strings.Cut(v, "=")
	// A selector may itself contain "=": only the first one separates.
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return Rule{}, fmt.Errorf("--require %q: want NAMESPACE/NAME[=NODE_SELECTOR], e.g. --require security/falco=kubernetes.io/os=linux", v)
	}
	r := Rule{Source: "--require " + v, Namespace: ns, Name: name, Nodes: labels.Everything()}
	if hasSel {
		s, err := labels.Parse(sel)
		if err != nil {
			return Rule{}, fmt.Errorf("--require %q: invalid node selector %q: %v", v, sel, err)
		}
		r.Nodes = s
	}
	return r, nil
}

// file is the YAML form of a policy file, decoded strictly so that a typo in
// a key is an error rather than a silently ignored rule.
type file struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Rules      []fileRule `json:"rules"`
}

type fileRule struct {
	Name         string    `json:"name,omitempty"`
	DaemonSets   fileDSRef `json:"daemonSets"`
	NodeSelector string    `json:"nodeSelector,omitempty"`
}

type fileDSRef struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	Selector  string `json:"selector,omitempty"`
}

// Parse decodes a policy file's content; name is used in messages.
func Parse(name string, data []byte) ([]Rule, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("--policy %s: %s", name, oneLine(err.Error()))
	}
	if f.APIVersion != FileAPIVersion || f.Kind != FileKind {
		return nil, fmt.Errorf("--policy %s: want apiVersion: %s and kind: %s, got %q and %q", name, FileAPIVersion, FileKind, f.APIVersion, f.Kind)
	}
	if len(f.Rules) == 0 {
		return nil, fmt.Errorf("--policy %s: no rules", name)
	}
	rules := make([]Rule, 0, len(f.Rules))
	for i, fr := range f.Rules {
		where := fmt.Sprintf("--policy %s rule %d", name, i+1)
		if fr.Name != "" {
			where += fmt.Sprintf(" (%s)", fr.Name)
		}
		r := Rule{Source: where, Namespace: fr.DaemonSets.Namespace, Name: fr.DaemonSets.Name, Nodes: labels.Everything()}
		if fr.DaemonSets.Name == "" && fr.DaemonSets.Selector == "" {
			return nil, fmt.Errorf("%s: daemonSets needs a name or a selector", where)
		}
		if fr.DaemonSets.Selector != "" {
			s, err := labels.Parse(fr.DaemonSets.Selector)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid daemonSets.selector %q: %v", where, fr.DaemonSets.Selector, err)
			}
			r.Selector = s
		}
		if fr.NodeSelector != "" {
			s, err := labels.Parse(fr.NodeSelector)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid nodeSelector %q: %v", where, fr.NodeSelector, err)
			}
			r.Nodes = s
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// For returns the rules that apply to ds: the policy's, then its annotation.
func (p *Policy) For(ds *appsv1.DaemonSet) ([]Rule, error) {
	var out []Rule
	if p != nil {
		for i := range p.Rules {
			if p.Rules[i].Matches(ds) {
				out = append(out, p.Rules[i])
			}
		}
	}
	if v, ok := ds.Annotations[RequireAnnotation]; ok {
		s, err := labels.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("daemonset %s/%s: annotation %s: invalid node selector %q: %v", ds.Namespace, ds.Name, RequireAnnotation, v, err)
		}
		out = append(out, Rule{Source: "annotation " + RequireAnnotation, Namespace: ds.Namespace, Name: ds.Name, Nodes: s})
	}
	return out, nil
}

// Validate checks that every rule naming a DaemonSet finds it among those
// read, and that annotations parse, so a typo does not silently require
// nothing.
func (p *Policy) Validate(dss []appsv1.DaemonSet) error {
	for i := range dss {
		if _, err := p.For(&dss[i]); err != nil {
			return err
		}
	}
	if p == nil {
		return nil
	}
	for _, r := range p.Rules {
		if r.Name == "" {
			continue
		}
		found := false
		for i := range dss {
			if r.Matches(&dss[i]) {
				found = true
				break
			}
		}
		if !found {
			ns := r.Namespace
			if ns == "" {
				ns = "any namespace"
			}
			return fmt.Errorf("%s: daemonset %q not found in %s (among the DaemonSets read; check -n and -l)", r.Source, r.Name, ns)
		}
	}
	return nil
}

// Exemption parses an exempt annotation value: nil, false when absent; all
// types when "true" or ""; else the listed types.
func Exemption(annotations map[string]string) (types map[string]bool, all bool, present bool) {
	v, ok := annotations[ExemptAnnotation]
	if !ok || v == "false" {
		return nil, false, false
	}
	if v == "" || v == "true" {
		return nil, true, true
	}
	types = map[string]bool{}
	for _, t := range strings.Split(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	return types, false, true
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

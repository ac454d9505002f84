// Package policy states expected coverage: "this DaemonSet must run on every
// node matching this selector". A DaemonSet's own desired count silently
// leaves out the nodes its selectors and tolerations miss; a policy names
// them, so the analysis can report each as UncoveredNode. Rules come from
// --require flags, a --policy file, and an annotation on the DaemonSet.
package policy

import (
	"fmt"
	"sort"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/daemoncheck/daemoncheck/internal/text"
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

// Parse decodes a policy file's content; name is used in messages, with the
// line of what is wrong where the YAML says it.
func Parse(name string, data []byte) ([]Rule, error) {
	pos := locate(data)
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		msg := text.OneLine(err.Error())
		for _, prefix := range []string{"error converting YAML to JSON: yaml: ", "error unmarshaling JSON: while decoding JSON: json: ", "error unmarshaling JSON: "} {
			msg = strings.TrimPrefix(msg, prefix)
		}
		// The strict JSON decoder knows no lines: find the key in the YAML.
		if field, ok := strings.CutPrefix(msg, "unknown field "); ok {
			if l := pos.keys[strings.Trim(field, `"`)]; l > 0 {
				msg = fmt.Sprintf("line %d: %s", l, msg)
			}
		}
		return nil, fmt.Errorf("--policy %s: %s", name, msg)
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
		// Errors name the line too; the Source, quoted in findings, does not.
		if i < len(pos.rules) {
			where = fmt.Sprintf("--policy %s line %d: rule %d", name, pos.rules[i], i+1)
		}
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
// A required-nodes annotation that does not parse is left out, with the
// error (the policy's rules are still returned): it is a warning, see
// AnnotationWarnings, since a cluster object's typo is not the caller's
// usage error.
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
			return out, fmt.Errorf("daemonset %s/%s: annotation %s: invalid node selector %q, annotation ignored: %v", ds.Namespace, ds.Name, RequireAnnotation, v, text.OneLine(err.Error()))
		}
		out = append(out, Rule{Source: "annotation " + RequireAnnotation, Namespace: ds.Namespace, Name: ds.Name, Nodes: s})
	}
	return out, nil
}

// Validate checks that every rule naming a DaemonSet finds it among those
// read, so a typo does not silently require nothing. Annotations are
// AnnotationWarnings' to check.
func (p *Policy) Validate(dss []appsv1.DaemonSet) error {
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

// AnnotationWarnings lists the daemoncheck.io/* annotations that cannot mean
// what was written: an unknown key, a required-nodes selector that does not
// parse, an exempt value naming no known finding type. Each would otherwise
// be silently ignored (an exemption that exempts nothing, coverage that
// requires nothing). known says whether a finding type exists.
func AnnotationWarnings(dss []appsv1.DaemonSet, nodes []corev1.Node, known func(string) bool) []string {
	var out []string
	check := func(kind, ns, name string, annotations map[string]string, keys map[string]bool) {
		what := kind + " " + name
		if ns != "" {
			what = kind + " " + ns + "/" + name
		}
		ks := make([]string, 0, len(annotations))
		for k := range annotations {
			if strings.HasPrefix(k, "daemoncheck.io/") {
				ks = append(ks, k)
			}
		}
		sort.Strings(ks)
		for _, k := range ks {
			if !keys[k] {
				out = append(out, fmt.Sprintf("%s: unknown annotation %s, ignored (daemoncheck reads %s)", what, k, strings.Join(sortedKeys(keys), " and ")))
				continue
			}
			if k != ExemptAnnotation {
				continue
			}
			types, _, _ := Exemption(annotations)
			for _, t := range sortedKeys(types) {
				if !known(t) {
					out = append(out, fmt.Sprintf("%s: annotation %s=%q: %q is not a finding type, so it exempts nothing (use true, or finding types such as MissingPod)", what, ExemptAnnotation, annotations[k], t))
				}
			}
		}
	}
	for i := range dss {
		ds := &dss[i]
		check("daemonset", ds.Namespace, ds.Name, ds.Annotations, map[string]bool{ExemptAnnotation: true, RequireAnnotation: true})
		if _, err := (*Policy)(nil).For(ds); err != nil {
			out = append(out, err.Error())
		}
	}
	for i := range nodes {
		check("node", "", nodes[i].Name, nodes[i].Annotations, map[string]bool{ExemptAnnotation: true})
	}
	return out
}

// positions are where a policy file's parts are, for messages.
type positions struct {
	// rules are the lines of the rules, in order.
	rules []int
	// keys are the first line of each mapping key.
	keys map[string]int
}

// locate reads the lines of a policy file's rules and keys; a file that
// does not parse gives none (the decoder's own error has the line).
func locate(data []byte) positions {
	pos := positions{keys: map[string]int{}}
	var doc yamlv3.Node
	if yamlv3.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return pos
	}
	var walk func(n *yamlv3.Node, depth int)
	walk = func(n *yamlv3.Node, depth int) {
		if depth > 64 {
			return
		}
		if n.Kind == yamlv3.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if _, seen := pos.keys[k.Value]; !seen {
					pos.keys[k.Value] = k.Line
				}
				if depth == 1 && k.Value == "rules" && n.Content[i+1].Kind == yamlv3.SequenceNode {
					for _, r := range n.Content[i+1].Content {
						pos.rules = append(pos.rules, r.Line)
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(&doc, 0)
	return pos
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
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

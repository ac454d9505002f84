// Package explain words the fixes daemoncheck suggests, for the audit and
// for what-if: the smallest change that makes the controller target a node,
// tolerations as valid YAML, which label keys a person may set, and the
// commands (as argument vectors) a fix runs.
package explain

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kubeletapis "k8s.io/kubelet/pkg/apis"

	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// systemOwnedLabel reports whether a node label key belongs to the kubelet
// or the cloud provider: relabelling such a node by hand (kubernetes.io/os,
// kubernetes.io/arch, the topology and instance-type labels and their beta
// forms) misleads every scheduler decision and is reverted on the next
// kubelet or provider sync. node-role.kubernetes.io/* is set by people (the
// kubelet may not set it), so it is not owned.
func SystemOwnedLabel(key string) bool {
	if kubeletapis.IsKubeletLabel(key) {
		return true
	}
	// The beta forms the kubelet no longer sets are still read by old
	// schedulers and providers; they are no more a user's to change.
	if strings.HasPrefix(key, "beta.kubernetes.io/") || strings.HasPrefix(key, "failure-domain.beta.kubernetes.io/") || strings.HasPrefix(key, "topology.kubernetes.io/") {
		return true
	}
	for _, p := range providers.OwnedLabelPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// selectorMismatch splits the nodeSelector pairs node lacks into the ones a
// person may set (as "key=value") and the system-owned keys.
func SelectorMismatch(ds *appsv1.DaemonSet, node *corev1.Node) (userFixes, owned []string) {
	for k, want := range ds.Spec.Template.Spec.NodeSelector {
		// A key the node lacks is a mismatch even when the wanted value is "".
		if got, ok := node.Labels[k]; ok && got == want {
			continue
		}
		if SystemOwnedLabel(k) {
			owned = append(owned, k)
		} else {
			userFixes = append(userFixes, k+"="+want)
		}
	}
	sort.Strings(userFixes)
	sort.Strings(owned)
	return userFixes, owned
}

// affinityOwnedKeys are the system-owned label keys the DaemonSet's required
// node affinity tests: relabelling cannot be the fix for those.
func AffinityOwnedKeys(ds *appsv1.DaemonSet) []string {
	a := ds.Spec.Template.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchExpressions {
			if SystemOwnedLabel(r.Key) && !seen[r.Key] {
				seen[r.Key] = true
				out = append(out, r.Key)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ownedLabelValues renders node's values of the owned keys, e.g.
// "kubernetes.io/os=windows", to name the kind of node in a suggestion.
func OwnedLabelValues(node *corev1.Node, keys []string) string {
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v, ok := node.Labels[k]
		if !ok {
			parts = append(parts, "no "+k)
			continue
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ", ")
}

// ownedNote says why the node's labels are not the thing to change.
func OwnedNote(keys []string) string {
	return fmt.Sprintf("do not relabel the node: %s %s owned by the kubelet or the cloud provider, see IsKubeletLabel in k8s.io/kubelet/pkg/apis", strings.Join(keys, ", "), isAre(len(keys)))
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// plainYAMLScalar matches strings that YAML (1.1 as sigs.k8s.io/yaml reads
// it, and 1.2) reads as a plain string when left unquoted: a letter first,
// then letters, digits and the punctuation of label keys and values.
var plainYAMLScalar = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_./-]*$`)

// yamlNonStrings are the plain scalars that YAML 1.1 reads as booleans or
// null although they match plainYAMLScalar.
var yamlNonStrings = map[string]bool{
	"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true,
}

// yamlString writes s so that YAML reads it back as the same string: plain
// when unambiguous, else double-quoted (a JSON string is a valid YAML one).
// Taint values like true, 1, 0x1 or null would otherwise paste as booleans,
// numbers or null, which a Toleration's value (a string) rejects.
func yamlString(s string) string {
	if plainYAMLScalar.MatchString(s) && !yamlNonStrings[strings.ToLower(s)] && !strings.HasSuffix(s, ".") {
		return s
	}
	return strconv.Quote(s)
}

// tolerationYAML is the toleration that tolerates t, as a YAML flow mapping
// that can be pasted into a Pod template's tolerations list.
func TolerationYAML(t *corev1.Taint) string {
	if t.Value == "" {
		return fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", yamlString(t.Key), t.Effect)
	}
	return fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", yamlString(t.Key), yamlString(t.Value), t.Effect)
}

// misscheduledOwnedKeys are the system-owned keys behind a nodeSelector or
// affinity exclusion of node.
func MisscheduledOwnedKeys(ds *appsv1.DaemonSet, node *corev1.Node, cause scheduling.Cause) []string {
	if cause == scheduling.CauseNodeSelector {
		_, owned := SelectorMismatch(ds, node)
		return owned
	}
	return AffinityOwnedKeys(ds)
}

// advise sets a finding's fix as data (text with "{i}" for cmds[i]) and
// its plain rendering.
func Advise(f *report.Finding, text string, cmds ...report.Command) {
	f.Advice = report.Advise(text, cmds...)
	f.Suggestion = f.Advice.Render(report.RenderOptions{})
}

// kubectl is a kubectl command that reads.
func Kubectl(args ...string) report.Command {
	return report.Cmd(append([]string{"kubectl"}, args...)...)
}

// kubectlWrite is a kubectl command that changes the cluster.
func KubectlWrite(args ...string) report.Command {
	return report.WriteCmd(append([]string{"kubectl"}, args...)...)
}

// LabelTarget says, in a suggestion, which node(s) a fix is about and how
// they get labels: a live node is labelled with kubectl, a proposed pool's
// nodes through the object that creates them (what-if).
type LabelTarget struct {
	// what names the nodes: "node worker-7", "the nodes of NodePool gpu".
	What string
	// label says how to give them the key=value pairs: words, where "{0}"
	// stands for the command, if any.
	Label func(kvs []string) (string, []report.Command)
	// live: a real node, which may be NotReady or just joined.
	Live bool
}

func LiveNode(name string) LabelTarget {
	return LabelTarget{What: "node " + name, Live: true, Label: func(kvs []string) (string, []report.Command) {
		return "{0}", []report.Command{KubectlWrite(append(append([]string{"label", "node", name}, kvs...), "--overwrite")...)}
	}}
}

// exclusionFix is the smallest change that would make the controller target
// the node(s) of t, which rule requires: UncoveredNode's suggestion, also
// what-if's for a required daemon that would not land.
func ExclusionFix(ds *appsv1.DaemonSet, eval *scheduling.Evaluator, node *corev1.Node, v scheduling.Verdict, rule string, t LabelTarget) *report.Advice {
	switch v.Cause {
	case scheduling.CauseTaint:
		taints := eval.UntoleratedTaints(node)
		var tols []string
		notReady := false
		for i := range taints {
			tn := &taints[i]
			if tn.Key == corev1.TaintNodeNotReady || tn.Key == corev1.TaintNodeUnreachable {
				notReady = true
			}
			tols = append(tols, TolerationYAML(tn))
		}
		s := "add to the DaemonSet's Pod template tolerations: " + strings.Join(tols, ", ")
		if notReady && t.Live {
			s = fmt.Sprintf("%s is NotReady or has just joined; it is covered again once Ready. Otherwise %s", t.What, s)
		}
		return report.Advise(s)
	case scheduling.CauseNodeSelector:
		fixes, owned := SelectorMismatch(ds, node)
		if len(owned) > 0 {
			// A Windows node outside a Linux-only DaemonSet is the rule's
			// mistake, not the node's: its OS label is the kubelet's.
			s := fmt.Sprintf("%s; narrow the rule (%s) so it does not select nodes with %s, drop %s from the DaemonSet's nodeSelector if it really runs there, or run a separate DaemonSet for such nodes", OwnedNote(owned), rule, OwnedLabelValues(node, owned), strings.Join(owned, ", "))
			if len(fixes) > 0 {
				how, cmds := t.Label(fixes)
				return report.Advise(s+fmt.Sprintf("; the node also lacks %s, which you may set (%s)", strings.Join(fixes, " "), how), cmds...)
			}
			return report.Advise(s)
		}
		how, cmds := t.Label(fixes)
		return report.Advise(fmt.Sprintf("label the node (%s) or drop those keys from the DaemonSet's nodeSelector", how), cmds...)
	case scheduling.CauseNodeAffinity:
		if owned := AffinityOwnedKeys(ds); len(owned) > 0 {
			return report.Advise(fmt.Sprintf("narrow the rule (%s) so it does not select nodes like %s (%s), widen the DaemonSet's required node affinity if it really runs there, or run a separate DaemonSet for such nodes; the affinity tests %s, which the kubelet or the cloud provider sets: do not relabel the node", rule, strings.TrimPrefix(t.What, "node "), OwnedLabelValues(node, owned), strings.Join(owned, ", ")))
		}
		return report.Advise(fmt.Sprintf("widen the DaemonSet's required node affinity to admit %s, or change the node's labels to match a term", t.What))
	case scheduling.CauseNodeName:
		return report.Advise("remove spec.nodeName from the DaemonSet's Pod template")
	}
	return report.Advise("")
}

// shortReason names the rule that excluded a node in a few words.
func ShortReason(v scheduling.Verdict) string {
	switch v.Cause {
	case scheduling.CauseTaint:
		return "taint " + v.Taint.Key
	case scheduling.CauseNodeSelector:
		return "nodeSelector"
	case scheduling.CauseNodeAffinity:
		return "affinity"
	case scheduling.CauseNodeName:
		return "nodeName"
	}
	return ""
}

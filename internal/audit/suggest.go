package audit

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kubeletapis "k8s.io/kubelet/pkg/apis"

	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// providerLabelPrefixes are label namespaces that managed node pools and
// cloud controllers set and reconcile; a kubectl label on them is undone or
// confuses the provider, so it is never a fix to suggest. The kubelet's own
// labels (kubernetes.io/os, topology.kubernetes.io/zone, ...) come from
// k8s.io/kubelet's list, the one the NodeRestriction admission plugin uses.
var providerLabelPrefixes = []string{
	"cloud.google.com/",
	"eks.amazonaws.com/",
	"kubernetes.azure.com/",
	"karpenter.sh/",
	"karpenter.k8s.aws/",
}

// systemOwnedLabel reports whether a node label key belongs to the kubelet
// or the cloud provider: relabelling such a node by hand (kubernetes.io/os,
// kubernetes.io/arch, the topology and instance-type labels and their beta
// forms) misleads every scheduler decision and is reverted on the next
// kubelet or provider sync. node-role.kubernetes.io/* is set by people (the
// kubelet may not set it), so it is not owned.
func systemOwnedLabel(key string) bool {
	if kubeletapis.IsKubeletLabel(key) {
		return true
	}
	// The beta forms the kubelet no longer sets are still read by old
	// schedulers and providers; they are no more a user's to change.
	if strings.HasPrefix(key, "beta.kubernetes.io/") || strings.HasPrefix(key, "failure-domain.beta.kubernetes.io/") || strings.HasPrefix(key, "topology.kubernetes.io/") {
		return true
	}
	for _, p := range providerLabelPrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// selectorMismatch splits the nodeSelector pairs node lacks into the ones a
// person may set (as "key=value") and the system-owned keys.
func selectorMismatch(ds *appsv1.DaemonSet, node *corev1.Node) (userFixes, owned []string) {
	for k, want := range ds.Spec.Template.Spec.NodeSelector {
		// A key the node lacks is a mismatch even when the wanted value is "".
		if got, ok := node.Labels[k]; ok && got == want {
			continue
		}
		if systemOwnedLabel(k) {
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
func affinityOwnedKeys(ds *appsv1.DaemonSet) []string {
	a := ds.Spec.Template.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchExpressions {
			if systemOwnedLabel(r.Key) && !seen[r.Key] {
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
func ownedLabelValues(node *corev1.Node, keys []string) string {
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
func ownedNote(keys []string) string {
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
func tolerationYAML(t *corev1.Taint) string {
	if t.Value == "" {
		return fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", yamlString(t.Key), t.Effect)
	}
	return fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", yamlString(t.Key), yamlString(t.Value), t.Effect)
}

// misscheduledOwnedKeys are the system-owned keys behind a nodeSelector or
// affinity exclusion of node.
func misscheduledOwnedKeys(ds *appsv1.DaemonSet, node *corev1.Node, cause scheduling.Cause) []string {
	if cause == scheduling.CauseNodeSelector {
		_, owned := selectorMismatch(ds, node)
		return owned
	}
	return affinityOwnedKeys(ds)
}

// advise sets a finding's fix as data (text with "{i}" for cmds[i]) and
// its plain rendering.
func advise(f *report.Finding, text string, cmds ...report.Command) {
	f.Advice = report.Advise(text, cmds...)
	f.Suggestion = f.Advice.Render(report.RenderOptions{})
}

// kubectl is a kubectl command that reads.
func kubectl(args ...string) report.Command {
	return report.Cmd(append([]string{"kubectl"}, args...)...)
}

// kubectlWrite is a kubectl command that changes the cluster.
func kubectlWrite(args ...string) report.Command {
	return report.WriteCmd(append([]string{"kubectl"}, args...)...)
}

// sinceOf is t as a finding's Since (nil for the zero time).
func sinceOf(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// adviseChange sets the fix for a change to the DaemonSet itself: direct
// (with its commands) when nothing else manages the DaemonSet, else the way
// through its manager, which would revert a direct edit (a Helm release,
// the addon manager, a cloud add-on, Argo CD, Flux, an operator). Only
// read-only commands are suggested then: never a kubectl write on a
// managed object.
func (c *dsContext) adviseChange(f *report.Finding, ch owner.Change, direct string, cmds ...report.Command) {
	if !c.manager.Managed() {
		advise(f, direct, cmds...)
		return
	}
	ch.Namespace, ch.Name = c.ds.Namespace, c.ds.Name
	a := c.manager.Route(ch)
	text := a.Text
	if len(a.Inspect) > 0 && !strings.Contains(a.Text, owner.Quote(a.Inspect)) {
		advise(f, text+" (current settings: {0})", report.Cmd(a.Inspect...))
		return
	}
	advise(f, text)
}

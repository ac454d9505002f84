package pods

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.NoTargets, ds: func(c dsContext) []report.Finding {
		if !c.NodesKnown || len(c.Cluster.Nodes) == 0 {
			return nil
		}
		for _, v := range c.Verdicts {
			if v.ShouldRun {
				return nil
			}
		}
		// Without evidence of a mistake, targeting no node is by design:
		// vendors ship DaemonSets that wait for their nodes (a GPU device
		// plugin before the first GPU node, a termination handler before
		// the first spot node). The coverage section says where it does
		// not run and why; a finding needs a selector that looks wrong.
		if _, evidence := c.nearMisses(); !evidence {
			return nil
		}
		return []report.Finding{c.noTargets()}
	}})
}

// noTargets explains a DaemonSet that targets no node: the rule that
// excludes most nodes, and near misses (a label value one typo away from
// the selector's, or the key present with other values).
func (c dsContext) noTargets() report.Finding {
	counts := map[string]int{}
	for _, v := range c.Verdicts {
		counts[v.Reason]++
	}
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if counts[reasons[i]] != counts[reasons[j]] {
			return counts[reasons[i]] > counts[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	var parts []string
	for i, r := range reasons {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more reasons", len(reasons)-3))
			break
		}
		parts = append(parts, fmt.Sprintf("%d: %s", counts[r], r))
	}
	f := report.Finding{Type: report.NoTargets, Reason: report.ReasonTargetsNoNode, Params: report.Params{Detail: reasons[0]}}
	f.Message = fmt.Sprintf("the DaemonSet targets none of the %d nodes (%s)", len(c.Cluster.Nodes), strings.Join(parts, "; "))
	misses, _ := c.nearMisses()
	f.Cause = "targets no node: " + reasons[0]
	if len(misses) > 0 {
		f.Message += "; " + strings.Join(misses, "; ")
		f.Cause += "; " + misses[0]
	}
	c.AdviseChange(&f, owner.Change{What: "the node selector, affinity or tolerations of the Pod template", Field: "spec.template.spec"},
		"correct the node selector, affinity or tolerations in the Pod template: {0}", explain.KubectlWrite("edit", c.Resource(), "-n", c.DS.Namespace))
	return f
}

// nearMisses compares each wanted label value (nodeSelector, and the In
// values of required node affinity) with the values the nodes carry.
// evidence says whether one looks like a mistake: the key is on nodes
// with other values, or no node has the key but one has a key a typo
// away. A key no node has at all is not (the nodes may not exist yet).
func (c dsContext) nearMisses() (out []string, evidence bool) {
	type want struct{ key, value string }
	var wants []want
	keys := make([]string, 0, len(c.DS.Spec.Template.Spec.NodeSelector))
	for k := range c.DS.Spec.Template.Spec.NodeSelector {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		wants = append(wants, want{k, c.DS.Spec.Template.Spec.NodeSelector[k]})
	}
	if a := c.DS.Spec.Template.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, e := range t.MatchExpressions {
				if e.Operator == corev1.NodeSelectorOpIn {
					for _, v := range e.Values {
						wants = append(wants, want{e.Key, v})
					}
				}
			}
		}
	}
	nodeKeys := map[string]bool{}
	for _, n := range c.Cluster.Nodes {
		for k := range n.Labels {
			nodeKeys[k] = true
		}
	}
	for _, w := range wants {
		have := map[string]int{}
		for _, n := range c.Cluster.Nodes {
			if v, ok := n.Labels[w.key]; ok {
				have[v]++
			}
		}
		if have[w.value] > 0 {
			continue
		}
		if len(have) == 0 {
			if k := closestKey(w.key, nodeKeys); k != "" {
				out = append(out, fmt.Sprintf("no node has the label %s; did you mean %s?", w.key, k))
				evidence = true
				continue
			}
			out = append(out, fmt.Sprintf("no node has the label %s", w.key))
			continue
		}
		evidence = true
		vals := make([]string, 0, len(have))
		for v := range have {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		best, dist := "", 1<<30
		for _, v := range vals {
			if d := editDistance(w.value, v); d < dist {
				best, dist = v, d
			}
		}
		if best != "" && dist <= 2 && dist*3 <= max(len(w.value), 1)+2 {
			out = append(out, fmt.Sprintf("%s=%s matches no node; did you mean %s=%s (on %s)?", w.key, w.value, w.key, best, detect.NodesWord(have[best])))
			continue
		}
		if len(vals) > 5 {
			vals = append(vals[:5], "...")
		}
		out = append(out, fmt.Sprintf("%s=%s matches no node; the nodes carry %s=%s", w.key, w.value, w.key, strings.Join(vals, "|")))
	}
	return out, evidence
}

// closestKey is the node label key one or two edits from key (a typo:
// kubernetes.io/hostnmae), "" when none is that close.
func closestKey(key string, keys map[string]bool) string {
	best, dist := "", 3
	for k := range keys {
		if d := editDistance(key, k); d > 0 && (d < dist || d == dist && k < best) {
			best, dist = k, d
		}
	}
	if dist > 2 || dist*4 > len(key) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Package scheduling mirrors the DaemonSet controller's node predicates
// (k8s.io/kubernetes pkg/controller/daemon, v1.37) so that daemoncheck decides,
// node by node, exactly what the controller decides. The verdict itself comes
// from the upstream helpers (component-helpers nodeaffinity and taint
// matching, k8s.io/api Toleration.ToleratesTaint); the hand-written parts are
// the small wrappers the controller keeps private, each citing what it mirrors,
// and the explanations, which only say *why* a verdict came out as it did.
package scheduling

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	v1helper "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// EnableComparisonOperators is passed to the upstream taint helpers. The
// controller passes the TaintTolerationComparisonOperators feature gate, which
// is off by default; Gt/Lt tolerations then tolerate nothing.
var EnableComparisonOperators = false

// logger is discarded: the upstream helpers only log parse problems of
// Gt/Lt toleration values, which the verdict already reflects.
var logger = klog.Background().V(10)

// Verdict is the controller's decision for one (DaemonSet, node) pair.
type Verdict struct {
	ShouldRun             bool
	ShouldContinueRunning bool
	// Reason says why ShouldRun is false, in words a person understands.
	Reason string
	// Cause classifies Reason for suggestions and grouping.
	Cause Cause
	// Taint is the untolerated taint when Cause is CauseTaint.
	Taint *corev1.Taint
}

// Cause is the kind of rule that excluded a node.
type Cause string

const (
	CauseNone         Cause = ""
	CauseNodeName     Cause = "NodeName"
	CauseNodeSelector Cause = "NodeSelector"
	CauseNodeAffinity Cause = "NodeAffinity"
	CauseTaint        Cause = "Taint"
)

// DaemonPodTolerations returns the tolerations a daemon Pod of this template
// gets from the controller. Mirrors util.AddOrUpdateDaemonPodTolerations: the
// controller adds these (operator Exists, no tolerationSeconds) to every Pod it
// creates, so they count when deciding where the Pod may run.
func DaemonPodTolerations(spec *corev1.PodSpec) []corev1.Toleration {
	tols := make([]corev1.Toleration, 0, len(spec.Tolerations)+7)
	tols = append(tols, spec.Tolerations...)
	add := func(key string, effect corev1.TaintEffect) {
		tols = append(tols, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
	}
	add(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
	return tols
}

// Evaluator caches what is per-DaemonSet so that evaluating thousands of nodes
// does not rebuild the Pod, its tolerations or its parsed affinity each time.
type Evaluator struct {
	ds          *appsv1.DaemonSet
	tolerations []corev1.Toleration
	affinity    nodeaffinity.RequiredNodeAffinity

	// Explanations depend only on a few node fields (the label values the
	// selectors read, the node name when matchFields are used, the taints);
	// nodes of one pool share them, so they are built once per distinct key.
	labelKeys  []string
	usesFields bool
	reqs       map[*corev1.NodeSelectorRequirement]*nodeaffinity.NodeSelector
	memo       map[string]explanation
	// taintMemo holds the taint verdict per distinct taint list: matching
	// is O(taints x tolerations) (3,000 x 3,000 costs ~35 ms), and nodes of
	// one pool share their taints, so each distinct list is matched once.
	taintMemo map[string]taintVerdict
}

type taintVerdict struct {
	untolerated, noExecute bool
	taint                  corev1.Taint
	reason                 string
}

type explanation struct {
	cause  Cause
	reason string
}

// NewEvaluator prepares the controller's predicates for one DaemonSet.
func NewEvaluator(ds *appsv1.DaemonSet) *Evaluator {
	spec := &ds.Spec.Template.Spec
	// Mirrors util.NewPod: the template's node selector and affinity are what
	// GetRequiredNodeAffinity reads from the Pod the controller would create.
	pod := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: spec.NodeSelector, Affinity: spec.Affinity}}
	e := &Evaluator{
		ds:          ds,
		tolerations: DaemonPodTolerations(spec),
		affinity:    nodeaffinity.GetRequiredNodeAffinity(pod),
		reqs:        map[*corev1.NodeSelectorRequirement]*nodeaffinity.NodeSelector{},
		memo:        map[string]explanation{},
		taintMemo:   map[string]taintVerdict{},
	}
	for k := range spec.NodeSelector {
		e.labelKeys = append(e.labelKeys, k)
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, r := range term.MatchExpressions {
				e.labelKeys = append(e.labelKeys, r.Key)
			}
			if len(term.MatchFields) > 0 {
				e.usesFields = true
			}
		}
	}
	sort.Strings(e.labelKeys)
	return e
}

// memoKey identifies the node fields an explanation depends on.
func (e *Evaluator) memoKey(kind string, node *corev1.Node) string {
	var b strings.Builder
	b.WriteString(kind)
	switch kind {
	case "taints":
		for i := range node.Spec.Taints {
			t := &node.Spec.Taints[i]
			// Length-prefixed: offline input is not validated, so a key
			// may contain any separator.
			for _, f := range [3]string{t.Key, t.Value, string(t.Effect)} {
				b.WriteString(strconv.Itoa(len(f)))
				b.WriteByte(':')
				b.WriteString(f)
			}
		}
	default:
		if e.usesFields {
			b.WriteString("\x00" + node.Name)
		}
		for _, k := range e.labelKeys {
			v, ok := node.Labels[k]
			if ok {
				b.WriteString("\x00+" + v)
			} else {
				b.WriteString("\x00-")
			}
		}
	}
	return b.String()
}

func (e *Evaluator) explained(kind string, node *corev1.Node, build func() explanation) explanation {
	key := e.memoKey(kind, node)
	if x, ok := e.memo[key]; ok {
		return x
	}
	x := build()
	e.memo[key] = x
	return x
}

// Tolerations returns the effective tolerations of the DaemonSet's Pods.
func (e *Evaluator) Tolerations() []corev1.Toleration { return e.tolerations }

func isNoScheduleOrNoExecute(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoExecute || t.Effect == corev1.TaintEffectNoSchedule
}

func isNoExecute(t *corev1.Taint) bool { return t.Effect == corev1.TaintEffectNoExecute }

// Evaluate mirrors daemon.NodeShouldRunDaemonPod (pkg/controller/daemon,
// daemon_controller.go) and its predicates(): template nodeName, then required
// node affinity (nodeSelector AND required nodeAffinity), then taints.
func (e *Evaluator) Evaluate(node *corev1.Node) Verdict {
	tmplNodeName := e.ds.Spec.Template.Spec.NodeName
	if tmplNodeName != "" && tmplNodeName != node.Name {
		return Verdict{Cause: CauseNodeName, Reason: fmt.Sprintf("the Pod template sets spec.nodeName=%s", tmplNodeName)}
	}
	// Parse errors count as "does not fit", as in the controller, which
	// ignores the error for backwards compatibility.
	if fits, _ := e.affinity.Match(node); !fits {
		x := e.explained("affinity", node, func() explanation {
			cause, reason := e.explainAffinity(node)
			return explanation{cause, reason}
		})
		return Verdict{Cause: x.cause, Reason: x.reason}
	}
	if len(node.Spec.Taints) == 0 {
		return Verdict{ShouldRun: true, ShouldContinueRunning: true}
	}
	key := e.memoKey("taints", node)
	tv, ok := e.taintMemo[key]
	if !ok {
		taint, untolerated := v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, e.tolerations, isNoScheduleOrNoExecute, EnableComparisonOperators)
		tv = taintVerdict{untolerated: untolerated, taint: taint}
		if untolerated {
			_, tv.noExecute = v1helper.FindMatchingUntoleratedTaint(logger, node.Spec.Taints, e.tolerations, isNoExecute, EnableComparisonOperators)
			tv.reason = e.explainTaints(node)
		}
		e.taintMemo[key] = tv
	}
	if tv.untolerated {
		t := tv.taint
		return Verdict{
			ShouldContinueRunning: !tv.noExecute,
			Cause:                 CauseTaint,
			Taint:                 &t,
			Reason:                tv.reason,
		}
	}
	return Verdict{ShouldRun: true, ShouldContinueRunning: true}
}

// UntoleratedTaints lists every NoSchedule/NoExecute taint of the node that
// the DaemonSet's Pods do not tolerate, in the node's order.
func (e *Evaluator) UntoleratedTaints(node *corev1.Node) []corev1.Taint {
	var out []corev1.Taint
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if !isNoScheduleOrNoExecute(t) {
			continue
		}
		if !v1helper.TolerationsTolerateTaint(logger, e.tolerations, t, EnableComparisonOperators) {
			out = append(out, *t)
		}
	}
	return out
}

func (e *Evaluator) explainTaints(node *corev1.Node) string {
	taints := e.UntoleratedTaints(node)
	parts := make([]string, 0, len(taints))
	for i := range taints {
		parts = append(parts, TaintString(&taints[i]))
	}
	word := "taint"
	if len(parts) > 1 {
		word = "taints"
	}
	return fmt.Sprintf("untolerated %s %s", word, strings.Join(parts, ", "))
}

// TaintString prints a taint as `kubectl taint` takes it: key[=value]:Effect.
func TaintString(t *corev1.Taint) string {
	if t.Value == "" {
		return fmt.Sprintf("%s:%s", t.Key, t.Effect)
	}
	return fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)
}

// explainAffinity names the first nodeSelector key that fails, or else the
// required node affinity terms and the first requirement of each that fails.
// Each requirement is evaluated with the upstream matcher, one at a time.
func (e *Evaluator) explainAffinity(node *corev1.Node) (Cause, string) {
	sel := e.ds.Spec.Template.Spec.NodeSelector
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		got, ok := node.Labels[k]
		if !ok {
			return CauseNodeSelector, fmt.Sprintf("nodeSelector %s=%s: node has no label %s", k, sel[k], k)
		}
		if got != sel[k] {
			return CauseNodeSelector, fmt.Sprintf("nodeSelector %s=%s: node has %s=%s", k, sel[k], k, got)
		}
	}
	aff := e.ds.Spec.Template.Spec.Affinity
	if aff == nil || aff.NodeAffinity == nil || aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		// Unreachable unless the selector failed to parse.
		return CauseNodeSelector, "nodeSelector does not match the node"
	}
	terms := aff.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	var why []string
	for i, term := range terms {
		why = append(why, e.explainTerm(i, len(terms), term, node))
	}
	return CauseNodeAffinity, "required node affinity: " + strings.Join(why, "; ")
}

func (e *Evaluator) explainTerm(i, n int, term corev1.NodeSelectorTerm, node *corev1.Node) string {
	prefix := ""
	if n > 1 {
		prefix = fmt.Sprintf("term %d: ", i+1)
	}
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return prefix + "empty term matches no node"
	}
	check := func(r *corev1.NodeSelectorRequirement, fields bool) (bool, error) {
		ns, ok := e.reqs[r]
		if !ok {
			t := corev1.NodeSelectorTerm{}
			if fields {
				t.MatchFields = []corev1.NodeSelectorRequirement{*r}
			} else {
				t.MatchExpressions = []corev1.NodeSelectorRequirement{*r}
			}
			var err error
			if ns, err = nodeaffinity.NewNodeSelector(&corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{t}}); err != nil {
				return false, err
			}
			e.reqs[r] = ns
		}
		return ns.Match(node), nil
	}
	for j := range term.MatchExpressions {
		r := term.MatchExpressions[j]
		ok, err := check(&term.MatchExpressions[j], false)
		if err != nil {
			return prefix + fmt.Sprintf("invalid requirement %s: %v", requirementString(r), err)
		}
		if !ok {
			have := "node has no label " + r.Key
			if v, found := node.Labels[r.Key]; found {
				have = fmt.Sprintf("node has %s=%s", r.Key, v)
			}
			return prefix + fmt.Sprintf("%s fails (%s)", requirementString(r), have)
		}
	}
	for j := range term.MatchFields {
		r := term.MatchFields[j]
		ok, err := check(&term.MatchFields[j], true)
		if err != nil {
			return prefix + fmt.Sprintf("invalid field requirement %s: %v", requirementString(r), err)
		}
		if !ok {
			return prefix + fmt.Sprintf("field %s fails (node is %s)", requirementString(r), node.Name)
		}
	}
	return prefix + "does not match"
}

func requirementString(r corev1.NodeSelectorRequirement) string {
	switch r.Operator {
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		return fmt.Sprintf("%s %s", r.Key, r.Operator)
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		return fmt.Sprintf("%s %s %s", r.Key, r.Operator, strings.Join(r.Values, ","))
	}
	return fmt.Sprintf("%s %s [%s]", r.Key, r.Operator, strings.Join(r.Values, ","))
}

// TargetNodeName mirrors util.GetTargetNodeName: a bound Pod's node is
// spec.nodeName; an unbound daemon Pod names its node in a required node
// affinity matchFields term on metadata.name. ok is false when neither is set.
func TargetNodeName(pod *corev1.Pod) (name string, ok bool) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, true
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", false
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, exp := range term.MatchFields {
			if exp.Key == metav1.ObjectNameField && exp.Operator == corev1.NodeSelectorOpIn {
				if len(exp.Values) != 1 {
					return "", false
				}
				return exp.Values[0], true
			}
		}
	}
	return "", false
}

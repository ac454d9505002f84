package whatif

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/internal/rules/capacity"
)

// A pool whose requirements allow several values of a label (a Karpenter
// NodePool with arch In [amd64, arm64] and three instance types) creates
// nodes that differ. Trying every value is pointless: only what a
// DaemonSet's selector, a coverage rule or the node's capacity can tell
// apart matters. So each label's allowed values are grouped by the outcome
// of every selector test on that label (and, for the instance type, by the
// capacity a node of that type has), and a shape is one group per label.

// keyTest is one selector requirement on one label key, as a test of a
// value (present says whether the node has the label at all).
type keyTest struct {
	match func(value string, present bool) bool
	// values are the values the test names: the ones worth trying.
	values []string
}

// selectorTests gathers, per label key, the tests of the DaemonSets'
// nodeSelectors and required node affinity, and of the coverage rules'
// node selectors.
func selectorTests(dss []*dsInfo) map[string][]keyTest {
	out := map[string][]keyTest{}
	for _, d := range dss {
		spec := &d.ds.Spec.Template.Spec
		for k, want := range spec.NodeSelector {
			out[k] = append(out[k], keyTest{values: []string{want}, match: func(v string, p bool) bool { return p && v == want }})
		}
		if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
			for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
				for _, r := range term.MatchExpressions {
					out[r.Key] = append(out[r.Key], requirementTest(r))
				}
			}
		}
		for _, rule := range d.rules {
			reqs, ok := rule.Nodes.Requirements()
			if !ok {
				continue
			}
			for _, r := range reqs {
				r := r
				vals := r.ValuesUnsorted()
				sort.Strings(vals)
				k := r.Key()
				out[k] = append(out[k], keyTest{values: vals, match: func(v string, p bool) bool {
					ls := labels.Set{}
					if p {
						ls[k] = v
					}
					return r.Matches(ls)
				}})
			}
		}
	}
	return out
}

// Karpenter's Gte and Lte, which a pool's requirements keep as written.
const (
	opGte corev1.NodeSelectorOperator = "Gte"
	opLte corev1.NodeSelectorOperator = "Lte"
)

// requirementTest mirrors a node selector requirement's semantics
// (nodeaffinity's NodeSelectorRequirementsAsSelector: In/NotIn/Exists/
// DoesNotExist, Gt/Lt on integers) for one label, for grouping values; the
// verdicts themselves come from scheduling.Evaluator.
func requirementTest(r corev1.NodeSelectorRequirement) keyTest {
	in := func(v string) bool {
		for _, x := range r.Values {
			if x == v {
				return true
			}
		}
		return false
	}
	t := keyTest{values: append([]string(nil), r.Values...)}
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		t.match = func(v string, p bool) bool { return p && in(v) }
	case corev1.NodeSelectorOpNotIn:
		t.match = func(v string, p bool) bool { return !p || !in(v) }
	case corev1.NodeSelectorOpExists:
		t.match = func(_ string, p bool) bool { return p }
	case corev1.NodeSelectorOpDoesNotExist:
		t.match = func(_ string, p bool) bool { return !p }
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt, opGte, opLte:
		bound, err := strconv.ParseInt(strings.Join(r.Values, ""), 10, 64)
		if err != nil || len(r.Values) != 1 {
			t.match = func(string, bool) bool { return false }
			return t
		}
		// The bound and its neighbours are the values worth trying; a
		// neighbour past the int64 bounds does not exist (bound+1 would
		// wrap to the other end).
		t.values = nil
		if bound > math.MinInt64 {
			t.values = append(t.values, strconv.FormatInt(bound-1, 10))
		}
		t.values = append(t.values, strconv.FormatInt(bound, 10))
		if bound < math.MaxInt64 {
			t.values = append(t.values, strconv.FormatInt(bound+1, 10))
		}
		op := r.Operator
		t.match = func(v string, p bool) bool {
			n, err := strconv.ParseInt(v, 10, 64)
			if !p || err != nil {
				return false
			}
			switch op {
			case corev1.NodeSelectorOpGt:
				return n > bound
			case corev1.NodeSelectorOpLt:
				return n < bound
			case opGte:
				return n >= bound
			}
			return n <= bound
		}
	default:
		t.match = func(string, bool) bool { return false }
	}
	return t
}

// knownValues are the values a well-known label takes, where the set is
// closed: a pool that does not constrain them may create nodes of each.
var knownValues = func() map[string][]string {
	m := map[string][]string{
		corev1.LabelArchStable: {"amd64", "arm64"},
		corev1.LabelOSStable:   {"linux", "windows"},
	}
	for k, v := range providers.ClosedLabelValues {
		m[k] = v
	}
	return m
}()

// valueClass is a group of values of one label that every test treats
// alike.
type valueClass struct {
	// values in display order; other: the group also stands for any value
	// not listed (the pool does not name them).
	values  []string
	other   bool
	present bool
	// rep is the value the shape's node carries.
	rep string
}

func (c valueClass) String(key string) string {
	if !c.present {
		return key + " (not set)"
	}
	vs := append([]string(nil), c.values...)
	if c.other {
		vs = append(vs, "any other value")
	}
	return fmt.Sprintf("%s in (%s)", key, strings.Join(vs, ", "))
}

// sentinel is a value no test names, standing for "any other value".
func sentinel(tests []keyTest, vals []string) string {
	taken := map[string]bool{}
	for _, v := range vals {
		taken[v] = true
	}
	for _, t := range tests {
		for _, v := range t.values {
			taken[v] = true
		}
	}
	s := "other"
	for taken[s] {
		s += "-x"
	}
	return s
}

// allows says whether a pool requirement allows value v (set: every
// operator but DoesNotExist means the provisioner sets the label).
func allows(r corev1.NodeSelectorRequirement, v string) bool {
	if r.Operator == corev1.NodeSelectorOpDoesNotExist {
		return false
	}
	return requirementTest(r).match(v, true)
}

// intWitness finds an integer every requirement on one label allows, when
// they bound it (Gt, Lt, Gte, Lte): the lowest of the interval the bounds
// leave that no NotIn excludes, trying one more value than NotIn names.
// No such integer (an empty interval, every value of it excluded, a
// requirement that is not about integers) means the requirements allow no
// integer.
func intWitness(reqs []corev1.NodeSelectorRequirement) (string, bool) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	bounded, excluded := false, 0
	for _, r := range reqs {
		if r.Operator == corev1.NodeSelectorOpNotIn {
			excluded += len(r.Values)
		}
		if len(r.Values) != 1 {
			continue
		}
		b, err := strconv.ParseInt(r.Values[0], 10, 64)
		if err != nil {
			continue
		}
		switch r.Operator {
		case corev1.NodeSelectorOpGt:
			if b == math.MaxInt64 {
				return "", false
			}
			lo, bounded = max(lo, b+1), true
		case opGte:
			lo, bounded = max(lo, b), true
		case corev1.NodeSelectorOpLt:
			if b == math.MinInt64 {
				return "", false
			}
			hi, bounded = min(hi, b-1), true
		case opLte:
			hi, bounded = min(hi, b), true
		}
	}
	if !bounded {
		return "", false
	}
	for n, tries := lo, 0; n <= hi && tries <= excluded; n, tries = n+1, tries+1 {
		v := strconv.FormatInt(n, 10)
		ok := true
		for _, r := range reqs {
			if !allows(r, v) {
				ok = false
				break
			}
		}
		if ok {
			return v, true
		}
		if n == math.MaxInt64 {
			break
		}
	}
	return "", false
}

// classes groups the values a pool's requirements allow for one label.
func (w *whatIf) classes(t *model.PoolTemplate, key string, reqs []corev1.NodeSelectorRequirement) []valueClass {
	if cs, unset := unsetClasses(reqs); unset {
		return cs
	}
	tests := w.tests[key]
	vals, open := w.candidates(t, key, reqs, tests)
	other := ""
	if open {
		other = sentinel(tests, vals)
		if !allowsAll(reqs, other) {
			other = "" // integers only (Gt, Lt): the bounds' neighbours stand for them
		}
		if other != "" {
			vals = append(vals, other)
		}
	}
	return groupClasses(vals, other, func(v string) string { return w.signature(t, key, tests, other, v) })
}

// unsetClasses are the classes of a label the requirements want unset
// (DoesNotExist): one, absent, or none if another requirement wants it set.
// unset is false when no requirement is DoesNotExist.
func unsetClasses(reqs []corev1.NodeSelectorRequirement) (cs []valueClass, unset bool) {
	for _, r := range reqs {
		if r.Operator == corev1.NodeSelectorOpDoesNotExist {
			for _, o := range reqs {
				if o.Operator != corev1.NodeSelectorOpDoesNotExist {
					return nil, true // unset, and set to a value: no node is both
				}
			}
			return []valueClass{{present: false}}, true
		}
	}
	return nil, false
}

// candidates are the values of label key worth judging, sorted, that every
// requirement allows: those the requirements and the DaemonSets' tests
// name, the label's known values, and the instance types of the pool's
// nodes. open says whether other values are possible too.
func (w *whatIf) candidates(t *model.PoolTemplate, key string, reqs []corev1.NodeSelectorRequirement, tests []keyTest) (vals []string, open bool) {
	seen := map[string]bool{}
	add := func(vs ...string) {
		for _, v := range vs {
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
	}
	open = true
	for _, r := range reqs {
		switch r.Operator {
		case corev1.NodeSelectorOpIn:
			add(r.Values...)
			open = false
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt, opGte, opLte:
			// Integers around the bound: the pool's own values.
			add(requirementTest(r).values...)
		}
	}
	for _, tt := range tests {
		add(tt.values...)
	}
	if known, closed := knownValues[key]; closed {
		add(known...)
		open = false
	}
	if key == corev1.LabelInstanceTypeStable && open {
		// Instance types the pool's existing nodes have are real samples
		// of what it picks.
		for _, n := range w.poolNodes(t) {
			add(n.Labels[key])
		}
	}
	kept := vals[:0]
	for _, v := range vals {
		if allowsAll(reqs, v) {
			kept = append(kept, v)
		}
	}
	vals = kept
	if len(vals) == 0 {
		// The bounds' neighbours may all be excluded (Gt 3, Lt 7,
		// NotIn [4, 6]) while an integer between them is not (5).
		if v, ok := intWitness(reqs); ok {
			vals = append(vals, v)
		}
	}
	sort.SliceStable(vals, func(i, j int) bool { return vals[i] < vals[j] })
	return vals, open
}

// allowsAll says whether every requirement allows value v.
func allowsAll(reqs []corev1.NodeSelectorRequirement, v string) bool {
	for _, r := range reqs {
		if !allows(r, v) {
			return false
		}
	}
	return true
}

// signature is what tells value v of label key apart: which of the
// DaemonSets' tests it passes, and for an instance type its sample node's
// capacity and platform (other, the sentinel, has none).
func (w *whatIf) signature(t *model.PoolTemplate, key string, tests []keyTest, other, v string) string {
	var b strings.Builder
	for _, tt := range tests {
		if tt.match(v, true) {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	if key == corev1.LabelInstanceTypeStable {
		if s := w.sample(t, v); s != nil && v != other {
			// Types apart in capacity or platform are apart.
			b.WriteString("|" + amountsLine(capacity.FromList(s.Status.Allocatable)) + "|" + s.Labels[corev1.LabelArchStable] + "|" + s.Labels[corev1.LabelOSStable])
		} else {
			b.WriteString("|?")
		}
	}
	return b.String()
}

// groupClasses groups vals by sig, in order; other (the sentinel, if any)
// marks its class as standing for any other value.
func groupClasses(vals []string, other string, sig func(string) string) []valueClass {
	var out []valueClass
	at := map[string]int{}
	for _, v := range vals {
		s := sig(v)
		i, ok := at[s]
		if !ok {
			i = len(out)
			at[s] = i
			out = append(out, valueClass{present: true, rep: v})
		}
		if v == other {
			out[i].other = true
			continue
		}
		out[i].values = append(out[i].values, v)
	}
	for i := range out {
		// A class that is only "any other value" keeps the sentinel.
		if len(out[i].values) > 0 {
			out[i].rep = out[i].values[0]
		}
	}
	return out
}

// poolNodes are the cluster's nodes of the pool t proposes (a NodePool
// being changed already has nodes: its MemberLabel names them).
func (w *whatIf) poolNodes(t *model.PoolTemplate) []*corev1.Node {
	if t.MemberLabel == "" {
		return nil
	}
	var out []*corev1.Node
	for _, n := range w.nodes {
		if n.Labels[t.MemberLabel] == t.Name && n.Labels[corev1.LabelInstanceTypeStable] != "" {
			out = append(out, n)
		}
	}
	return out
}

// sample is the cluster node whose allocatable stands for nodes of
// instance type it in pool t: one of the pool's own nodes if it has any of
// that type, else any node of the type; the smallest (cpu, then memory),
// so that a fit judged on it holds on every node of the type.
func (w *whatIf) sample(t *model.PoolTemplate, it string) *corev1.Node {
	cands := w.samples[it]
	if len(cands) == 0 {
		return nil
	}
	var own []*corev1.Node
	for _, n := range cands {
		if t.MemberLabel != "" && n.Labels[t.MemberLabel] == t.Name {
			own = append(own, n)
		}
	}
	if len(own) > 0 {
		cands = own
	}
	var best *corev1.Node
	var bestA capacity.Amounts
	for _, n := range cands {
		if len(n.Status.Allocatable) == 0 {
			continue
		}
		a := capacity.FromList(n.Status.Allocatable)
		if best == nil || a[corev1.ResourceCPU] < bestA[corev1.ResourceCPU] ||
			(a[corev1.ResourceCPU] == bestA[corev1.ResourceCPU] && a[corev1.ResourceMemory] < bestA[corev1.ResourceMemory]) {
			best, bestA = n, a
		}
	}
	return best
}

// shapeSpec is one node shape of a pool, before it is judged.
type shapeSpec struct {
	labels map[string]string
	varies []string
	// instanceType is the shape's instance type; otherType: it stands for
	// instance types the pool does not name.
	instanceType string
	otherType    bool
	// instanceTypes are all the instance types the shape stands for (the
	// pool's values grouped with instanceType); moreTypes: also types the
	// pool does not name.
	instanceTypes []string
	moreTypes     bool
	// parts are the values that set the shape apart, for its name.
	parts []string
	// arches are the architectures the shape stands for, when the pool
	// leaves the architecture open (the selectors may not tell them
	// apart: labels then carry one of them).
	arches []string
}

// shapes enumerates the pool's node shapes: the template's labels, the
// kubelet's and cloud provider's labels filled in, and one value group per
// label the requirements leave open; at most MaxShapes of them, and how
// many there are in all (see enumerate). Notes about what was assumed go to
// notes.
func (w *whatIf) shapes(t *model.PoolTemplate, filled map[string]bool, notes *[]string) shapeSet {
	base := map[string]string{}
	for k, v := range t.Labels {
		base[k] = v
	}
	reqs := map[string][]corev1.NodeSelectorRequirement{}
	for _, r := range t.Requirements {
		reqs[r.Key] = append(reqs[r.Key], r)
	}
	// What flags or the object state outright wins over requirements.
	for k, v := range map[string]string{corev1.LabelOSStable: t.OS, corev1.LabelArchStable: t.Arch, corev1.LabelInstanceTypeStable: t.InstanceType} {
		if v != "" {
			base[k] = v
			delete(reqs, k)
		}
	}
	for _, k := range t.Chosen {
		_, known := knownValues[k]
		if _, fixed := base[k]; !fixed && reqs[k] == nil && (len(w.tests[k]) > 0 || known || k == corev1.LabelInstanceTypeStable) {
			// The provisioner picks a value: any of them may come.
			reqs[k] = []corev1.NodeSelectorRequirement{{Key: k, Operator: corev1.NodeSelectorOpExists}}
		}
	}
	for k := range base {
		delete(reqs, k)
	}
	assume := func(k, v, how string) {
		if _, ok := base[k]; ok {
			return
		}
		if _, ok := reqs[k]; ok {
			return
		}
		base[k] = v
		filled[k] = true
		*notes = append(*notes, fmt.Sprintf("%s: not stated; assumed %s (give %s)", k, v, how))
	}
	// A cluster node of the instance type tells its OS and architecture.
	if it := base[corev1.LabelInstanceTypeStable]; it != "" {
		if n := w.sample(t, it); n != nil {
			for _, k := range []string{corev1.LabelOSStable, corev1.LabelArchStable} {
				_, fixed := base[k]
				if v := n.Labels[k]; v != "" && !fixed && reqs[k] == nil {
					base[k] = v
					filled[k] = true
					*notes = append(*notes, fmt.Sprintf("%s: %s, as node %s of instance type %s", k, v, n.Name, it))
				}
			}
		}
	}
	assume(corev1.LabelOSStable, "linux", "--os")
	assume(corev1.LabelArchStable, "amd64", "--arch")

	keys := make([]string, 0, len(reqs))
	for k := range reqs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var axes []axis
	var none []string
	for _, k := range keys {
		cs := w.classes(t, k, reqs[k])
		if len(cs) == 0 {
			var rs []string
			for _, r := range reqs[k] {
				rs = append(rs, requirementText(r))
			}
			none = append(none, strings.Join(rs, " and ")+" allow no value")
			continue
		}
		axes = append(axes, axis{k, cs})
	}
	if len(none) > 0 {
		return shapeSet{total: new(big.Int), none: strings.Join(none, "; ")}
	}
	return w.enumerate(t, base, axes, w.opts.MaxShapes)
}

// fillLabels adds the labels the kubelet and the cloud provider set on
// every node (kubelet initialNode and updateDefaultLabels, v1.37; the cloud
// node controller): hostname, the beta OS/arch labels the kubelet still
// sets, and the beta instance-type/zone/region forms beside the stable
// ones. filled records the keys added.
func fillLabels(ls map[string]string, name string, filled map[string]bool) {
	set := func(k, v string) {
		if _, ok := ls[k]; !ok && v != "" {
			ls[k] = v
			filled[k] = true
		}
	}
	set(corev1.LabelHostname, name)
	set("beta.kubernetes.io/os", ls[corev1.LabelOSStable])
	set("beta.kubernetes.io/arch", ls[corev1.LabelArchStable])
	set(corev1.LabelInstanceType, ls[corev1.LabelInstanceTypeStable])
	set(corev1.LabelFailureDomainBetaZone, ls[corev1.LabelTopologyZone])
	set(corev1.LabelFailureDomainBetaRegion, ls[corev1.LabelTopologyRegion])
}

// shapeNames names the shapes of a pool as nodes: the Node's own name, else
// the pool's name and the values that set each shape apart
// (gpu-arm64-g5g.xlarge), cut to a valid hostname label.
func shapeNames(t *model.PoolTemplate, specs []shapeSpec) []string {
	out := make([]string, len(specs))
	seen := map[string]int{}
	for i, s := range specs {
		name := t.NodeName
		if name == "" || len(specs) > 1 {
			base := cmp.Or(t.Name, "node")
			if t.NodeName != "" {
				base = t.NodeName
			}
			parts := append([]string{base}, s.parts...)
			if len(parts) == 1 {
				parts = append(parts, "node")
			}
			name = hostnameLabel(strings.Join(parts, "-"))
		}
		if n := seen[name]; n > 0 {
			name = hostnameLabel(fmt.Sprintf("%s-%d", name, n+1))
		}
		seen[name]++
		out[i] = name
	}
	return out
}

// hostnameLabel lowercases s and keeps what a hostname label value allows
// (letters, digits, '-', '.'), at most 63 characters, ending alphanumeric.
func hostnameLabel(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out := b.String()
	if len(out) > 63 {
		out = out[:63]
	}
	return strings.TrimRight(out, "-.")
}

//go:build e2e

package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/rig"
)

// The randomized differential test. By default it runs a fixed set of seeds;
// pass flags to the test binary for more, e.g.
//
//	go test -tags e2e -run TestRandomized ./test/e2e/ -args -seed=1000 -count=200
var (
	flagSeed  = flag.Int64("seed", 0, "TestRandomized: first seed (0: the fixed CI seeds)")
	flagCount = flag.Int("count", 0, "TestRandomized: number of consecutive seeds from -seed (default 1 with -seed)")
)

var ciSeeds = []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func TestRandomized(t *testing.T) {
	plugin(t)
	seeds := ciSeeds
	if *flagSeed != 0 {
		n := *flagCount
		if n <= 0 {
			n = 1
		}
		seeds = nil
		for i := 0; i < n; i++ {
			seeds = append(seeds, *flagSeed+int64(i))
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) {
			t.Parallel()
			runSeed(t, seed)
		})
	}
}

// world is what one seed generates.
type world struct {
	nodes []*corev1.Node
	kinds map[string]nodeKind
	dss   []*appsv1.DaemonSet
	// mutations are applied after the DaemonSets settled (half the seeds).
	mutations []mutation
	// claims are applied last (two seeds in three): Pod relabels, orphan
	// and adopt, rollouts with a taint change in the middle. They come from
	// their own random stream, so a seed's nodes, DaemonSets and mutations
	// are what they were before claims existed.
	claims []claimOp
}

// claimOp is one change of the claims phase.
type claimOp struct {
	kind claimKind
	ds   string
	// pick chooses the Pod to relabel (index into the DaemonSet's Pods).
	pick int
	// surge: the rollout uses maxSurge 1 (else maxUnavailable 1).
	surge bool
	// taint is added to node mid-rollout.
	node  string
	taint corev1.Taint
}

type claimKind int

const (
	relabelPod   claimKind = iota // relabel an owned Pod out of the selector: released, replaced
	orphanAdopt                   // delete --cascade=orphan, re-create: adopted
	rolloutTaint                  // stuck rollout, then a taint on a node
)

func (c claimOp) String() string {
	switch c.kind {
	case relabelPod:
		return fmt.Sprintf("%s: relabel Pod #%d out of the selector", c.ds, c.pick)
	case orphanAdopt:
		return c.ds + ": delete --cascade=orphan and re-create"
	}
	strategy := "maxUnavailable 1"
	if c.surge {
		strategy = "maxSurge 1"
	}
	return fmt.Sprintf("%s: rollout (%s) to a crash-looping template, then taint %s %s=%s:%s", c.ds, strategy, c.node, c.taint.Key, c.taint.Value, c.taint.Effect)
}

func generateClaims(seed int64, w *world) {
	r := rand.New(rand.NewSource(seed*7919 + 14))
	if r.Intn(3) == 0 {
		return
	}
	used := map[string]bool{}
	for k := 1 + r.Intn(2); k > 0; k-- {
		ds := pick(r, w.dss).Name
		if used[ds] {
			continue
		}
		used[ds] = true
		op := claimOp{kind: claimKind(r.Intn(3)), ds: ds, pick: r.Intn(8), surge: r.Intn(2) == 0}
		op.node = pick(r, w.nodes).Name
		op.taint = corev1.Taint{Key: pick(r, taintKey), Value: pick(r, taintVal), Effect: pick(r, []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute})}
		w.claims = append(w.claims, op)
	}
}

type nodeKind int

const (
	kwokNode       nodeKind = iota // kwok plays the kubelet
	frozenReady                    // the test plays the kubelet: Ready
	frozenNotReady                 // Ready=False from the start
	frozenNoNet                    // NetworkUnavailable=True from the start
)

// mutation changes a node after the Pods run.
type mutation struct {
	node     string
	desc     string
	edit     func(*corev1.Node) // nil for a condition change
	notReady bool               // turn the (frozen) node NotReady
}

var (
	zones    = []string{"a", "b", "c"}
	roles    = []string{"edge", "core", "gpu"}
	taintKey = []string{"dedicated", "maintenance", "special"}
	taintVal = []string{"x", "y"}
	effects  = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.Intn(len(xs))] }

func generate(s *scenario, seed int64) world {
	r := rand.New(rand.NewSource(seed))
	w := world{kinds: map[string]nodeKind{}}
	nNodes := 3 + r.Intn(4)
	for i := 0; i < nNodes; i++ {
		kind := kwokNode
		if x := r.Intn(10); x >= 7 {
			kind = nodeKind(x - 6) // 10% each: frozenReady, frozenNotReady, frozenNoNet
		}
		var n *corev1.Node
		switch kind {
		case kwokNode:
			n = s.newNode(fmt.Sprintf("n%d", i))
		case frozenReady:
			n = s.newFrozenNode(fmt.Sprintf("n%d", i), nil)
		case frozenNotReady:
			n = s.newFrozenNode(fmt.Sprintf("n%d", i), map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse})
		case frozenNoNet:
			n = s.newFrozenNode(fmt.Sprintf("n%d", i), map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeNetworkUnavailable: corev1.ConditionTrue})
		}
		w.kinds[n.Name] = kind
		if r.Intn(4) > 0 {
			n.Labels["zone"] = pick(r, zones)
		}
		if r.Intn(2) == 0 {
			n.Labels["tier"] = strconv.Itoa(1 + r.Intn(20))
		}
		if r.Intn(3) == 0 {
			n.Labels["role"] = pick(r, roles)
		}
		if r.Intn(3) == 0 {
			n.Labels["accelerator"] = "true"
		}
		seen := map[string]bool{}
		for k := r.Intn(3); k > 0; k-- {
			tn := corev1.Taint{Key: pick(r, taintKey), Effect: pick(r, effects)}
			if r.Intn(3) > 0 {
				tn.Value = pick(r, taintVal)
			}
			if id := tn.Key + string(tn.Effect); !seen[id] {
				seen[id] = true
				n.Spec.Taints = append(n.Spec.Taints, tn)
			}
		}
		if r.Intn(6) == 0 {
			n.Spec.Unschedulable = true
		}
		w.nodes = append(w.nodes, n)
	}
	nDS := 2 + r.Intn(3)
	for i := 0; i < nDS; i++ {
		ds := s.newDaemonSet(fmt.Sprintf("ds%d", i))
		spec := &ds.Spec.Template.Spec
		if r.Intn(4) == 0 {
			spec.NodeSelector["zone"] = pick(r, zones)
		}
		if r.Intn(2) == 0 {
			var terms []corev1.NodeSelectorTerm
			for k := 1 + r.Intn(2); k > 0; k-- {
				terms = append(terms, randomTerm(r, w.nodes))
			}
			spec.Affinity = requiredAffinity(terms...)
		}
		for k := r.Intn(4); k > 0; k-- {
			spec.Tolerations = append(spec.Tolerations, randomToleration(r))
		}
		if r.Intn(5) == 0 {
			spec.HostNetwork = true
		}
		w.dss = append(w.dss, ds)
	}
	if r.Intn(2) == 0 {
		for k := 1 + r.Intn(2); k > 0; k-- {
			w.mutations = append(w.mutations, randomMutation(r, w))
		}
	}
	generateClaims(seed, &w)
	return w
}

func randomMutation(r *rand.Rand, w world) mutation {
	n := pick(r, w.nodes)
	m := mutation{node: n.Name}
	switch r.Intn(6) {
	case 0, 1:
		tn := corev1.Taint{Key: pick(r, taintKey), Value: pick(r, taintVal), Effect: pick(r, effects)}
		m.desc = fmt.Sprintf("add taint %s=%s:%s", tn.Key, tn.Value, tn.Effect)
		m.edit = func(n *corev1.Node) {
			for _, old := range n.Spec.Taints {
				if old.Key == tn.Key && old.Effect == tn.Effect {
					return
				}
			}
			n.Spec.Taints = append(n.Spec.Taints, tn)
		}
	case 2:
		z := pick(r, zones)
		m.desc = "set label zone=" + z
		m.edit = func(n *corev1.Node) { n.Labels["zone"] = z }
	case 3:
		key := pick(r, []string{"zone", "role", "tier", "accelerator"})
		m.desc = "remove label " + key
		m.edit = func(n *corev1.Node) { delete(n.Labels, key) }
	case 4:
		tier := strconv.Itoa(1 + r.Intn(20))
		m.desc = "set label tier=" + tier + ", accelerator=true"
		m.edit = func(n *corev1.Node) { n.Labels["tier"] = tier; n.Labels["accelerator"] = "true" }
	case 5:
		if w.kinds[n.Name] == frozenReady || w.kinds[n.Name] == frozenNoNet {
			m.desc = "kubelet reports NotReady"
			m.notReady = true
		} else {
			m.desc = "cordon"
			m.edit = func(n *corev1.Node) { n.Spec.Unschedulable = true }
		}
	}
	return m
}

func randomTerm(r *rand.Rand, nodes []*corev1.Node) corev1.NodeSelectorTerm {
	var term corev1.NodeSelectorTerm
	for k := 1 + r.Intn(2); k > 0; k-- {
		switch r.Intn(7) {
		case 0:
			term.MatchExpressions = append(term.MatchExpressions, expr("zone", corev1.NodeSelectorOpIn, pick(r, zones), pick(r, zones)))
		case 1:
			term.MatchExpressions = append(term.MatchExpressions, expr("zone", corev1.NodeSelectorOpNotIn, pick(r, zones)))
		case 2:
			term.MatchExpressions = append(term.MatchExpressions, expr(pick(r, []string{"role", "accelerator", "tier"}), corev1.NodeSelectorOpExists))
		case 3:
			term.MatchExpressions = append(term.MatchExpressions, expr(pick(r, []string{"role", "accelerator", "zone"}), corev1.NodeSelectorOpDoesNotExist))
		case 4:
			term.MatchExpressions = append(term.MatchExpressions, expr("tier", corev1.NodeSelectorOpGt, strconv.Itoa(r.Intn(20))))
		case 5:
			term.MatchExpressions = append(term.MatchExpressions, expr("tier", corev1.NodeSelectorOpLt, strconv.Itoa(1+r.Intn(20))))
		case 6:
			op := pick(r, []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn})
			term.MatchFields = append(term.MatchFields, expr("metadata.name", op, pick(r, nodes).Name))
		}
	}
	return term
}

func randomToleration(r *rand.Rand) corev1.Toleration {
	var tol corev1.Toleration
	switch r.Intn(6) {
	case 0: // tolerate everything
		tol.Operator = corev1.TolerationOpExists
	case 1, 2:
		tol.Key = pick(r, taintKey)
		tol.Operator = corev1.TolerationOpExists
	default:
		tol.Key = pick(r, taintKey)
		tol.Operator = corev1.TolerationOpEqual
		tol.Value = pick(r, taintVal)
	}
	if tol.Key != "" || r.Intn(2) == 0 {
		if r.Intn(2) == 0 {
			tol.Effect = pick(r, effects)
		}
	}
	if tol.Effect == corev1.TaintEffectNoExecute && r.Intn(2) == 0 {
		tol.TolerationSeconds = ptr(int64(3600))
	}
	return tol
}

func runSeed(t *testing.T, seed int64) {
	s := newScenario(t, fmt.Sprintf("rand-%d", seed))
	w := generate(s, seed)
	s.createNodes(false, w.nodes...)
	for _, n := range w.nodes {
		switch w.kinds[n.Name] {
		case frozenNotReady:
			waitTaintEffect(t, s, n.Name, corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule)
		case frozenNoNet:
			waitNodeReady(t, s.ctx, n.Name)
			waitTaint(t, s, n.Name, corev1.TaintNodeNetworkUnavailable)
		default:
			waitNodeReady(t, s.ctx, n.Name)
		}
	}
	for _, ds := range w.dss {
		s.createDaemonSet(ds)
	}
	for _, ds := range w.dss {
		s.settle(ds.Name, func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
			// Pods on NotReady nodes (tolerated by a wildcard toleration)
			// are marked not Ready by the node lifecycle controller.
			st := ds.Status
			return st.CurrentNumberScheduled == st.DesiredNumberScheduled && int(st.DesiredNumberScheduled) == len(pods)
		})
	}
	// One plugin run for the whole namespace.
	rep, _ := runPlugin(t, "-n", s.name)
	s.compareSeed(seed, w, rep, nil)
	if len(w.mutations) > 0 {
		s.mutate(seed, w)
	}
	if len(w.claims) > 0 {
		s.claim(seed, w)
	}
}

// compareSeed checks every DaemonSet of the seed. before (after mutations)
// maps DaemonSet name -> node -> UID of the Pod that ran there before the
// mutations.
func (s *scenario) compareSeed(seed int64, w world, rep *report.Report, before map[string]map[string]string) {
	t := s.t
	targeted, pairs, misscheduled := 0, 0, int32(0)
	for _, dr := range rep.DaemonSets {
		if dr.Computed != nil {
			misscheduled += dr.Computed.NumberMisscheduled
		}
		for _, v := range dr.Nodes {
			if strings.HasPrefix(v.Name, s.name+"-") {
				pairs++
				if v.ShouldRun {
					targeted++
				}
			}
		}
	}
	phase := "created"
	if before != nil {
		phase = "mutated (" + describeMutations(w) + ")"
	}
	t.Logf("seed %d %s: %d nodes, %d DaemonSets, %d of %d (DaemonSet, node) pairs targeted, %d misscheduled", seed, phase, len(w.nodes), len(w.dss), targeted, pairs, misscheduled)
	for _, ds := range w.dss {
		cur := s.getDaemonSet(ds.Name)
		pods, err := daemonPods(s.ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		var dr *report.DaemonSetReport
		var problems []string
		if before == nil {
			var unhealthy []string
			for _, p := range pods {
				if !podReady(&p) {
					unhealthy = append(unhealthy, f(report.UnhealthyPod, podNode(&p)))
				}
			}
			dr, problems = s.compare(rep, cur, pods, expectation{findings: unhealthy})
		} else {
			dr, problems = s.compareMutated(rep, cur, pods, before[ds.Name])
		}
		if len(problems) == 0 {
			continue
		}
		// Name the nodes whose verdict disagrees, and print only them.
		onNode := map[string]bool{}
		for _, p := range pods {
			onNode[podNode(&p)] = true
		}
		verdict := map[string]bool{}
		if dr != nil {
			for _, v := range dr.Nodes {
				verdict[v.Name] = v.ShouldRun
			}
		}
		var bad []*corev1.Node
		var lines []string
		for _, n := range w.nodes {
			if verdict[n.Name] != onNode[n.Name] {
				bad = append(bad, n)
				lines = append(lines, fmt.Sprintf("node %s: daemoncheck shouldRun=%v, controller placed a Pod=%v", n.Name, verdict[n.Name], onNode[n.Name]))
			}
		}
		if len(bad) == 0 {
			bad = w.nodes
		}
		var b strings.Builder
		for _, n := range bad {
			writeYAML(&b, reproNode(n))
		}
		writeYAML(&b, reproDaemonSet(ds))
		t.Errorf("seed %d (%s): daemoncheck disagrees with the controller on DaemonSet %s:\n  - %s\n  - %s\nreproduce with: go test -tags e2e -run 'TestRandomized' ./test/e2e/ -args -seed=%d\nminimal objects (current state):\n%s",
			seed, phase, ds.Name, strings.Join(problems, "\n  - "), strings.Join(lines, "\n  - "), seed, b.String())
	}
}

func describeMutations(w world) string {
	var parts []string
	for _, m := range w.mutations {
		parts = append(parts, m.node+": "+m.desc)
	}
	return strings.Join(parts, "; ")
}

// mutate changes nodes after the Pods run, makes every DaemonSet resync
// (the controller does not always resync on node updates, see
// controller-rules.md), lets it settle and compares again.
func (s *scenario) mutate(seed int64, w world) {
	t := s.t
	before := map[string]map[string]string{}
	for _, ds := range w.dss {
		cur := s.getDaemonSet(ds.Name)
		pods, err := daemonPods(s.ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		before[ds.Name] = map[string]string{}
		for _, p := range pods {
			before[ds.Name][podNode(&p)] = string(p.UID)
		}
	}
	for _, m := range w.mutations {
		if m.notReady {
			s.kubelet().set(s, m.node, map[corev1.NodeConditionType]corev1.ConditionStatus{corev1.NodeReady: corev1.ConditionFalse})
			waitTaintEffect(t, s, m.node, corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule)
			continue
		}
		s.updateNode(m.node, m.edit)
	}
	for _, ds := range w.dss {
		s.poke(ds.Name)
	}
	for _, ds := range w.dss {
		s.settle(ds.Name, func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
			return ds.Status.CurrentNumberScheduled == ds.Status.DesiredNumberScheduled
		})
	}
	rep, _ := runPlugin(t, "-n", s.name)
	s.compareSeed(seed, w, rep, before)
}

// compareMutated checks a report after node mutations, against what the
// controller observably did on each node:
//   - a Pod created after the mutations: the controller targets the node;
//   - a Pod that was there and is gone: shouldContinueRunning is false;
//   - no Pod before or after: the controller does not target the node;
//   - a Pod kept: shouldContinueRunning is true (targeted or misscheduled;
//     the counts decide, and computed must equal status).
//
// Findings: MisscheduledPod on every node with a Pod the report does not
// target (as many as the controller's numberMisscheduled), UnhealthyPod on
// targeted nodes whose Pod is not Ready (a NotReady node's Pods are marked
// not Ready), nothing else.
func (s *scenario) compareMutated(rep *report.Report, ds *appsv1.DaemonSet, pods []corev1.Pod, before map[string]string) (*report.DaemonSetReport, []string) {
	dr, problems := s.compare(rep, ds, pods, expectation{allowStale: true, skipNodes: true, anyFindings: true})
	if dr == nil {
		return dr, problems
	}
	c := dr.Computed
	if c != nil {
		got := *c
		got.ObservedGeneration = 0
		st := ds.Status
		want := report.Counts{DesiredNumberScheduled: st.DesiredNumberScheduled, CurrentNumberScheduled: st.CurrentNumberScheduled, NumberReady: st.NumberReady, NumberAvailable: st.NumberAvailable, UpdatedNumberScheduled: st.UpdatedNumberScheduled, NumberMisscheduled: st.NumberMisscheduled, NumberUnavailable: st.NumberUnavailable}
		if got != want {
			problems = append(problems, fmt.Sprintf("computed counts %+v != controller status %+v", got, want))
		}
	}
	verdicts := map[string]report.NodeVerdict{}
	for _, v := range dr.Nodes {
		verdicts[v.Name] = v
	}
	now := map[string]*corev1.Pod{}
	for i := range pods {
		if pods[i].DeletionTimestamp == nil {
			now[podNode(&pods[i])] = &pods[i]
		}
	}
	var wantF []string
	for name := range s.scenarioNodes() {
		v := verdicts[name]
		p := now[name]
		old, had := before[name]
		switch {
		case p != nil && string(p.UID) != old:
			if !v.ShouldRun {
				problems = append(problems, fmt.Sprintf("node %s: the controller created a Pod after the change, but daemoncheck says shouldRun=false (%s)", name, v.Reason))
			}
		case p == nil && had:
			if v.ShouldRun || v.ShouldContinueRunning {
				problems = append(problems, fmt.Sprintf("node %s: the controller removed its Pod after the change, but daemoncheck says shouldRun=%v shouldContinueRunning=%v", name, v.ShouldRun, v.ShouldContinueRunning))
			}
		case p == nil:
			if v.ShouldRun {
				problems = append(problems, fmt.Sprintf("node %s: no Pod before or after the change, but daemoncheck says shouldRun=true", name))
			}
		default: // kept
			if !v.ShouldContinueRunning {
				problems = append(problems, fmt.Sprintf("node %s: the controller kept its Pod, but daemoncheck says shouldContinueRunning=false (%s)", name, v.Reason))
			}
		}
		if p != nil && !v.ShouldRun {
			wantF = append(wantF, f(report.MisscheduledPod, name))
		}
		if p != nil && v.ShouldRun && !podReady(p) {
			wantF = append(wantF, f(report.UnhealthyPod, name))
		}
	}
	// The verdicts were just checked against what the controller did: a
	// DaemonSet that targets a node is never NoTargets; one that targets
	// none is NoTargets only when its selector looks mistaken, which
	// depends on every node of the shared rig (unit tests judge that rule).
	targetsAny := false
	for name := range s.scenarioNodes() {
		targetsAny = targetsAny || verdicts[name].ShouldRun
	}
	wantF = append(wantF, agentFindings(ds)...)
	sort.Strings(wantF)
	if got := noTargetsAllowed(findingSet(dr.Findings), !targetsAny); !reflect.DeepEqual(got, dedup(wantF)) {
		problems = append(problems, fmt.Sprintf("findings %v, want %v", got, wantF))
	}
	miss := 0
	for _, fd := range dr.Findings {
		if fd.Type == report.MisscheduledPod {
			miss++
		}
	}
	if int32(miss) != ds.Status.NumberMisscheduled {
		problems = append(problems, fmt.Sprintf("%d MisscheduledPod findings, but the controller counts numberMisscheduled=%d", miss, ds.Status.NumberMisscheduled))
	}
	return dr, problems
}

func waitTaintEffect(t *testing.T, s *scenario, node, key string, effect corev1.TaintEffect) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		n, err := cluster.Client.CoreV1().Nodes().Get(s.ctx, node, metav1.GetOptions{})
		if err == nil {
			for _, tn := range n.Spec.Taints {
				if tn.Key == key && tn.Effect == effect {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("node %s never got taint %s:%s", node, key, effect)
}

// reproNode is a Node with only what the controller's decision reads.
func reproNode(n *corev1.Node) map[string]any {
	spec := map[string]any{}
	if len(n.Spec.Taints) > 0 {
		spec["taints"] = n.Spec.Taints
	}
	if n.Spec.Unschedulable {
		spec["unschedulable"] = true
	}
	return map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{"name": n.Name, "labels": n.Labels, "annotations": n.Annotations},
		"spec":     spec,
	}
}

func reproDaemonSet(ds *appsv1.DaemonSet) *appsv1.DaemonSet {
	out := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name, Namespace: ds.Namespace},
		Spec:       *ds.Spec.DeepCopy(),
	}
	out.Spec.Template.Spec.Containers[0].Resources = corev1.ResourceRequirements{}
	return out
}

// claim applies the claims phase: each op, then a resync of every DaemonSet,
// settle, and one comparison (compareClaims).
func (s *scenario) claim(seed int64, w world) {
	t := s.t
	before := map[string]map[string]map[string]bool{}
	for _, ds := range w.dss {
		cur := s.getDaemonSet(ds.Name)
		pods, err := daemonPods(s.ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		before[ds.Name] = map[string]map[string]bool{}
		for _, p := range pods {
			n := podNode(&p)
			if before[ds.Name][n] == nil {
				before[ds.Name][n] = map[string]bool{}
			}
			before[ds.Name][n][string(p.UID)] = true
		}
	}
	rolled := map[string]bool{}
	for _, op := range w.claims {
		var gen *appsv1.DaemonSet
		for _, d := range w.dss {
			if d.Name == op.ds {
				gen = d
			}
		}
		switch op.kind {
		case relabelPod:
			// The controller may be deleting a Pod (a duplicate, an evicted
			// one) while the test picks it: pick among live Pods, and pick
			// again if it went away or changed under us.
			var p corev1.Pod
			relabelled := false
			for attempt := 0; attempt < 5 && !relabelled; attempt++ {
				pods, err := daemonPods(s.ctx, s.getDaemonSet(op.ds))
				if err != nil {
					t.Fatal(err)
				}
				var live []corev1.Pod
				for _, q := range pods {
					if q.DeletionTimestamp == nil {
						live = append(live, q)
					}
				}
				if len(live) == 0 {
					break
				}
				p = live[op.pick%len(live)]
				p.Labels["app"] = op.ds + "-released"
				_, err = cluster.Client.CoreV1().Pods(s.name).Update(s.ctx, &p, metav1.UpdateOptions{})
				switch {
				case err == nil:
					relabelled = true
				case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
					time.Sleep(200 * time.Millisecond)
				default:
					t.Fatalf("relabel %s: %v", p.Name, err)
				}
			}
			if !relabelled {
				continue
			}
			// The node's old Pod is gone for the DaemonSet: whatever runs
			// there afterwards was created after the change.
			delete(before[op.ds], podNode(&p))
		case orphanAdopt:
			orphan := metav1.DeletePropagationOrphan
			if err := cluster.Client.AppsV1().DaemonSets(s.name).Delete(s.ctx, op.ds, metav1.DeleteOptions{PropagationPolicy: &orphan}); err != nil {
				t.Fatal(err)
			}
			s.waitOrphaned(op.ds)
			s.createDaemonSet(gen.DeepCopy())
		case rolloutTaint:
			s.updateDaemonSet(op.ds, func(ds *appsv1.DaemonSet) {
				ru := &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(1)), MaxSurge: ptr(intstr.FromInt32(0))}
				if op.surge {
					ru = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromInt32(1))}
				}
				ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: ru}
				breakTemplate(ds)
			})
			rolled[op.ds] = true
			s.settle(op.ds, nil)
			// Pods created before the taint (by this rollout, or as the
			// replacement of a Pod relabelled by an earlier op) were placed
			// under the old verdicts: they count as kept, not as created
			// after the change that matters.
			for _, d := range w.dss {
				cur := s.settle(d.Name, nil)
				pods, err := daemonPods(s.ctx, cur)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pods {
					n := podNode(&p)
					if before[d.Name][n] == nil {
						before[d.Name][n] = map[string]bool{}
					}
					before[d.Name][n][string(p.UID)] = true
				}
			}
			s.updateNode(op.node, func(n *corev1.Node) {
				for _, old := range n.Spec.Taints {
					if old.Key == op.taint.Key && old.Effect == op.taint.Effect {
						return
					}
				}
				n.Spec.Taints = append(n.Spec.Taints, op.taint)
			})
		}
	}
	for _, ds := range w.dss {
		s.poke(ds.Name)
	}
	for _, ds := range w.dss {
		s.settle(ds.Name, nil)
	}
	rep, _ := runPlugin(t, "-n", s.name)
	var ops []string
	for _, op := range w.claims {
		ops = append(ops, op.String())
	}
	phase := "claims (" + strings.Join(ops, "; ") + ")"
	t.Logf("seed %d %s", seed, phase)
	for _, ds := range w.dss {
		cur := s.getDaemonSet(ds.Name)
		pods, err := daemonPods(s.ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		_, problems := s.compareClaims(rep, cur, pods, before[ds.Name], rolled[ds.Name])
		if len(problems) > 0 {
			var b strings.Builder
			for _, n := range w.nodes {
				writeYAML(&b, reproNode(n))
			}
			writeYAML(&b, reproDaemonSet(ds))
			t.Errorf("seed %d (%s): daemoncheck disagrees with the controller on DaemonSet %s:\n  - %s\nreproduce with: go test -tags e2e -run 'TestRandomized' ./test/e2e/ -args -seed=%d\nobjects as generated (before mutations):\n%s\n%s",
				seed, phase, ds.Name, strings.Join(problems, "\n  - "), seed, b.String(), s.dumpObjects(ds.Name))
		}
	}
}

// waitOrphaned waits until the DaemonSet is gone and the garbage collector
// has removed the owner reference from every Pod of the namespace.
func (s *scenario) waitOrphaned(name string) {
	s.t.Helper()
	err := wait.PollUntilContextTimeout(s.ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if _, err := cluster.Client.AppsV1().DaemonSets(s.name).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return false, nil
		}
		l, err := cluster.Client.CoreV1().Pods(s.name).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
		if err != nil {
			return false, nil
		}
		for _, p := range l.Items {
			if metav1.GetControllerOf(&p) != nil {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		s.t.Fatalf("Pods of %s not orphaned: %v", name, err)
	}
}

// compareClaims checks a report after the claims phase against what the
// controller observably did. Counts: computed must equal the resynced
// controller's status. Per node (before: the Pod UIDs on it before the
// phase; a relabelled Pod's node has none):
//   - a Pod created during the phase: the controller targets the node;
//   - no Pod: it does not;
//   - only Pods from before (kept, or adopted): shouldContinueRunning.
//
// Findings follow from the Pods and daemoncheck's verdicts: MisscheduledPod
// for every Pod on an untargeted node; on targeted nodes UnhealthyPod for a
// Pod not Ready and OutdatedPod for an old-template Pod (rolled: the
// template was changed to the crash-looping one); an old and a new Pod
// together on a node of a surge rollout are no duplicate; nothing else.
func (s *scenario) compareClaims(rep *report.Report, ds *appsv1.DaemonSet, pods []corev1.Pod, before map[string]map[string]bool, rolled bool) (*report.DaemonSetReport, []string) {
	dr, problems := s.compare(rep, ds, pods, expectation{skipNodes: true, anyFindings: true})
	if dr == nil {
		return dr, problems
	}
	verdicts := map[string]report.NodeVerdict{}
	for _, v := range dr.Nodes {
		verdicts[v.Name] = v
	}
	onNode := map[string][]*corev1.Pod{}
	for i := range pods {
		if pods[i].DeletionTimestamp == nil {
			n := podNode(&pods[i])
			onNode[n] = append(onNode[n], &pods[i])
		}
	}
	var wantF []string
	for name := range s.scenarioNodes() {
		v := verdicts[name]
		ps := onNode[name]
		created := false
		for _, p := range ps {
			if !before[name][string(p.UID)] {
				created = true
			}
		}
		switch {
		case created:
			if !v.ShouldRun {
				problems = append(problems, fmt.Sprintf("node %s: the controller created a Pod during the phase, but daemoncheck says shouldRun=false (%s)", name, v.Reason))
			}
		case len(ps) == 0:
			if v.ShouldRun {
				problems = append(problems, fmt.Sprintf("node %s: no Pod after the phase, but daemoncheck says shouldRun=true", name))
			}
		default:
			if !v.ShouldContinueRunning {
				problems = append(problems, fmt.Sprintf("node %s: the controller kept (or adopted) its Pod, but daemoncheck says shouldContinueRunning=false (%s)", name, v.Reason))
			}
		}
		for _, p := range ps {
			switch {
			case !v.ShouldRun:
				wantF = append(wantF, f(report.MisscheduledPod, name))
			default:
				if !podReady(p) {
					wantF = append(wantF, f(report.UnhealthyPod, name))
				}
				if rolled && p.Labels[rig.CrashLoopLabel] != "true" {
					wantF = append(wantF, f(report.OutdatedPod, name))
				}
			}
		}
	}
	// DaemonSet-level verdicts, from what the controller did: no node
	// targeted is NoTargets; a crash-looping new Pod uses up the rollout's
	// budget (maxUnavailable or maxSurge 1) while a node still runs only an
	// available old Pod, so the rollout is stuck (rollingUpdate in update.go).
	targetsAny, crash, oldOnly := false, 0, false
	for name := range s.scenarioNodes() {
		targetsAny = targetsAny || verdicts[name].ShouldRun
		hasNew, hasOld := false, false
		for _, p := range onNode[name] {
			if p.Labels[rig.CrashLoopLabel] == "true" {
				hasNew = true
				crash++
			} else if podReady(p) {
				hasOld = true
			}
		}
		oldOnly = oldOnly || (hasOld && !hasNew)
	}
	if rolled && crash > 0 && oldOnly {
		wantF = append(wantF, string(report.RolloutStuck))
	}
	wantF = append(wantF, agentFindings(ds)...)
	sort.Strings(wantF)
	if got := noTargetsAllowed(findingSet(dr.Findings), !targetsAny); !reflect.DeepEqual(got, dedup(wantF)) {
		problems = append(problems, fmt.Sprintf("findings %v, want %v", got, dedup(wantF)))
	}
	return dr, problems
}

// noTargetsAllowed drops NoTargets from a finding set where it may be
// reported (the DaemonSet targets no node): whether it is depends on
// evidence of a mistake in the selector, a heuristic over every node of
// the shared rig. Where the DaemonSet targets a node, NoTargets stays in
// the set, and the comparison fails on it.
func noTargetsAllowed(got []string, targetsNone bool) []string {
	if !targetsNone {
		return got
	}
	out := []string{}
	for _, k := range got {
		if k != string(report.NoTargets) {
			out = append(out, k)
		}
	}
	return out
}

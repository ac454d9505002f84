//go:build e2e

package e2e

import (
	"flag"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	dss   []*appsv1.DaemonSet
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
	var w world
	nNodes := 3 + r.Intn(4)
	for i := 0; i < nNodes; i++ {
		n := s.newNode(fmt.Sprintf("n%d", i))
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
	return w
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
	s.createNodes(true, w.nodes...)
	for _, ds := range w.dss {
		s.createDaemonSet(ds)
	}
	for _, ds := range w.dss {
		s.settle(ds.Name, func(ds *appsv1.DaemonSet, pods []corev1.Pod) bool {
			st := ds.Status
			return st.CurrentNumberScheduled == st.DesiredNumberScheduled && st.NumberReady == st.DesiredNumberScheduled && int(st.DesiredNumberScheduled) == len(pods)
		})
	}
	// One plugin run for the whole namespace.
	rep, _ := runPlugin(t, "-n", s.name)
	targeted, pairs := 0, 0
	for _, dr := range rep.DaemonSets {
		for _, v := range dr.Nodes {
			if strings.HasPrefix(v.Name, s.name+"-") {
				pairs++
				if v.ShouldRun {
					targeted++
				}
			}
		}
	}
	t.Logf("seed %d: %d nodes, %d DaemonSets, %d of %d (DaemonSet, node) pairs targeted", seed, len(w.nodes), len(w.dss), targeted, pairs)
	for _, ds := range w.dss {
		cur := s.getDaemonSet(ds.Name)
		pods, err := daemonPods(s.ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		dr, problems := s.compare(rep, cur, pods, expectation{})
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
		t.Errorf("seed %d: daemoncheck disagrees with the controller on DaemonSet %s:\n  - %s\n  - %s\nreproduce with: go test -tags e2e -run 'TestRandomized' ./test/e2e/ -args -seed=%d\nminimal objects:\n%s",
			seed, ds.Name, strings.Join(problems, "\n  - "), strings.Join(lines, "\n  - "), seed, b.String())
	}
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

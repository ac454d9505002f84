package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Every view lists nodes in natural order ("worker-9" before "worker-10",
// "worker-a…" before "worker-b…"), whatever order the API returns them in.
func TestNodesInNaturalOrderInEveryView(t *testing.T) {
	scrambled := []string{"worker-10", "worker-b2", "worker-9", "worker-c1", "worker-a1", "worker-b1", "worker-2", "worker-c2", "worker-a2"}
	cs := fake.NewClientset()
	ctx := context.Background()
	// agent targets role=app. The nodes it leaves out fall in groups of
	// one size whose reasons sort (has no label < cache < db) against the
	// natural order of their nodes (a < b < c).
	role := map[string]string{"worker-10": "app", "worker-9": "app", "worker-2": "app",
		"worker-a1": "db", "worker-a2": "db", "worker-b1": "cache", "worker-b2": "cache"}
	for _, n := range scrambled {
		node := fixture.Node(n, fixture.Sized("2", "4Gi"))
		if r := role[n]; r != "" {
			node.Labels["role"] = r
		}
		if _, err := cs.CoreV1().Nodes().Create(ctx, &node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// agent targets the three app nodes and has no Pod yet (MissingPod on
	// each); wide runs everywhere, its Pods crash-looping on some nodes.
	agent := fixture.DaemonSet("ns", "agent", fixture.WithNodeSelector("role", "app"))
	wide := fixture.DaemonSet("ns", "wide")
	var pods []corev1.Pod
	for _, n := range scrambled {
		var opts []fixture.PodOpt
		if n != "worker-9" && n != "worker-a1" {
			opts = append(opts, fixture.Waiting("CrashLoopBackOff", "back-off", 4))
		}
		pods = append(pods, fixture.Pod(&wide, n, opts...))
	}
	for _, ds := range []appsv1.DaemonSet{agent, wide} {
		if _, err := cs.AppsV1().DaemonSets("ns").Create(ctx, &ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		cr := fixture.Revision(&ds, 1)
		if _, err := cs.AppsV1().ControllerRevisions("ns").Create(ctx, &cr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range pods {
		if _, err := cs.CoreV1().Pods("ns").Create(ctx, &pods[i], metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	alternation := append([]string{}, scrambled...)
	// Longest first, so that worker-10 is not read as worker-1.
	names.Sort(alternation)
	for i, j := 0, len(alternation)-1; i < j; i, j = i+1, j-1 {
		alternation[i], alternation[j] = alternation[j], alternation[i]
	}
	nodeRE := regexp.MustCompile(`\b(` + strings.Join(alternation, "|") + `)\b`)
	inOrder := func(t *testing.T, where, s string) {
		t.Helper()
		seen := map[string]bool{}
		var firsts []string
		for _, m := range nodeRE.FindAllString(s, -1) {
			if !seen[m] {
				seen[m] = true
				firsts = append(firsts, m)
			}
		}
		for i := 1; i < len(firsts); i++ {
			if !names.Less(firsts[i-1], firsts[i]) {
				t.Errorf("%s: nodes not in natural order (%s):\n%s", where, strings.Join(firsts, ", "), s)
				return
			}
		}
	}
	views := map[string][]string{
		"table":         {},
		"wide":          {"-o", "wide"},
		"describe":      {"agent", "-n", "ns"},
		"describe wide": {"wide", "-n", "ns"},
		"markdown":      {"-o", "markdown"},
		"nodes":         {"nodes"},
		"capacity":      {"capacity", "-o", "wide"},
	}
	for name, args := range views {
		t.Run(name, func(t *testing.T) {
			out, errOut, _ := runFake(t, cs, args...)
			if out == "" {
				t.Fatalf("no output; stderr:\n%s", errOut)
			}
			for _, line := range strings.Split(out, "\n") {
				inOrder(t, name, line)
			}
			if name == "nodes" {
				inOrder(t, "nodes rows", out)
			}
			if _, section, ok := strings.Cut(out, "Not Targeted:"); ok {
				section, _, _ = strings.Cut(section, "Findings:")
				inOrder(t, name+" Not Targeted", section)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		out, _, _ := runFake(t, cs, "-o", "json")
		var rep struct {
			DaemonSets []struct {
				Name  string `json:"name"`
				Nodes []struct {
					Name string `json:"name"`
				} `json:"nodes"`
			} `json:"daemonSets"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		for _, ds := range rep.DaemonSets {
			var ns []string
			for _, n := range ds.Nodes {
				ns = append(ns, n.Name)
			}
			inOrder(t, "json "+ds.Name, strings.Join(ns, " "))
			if len(ns) != len(scrambled) {
				t.Errorf("json %s: %d nodes, want %d", ds.Name, len(ns), len(scrambled))
			}
		}
	})
}

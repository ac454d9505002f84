package audit_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// randomSnapshot builds an arbitrary but well-formed cluster from a seed:
// nodes with random labels and taints, DaemonSets with random selectors,
// affinities and tolerations, and Pods in every state, on existing, missing
// and no nodes.
func randomSnapshot(seed1, seed2 uint64) *model.Snapshot {
	r := rand.New(rand.NewPCG(seed1, seed2))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	effects := []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute, corev1.TaintEffectPreferNoSchedule}
	s := &model.Snapshot{}
	for i := range r.IntN(12) {
		var opts []fixture.NodeOpt
		for range r.IntN(3) {
			opts = append(opts, fixture.WithLabel(pick("zone", "pool", "gpu", "tier"), pick("a", "b", "", "3", "10")))
		}
		for range r.IntN(3) {
			opts = append(opts, fixture.WithTaint(pick("dedicated", "gpu", corev1.TaintNodeNotReady, corev1.TaintNodeUnschedulable, corev1.TaintNodeNetworkUnavailable), pick("", "x"), effects[r.IntN(3)]))
		}
		if r.IntN(4) == 0 {
			opts = append(opts, fixture.NotReady())
		}
		opts = append(opts, fixture.CreatedAgo(time.Duration(r.IntN(600))*time.Second))
		if r.IntN(2) == 0 { // a size, sometimes too small for the daemons
			cpu, pods := pick("100m", "1", "4"), pick("3", "110")
			opts = append(opts, func(n *corev1.Node) {
				n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("1Gi"), corev1.ResourcePods: resource.MustParse(pods)}
			})
		}
		s.Nodes = append(s.Nodes, fixture.Node(fmt.Sprintf("n%d", i), opts...))
	}
	ops := []corev1.NodeSelectorOperator{corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn, corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist, corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt}
	for i := range 1 + r.IntN(4) {
		var opts []fixture.DSOpt
		if r.IntN(3) == 0 {
			opts = append(opts, fixture.WithNodeSelector(pick("zone", "pool"), pick("a", "b")))
		}
		if r.IntN(3) == 0 {
			var terms []corev1.NodeSelectorTerm
			for range 1 + r.IntN(2) {
				terms = append(terms, fixture.Term(fixture.Req(pick("zone", "gpu", "tier"), ops[r.IntN(len(ops))], pick("a", "3", "x"))))
			}
			if r.IntN(4) == 0 {
				terms = append(terms, fixture.FieldTerm(fixture.Req("metadata.name", corev1.NodeSelectorOpIn, pick("n0", "n1"))))
			}
			opts = append(opts, fixture.WithAffinity(terms...))
		}
		for range r.IntN(3) {
			opts = append(opts, fixture.WithToleration(fixture.Exists(pick("dedicated", "gpu", ""), effects[r.IntN(3)])))
		}
		if r.IntN(3) == 0 {
			opts = append(opts, fixture.HostNetwork())
		}
		if r.IntN(3) == 0 { // host ports that may clash, requests that may not fit
			port, cpu := int32(9100+r.IntN(2)), pick("50m", "600m")
			opts = append(opts, func(ds *appsv1.DaemonSet) {
				c := &ds.Spec.Template.Spec.Containers[0]
				c.Ports = []corev1.ContainerPort{{ContainerPort: port, HostPort: port}}
				c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
			})
		}
		if r.IntN(3) == 0 {
			opts = append(opts, fixture.Generation(2), fixture.Surge(int32(r.IntN(2))))
		}
		ds := fixture.DaemonSet("ns", fmt.Sprintf("d%d", i), opts...)
		if r.IntN(5) == 0 {
			ds.Annotations[policy.ExemptAnnotation] = pick("true", "MissingPod")
		}
		s.DaemonSets = append(s.DaemonSets, ds)
		if r.IntN(5) != 0 {
			s.ControllerRevisions = append(s.ControllerRevisions, fixture.Revision(&ds, 1))
		}
		for range r.IntN(2 * (len(s.Nodes) + 1)) {
			node := pick("n0", "n1", "n2", "n3", "gone")
			var popts []fixture.PodOpt
			switch r.IntN(7) {
			case 0:
				popts = append(popts, fixture.Unscheduled("0/3 nodes are available"))
			case 1:
				popts = append(popts, fixture.Waiting(pick("CrashLoopBackOff", "ImagePullBackOff", "ContainerCreating"), "m", int32(r.IntN(5))))
			case 2:
				popts = append(popts, fixture.FailedPhase("Evicted", ""), fixture.Terminating())
			case 3:
				popts = append(popts, fixture.OOMKilled(2))
			case 4:
				popts = append(popts, fixture.AtGeneration(&ds, 2))
			}
			popts = append(popts, fixture.Named(fmt.Sprintf("%s-%d", ds.Name, r.IntN(1000))), fixture.PodCreatedAgo(time.Duration(r.IntN(900))*time.Second))
			s.DaemonPods = append(s.DaemonPods, collect.CompactPods(fixture.Pod(&ds, node, popts...))...)
		}
	}
	if r.IntN(6) == 0 {
		s.MarkMissing(model.Nodes, "forbidden", "")
	}
	return s
}

// FuzzAnalyze checks invariants of the analysis on arbitrary snapshots: no
// panic, determinism, and the relations the controller's counts always obey.
func FuzzAnalyze(f *testing.F) {
	for i := range uint64(20) {
		f.Add(i, i*7919)
	}
	f.Fuzz(func(t *testing.T, seed1, seed2 uint64) {
		s := randomSnapshot(seed1, seed2)
		req, _ := policy.ParseRequire("ns/d0=zone=a")
		opts := audit.Options{Now: fixture.Epoch, Gate: report.Gate{Grace: 3 * time.Minute}, Policy: &policy.Policy{Rules: []policy.Rule{req}}}
		a := audit.Analyze(s, opts)
		b := audit.Analyze(s, opts)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("not deterministic")
		}
		for _, dr := range a.DaemonSets {
			c := dr.Computed
			if c == nil {
				continue
			}
			shouldRun := int32(0)
			for _, nv := range dr.Nodes {
				if nv.ShouldRun {
					shouldRun++
					if nv.Reason != "" {
						t.Errorf("%s/%s: targeted with a reason %q", dr.Name, nv.Name, nv.Reason)
					}
				} else if nv.Reason == "" {
					t.Errorf("%s/%s: excluded without a reason", dr.Name, nv.Name)
				}
			}
			if c.DesiredNumberScheduled != shouldRun || c.CurrentNumberScheduled > c.DesiredNumberScheduled ||
				c.NumberReady > c.CurrentNumberScheduled || c.NumberAvailable > c.NumberReady ||
				c.UpdatedNumberScheduled > c.CurrentNumberScheduled || c.NumberUnavailable != c.DesiredNumberScheduled-c.NumberAvailable {
				t.Errorf("%s: counts break the controller's relations: %+v (shouldRun nodes %d)", dr.Name, *c, shouldRun)
			}
			targeted := map[string]bool{}
			for _, nv := range dr.Nodes {
				targeted[nv.Name] = nv.ShouldRun
			}
			for _, f := range dr.Findings {
				if f.Message == "" || f.Severity == "" || (!report.Info(f.Type).DaemonSetLevel && f.Type != report.PendingPod && f.Node == "") {
					t.Errorf("%s: malformed finding %+v", dr.Name, f)
				}
				// The capacity stage places only the daemons the node should run.
				if (f.Type == report.HostPortConflict || f.Type == report.NodeTooSmall) && !targeted[f.Node] {
					t.Errorf("%s: %s on %s, which it does not target", dr.Name, f.Type, f.Node)
				}
			}
		}
	})
}

package audit_test

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// Micro-benchmarks of the analysis alone on a synthetic snapshot shaped like
// the cluster benchmark's fixture (test/bench): 5,000 nodes in pools with
// taints, 20 DaemonSets with a mix of node selectors, affinities and
// tolerations, ~60,000 daemon Pods with every finding type sprinkled in.
// Target: under 100 ms per analysis.
//
//	go test ./internal/audit -run '^$' -bench . -benchmem

func benchHash(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprint(h, p, "\x00")
	}
	return h.Sum64()
}

func benchNode(i int) corev1.Node {
	name := fmt.Sprintf("node-%05d", i)
	pool := "general"
	switch h := benchHash("pool", i) % 100; {
	case h < 5:
		pool = "gpu"
	case h < 15:
		pool = "infra"
	case h < 25:
		pool = "storage"
	case h < 30:
		pool = "edge"
	}
	arch := "amd64"
	if i%5 == 0 {
		arch = "arm64"
	}
	opts := []fixture.NodeOpt{fixture.WithLabel("node-pool", pool), fixture.WithLabel("kubernetes.io/arch", arch),
		fixture.WithLabel("topology.kubernetes.io/zone", []string{"zone-a", "zone-b", "zone-c"}[i%3])}
	switch pool {
	case "gpu":
		opts = append(opts, fixture.WithTaint("nvidia.com/gpu", "present", corev1.TaintEffectNoSchedule))
	case "infra":
		opts = append(opts, fixture.WithTaint("dedicated", "infra", corev1.TaintEffectNoSchedule))
	case "edge":
		opts = append(opts, fixture.WithTaint("edge", "true", corev1.TaintEffectNoExecute))
	}
	if i%500 == 7 {
		opts = append(opts, fixture.NotReady())
	}
	if i%500 == 13 {
		opts = append(opts, fixture.Cordoned())
	}
	return fixture.Node(name, opts...)
}

func benchDaemonSets() []appsv1.DaemonSet {
	all := fixture.Exists("", "")
	infra := fixture.Equal("dedicated", "infra", corev1.TaintEffectNoSchedule)
	gpu := fixture.Exists("nvidia.com/gpu", corev1.TaintEffectNoSchedule)
	edge := fixture.Exists("edge", corev1.TaintEffectNoExecute)
	noSched := fixture.Exists("", corev1.TaintEffectNoSchedule)
	in := corev1.NodeSelectorOpIn
	return []appsv1.DaemonSet{
		fixture.DaemonSet("kube-system", "kube-proxy", fixture.WithToleration(all), fixture.HostNetwork()),
		fixture.DaemonSet("kube-system", "calico-node", fixture.WithToleration(all), fixture.HostNetwork(), fixture.Generation(2)),
		fixture.DaemonSet("kube-system", "csi-node", fixture.WithToleration(noSched)),
		fixture.DaemonSet("kube-system", "dns-cache", fixture.WithAffinity(fixture.Term(fixture.Req("node-pool", corev1.NodeSelectorOpNotIn, "gpu", "edge"))), fixture.WithToleration(infra), fixture.HostNetwork()),
		fixture.DaemonSet("kube-system", "arm-agent", fixture.WithAffinity(fixture.Term(fixture.Req("kubernetes.io/arch", in, "arm64")))),
		fixture.DaemonSet("monitoring", "node-exporter", fixture.WithToleration(all), fixture.HostNetwork(), fixture.Surge(1), fixture.Generation(2)),
		fixture.DaemonSet("monitoring", "infra-monitor", fixture.WithNodeSelector("node-pool", "infra"), fixture.WithToleration(infra)),
		fixture.DaemonSet("monitoring", "metrics-agent", fixture.WithAffinity(fixture.Term(fixture.Req("node-pool", in, "general")), fixture.Term(fixture.Req("topology.kubernetes.io/zone", in, "zone-c"))), fixture.WithToleration(infra)),
		fixture.DaemonSet("logging", "fluent-bit", fixture.WithToleration(infra)),
		fixture.DaemonSet("logging", "log-rotator", fixture.WithAffinity(fixture.Term(fixture.Req("node-pool", in, "general", "infra"))), fixture.WithToleration(infra), fixture.OnDelete(), fixture.Generation(2)),
		fixture.DaemonSet("gpu-operator", "nvidia-device-plugin", fixture.WithNodeSelector("node-pool", "gpu"), fixture.WithToleration(gpu)),
		fixture.DaemonSet("gpu-operator", "dcgm-exporter", fixture.WithAffinity(fixture.Term(fixture.Req("node-pool", in, "gpu"))), fixture.WithToleration(gpu)),
		fixture.DaemonSet("security", "falco", fixture.WithToleration(all)),
		fixture.DaemonSet("security", "linux-hardening", fixture.WithAffinity(fixture.Term(fixture.Req("kubernetes.io/os", in, "linux"), fixture.Req("kubernetes.io/arch", in, "amd64")))),
		fixture.DaemonSet("security", "vuln-scanner", fixture.WithNodeSelector("kubernetes.io/os", "linux"), fixture.WithAffinity(fixture.Term(fixture.Req("node-pool", corev1.NodeSelectorOpExists)))),
		fixture.DaemonSet("storage", "storage-agent", fixture.WithNodeSelector("node-pool", "storage")),
		fixture.DaemonSet("storage", "ebs-csi-node", fixture.WithAffinity(fixture.Term(fixture.Req("topology.kubernetes.io/zone", in, "zone-a", "zone-b"), fixture.Req("node-pool", corev1.NodeSelectorOpNotIn, "edge"))), fixture.WithToleration(noSched)),
		fixture.DaemonSet("networking", "zone-a-cache", fixture.WithAffinity(fixture.Term(fixture.Req("topology.kubernetes.io/zone", in, "zone-a")))),
		fixture.DaemonSet("networking", "netpol-agent", fixture.WithToleration(all), fixture.HostNetwork(), fixture.Generation(2)),
		fixture.DaemonSet("edge", "edge-agent", fixture.WithNodeSelector("node-pool", "edge"), fixture.WithToleration(edge)),
	}
}

// benchSnapshot builds the synthetic cluster: nodes x 20 DaemonSets.
func benchSnapshot(nodes int) *model.Snapshot {
	snap := &model.Snapshot{Source: "bench"}
	for i := 0; i < nodes; i++ {
		snap.Nodes = append(snap.Nodes, benchNode(i))
	}
	snap.DaemonSets = benchDaemonSets()
	for d := range snap.DaemonSets {
		ds := &snap.DaemonSets[d]
		for g := int64(1); g <= ds.Generation; g++ {
			snap.ControllerRevisions = append(snap.ControllerRevisions, fixture.Revision(ds, g))
		}
		ds.Status.ObservedGeneration = ds.Generation
		eval := scheduling.NewEvaluator(ds)
		cur := fixture.AtGeneration(ds, ds.Generation)
		first := len(snap.DaemonPods)
		for i := range snap.Nodes {
			node := &snap.Nodes[i]
			h := benchHash("finding", d, i) % 10000
			rev := cur
			if ds.Generation > 1 && benchHash("rollout", d, i)%100 < 20 {
				rev = fixture.AtGeneration(ds, 1) // outdated
			}
			if !eval.Evaluate(node).ShouldRun {
				if (i%500 == 7 && h%2 == 0) || h < 20 {
					snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev))...) // misscheduled
				}
				continue
			}
			ds.Status.DesiredNumberScheduled++
			switch {
			case h < 10: // missing
			case h < 15:
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev, fixture.Unscheduled("0/5000 nodes are available: 1 Insufficient cpu.")))...)
			case h < 27:
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev, fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 17)))...)
			case h < 34:
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev, fixture.Waiting("ImagePullBackOff", "Back-off pulling image", 0)))...)
			case h < 40:
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev, fixture.NotReadyPod()))...)
			case h < 45: // duplicate
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev), fixture.Pod(ds, node.Name, cur, fixture.Named(ds.Name+"-dup-"+node.Name), fixture.PodCreatedAgo(time.Hour)))...)
			default:
				snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, node.Name, rev))...)
			}
		}
		for i := 999; i < nodes; i += 1000 { // orphaned: bound to deleted nodes
			snap.DaemonPods = append(snap.DaemonPods, collect.CompactPods(fixture.Pod(ds, fmt.Sprintf("gone-%05d", i), cur))...)
		}
		benchImageIDs(snap.DaemonPods[first:], ds)
		snap.Events = append(snap.Events, corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: ds.Namespace, Name: ds.Name + ".1"},
			InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Namespace: ds.Namespace, Name: ds.Name, UID: ds.UID},
			Type:           corev1.EventTypeWarning, Reason: "FailedCreate", Message: "Error creating: exceeded quota",
			LastTimestamp: metav1.NewTime(fixture.Epoch.Add(-time.Minute)),
		})
	}
	return snap
}

// benchImageIDs gives the DaemonSet's Pods the imageIDs a runtime reports:
// one repository digest for all (one string, as the readers intern them),
// and on about 1 in 200 Pods of every third DaemonSet another digest of the
// same tag (a tag that moved: ImageDrift).
func benchImageIDs(pods []model.DaemonPod, ds *appsv1.DaemonSet) {
	repo := "registry.example.com/" + ds.Name + "@sha256:"
	main := repo + fmt.Sprintf("%064x", benchHash("digest", ds.Name))
	moved := repo + fmt.Sprintf("%064x", benchHash("moved", ds.Name))
	for i := range pods {
		id := main
		if benchHash("drift", ds.Name)%3 == 0 && benchHash("drift", pods[i].Name)%200 == 0 {
			id = moved
		}
		for c := range pods[i].Containers {
			pods[i].Containers[c].ImageID = id
		}
	}
}

var (
	benchOnce sync.Once
	benchSnap *model.Snapshot
)

// benchCluster returns the synthetic cluster as the readers deliver it:
// daemon Pods already compacted (the collector converts each page as it is
// decoded, outside the analysis).
func benchCluster(b *testing.B) *model.Snapshot {
	benchOnce.Do(func() {
		benchSnap = benchSnapshot(5000)
	})
	return benchSnap
}

// BenchmarkAnalyze is the full audit: 5,000 nodes x 20 DaemonSets.
func BenchmarkAnalyze(b *testing.B) {
	snap := benchCluster(b)
	rep := audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	for _, t := range []report.FindingType{report.MissingPod, report.PendingPod, report.UnhealthyPod, report.DuplicatePods,
		report.MisscheduledPod, report.OrphanedPod, report.OutdatedPod, report.ImageDrift} {
		if rep.Summary.ByType[t] == 0 {
			b.Fatalf("synthetic snapshot has no %s finding: %v", t, rep.Summary.ByType)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	}
	// After the loop: b.Loop resets what was reported before it.
	b.ReportMetric(float64(len(snap.DaemonPods)), "pods")
	b.ReportMetric(float64(rep.Summary.Findings), "findings")
}

// BenchmarkAnalyzeOneDaemonSet is the detail view's analysis: one DaemonSet
// that runs on every node, with all nodes and its own Pods.
func BenchmarkAnalyzeOneDaemonSet(b *testing.B) {
	full := benchCluster(b)
	snap := &model.Snapshot{Source: full.Source, Nodes: full.Nodes, Events: full.Events}
	for _, ds := range full.DaemonSets {
		if ds.Name == "node-exporter" {
			snap.DaemonSets = append(snap.DaemonSets, ds)
			for _, p := range full.DaemonPods {
				if p.OwnerUID == ds.UID {
					snap.DaemonPods = append(snap.DaemonPods, p)
				}
			}
			for _, cr := range full.ControllerRevisions {
				if ref := metav1.GetControllerOfNoCopy(&cr); ref != nil && ref.UID == ds.UID {
					snap.ControllerRevisions = append(snap.ControllerRevisions, cr)
				}
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		audit.Analyze(snap, audit.Options{Now: fixture.Epoch})
	}
	b.ReportMetric(float64(len(snap.DaemonPods)), "pods")
}

// BenchmarkDefaultView renders the 5,000-node report as people read it: the
// default view (one row per problem) and -o wide (one row per finding), and
// reports their line counts (issue: the default view fits about two screens
// at any cluster size).
func BenchmarkDefaultView(b *testing.B) {
	rep := audit.Analyze(benchCluster(b), audit.Options{Now: fixture.Epoch})
	count := func(wide bool) int {
		var buf bytes.Buffer
		p, err := render.ForOutput(map[bool]string{true: "wide"}[wide], render.ViewAudit, render.NewPrintFlags())
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Print(&buf, rep, render.Options{Now: fixture.Epoch}); err != nil {
			b.Fatal(err)
		}
		return bytes.Count(buf.Bytes(), []byte("\n"))
	}
	var lines, wideLines int
	b.ReportAllocs()
	for b.Loop() {
		lines = count(false)
	}
	wideLines = count(true)
	b.ReportMetric(float64(lines), "lines")
	b.ReportMetric(float64(wideLines), "wide-lines")
	b.ReportMetric(float64(len(rep.Problems)), "problems")
}

var (
	capOnce sync.Once
	capSnap *model.Snapshot
)

// capacityCluster is benchCluster with what the capacity stage reads in a
// real cluster: every node's allocatable (by pool) and, with --workloads,
// the per-node load of ten workload Pods on each node.
func capacityCluster(b *testing.B) *model.Snapshot {
	capOnce.Do(func() {
		full := benchCluster(b)
		s := *full
		s.Nodes = make([]corev1.Node, len(full.Nodes))
		w := model.NewWorkloads()
		for i := range full.Nodes {
			n := *full.Nodes[i].DeepCopy()
			cpu, mem := "3920m", "14Gi"
			if n.Labels["node-pool"] == "gpu" {
				cpu, mem = "7910m", "29Gi"
			}
			n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem), corev1.ResourcePods: resource.MustParse("110")}
			s.Nodes[i] = n
			for k := range 10 {
				prio := int32(k % 3)
				p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: fmt.Sprintf("app-%d-%d", i, k)},
					Spec: corev1.PodSpec{NodeName: n.Name, Priority: &prio, Containers: []corev1.Container{{Name: "app",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("150m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}}}},
					Status: corev1.PodStatus{Phase: corev1.PodRunning}}
				w.AddLoad(collect.LoadOf(&p))
			}
		}
		s.Workloads = w
		capSnap = &s
	})
	return capSnap
}

// BenchmarkAnalyzeCapacity is BenchmarkAnalyze with nodes that report
// their allocatable and every Pod read (--workloads), listing every node in
// the capacity section (the capacity view): the capacity stage's full cost.
func BenchmarkAnalyzeCapacity(b *testing.B) {
	snap := capacityCluster(b)
	rep := audit.Analyze(snap, audit.Options{Now: fixture.Epoch, CapacityNodes: true})
	if rep.Capacity == nil || len(rep.Capacity.Nodes) != len(snap.Nodes) || !rep.Capacity.Workloads {
		b.Fatalf("capacity section: %+v", rep.Capacity)
	}
	b.ReportAllocs()
	for b.Loop() {
		audit.Analyze(snap, audit.Options{Now: fixture.Epoch, CapacityNodes: true})
	}
	b.ReportMetric(float64(len(snap.Nodes)), "nodes")
}

var (
	watchOnce sync.Once
	watchSnap *model.Snapshot
	watchRV   *rvClock
)

// benchWatchStep is what -w does per change on the 5,000-node cluster: one
// daemon Pod's status changes (in place, at a new resourceVersion, as the
// watch's stores hand it out), the snapshot is analysed again, reduced to
// -o wide's watch rows and compared with the last ones. With memo the
// analysis is carried forward (audit.Memo); without, each change is a
// full analysis (before the Memo).
func benchWatchStep(b *testing.B, memo bool) {
	watchOnce.Do(func() {
		watchSnap = benchSnapshot(5000)
		watchRV = versioned(watchSnap)
	})
	snap := watchSnap
	opts := audit.Options{Now: fixture.Epoch}
	var m *audit.Memo
	if memo {
		m = &audit.Memo{}
		opts.Memo = m
	}
	state := render.NewWatchState(audit.Analyze(snap, opts), true)
	// Healthy Pods, each made to crash-loop and then recover.
	var pods []int
	for i := range snap.DaemonPods {
		if p := &snap.DaemonPods[i]; p.Ready && p.OwnerUID != "" && len(pods) < 64 {
			pods = append(pods, i)
		}
	}
	lines, step := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		p := &snap.DaemonPods[pods[(step/2)%len(pods)]]
		p.Ready = step%2 == 1
		p.Containers = slices.Clone(p.Containers)
		p.Containers[0].Ready = p.Ready
		p.Containers[0].WaitingReason = map[bool]string{false: "CrashLoopBackOff"}[p.Ready]
		p.ResourceVersion = watchRV.next()
		step++
		next := render.NextWatchState(state, audit.Analyze(snap, opts), true)
		lines += len(render.WatchChanges(state, next))
		state = next
	}
	if lines < step {
		b.Fatalf("%d changes printed %d lines; want at least one each", step, lines)
	}
	if m != nil && m.Analysed != 1 {
		b.Fatalf("a Pod's change analysed %d DaemonSets; want 1", m.Analysed)
	}
	b.ReportMetric(float64(lines)/float64(step), "lines/change")
}

// BenchmarkWatchStep: -w's work per Pod change with the Memo (the watch
// target: the change printed within 200 ms at 5,000 nodes).
func BenchmarkWatchStep(b *testing.B) { benchWatchStep(b, true) }

// BenchmarkWatchStepFull: the same without the Memo, as -w did before.
func BenchmarkWatchStepFull(b *testing.B) { benchWatchStep(b, false) }

// BenchmarkAnalyzeWithoutImageIDs is BenchmarkAnalyze on the snapshot as
// it was before Pods carried imageIDs (no digest drift to find): builds
// from before the drift checks can only be compared with this one, input
// for input.
func BenchmarkAnalyzeWithoutImageIDs(b *testing.B) {
	full := benchCluster(b)
	snap := *full
	snap.DaemonPods = make([]model.DaemonPod, len(full.DaemonPods))
	for i, p := range full.DaemonPods {
		p.Containers = append([]model.ContainerState(nil), p.Containers...)
		for c := range p.Containers {
			p.Containers[c].ImageID = ""
		}
		snap.DaemonPods[i] = p
	}
	b.ReportAllocs()
	for b.Loop() {
		audit.Analyze(&snap, audit.Options{Now: fixture.Epoch})
	}
}

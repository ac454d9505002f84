package main

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/rules/scheduling"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// The fixture is built directly through the API: no DaemonSet controller, no
// kwok, no kubelet touches these objects. Nodes are created with their status
// (the node registry keeps status on create); Pods are created bound (or, for
// the unscheduled ones, with a schedulerName no scheduler serves) and then get
// their status through the status subresource, as a kubelet would write it.

const (
	nodeNameFmt      = "bench-node-%05d"
	goneNodeNameFmt  = "bench-gone-%05d"
	noSchedulerName  = "daemoncheck-bench-unscheduled"
	nonDaemonPerNode = 10
	rsReplicas       = 25
)

// hash64 is a deterministic hash of the parts (fixture choices must not
// depend on run order).
func hash64(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		fmt.Fprint(h, p, "\x00")
	}
	return h.Sum64()
}

func randName(parts ...any) string { return randNameN(5, parts...) }

func randNameN(n int, parts ...any) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	v := hash64(parts...)
	out := make([]byte, n)
	for i := range out {
		out[i] = alphabet[v%uint64(len(alphabet))]
		v /= uint64(len(alphabet))
	}
	return string(out)
}

// nodePool assigns node i to a pool: 5% gpu, 10% infra, 10% storage, 5% edge,
// the rest general.
func nodePool(i int) string {
	switch h := hash64("pool", i) % 100; {
	case h < 5:
		return "gpu"
	case h < 15:
		return "infra"
	case h < 25:
		return "storage"
	case h < 30:
		return "edge"
	}
	return "general"
}

func nodeNotReady(i int) bool { return i%500 == 7 }
func nodeCordoned(i int) bool { return i%500 == 13 }

var images = []string{
	"registry.example.com/platform/kube-proxy:v1.37.2", "registry.example.com/platform/calico-node:v3.30.1",
	"registry.example.com/observability/node-exporter:v1.9.1", "registry.example.com/observability/fluent-bit:4.0.3",
	"registry.example.com/security/falco:0.41.0", "registry.example.com/storage/csi-node-driver:v2.14.0",
	"registry.example.com/apps/web:v3.2.1", "registry.example.com/apps/api:v7.0.4", "registry.example.com/apps/worker:v2.9.0",
	"registry.example.com/infra/pause:3.10",
}

func buildNode(i int, created time.Time) *corev1.Node {
	name := fmt.Sprintf(nodeNameFmt, i)
	pool := nodePool(i)
	zone := []string{"zone-a", "zone-b", "zone-c"}[i%3]
	arch := "amd64"
	if i%5 == 0 {
		arch = "arm64"
	}
	itype := map[string]string{"gpu": "p4d.24xlarge", "infra": "m5.2xlarge", "storage": "i3.4xlarge", "edge": "t3.large", "general": "m5.4xlarge"}[pool]
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname":           name,
				"kubernetes.io/os":                 "linux",
				"kubernetes.io/arch":               arch,
				"beta.kubernetes.io/os":            "linux",
				"beta.kubernetes.io/arch":          arch,
				"topology.kubernetes.io/zone":      zone,
				"topology.kubernetes.io/region":    "region-1",
				"node.kubernetes.io/instance-type": itype,
				"node-pool":                        pool,
			},
			Annotations: map[string]string{
				"node.alpha.kubernetes.io/ttl":                           "0",
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: fmt.Sprintf("10.%d.%d.0/24", 64+i/256, i%256), ProviderID: "bench://" + name},
	}
	switch pool {
	case "gpu":
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule})
	case "infra":
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Value: "infra", Effect: corev1.TaintEffectNoSchedule})
	case "edge":
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "edge", Value: "true", Effect: corev1.TaintEffectNoExecute})
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"}
	if nodeNotReady(i) {
		ready = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status."}
		n.Spec.Taints = append(n.Spec.Taints,
			corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule},
			corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute})
	}
	if nodeCordoned(i) {
		n.Spec.Unschedulable = true
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule})
	}
	ts := metav1.NewTime(created)
	cond := func(t corev1.NodeConditionType, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: reason, Message: msg, LastHeartbeatTime: ts, LastTransitionTime: ts}
	}
	ready.LastHeartbeatTime, ready.LastTransitionTime = ts, ts
	res := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("16"), corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods: resource.MustParse("110"), corev1.ResourceEphemeralStorage: resource.MustParse("200Gi"),
	}
	var imgs []corev1.ContainerImage
	for k, im := range images {
		imgs = append(imgs, corev1.ContainerImage{
			Names:     []string{fmt.Sprintf("%s@sha256:%064x", im[:len(im)-len(im[len(im)-6:])], hash64(im)), im},
			SizeBytes: int64(20_000_000 + k*7_000_000),
		})
	}
	n.Status = corev1.NodeStatus{
		Capacity: res, Allocatable: res,
		Phase: corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			ready,
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.1.%d.%d", i/256, i%256)},
			{Type: corev1.NodeHostName, Address: name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: 10250}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID: fmt.Sprintf("%032x", hash64("m", i)), SystemUUID: fmt.Sprintf("%032x", hash64("u", i)), BootID: fmt.Sprintf("%032x", hash64("b", i)),
			KernelVersion: "6.8.0-1019-aws", OSImage: "Ubuntu 24.04.2 LTS", ContainerRuntimeVersion: "containerd://2.0.5",
			KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: arch,
		},
		Images: imgs,
	}
	return n
}

// dsSpec describes one of the 20 DaemonSets.
type dsSpec struct {
	ns, name     string
	nodeSelector map[string]string
	affinity     []corev1.NodeSelectorTerm
	tolerations  []corev1.Toleration
	hostNetwork  bool
	rollout      bool // generation 2, ~20% of Pods still on generation 1
	onDelete     bool
	surge        bool
	staleStatus  bool
}

func req(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func term(reqs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: reqs}
}

var (
	tolerateAll   = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	tolerateInfra = corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule}
	tolerateGPU   = corev1.Toleration{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	tolerateEdge  = corev1.Toleration{Key: "edge", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}
)

var dsSpecs = []dsSpec{
	{ns: "kube-system", name: "kube-proxy", tolerations: tolerateAll, hostNetwork: true},
	{ns: "kube-system", name: "calico-node", tolerations: tolerateAll, hostNetwork: true, rollout: true},
	{ns: "kube-system", name: "csi-node", tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
	{ns: "kube-system", name: "dns-cache", affinity: []corev1.NodeSelectorTerm{term(req("node-pool", corev1.NodeSelectorOpNotIn, "gpu", "edge"))}, tolerations: []corev1.Toleration{tolerateInfra}, hostNetwork: true},
	{ns: "kube-system", name: "arm-agent", affinity: []corev1.NodeSelectorTerm{term(req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "arm64"))}},
	{ns: "monitoring", name: "node-exporter", tolerations: tolerateAll, hostNetwork: true, surge: true, rollout: true},
	{ns: "monitoring", name: "infra-monitor", nodeSelector: map[string]string{"node-pool": "infra"}, tolerations: []corev1.Toleration{tolerateInfra}},
	{ns: "monitoring", name: "metrics-agent", affinity: []corev1.NodeSelectorTerm{term(req("node-pool", corev1.NodeSelectorOpIn, "general")), term(req("node.kubernetes.io/instance-type", corev1.NodeSelectorOpIn, "m5.2xlarge"))}, tolerations: []corev1.Toleration{tolerateInfra}},
	{ns: "logging", name: "fluent-bit", tolerations: []corev1.Toleration{tolerateInfra}, staleStatus: true},
	{ns: "logging", name: "log-rotator", affinity: []corev1.NodeSelectorTerm{term(req("node-pool", corev1.NodeSelectorOpIn, "general", "infra"))}, tolerations: []corev1.Toleration{tolerateInfra}, onDelete: true, rollout: true},
	{ns: "gpu-operator", name: "nvidia-device-plugin", nodeSelector: map[string]string{"node-pool": "gpu"}, tolerations: []corev1.Toleration{tolerateGPU}},
	{ns: "gpu-operator", name: "dcgm-exporter", affinity: []corev1.NodeSelectorTerm{term(req("node-pool", corev1.NodeSelectorOpIn, "gpu"))}, tolerations: []corev1.Toleration{tolerateGPU}},
	{ns: "security", name: "falco", tolerations: tolerateAll},
	{ns: "security", name: "linux-hardening", affinity: []corev1.NodeSelectorTerm{term(req("kubernetes.io/os", corev1.NodeSelectorOpIn, "linux"), req("kubernetes.io/arch", corev1.NodeSelectorOpIn, "amd64"))}},
	{ns: "security", name: "vuln-scanner", nodeSelector: map[string]string{"kubernetes.io/os": "linux"}, affinity: []corev1.NodeSelectorTerm{term(req("node-pool", corev1.NodeSelectorOpExists))}},
	{ns: "storage", name: "storage-agent", nodeSelector: map[string]string{"node-pool": "storage"}},
	{ns: "storage", name: "ebs-csi-node", affinity: []corev1.NodeSelectorTerm{term(req("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "zone-a", "zone-b"), req("node-pool", corev1.NodeSelectorOpNotIn, "edge"))}, tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
	{ns: "networking", name: "zone-a-cache", affinity: []corev1.NodeSelectorTerm{term(req("topology.kubernetes.io/zone", corev1.NodeSelectorOpIn, "zone-a"))}},
	{ns: "networking", name: "netpol-agent", tolerations: tolerateAll, hostNetwork: true, rollout: true},
	{ns: "edge", name: "edge-agent", nodeSelector: map[string]string{"node-pool": "edge"}, tolerations: []corev1.Toleration{tolerateEdge}},
}

// appNamespaces hold the non-daemon Pods; some also go to the DaemonSets'
// namespaces so that per-namespace lists would have to filter them.
var appNamespaces = []string{"app-00", "app-01", "app-02", "app-03", "app-04", "app-05", "app-06", "app-07", "app-08", "app-09",
	"kube-system", "monitoring", "logging"}

func buildDaemonSet(s dsSpec) *appsv1.DaemonSet {
	labels := map[string]string{"app.kubernetes.io/name": s.name}
	tmplLabels := map[string]string{"app.kubernetes.io/name": s.name, "app.kubernetes.io/part-of": s.ns, "tier": "node"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name, Labels: tmplLabels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: tmplLabels, Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9100"}},
				Spec: corev1.PodSpec{
					NodeSelector: s.nodeSelector,
					Tolerations:  s.tolerations,
					HostNetwork:  s.hostNetwork,
					Containers: []corev1.Container{{
						Name:  s.name,
						Image: "registry.example.com/" + s.ns + "/" + s.name + ":v1.0.0",
						Args:  []string{"--log-level=info", "--metrics-addr=:9100", "--node-name=$(NODE_NAME)"},
						Env: []corev1.EnvVar{
							{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "spec.nodeName"}}},
							{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}},
							{Name: "GOMAXPROCS", Value: "2"},
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						VolumeMounts:   []corev1.VolumeMount{{Name: "host-root", MountPath: "/host", ReadOnly: true}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(9100)}}, PeriodSeconds: 10},
					}},
					Volumes:           []corev1.Volume{{Name: "host-root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
					PriorityClassName: "system-node-critical",
				},
			},
		},
	}
	if len(s.affinity) > 0 {
		ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: s.affinity}}}
	}
	switch {
	case s.onDelete:
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	case s.surge:
		surge, zero := intstr.FromString("10%"), intstr.FromInt32(0)
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxSurge: &surge, MaxUnavailable: &zero}}
	default:
		mu := intstr.FromString("5%")
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &mu}}
	}
	return ds
}

// dsState is one created DaemonSet and its revisions.
type dsState struct {
	spec   dsSpec
	ds     *appsv1.DaemonSet
	eval   *scheduling.Evaluator
	hashes map[int64]string // generation -> controller-revision-hash
	revs   []appsv1.ControllerRevision
}

// Fixture is the benchmark cluster, grown in place.
type Fixture struct {
	cs      kubernetes.Interface
	workers int
	logf    func(string, ...any)
	created time.Time

	dss        []*dsState
	nodes      []corev1.Node // created nodes, index = node number
	mu         sync.Mutex
	daemonPods []corev1.Pod // as last written (status included)
	rsCount    int
	NonDaemon  int // non-daemon Pods created
	Orphans    int
	Requests   atomic.Int64
}

// NewFixture creates the namespaces, DaemonSets and ControllerRevisions.
func NewFixture(ctx context.Context, cs kubernetes.Interface, createNS func(context.Context, string) error, workers int, logf func(string, ...any)) (*Fixture, error) {
	f := &Fixture{cs: cs, workers: workers, logf: logf, created: time.Now().Add(-48 * time.Hour).Truncate(time.Second)}
	nss := map[string]bool{}
	for _, s := range dsSpecs {
		nss[s.ns] = true
	}
	for _, ns := range appNamespaces {
		nss[ns] = true
	}
	for i := 0; i < 4; i++ {
		nss[fmt.Sprintf("bulk-%02d", i)] = true
	}
	for ns := range nss {
		if err := createNS(ctx, ns); err != nil {
			return nil, fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	for _, s := range dsSpecs {
		st := &dsState{spec: s, hashes: map[int64]string{}}
		ds, err := cs.AppsV1().DaemonSets(s.ns).Create(ctx, buildDaemonSet(s), metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("daemonset %s/%s: %w", s.ns, s.name, err)
		}
		if err := f.addRevision(ctx, st, ds, 1); err != nil {
			return nil, err
		}
		if s.rollout {
			ds.Spec.Template.Spec.Containers[0].Image = "registry.example.com/" + s.ns + "/" + s.name + ":v1.1.0"
			ds, err = cs.AppsV1().DaemonSets(s.ns).Update(ctx, ds, metav1.UpdateOptions{})
			if err != nil {
				return nil, fmt.Errorf("daemonset %s/%s update: %w", s.ns, s.name, err)
			}
			if err := f.addRevision(ctx, st, ds, 2); err != nil {
				return nil, err
			}
		}
		st.ds = ds
		st.eval = scheduling.NewEvaluator(ds)
		f.dss = append(f.dss, st)
	}
	return f, nil
}

func (f *Fixture) addRevision(ctx context.Context, st *dsState, ds *appsv1.DaemonSet, gen int64) error {
	hash := fixture.Hash(ds, gen)
	tmpl, err := json.Marshal(map[string]any{"spec": map[string]any{"template": ds.Spec.Template}})
	if err != nil {
		return err
	}
	t := true
	labels := map[string]string{"controller-revision-hash": hash}
	for k, v := range ds.Spec.Template.Labels {
		labels[k] = v
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ds.Namespace, Name: ds.Name + "-" + hash, Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &t, BlockOwnerDeletion: &t}},
		},
		Data:     runtime.RawExtension{Raw: tmpl},
		Revision: gen,
	}
	got, err := f.cs.AppsV1().ControllerRevisions(ds.Namespace).Create(ctx, cr, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("controllerrevision %s/%s: %w", cr.Namespace, cr.Name, err)
	}
	st.hashes[gen] = hash
	st.revs = append(st.revs, *got)
	return nil
}

// Nodes is the number of nodes created.
func (f *Fixture) Nodes() int { return len(f.nodes) }

// DaemonPods is the number of daemon Pods created.
func (f *Fixture) DaemonPods() int { return len(f.daemonPods) }

// parallel runs do(i) for i in [0, n) on f.workers goroutines and returns the
// first error.
func (f *Fixture) parallel(ctx context.Context, n int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < f.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// podPlan is one Pod to create.
type podPlan struct {
	pod    *corev1.Pod
	status corev1.PodStatus
	daemon bool
}

// Grow adds nodes up to n, their daemon Pods (with the sprinkling of
// findings), nonDaemonPerNode ReplicaSet Pods per node, and then rewrites the
// DaemonSets' status as the controller would publish it.
func (f *Fixture) Grow(ctx context.Context, n int) error {
	from := len(f.nodes)
	if n <= from {
		return nil
	}
	start := time.Now()
	newNodes := make([]corev1.Node, n-from)
	err := f.parallel(ctx, n-from, func(ctx context.Context, k int) error {
		i := from + k
		got, err := f.cs.CoreV1().Nodes().Create(ctx, buildNode(i, f.created), metav1.CreateOptions{})
		f.Requests.Add(1)
		if err != nil {
			return fmt.Errorf("node %d: %w", i, err)
		}
		newNodes[k] = *got
		return nil
	})
	if err != nil {
		return err
	}
	f.nodes = append(f.nodes, newNodes...)
	f.logf("fixture: %d nodes created in %s", n-from, time.Since(start).Round(time.Millisecond))

	var plans []podPlan
	for i := from; i < n; i++ {
		node := &f.nodes[i]
		for d, st := range f.dss {
			plans = append(plans, f.daemonPlans(d, st, i, node)...)
		}
	}
	// Orphans: one Pod per DaemonSet per 1,000 nodes, bound to a node that
	// no longer exists.
	for i := from; i < n; i++ {
		if i%1000 != 999 {
			continue
		}
		for d, st := range f.dss {
			plans = append(plans, f.daemonPod(d, st, fmt.Sprintf(goneNodeNameFmt, i), i, 0, "orphan", st.current()))
			f.Orphans++
		}
	}
	nonDaemon := (n - from) * nonDaemonPerNode
	rsPlans, err := f.nonDaemonPlans(ctx, nonDaemon, appNamespaces, n, true)
	if err != nil {
		return err
	}
	plans = append(plans, rsPlans...)
	if err := f.createPods(ctx, plans); err != nil {
		return err
	}
	return f.writeDaemonSetStatus(ctx)
}

// GrowNonDaemon adds count non-daemon Pods only (bulk namespaces and the
// DaemonSets' namespaces), to check that daemoncheck's memory stays flat.
func (f *Fixture) GrowNonDaemon(ctx context.Context, count int) error {
	nss := []string{"bulk-00", "bulk-01", "bulk-02", "bulk-03", "kube-system", "monitoring"}
	plans, err := f.nonDaemonPlans(ctx, count, nss, len(f.nodes), false)
	if err != nil {
		return err
	}
	return f.createPods(ctx, plans)
}

func (st *dsState) current() int64 { return st.ds.Generation }

// daemonPlans decides what daemon Pods of DaemonSet d node i gets.
func (f *Fixture) daemonPlans(d int, st *dsState, i int, node *corev1.Node) []podPlan {
	v := st.eval.Evaluate(node)
	h := hash64("finding", d, i) % 10000
	gen := st.current()
	if st.spec.rollout && hash64("rollout", d, i)%100 < 20 {
		gen = 1 // outdated
	}
	if !v.ShouldRun {
		// Misscheduled: the Pod predates a NotReady taint, or a relabel.
		if (nodeNotReady(i) && h%2 == 0) || h < 20 {
			return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "ok", gen)}
		}
		return nil
	}
	switch {
	case h < 10:
		return nil // missing
	case h < 15:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "unscheduled", gen)}
	case h < 20:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "creating", gen)}
	case h < 27:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "crashloop", gen)}
	case h < 34:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "imagepull", gen)}
	case h < 40:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "notready", gen)}
	case h < 45:
		return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "ok", gen), f.daemonPod(d, st, node.Name, i, 1, "ok", st.current())}
	}
	return []podPlan{f.daemonPod(d, st, node.Name, i, 0, "ok", gen)}
}

// daemonPod builds a daemon Pod as the DaemonSet controller would create it,
// and the status a kubelet would report for the given state.
func (f *Fixture) daemonPod(d int, st *dsState, nodeName string, i, k int, state string, gen int64) podPlan {
	ds := st.ds
	t := true
	labels := map[string]string{}
	for key, val := range ds.Spec.Template.Labels {
		labels[key] = val
	}
	labels["controller-revision-hash"] = st.hashes[gen]
	labels["pod-template-generation"] = fmt.Sprint(gen)
	spec := *ds.Spec.Template.Spec.DeepCopy()
	spec.Tolerations = scheduling.DaemonPodTolerations(&ds.Spec.Template.Spec)
	spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}}}},
	}}}
	spec.NodeName = nodeName
	spec.PriorityClassName = "" // the bare rig has no priority classes for the admission plugin to resolve beyond the built-in ones
	image := spec.Containers[0].Image
	if gen == 1 && st.spec.rollout {
		spec.Containers[0].Image = "registry.example.com/" + ds.Namespace + "/" + ds.Name + ":v1.0.0"
		image = spec.Containers[0].Image
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ds.Namespace, Name: ds.Name + "-" + randNameN(8, ds.Name, nodeName, k, state),
			Labels: labels, Annotations: ds.Spec.Template.Annotations,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &t, BlockOwnerDeletion: &t}},
		},
		Spec: spec,
	}
	started := metav1.NewTime(f.created.Add(time.Duration(hash64("start", d, i, k)%3600) * time.Second))
	st0 := runningStatus(pod, started, image, i)
	switch state {
	case "unscheduled":
		pod.Spec.NodeName = ""
		pod.Spec.SchedulerName = noSchedulerName
		st0 = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBurstable, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, LastTransitionTime: started,
			Message: "0/5000 nodes are available: 1 Insufficient cpu, 4999 node(s) didn't match Pod's node affinity/selector. preemption: 0/5000 nodes are available: 1 No preemption victims found for incoming pod, 4999 Preemption is not helpful for scheduling.",
		}}}
	case "creating":
		st0.Phase = corev1.PodPending
		setPodReady(&st0, false)
		st0.PodIP, st0.PodIPs, st0.StartTime = "", nil, nil
		st0.ContainerStatuses[0] = corev1.ContainerStatus{Name: spec.Containers[0].Name, Image: image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	case "crashloop":
		setPodReady(&st0, false)
		cs := &st0.ContainerStatuses[0]
		cs.Ready, cs.Started, cs.RestartCount = false, &[]bool{false}[0], 17
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=" + cs.Name}}
		cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", StartedAt: started, FinishedAt: started}}
	case "imagepull":
		st0.Phase = corev1.PodPending
		setPodReady(&st0, false)
		cs := &st0.ContainerStatuses[0]
		cs.Ready, cs.Started, cs.ImageID, cs.ContainerID = false, nil, "", ""
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: `Back-off pulling image "` + image + `"`}}
	case "notready":
		setPodReady(&st0, false)
		st0.ContainerStatuses[0].Ready = false
	}
	return podPlan{pod: pod, status: st0, daemon: true}
}

func setPodReady(s *corev1.PodStatus, ready bool) {
	v := corev1.ConditionFalse
	if ready {
		v = corev1.ConditionTrue
	}
	for k := range s.Conditions {
		if s.Conditions[k].Type == corev1.PodReady || s.Conditions[k].Type == corev1.ContainersReady {
			s.Conditions[k].Status = v
			if !ready {
				s.Conditions[k].Reason = "ContainersNotReady"
				s.Conditions[k].Message = "containers with unready status: [" + s.ContainerStatuses[0].Name + "]"
			}
		}
	}
}

func runningStatus(pod *corev1.Pod, started metav1.Time, image string, i int) corev1.PodStatus {
	ip := fmt.Sprintf("10.%d.%d.%d", 64+i/256, i%256, hash64(pod.Name)%250+2)
	hostIP := fmt.Sprintf("10.1.%d.%d", i/256, i%256)
	cond := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: started}
	}
	st := corev1.PodStatus{
		Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{cond("PodReadyToStartContainers"), cond(corev1.PodInitialized), cond(corev1.PodReady),
			cond(corev1.ContainersReady), cond(corev1.PodScheduled)},
		HostIP: hostIP, HostIPs: []corev1.HostIP{{IP: hostIP}},
		PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		StartTime: &started, QOSClass: corev1.PodQOSBurstable,
	}
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: image, ImageID: fmt.Sprintf("registry.example.com/x@sha256:%064x", hash64(image)),
			ContainerID: fmt.Sprintf("containerd://%064x", hash64("cid", pod.Name, c.Name)),
			Ready:       true, Started: &[]bool{true}[0],
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}},
		})
	}
	return st
}

// nonDaemonPlans makes count Pods of ReplicaSets (created here, inert: no
// ReplicaSet controller runs), spread over nodes [0, nodes). With
// lookalikes, 1 in 200 carries a DaemonSet's name label in its namespace (a
// Deployment sharing the label), so the owner filter has work to do.
func (f *Fixture) nonDaemonPlans(ctx context.Context, count int, nss []string, nodes int, lookalikes bool) ([]podPlan, error) {
	nRS := (count + rsReplicas - 1) / rsReplicas
	type rsInfo struct {
		rs   *appsv1.ReplicaSet
		hash string
	}
	rss := make([]rsInfo, nRS)
	base := f.rsCount
	f.rsCount += nRS
	err := f.parallel(ctx, nRS, func(ctx context.Context, k int) error {
		id := base + k
		ns := nss[id%len(nss)]
		app := fmt.Sprintf("svc-%04d", id)
		hash := randName("rs", id) + "f"
		labels := map[string]string{"app": app, "pod-template-hash": hash}
		if lookalikes && id%8 == 0 {
			// Shares a DaemonSet's name label (in that DaemonSet's namespace when it exists there).
			for _, s := range dsSpecs {
				if s.ns == ns {
					labels["app.kubernetes.io/name"] = s.name
					break
				}
			}
		}
		r := int32(rsReplicas)
		rs := &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: app + "-" + hash, Labels: labels},
			Spec: appsv1.ReplicaSetSpec{
				Replicas: &r, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app, "pod-template-hash": hash}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: appPodSpec(app, id)},
			},
		}
		got, err := f.cs.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
		f.Requests.Add(1)
		if err != nil {
			return fmt.Errorf("replicaset %s/%s: %w", ns, rs.Name, err)
		}
		rss[k] = rsInfo{rs: got, hash: hash}
		return nil
	})
	if err != nil {
		return nil, err
	}
	plans := make([]podPlan, 0, count)
	t := true
	for j := 0; j < count; j++ {
		ri := rss[j/rsReplicas]
		rs := ri.rs
		i := int(hash64("place", rs.Name, j) % uint64(nodes))
		node := fmt.Sprintf(nodeNameFmt, i)
		spec := *rs.Spec.Template.Spec.DeepCopy()
		spec.NodeName = node
		labels := map[string]string{}
		for k, v := range rs.Spec.Template.Labels {
			labels[k] = v
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: rs.Namespace, Name: rs.Name + "-" + randNameN(8, "pod", rs.Name, j),
				Labels: labels, Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": f.created.Format(time.RFC3339)},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &t, BlockOwnerDeletion: &t}},
			},
			Spec: spec,
		}
		started := metav1.NewTime(f.created.Add(time.Duration(hash64("s", pod.Name)%7200) * time.Second))
		plans = append(plans, podPlan{pod: pod, status: runningStatus(pod, started, spec.Containers[0].Image, i)})
	}
	return plans, nil
}

func appPodSpec(app string, id int) corev1.PodSpec {
	image := images[6+id%3]
	return corev1.PodSpec{
		Containers: []corev1.Container{{
			Name: "app", Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP}},
			Env: []corev1.EnvVar{
				{Name: "APP_NAME", Value: app}, {Name: "LOG_FORMAT", Value: "json"}, {Name: "DATABASE_URL", Value: "postgres://db.example.internal:5432/" + app},
				{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.podIP"}}},
			},
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http")}}, PeriodSeconds: 5},
			LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/live", Port: intstr.FromString("http")}}, PeriodSeconds: 10},
			VolumeMounts:   []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}},
		}},
		Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: app + "-config"}}}}},
	}
}

// createPods creates every planned Pod and writes its status.
func (f *Fixture) createPods(ctx context.Context, plans []podPlan) error {
	start := time.Now()
	var done atomic.Int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := done.Load()
				f.logf("fixture: %d/%d Pods (%.0f/s)", d, len(plans), float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	defer close(stop)
	err := f.parallel(ctx, len(plans), func(ctx context.Context, k int) error {
		pl := plans[k]
		got, err := f.cs.CoreV1().Pods(pl.pod.Namespace).Create(ctx, pl.pod, metav1.CreateOptions{})
		f.Requests.Add(1)
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", pl.pod.Namespace, pl.pod.Name, err)
		}
		got.Status = pl.status
		got, err = f.cs.CoreV1().Pods(pl.pod.Namespace).UpdateStatus(ctx, got, metav1.UpdateOptions{})
		f.Requests.Add(1)
		if err != nil {
			return fmt.Errorf("pod status %s/%s: %w", pl.pod.Namespace, pl.pod.Name, err)
		}
		done.Add(1)
		if pl.daemon {
			f.mu.Lock()
			f.daemonPods = append(f.daemonPods, *got)
			f.mu.Unlock()
		} else {
			f.mu.Lock()
			f.NonDaemon++
			f.mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return err
	}
	f.logf("fixture: %d Pods created with status in %s (%.0f Pods/s)", len(plans), time.Since(start).Round(time.Millisecond), float64(len(plans))/time.Since(start).Seconds())
	return nil
}

// writeDaemonSetStatus publishes, for every DaemonSet, the counts the
// controller would (recomputed by the analysis on the fixture as built), so
// the report shows the planted findings and not a wall of StaleStatus; one
// DaemonSet (staleStatus) keeps a stale desired count on purpose.
func (f *Fixture) writeDaemonSetStatus(ctx context.Context) error {
	snap := &model.Snapshot{Nodes: f.nodes, DaemonPods: collect.CompactPods(f.daemonPods...)}
	for _, st := range f.dss {
		snap.DaemonSets = append(snap.DaemonSets, *st.ds)
		snap.ControllerRevisions = append(snap.ControllerRevisions, st.revs...)
	}
	rep := audit.Analyze(snap, audit.Options{Now: time.Now()})
	byName := map[string]*dsState{}
	for _, st := range f.dss {
		byName[st.ds.Namespace+"/"+st.ds.Name] = st
	}
	for _, dr := range rep.DaemonSets {
		st := byName[dr.Namespace+"/"+dr.Name]
		if st == nil || dr.Computed == nil {
			continue
		}
		c := dr.Computed
		ds, err := f.cs.AppsV1().DaemonSets(st.ds.Namespace).Get(ctx, st.ds.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ds.Status = appsv1.DaemonSetStatus{
			DesiredNumberScheduled: c.DesiredNumberScheduled, CurrentNumberScheduled: c.CurrentNumberScheduled,
			NumberReady: c.NumberReady, NumberAvailable: c.NumberAvailable, UpdatedNumberScheduled: c.UpdatedNumberScheduled,
			NumberMisscheduled: c.NumberMisscheduled, NumberUnavailable: c.NumberUnavailable,
			ObservedGeneration: ds.Generation,
		}
		if st.spec.staleStatus && ds.Status.DesiredNumberScheduled > 3 {
			ds.Status.DesiredNumberScheduled -= 3
		}
		ds, err = f.cs.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, ds, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("daemonset status %s/%s: %w", st.ds.Namespace, st.ds.Name, err)
		}
		st.ds = ds
	}
	// A Warning event per DaemonSet, as the controller records them.
	for _, st := range f.dss {
		ev := &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Namespace: st.ds.Namespace, Name: fmt.Sprintf("%s.%x", st.ds.Name, hash64(len(f.nodes), st.ds.Name))},
			InvolvedObject: corev1.ObjectReference{Kind: "DaemonSet", Namespace: st.ds.Namespace, Name: st.ds.Name, UID: st.ds.UID, APIVersion: "apps/v1"},
			Type:           corev1.EventTypeWarning, Reason: "FailedCreate", Count: 3,
			Message:        fmt.Sprintf("Error creating: pods %q is forbidden: exceeded quota", st.ds.Name+"-x"),
			Source:         corev1.EventSource{Component: "daemonset-controller"},
			FirstTimestamp: metav1.NewTime(time.Now().Add(-time.Hour)), LastTimestamp: metav1.NewTime(time.Now().Add(-time.Minute)),
		}
		if _, err := f.cs.CoreV1().Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("event: %w", err)
		}
	}
	return nil
}

// Summary describes the fixture for the results.
func (f *Fixture) Summary() string {
	var desired []string
	snapNodes := f.nodes
	for _, st := range f.dss {
		n := 0
		for k := range snapNodes {
			if st.eval.Evaluate(&snapNodes[k]).ShouldRun {
				n++
			}
		}
		desired = append(desired, fmt.Sprintf("%s/%s=%d", st.ds.Namespace, st.ds.Name, n))
	}
	sort.Strings(desired)
	return fmt.Sprintf("%d nodes, %d DaemonSets, %d daemon Pods (%d orphaned), %d non-daemon Pods in %d ReplicaSets; desired per DaemonSet: %v",
		len(f.nodes), len(f.dss), len(f.daemonPods), f.Orphans, f.NonDaemon, f.rsCount, desired)
}

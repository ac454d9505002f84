package fit_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestNodeAgents(t *testing.T) {
	privileged := func(ds *appsv1.DaemonSet) {
		t := true
		ds.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: &t}
	}
	hostPath := func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "varlog", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}}}
	}
	cases := []struct {
		ds   appsv1.DaemonSet
		want string // "" not an agent
	}{
		{fixture.DaemonSet("kube-system", "proxy"), "namespace kube-system"},
		{fixture.DaemonSet("net", "cni", fixture.HostNetwork()), "hostNetwork"},
		{fixture.DaemonSet("storage", "csi", privileged), "privileged container csi"},
		{fixture.DaemonSet("logging", "fluent-bit", hostPath), "hostPath volume varlog (/var/log)"},
		{fixture.DaemonSet("security", "falco"), "required by --require security/falco"},
		{fixture.DaemonSet("web", "cache"), ""},
		{fixture.DaemonSet("net", "critical-cni", fixture.HostNetwork(), fixture.Critical()), ""},
	}
	var dss []appsv1.DaemonSet
	for _, c := range cases {
		dss = append(dss, c.ds)
	}
	s := detecttest.Cluster([]corev1.Node{fixture.Node("n1")}, dss, nil)
	rep := detecttest.Analyze(s, audit.Options{Policy: fixture.Require(t, "security/falco")})
	for _, c := range cases {
		name := c.ds.Namespace + "/" + c.ds.Name
		f := detecttest.FindingAt(rep, name, report.LowPriorityAgent, "")
		switch {
		case c.want == "" && f != nil:
			t.Errorf("%s: not a node agent without priority trouble, got %s", name, f.Message)
		case c.want != "" && f == nil:
			t.Errorf("%s: no LowPriorityAgent finding", name)
		case c.want != "" && (!strings.Contains(f.Message, "is a node agent ("+c.want) || !strings.Contains(f.Message, "get priority 0, or the globalDefault") ||
			!strings.Contains(f.Suggestion, `kubectl patch daemonset `+c.ds.Name+` -n `+c.ds.Namespace+` --type merge -p '{"spec":{"template":{"spec":{"priorityClassName":"system-node-critical"}}}}'`)):
			t.Errorf("%s: %q / %q", name, f.Message, f.Suggestion)
		case c.want != "" && (c.ds.Namespace == "kube-system") == strings.Contains(f.Suggestion, "ResourceQuota"):
			t.Errorf("%s: the quota note is for namespaces other than kube-system: %q", name, f.Suggestion)
		}
	}
}

// A node agent with a class ranks below the workloads: with --workloads,
// against the Pods on its nodes; without, against the globalDefault class.
func TestAgentBelowWorkloads(t *testing.T) {
	agent := fixture.DaemonSet("logging", "collector", fixture.HostNetwork())
	agent.Spec.Template.Spec.PriorityClassName = "agents"
	classes := []schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "agents"}, Value: 1000},
		{ObjectMeta: metav1.ObjectMeta{Name: "apps"}, Value: 5000},
	}
	nodes := []corev1.Node{fixture.Node("n1"), fixture.Node("n2"), fixture.Node("n3")}
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{agent}, []corev1.Pod{fixture.Pod(&agent, "n1"), fixture.Pod(&agent, "n2"), fixture.Pod(&agent, "n3")})
	s.PriorityClasses, s.PriorityClassesRead = classes, true
	if got := detecttest.KindsOf(detecttest.Analyze(s, audit.Options{}), "logging/collector"); len(got) != 0 {
		t.Errorf("no globalDefault, no workloads read: nothing to compare, got %v", got)
	}
	s.PriorityClasses[1].GlobalDefault = true
	f := detecttest.FindingAt(detecttest.Analyze(s, audit.Options{}), "logging/collector", report.LowPriorityAgent, "")
	if f == nil || !strings.Contains(f.Message, "below the globalDefault class apps (5000)") {
		t.Fatalf("globalDefault above the agent: %+v", f)
	}
	s.PriorityClasses[1].GlobalDefault = false
	w := model.NewWorkloads()
	for _, p := range []corev1.Pod{detecttest.Workload("web-1", "n2", 5000, "100m"), detecttest.Workload("batch", "n3", 10, "100m"), detecttest.Workload("web-2", "n3", 7000, "100m")} {
		w.AddLoad(collect.LoadOf(&p))
	}
	s.Workloads = w
	f = detecttest.FindingAt(detecttest.Analyze(s, audit.Options{}), "logging/collector", report.LowPriorityAgent, "")
	if f == nil || f.Cause != "node agent below the priority of the workloads on its nodes" || !strings.Contains(f.Message, "below Pods on 2 of its 3 nodes (up to priority 7000, on node n3)") {
		t.Fatalf("workloads above the agent: %+v", f)
	}
}

func TestNoMemoryRequest(t *testing.T) {
	limitsOnly := func(ds *appsv1.DaemonSet) {
		c := &ds.Spec.Template.Spec.Containers[0]
		c.Resources = corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")}}
	}
	sidecar := func(ds *appsv1.DaemonSet) {
		always := corev1.ContainerRestartPolicyAlways
		ds.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "setup"}, {Name: "proxy", RestartPolicy: &always}}
	}
	podLevel := func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}}
	}
	cases := []struct {
		ds   appsv1.DaemonSet
		want string
	}{
		{fixture.DaemonSet("a", "none", fixture.NoRequests()), "container none of the daemon Pods requests no memory"},
		{fixture.DaemonSet("a", "limits", limitsOnly), ""},
		{fixture.DaemonSet("a", "sidecar", sidecar), "container proxy of the daemon Pods requests no memory"},
		{fixture.DaemonSet("a", "podlevel", fixture.NoRequests(), podLevel), ""},
	}
	var dss []appsv1.DaemonSet
	for _, c := range cases {
		dss = append(dss, c.ds)
	}
	rep := detecttest.Analyze(detecttest.Cluster([]corev1.Node{fixture.Node("n1")}, dss, nil), audit.Options{})
	for _, c := range cases {
		f := detecttest.FindingAt(rep, "a/"+c.ds.Name, report.NoMemoryRequest, "")
		switch {
		case c.want == "" && f != nil:
			t.Errorf("%s: %s", c.ds.Name, f.Message)
		case c.want != "" && (f == nil || !strings.Contains(f.Message, c.want)):
			t.Errorf("%s: want %q, got %+v", c.ds.Name, c.want, f)
		case c.want != "" && !strings.Contains(f.Suggestion, "kubectl set resources daemonset "+c.ds.Name+" -n a -c "):
			t.Errorf("%s: suggestion %q", c.ds.Name, f.Suggestion)
		}
	}
}

func TestLowPriorityAgentDetector(t *testing.T) {
	detecttest.Run(t, report.LowPriorityAgent, []detecttest.Case{
		{
			Name:  "node agent without a priorityClassName is preempted like any workload",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("kube-system", "proxy"), Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Severity: report.SeverityInfo, Cause: "node agent without a priorityClassName",
				Message: []string{"kube-system/proxy is a node agent (namespace kube-system) without a priorityClassName"},
				Fix:     []string{`kubectl patch daemonset proxy -n kube-system --type merge`, "system-node-critical"}}},
		},
		{
			Name:  "node agent at system-node-critical: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("kube-system", "proxy", fixture.Critical()), Pods: detecttest.PodsOn("n1"),
		},
		{
			Name:  "ordinary workload DaemonSet is not a node agent: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("web", "cache"), Pods: detecttest.PodsOn("n1"),
		},
	})
}

func TestNoMemoryRequestDetector(t *testing.T) {
	detecttest.Run(t, report.NoMemoryRequest, []detecttest.Case{
		{
			Name:  "container without requests: BestEffort, evicted first",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent", fixture.NoRequests()), Pods: detecttest.PodsOn("n1"),
			Want: []detecttest.Want{{Severity: report.SeverityInfo, Cause: "no memory request: agent",
				Message: []string{"container agent of the daemon Pods requests no memory", "BestEffort"},
				Fix:     []string{"kubectl set resources daemonset agent -n ns -c agent --requests=memory=64Mi"}}},
		},
		{
			Name:  "memory requested: no finding",
			Nodes: detecttest.ReadyNodes("n1"), DS: fixture.DaemonSet("ns", "agent"), Pods: detecttest.PodsOn("n1"),
		},
	})
}

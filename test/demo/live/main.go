// Command live is `make demo-live`: it starts the e2e rig (a real control
// plane with kwok nodes), creates a small realistic cluster, runs
// `kubectl daemoncheck` against it and keeps the cluster up until Ctrl-C
// (or exits at once with -exit). Everything it started stops on exit.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

func main() {
	plugin := flag.String("plugin", "bin/kubectl-daemoncheck", "the daemoncheck binary to run")
	exit := flag.Bool("exit", false, "stop the cluster right after the report instead of waiting for Ctrl-C")
	workers := flag.Int("workers", 24, "number of worker nodes")
	flag.Parse()
	if err := run(*plugin, *exit, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "demo-live:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "demo-live: "+format+"\n", args...) }

func run(plugin string, exitNow bool, workers int) error {
	plugin, err := filepath.Abs(plugin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(plugin); err != nil {
		return fmt.Errorf("%s: %w (run `make build` first)", plugin, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	r, err := rig.Start(nil, rig.Options{Logf: logf})
	if err != nil {
		return err
	}
	defer r.Stop()
	c := &demo{r: r, ctx: ctx}
	go c.heartbeat()

	logf("creating nodes: 3 control-plane, 4 GPU, %d workers, 1 NotReady", workers)
	for i := 1; i <= 3; i++ {
		n := c.node(fmt.Sprintf("cp-%d", i), "16")
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		c.create(n)
	}
	for i := 1; i <= 4; i++ {
		n := c.node(fmt.Sprintf("gpu-%d", i), "64")
		n.Labels["nvidia.com/gpu.present"] = "true"
		n.Spec.Taints = []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
		c.create(n)
	}
	for i := 1; i <= workers; i++ {
		c.create(c.node(fmt.Sprintf("worker-%02d", i), "32"))
	}
	// A node whose kubelet reports NotReady (the demo plays its kubelet).
	bad := c.node("worker-notready", "32")
	bad.Annotations[rig.FrozenNodeAnnotation] = "true"
	bad.Status.Conditions = conditions(corev1.ConditionFalse)
	c.create(bad)
	if err := c.waitNodes(); err != nil {
		return err
	}

	for _, ns := range []string{"monitoring", "logging"} {
		if err := r.CreateNamespace(ctx, ns, nil); err != nil {
			return err
		}
	}
	if err := r.CreateNamespace(ctx, "kube-system", nil); err != nil {
		return err
	}
	tolerateAll := []corev1.Toleration{{Operator: corev1.TolerationOpExists}}

	proxy := daemonSet("kube-system", "kube-proxy", "registry.k8s.io/kube-proxy:v1.37.2")
	proxy.Spec.Template.Spec.HostNetwork = true
	proxy.Spec.Template.Spec.Tolerations = tolerateAll
	proxy.Spec.Template.Spec.PriorityClassName = "system-node-critical"

	exporter := daemonSet("monitoring", "node-exporter", "quay.io/prometheus/node-exporter:v1.9.0")
	exporter.Spec.Template.Spec.HostNetwork = true
	exporter.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}}
	exporter.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}

	gpu := daemonSet("kube-system", "nvidia-device-plugin", "nvcr.io/nvidia/k8s-device-plugin:v0.17.0")
	gpu.Spec.Template.Spec.NodeSelector = map[string]string{"nvidia.com/gpu.present": "true"}
	gpu.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "nvidia.com/gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}

	logs := daemonSet("logging", "fluent-bit", "fluent/fluent-bit:3.2.not-a-tag")
	logs.Spec.Template.Labels[rig.ImagePullErrorLabel] = "true"

	for _, ds := range []*appsv1.DaemonSet{proxy, exporter, gpu, logs} {
		if _, err := r.Client.AppsV1().DaemonSets(ds.Namespace).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create DaemonSet %s/%s: %w", ds.Namespace, ds.Name, err)
		}
	}
	// A port clash on one worker leaves node-exporter's Pod Pending there.
	squatter := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "legacy-exporter", Namespace: "monitoring"},
		Spec: corev1.PodSpec{NodeName: "worker-03", HostNetwork: true, Containers: []corev1.Container{{
			Name: "exporter", Image: "example.com/legacy-exporter:0.1",
			Ports: []corev1.ContainerPort{{ContainerPort: 9100, HostPort: 9100}},
		}}},
	}
	if _, err := r.Client.CoreV1().Pods("monitoring").Create(ctx, squatter, metav1.CreateOptions{}); err != nil {
		return err
	}
	logf("waiting for the DaemonSet controller to settle")
	if err := c.settle(); err != nil {
		return err
	}
	// A node tainted after its Pods run: they stay (misscheduled) and the
	// controller's status does not notice.
	n, err := r.Client.CoreV1().Nodes().Get(ctx, "worker-07", metav1.GetOptions{})
	if err == nil {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
		_, err = r.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	time.Sleep(2 * time.Second)

	fmt.Printf("\n$ kubectl daemoncheck -A\n")
	cmd := exec.CommandContext(ctx, plugin, "--kubeconfig", r.KubeconfigPath, "-A")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return err
	}
	fmt.Printf("(exit code %d: 0 healthy, 1 findings, 2 usage, 3 input/cluster error)\n\n", code)
	if exitNow {
		return nil
	}
	fmt.Printf("The cluster stays up until Ctrl-C. Point kubectl at it:\n\n  export KUBECONFIG=%s\n  kubectl get nodes\n  kubectl daemoncheck -A        # with %s on PATH as kubectl-daemoncheck\n  %s --kubeconfig %s -n logging fluent-bit -o yaml\n\n", r.KubeconfigPath, filepath.Dir(plugin), plugin, r.KubeconfigPath)
	<-ctx.Done()
	logf("stopping the cluster")
	return nil
}

type demo struct {
	r     *rig.Rig
	ctx   context.Context
	nodes []string
}

func (c *demo) node(name, cpu string) *corev1.Node {
	res := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse("128Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
			Annotations: map[string]string{rig.FakeNodeAnnotation: rig.FakeNodeAnnotationValue},
		},
		Status: corev1.NodeStatus{Capacity: res, Allocatable: res},
	}
}

func (c *demo) create(n *corev1.Node) {
	if _, err := c.r.Client.CoreV1().Nodes().Create(c.ctx, n, metav1.CreateOptions{}); err != nil {
		logf("create node %s: %v", n.Name, err)
		return
	}
	c.nodes = append(c.nodes, n.Name)
}

func conditions(ready corev1.ConditionStatus) []corev1.NodeCondition {
	now := metav1.Now()
	out := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, Reason: "KubeletNotReady", Message: "container runtime network not ready: NetworkReady=false", LastHeartbeatTime: now, LastTransitionTime: now}}
	for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		out = append(out, corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, LastHeartbeatTime: now, LastTransitionTime: now})
	}
	return out
}

// heartbeat keeps worker-notready's (NotReady) status fresh, as its kubelet
// would, so the node lifecycle controller does not turn it Unknown.
func (c *demo) heartbeat() {
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
		n, err := c.r.Client.CoreV1().Nodes().Get(c.ctx, "worker-notready", metav1.GetOptions{})
		if err != nil {
			continue
		}
		for i := range n.Status.Conditions {
			n.Status.Conditions[i].LastHeartbeatTime = metav1.Now()
		}
		_, _ = c.r.Client.CoreV1().Nodes().UpdateStatus(c.ctx, n, metav1.UpdateOptions{})
	}
}

// waitNodes waits until every kwok node is Ready without the not-ready taint.
func (c *demo) waitNodes() error {
	return wait.PollUntilContextTimeout(c.ctx, 500*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := c.r.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, n := range list.Items {
			if n.Name == "worker-notready" {
				continue
			}
			for _, t := range n.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady {
					return false, nil
				}
			}
		}
		return len(list.Items) == len(c.nodes), nil
	})
}

// settle waits until every DaemonSet's status is current and the Pods stopped
// changing for a few seconds.
func (c *demo) settle() error {
	last, since := "", time.Now()
	return wait.PollUntilContextTimeout(c.ctx, 500*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		dss, err := c.r.Client.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		pods, err := c.r.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		var b strings.Builder
		for _, ds := range dss.Items {
			if ds.Status.ObservedGeneration != ds.Generation {
				return false, nil
			}
			fmt.Fprintf(&b, "%s %+v;", ds.Name, ds.Status)
		}
		for _, p := range pods.Items {
			fmt.Fprintf(&b, "%s %s;", p.Name, p.ResourceVersion)
		}
		if b.String() != last {
			last, since = b.String(), time.Now()
			return false, nil
		}
		return time.Since(since) > 4*time.Second, nil
	})
}

func daemonSet(ns, name, image string) *appsv1.DaemonSet {
	labels := map[string]string{"app.kubernetes.io/name": name}
	one := intstr.FromInt32(1)
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{
				Type:          appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": name}},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: name, Image: image,
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("50m"),
							corev1.ResourceMemory: resource.MustParse("64Mi"),
						}},
					}},
				},
			},
		},
	}
}

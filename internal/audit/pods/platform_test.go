package pods_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/audit/detecttest"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// What containerd and CRI-O say when an image has no variant for the
// node's platform, and what runc says when the binary is for another
// architecture.
const (
	containerdNoVariant = `failed to pull and unpack image "registry.example.com/agent:v1": no match for platform in manifest: not found`
	crioNoVariant       = `choosing image instance: no image found in manifest list for architecture "arm64", variant "v8", OS "linux"`
	runcExecFormat      = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "/agent": exec format error: unknown`
)

// startError makes the Pod's container crash-loop after a StartError with
// the runtime's message.
func startError(msg string) fixture.PodOpt {
	return func(p *corev1.Pod) {
		fixture.Waiting("CrashLoopBackOff", "back-off 5m0s restarting failed container", 4)(p)
		p.Status.ContainerStatuses[0].LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "StartError", ExitCode: 128, Message: msg}}
	}
}

func TestPlatformFailures(t *testing.T) {
	mixed := []corev1.Node{fixture.Node("amd-1", detecttest.OnArch("amd64")), fixture.Node("amd-2", detecttest.OnArch("amd64")), fixture.Node("arm-1", detecttest.OnArch("arm64")), fixture.Node("arm-2", detecttest.OnArch("arm64"))}
	armFail := func(opt fixture.PodOpt) func(ds *appsv1.DaemonSet) []corev1.Pod {
		return func(ds *appsv1.DaemonSet) []corev1.Pod {
			return []corev1.Pod{fixture.Pod(ds, "amd-1"), fixture.Pod(ds, "amd-2"), fixture.Pod(ds, "arm-1", opt), fixture.Pod(ds, "arm-2", opt)}
		}
	}
	patch := `kubectl patch daemonset agent -n ns --type merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"kubernetes.io/arch":"amd64"}}}}}'`
	noVariant := detecttest.Want{Severity: report.SeverityError, Cause: "image registry.example.com/agent:v1 has no linux/arm64 variant",
		Message: []string{"no match for platform in manifest"},
		Fix:     []string{"constrain the DaemonSet to the platforms its image has (linux/amd64 run it): " + patch, "or use a multi-arch image that has a linux/arm64 variant"}}
	at := func(w detecttest.Want, node string) detecttest.Want { w.Node = node; return w }
	detecttest.Run(t, report.UnhealthyPod, []detecttest.Case{
		{
			Name:  "containerd: no variant for arm64, grouped by platform, the DaemonSet kept on amd64",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent"),
			Pods: armFail(fixture.Waiting("ErrImagePull", containerdNoVariant, 0)),
			Want: []detecttest.Want{at(noVariant, "arm-1"), at(noVariant, "arm-2")},
		},
		{
			Name:  "CRI-O's words for it",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent"),
			Pods: armFail(fixture.Waiting("ImagePullBackOff", "Back-off pulling image: "+crioNoVariant, 0)),
			Want: func() []detecttest.Want {
				w := noVariant
				w.Message = []string{"no image found in manifest list for architecture"}
				return []detecttest.Want{at(w, "arm-1"), at(w, "arm-2")}
			}(),
		},
		{
			Name:  "a single-arch image pulled onto arm64: exec format error at start",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent"),
			Pods: armFail(startError(runcExecFormat)),
			Want: []detecttest.Want{
				{Node: "arm-1", Severity: report.SeverityError, Cause: "image registry.example.com/agent:v1 is not built for linux/arm64 (exec format error)", Fix: []string{patch}},
				{Node: "arm-2", Severity: report.SeverityError, Cause: "image registry.example.com/agent:v1 is not built for linux/arm64 (exec format error)"},
			},
		},
		{
			Name:  "a DaemonSet already constrained to arm64 and amd64: narrow the constraint, no patch that would replace it",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent", fixture.WithAffinity(fixture.Term(fixture.Req(corev1.LabelArchStable, corev1.NodeSelectorOpIn, "amd64", "arm64")))),
			Pods: armFail(fixture.Waiting("ErrImagePull", containerdNoVariant, 0)),
			Want: []detecttest.Want{
				{Node: "arm-1", Severity: report.SeverityError, Fix: []string{"the DaemonSet's os/arch constraint admits linux/arm64, which its image lacks"}},
				{Node: "arm-2", Severity: report.SeverityError},
			},
		},
		{
			Name:  "an ordinary pull error is not a platform one",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent"),
			Pods: armFail(fixture.Waiting("ErrImagePull", `failed to pull and unpack image "registry.example.com/agent:v1": not found`, 0)),
			Want: []detecttest.Want{
				{Node: "arm-1", Severity: report.SeverityError, Cause: "ErrImagePull: image registry.example.com/agent:v1"},
				{Node: "arm-2", Severity: report.SeverityError, Cause: "ErrImagePull: image registry.example.com/agent:v1"},
			},
		},
		{
			Name:  "the evidence only in the kubelet's event: found there",
			Nodes: mixed, DS: fixture.DaemonSet("ns", "agent"),
			Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
				return []corev1.Pod{fixture.Pod(ds, "amd-1"), fixture.Pod(ds, "amd-2"), fixture.Pod(ds, "arm-1", fixture.Waiting("ImagePullBackOff", `Back-off pulling image "registry.example.com/agent:v1"`, 0))}
			},
			Edit: func(s *model.Snapshot) {
				for i := range s.DaemonPods {
					if p := &s.DaemonPods[i]; p.NodeName == "arm-1" {
						s.Events = append(s.Events, corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: p.Name + ".1"},
							InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "ns", Name: p.Name, UID: p.UID, FieldPath: "spec.containers{agent}"},
							Type:           corev1.EventTypeWarning, Reason: "Failed", Message: `Failed to pull image "registry.example.com/agent:v1": rpc error: code = NotFound desc = ` + containerdNoVariant,
							LastTimestamp: metav1.NewTime(fixture.Epoch.Add(-time.Minute))})
					}
				}
			},
			Want: []detecttest.Want{at(noVariant, "arm-1")},
		},
	})
}

func TestOnDeleteStragglersByPool(t *testing.T) {
	pool := func(p string) fixture.NodeOpt { return fixture.WithLabel("karpenter.sh/nodepool", p) }
	nodes := []corev1.Node{fixture.Node("a-1", pool("general")), fixture.Node("a-2", pool("general")), fixture.Node("b-1", pool("gpu")), fixture.Node("c-1", pool("general"))}
	ds := fixture.DaemonSet("ns", "agent", fixture.Generation(2), fixture.OnDelete())
	oldHash, newHash := fixture.Hash(&ds, 1), fixture.Hash(&ds, 2)
	detecttest.Run(t, report.OutdatedPod, []detecttest.Case{{
		Name: "old Pods grouped by pool, with their age", Nodes: nodes, DS: ds,
		Pods: func(ds *appsv1.DaemonSet) []corev1.Pod {
			return []corev1.Pod{
				fixture.Pod(ds, "a-1", fixture.PodCreatedAgo(40*24*time.Hour)), fixture.Pod(ds, "a-2", fixture.PodCreatedAgo(3*24*time.Hour)),
				fixture.Pod(ds, "b-1", fixture.PodCreatedAgo(time.Hour)), fixture.Pod(ds, "c-1", fixture.AtGeneration(ds, 2)),
			}
		},
		Want: []detecttest.Want{
			{Node: "a-1", Severity: report.SeverityWarning, Cause: "OnDelete: old revision " + oldHash + " left in pool general (current: " + newHash + ")",
				Message: []string{"updateStrategy OnDelete replaces it only when it is deleted, and it was created 40d ago"}},
			{Node: "a-2", Severity: report.SeverityWarning, Cause: "OnDelete: old revision " + oldHash + " left in pool general (current: " + newHash + ")"},
			{Node: "b-1", Severity: report.SeverityWarning, Cause: "OnDelete: old revision " + oldHash + " left in pool gpu (current: " + newHash + ")"},
		},
	}})
	s := detecttest.Cluster(nodes, []appsv1.DaemonSet{ds}, []corev1.Pod{fixture.Pod(&ds, "a-1", fixture.PodCreatedAgo(40*24*time.Hour)), fixture.Pod(&ds, "b-1")}, fixture.Revision(&ds, 2))
	for _, f := range detecttest.FindingsOf(detecttest.Analyze(s, audit.Options{}), "ns/agent") {
		if f.Type != report.OutdatedPod {
			continue
		}
		if f.Reason != report.ReasonOnDeleteStraggler || f.Params.Pool == "" || f.Since == nil {
			t.Errorf("%s: reason %s, pool %q, since %v; want OnDeleteStraggler with a pool and a since", f.Node, f.Reason, f.Params.Pool, f.Since)
		}
		if f.Node == "a-1" && !f.Since.Equal(fixture.Epoch.Add(-40*24*time.Hour)) {
			t.Errorf("since %v, want the Pod's creation", f.Since)
		}
	}
}

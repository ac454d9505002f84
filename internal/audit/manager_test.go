package audit_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/pkg/report"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// A DaemonSet something else reconciles gets its fixes through that
// manager: a kubectl patch/set/edit/rollout undo on it would be reverted.
// The same DaemonSet unmanaged gets the direct commands.
func TestFixesGoThroughTheDaemonSetsManager(t *testing.T) {
	helm := func(ds *appsv1.DaemonSet) {
		ds.Labels["app.kubernetes.io/managed-by"] = "Helm"
		ds.Annotations = map[string]string{"meta.helm.sh/release-name": "logging", "meta.helm.sh/release-namespace": "logging"}
	}
	argo := func(ds *appsv1.DaemonSet) {
		ds.Annotations = map[string]string{"argocd.argoproj.io/tracking-id": "agents:apps/DaemonSet:logging/agent"}
	}
	addon := func(ds *appsv1.DaemonSet) { ds.Labels["addonmanager.kubernetes.io/mode"] = "Reconcile" }
	operator := func(ds *appsv1.DaemonSet) {
		ctl := true
		ds.OwnerReferences = []metav1.OwnerReference{{APIVersion: "operator.openshift.io/v1", Kind: "DNS", Name: "default", UID: "u", Controller: &ctl}}
	}
	for _, tt := range []struct {
		name   string
		manage func(*appsv1.DaemonSet)
		kind   string
		says   string
	}{
		{"unmanaged", nil, "", "kubectl set resources daemonset agent"},
		{"Helm release", helm, "Helm", "Helm release logging/logging"},
		{"Argo CD", argo, "ArgoCD", "in Git"},
		{"addon manager", addon, "AddonManager", "addon manifest"},
		{"operator", operator, "Operator", "DNS default"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A node agent (hostNetwork) without requests or a priority
			// class: NoMemoryRequest and LowPriorityAgent, both fixed on
			// the DaemonSet itself.
			ds := fixture.DaemonSet("logging", "agent", fixture.HostNetwork(), fixture.NoRequests())
			if ds.Labels == nil {
				ds.Labels = map[string]string{}
			}
			if tt.manage != nil {
				tt.manage(&ds)
			}
			s := &model.Snapshot{Nodes: []corev1.Node{fixture.Node("n1")}, DaemonSets: []appsv1.DaemonSet{ds},
				DaemonPods: collect.CompactPods(fixture.Pod(&ds, "n1")), ControllerRevisions: []appsv1.ControllerRevision{fixture.Revision(&ds, 1)}}
			dr := run(t, s).DaemonSets[0]
			if got := ""; dr.ManagedBy != nil {
				got = dr.ManagedBy.Kind
				if got != tt.kind {
					t.Fatalf("managed by %s, want %s", got, tt.kind)
				}
			} else if tt.kind != "" {
				t.Fatalf("not detected as managed by %s", tt.kind)
			}
			seen := 0
			for _, f := range dr.Findings {
				if f.Type != report.NoMemoryRequest && f.Type != report.LowPriorityAgent {
					continue
				}
				seen++
				for _, c := range adviceCommands(f.Advice) {
					if c.Writes && tt.kind != "" {
						t.Errorf("%s: a write on a managed DaemonSet: %v", f.Type, c.Argv)
					}
				}
				if tt.kind != "" && strings.Contains(f.Suggestion, "kubectl patch") || tt.kind != "" && strings.Contains(f.Suggestion, "kubectl set") {
					t.Errorf("%s: %s", f.Type, f.Suggestion)
				}
			}
			if seen != 2 {
				t.Fatalf("want NoMemoryRequest and LowPriorityAgent, got %d of them: %v", seen, kinds(dr))
			}
			if f := find(dr, report.NoMemoryRequest); !strings.Contains(f.Suggestion, tt.says) {
				t.Errorf("NoMemoryRequest fix %q lacks %q", f.Suggestion, tt.says)
			}
		})
	}
}

func adviceCommands(a *report.Advice) []report.Command {
	if a == nil {
		return nil
	}
	return a.Commands
}

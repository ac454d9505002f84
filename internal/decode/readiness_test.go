package decode

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/collect"
)

func TestNodeReadinessRulesAreReadFromFiles(t *testing.T) {
	const rules = `apiVersion: readiness.node.x-k8s.io/v1alpha1
kind: NodeReadinessRule
metadata: {name: cni}
spec:
  conditions: [{type: network.example.com/CNIReady, requiredStatus: "True"}]
  taint: {key: readiness.k8s.io/cni, effect: NoSchedule}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
`
	snap, err := Files([]string{"-"}, strings.NewReader(rules), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.NodeReadinessRulesRead || len(snap.NodeReadinessRules) != 1 {
		t.Fatalf("rules read %v: %+v", snap.NodeReadinessRulesRead, snap.NodeReadinessRules)
	}
	r := snap.NodeReadinessRules[0]
	if r.Name != "cni" || r.Taint.Key != "readiness.k8s.io/cni" || r.Taint.Effect != corev1.TaintEffectNoSchedule || len(r.Conditions) != 1 || r.Conditions[0].RequiredStatus != corev1.ConditionTrue {
		t.Errorf("rule %+v", r)
	}

	snap, err = Files([]string{"-"}, strings.NewReader("apiVersion: readiness.node.x-k8s.io/v1alpha1\nkind: NodeReadinessRuleList\nitems: []\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !snap.NodeReadinessRulesRead || len(snap.NodeReadinessRules) != 0 {
		t.Errorf("an empty NodeReadinessRuleList: read %v, rules %v", snap.NodeReadinessRulesRead, snap.NodeReadinessRules)
	}

	snap, err = Files([]string{"-"}, strings.NewReader("apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n"), collect.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if snap.NodeReadinessRulesRead {
		t.Error("an input without NodeReadinessRules counts them as read")
	}
	if _, missing := snap.Missing["nodereadinessrules"]; missing {
		t.Error("an input without NodeReadinessRules is partial")
	}
}

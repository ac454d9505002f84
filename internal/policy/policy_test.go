package policy_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

func TestParseRequire(t *testing.T) {
	r, err := policy.ParseRequire("security/falco=kubernetes.io/os=linux,pool!=batch")
	if err != nil {
		t.Fatal(err)
	}
	if r.Namespace != "security" || r.Name != "falco" {
		t.Errorf("ref %s/%s", r.Namespace, r.Name)
	}
	if !r.Nodes.Matches(labels.Set{"kubernetes.io/os": "linux"}) || r.Nodes.Matches(labels.Set{"kubernetes.io/os": "linux", "pool": "batch"}) {
		t.Errorf("selector %s", r.Nodes)
	}
	all, err := policy.ParseRequire("security/falco")
	if err != nil || !all.Nodes.Empty() {
		t.Errorf("no selector must mean every node: %v %v", all.Nodes, err)
	}
	for _, bad := range []string{"falco", "/falco", "security/", "a/b/c", "security/falco=a in (b"} {
		if _, err := policy.ParseRequire(bad); err == nil || !strings.Contains(err.Error(), "--require") {
			t.Errorf("%q: want an error naming --require, got %v", bad, err)
		}
	}
}

func TestParseFile(t *testing.T) {
	good := `apiVersion: daemoncheck/v1alpha1
kind: CoveragePolicy
rules:
- name: security agent on every node
  daemonSets: {namespace: security, name: falco}
- name: observability on linux
  daemonSets: {selector: app.kubernetes.io/part-of=observability}
  nodeSelector: kubernetes.io/os=linux
`
	rules, err := policy.Parse("p.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 || rules[0].Name != "falco" || rules[1].Selector == nil || !strings.Contains(rules[1].Source, "observability on linux") {
		t.Fatalf("rules %+v", rules)
	}
	bad := map[string]string{
		"unknown key":       strings.Replace(good, "nodeSelector:", "nodeSelectr:", 1),
		"wrong kind":        strings.Replace(good, "CoveragePolicy", "Policy", 1),
		"no rules":          "apiVersion: daemoncheck/v1alpha1\nkind: CoveragePolicy\nrules: []\n",
		"bad node selector": strings.Replace(good, "kubernetes.io/os=linux", "a in (", 1),
		"bad ds selector":   strings.Replace(good, "app.kubernetes.io/part-of=observability", "!!", 1),
		"no name/selector":  strings.Replace(good, "{namespace: security, name: falco}", "{namespace: security}", 1),
		"not yaml":          "rules: [",
	}
	for name, content := range bad {
		if _, err := policy.Parse("p.yaml", []byte(content)); err == nil || !strings.Contains(err.Error(), "p.yaml") {
			t.Errorf("%s: want an error naming the file, got %v", name, err)
		}
	}
}

func TestForAndValidate(t *testing.T) {
	falco := fixture.DaemonSet("security", "falco")
	other := fixture.DaemonSet("kube-system", "proxy")
	other.Annotations[policy.RequireAnnotation] = "kubernetes.io/os=linux"
	req, _ := policy.ParseRequire("security/falco")
	p := &policy.Policy{Rules: []policy.Rule{req}}
	dss := []appsv1.DaemonSet{falco, other}
	if err := p.Validate(dss); err != nil {
		t.Fatal(err)
	}
	if rules, _ := p.For(&falco); len(rules) != 1 {
		t.Errorf("falco rules %v", rules)
	}
	rules, _ := p.For(&other)
	if len(rules) != 1 || !strings.Contains(rules[0].Source, "annotation") || rules[0].Nodes.Matches(labels.Set{"kubernetes.io/os": "windows"}) {
		t.Errorf("annotation rule %+v", rules)
	}
	missing, _ := policy.ParseRequire("security/flaco")
	if err := (&policy.Policy{Rules: []policy.Rule{missing}}).Validate(dss); err == nil || !strings.Contains(err.Error(), `"flaco" not found`) {
		t.Errorf("unknown DaemonSet: %v", err)
	}
	// A bad annotation is a warning, not the caller's usage error; the
	// policy's own rules still apply.
	other.Annotations[policy.RequireAnnotation] = "a in ("
	if err := p.Validate([]appsv1.DaemonSet{falco, other}); err != nil {
		t.Errorf("bad annotation failed Validate: %v", err)
	}
	if rules, err := p.For(&other); err == nil || len(rules) != 0 {
		t.Errorf("bad annotation: rules %v, err %v", rules, err)
	}
}

func TestExemption(t *testing.T) {
	if _, all, ok := policy.Exemption(map[string]string{policy.ExemptAnnotation: "true"}); !ok || !all {
		t.Error("true exempts all")
	}
	if _, _, ok := policy.Exemption(map[string]string{policy.ExemptAnnotation: "false"}); ok {
		t.Error("false exempts nothing")
	}
	types, all, ok := policy.Exemption(map[string]string{policy.ExemptAnnotation: "MissingPod, UnhealthyPod"})
	if !ok || all || !types["MissingPod"] || !types["UnhealthyPod"] || types["PendingPod"] {
		t.Errorf("list: %v %v %v", types, all, ok)
	}
	if _, _, ok := policy.Exemption(nil); ok {
		t.Error("absent exempts nothing")
	}
}

package decode

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestProposalMixedAndLists(t *testing.T) {
	in := `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec: {containers: [{name: a, image: a}]}
  status: {desiredNumberScheduled: 3}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: agent-config}
---
apiVersion: v1
kind: Service
metadata: {name: agent}
---
`
	prop, err := ReadProposal([]string{"-"}, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(prop.DaemonSets) != 1 || prop.DaemonSets[0].Name != "agent" || prop.Sources[0] != "<stdin>" {
		t.Fatalf("daemonsets %+v", prop.DaemonSets)
	}
	// A manifest's status is not the cluster's.
	if prop.DaemonSets[0].Status.DesiredNumberScheduled != 0 {
		t.Errorf("status kept: %+v", prop.DaemonSets[0].Status)
	}
	if len(prop.Warnings) != 1 || !strings.Contains(prop.Warnings[0], "ignored 2 objects of kinds whatif does not read (ConfigMap, Service)") {
		t.Errorf("warnings %v", prop.Warnings)
	}
}

func TestProposalErrors(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "empty input"},
		{"not yaml", "a: [b", "not valid JSON or YAML"},
		{"binary", "\x00\x01", "binary data"},
		{"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "object has no kind"},
		{"nothing to do", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "nothing to evaluate"},
		{"old nodepool", "apiVersion: karpenter.sh/v1beta1\nkind: NodePool\nmetadata: {name: x}\n", "whatif reads karpenter.sh/v1"},
		{"old capi", "apiVersion: cluster.x-k8s.io/v1alpha4\nkind: MachineDeployment\nmetadata: {name: x}\n", "v1beta1 or cluster.x-k8s.io/v1beta2"},
		{"extensions ds", "apiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: x}\n", "whatif reads apps/v1"},
		{"no name", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {}\n", "no metadata.name"},
		{"bad effect", "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nspec: {taints: [{key: a, effect: NoScheduel}]}\n", `effect "NoScheduel"`},
		{"bad operator", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: Equals, values: [b]}]}}}\n", `unknown operator "Equals"`},
		{"In without values", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: In}]}}}\n", "needs values"},
		{"Gt not int", "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata: {name: p}\nspec: {template: {spec: {requirements: [{key: a, operator: Gt, values: [x]}]}}}\n", "needs an integer"},
		{"bad kubelet labels", "apiVersion: cluster.x-k8s.io/v1beta1\nkind: MachineDeployment\nmetadata: {name: md}\nspec: {template: {spec: {bootstrap: {configRef: {kind: KubeadmConfigTemplate, name: k}}}}}\n---\napiVersion: bootstrap.cluster.x-k8s.io/v1beta1\nkind: KubeadmConfigTemplate\nmetadata: {name: k}\nspec: {template: {spec: {joinConfiguration: {nodeRegistration: {kubeletExtraArgs: {node-labels: \"a=b=c\"}}}}}}\n", "node-labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadProposal([]string{"-"}, strings.NewReader(c.in))
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an InputError with %q", err, c.want)
			}
		})
	}
	if _, err := ReadProposal([]string{"/nonexistent/pool.yaml"}, nil); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

// Every document of a what-if input is read, or the error names the one
// that could not be: a JSON stream with a comment line on top (a saved
// kubectl cluster-info dump with a note) used to be taken as YAML and cut
// to its first document, the DaemonSets after it never judged.
func TestProposalReadsEveryDocument(t *testing.T) {
	node := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`
	ds := func(name string) string {
		return `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"` + name + `","namespace":"ns"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"i"}]}}}}`
	}
	list := `{"apiVersion":"v1","kind":"List","items":[` + ds("in-list") + `]}`
	for _, c := range []struct {
		name, in string
		pools    int
		dss      []string
		err      string
	}{
		{"JSON stream with a comment on top", "# saved by me\n# cluster-info dump\n" + node + "\n" + ds("first") + "\n" + list + "\n", 1, []string{"first", "in-list"}, ""},
		{"JSON stream after blank lines", "\n\n  " + node + ds("glued"), 1, []string{"glued"}, ""},
		{"YAML documents", "# note\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n" + ds("flow") + "\n---\n", 1, []string{"flow"}, ""},
		{"a JSON stream inside a YAML document", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n# two values\n" + ds("a") + "\n" + ds("b") + "\n", 0, nil,
			"document 2: more than one JSON value in one YAML document"},
		{"a comment between JSON values", "# top\n" + node + "\n# between\n" + ds("late") + "\n", 0, nil, "document 2: not valid JSON"},
		{"a broken value later in the stream", node + "\n" + ds("ok") + "\n{\"kind\": \n", 0, nil, "document 3: not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			prop, err := ReadProposal([]string{"-"}, strings.NewReader(c.in))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), "<stdin>: "+c.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("want one line with %q, got %v", c.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, d := range prop.DaemonSets {
				names = append(names, d.Name)
			}
			if len(prop.Pools) != c.pools || !reflect.DeepEqual(names, c.dss) {
				t.Errorf("%d pools, DaemonSets %v; want %d, %v", len(prop.Pools), names, c.pools, c.dss)
			}
		})
	}
}

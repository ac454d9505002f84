package decode

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/daemoncheck/daemoncheck/internal/audit"
	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// FuzzReadInput feeds arbitrary bytes to the offline reader: it must never
// panic, must either fail with an InputError naming the input or produce a
// snapshot, and the analysis of that snapshot must not panic and must be the
// same twice. Seeds: testdata/fuzz/FuzzReadInput.
func FuzzReadInput(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[]}`))
	f.Add([]byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: a, namespace: b, uid: u1}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n}\n"))
	f.Add([]byte(`{"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"n","ownerReferences":[{"kind":"DaemonSet","uid":"u1","controller":true,"name":"a","apiVersion":"apps/v1"}]},"spec":{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchFields":[{"key":"metadata.name","operator":"In","values":["x"]}]}]}}}}}]}`))
	f.Add([]byte("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": ["))
	f.Add([]byte("- a\n- b\n"))
	// The streaming readers: a kubectl-style YAML List (items before kind,
	// entries at indent 0 and 2, a kindless item waiting for the List's
	// kind), a JSON List with kind after items, a nested List, duplicates.
	f.Add([]byte("apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: DaemonSet\n  metadata: {name: a, namespace: b, uid: u1}\n  spec: {selector: {}}\n- kind: Node\n  metadata: {name: n}\nkind: List\n---\nkind: PodList\nitems:\n  - metadata: {name: p, namespace: b}\n\n  # c\n  - metadata: {name: p, namespace: b}\n"))
	f.Add([]byte(`{"apiVersion":"v1","items":[{"metadata":{"name":"p","namespace":"b","uid":"x","resourceVersion":"2"}},{"kind":"List","items":[{"kind":"Node","metadata":{"name":"n"}}]}],"kind":"PodList"}{"kind":"Pod","metadata":{"name":"p","namespace":"b","uid":"x","resourceVersion":"3"}}`))
	f.Add([]byte("kind: Event\napiVersion: v1\nmetadata: {name: e, namespace: b}\nlastTimestamp: \"0000-01-01T00:00:00+01:00\"\n---\napiVersion: extensions/v1beta1\nkind: DaemonSet\nmetadata: {name: a, namespace: b, uid: u1}\nspec: {selector: {}}\n...\n"))
	// kubectl cluster-info dump's stdout: JSON Lists with log sections
	// between them (braces and a CRLF inside), the old trailer line; a
	// comment line on top of a JSON stream; an old kubectl's internal
	// objects; a config.openshift.io NodeList; a bare array (no hint on
	// stdin: refused).
	f.Add([]byte("{\"kind\":\"NodeList\",\"apiVersion\":\"v1\",\"items\":[{\"metadata\":{\"name\":\"n\"}}]}\n==== START logs for container c of pod kube-system/p ====\r\n{ not json [\n==== END logs for container c of pod kube-system/p ====\n{\"kind\":\"DaemonSetList\",\"apiVersion\":\"apps/v1\",\"items\":[]}\nCluster info dumped to standard output\n"))
	f.Add([]byte("==== START logs for container c of pod ns/p ====\n"))
	f.Add([]byte("# kubectl get -o json\n{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"n\"}}\n{\"kind\":\"DaemonSetList\",\"apiVersion\":\"apps/v1\",\"items\":[]}"))
	f.Add([]byte(`{"selfLink":"/api/v1/nodes","Items":[{"name":"minikube","uid":"u"}]}`))
	f.Add([]byte("apiVersion: config.openshift.io/v1\nitems:\n- metadata: {name: cluster}\nkind: NodeList\n---\n[{\"metadata\":{\"name\":\"p\"}}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		snap, err := Files([]string{"-"}, bytes.NewReader(data), collect.Options{})
		if err != nil {
			if _, ok := err.(*InputError); !ok {
				t.Fatalf("error is not an InputError: %T %v", err, err)
			}
			return
		}
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		a := audit.Analyze(snap, audit.Options{Now: now, Gate: report.Gate{Grace: time.Minute}})
		b := audit.Analyze(snap, audit.Options{Now: now, Gate: report.Gate{Grace: time.Minute}})
		if !reflect.DeepEqual(a, b) {
			t.Fatal("analysis is not deterministic")
		}
	})
}

package apiconv_test

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/daemoncheck/daemoncheck/internal/apiconv"
)

func TestKeepTemplateGeneration(t *testing.T) {
	cases := []struct {
		name, raw string
		want      string // the annotation afterwards, "-" absent
	}{
		{"extensions/v1beta1 without the annotation",
			`{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","metadata":{"name":"kube-proxy"},"spec":{"templateGeneration":3}}`, "3"},
		{"the spec field wins over a stale annotation, as in the server's conversion",
			`{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","metadata":{"annotations":{"deprecated.daemonset.template.generation":"1"}},"spec":{"templateGeneration":4}}`, "4"},
		{"apps/v1beta2 carries the annotation only",
			`{"apiVersion":"apps/v1beta2","kind":"DaemonSet","metadata":{"annotations":{"deprecated.daemonset.template.generation":"2"}},"spec":{}}`, "2"},
		{"no field, no annotation: nothing invented",
			`{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","spec":{}}`, "-"},
		{"zero is unset",
			`{"apiVersion":"extensions/v1beta1","kind":"DaemonSet","spec":{"templateGeneration":0}}`, "-"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ds appsv1.DaemonSet
			if err := json.Unmarshal([]byte(tc.raw), &ds); err != nil {
				t.Fatal(err)
			}
			if err := apiconv.KeepTemplateGeneration(&ds, []byte(tc.raw)); err != nil {
				t.Fatal(err)
			}
			got, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
			if !ok {
				got = "-"
			}
			if got != tc.want {
				t.Fatalf("annotation %q, want %q", got, tc.want)
			}
		})
	}
}

package model

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

// Labels must answer a labels.Selector exactly as the Pod's map would: the
// controller's ClaimPods matches selectors against labels.Set(pod.Labels).
func TestLabelsMatchLikeTheMap(t *testing.T) {
	m := map[string]string{"app": "agent", "controller-revision-hash": "abc", "pod-template-generation": "3", "empty": "", "a.b/c": "x=y"}
	l := NewLabels(m)
	if !reflect.DeepEqual(l.Map(), m) {
		t.Fatalf("round trip %v, want %v", l.Map(), m)
	}
	for _, sel := range []string{"app=agent", "app!=agent", "app in (agent,x)", "empty", "!empty", "missing", "!missing", "a.b/c", "app,empty=", "app=agen", "ap=agent"} {
		s, err := labels.Parse(sel)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.Matches(l), s.Matches(labels.Set(m)); got != want {
			t.Errorf("%q: Labels match %v, map match %v", sel, got, want)
		}
	}
	if v, ok := l.Lookup("a.b/c"); !ok || v != "x=y" {
		t.Errorf("value with '=': %q %v", v, ok)
	}
	if NewLabels(nil) != "" || NewLabels(nil).Has("x") {
		t.Error("empty labels")
	}
}

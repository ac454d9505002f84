package nodespec

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func taints(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		out = append(out, s+":"+string(t.Effect))
	}
	return out
}

func TestParseTaintsLabelsAndResources(t *testing.T) {
	ts, err := ParseTaints([]string{"nvidia.com/gpu=true:NoSchedule", "dedicated:NoExecute", " "})
	if err != nil || !reflect.DeepEqual(taints(ts), []string{"nvidia.com/gpu=true:NoSchedule", "dedicated:NoExecute"}) {
		t.Errorf("taints %v %v", ts, err)
	}
	for _, bad := range []string{"a=b", "a:Sometimes", "a=b:c:NoSchedule", "-bad:NoSchedule", "a=b c:NoSchedule"} {
		if _, err := ParseTaints([]string{bad}); err == nil {
			t.Errorf("taint %q accepted", bad)
		}
	}
	rl, err := ParseResources("cpu=3920m,memory=15Gi,pods=58,nvidia.com/gpu=1")
	if err != nil || rl.Cpu().MilliValue() != 3920 || rl.Pods().Value() != 58 || rl.Name("nvidia.com/gpu", "").Value() != 1 {
		t.Errorf("resources %v %v", rl, err)
	}
	for _, bad := range []string{"", "cpu", "cpu=lots", "memory=-1Gi", "=4"} {
		if _, err := ParseResources(bad); err == nil {
			t.Errorf("resources %q accepted", bad)
		}
	}
	ls, err := ParseLabels("pool=gpu,node-role.kubernetes.io/gpu=")
	if err != nil || !reflect.DeepEqual(ls, map[string]string{"pool": "gpu", "node-role.kubernetes.io/gpu": ""}) {
		t.Errorf("labels %v %v", ls, err)
	}
	for _, bad := range []string{"a", "a=b c", "-a=b", "a=" + strings.Repeat("x", 64)} {
		if _, err := ParseLabels(bad); err == nil {
			t.Errorf("labels %q accepted", bad)
		}
	}
}

package capacity

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func res(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func ctr(name string, req corev1.ResourceList) corev1.Container {
	return corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: req}}
}

var always = corev1.ContainerRestartPolicyAlways

func TestPodRequestArithmetic(t *testing.T) {
	sidecar := ctr("proxy", res("cpu", "50m", "memory", "64Mi"))
	sidecar.RestartPolicy = &always
	limitsOnly := corev1.Container{Name: "limits", Resources: corev1.ResourceRequirements{Limits: res("cpu", "1", "memory", "1Gi")}}
	rc := "kata"
	cases := []struct {
		name string
		spec corev1.PodSpec
		want Amounts
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{
			ctr("a", res("cpu", "100m", "memory", "128Mi")), ctr("b", res("cpu", "250m", "memory", "64Mi", "ephemeral-storage", "1Gi")),
		}}, Amounts{"cpu": 350, "memory": 192 << 20, "ephemeral-storage": 1 << 30, "pods": 1}},
		// An ordinary init container runs alone before the others: the
		// Pod needs the larger of it and the containers' sum.
		{"init container is a max, not a sum", corev1.PodSpec{
			InitContainers: []corev1.Container{ctr("init", res("cpu", "500m", "memory", "32Mi"))},
			Containers:     []corev1.Container{ctr("a", res("cpu", "100m", "memory", "128Mi"))},
		}, Amounts{"cpu": 500, "memory": 128 << 20, "pods": 1}},
		// A restartable (sidecar) init container runs beside the
		// containers and beside the init containers after it.
		{"sidecar adds to containers and later inits", corev1.PodSpec{
			InitContainers: []corev1.Container{sidecar, ctr("init", res("cpu", "200m"))},
			Containers:     []corev1.Container{ctr("a", res("cpu", "100m", "memory", "128Mi"))},
		}, Amounts{"cpu": 250, "memory": 192 << 20, "pods": 1}},
		{"pod overhead is added", corev1.PodSpec{
			RuntimeClassName: &rc, Overhead: res("cpu", "250m", "memory", "120Mi"),
			Containers: []corev1.Container{ctr("a", res("cpu", "100m", "memory", "128Mi"))},
		}, Amounts{"cpu": 350, "memory": 248 << 20, "pods": 1}},
		{"extended resources and hugepages", corev1.PodSpec{Containers: []corev1.Container{
			ctr("gpu", res("nvidia.com/gpu", "1", "hugepages-2Mi", "64Mi")),
		}}, Amounts{"nvidia.com/gpu": 1, "hugepages-2Mi": 64 << 20, "pods": 1}},
		// The API server defaults requests from limits; a manifest from a
		// pull request has not been through it.
		{"limits stand in for missing requests", corev1.PodSpec{Containers: []corev1.Container{limitsOnly}},
			Amounts{"cpu": 1000, "memory": 1 << 30, "pods": 1}},
		{"no requests still takes a Pod slot", corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}}}, Amounts{"pods": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := PodRequest(&c.spec).Resources
			for k, v := range got {
				if v == 0 {
					delete(got, k)
				}
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPodRequestLeavesSpecAlone(t *testing.T) {
	spec := corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "a",
		Resources: corev1.ResourceRequirements{Limits: res("cpu", "1")},
		Ports:     []corev1.ContainerPort{{ContainerPort: 9100}}}}}
	r := PodRequest(&spec)
	if spec.Containers[0].Resources.Requests != nil || spec.Containers[0].Ports[0].HostPort != 0 {
		t.Fatalf("PodRequest modified its input: %+v", spec.Containers[0])
	}
	if len(r.HostPorts) != 1 || r.HostPorts[0].String() != "9100/TCP" {
		t.Fatalf("hostNetwork container port should default to a host port, got %v", r.HostPorts)
	}
	rc := "gvisor"
	spec.RuntimeClassName = &rc
	if r := PodRequest(&spec); r.RuntimeClass != "gvisor" || r.OverheadKnown {
		t.Fatalf("runtime class without overhead: %+v", r)
	}
}

func TestHostPorts(t *testing.T) {
	sidecar := corev1.Container{Name: "side", RestartPolicy: &always, Ports: []corev1.ContainerPort{{HostPort: 15000}}}
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init", Ports: []corev1.ContainerPort{{HostPort: 80}}}, sidecar},
		Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{
			{ContainerPort: 8080}, {HostPort: 53, Protocol: corev1.ProtocolUDP, HostIP: "10.0.0.1"},
		}}},
	}
	var got []string
	for _, p := range HostPorts(&spec) {
		got = append(got, p.Container+" "+p.String())
	}
	want := []string{"side 15000/TCP", "a 10.0.0.1:53/UDP"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestPortConflicts(t *testing.T) {
	hp := func(ip string, proto corev1.Protocol, port int32) HostPort {
		return HostPort{IP: ip, Protocol: proto, Port: port}
	}
	cases := []struct {
		a, b HostPort
		want bool
	}{
		{hp("0.0.0.0", "TCP", 9100), hp("0.0.0.0", "TCP", 9100), true},
		{hp("0.0.0.0", "TCP", 9100), hp("10.0.0.1", "TCP", 9100), true},
		{hp("10.0.0.2", "TCP", 9100), hp("10.0.0.1", "TCP", 9100), false},
		{hp("10.0.0.1", "TCP", 9100), hp("10.0.0.1", "TCP", 9100), true},
		{hp("0.0.0.0", "UDP", 9100), hp("0.0.0.0", "TCP", 9100), false},
		{hp("0.0.0.0", "TCP", 9101), hp("0.0.0.0", "TCP", 9100), false},
	}
	for _, c := range cases {
		if got := Conflicts(c.a, c.b); got != c.want || Conflicts(c.b, c.a) != c.want {
			t.Errorf("%v vs %v: got %v, want %v (both ways)", c.a, c.b, got, c.want)
		}
	}
}

func TestFit(t *testing.T) {
	alloc := FromList(res("cpu", "2", "memory", "4Gi", "pods", "3"))
	used := Amounts{"cpu": 1800, "memory": 1 << 30, "pods": 2}
	got := Fit(alloc, used, Amounts{"cpu": 500, "memory": 1 << 30, "nvidia.com/gpu": 1, "pods": 1})
	var s []string
	for _, f := range got {
		s = append(s, f.String())
	}
	want := []string{
		"Insufficient cpu (needs 500m; 1800m of 2000m requested)",
		"Insufficient nvidia.com/gpu (needs 1; 0 of 0 requested)",
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got %q, want %q", s, want)
	}
	if !got[1].Unresolvable || got[0].Unresolvable {
		t.Fatalf("unresolvable: %+v", got)
	}
	used["pods"] = 3
	if got := Fit(alloc, used, Amounts{"pods": 1}); len(got) != 1 || got[0].String() != "Too many pods (3 of 3 Pod slots used)" {
		t.Fatalf("pod slots: %v", got)
	}
}

func TestPlaceLeavesOutByPriority(t *testing.T) {
	alloc := FromList(res("cpu", "1", "memory", "1Gi", "pods", "110"))
	d := func(name string, prio int32, cpu int64, ports ...HostPort) Daemon {
		return Daemon{Name: name, Priority: prio, Request: Request{Resources: Amounts{"cpu": cpu, "pods": 1}, HostPorts: ports}}
	}
	metrics := HostPort{IP: "0.0.0.0", Protocol: "TCP", Port: 9100}
	p := Place(alloc, nil, []Daemon{
		d("monitoring/big-agent", 0, 650),
		d("kube-system/cni", 2000001000, 300),
		d("monitoring/node-exporter", 0, 50, metrics),
		d("other/exporter", 0, 50, metrics),
	})
	if want := []string{"kube-system/cni", "monitoring/big-agent", "monitoring/node-exporter"}; !reflect.DeepEqual(p.Placed, want) {
		t.Fatalf("placed %v, want %v", p.Placed, want)
	}
	if len(p.LeftOut) != 1 || p.LeftOut[0].Daemon != "other/exporter" || len(p.LeftOut[0].Shortfalls) != 1 ||
		p.LeftOut[0].Shortfalls[0].Resource != "cpu" || len(p.LeftOut[0].HeldBy) != 1 || p.LeftOut[0].HeldBy[0] != "monitoring/node-exporter" {
		t.Fatalf("left out: %+v", p.LeftOut)
	}
	if p.Overhead["cpu"] != 1050 || p.Overhead["pods"] != 4 {
		t.Fatalf("overhead counts every daemon: %v", p.Overhead)
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		name corev1.ResourceName
		v    int64
		want string
	}{{"cpu", 250, "250m"}, {"cpu", 2000, "2"}, {"memory", 512 << 20, "512Mi"}, {"nvidia.com/gpu", 2, "2"}, {"pods", 110, "110"}, {"hugepages-1Gi", 2 << 30, "2Gi"}} {
		if got := Format(c.name, c.v); got != c.want {
			t.Errorf("Format(%s, %d) = %q, want %q", c.name, c.v, got, c.want)
		}
	}
}

func TestPriority(t *testing.T) {
	p := func(v int32) *int32 { return &v }
	classes := []schedulingv1.PriorityClass{
		{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Value: 100, GlobalDefault: true},
		{ObjectMeta: metav1.ObjectMeta{Name: "agents"}, Value: 1000000},
	}
	cases := []struct {
		spec        corev1.PodSpec
		read        bool
		want        int32
		wantUnknown bool
	}{
		{corev1.PodSpec{Priority: p(7), PriorityClassName: "agents"}, false, 7, false},
		{corev1.PodSpec{PriorityClassName: "system-node-critical"}, false, 2000001000, false},
		{corev1.PodSpec{PriorityClassName: "agents"}, true, 1000000, false},
		{corev1.PodSpec{}, true, 100, false},
		{corev1.PodSpec{PriorityClassName: "agents"}, false, 0, true},
		{corev1.PodSpec{PriorityClassName: "missing"}, true, 0, true},
		{corev1.PodSpec{}, false, 0, true},
	}
	for i, c := range cases {
		got, known := Priority(&c.spec, classes, c.read)
		if got != c.want || known == c.wantUnknown {
			t.Errorf("case %d: got %d known=%v, want %d unknown=%v", i, got, known, c.want, c.wantUnknown)
		}
	}
}

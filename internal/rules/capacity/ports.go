package capacity

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// HostPort is one host port a Pod claims (model.HostPort).
type HostPort = model.HostPort

const bindAll = model.BindAll

// Conflicts says whether two Pods claiming p and q cannot share a node. It
// mirrors HostPortInfo.CheckConflict: same protocol and port, and either
// binds every address or both bind the same one. (The scheduler's type lives
// in k8s.io/kube-scheduler/framework, whose imports pull the DRA and CEL
// libraries into the plugin; the rule is these three lines.)
func Conflicts(p, q HostPort) bool {
	if p.Port != q.Port || p.Protocol != q.Protocol {
		return false
	}
	return p.IP == bindAll || q.IP == bindAll || p.IP == q.IP
}

// HostPorts lists the host ports a Pod of spec claims. It mirrors the
// scheduler's util.GetHostPorts: restartable (sidecar) init containers,
// which run for the Pod's whole life, then the containers; ordinary init
// containers have exited before the others start and hold no port.
func HostPorts(spec *corev1.PodSpec) []HostPort {
	var out []HostPort
	add := func(c *corev1.Container) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort, Container: c.Name}
			if hp.IP == "" {
				hp.IP = bindAll
			}
			if hp.Protocol == "" {
				hp.Protocol = corev1.ProtocolTCP
			}
			out = append(out, hp)
		}
	}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	for i := range spec.Containers {
		add(&spec.Containers[i])
	}
	return out
}

// PortClash is a host port two Pods both claim.
type PortClash struct {
	Port HostPort
	// Other is the clashing port of the other Pod (its IP may differ when
	// one side binds 0.0.0.0).
	Other HostPort
}

// Clashes lists the ports of a that conflict with a port of b.
func Clashes(a, b []HostPort) []PortClash {
	var out []PortClash
	for _, p := range a {
		for _, q := range b {
			if Conflicts(p, q) {
				out = append(out, PortClash{Port: p, Other: q})
				break
			}
		}
	}
	return out
}

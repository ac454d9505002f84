package drift

import (
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The version skew policy (https://kubernetes.io/releases/version-skew-policy/,
// "kube-proxy"; docs/controller-rules.md has the wording):
//   - kube-proxy must not be newer than kube-apiserver;
//   - kube-proxy may be up to three minor versions older than kube-apiserver
//     (kube-proxy < 1.25: two);
//   - kube-proxy may be up to three minor versions older or newer than the
//     kubelet it runs alongside (kube-proxy < 1.25: two).
//
// The version is the image tag's: a node agent image whose repository is
// kube-proxy (registry.k8s.io/kube-proxy, EKS's eks/kube-proxy, the
// kube-proxy-<arch> images of k8s.gcr.io) and whose tag is a Kubernetes
// version ("v1.33.4", "v1.29.0-minimal-eksbuild.1"). Other images tagged
// v1.x are not judged: CSI drivers (aws-ebs-csi-driver v1.35), Cilium
// (v1.16) and others carry versions of their own that look the same, and
// the policy says nothing of them.

func init() {
	register(detector{typ: report.VersionSkew, node: func(c dsContext, n *nodeCase) []report.Finding {
		if !c.kubeProxy() || !c.Targeted(n) {
			return nil
		}
		var out []report.Finding
		for _, p := range n.Pods {
			if p.Deleting {
				continue
			}
			for i := range p.Containers {
				cs := &p.Containers[i]
				v, ok := kubeProxyVersion(cs.Image)
				if !ok {
					continue
				}
				kubelet := ""
				if n.Node != nil {
					kubelet = n.Node.Status.NodeInfo.KubeletVersion
				}
				for _, s := range skewOf(v, c.Rules.Version, kubelet) {
					f := report.Finding{Type: report.VersionSkew, Node: n.Name, Pod: p.Name, Reason: s.reason,
						Params: report.Params{Image: cs.Image, Other: cs.Name, Version: "v" + v.String(), PeerVersion: "v" + s.peer.String()}}
					c.describeSkew(&f, v, s, cs.Name)
					out = append(out, f)
				}
			}
		}
		return out
	}, ds: func(c dsContext) []report.Finding {
		// Runs before the node function: the Pods of a DaemonSet whose
		// template runs no kube-proxy are not looked at.
		c.skewUnknowns()
		return nil
	}})
}

// kubeProxyVersion is the Kubernetes version of a kube-proxy image's tag.
func kubeProxyVersion(image string) (*version.Version, bool) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	repo, tag := image, ""
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		repo, tag = image[:i], image[i+1:]
	}
	base := path.Base(repo)
	if base != "kube-proxy" && !strings.HasPrefix(base, "kube-proxy-") {
		return nil, false
	}
	if !strings.HasPrefix(tag, "v1.") {
		return nil, false
	}
	v, err := version.ParseGeneric(tag)
	if err != nil {
		return nil, false
	}
	return v, true
}

// skew is one breach of the policy.
type skew struct {
	reason report.Reason
	peer   *version.Version
	// minors is how many minor versions apart they are, allowed how many
	// the policy allows.
	minors, allowed int
}

// skewOf judges a kube-proxy version against the API server's and the
// kubelet's ("" or unparsable: not judged; skewUnknowns says so).
func skewOf(proxy *version.Version, server, kubelet string) []skew {
	allowed := 3
	if proxy.Minor() < 25 {
		allowed = 2
	}
	var out []skew
	if sv, err := version.ParseGeneric(server); err == nil && sv.Major() == proxy.Major() {
		switch d := int(sv.Minor()) - int(proxy.Minor()); {
		case d < 0:
			out = append(out, skew{reason: report.ReasonNewerThanAPIServer, peer: sv, minors: -d, allowed: 0})
		case d > allowed:
			out = append(out, skew{reason: report.ReasonTooOldForAPIServer, peer: sv, minors: d, allowed: allowed})
		}
	}
	if kv, err := version.ParseGeneric(kubelet); err == nil && kv.Major() == proxy.Major() {
		d := int(kv.Minor()) - int(proxy.Minor())
		if d < 0 {
			d = -d
		}
		if d > allowed {
			out = append(out, skew{reason: report.ReasonKubeletSkew, peer: kv, minors: d, allowed: allowed})
		}
	}
	return out
}

// describeSkew writes the finding's cause, message and fix.
func (c dsContext) describeSkew(f *report.Finding, proxy *version.Version, s skew, container string) {
	v, peer := f.Params.Version, f.Params.PeerVersion
	mm := func(x *version.Version) string { return fmt.Sprintf("%d.%d", x.Major(), x.Minor()) }
	switch s.reason {
	case report.ReasonNewerThanAPIServer:
		f.Cause = fmt.Sprintf("kube-proxy %s is newer than the API server %s (the skew policy: never newer)", mm(proxy), mm(s.peer))
		f.Message = fmt.Sprintf("Pod %s on node %s runs kube-proxy %s, newer than the API server %s: the version skew policy does not support a kube-proxy newer than kube-apiserver", f.Pod, f.Node, v, peer)
	case report.ReasonTooOldForAPIServer:
		f.Cause = fmt.Sprintf("kube-proxy %s is %d minor versions older than the API server %s (the skew policy: at most %d)", mm(proxy), s.minors, mm(s.peer), s.allowed)
		f.Message = fmt.Sprintf("Pod %s on node %s runs kube-proxy %s, %d minor versions older than the API server %s: the version skew policy allows %d", f.Pod, f.Node, v, s.minors, peer, s.allowed)
	default:
		f.Cause = fmt.Sprintf("kube-proxy %s is %d minor versions from kubelet %s on its node (the skew policy: at most %d)", mm(proxy), s.minors, mm(s.peer), s.allowed)
		f.Message = fmt.Sprintf("Pod %s on node %s runs kube-proxy %s beside kubelet %s, %d minor versions apart: the version skew policy allows %d either way", f.Pod, f.Node, v, peer, s.minors, s.allowed)
	}
	want := "the API server's minor version"
	if s.reason == report.ReasonKubeletSkew {
		want = "a version within " + fmt.Sprint(s.allowed) + " minor versions of the kubelets (and not newer than the API server)"
	}
	c.AdviseChange(f, owner.Change{What: "the kube-proxy image tag of container " + container + " to " + want, Field: "spec.template.spec.containers[name=" + container + "].image"},
		"set the kube-proxy image to "+want+" (upgrade kube-proxy with the control plane, after it and before the kubelets); see the versions: {0}",
		explain.Kubectl("get", "nodes", "-o", "custom-columns=NODE:.metadata.name,KUBELET:.status.nodeInfo.kubeletVersion"))
}

// skewUnknowns says, for a DaemonSet running kube-proxy, which versions it
// could not be judged against.
func (c dsContext) skewUnknowns() {
	if !c.kubeProxy() {
		return
	}
	if _, err := version.ParseGeneric(c.Rules.Version); err != nil {
		c.Report.Unknown = append(c.Report.Unknown, "kube-proxy version skew against the API server: the server version is unknown (not discovered; offline, pass --server-version)")
	}
	if !c.NodesKnown {
		return
	}
	missing := 0
	for i, n := range c.Cluster.Nodes {
		if c.Verdicts[i].ShouldRun {
			if _, err := version.ParseGeneric(n.Status.NodeInfo.KubeletVersion); err != nil {
				missing++
			}
		}
	}
	if missing > 0 {
		c.Report.Unknown = append(c.Report.Unknown, fmt.Sprintf("kube-proxy version skew against the kubelet: %d node%s report%s no kubelet version (status.nodeInfo.kubeletVersion)", missing, detect.Plural(missing), detect.VerbS(missing)))
	}
}

// kubeProxyKey names the DaemonSet's kubeProxy.
var kubeProxyKey = detect.NewKey("kube-proxy")

// kubeProxy reports whether the template runs a kube-proxy image
// (runsKubeProxy), looked at once per DaemonSet.
func (c dsContext) kubeProxy() bool { return detect.Once(c.Context, kubeProxyKey, c.runsKubeProxy) }

// runsKubeProxy reports whether the DaemonSet's template runs a kube-proxy
// image with a version tag.
func (c dsContext) runsKubeProxy() bool {
	for _, ctr := range c.DS.Spec.Template.Spec.Containers {
		if _, ok := kubeProxyVersion(ctr.Image); ok {
			return true
		}
	}
	return false
}

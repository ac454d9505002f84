package audit

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.ImageDrift, ds: func(c *dsContext) []report.Finding {
		return c.imageDrift()
	}})
}

// driftGroup is what must run one build: the Pods of one revision, one
// container, on nodes of one platform. The platform is part of it because
// a runtime may report the per-platform manifest's digest (so arm64 and
// amd64 nodes differ without any tag moving); repoDigest because a bare
// image ID (the config's digest, when the runtime knows no repository
// digest) is never equal to a repository digest of the same image.
type driftGroup struct {
	rev, container, platform string
	repoDigest               bool
}

// driftUse is one container of one Pod in a drift group.
type driftUse struct {
	node, image, imageID string
	pod                  *model.DaemonPod
}

// imageDrift reports, for Pods of one revision on nodes of one platform,
// the containers that run another digest than most of them: the tag was
// pulled at different times and moved in between. Nothing is reported
// while every container of the DaemonSet runs one imageID, the usual case,
// which the first loop tells at the cost of one string comparison per
// container.
func (c *dsContext) imageDrift() []report.Finding {
	if !c.podsKnown || !c.differentImageIDs() {
		return nil
	}
	groups := map[driftGroup]map[string][]driftUse{}
	for node, pods := range c.byNode {
		platform := ""
		if n := c.idx.nodeByNm[node]; n != nil {
			platform = platformOf(n)
		}
		for _, p := range pods {
			if p.Deleting {
				continue
			}
			for i := range p.Containers {
				cs := &p.Containers[i]
				if cs.ImageID == "" {
					continue
				}
				digest, repo := digestOf(cs.ImageID)
				k := driftGroup{rev: podRevision(p), container: cs.Name, platform: platform, repoDigest: repo}
				if groups[k] == nil {
					groups[k] = map[string][]driftUse{}
				}
				groups[k][digest] = append(groups[k][digest], driftUse{node: node, image: cs.Image, imageID: cs.ImageID, pod: p})
			}
		}
	}
	var out []report.Finding
	for k, byDigest := range groups {
		if len(byDigest) < 2 {
			continue
		}
		out = append(out, c.driftFindings(k, byDigest)...)
	}
	return out
}

// differentImageIDs reports whether two containers of one name run
// different imageIDs anywhere in the DaemonSet.
func (c *dsContext) differentImageIDs() bool {
	first := map[string]string{}
	for _, pods := range c.byNode {
		for _, p := range pods {
			for i := range p.Containers {
				cs := &p.Containers[i]
				if cs.ImageID == "" || p.Deleting {
					continue
				}
				if id, ok := first[cs.Name]; !ok {
					first[cs.Name] = cs.ImageID
				} else if id != cs.ImageID {
					return true
				}
			}
		}
	}
	return false
}

// digestCount is a digest and the nodes that run it.
type digestCount struct {
	digest string
	nodes  int
	uses   []driftUse
}

// driftFindings reports the nodes of a drift group that run another
// digest than the most common one (ties: the smallest digest, so the
// choice is stable).
func (c *dsContext) driftFindings(k driftGroup, byDigest map[string][]driftUse) []report.Finding {
	counts := make([]digestCount, 0, len(byDigest))
	for d, uses := range byDigest {
		nodes := map[string]bool{}
		for _, u := range uses {
			nodes[u.node] = true
		}
		counts = append(counts, digestCount{digest: d, nodes: len(nodes), uses: uses})
	}
	sort.Slice(counts, func(i, j int) bool {
		if counts[i].nodes != counts[j].nodes {
			return counts[i].nodes > counts[j].nodes
		}
		return counts[i].digest < counts[j].digest
	})
	var tally []string
	for _, dc := range counts {
		tally = append(tally, fmt.Sprintf("%s on %d node%s", shortDigest(dc.digest), dc.nodes, plural(dc.nodes)))
	}
	ref := counts[0]
	on := ""
	if k.platform != "" {
		on = " on " + k.platform
	}
	var out []report.Finding
	for _, dc := range counts[1:] {
		for _, u := range dc.uses {
			f := report.Finding{Type: report.ImageDrift, Node: u.node, Pod: u.pod.Name, Reason: report.ReasonDigestDiffers,
				Params: report.Params{Image: u.image, Other: k.container, Revision: k.rev, Platform: k.platform, Digest: dc.digest}}
			f.Cause = fmt.Sprintf("container %s of revision %s%s runs image %s as digest %s, most nodes as %s: the tag moved between pulls",
				k.container, orDefault(k.rev, "unknown"), on, u.image, shortDigest(dc.digest), shortDigest(ref.digest))
			f.Message = fmt.Sprintf("Pod %s on node %s runs image %s of container %s as %s; Pods of revision %s%s run %d digests of it: %s",
				u.pod.Name, u.node, u.image, k.container, u.imageID, orDefault(k.rev, "unknown"), on, len(counts), strings.Join(tally, ", "))
			c.adviseDigestPin(&f, k.container, u.image, ref)
			out = append(out, f)
		}
	}
	return out
}

// adviseDigestPin suggests pinning the container's image by digest, so
// that every node pulls the same build; the digest most nodes run is the
// example, when the runtime reported a repository digest (a bare image ID
// cannot be pulled by).
func (c *dsContext) adviseDigestPin(f *report.Finding, container, image string, ref digestCount) {
	inspect := explain.Kubectl("get", "pods", "-n", c.ds.Namespace, "-l", selectorOf(c.ds), "-o",
		"custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IMAGEID:.status.containerStatuses[*].imageID")
	if t := templateImage(c.ds, container); t != "" {
		image = t // as the DaemonSet writes it, not as the kubelet reports it
	}
	_, repo := digestOf(ref.uses[0].imageID)
	if !repo || strings.Contains(image, "@") {
		c.adviseChange(f, owner.Change{What: "the image of container " + container + " pinned by digest (image@sha256:...)",
			Field: "spec.template.spec.containers[name=" + container + "].image"},
			"pin the image by digest (image@sha256:...) so that every node runs the same build; see which Pod runs which: {0}", inspect)
		return
	}
	pinned := image + "@" + ref.digest
	c.adviseChange(f, owner.Change{What: "the image of container " + container + " pinned by digest", Field: "spec.template.spec.containers[name=" + container + "].image", Value: pinned},
		"pin the image by digest so that every node runs the same build, e.g. the one most nodes run: {0} (this rolls out every Pod of the DaemonSet); see which Pod runs which: {1}",
		explain.KubectlWrite("set", "image", "daemonset/"+c.ds.Name, "-n", c.ds.Namespace, container+"="+pinned), inspect)
}

// templateImage is the image of the named container (or init container)
// in the DaemonSet's Pod template, "" when it has none of that name.
func templateImage(ds *appsv1.DaemonSet, container string) string {
	spec := &ds.Spec.Template.Spec
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if cs[i].Name == container {
				return cs[i].Image
			}
		}
	}
	return ""
}

// selectorOf is the DaemonSet's selector as kubectl -l takes it.
func selectorOf(ds *appsv1.DaemonSet) string { return metav1.FormatLabelSelector(ds.Spec.Selector) }

// digestOf is the digest of an imageID: the part after "@" of a repository
// digest ("docker.io/library/nginx@sha256:...", or docker-pullable://...
// from dockershim), else the ID itself (a bare "sha256:..." image ID);
// repo says which.
func digestOf(imageID string) (digest string, repo bool) {
	if i := strings.LastIndexByte(imageID, '@'); i >= 0 {
		return imageID[i+1:], true
	}
	return imageID, false
}

// shortDigest shortens "sha256:<64 hex>" to its first 12 hex digits, as
// people compare digests.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}

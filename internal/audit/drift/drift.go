package drift

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/explain"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

func init() {
	register(detector{typ: report.ImageDrift, ds: func(c dsContext) []report.Finding {
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
	rev, container, os, arch string
	repoDigest               bool
}

// digestKey is one digest of a drift group.
type digestKey struct {
	g      driftGroup
	digest string
}

// driftTally is what a drift group's digests come to: the digest most
// nodes run (ref; ties: the smallest digest, so the choice is stable), how
// many digests, and each with its node count, for messages.
type driftTally struct {
	ref, refID string
	n          int
	text       string
}

// imageDrift reports, for Pods of one revision on nodes of one platform,
// the containers that run another digest than most of them: the tag was
// pulled at different times and moved in between. Nothing is reported
// while every container of the DaemonSet runs one imageID, the usual case,
// told at the cost of one string comparison per container (detect.ImageIDs).
// Otherwise one pass counts the nodes of each digest, and a second reports
// the Pods outside the most common one.
func (c dsContext) imageDrift() []report.Finding {
	if !c.PodsKnown || !c.differentImageIDs() {
		return nil
	}
	nodesOf := map[digestKey]int{}
	idOf := map[digestKey]string{}
	// A node counts once per digest, even with two Pods on it.
	var cur string
	var onNode []digestKey
	c.eachImageID(func(node string, _ *model.DaemonPod, k digestKey, imageID string) {
		if node != cur {
			cur, onNode = node, onNode[:0]
		}
		if !slices.Contains(onNode, k) {
			onNode = append(onNode, k)
			nodesOf[k]++
			idOf[k] = imageID
		}
	})
	byGroup := map[driftGroup][]digestKey{}
	for k := range nodesOf {
		byGroup[k.g] = append(byGroup[k.g], k)
	}
	tallies := map[driftGroup]driftTally{}
	for g, ks := range byGroup {
		if len(ks) < 2 {
			continue
		}
		sort.Slice(ks, func(i, j int) bool {
			if nodesOf[ks[i]] != nodesOf[ks[j]] {
				return nodesOf[ks[i]] > nodesOf[ks[j]]
			}
			return ks[i].digest < ks[j].digest
		})
		parts := make([]string, len(ks))
		for i, k := range ks {
			parts[i] = fmt.Sprintf("%s on %d node%s", shortDigest(k.digest), nodesOf[k], detect.Plural(nodesOf[k]))
		}
		tallies[g] = driftTally{ref: ks[0].digest, refID: idOf[ks[0]], n: len(ks), text: strings.Join(parts, ", ")}
	}
	if len(tallies) == 0 {
		return nil
	}
	var out []report.Finding
	c.eachImageID(func(node string, p *model.DaemonPod, k digestKey, imageID string) {
		t, ok := tallies[k.g]
		if !ok || k.digest == t.ref {
			return
		}
		out = append(out, c.driftFinding(node, p, k, imageID, t))
	})
	return out
}

// eachImageID calls fn for every container of the DaemonSet's live Pods
// that reports an imageID, node by node: the nodes of the snapshot in
// their order, then those that are gone (no platform known).
func (c dsContext) eachImageID(fn func(node string, p *model.DaemonPod, k digestKey, imageID string)) {
	visit := func(node string, pl [2]string, pods []*model.DaemonPod) {
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
				fn(node, p, digestKey{g: driftGroup{rev: detect.PodRevision(p), container: cs.Name, os: pl[0], arch: pl[1], repoDigest: repo}, digest: digest}, cs.ImageID)
			}
		}
	}
	platforms := nodePlatforms(c.Cluster)
	for i, n := range c.Cluster.Nodes {
		if pods := c.ByNode[n.Name]; len(pods) > 0 {
			visit(n.Name, platforms[i], pods)
		}
	}
	var gone []string
	for node := range c.ByNode {
		if c.Cluster.NodeByName[node] == nil {
			gone = append(gone, node)
		}
	}
	slices.Sort(gone)
	for _, node := range gone {
		visit(node, [2]string{}, c.ByNode[node])
	}
}

// platformsKey names the nodes' os and arch (nodePlatforms).
var platformsKey = detect.NewKey("node platforms")

// nodePlatforms are the nodes' os and arch, by position, read once per
// analysis.
func nodePlatforms(cl *detect.Cluster) [][2]string {
	return detect.Shared(cl, platformsKey, func(cl *detect.Cluster) [][2]string {
		platforms := make([][2]string, len(cl.Nodes))
		for i, n := range cl.Nodes {
			platforms[i][0], platforms[i][1] = providers.Platform(n)
		}
		return platforms
	})
}

// differentImageIDs reports whether two containers of one name run
// different imageIDs anywhere in the DaemonSet. With nodes read, health
// saw every Pod on a node in the snapshot; the others (on a node that is
// gone, or every Pod when nodes were not read) are seen here.
func (c dsContext) differentImageIDs() bool {
	for node, pods := range c.ByNode {
		if c.NodesKnown && c.Cluster.NodeByName[node] != nil {
			continue
		}
		for _, p := range pods {
			c.ImageIDs.See(p)
		}
	}
	return c.ImageIDs.Differ()
}

// driftFinding reports a container of p that runs another digest than
// most nodes of its group.
func (c dsContext) driftFinding(node string, p *model.DaemonPod, k digestKey, imageID string, t driftTally) report.Finding {
	image := ""
	for i := range p.Containers {
		if p.Containers[i].Name == k.g.container {
			image = p.Containers[i].Image
		}
	}
	on, rev, platform := "", cmp.Or(k.g.rev, "unknown"), detect.JoinPlatform(k.g.os, k.g.arch)
	if platform != "" {
		on = " on " + platform
	}
	f := report.Finding{Type: report.ImageDrift, Node: node, Pod: p.Name, Reason: report.ReasonDigestDiffers,
		Params: report.Params{Image: image, Other: k.g.container, Revision: k.g.rev, Platform: platform, Digest: k.digest}}
	f.Cause = fmt.Sprintf("container %s of revision %s%s runs image %s as digest %s, most nodes as %s: the tag moved between pulls",
		k.g.container, rev, on, image, shortDigest(k.digest), shortDigest(t.ref))
	f.Message = fmt.Sprintf("Pod %s on node %s runs image %s of container %s as %s; Pods of revision %s%s run %d digests of it: %s",
		p.Name, node, image, k.g.container, imageID, rev, on, t.n, t.text)
	c.adviseDigestPin(&f, k.g.container, image, t)
	return f
}

// adviseDigestPin suggests pinning the container's image by digest, so
// that every node pulls the same build; the digest most nodes run is the
// example, when the runtime reported a repository digest (a bare image ID
// cannot be pulled by).
func (c dsContext) adviseDigestPin(f *report.Finding, container, image string, t driftTally) {
	inspect := explain.Kubectl("get", "pods", "-n", c.DS.Namespace, "-l", selectorOf(c.DS), "-o",
		"custom-columns=POD:.metadata.name,NODE:.spec.nodeName,IMAGEID:.status.containerStatuses[*].imageID")
	if t := detect.TemplateImage(c.DS, container); t != "" {
		image = t // as the DaemonSet writes it, not as the kubelet reports it
	}
	_, repo := digestOf(t.refID)
	if !repo || strings.Contains(image, "@") {
		c.AdviseChange(f, owner.Change{What: "the image of container " + container + " pinned by digest (image@sha256:...)",
			Field: "spec.template.spec.containers[name=" + container + "].image"},
			"pin the image by digest (image@sha256:...) so that every node runs the same build; see which Pod runs which: {0}", inspect)
		return
	}
	pinned := image + "@" + t.ref
	c.AdviseChange(f, owner.Change{What: "the image of container " + container + " pinned by digest", Field: "spec.template.spec.containers[name=" + container + "].image", Value: pinned},
		"pin the image by digest so that every node runs the same build, e.g. the one most nodes run: {0} (this rolls out every Pod of the DaemonSet); see which Pod runs which: {1}",
		explain.KubectlWrite("set", "image", "daemonset/"+c.DS.Name, "-n", c.DS.Namespace, container+"="+pinned), inspect)
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

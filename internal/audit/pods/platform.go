package pods

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/audit/detect"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/owner"
	"github.com/daemoncheck/daemoncheck/internal/rules/podstate"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// What container runtimes print when an image cannot run on the node's
// platform (docs/controller-rules.md, "Platforms", has the sources):
//   - the pull finds no variant for the platform in the image's index:
//     containerd "no match for platform in manifest", CRI-O
//     (containers/image) "no image found in manifest list for
//     architecture ..." or "... in image index for architecture ...",
//     Docker Engine "no matching manifest for linux/arm64/v8 in the
//     manifest list entries";
//   - a single-platform image of another architecture is pulled, and its
//     binary fails at exec: "exec format error" (runc, crun).
var (
	noVariantSigns = []string{"no match for platform in manifest", "no image found in manifest list for architecture",
		"no image found in image index for architecture", "no matching manifest for"}
	wrongArchSign = "exec format error"
)

// platformFailure is the evidence that a Pod's container cannot run on the
// platform of its node.
type platformFailure struct {
	reason    report.Reason
	container string
	image     string
	// said is where the runtime said it: the container's status or an
	// event, in its words.
	said string
}

// platformFailureOf looks for that evidence in the Pod's container
// statuses, then in the Warning events about it.
func (c dsContext) platformFailureOf(p *model.DaemonPod) (platformFailure, bool) {
	for i := range p.Containers {
		cs := &p.Containers[i]
		for _, msg := range []string{cs.WaitingMessage, cs.TerminatedMessage} {
			if r, ok := platformSign(msg); ok {
				return platformFailure{reason: r, container: cs.Name, image: cs.Image, said: msg}, true
			}
		}
	}
	for _, e := range c.Cluster.EventsFor[p.UID] {
		r, ok := platformSign(e.Message)
		if !ok {
			continue
		}
		pf := platformFailure{reason: r, said: e.Message}
		// The kubelet names the container in the event's field path:
		// spec.containers{name} or spec.initContainers{name}.
		fp := e.InvolvedObject.FieldPath
		if i := strings.IndexByte(fp, '{'); i >= 0 && strings.HasSuffix(fp, "}") {
			pf.container = fp[i+1 : len(fp)-1]
		}
		for i := range p.Containers {
			if cs := &p.Containers[i]; pf.container == "" || cs.Name == pf.container {
				pf.container, pf.image = cs.Name, cs.Image
				break
			}
		}
		return pf, true
	}
	return platformFailure{}, false
}

// platformSign says which platform failure a runtime message reports.
func platformSign(msg string) (report.Reason, bool) {
	if msg == "" {
		return "", false
	}
	for _, s := range noVariantSigns {
		if strings.Contains(msg, s) {
			return report.ReasonNoPlatformVariant, true
		}
	}
	if strings.Contains(strings.ToLower(msg), wrongArchSign) {
		return report.ReasonWrongArchitecture, true
	}
	return "", false
}

// platformKeys are the node labels that constrain a DaemonSet's platform.
var platformKeys = []string{corev1.LabelOSStable, corev1.LabelArchStable, "beta.kubernetes.io/os", "beta.kubernetes.io/arch"}

// constrainsPlatform reports whether the DaemonSet's nodeSelector or
// required node affinity names an os or arch label.
func constrainsPlatform(ds *appsv1.DaemonSet) bool {
	spec := &ds.Spec.Template.Spec
	for _, k := range platformKeys {
		if _, ok := spec.NodeSelector[k]; ok {
			return true
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			for _, r := range t.MatchExpressions {
				if slices.Contains(platformKeys, r.Key) {
					return true
				}
			}
		}
	}
	return false
}

// workingPlatforms are the platforms on which a Pod of the DaemonSet runs
// Ready: platforms its image has. Computed once per DaemonSet.
func (c dsContext) workingPlatforms() []string {
	return detect.Once(c.Context, workingKey, c.findWorkingPlatforms)
}

// workingKey names the DaemonSet's workingPlatforms.
var workingKey = detect.NewKey("working platforms")

func (c dsContext) findWorkingPlatforms() []string {
	seen := map[string]bool{}
	for node, pods := range c.ByNode {
		n := c.Cluster.NodeByName[node]
		if n == nil {
			continue
		}
		for _, p := range pods {
			if !p.Deleting && p.Ready && c.Health(p).Kind == podstate.Healthy {
				if pl := detect.PlatformOf(n); pl != "" {
					seen[pl] = true
				}
				break
			}
		}
	}
	out := make([]string, 0, len(seen))
	for pl := range seen {
		out = append(out, pl)
	}
	slices.Sort(out)
	return out
}

// platformUnhealthy is the UnhealthyPod finding of a Pod whose image cannot
// run on its node's platform: grouped by image and platform, with the fix
// that constrains the DaemonSet to the platforms its image has.
func (c dsContext) platformUnhealthy(f *report.Finding, nodeName string, pf platformFailure) {
	platform := "unknown"
	if n := c.Cluster.NodeByName[nodeName]; n != nil {
		platform = cmp.Or(detect.PlatformOf(n), platform)
	}
	image := cmp.Or(detect.TemplateImage(c.DS, pf.container), pf.image)
	f.Reason = pf.reason
	f.Params.Platform, f.Params.Image, f.Params.Other = platform, image, pf.container
	// A node not in the snapshot has no known platform: say so rather
	// than name one.
	which := platform
	if which == "unknown" {
		which = "its node's platform (unknown: the node is not among the nodes read)"
	}
	if pf.reason == report.ReasonNoPlatformVariant {
		f.Cause = fmt.Sprintf("image %s has no %s variant", image, which)
	} else {
		f.Cause = fmt.Sprintf("image %s is not built for %s (exec format error)", image, which)
	}
	if said := text.OneLine(pf.said); !strings.Contains(f.Message, said) {
		f.Message += "; the runtime says: " + said
	}
	working := slices.DeleteFunc(slices.Clone(c.workingPlatforms()), func(s string) bool { return s == platform })
	multi := "use a multi-arch image that has a " + platform + " variant"
	if constrainsPlatform(c.DS) {
		c.AdviseChange(f, owner.Change{What: "the os/arch constraint (nodeSelector or node affinity) so that it leaves out " + platform, Field: "spec.template.spec.nodeSelector"},
			"the DaemonSet's os/arch constraint admits "+platform+", which its image lacks: narrow it to the platforms its image has, or "+multi)
		return
	}
	key, value, ok := selectorFor(working, platform)
	if !ok {
		c.AdviseChange(f, owner.Change{What: "a nodeSelector on kubernetes.io/arch for the platforms its image has", Field: "spec.template.spec.nodeSelector"},
			"constrain the DaemonSet to the platforms its image has (nodeSelector kubernetes.io/arch, or a required node affinity for several) or "+multi)
		return
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"nodeSelector":{%q:%q}}}}}`, key, value)
	c.AdviseChange(f, owner.Change{What: "nodeSelector " + key + "=" + value, Field: "spec.template.spec.nodeSelector", Value: key + ": " + value},
		"constrain the DaemonSet to the platforms its image has ("+strings.Join(working, ", ")+" run it): {0} (this rolls out every Pod of the DaemonSet), or "+multi,
		report.WriteCmd("kubectl", "patch", "daemonset", c.DS.Name, "-n", c.DS.Namespace, "--type", "merge", "-p", patch))
}

// selectorFor is the one nodeSelector label that keeps the DaemonSet on the
// working platforms and off the failing one: the arch when they all share
// one arch, else the os when they share one os that the failing one lacks.
func selectorFor(working []string, failing string) (key, value string, ok bool) {
	if len(working) == 0 {
		return "", "", false
	}
	fos, farch, _ := strings.Cut(failing, "/")
	os0, arch0, _ := strings.Cut(working[0], "/")
	sameOS, sameArch := true, true
	for _, w := range working[1:] {
		os, arch, _ := strings.Cut(w, "/")
		sameOS = sameOS && os == os0
		sameArch = sameArch && arch == arch0
	}
	switch {
	case sameArch && arch0 != farch && arch0 != "unknown":
		return corev1.LabelArchStable, arch0, true
	case sameOS && os0 != fos && os0 != "unknown":
		return corev1.LabelOSStable, os0, true
	}
	return "", "", false
}

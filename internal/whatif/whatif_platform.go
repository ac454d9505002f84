package whatif

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/providers"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// platform is a node's os and arch ("" unknown).
type platform struct{ os, arch string }

func (p platform) String() string { return cmp.Or(p.os, "unknown") + "/" + cmp.Or(p.arch, "unknown") }

// nodePlatform is a node's platform (providers.Platform).
func nodePlatform(n *corev1.Node) platform {
	os, arch := providers.Platform(n)
	return platform{os, arch}
}

// ranOn returns the platforms on which a Running Pod of the cluster's
// DaemonSet runs now, built once for all DaemonSets from the daemon Pods;
// ok is false when that is unknown (Pods or nodes not read).
func (w *whatIf) ranOn(ds *dsInfo) (ps []platform, ok bool) {
	if !w.snap.Has(model.Pods) || !w.nodesKnown {
		return nil, false
	}
	if w.platforms == nil {
		w.platforms = map[string][]platform{}
		byName := make(map[string]*corev1.Node, len(w.nodes))
		for _, n := range w.nodes {
			byName[n.Name] = n
		}
		for i := range w.snap.DaemonPods {
			p := &w.snap.DaemonPods[i]
			n := byName[p.NodeName]
			if n == nil || p.Deleting || p.Phase != corev1.PodRunning || p.OwnerKind != "DaemonSet" {
				continue
			}
			k := p.Namespace + "/" + string(p.OwnerUID)
			if pl := nodePlatform(n); !slices.Contains(w.platforms[k], pl) {
				w.platforms[k] = append(w.platforms[k], pl)
			}
		}
	}
	return w.platforms[ds.ds.Namespace+"/"+string(ds.ds.UID)], true
}

// newPlatform warns when the shape brings a platform on which the
// DaemonSet, which would run there, has never run in this cluster: its
// image may have no variant for it (daemoncheck reads no registry). A
// DaemonSet new to the cluster, or one whose Pods run nowhere, tells
// nothing either way.
func (w *whatIf) newPlatform(name string, s shapeSpec, d *dsInfo, findings *[]report.WhatIfFinding) {
	before := w.beforeByKey[d.key]
	if before == nil {
		return
	}
	ran, ok := w.ranOn(before)
	if !ok || len(ran) == 0 {
		return
	}
	// A Pod on a node whose architecture is not known (no label, no
	// nodeInfo) may run on any: whether the platform is new is unknown,
	// and unknown is not a warning.
	if slices.ContainsFunc(ran, func(p platform) bool { return p.arch == "" }) {
		return
	}
	os := s.labels[corev1.LabelOSStable]
	for _, arch := range shapeArches(s) {
		shape := platform{os, arch}
		if !slices.ContainsFunc(ran, func(p platform) bool { return p.arch == arch && (os == "" || p.os == os) }) {
			*findings = append(*findings, newPlatformFinding(name, d, shape, ran))
		}
	}
}

// shapeArches are the architectures a shape's nodes may have: those its
// arch value group stands for when the pool leaves the architecture open,
// else its label.
func shapeArches(s shapeSpec) []string {
	if len(s.arches) > 0 {
		return s.arches
	}
	if a := s.labels[corev1.LabelArchStable]; a != "" {
		return []string{a}
	}
	return nil
}

// newPlatformFinding is the warning for one platform.
func newPlatformFinding(name string, d *dsInfo, shape platform, ran []platform) report.WhatIfFinding {
	seen := make([]string, len(ran))
	for i, p := range ran {
		seen[i] = p.String()
	}
	slices.Sort(seen)
	var images []string
	for _, c := range d.ds.Spec.Template.Spec.Containers {
		images = append(images, c.Image)
	}
	keep := ""
	if arch := ran[0].arch; arch != "" && !slices.ContainsFunc(ran, func(p platform) bool { return p.arch != arch }) {
		keep = fmt.Sprintf(", or keep the DaemonSet off the pool with nodeSelector %s: %s", corev1.LabelArchStable, arch)
	}
	return report.WhatIfFinding{Type: report.WhatIfNewPlatform, DaemonSet: d.key, Shapes: []string{name}, Cause: shape.String(),
		Message: fmt.Sprintf("daemonset %s would run on %s, whose nodes may be %s; no Pod of it runs on that platform in this cluster (they run on %s): if its image has no %s variant, its Pods there fail to pull (no match for platform in manifest) or to start (exec format error)",
			d.key, whereToken, shape, strings.Join(seen, ", "), shape),
		Suggestion: fmt.Sprintf("check that image %s has a %s variant (docker buildx imagetools inspect, crane manifest)%s", strings.Join(images, ", "), shape, keep)}
}

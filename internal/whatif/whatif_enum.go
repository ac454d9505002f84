package whatif

import (
	"math/big"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/model"
)

// A pool's shapes are the cross product of its axes (one per label its
// requirements leave open, each a few value groups): K tested keys give
// 2^K shapes, so a 4 KB NodePool can allow millions. Building them all to
// keep MaxShapes took gigabytes; instead the product is walked as a
// mixed-radix counter (the last axis fastest: the order the shapes were
// always listed in), stopping once MaxShapes are kept, and the rest is
// counted, not built.

// axis is one label the requirements leave open, with its value groups.
type axis struct {
	key     string
	classes []valueClass
}

// shapeSet is what a pool's requirements allow.
type shapeSet struct {
	// specs are the shapes judged: the first MaxShapes, in order.
	specs []shapeSpec
	// total counts every shape the requirements allow, exactly (2^K does
	// not fit an int).
	total *big.Int
	// none says why the requirements allow no shape ("" when they do).
	none string
}

// consistencyKeys are the labels consistent reads: a shape's instance type
// against its architecture and OS.
var consistencyKeys = map[string]bool{corev1.LabelInstanceTypeStable: true, corev1.LabelArchStable: true, corev1.LabelOSStable: true}

// enumerate keeps the first max consistent shapes of the axes' product
// over base, and counts all of them. Memory and time are bounded by max
// and by the product of the consistency axes (instance types x
// architectures x OSes), whatever the number of other axes.
func (w *whatIf) enumerate(t *model.PoolTemplate, base map[string]string, axes []axis, max int) shapeSet {
	sizes := make([]int, len(axes))
	last := -1 // the fastest consistency axis
	var cons []int
	for i, ax := range axes {
		sizes[i] = len(ax.classes)
		if consistencyKeys[ax.key] {
			cons = append(cons, i)
			last = i
		}
	}
	set := shapeSet{total: w.countConsistent(t, base, axes, cons)}
	for _, ax := range axes {
		if !consistencyKeys[ax.key] {
			set.total.Mul(set.total, big.NewInt(int64(len(ax.classes))))
		}
	}
	if set.total.Sign() == 0 {
		set.none = "no instance type they allow has, in the cluster, the architecture and OS they allow"
		return set
	}
	idx := make([]int, len(axes))
	for {
		s := buildSpec(base, axes, idx)
		if w.consistentSpec(t, &s) {
			if s.instanceType == "" {
				s.instanceType = s.labels[corev1.LabelInstanceTypeStable]
			}
			if s.instanceTypes == nil && s.instanceType != "" && !s.otherType {
				s.instanceTypes = []string{s.instanceType}
			}
			set.specs = append(set.specs, s)
			if len(set.specs) == max || !advance(idx, sizes, len(idx)-1) {
				return set
			}
			continue
		}
		// Whatever the faster axes hold, this prefix stays inconsistent:
		// skip to the next value of the fastest consistency axis.
		if !advance(idx, sizes, last) {
			return set
		}
	}
}

// countConsistent counts the combinations of the consistency axes (at
// positions cons) that consistent keeps.
func (w *whatIf) countConsistent(t *model.PoolTemplate, base map[string]string, axes []axis, cons []int) *big.Int {
	sub := make([]axis, len(cons))
	sizes := make([]int, len(cons))
	for i, at := range cons {
		sub[i], sizes[i] = axes[at], len(axes[at].classes)
	}
	n := int64(0)
	idx := make([]int, len(sub))
	for {
		s := buildSpec(base, sub, idx)
		if w.consistentSpec(t, &s) {
			n++
		}
		if !advance(idx, sizes, len(idx)-1) {
			return big.NewInt(n)
		}
	}
}

// advance steps the mixed-radix counter idx at position pos (faster
// positions back to 0), carrying into slower ones; false once it wraps
// past the first (or pos is -1: a single combination).
func advance(idx, sizes []int, pos int) bool {
	for i := pos + 1; i < len(idx); i++ {
		idx[i] = 0
	}
	for i := pos; i >= 0; i-- {
		idx[i]++
		if idx[i] < sizes[i] {
			return true
		}
		idx[i] = 0
	}
	return false
}

// buildSpec is the shape of one value group per axis over base.
func buildSpec(base map[string]string, axes []axis, idx []int) shapeSpec {
	ls := make(map[string]string, len(base)+len(axes))
	for k, v := range base {
		ls[k] = v
	}
	s := shapeSpec{labels: ls}
	for i, ax := range axes {
		c := ax.classes[idx[i]]
		if c.present {
			ls[ax.key] = c.rep
		}
		if len(ax.classes) > 1 {
			s.varies = append(s.varies, c.String(ax.key))
			rep := c.rep
			if !c.present {
				rep = "no-" + ax.key
			}
			s.parts = append(s.parts, rep)
		}
		if ax.key == corev1.LabelArchStable && c.present {
			s.arches = c.values
		}
		if ax.key == corev1.LabelInstanceTypeStable && c.present {
			s.instanceType = c.rep
			s.otherType = len(c.values) == 0
			s.instanceTypes, s.moreTypes = c.values, c.other
		}
	}
	return s
}

// consistentSpec says whether a shape pairs its instance type with an
// architecture and OS the type's nodes in the cluster have (an m6g is
// arm64): a pairing the provider never launches is no shape.
func (w *whatIf) consistentSpec(t *model.PoolTemplate, s *shapeSpec) bool {
	it := s.labels[corev1.LabelInstanceTypeStable]
	n := w.sample(t, it)
	if n == nil || it == "" || s.otherType {
		return true
	}
	for _, k := range []string{corev1.LabelArchStable, corev1.LabelOSStable} {
		if have, ok := n.Labels[k]; ok && have != s.labels[k] {
			return false
		}
	}
	return true
}

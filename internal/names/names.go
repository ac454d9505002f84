// Package names orders and abbreviates node names as people read them:
// "node-9" before "node-10", and "worker-01…24 except 07" for a long list.
package names

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Less orders names naturally: runs of digits compare by value.
func Less(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			if da != db { // same value, fewer leading zeros first
				return da < db
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// Sort sorts names naturally, in place.
func Sort(ns []string) { sort.SliceStable(ns, func(i, j int) bool { return Less(ns[i], ns[j]) }) }

// maxSegments bounds how many parts Range prints before "+N more".
const maxSegments = 6

// Range writes names compactly: numbered names with a common prefix become
// ranges ("worker-1…6"), with a few holes named ("worker-01…24 except 07"),
// else runs ("gpu-1…3, gpu-7…9"); at most maxSegments parts, then "+N more".
// Parts come in natural order of their first names, whatever order ns is in.
func Range(ns []string) string {
	groups, plain := numberGroups(ns)
	var parts []seg
	for _, g := range groups {
		parts = append(parts, g.segments()...)
	}
	for _, n := range plain {
		parts = append(parts, seg{n, n})
	}
	sort.SliceStable(parts, func(i, j int) bool { return Less(parts[i].first, parts[j].first) })
	segs := make([]string, len(parts))
	for i, p := range parts {
		segs[i] = p.text
	}
	if len(segs) > maxSegments {
		rest := 0
		for _, s := range segs[maxSegments-1:] {
			rest += segmentSize(s)
		}
		segs = append(segs[:maxSegments-1], fmt.Sprintf("+%d more", rest))
	}
	return strings.Join(segs, ", ")
}

// numGroup is the numbers after one prefix ("worker-" 1, 2, 7), of one
// zero-padding width (0 when not padded).
type numGroup struct {
	prefix string
	width  int
	nums   []int
}

// seg is one part of a range, with its first name (to put the parts in
// natural order).
type seg struct{ first, text string }

// numberGroups groups names ending in a number by prefix and padding, in
// order of first appearance; plain are the names without such a number.
func numberGroups(ns []string) (groups []*numGroup, plain []string) {
	type parsed struct {
		name, prefix, digits string
	}
	var items []parsed
	// padded[prefix] is the width of zero-padded numbers after prefix
	// ("worker-01" pads to 2, so "worker-10" belongs with it).
	padded := map[string]int{}
	for _, n := range ns {
		i := len(n)
		for i > 0 && n[i-1] >= '0' && n[i-1] <= '9' {
			i--
		}
		digits := n[i:]
		if digits == "" || len(digits) > 9 {
			plain = append(plain, n)
			continue
		}
		items = append(items, parsed{n, n[:i], digits})
		if len(digits) > 1 && digits[0] == '0' {
			padded[n[:i]] = len(digits)
		}
	}
	byKey := map[string]*numGroup{}
	for _, it := range items {
		v, _ := strconv.Atoi(it.digits)
		width := 0
		if w := padded[it.prefix]; w == len(it.digits) {
			width = w
		}
		key := it.prefix + "\x00" + strconv.Itoa(width)
		g := byKey[key]
		if g == nil {
			g = &numGroup{prefix: it.prefix, width: width}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.nums = append(g.nums, v)
	}
	return groups, plain
}

// segments writes the group as runs: "w1…9", "w1…9 except 4" for a few
// holes, else each run of three or more as a range and the rest one by one.
func (g *numGroup) segments() []seg {
	sort.Ints(g.nums)
	nums := dedup(g.nums)
	f := func(v int) string {
		if g.width > 0 {
			return fmt.Sprintf("%0*d", g.width, v)
		}
		return strconv.Itoa(v)
	}
	name := func(v int) string { return g.prefix + f(v) }
	if len(nums) == 1 {
		return []seg{{name(nums[0]), name(nums[0])}}
	}
	lo, hi := nums[0], nums[len(nums)-1]
	missing := (hi - lo + 1) - len(nums)
	if missing == 0 {
		return []seg{{name(lo), name(lo) + "…" + f(hi)}}
	}
	if missing <= 3 && missing*4 <= len(nums) {
		var holes []string
		have := map[int]bool{}
		for _, v := range nums {
			have[v] = true
		}
		for v := lo; v <= hi; v++ {
			if !have[v] {
				holes = append(holes, f(v))
			}
		}
		return []seg{{name(lo), name(lo) + "…" + f(hi) + " except " + strings.Join(holes, ", ")}}
	}
	var parts []seg
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, seg{name(nums[i]), name(nums[i]) + "…" + f(nums[j])})
		case j-i == 1:
			parts = append(parts, seg{name(nums[i]), name(nums[i])}, seg{name(nums[j]), name(nums[j])})
		default:
			parts = append(parts, seg{name(nums[i]), name(nums[i])})
		}
		i = j + 1
	}
	return parts
}

func dedup(v []int) []int {
	out := v[:0]
	for i, x := range v {
		if i == 0 || x != v[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// segmentSize counts the names a Range segment stands for.
func segmentSize(s string) int {
	head, except, _ := strings.Cut(s, " except ")
	lo, hi, ok := strings.Cut(head, "…")
	if !ok {
		return 1
	}
	i := len(lo)
	for i > 0 && lo[i-1] >= '0' && lo[i-1] <= '9' {
		i--
	}
	a, _ := strconv.Atoi(lo[i:])
	b, _ := strconv.Atoi(hi)
	n := b - a + 1
	if except != "" {
		n -= len(strings.Split(except, ", "))
	}
	return n
}

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
	type group struct {
		prefix string
		width  int // digits of zero-padded numbers; 0 when not padded
		nums   []int
	}
	type parsed struct {
		name, prefix, digits string
	}
	var items []parsed
	var plain []string
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
	var order []string
	groups := map[string]*group{}
	for _, it := range items {
		v, _ := strconv.Atoi(it.digits)
		width := 0
		if w := padded[it.prefix]; w == len(it.digits) {
			width = w
		}
		key := it.prefix + "\x00" + strconv.Itoa(width)
		g := groups[key]
		if g == nil {
			g = &group{prefix: it.prefix, width: width}
			groups[key] = g
			order = append(order, key)
		}
		g.nums = append(g.nums, v)
	}
	// Each part with its first name, to put the parts in natural order.
	type seg struct{ first, text string }
	var parts []seg
	for _, key := range order {
		g := groups[key]
		sort.Ints(g.nums)
		nums := dedup(g.nums)
		f := func(v int) string {
			if g.width > 0 {
				return fmt.Sprintf("%0*d", g.width, v)
			}
			return strconv.Itoa(v)
		}
		if len(nums) == 1 {
			parts = append(parts, seg{g.prefix + f(nums[0]), g.prefix + f(nums[0])})
			continue
		}
		lo, hi := nums[0], nums[len(nums)-1]
		missing := (hi - lo + 1) - len(nums)
		if missing == 0 {
			parts = append(parts, seg{g.prefix + f(lo), g.prefix + f(lo) + "…" + f(hi)})
			continue
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
			parts = append(parts, seg{g.prefix + f(lo), g.prefix + f(lo) + "…" + f(hi) + " except " + strings.Join(holes, ", ")})
			continue
		}
		for i := 0; i < len(nums); {
			j := i
			for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
				j++
			}
			switch {
			case j-i >= 2:
				parts = append(parts, seg{g.prefix + f(nums[i]), g.prefix + f(nums[i]) + "…" + f(nums[j])})
			case j-i == 1:
				parts = append(parts, seg{g.prefix + f(nums[i]), g.prefix + f(nums[i])}, seg{g.prefix + f(nums[j]), g.prefix + f(nums[j])})
			default:
				parts = append(parts, seg{g.prefix + f(nums[i]), g.prefix + f(nums[i])})
			}
			i = j + 1
		}
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

package capacity

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Unit is the unit a set of amounts of one resource is printed in: the
// amounts a person reads together (the two sides of "225Mi/4559Mi", a
// table column, the numbers of one message) share one, so they compare at
// a glance. Kibibytes are never used: kubelet reservations make most
// allocatable memory a whole number of Ki, which kubectl then prints as
// "4668352Ki" next to a request in Mi.
//
// The zero Unit means "not chosen": FormatIn then picks one for the single
// amount it formats.
type Unit int

// Units.
const (
	// UnitCount prints a count as it is: pods, extended resources
	// (nvidia.com/gpu) are devices or slots, never scaled.
	UnitCount Unit = iota + 1
	// UnitMillicores prints cpu as "250m".
	UnitMillicores
	// UnitCores prints cpu in cores, "2"; chosen only when every amount of
	// the set is a whole number of cores.
	UnitCores
	// UnitMi prints bytes in mebibytes, rounded to a whole Mi.
	UnitMi
	// UnitGi prints bytes in gibibytes, rounded to one decimal.
	UnitGi
)

const (
	mi = int64(1) << 20
	gi = int64(1) << 30
)

// String is the unit's suffix as printed ("" for counts and cores).
func (u Unit) String() string {
	switch u {
	case UnitMillicores:
		return "m"
	case UnitMi:
		return "Mi"
	case UnitGi:
		return "Gi"
	}
	return ""
}

// UnitFor chooses one unit for a set of amounts of the resource name:
//
//   - cpu: whole cores when every amount is a whole number of cores (zero
//     is), else millicores: "2/4", "250m/4000m", never "250m/4";
//   - bytes (memory, ephemeral-storage, storage, hugepages-*): Gi when the
//     smallest non-zero amount (by size: a negative headroom counts as its
//     size) is at least 1Gi, else Mi; never Ki;
//   - anything else (pods, extended resources): the plain count.
//
// Gi is chosen only when every amount shown is at least 1Gi, so the
// one-decimal rounding of Gi (at most 0.05Gi, about 51Mi, off) is small
// beside each amount; when one amount is smaller, the whole set is in Mi,
// whose rounding (at most half a Mi) no request is set at: requests are
// written in Mi or Gi, and only allocatable (kubelet reservations in Ki)
// is ever rounded.
func UnitFor(name corev1.ResourceName, values ...int64) Unit {
	switch {
	case name == corev1.ResourceCPU:
		for _, v := range values {
			if v%1000 != 0 {
				return UnitMillicores
			}
		}
		return UnitCores
	case !isBytes(name):
		return UnitCount
	}
	smallest := int64(0)
	for _, v := range values {
		if v < 0 {
			v = -v
		}
		if v != 0 && (smallest == 0 || v < smallest) {
			smallest = v
		}
	}
	if smallest >= gi {
		return UnitGi
	}
	return UnitMi
}

// ColumnUnit chooses one unit for a table column (or any set of amounts of
// one resource printed in one table) from its largest amount, so that a
// column reads in the unit of its big numbers and every cell compares:
//
//   - cpu: cores (up to three decimals, "14.31", "0.09") when the largest
//     amount is at least one core, else millicores ("250m");
//   - bytes: Gi with one decimal when the largest amount is at least 1Gi
//     (a small amount then reads "0.1Gi", never 0), else Mi;
//   - anything else: the plain count.
//
// Negative amounts (a headroom the daemons overrun) count by their size.
func ColumnUnit(name corev1.ResourceName, values ...int64) Unit {
	largest := int64(0)
	for _, v := range values {
		if v < 0 {
			v = -v
		}
		largest = max(largest, v)
	}
	switch {
	case name == corev1.ResourceCPU:
		if largest >= 1000 {
			return UnitCores
		}
		return UnitMillicores
	case !isBytes(name):
		return UnitCount
	case largest >= gi:
		return UnitGi
	}
	return UnitMi
}

// FormatIn renders an amount of the resource name in unit u (chosen by
// UnitFor for the set the amount is shown with). Rounding is half away
// from zero, so a headroom and its negative read alike; Mi is rounded to a
// whole Mi and Gi to one decimal ("4.5Gi", "14Gi"), cores are exact
// ("1.5" when a caller passes cores for an amount that is not whole). A
// non-zero amount never reads as zero: when it is smaller than the
// rounding step, it gets the decimals it needs ("0.3Mi", "-0.0001Mi" for a
// request of 128 bytes: a "memory: 128" without its Mi). A unit that does
// not suit the resource (Mi for cpu), or the zero Unit, is replaced by
// UnitFor(name, v).
func FormatIn(name corev1.ResourceName, v int64, u Unit) string {
	if !suits(name, u) {
		u = UnitFor(name, v)
	}
	switch u {
	case UnitMillicores:
		return strconv.FormatInt(v, 10) + "m"
	case UnitCores:
		return scaled(v, 1000, 3)
	case UnitMi:
		return scaled(v, mi, 0) + "Mi"
	case UnitGi:
		return scaled(v, gi, 1) + "Gi"
	}
	return strconv.FormatInt(v, 10)
}

// FormatEach renders amounts of one resource in the unit UnitFor chooses
// for all of them: the numbers of one message.
func FormatEach(name corev1.ResourceName, values ...int64) []string {
	u := UnitFor(name, values...)
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = FormatIn(name, v, u)
	}
	return out
}

func suits(name corev1.ResourceName, u Unit) bool {
	switch {
	case name == corev1.ResourceCPU:
		return u == UnitMillicores || u == UnitCores
	case isBytes(name):
		return u == UnitMi || u == UnitGi
	}
	return u == UnitCount
}

func isBytes(name corev1.ResourceName) bool {
	return name != corev1.ResourcePods && !isCount(name)
}

// scaled writes v/div rounded half away from zero to digits decimals,
// trailing zeros dropped; a non-zero v that would read 0 gets up to 9
// decimals more. Integer arithmetic: exact for every int64.
func scaled(v, div int64, digits int) string {
	neg := v < 0
	a := v
	if neg {
		a = -v // an amount is never math.MinInt64
	}
	whole, rem := a/div, a%div
	var frac, pow int64
	for d := digits; ; d++ {
		pow = 1
		for range d {
			pow *= 10
		}
		digits = d
		// rem < div <= 2^30 and pow <= 10^9: rem*pow fits in an int64.
		frac = (rem*pow + div/2) / div
		if frac == pow {
			whole, frac = whole+1, 0
		}
		if a == 0 || whole != 0 || frac != 0 || d >= 9 {
			break
		}
	}
	var b strings.Builder
	if neg && (whole != 0 || frac != 0) {
		b.WriteByte('-')
	}
	b.WriteString(strconv.FormatInt(whole, 10))
	if frac != 0 {
		f := strconv.FormatInt(frac, 10)
		f = strings.Repeat("0", digits-len(f)) + f
		b.WriteByte('.')
		b.WriteString(strings.TrimRight(f, "0"))
	}
	return b.String()
}

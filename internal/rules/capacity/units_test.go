package capacity

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestUnitFor(t *testing.T) {
	for _, c := range []struct {
		name   corev1.ResourceName
		values []int64
		want   Unit
	}{
		{"cpu", []int64{2000, 4000}, UnitCores},
		{"cpu", []int64{0, 6000}, UnitCores},
		{"cpu", nil, UnitCores},
		{"cpu", []int64{6000, -90}, UnitMillicores}, // "cpu 6" next to "cpu -90m" was the bug
		{"cpu", []int64{250, 4000}, UnitMillicores},
		{"memory", []int64{225 * mi, 4668352 << 10}, UnitMi},
		{"memory", []int64{4576 * mi, 112 * gi}, UnitGi},
		{"memory", []int64{0, 2 * gi}, UnitGi}, // zero does not decide
		{"memory", []int64{0, 0}, UnitMi},
		{"memory", []int64{-200 * mi, 8 * gi}, UnitMi},   // a negative headroom counts by its size
		{"memory", []int64{-2 * gi, 8 * gi}, UnitGi},     // ... both ways
		{"memory", []int64{gi - 1, 8 * gi}, UnitMi},      // just under 1Gi
		{"memory", []int64{gi, 8 * gi}, UnitGi},          // exactly 1Gi
		{"ephemeral-storage", []int64{100 * gi}, UnitGi}, // bytes too
		{"hugepages-2Mi", []int64{512 * mi, gi}, UnitMi}, // bytes too
		{"nvidia.com/gpu", []int64{1, 8}, UnitCount},     // a device count, never scaled
		{"pods", []int64{3, 110}, UnitCount},
		{"example.com/foo", []int64{2 * gi}, UnitCount},
	} {
		if got := UnitFor(c.name, c.values...); got != c.want {
			t.Errorf("UnitFor(%s, %v) = %v (%d), want %v (%d)", c.name, c.values, got, got, c.want, c.want)
		}
	}
}

func TestFormatIn(t *testing.T) {
	for _, c := range []struct {
		name corev1.ResourceName
		v    int64
		u    Unit
		want string
	}{
		{"cpu", 250, UnitMillicores, "250m"},
		{"cpu", 6000, UnitMillicores, "6000m"},
		{"cpu", -90, UnitMillicores, "-90m"},
		{"cpu", 0, UnitMillicores, "0m"},
		{"cpu", 6000, UnitCores, "6"},
		{"cpu", 0, UnitCores, "0"},
		{"cpu", -2000, UnitCores, "-2"},
		{"cpu", 1500, UnitCores, "1.5"},             // not chosen by UnitFor, but exact
		{"memory", 4668352 << 10, UnitMi, "4559Mi"}, // 4558.94Mi, never Ki
		{"memory", 225 * mi, UnitMi, "225Mi"},
		{"memory", 112 * gi, UnitMi, "114688Mi"},
		{"memory", 0, UnitMi, "0Mi"},
		{"memory", 0, UnitGi, "0Gi"},
		{"memory", -(mi + mi/2), UnitMi, "-2Mi"}, // half away from zero
		{"memory", mi + mi/2, UnitMi, "2Mi"},
		{"memory", -6592 * mi, UnitMi, "-6592Mi"},
		{"memory", 300 << 10, UnitMi, "0.3Mi"},   // non-zero never reads 0
		{"memory", -300 << 10, UnitMi, "-0.3Mi"}, // nor -0
		{"memory", 128, UnitMi, "0.0001Mi"},      // "memory: 128", bytes
		{"memory", 4576 * mi, UnitGi, "4.5Gi"},   // 4.47Gi
		{"memory", 14 * gi, UnitGi, "14Gi"},      // no ".0"
		{"memory", 14*gi + 1, UnitGi, "14Gi"},
		{"memory", 14*gi - mi, UnitGi, "14Gi"}, // 13.999 carries
		{"memory", 13664 * mi, UnitGi, "13.3Gi"},
		{"memory", -(gi + gi/20 + 1), UnitGi, "-1.1Gi"}, // just over 1.05: away from zero
		{"hugepages-1Gi", 2 * gi, UnitGi, "2Gi"},
		{"nvidia.com/gpu", 2, UnitCount, "2"},
		{"pods", 110, UnitCount, "110"},
		{"pods", -3, UnitCount, "-3"},
		{"memory", 512 * mi, UnitMillicores, "512Mi"}, // a unit that does not suit: chosen for the amount
		{"cpu", 250, UnitGi, "250m"},
		{"cpu", 2000, 0, "2"},
		{"memory", 3 * gi, 0, "3Gi"},
		{"nvidia.com/gpu", 1, UnitGi, "1"},
	} {
		if got := FormatIn(c.name, c.v, c.u); got != c.want {
			t.Errorf("FormatIn(%s, %d, %v) = %q, want %q", c.name, c.v, c.u, got, c.want)
		}
	}
}

func TestFormatEach(t *testing.T) {
	for _, c := range []struct {
		name   corev1.ResourceName
		values []int64
		want   []string
	}{
		{"memory", []int64{225 * mi, 4668352 << 10}, []string{"225Mi", "4559Mi"}},
		{"memory", []int64{4576 * mi, 112 * gi}, []string{"4.5Gi", "112Gi"}},
		{"cpu", []int64{2000, 20, 1930}, []string{"2000m", "20m", "1930m"}},
		{"cpu", []int64{2000, 6000}, []string{"2", "6"}},
		{"nvidia.com/gpu", []int64{1, 0}, []string{"1", "0"}},
	} {
		if got := FormatEach(c.name, c.values...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("FormatEach(%s, %v) = %q, want %q", c.name, c.values, got, c.want)
		}
	}
}

func TestColumnUnitFollowsTheLargestAmount(t *testing.T) {
	cases := []struct {
		name   corev1.ResourceName
		values []int64
		want   Unit
		shown  []string
	}{
		{corev1.ResourceCPU, []int64{14310, 31360, 90}, UnitCores, []string{"14.31", "31.36", "0.09"}},
		{corev1.ResourceCPU, []int64{250, 950, -90}, UnitMillicores, []string{"250m", "950m", "-90m"}},
		{corev1.ResourceCPU, []int64{10, -1870}, UnitCores, []string{"0.01", "-1.87"}},
		{corev1.ResourceMemory, []int64{4576 << 20, 112 << 30, 32 << 20}, UnitGi, []string{"4.5Gi", "112Gi", "0.03Gi"}},
		{corev1.ResourceMemory, []int64{128 << 20, 900 << 20}, UnitMi, []string{"128Mi", "900Mi"}},
		{corev1.ResourcePods, []int64{38, 880}, UnitCount, []string{"38", "880"}},
	}
	for _, c := range cases {
		u := ColumnUnit(c.name, c.values...)
		if u != c.want {
			t.Errorf("%s %v: unit %v, want %v", c.name, c.values, u, c.want)
			continue
		}
		for i, v := range c.values {
			if got := FormatIn(c.name, v, u); got != c.shown[i] {
				t.Errorf("%s %d in %v: %q, want %q", c.name, v, u, got, c.shown[i])
			}
		}
	}
}

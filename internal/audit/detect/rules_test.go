package detect

import "testing"

// RulesFor reads the minor version of discovery's gitVersion (and of
// --server-version): vendor suffixes and a missing "v" are fine, anything
// unparsable is unknown and gets the newest rules.
func TestRulesFor(t *testing.T) {
	for v, want := range map[string]struct {
		minor               int
		atBoundary, staleMS bool
	}{
		"":                   {0, true, false},
		"v1.37.2":            {37, true, false},
		"1.34":               {34, true, false},
		"v1.33.4-gke.1200":   {33, false, true},
		"v1.32.0+k3s1":       {32, false, false},
		"v1.30.14-eks-931bd": {30, false, false},
		"v0.0.0-master":      {0, true, false},
		"garbage":            {0, true, false},
	} {
		r := RulesFor(v)
		if r.Minor != want.minor || r.AvailableAtBoundary != want.atBoundary || r.StaleMisscheduledOnUntaint != want.staleMS {
			t.Errorf("RulesFor(%q) = %+v, want %+v", v, r, want)
		}
	}
}

package report

import "testing"

// Every what-if finding type is a word --fail-on and --ignore take, and
// each selects (or leaves out) findings of its type only.
func TestWhatIfTypesAreAcceptedByFailOnAndIgnore(t *testing.T) {
	for _, wt := range WhatIfTypes {
		g, err := ParseWhatIfGate([]string{string(wt.Type)}, nil)
		if err != nil {
			t.Errorf("--fail-on %s: %v", wt.Type, err)
			continue
		}
		for _, other := range WhatIfTypes {
			if got := g.Fails(other.Type, SeverityInfo); got != (other.Type == wt.Type) {
				t.Errorf("--fail-on %s fails a %s: %v", wt.Type, other.Type, got)
			}
		}
		ig, err := ParseWhatIfGate([]string{"error"}, []string{string(wt.Type)})
		if err != nil || !ig.Ignore[wt.Type] || len(ig.Settings().Ignore) != 1 {
			t.Errorf("--ignore %s: %v, recorded %v", wt.Type, err, ig.Settings().Ignore)
		}
	}
}

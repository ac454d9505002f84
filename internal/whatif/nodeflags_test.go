package whatif

import (
	"strings"
	"testing"
)

// Go randomises map order; a flag named from a map range would change from
// run to run.
func TestNodeFlagsNameTheSameFlagEveryTime(t *testing.T) {
	for range 50 {
		tmpl, err := NodeFlags{Taints: []string{"dedicated=gpu:NoSchedule"}, StartupTaints: []string{"dedicated=gpu:NoSchedule"}}.Template()
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.TaintOrigin["dedicated"]; got != "--startup-taints" {
			t.Fatalf("a taint given to both flags comes from %q, want --startup-taints", got)
		}
		_, err = NodeFlags{OS: "bad,os", Arch: "bad,arch", InstanceType: "bad,type"}.Template()
		if err == nil || !strings.HasPrefix(err.Error(), "--os ") {
			t.Fatalf("several bad flags: %v, want the first in help order (--os)", err)
		}
	}
}

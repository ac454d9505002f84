package providers_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/daemoncheck/daemoncheck/internal/decode"
	"github.com/daemoncheck/daemoncheck/internal/model"
)

// The what-if inputs live beside the command's goldens, which use them too.
const whatifData = "../cli/testdata/whatif/"

func readOne(t *testing.T, path string) model.PoolTemplate {
	t.Helper()
	prop, err := decode.ReadProposal([]string{path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(prop.Pools) != 1 {
		t.Fatalf("%s: %d pools, want 1", path, len(prop.Pools))
	}
	return prop.Pools[0]
}

func taints(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		s := t.Key
		if t.Value != "" {
			s += "=" + t.Value
		}
		out = append(out, s+":"+string(t.Effect))
	}
	return out
}

func hasNote(notes []string, part string) bool {
	for _, n := range notes {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

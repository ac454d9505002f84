package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyDeps are packages the binary must not link: kustomize came with
// cli-runtime's genericclioptions (resource builder) and was about half of
// the binary. The connection and -o flags are bound without it (packages
// kubeflags and printer).
var heavyDeps = []string{"sigs.k8s.io/kustomize/", "k8s.io/cli-runtime/pkg/genericclioptions", "k8s.io/cli-runtime/pkg/resource"}

// TestNoHeavyDependencies lists what the binary links (go list -deps, no
// build) and fails on a package of heavyDeps.
func TestNoHeavyDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps listed %d packages, expected hundreds:\n%s", len(deps), out)
	}
	for _, d := range deps {
		for _, heavy := range heavyDeps {
			if strings.HasPrefix(d, heavy) {
				t.Errorf("the binary links %s; bind flags with clientcmd and cli-runtime/pkg/printers instead of genericclioptions", d)
			}
		}
	}
}

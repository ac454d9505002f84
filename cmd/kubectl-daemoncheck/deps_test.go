package main

import (
	"os/exec"
	"strings"
	"testing"
)

// heavyDeps are packages the binary must not link, with what to use
// instead.
var heavyDeps = map[string]string{
	// kustomize came with cli-runtime's genericclioptions (resource
	// builder) and was about half of the binary.
	"sigs.k8s.io/kustomize/":                   "bind flags with clientcmd and cli-runtime/pkg/printers instead of genericclioptions",
	"k8s.io/cli-runtime/pkg/genericclioptions": "bind flags with clientcmd and cli-runtime/pkg/printers instead of genericclioptions",
	"k8s.io/cli-runtime/pkg/resource":          "bind flags with clientcmd and cli-runtime/pkg/printers instead of genericclioptions",
	// The typed clientset registers every API group of k8s.io/api and
	// brings apply configurations; discovery brings the OpenAPI models:
	// 17 MB of a 41 MB binary.
	"k8s.io/client-go/kubernetes":          "read through collect.Client (client-go's rest with a scheme of the groups read); tests adapt a fake clientset with collecttest",
	"k8s.io/client-go/discovery":           "ask GET /version through collect.Client",
	"k8s.io/client-go/applyconfigurations": "read through collect.Client",
	"github.com/google/gnostic-models":     "read through collect.Client (no discovery, no OpenAPI)",
}

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
		for heavy, instead := range heavyDeps {
			if strings.HasPrefix(d, heavy) {
				t.Errorf("the binary links %s; %s", d, instead)
			}
		}
	}
}

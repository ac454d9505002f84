package rig

import (
	"os"
	"strings"
	"testing"
)

// The cache key in BinDir must follow the versions the build module pins.
func TestVersionsMatchBuildModule(t *testing.T) {
	gomod, err := os.ReadFile("../controlplane/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "k8s.io/kubernetes "+KubernetesVersion) {
		t.Errorf("test/controlplane/go.mod does not require k8s.io/kubernetes %s", KubernetesVersion)
	}
	build, err := os.ReadFile("../controlplane/build.sh")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(build), `kwok_version="`+KwokVersion+`"`) {
		t.Errorf("test/controlplane/build.sh does not build kwok %s", KwokVersion)
	}
}

func TestBinDirOverride(t *testing.T) {
	t.Setenv("DAEMONCHECK_RIG_BIN", "/nonexistent/rig-bin")
	d, err := BinDir()
	if err != nil || d != "/nonexistent/rig-bin" {
		t.Fatalf("BinDir() = %q, %v", d, err)
	}
	if _, err := CheckBinaries(); err == nil || !strings.Contains(err.Error(), "make e2e-deps") {
		t.Fatalf("CheckBinaries() error = %v, want a hint to run make e2e-deps", err)
	}
}

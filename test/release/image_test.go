package release

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// koConfig is the part of .goreleaser.yaml's kos entry the chart and the
// kustomize base depend on.
type koConfig struct {
	Build        string   `json:"build"`
	Main         string   `json:"main"`
	BaseImage    string   `json:"base_image"`
	User         string   `json:"user"`
	Repositories []string `json:"repositories"`
	Platforms    []string `json:"platforms"`
	Tags         []string `json:"tags"`
	Bare         bool     `json:"bare"`
	Disable      string   `json:"disable"`
}

func readYAML(t *testing.T, file string, into any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// The image goreleaser publishes is the one the chart and the kustomize
// base run: same repository, a tag in the chart's appVersion form, the
// chart's user, the plugin's own build, a static base without a shell.
func TestImageMatchesTheChartAndKustomizeBase(t *testing.T) {
	root := repoRoot(t)
	var cfg struct {
		Builds []struct {
			ID   string   `json:"id"`
			Main string   `json:"main"`
			Env  []string `json:"env"`
		} `json:"builds"`
		Kos []koConfig `json:"kos"`
	}
	readYAML(t, filepath.Join(root, ".goreleaser.yaml"), &cfg)
	if len(cfg.Kos) != 1 {
		t.Fatalf(".goreleaser.yaml: want one kos entry, got %d", len(cfg.Kos))
	}
	ko := cfg.Kos[0]
	if len(cfg.Builds) != 1 || ko.Build != cfg.Builds[0].ID || ko.Main != cfg.Builds[0].Main {
		t.Errorf("kos builds %s from %s, not the plugin's build", ko.Build, ko.Main)
	}
	if !slices.Contains(cfg.Builds[0].Env, "CGO_ENABLED=0") {
		t.Error("the build is not static (CGO_ENABLED=0): distroless/static has no libc")
	}
	if !strings.HasPrefix(ko.BaseImage, "gcr.io/distroless/static") || !strings.Contains(ko.BaseImage, ":nonroot") {
		t.Errorf("base image %s, want distroless static nonroot", ko.BaseImage)
	}
	if !slices.Equal(ko.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v", ko.Platforms)
	}
	// ko's own path naming would append the import path; the chart names
	// the repository itself.
	if !ko.Bare {
		t.Error("kos.bare is false: the image would not be at the repository the chart names")
	}
	if ko.Disable != "{{ .IsSnapshot }}" {
		t.Errorf("kos.disable %q: snapshots (make dist) must not need a Docker daemon", ko.Disable)
	}

	var values struct {
		Image struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
		} `json:"image"`
		PodSecurityContext struct {
			RunAsUser  int64 `json:"runAsUser"`
			RunAsGroup int64 `json:"runAsGroup"`
		} `json:"podSecurityContext"`
	}
	chart := filepath.Join(root, "plugins", "chart", "daemoncheck")
	readYAML(t, filepath.Join(chart, "values.yaml"), &values)
	var meta struct {
		AppVersion string `json:"appVersion"`
	}
	readYAML(t, filepath.Join(chart, "Chart.yaml"), &meta)
	if len(ko.Repositories) != 1 || ko.Repositories[0] != values.Image.Repository {
		t.Errorf("kos pushes to %v, the chart pulls %s", ko.Repositories, values.Image.Repository)
	}
	// The chart's tag defaults to appVersion, which is a release's
	// {{ .Version }} (no leading v).
	if values.Image.Tag != "" || !slices.Contains(ko.Tags, "{{ .Version }}") || strings.HasPrefix(meta.AppVersion, "v") {
		t.Errorf("kos tags %v, chart tag %q and appVersion %q: the chart's default tag must be one the release pushes", ko.Tags, values.Image.Tag, meta.AppVersion)
	}
	if want := "65532:65532"; ko.User != want || values.PodSecurityContext.RunAsUser != 65532 || values.PodSecurityContext.RunAsGroup != 65532 {
		t.Errorf("image user %s, chart runs as %d:%d; want %s (distroless nonroot)", ko.User, values.PodSecurityContext.RunAsUser, values.PodSecurityContext.RunAsGroup, want)
	}

	var kust struct {
		Images []struct {
			Name   string `json:"name"`
			NewTag string `json:"newTag"`
		} `json:"images"`
	}
	readYAML(t, filepath.Join(root, "plugins", "kustomize", "kustomization.yaml"), &kust)
	if len(kust.Images) != 1 || kust.Images[0].Name != values.Image.Repository || kust.Images[0].NewTag != meta.AppVersion {
		t.Errorf("the kustomize base runs %+v, want %s:%s as the chart", kust.Images, values.Image.Repository, meta.AppVersion)
	}
}

// distroless/static has no dynamic loader: the binary the image gets must
// not ask for one. Built as goreleaser builds it (CGO_ENABLED=0, -trimpath),
// for linux/amd64 only: arm64 is built by the same settings, and a cold
// cross-build of every dependency takes minutes.
func TestImageBinaryIsStatic(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	root := repoRoot(t)
	for _, arch := range []string{"amd64"} {
		bin := filepath.Join(t.TempDir(), "kubectl-daemoncheck")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./cmd/kubectl-daemoncheck")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build linux/%s: %v\n%s", arch, err, out)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("linux/%s: the binary asks for a dynamic loader, which distroless/static lacks", arch)
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Errorf("linux/%s: the binary links %v", arch, libs)
		}
		_ = f.Close()
	}
}

package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"sigs.k8s.io/krew/pkg/index"
	"sigs.k8s.io/yaml"
)

const (
	plugin      = "daemoncheck"
	binary      = "kubectl-daemoncheck"
	completion  = "kubectl_complete-daemoncheck"
	manifest    = "plugins/daemoncheck.yaml"
	demoFixture = "test/fixtures/demo-cluster.yaml"
)

// goTool runs a release tool pinned in this module's go.mod (test/release),
// from the repository root, where goreleaser and krew expect to work.
func goTool(root string, args ...string) []string {
	return append([]string{"tool", "-modfile=" + filepath.Join(root, "test", "release", "go.mod")}, args...)
}

// repoRoot is the module root: go test runs in the package directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found from %s: %v", root, err)
	}
	// The heavy tests run tools on the whole tree, which go test's result
	// cache cannot see; touching the sources here makes any change to them
	// (or to the release files) rerun this package instead of replaying a
	// stale pass.
	for _, dir := range []string{"cmd", "pkg", "plugins"} {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				_, _ = os.Stat(p)
			}
			return nil
		})
	}
	for _, f := range []string{"go.mod", "go.sum", ".goreleaser.yaml", ".krew.yaml", "LICENSE", "README.md", demoFixture} {
		_, _ = os.Stat(filepath.Join(root, f))
	}
	return root
}

// run runs a command in dir with extra environment and returns its combined
// output, failing the test on error.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, env, lookPath(t, name, env), args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// lookPath finds name on the PATH given in env (exec.Command would search
// the test's own PATH).
func lookPath(t *testing.T, name string, env []string) string {
	t.Helper()
	if strings.ContainsRune(name, filepath.Separator) {
		return name
	}
	p := os.Getenv("PATH")
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			p = v
		}
	}
	for _, dir := range filepath.SplitList(p) {
		f := filepath.Join(dir, name)
		if st, err := os.Stat(f); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return f
		}
	}
	t.Fatalf("%s not found on PATH %s", name, p)
	return ""
}

// stdout runs a command and returns stdout only (stderr is kept for errors):
// completion output must not be mixed with warnings.
func stdout(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(lookPath(t, name, env), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// goreleaserConfig is the part of .goreleaser.yaml the krew template depends on.
type goreleaserConfig struct {
	ProjectName string `json:"project_name"`
	Builds      []struct {
		Binary string   `json:"binary"`
		Goos   []string `json:"goos"`
		Goarch []string `json:"goarch"`
	} `json:"builds"`
	Archives []struct {
		NameTemplate    string   `json:"name_template"`
		Formats         []string `json:"formats"`
		FormatOverrides []struct {
			Goos    string   `json:"goos"`
			Formats []string `json:"formats"`
		} `json:"format_overrides"`
	} `json:"archives"`
}

// archiveNames maps "os/arch" to the archive goreleaser produces for it.
func archiveNames(t *testing.T, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Builds) != 1 || len(cfg.Archives) != 1 {
		t.Fatalf(".goreleaser.yaml: want one build and one archive, got %d and %d", len(cfg.Builds), len(cfg.Archives))
	}
	build, archive := cfg.Builds[0], cfg.Archives[0]
	if build.Binary != binary {
		t.Errorf(".goreleaser.yaml: binary %q, want %q", build.Binary, binary)
	}
	// Only the plain fields are supported here; a name template that needs
	// goreleaser's own functions fails to parse and says so.
	name, err := template.New("name").Option("missingkey=error").Parse(archive.NameTemplate)
	if err != nil {
		t.Fatalf("archives.name_template %q: %v", archive.NameTemplate, err)
	}
	names := map[string]string{}
	for _, goos := range build.Goos {
		for _, goarch := range build.Goarch {
			format := "tar.gz"
			if len(archive.Formats) > 0 {
				format = archive.Formats[0]
			}
			for _, o := range archive.FormatOverrides {
				if o.Goos == goos && len(o.Formats) > 0 {
					format = o.Formats[0]
				}
			}
			var b strings.Builder
			data := map[string]string{"ProjectName": cfg.ProjectName, "Os": goos, "Arch": goarch}
			if err := name.Execute(&b, data); err != nil {
				t.Fatalf("archives.name_template %q: %v", archive.NameTemplate, err)
			}
			names[goos+"/"+goarch] = b.String() + "." + format
		}
	}
	return names
}

func readManifest(t *testing.T, file string) index.Plugin {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var p index.Plugin
	if err := yaml.UnmarshalStrict(b, &p); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

func validateManifest(t *testing.T, root, file string) {
	t.Helper()
	out := run(t, root, nil, "go", goTool(root, "validate-krew-manifest", "-manifest", file, "-skip-install")...)
	if !strings.Contains(out, "structural validation OK") {
		t.Fatalf("validate-krew-manifest %s:\n%s", file, out)
	}
}

// checkManifest checks what krew does not: the manifest covers exactly the
// goreleaser platforms, names their archives, runs the right binary and ships
// the license.
func checkManifest(t *testing.T, root string, p index.Plugin, tag string) {
	t.Helper()
	if p.Spec.Version != tag {
		t.Errorf("spec.version %q, want %q", p.Spec.Version, tag)
	}
	if p.Spec.Homepage != "https://github.com/daemoncheck/daemoncheck" {
		t.Errorf("spec.homepage %q", p.Spec.Homepage)
	}
	for _, want := range []string{"daemonsets", "controllerrevisions", "nodes", "pods", "events"} {
		if !strings.Contains(p.Spec.Caveats, want) {
			t.Errorf("caveats do not name the RBAC resource %q", want)
		}
	}
	want := archiveNames(t, root)
	seen := map[string]bool{}
	for i, pl := range p.Spec.Platforms {
		osArch := pl.Selector.MatchLabels["os"] + "/" + pl.Selector.MatchLabels["arch"]
		seen[osArch] = true
		archive, ok := want[osArch]
		if !ok {
			t.Errorf("platforms[%d] selects %s, which goreleaser does not build", i, osArch)
			continue
		}
		wantURI := "https://github.com/daemoncheck/daemoncheck/releases/download/" + tag + "/" + archive
		if pl.URI != wantURI {
			t.Errorf("platforms[%d] (%s) uri %q, want %q", i, osArch, pl.URI, wantURI)
		}
		bin := binary
		if strings.HasPrefix(osArch, "windows/") {
			bin += ".exe"
		}
		if pl.Bin != bin {
			t.Errorf("platforms[%d] (%s) bin %q, want %q", i, osArch, pl.Bin, bin)
		}
		var from []string
		for _, f := range pl.Files {
			from = append(from, f.From)
		}
		for _, f := range []string{bin, "LICENSE"} {
			if !slices.Contains(from, f) {
				t.Errorf("platforms[%d] (%s) files do not copy %s", i, osArch, f)
			}
		}
	}
	for osArch := range want {
		if !seen[osArch] {
			t.Errorf("no krew platform for %s, which goreleaser builds", osArch)
		}
	}
}

// TestKrewTemplate renders .krew.yaml as krew-release-bot would for a tag
// and checks the result with krew's own validator.
func TestKrewTemplate(t *testing.T) {
	root := repoRoot(t)
	tmpl, err := os.ReadFile(filepath.Join(root, ".krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const tag = "v1.2.3"
	out, err := RenderKrewTemplate(tmpl, tag, FakeSha)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), plugin+".yaml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	validateManifest(t, root, file)
	checkManifest(t, root, readManifest(t, file), tag)
}

// TestCommittedManifest checks plugins/daemoncheck.yaml: valid for krew, and
// still what .krew.yaml renders to for its version and sums (so a template
// change cannot silently leave it behind).
func TestCommittedManifest(t *testing.T) {
	root := repoRoot(t)
	file := filepath.Join(root, manifest)
	validateManifest(t, root, file)
	p := readManifest(t, file)
	checkManifest(t, root, p, p.Spec.Version)

	sums := map[string]string{}
	for _, pl := range p.Spec.Platforms {
		sums[pl.URI] = pl.Sha256
	}
	tmpl, err := os.ReadFile(filepath.Join(root, ".krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := RenderKrewTemplate(tmpl, p.Spec.Version, func(uri string) (string, error) {
		if s, ok := sums[uri]; ok {
			return s, nil
		}
		return "", fmt.Errorf("%s is not in %s", uri, manifest)
	})
	if err != nil {
		t.Fatalf("%v: run `make dist krew-manifest`", err)
	}
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if body := stripComments(got); !bytes.Equal(body, stripComments(want)) {
		t.Errorf("%s is not .krew.yaml rendered for %s: run `make dist krew-manifest`", manifest, p.Spec.Version)
	}
}

// stripComments drops the generator's leading comment lines.
func stripComments(b []byte) []byte {
	for bytes.HasPrefix(b, []byte("#")) || bytes.HasPrefix(b, []byte("\n")) {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	return b
}

func TestGoreleaserCheck(t *testing.T) {
	root := repoRoot(t)
	run(t, root, nil, "go", goTool(root, "goreleaser", "check")...)
}

func TestRBAC(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "plugins/rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name   string            `json:"name"`
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Rules []struct {
			APIGroups []string `json:"apiGroups"`
			Resources []string `json:"resources"`
			Verbs     []string `json:"verbs"`
		} `json:"rules"`
	}
	// The file holds the ClusterRole and, commented out, an example binding.
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		t.Fatalf("plugins/rbac.yaml: %v", err)
	}
	if role.APIVersion != "rbac.authorization.k8s.io/v1" || role.Kind != "ClusterRole" || role.Metadata.Name != "daemoncheck-reader" {
		t.Fatalf("plugins/rbac.yaml: %s %s %q, want rbac.authorization.k8s.io/v1 ClusterRole daemoncheck-reader", role.APIVersion, role.Kind, role.Metadata.Name)
	}
	granted := map[string]bool{}
	for _, r := range role.Rules {
		for _, v := range r.Verbs {
			if v != "get" && v != "list" && v != "watch" {
				t.Errorf("plugins/rbac.yaml grants %q: the role must stay read-only", v)
			}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					granted[g+"/"+res+":"+v] = true
				}
			}
		}
	}
	wants := []string{"apps/daemonsets", "apps/controllerrevisions", "/nodes", "/pods", "/events", "scheduling.k8s.io/priorityclasses", "apps.kruise.io/daemonsets", "readiness.node.x-k8s.io/nodereadinessrules",
		// Node-plugin registrations (CSINode, CSIDriver, ResourceSlice).
		"storage.k8s.io/csinodes", "storage.k8s.io/csidrivers", "resource.k8s.io/resourceslices"}
	for _, want := range wants {
		for _, v := range []string{"get", "list"} {
			if !granted[want+":"+v] {
				t.Errorf("plugins/rbac.yaml does not grant %s on %s", v, want)
			}
		}
	}
	// watch, optional, on what -w and --wait watch (events are read once).
	for _, want := range []string{"apps/daemonsets", "apps/controllerrevisions", "/nodes", "/pods"} {
		if !granted[want+":watch"] {
			t.Errorf("plugins/rbac.yaml does not grant watch on %s", want)
		}
	}
	if len(granted) != len(wants)*2+4 {
		t.Errorf("plugins/rbac.yaml grants %d (group/resource, verb) pairs, want exactly %d: get and list on what the plugin reads, watch on what it watches, nothing else", len(granted), len(wants)*2+4)
	}
}

// buildPlugin builds the plugin into a fresh directory and returns it.
func buildPlugin(t *testing.T, root string) string {
	t.Helper()
	bin := t.TempDir()
	run(t, root, []string{"CGO_ENABLED=0"}, "go", "build", "-trimpath", "-o", filepath.Join(bin, binary), "./cmd/kubectl-daemoncheck")
	return bin
}

var directive = regexp.MustCompile(`^:[0-9]+$`)

// completions splits cobra __complete output into candidates (without their
// descriptions) and checks the trailing ":<directive>" line.
func completions(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || !directive.MatchString(lines[len(lines)-1]) {
		t.Fatalf("not cobra completion output (no trailing :<directive>):\n%s", out)
	}
	var c []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		c = append(c, name)
	}
	return c
}

// TestCompletionScript runs plugins/kubectl_complete-daemoncheck against a
// freshly built plugin, directly and the way kubectl (v1.26+) calls it for
// `kubectl daemoncheck <TAB>`.
func TestCompletionScript(t *testing.T) {
	root := repoRoot(t)
	script := filepath.Join(root, "plugins", completion)
	st, err := os.Stat(script)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Fatalf("%s is not executable", script)
	}
	bin := buildPlugin(t, root)
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + filepath.Dir(script) + string(os.PathListSeparator) + os.Getenv("PATH")}

	t.Run("flags", func(t *testing.T) {
		got := completions(t, stdout(t, root, env, completion, "--out"))
		if !slices.Contains(got, "--output") {
			t.Errorf("completing --out offers %q, want --output among them", got)
		}
	})
	t.Run("through kubectl", func(t *testing.T) {
		if _, err := exec.LookPath("kubectl"); err != nil {
			t.Skip("kubectl not on PATH")
		}
		got := completions(t, stdout(t, root, env, "kubectl", "__complete", plugin, "--out"))
		if !slices.Contains(got, "--output") {
			t.Errorf("kubectl __complete daemoncheck --out offers %q, want --output among them", got)
		}
	})
	t.Run("daemonset names from -f", func(t *testing.T) {
		fixture := filepath.Join(root, demoFixture)
		want := daemonSetNames(t, fixture)
		got := completions(t, stdout(t, root, env, completion, "-f", fixture, ""))
		for _, name := range want {
			if !slices.Contains(got, name) {
				t.Errorf("completing a DaemonSet name with -f %s offers %q, want %s among them", demoFixture, got, name)
			}
		}
	})
}

// daemonSetNames lists the DaemonSets in a fixture: a multi-document YAML file
// of objects and/or Lists.
func daemonSetNames(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s does not exist yet: DaemonSet-name completion from -f is not tested", demoFixture)
	}
	if err != nil {
		t.Fatal(err)
	}
	type object struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Items []json.RawMessage `json:"items"`
	}
	var names []string
	var add func(o object)
	add = func(o object) {
		if o.Kind == "DaemonSet" && o.Metadata.Name != "" && !slices.Contains(names, o.Metadata.Name) {
			names = append(names, o.Metadata.Name)
		}
		for _, it := range o.Items {
			var item object
			if err := yaml.Unmarshal(it, &item); err == nil {
				add(item)
			}
		}
	}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
		var o object
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("%s: %v", demoFixture, err)
		}
		add(o)
	}
	if len(names) == 0 {
		t.Fatalf("%s has no DaemonSets", demoFixture)
	}
	return names
}

// TestSnapshotKrewInstall is the release path end to end for this machine's
// platform: goreleaser snapshot (one target, into a temporary dist), archive
// contents, a manifest rendered from .krew.yaml with the archive's real sum,
// krew's validator, `krew install --manifest --archive` into a temporary
// KREW_ROOT, then `kubectl daemoncheck version` and completion through kubectl
// from that KREW_ROOT. `make dist` and `make krew-install-local` do the same
// for all six platforms.
func TestSnapshotKrewInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a goreleaser snapshot; skipped with -short")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the install check runs a POSIX shell script")
	}
	root := repoRoot(t)
	if out, err := runErr(root, nil, "git", "rev-parse", "HEAD"); err != nil {
		t.Skipf("goreleaser needs a git checkout with a commit: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	dist := filepath.Join(tmp, "dist")

	// .goreleaser.yaml narrowed to this platform, writing to a temporary dist
	// so a developer's dist/ is left alone.
	cfgYAML, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(cfgYAML, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["dist"] = dist
	builds, _ := cfg["builds"].([]any)
	for _, b := range builds {
		b := b.(map[string]any)
		b["goos"] = []string{runtime.GOOS}
		b["goarch"] = []string{runtime.GOARCH}
	}
	narrowed, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(tmp, "goreleaser.yaml")
	if err := os.WriteFile(cfgFile, narrowed, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, root, goreleaserEnv(t, root), "go", goTool(root, "goreleaser", "release", "--snapshot", "--clean", "-f", cfgFile)...)
	t.Logf("goreleaser snapshot (%s/%s): %s", runtime.GOOS, runtime.GOARCH, time.Since(start).Round(time.Second))

	md, err := ReadDistMetadata(dist)
	if err != nil {
		t.Fatal(err)
	}
	tag := TagFor(md.Version)
	head := strings.TrimSpace(run(t, root, nil, "git", "rev-parse", "HEAD"))
	if md.Commit != head {
		t.Fatalf("goreleaser built commit %q, want HEAD %s", md.Commit, head)
	}
	ct := strings.TrimSpace(run(t, root, nil, "git", "show", "-s", "--format=%cI", "HEAD"))
	commitTime, err := time.Parse(time.RFC3339, ct)
	if err != nil {
		t.Fatal(err)
	}
	archive := archiveNames(t, root)[runtime.GOOS+"/"+runtime.GOARCH]
	checkArchive(t, root, filepath.Join(dist, archive), commitTime)

	// The manifest: the real sum for this platform's archive, made-up sums
	// for the five that were not built.
	distSha, err := DistSha(dist)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, ".krew.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body, err := RenderKrewTemplate(tmpl, tag, func(uri string) (string, error) {
		if path.Base(uri) == archive {
			return distSha(uri)
		}
		return FakeSha(uri)
	})
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(tmp, "manifest", plugin+".yaml")
	if err := os.MkdirAll(filepath.Dir(mf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mf, body, 0o644); err != nil {
		t.Fatal(err)
	}
	validateManifest(t, root, mf)
	checkManifest(t, root, readManifest(t, mf), tag)

	krewRoot := filepath.Join(tmp, "krew")
	env := []string{"KREW_ROOT=" + krewRoot}
	run(t, root, env, "go", goTool(root, "krew", "install", "--manifest="+mf, "--archive="+filepath.Join(dist, archive))...)
	env = append(env, "PATH="+filepath.Join(krewRoot, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))

	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not on PATH: cannot run the plugin through it")
	}
	out := run(t, root, env, "kubectl", plugin, "version")
	if !strings.Contains(out, tag) {
		t.Errorf("kubectl daemoncheck version does not print %s:\n%s", tag, out)
	}
	out = stdout(t, root, env, "kubectl", plugin, "version", "-o", "json")
	if !strings.Contains(out, tag) || !strings.Contains(out, md.Commit) {
		t.Errorf("kubectl daemoncheck version -o json does not carry %s and commit %s:\n%s", tag, md.Commit, out)
	}

	// Completion as the krew caveats tell users to set it up.
	installed := filepath.Join(krewRoot, "store", plugin, tag, completion)
	if _, err := os.Stat(installed); err != nil {
		t.Fatalf("krew did not install the completion script where the caveats say: %v", err)
	}
	run(t, root, nil, "cp", installed, filepath.Join(krewRoot, "bin")+"/")
	got := completions(t, stdout(t, root, env, "kubectl", "__complete", plugin, "--out"))
	if !slices.Contains(got, "--output") {
		t.Errorf("kubectl __complete daemoncheck --out (krew install) offers %q, want --output", got)
	}
}

// goreleaserEnv is the environment goreleaser needs to read the commit: like
// `make dist`, lend a remote URL to a checkout that has none (goreleaser
// otherwise builds commit "none" dated year 1 in snapshot mode).
func goreleaserEnv(t *testing.T, root string) []string {
	t.Helper()
	if strings.TrimSpace(run(t, root, nil, "git", "remote")) != "" {
		return nil
	}
	return []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=remote.origin.url", "GIT_CONFIG_VALUE_0=https://github.com/daemoncheck/daemoncheck.git"}
}

// checkArchive checks a release tar.gz: binary, LICENSE, completion script
// and README at the top, executables executable, owned by root, every mtime
// the commit's (reproducible archives).
func checkArchive(t *testing.T, root, file string, commitTime time.Time) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	modes := map[string]int64{}
	mtimes := map[string]time.Time{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		modes[h.Name] = h.Mode
		mtimes[h.Name] = h.ModTime
		if h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s: %s owned by %s:%s, want root:root", filepath.Base(file), h.Name, h.Uname, h.Gname)
		}
	}
	want := map[string]int64{binary: 0o755, completion: 0o755, "LICENSE": 0o644}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err == nil {
		want["README.md"] = 0o644
	}
	for name, mode := range want {
		got, ok := modes[name]
		if !ok {
			t.Errorf("%s lacks %s (has %v)", filepath.Base(file), name, modes)
		} else if got&0o777 != mode {
			t.Errorf("%s: %s has mode %o, want %o", filepath.Base(file), name, got, mode)
		}
	}
	for name, m := range mtimes {
		if !m.Equal(commitTime) {
			t.Errorf("%s: %s has mtime %s, want the commit's %s: archives would not be reproducible", filepath.Base(file), name, m, commitTime)
		}
	}
}

//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// readmeBlock returns the first fenced block of lang after the text that
// re matches, as the README shows it.
func readmeBlock(t *testing.T, readme []byte, after, lang string) string {
	t.Helper()
	m := regexp.MustCompile("(?s)" + regexp.QuoteMeta(after) + ".*?```" + lang + "\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README lost its %s block after %q", lang, after)
	}
	return string(m[1])
}

// runRecipe runs a README recipe in bash, as a CI runner would, in dir with
// the plugin on PATH and the rig as the cluster.
func runRecipe(t *testing.T, script, dir, kubeconfig string, env ...string) (stdout string, code int) {
	t.Helper()
	bash := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
	bash.Dir = dir
	bash.Env = append(append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+filepath.Dir(plugin(t))+string(os.PathListSeparator)+os.Getenv("PATH")), env...)
	var out, errOut bytes.Buffer
	bash.Stdout, bash.Stderr = &out, &errOut
	err := bash.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	if code != 0 && code != 1 {
		t.Logf("recipe exit %d, stderr:\n%s", code, errOut.String())
	}
	return out.String(), code
}

// TestReadmeRecipes runs the README's GitHub Actions step and its Monitoring
// recipes as written (TestReadmeCIExample runs the generic CI step), on a
// cluster of their own: the policy covers every node.
func TestReadmeRecipes(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []struct {
		Name string `json:"name"`
		Run  string `json:"run"`
	}
	if err := yaml.UnmarshalStrict([]byte(readmeBlock(t, readme, "GitHub Actions step", "yaml")), &steps); err != nil || len(steps) != 1 {
		t.Fatalf("the README's GitHub Actions step is not one step: %v", err)
	}
	ghStep := steps[0].Run
	policy := readmeBlock(t, readme, "", "yaml\n# coverage.yaml")
	push := readmeBlock(t, readme, "Push to a Pushgateway", "sh")
	textfile := readmeBlock(t, readme, "collector.textfile.directory", "sh")

	r, s := readmeCluster(t, "readme")
	ctx := s.ctx
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "coverage.yaml"), []byte("# coverage.yaml\n"+policy), 0o644); err != nil {
		t.Fatal(err)
	}

	// GitHub Actions: the step as written passes on a healthy cluster ...
	summary := filepath.Join(dir, "step-summary.md")
	out, code := runRecipe(t, ghStep, dir, r.KubeconfigPath, "GITHUB_STEP_SUMMARY="+summary)
	if code != 0 {
		t.Fatalf("the README's GitHub Actions step failed on a healthy cluster: exit %d\n%s", code, out)
	}
	if md, _ := os.ReadFile(summary); !bytes.HasPrefix(md, []byte("## daemoncheck passed")) {
		t.Errorf("step summary:\n%s", md)
	}
	if strings.Contains(out, "::error") {
		t.Errorf("annotations on a healthy cluster:\n%s", out)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "daemoncheck-junit.xml"))
	if err != nil || !bytes.Contains(junit, []byte(`<testsuite name="security/falco"`)) {
		t.Errorf("junit (%v):\n%s", err, junit)
	}

	// ... and annotates and fails once a covered node cannot get its Pod.
	tainted := s.newNode("c")
	tainted.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "true", Effect: corev1.TaintEffectNoSchedule}}
	if _, err := r.Client.CoreV1().Nodes().Create(ctx, tainted, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(strings.Replace(ghStep, "--timeout 10m", "--timeout 20s", 1), "--grace 2m", "--grace 0s", 1)
	if short == ghStep {
		t.Fatal("the README's GitHub Actions step changed: update this test's edits")
	}
	out, code = runRecipe(t, short, dir, r.KubeconfigPath, "GITHUB_STEP_SUMMARY="+summary)
	if code != 1 {
		t.Fatalf("with an uncovered node the step must exit 1, got %d\n%s", code, out)
	}
	if !regexp.MustCompile(`(?m)^::error title=UncoveredNode security/falco on 1 node\(s\)%3A ` + regexp.QuoteMeta(tainted.Name) + `::.*value: "true"`).MatchString(out) {
		t.Errorf("no ::error annotation (with a quoted toleration) for %s:\n%s", tainted.Name, out)
	}
	// The step summary is appended to (GitHub's own file holds every
	// step's): the failing run's report follows the passing one's.
	if md, _ := os.ReadFile(summary); !bytes.Contains(md, []byte("\n## daemoncheck failed")) {
		t.Errorf("step summary:\n%s", md)
	}

	// Monitoring: the Pushgateway recipe PUTs an exposition that parses.
	var mu sync.Mutex
	var pushes []string
	var bodies [][]byte
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		mu.Lock()
		pushes = append(pushes, req.Method+" "+req.URL.Path)
		bodies = append(bodies, body)
		mu.Unlock()
	}))
	defer gw.Close()
	if _, code := runRecipe(t, push, dir, r.KubeconfigPath, "PUSHGATEWAY_URL="+gw.URL); code != 0 {
		t.Fatalf("the README's Pushgateway recipe: exit %d", code)
	}
	mu.Lock()
	if len(pushes) != 1 || pushes[0] != "PUT /metrics/job/daemoncheck" {
		t.Fatalf("pushes %v", pushes)
	}
	checkExposition(t, bodies[0])
	mu.Unlock()

	// ... and the textfile recipe leaves one complete file.
	tf := filepath.Join(dir, "textfile")
	if err := os.Mkdir(tf, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, code := runRecipe(t, textfile, dir, r.KubeconfigPath, "TEXTFILE_DIR="+tf); code != 0 {
		t.Fatalf("the README's textfile recipe: exit %d", code)
	}
	entries, _ := os.ReadDir(tf)
	if len(entries) != 1 || entries[0].Name() != "daemoncheck.prom" {
		t.Fatalf("textfile directory holds %v", entries)
	}
	prom, _ := os.ReadFile(filepath.Join(tf, "daemoncheck.prom"))
	checkExposition(t, prom)
}

// checkExposition parses metrics as Prometheus would and checks falco's
// recomputed desired count: nodes a and b, not the tainted one.
func checkExposition(t *testing.T, body []byte) {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("exposition: %v\n%s", err, body)
	}
	found := false
	for _, m := range fams["daemoncheck_daemonset_desired_number_scheduled"].GetMetric() {
		ls := map[string]string{}
		for _, l := range m.Label {
			ls[l.GetName()] = l.GetValue()
		}
		found = found || (ls["daemonset"] == "falco" && ls["source"] == "recomputed" && m.GetGauge().GetValue() == 2)
	}
	if !found || fams["daemoncheck_last_run_timestamp_seconds"] == nil || fams["daemoncheck_daemonset_findings"] == nil {
		t.Errorf("exposition lacks falco's recomputed desired count 2, the findings or the last run:\n%s", body)
	}
}

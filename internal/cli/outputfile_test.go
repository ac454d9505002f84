package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGoldenCIFormats(t *testing.T) {
	for name, args := range map[string][]string{
		"github.golden":     {"-f", demo, demoNow, "-o", "github", "--fail-on", "error", "--require", "security/falco", "--grace", "5m"},
		"prometheus.golden": {"-f", demo, demoNow, "-o", "prometheus", "--require", "security/falco", "--grace", "5m"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := runCmd(t, "", args...)
			if code != ExitFindings {
				t.Errorf("exit code %d, want %d (stderr %q)", code, ExitFindings, errOut)
			}
			golden(t, name, out)
		})
	}
}

// One run writes stdout and every --output-file, each exactly as -o would
// print it.
func TestOutputFiles(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-f", demo, demoNow, "--fail-on", "error", "--grace", "5m"}
	files := map[string]string{
		"junit":      filepath.Join(dir, "report.xml"),
		"json":       filepath.Join(dir, "report.json"),
		"markdown":   filepath.Join(dir, "summary.md"),
		"prometheus": filepath.Join(dir, "daemoncheck.prom"),
		"github":     filepath.Join(dir, "annotations.txt"),
	}
	args := append([]string{"-o", "wide"}, common...)
	for f, p := range files {
		args = append(args, "--output-file", f+"="+p)
	}
	tmpl := `jsonpath={.summary.failing}`
	args = append(args, "--output-file", tmpl+"="+filepath.Join(dir, "failing.txt"))
	out, errOut, code := runCmd(t, "", args...)
	if code != ExitFindings {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	wide, _, _ := runCmd(t, "", append([]string{"-o", "wide"}, common...)...)
	if out != wide {
		t.Errorf("stdout with --output-file differs from stdout without")
	}
	files[tmpl] = filepath.Join(dir, "failing.txt")
	for f, p := range files {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, _, _ := runCmd(t, "", append([]string{"-o", f}, common...)...)
		if string(got) != want {
			t.Errorf("--output-file %s=%s differs from -o %s:\n%s", f, p, f, got)
		}
	}

	// nodes writes the formats of its view.
	p := filepath.Join(dir, "nodes.json")
	if _, errOut, code := runCmd(t, "", "nodes", "-f", demo, demoNow, "--output-file", "json="+p); code != ExitFindings {
		t.Errorf("nodes --output-file json: exit %d, %q", code, errOut)
	} else if b, _ := os.ReadFile(p); !strings.Contains(string(b), `"kind": "DaemonCheckReport"`) {
		t.Errorf("nodes json file: %.200s", b)
	}
}

func TestOutputFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--output-file", "junit"}, ExitUsage, "write FORMAT=PATH"},
		{[]string{"--output-file", "=x"}, ExitUsage, "write FORMAT=PATH"},
		{[]string{"--output-file", "xml=x"}, ExitUsage, `"xml" is not a known format`},
		{[]string{"--output-file", "jsonpath=x"}, ExitUsage, "jsonpath=TEMPLATE=PATH"},
		{[]string{"--output-file", "json=" + dir + "/a", "--output-file", "yaml=" + dir + "/a"}, ExitUsage, "write the same file"},
		{[]string{"nodes", "--output-file", "junit=" + dir + "/n.xml"}, ExitUsage, "not supported by nodes"},
		{[]string{"--output-file", "junit=" + filepath.Join(dir, "no", "such", "dir.xml")}, ExitInput, "writing --output-file junit="},
		{[]string{"--output-file", "json=/dev/full"}, ExitInput, "no space left on device"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if strings.Contains(strings.Join(tt.args, " "), "/dev/full") {
				if _, err := os.Stat("/dev/full"); err != nil {
					t.Skip("no /dev/full")
				}
			}
			out, errOut, code := runCmd(t, "", append(tt.args, "-f", demo, demoNow)...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
			if tt.code == ExitInput && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("want one line on stderr, got %q", errOut)
			}
			if tt.code == ExitUsage && out != "" {
				t.Errorf("usage error printed a report")
			}
		})
	}
}

// --output-file completes FORMAT= from the registry, per command.
func TestOutputFileCompletion(t *testing.T) {
	out, _, _ := runCmd(t, "", "__complete", "--output-file", "")
	for _, want := range []string{"junit=\n", "prometheus=\n", "github=\n", "json=\n", "jsonpath=\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("root completion lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCmd(t, "", "__complete", "nodes", "--output-file", "")
	if strings.Contains(out, "junit=") || !strings.Contains(out, "json=") {
		t.Errorf("nodes completion:\n%s", out)
	}
}

// ./r.json and r.json are one file; a symbolic link is refused before
// anything is read, and left as it is.
func TestOutputFilePathsAreCleanedAndLinksRefused(t *testing.T) {
	dir := t.TempDir()
	demoAbs, err := filepath.Abs(demo)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	_, errOut, code := runCmd(t, "", "-f", demoAbs, demoNow, "--output-file", "json=./r.json", "--output-file", "yaml=r.json")
	if code != ExitUsage || !strings.Contains(errOut, "write the same file") {
		t.Errorf("./r.json and r.json: exit %d, %q", code, errOut)
	}
	target := filepath.Join(dir, "target.json")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCmd(t, "", "-f", demoAbs, demoNow, "--output-file", "json=link.json")
	if code != ExitUsage || !strings.Contains(errOut, "link.json is a symbolic link") || out != "" {
		t.Errorf("a link: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link's target was written: %q", b)
	}
}

// A file is replaced, never rewritten in place: a reader that opened the
// previous report (node-exporter reading a .prom file) reads it whole, and
// the new one has the old one's permissions. No temporary file is left.
func TestOutputFileIsReplacedWhole(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "daemoncheck.prom")
	old := strings.Repeat("# an earlier exposition\n", 1000)
	if err := os.WriteFile(prom, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	reader, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, errOut, code := runCmd(t, "", "-f", demo, demoNow, "--output-file", "prometheus="+prom); code != ExitFindings {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	if b, _ := io.ReadAll(reader); string(b) != old {
		t.Errorf("a reader of the earlier file read %d bytes of %d: it was rewritten in place", len(b), len(old))
	}
	b, _ := os.ReadFile(prom)
	if !strings.Contains(string(b), "daemoncheck_last_run_timestamp_seconds") {
		t.Errorf("the new exposition was not written:\n%.200s", b)
	}
	if fi, _ := os.Stat(prom); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the earlier file's 0640", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left beside the report: %v", entries)
	}
}

// A run that fails before writing its reports removes the earlier ones: an
// artifact or a .prom file from an earlier, passing run would read as this
// run's result.
func TestFailedRunRemovesEarlierReports(t *testing.T) {
	dir := t.TempDir()
	xml, prom := filepath.Join(dir, "report.xml"), filepath.Join(dir, "daemoncheck.prom")
	for _, p := range []string{xml, prom} {
		if err := os.WriteFile(p, []byte("an earlier pass"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errOut, code := runCmd(t, "", "-f", filepath.Join(dir, "no-such-dump.yaml"), demoNow, "--output-file", "junit="+xml, "--output-file", "prometheus="+prom)
	if code != ExitInput {
		t.Fatalf("exit %d, want %d; stderr %q", code, ExitInput, errOut)
	}
	for _, p := range []string{xml, prom} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there after a failed run (%v)", p, err)
		}
		if !strings.Contains(errOut, "Removed "+p+": the run failed before writing it") {
			t.Errorf("stderr does not say %s was removed:\n%s", p, errOut)
		}
	}
}

// $GITHUB_STEP_SUMMARY is appended to, as each step of a job does: what
// earlier steps wrote stays.
func TestOutputFileAppendsToTheStepSummary(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "step_summary")
	if err := os.WriteFile(summary, []byte("## an earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	if _, errOut, code := runCmd(t, "", "-f", demo, demoNow, "--output-file", "markdown="+dir+"/./step_summary"); code != ExitFindings {
		t.Fatalf("exit %d, %q", code, errOut)
	}
	b, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(b), "## an earlier step\n## daemoncheck failed") {
		t.Errorf("the summary was not appended to:\n%.300s", b)
	}
}

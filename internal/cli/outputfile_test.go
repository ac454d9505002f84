package cli

import (
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

package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// TestMain lets the test binary act as kubectl-daemoncheck (for the shell
// completion test, whose script runs the plugin by that name), or as the
// plugin on a fake cluster.
func TestMain(m *testing.M) {
	if os.Getenv("DAEMONCHECK_TEST_AS_PLUGIN") == "1" {
		streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
		os.Exit(Execute(NewCmdDaemonCheck(streams), os.Stderr))
	}
	if os.Getenv("DAEMONCHECK_TEST_FAKE_CLUSTER") == "1" {
		// The plugin on waitClient's cluster (a daemon Pod missing), for
		// tests that signal a real process.
		cs, _ := waitClient()
		o := NewCheckOptions(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
		o.client = collecttest.New(cs)
		os.Exit(Execute(newRootCommand(o), os.Stderr))
	}
	os.Exit(m.Run())
}

// The bash script of `completion bash` completes
// "kubectl daemoncheck ..." (and leaves other kubectl words to kubectl's
// own completion).
func TestBashCompletionForKubectlPlugin(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	shim := "#!/bin/sh\nDAEMONCHECK_TEST_AS_PLUGIN=1 exec " + self + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "kubectl-daemoncheck"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	demoAbs, _ := filepath.Abs(demo)
	script := `
# the two bash-completion helpers the script uses, minimal
_get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
__fake_kubectl() { COMPREPLY=(kubectl-own); }
complete -F __fake_kubectl kubectl
source <(kubectl-daemoncheck completion bash)
COMP_LINE="kubectl daemoncheck nodes -f $DEMO worker-"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(kubectl daemoncheck nodes -f "$DEMO" worker-); COMP_CWORD=5
__kubectl_daemoncheck_wrap kubectl worker- "$DEMO"
echo "plugin: ${COMPREPLY[*]}"
COMP_LINE="kubectl get po"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=(kubectl get po); COMP_CWORD=2
__kubectl_daemoncheck_wrap kubectl po get
echo "kubectl: ${COMPREPLY[*]}"
`
	c := exec.Command(bash, "-c", script)
	c.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "DEMO="+demoAbs)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := "plugin: worker-1 worker-2 worker-3 worker-4 worker-5 worker-6 worker-7 worker-8\nkubectl: kubectl-own\n"
	if string(out) != want {
		t.Errorf("bash completion:\n%s\nwant:\n%s", out, want)
	}
}

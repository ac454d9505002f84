package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/daemoncheck/daemoncheck/internal/collect/collecttest"
	"github.com/daemoncheck/daemoncheck/test/fixture"
)

// waitClient is the cluster of TestWaitConverges: the second Pod is missing.
func waitClient() (*fake.Clientset, func()) {
	ds := fixture.DaemonSet("ns", "agent")
	ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 2, ObservedGeneration: 1}
	rev := fixture.Revision(&ds, 1)
	n1, n2 := fixture.Node("n1"), fixture.Node("n2")
	p1, p2 := fixture.Pod(&ds, "n1"), fixture.Pod(&ds, "n2")
	cs := fake.NewClientset([]runtime.Object{&ds, &rev, &n1, &n2, &p1}...)
	return cs, func() { _, _ = cs.CoreV1().Pods("ns").Create(context.Background(), &p2, metav1.CreateOptions{}) }
}

// A role without the watch verb: --wait polls as before, and says so.
func TestWaitPollsWhenWatchIsForbidden(t *testing.T) {
	cs, createPod := waitClient()
	cs.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: a.GetResource().Resource}, "", errors.New(`User "ci" cannot watch`))
	})
	go func() {
		time.Sleep(300 * time.Millisecond)
		createPod()
	}()
	_, errOut, code := runFake(t, cs, "--wait", "--interval", "1s", "--timeout", "20s")
	if code != ExitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, errOut)
	}
	if !regexp.MustCompile(`Waiting for daemon coverage: cannot watch \w+ .*verbs: \[get, list, watch\]; polling every 1s\n`).MatchString(errOut) ||
		!strings.Contains(errOut, "Waiting for daemon coverage (polling every 1s): 1 failing finding") || !strings.Contains(errOut, "converged") {
		t.Errorf("progress on stderr:\n%s", errOut)
	}
}

// -w prints the report, then one line per change; an explicit --timeout
// ends it with the exit code of the last report.
func TestWatchPrintsChanges(t *testing.T) {
	cs, createPod := waitClient()
	// stdout is read once the command is done; stderr as it runs.
	var out bytes.Buffer
	errR, errW := io.Pipe()
	o := NewCheckOptions(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: errW})
	o.client = collecttest.New(cs)
	c := newRootCommand(o)
	c.SetArgs([]string{"-w", "--timeout", "3s"})
	c.SetOut(&out)
	c.SetErr(errW)
	code := make(chan int, 1)
	go func() {
		code <- Execute(c, errW)
		errW.Close()
	}()
	var stderr strings.Builder
	sc := bufio.NewScanner(errR)
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if sc.Text() == "Watching for changes (watching); Ctrl-C to stop." {
			createPod()
		}
	}
	if got := <-code; got != ExitOK {
		t.Errorf("exit %d, want 0 (the last report has no findings); stderr:\n%s", got, stderr.String())
	}
	stdout := out.String()
	report, changes, _ := strings.Cut(stdout, "MODIFIED")
	if !strings.Contains(report, "NAMESPACE   NAME") || !strings.Contains(report, "MissingPod") {
		t.Errorf("the report first:\n%s", stdout)
	}
	want := []string{
		"MODIFIED   ns/agent   desired=2 current=2 ready=2 up-to-date=2 available=2",
		"RESOLVED   error   ns/agent   MissingPod   1   n2   no daemon Pod on a targeted node",
		"RESOLVED   warning   ns/agent   StaleStatus   -   -   the status the controller published is stale",
	}
	if got := strings.Split(strings.TrimSpace("MODIFIED"+changes), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestWatchUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		line string
	}{
		{[]string{"-w", "--wait"}, "-w/--watch and --wait cannot be combined"},
		{[]string{"-w", "-f", demo}, "cannot be used with -f"},
		{[]string{"-w", "-o", "json"}, "use the default output or -o wide, not -o json"},
		{[]string{"-w", "--now", "2026-01-02T15:04:05Z"}, "cannot be used with --now"},
		{[]string{"-w", "--output-file", "json=x.json"}, "cannot be combined with --output-file"},
	} {
		_, errOut, code := runFake(t, fake.NewClientset(), tc.args...)
		if code != ExitUsage || !strings.Contains(errOut, tc.line) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, errOut, tc.line)
		}
	}
}

// SIGTERM (a cancelled CI job) or Ctrl-C ends -w with the exit code of the
// last report, with or without --timeout: a rollout still failing is exit
// 1, never a pass. A real process, signalled as a CI runner or a terminal
// would.
func TestWatchExitsWithTheLastReportsCodeOnSignal(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sig  os.Signal
		args []string
	}{
		{syscall.SIGTERM, []string{"-w", "--timeout", "5m"}},
		{os.Interrupt, []string{"-w"}},
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			cmd := exec.Command(self, tc.args...)
			cmd.Env = append(os.Environ(), "DAEMONCHECK_TEST_FAKE_CLUSTER=1")
			var out bytes.Buffer
			cmd.Stdout = &out
			errR, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			guard := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
			defer guard.Stop()
			var stderr strings.Builder
			sc := bufio.NewScanner(errR)
			for sc.Scan() {
				stderr.WriteString(sc.Text() + "\n")
				if strings.HasPrefix(sc.Text(), "Watching for changes") {
					if err := cmd.Process.Signal(tc.sig); err != nil {
						t.Fatal(err)
					}
				}
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitFindings {
				t.Errorf("%v: %v, want exit %d (the last report has a failing finding); stderr:\n%s", tc.args, err, ExitFindings, stderr.String())
			}
			if !strings.Contains(out.String(), "MissingPod") {
				t.Errorf("the report was not printed:\n%s", out.String())
			}
		})
	}
}

//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/daemoncheck/daemoncheck/test/rig"
)

// watchProc is a running `kubectl-daemoncheck -w` (or --wait) whose output
// the test reads as it comes.
type watchProc struct {
	t           *testing.T
	cmd         *exec.Cmd
	out, errOut *lockedBuffer
	done        chan struct{}
	err         error
}

func startPlugin(t *testing.T, kubeconfig string, args ...string) *watchProc {
	t.Helper()
	return startCmd(t, exec.Command(plugin(t), append([]string{"--kubeconfig", kubeconfig}, args...)...))
}

func startCmd(t *testing.T, cmd *exec.Cmd) *watchProc {
	t.Helper()
	p := &watchProc{t: t, cmd: cmd, out: &lockedBuffer{}, errOut: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// mark is where the output stands now: waitLine looks only after it.
func (p *watchProc) mark() int { return len(p.out.String()) }

// waitLine waits for a line of stdout after mark that matches re, and
// returns it and the mark after it.
func (p *watchProc) waitLine(mark int, re string, timeout time.Duration) (string, int) {
	p.t.Helper()
	rx := regexp.MustCompile("(?m)^" + re + "$")
	deadline := time.Now().Add(timeout)
	for {
		out := p.out.String()
		if loc := rx.FindStringIndex(out[mark:]); loc != nil {
			return out[mark+loc[0] : mark+loc[1]], mark + loc[1]
		}
		select {
		case <-p.done:
			p.t.Fatalf("exited (%v) before printing a line matching %q\nstdout:\n%s\nstderr:\n%s", p.err, re, out, p.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no line matching %q within %s\nstdout after the mark:\n%s\nstderr:\n%s", re, timeout, out[mark:], p.errOut.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *watchProc) waitStderr(substr string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.errOut.String(), substr) {
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr never said %q:\n%s", substr, p.errOut.String())
		}
		select {
		case <-p.done:
			p.t.Fatalf("exited (%v) before saying %q on stderr:\n%s", p.err, substr, p.errOut.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// exit waits for the process to end and returns its exit code.
func (p *watchProc) exit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		p.t.Fatalf("did not exit within %s; stderr:\n%s", timeout, p.errOut.String())
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	p.t.Fatal(p.err)
	return -1
}

// interrupt sends Ctrl-C and returns the exit code.
func (p *watchProc) interrupt() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatal(err)
	}
	return p.exit(30 * time.Second)
}

// TestWatchFollowsTheCluster: -w prints a line for each change of a real
// cluster: a Pod crash-loop appears and recovers, a node joins and gets its
// daemon Pod, a rollout goes node by node to done; Ctrl-C ends it with the
// last report's exit code, 0: everything is healthy again.
func TestWatchFollowsTheCluster(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "watch")
	s.plainNodes(2)
	agent := s.newDaemonSet("agent")
	agent.Spec.MinReadySeconds = 3 // each rollout step lasts a few seconds
	s.createDaemonSet(agent)
	s.settle("agent", allReady(2))

	w := startPlugin(t, cluster.KubeconfigPath, "-n", s.name, "-w")
	w.waitStderr("Watching for changes (watching); Ctrl-C to stop.", time.Minute)
	if !strings.Contains(w.out.String(), "agent") {
		t.Fatalf("the report first; stdout:\n%s", w.out.String())
	}
	ds := regexp.QuoteMeta(s.name)
	const long = 2 * time.Minute

	// A crash loop appears ...
	m := w.mark()
	s.createDaemonSet(withCrashLoop(s.newDaemonSet("crashy")))
	_, m = w.waitLine(m, "ADDED   "+ds+"/crashy   desired=.*", long)
	line, m := w.waitLine(m, "APPEARED   \\S+   "+ds+"/crashy   UnhealthyPod   .*", long)
	if !strings.Contains(line, "CrashLoopBackOff") {
		t.Errorf("crash loop line %q", line)
	}
	// ... and recovers once the template is fixed.
	s.updateDaemonSet("crashy", func(d *appsv1.DaemonSet) { delete(d.Spec.Template.Labels, rig.CrashLoopLabel) })
	w.waitLine(m, "RESOLVED   \\S+   "+ds+"/crashy   UnhealthyPod   .*CrashLoopBackOff.*", long)
	_, m = w.waitLine(m, "MODIFIED   "+ds+"/crashy   desired=2 current=2 ready=2 up-to-date=2 available=2", long)
	if err := cluster.Client.AppsV1().DaemonSets(s.name).Delete(s.ctx, "crashy", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	_, m = w.waitLine(m, "DELETED   "+ds+"/crashy   .*", long)

	// A node joins and gets its daemon Pod.
	s.createNodes(false, s.newNode("n2"))
	_, m = w.waitLine(m, "MODIFIED   "+ds+"/agent   desired=3 current=3 ready=3 up-to-date=3 available=3", long)

	// A rollout, node by node (maxUnavailable 1), to done.
	s.updateDaemonSet("agent", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.Containers[0].Image += "-v2" })
	_, m1 := w.waitLine(m, "MODIFIED   "+ds+"/agent   desired=3 .* up-to-date=1 .*", long)
	_, m2 := w.waitLine(m1, "MODIFIED   "+ds+"/agent   desired=3 .* up-to-date=2 .*", long)
	w.waitLine(m2, "MODIFIED   "+ds+"/agent   desired=3 current=3 ready=3 up-to-date=3 available=3", long)
	w.waitLine(m, "APPEARED   \\S+   "+ds+"/agent   OutdatedPod   .*", long)
	w.waitLine(m, "RESOLVED   \\S+   "+ds+"/agent   OutdatedPod   .*", long)

	// Ctrl-C: the last report's exit code (all healthy), everything printed.
	if code := w.interrupt(); code != 0 {
		t.Errorf("Ctrl-C: exit %d, want 0; stderr:\n%s", code, w.errOut.String())
	}
	if strings.Contains(w.errOut.String(), "error:") {
		t.Errorf("stderr:\n%s", w.errOut.String())
	}
	t.Logf("watch output:\n%s", w.out.String())
}

// TestWatchSurvivesAPIServerRestart: the API server is stopped and started
// again (as in an upgrade); the watch reconnects by itself and still
// reports what changes afterwards.
func TestWatchSurvivesAPIServerRestart(t *testing.T) {
	t.Parallel()
	r, err := rig.Start(t, rig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	s := &scenario{t: t, ctx: ctx, name: "restart"}
	if err := r.CreateNamespace(ctx, s.name, nil); err != nil {
		t.Fatal(err)
	}
	for _, short := range []string{"a", "b"} {
		if _, err := r.Client.CoreV1().Nodes().Create(ctx, s.newNode(short), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Client.AppsV1().DaemonSets(s.name).Create(ctx, s.newDaemonSet("agent"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, r.Client, s.name, "agent", 2)

	w := startPlugin(t, r.KubeconfigPath, "-n", s.name, "-w")
	w.waitStderr("Watching for changes (watching)", time.Minute)
	m := w.mark()
	start := time.Now()
	if err := r.RestartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("API server restarted in %s", time.Since(start).Round(time.Millisecond))
	if _, err := r.Client.AppsV1().DaemonSets(s.name).Create(ctx, withCrashLoop(s.newDaemonSet("crashy")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	line, _ := w.waitLine(m, "APPEARED   \\S+   restart/crashy   UnhealthyPod   .*", 2*time.Minute)
	if !strings.Contains(line, "CrashLoopBackOff") {
		t.Errorf("line %q", line)
	}
	// Ctrl-C: the exit code of the last report, which has the crash loop.
	if code := w.interrupt(); code != 1 {
		t.Errorf("Ctrl-C: exit %d, want 1 (the last report fails); stderr:\n%s", code, w.errOut.String())
	}
	t.Logf("stderr:\n%s", w.errOut.String())
}

// waitReady waits until the DaemonSet's controller reports n available
// Pods. (Ready is not enough with minReadySeconds: a rollout started before
// they are available replaces them all at once, as unavailable Pods.)
func waitReady(t *testing.T, cs kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && ds.Status.NumberAvailable == n && ds.Status.DesiredNumberScheduled == n && ds.Status.ObservedGeneration == ds.Generation, nil
	})
	if err != nil {
		t.Fatalf("%s/%s never had %d ready Pods: %v", ns, name, n, err)
	}
}

// TestWaitPollsWithoutWatchVerb: a user whose role has get and list but no
// watch still gets --wait: it polls, says so, and converges once the
// crash-looping template is fixed.
// noWatchUser is the user TestWaitPollsWithoutWatchVerb binds a watch-less
// ClusterRole to, acting as it through impersonation (the admin may): the
// rig's one viewer token belongs to tests that need it to hold a namespaced
// Role only, and a cluster-wide binding would leak into them.
const noWatchUser = "daemoncheck-e2e-no-watch"

func TestWaitPollsWithoutWatchVerb(t *testing.T) {
	t.Parallel()
	s := newScenario(t, "wait-poll")
	s.plainNodes(2)
	s.createDaemonSet(withCrashLoop(s.newDaemonSet("agent")))

	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "daemoncheck-e2e-no-watch"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"apps"}, Resources: []string{"daemonsets", "controllerrevisions"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{""}, Resources: []string{"nodes", "pods", "events"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{"scheduling.k8s.io"}, Resources: []string{"priorityclasses"}, Verbs: []string{"get", "list"}},
			// The node-plugin registrations, read once (never watched).
			{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"csinodes", "csidrivers"}, Verbs: []string{"get", "list"}},
			{APIGroups: []string{"resource.k8s.io"}, Resources: []string{"resourceslices"}, Verbs: []string{"get", "list"}},
		},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "daemoncheck-e2e-no-watch"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: noWatchUser}},
	}
	if _, err := cluster.Client.RbacV1().ClusterRoles().Create(s.ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Client.RbacV1().ClusterRoles().Delete(context.Background(), role.Name, metav1.DeleteOptions{})
	})
	if _, err := cluster.Client.RbacV1().ClusterRoleBindings().Create(s.ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Client.RbacV1().ClusterRoleBindings().Delete(context.Background(), binding.Name, metav1.DeleteOptions{})
	})
	// RBAC changes reach the authorizer's cache within moments.
	if err := wait.PollUntilContextTimeout(s.ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		res := execPlugin(t, nil, "--kubeconfig", cluster.KubeconfigPath, "--as", noWatchUser, "-n", s.name, "-o", "json")
		return res.code == 0 || res.code == 1, nil
	}); err != nil {
		t.Fatal("the watch-less role never took effect")
	}

	w := startPlugin(t, cluster.KubeconfigPath, "--as", noWatchUser, "-n", s.name, "--wait", "--timeout", "3m", "--interval", "1s", "--fail-on", "error", "-o", "json")
	w.waitStderr("UnhealthyPod", 2*time.Minute)
	s.updateDaemonSet("agent", func(d *appsv1.DaemonSet) { delete(d.Spec.Template.Labels, rig.CrashLoopLabel) })
	if code := w.exit(4 * time.Minute); code != 0 {
		t.Fatalf("exit %d, want 0 once the rollout converged; stderr:\n%s", code, w.errOut.String())
	}
	stderr := w.errOut.String()
	if !regexp.MustCompile(`cannot watch \w+ .*verbs: \[get, list, watch\]; polling every 1s`).MatchString(stderr) ||
		!strings.Contains(stderr, "Waiting for daemon coverage (polling every 1s): ") || !strings.Contains(stderr, "converged") ||
		strings.Contains(stderr, "(watching)") {
		t.Errorf("progress on stderr:\n%s", stderr)
	}
}

// TestReadmeWatch runs the README's watch recipe during the rollout it
// shows, and its --wait recipe started during that rollout, and checks the
// output against what the README shows: a line of the same event for the
// same DaemonSet and problem (or counts) for every line shown, and the
// progress lines of --wait.
func TestReadmeWatch(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	watchRecipe := readmeBlock(t, readme, "To follow a rollout for at most ten minutes", "sh")
	shown := readmeBlock(t, readme, "After the report it prints", "text")
	waitRecipe := readmeBlock(t, readme, "`--wait` watches the same way", "sh")
	progress := readmeBlock(t, readme, "its progress on stderr", "text")
	shortWatch := strings.Replace(watchRecipe, "--timeout 10m", "--timeout 45s", 1)
	shortWait := strings.Replace(waitRecipe, "--timeout 10m", "--timeout 3m", 1)
	if shortWatch == watchRecipe || shortWait == waitRecipe {
		t.Fatal("the README's watch recipes changed: update this test's edits")
	}

	s := newScenario(t, "readme-watch")
	s.plainNodes(3)
	ds := s.newDaemonSet("node-exporter")
	ds.Namespace = "monitoring"
	ds.Spec.MinReadySeconds = 3
	if err := cluster.CreateNamespace(s.ctx, "monitoring", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cluster.Client.CoreV1().Namespaces().Delete(context.Background(), "monitoring", metav1.DeleteOptions{})
	})
	if _, err := cluster.Client.AppsV1().DaemonSets("monitoring").Create(s.ctx, ds, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, cluster.Client, "monitoring", "node-exporter", 3)

	bash := func(script string) *watchProc {
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", script)
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "KUBECONFIG="+cluster.KubeconfigPath, "PATH="+filepath.Dir(plugin(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
		return startCmd(t, cmd)
	}
	w := bash(shortWatch)
	w.waitStderr("Watching for changes (watching)", time.Minute)
	// The rollout the README shows, and --wait started during it.
	err = wait.PollUntilContextTimeout(s.ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		d, err := cluster.Client.AppsV1().DaemonSets("monitoring").Get(ctx, "node-exporter", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		d.Spec.Template.Spec.Containers[0].Image = "registry.example/node-exporter:2"
		d, err = cluster.Client.AppsV1().DaemonSets("monitoring").Update(ctx, d, metav1.UpdateOptions{})
		if err == nil {
			t.Logf("rollout: node-exporter at generation %d", d.Generation)
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	waiter := bash(shortWait)
	if code := waiter.exit(4 * time.Minute); code != 0 {
		t.Fatalf("the README's --wait recipe: exit %d, want 0 once the rollout is done\nstderr:\n%s", code, waiter.errOut.String())
	}
	if code := w.exit(2 * time.Minute); code != 0 {
		t.Fatalf("the README's watch recipe: exit %d, want 0 (--timeout passed, the rollout is done)\nstderr:\n%s", code, w.errOut.String())
	}

	got := w.out.String()
	for _, l := range strings.Split(strings.TrimSpace(shown), "\n") {
		f := strings.Split(l, "   ")
		kind := regexp.QuoteMeta(f[2])
		if strings.HasPrefix(f[2], "desired=") {
			kind = `desired=\S+`
		}
		if !regexp.MustCompile(fmt.Sprintf(`(?m)^%s   %s   %s`, regexp.QuoteMeta(f[0]), regexp.QuoteMeta(f[1]), kind)).MatchString(got) {
			t.Errorf("the README shows %q; the recipe printed no such line:\n%s\nstderr:\n%s", l, got, w.errOut.String())
		}
	}
	// Each progress line the README shows, up to its numbers (which
	// depend on where the rollout was when --wait read it).
	stderr := waiter.errOut.String()
	for _, l := range strings.Split(strings.TrimSpace(progress), "\n") {
		prefix, _, _ := strings.Cut(l, ": ")
		if strings.HasPrefix(l, "daemon coverage converged after") {
			prefix = "daemon coverage converged after"
		}
		if !regexp.MustCompile("(?m)^" + regexp.QuoteMeta(prefix)).MatchString(stderr) {
			t.Errorf("the README shows %q; --wait said nothing like it:\n%s", l, stderr)
		}
	}
	t.Logf("watch:\n%s\n--wait:\n%s", got, stderr)
}

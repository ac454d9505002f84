// Package rig starts a real, single-machine Kubernetes control plane for the
// e2e suite and for `make demo-live`: etcd, kube-apiserver,
// kube-controller-manager (with the DaemonSet controller), kube-scheduler and
// kwok (fake kubelets that make nodes Ready and run Pods).
//
// The binaries are built from Go modules by `make e2e-deps`
// (test/controlplane/build.sh) and cached outside the repository, keyed by
// version. Everything binds to 127.0.0.1 on free ports and writes only to a
// temporary directory; Stop kills every process group the rig started.
package rig

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"

	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Versions the rig is built from. They key the binary cache; a unit test
// checks they match test/controlplane/go.mod and build.sh.
const (
	KubernetesVersion = "v1.37.2"
	KwokVersion       = "v0.8.0"
)

// AdminToken is the static bearer token of the rig's cluster-admin user
// ("admin", group system:masters).
const AdminToken = "daemoncheck-e2e-admin-token"

// ViewerToken authenticates the user "viewer" (no groups, so no
// permissions beyond what a test binds to it with RBAC). Use
// KubeconfigForToken to write a kubeconfig for it.
const (
	ViewerToken = "daemoncheck-e2e-viewer-token"
	ViewerUser  = "viewer"
)

// FakeNodeAnnotation marks the nodes kwok manages. Nodes without it are left
// alone (no heartbeat, no Pod lifecycle): useful for NotReady nodes.
const (
	FakeNodeAnnotation      = "kwok.x-k8s.io/node"
	FakeNodeAnnotationValue = "fake"
)

// ImagePullErrorLabel on a Pod makes kwok report it as a kubelet would for
// an image that cannot be pulled: Pending, containers waiting in
// ImagePullBackOff.
const ImagePullErrorLabel = "daemoncheck.e2e/image-pull-error"

// FrozenNodeAnnotation (any value) on a kwok node stops kwok's node
// heartbeat and initialization for it, so a test can write the node's
// conditions itself (NotReady, NetworkUnavailable, ...) while kwok still runs
// its Pods. Set it after the node became Ready. The node lifecycle controller
// judges such a node by the heartbeat the test writes; raise
// --node-monitor-grace-period if it must not turn Unknown.
const FrozenNodeAnnotation = "daemoncheck.e2e/frozen"

// CrashLoopLabel on a Pod (set it in a DaemonSet's Pod template) makes kwok
// report every container of the Pod as crash-looping (Running phase, not
// Ready, waiting in CrashLoopBackOff with restarts) instead of Ready.
const CrashLoopLabel = "daemoncheck.e2e/crashloop"

// DefaultControllers are the kube-controller-manager controllers the rig runs.
var DefaultControllers = []string{
	"daemonset-controller",
	"garbage-collector-controller",
	"serviceaccount-token-controller",
	"serviceaccount-controller",
	"namespace-controller",
	"node-lifecycle-controller",
	"taint-eviction-controller",
	"pod-garbage-collector-controller",
}

// Options tune a rig. The zero value is a complete cluster.
type Options struct {
	// Controllers replaces DefaultControllers (e.g. to leave out
	// pod-garbage-collector-controller so orphaned Pods stay).
	Controllers []string
	// AuditLog turns on the API server audit log: every request at Metadata
	// level, as JSON lines in Rig.AuditLogPath.
	AuditLog bool
	// Dir is the working directory (default: a new temporary directory,
	// removed by Stop unless KeepDir).
	Dir     string
	KeepDir bool
	// Extra flags appended to each component's command line.
	ExtraAPIServerArgs         []string
	ExtraControllerManagerArgs []string
	ExtraSchedulerArgs         []string
	ExtraKwokArgs              []string
	// Logf receives progress messages (default: tb.Logf, or nothing).
	Logf func(format string, args ...any)
}

// Rig is a running control plane.
type Rig struct {
	// Dir holds certificates, data, logs and the kubeconfig.
	Dir            string
	KubeconfigPath string
	// AuditLogPath is set when Options.AuditLog is on.
	AuditLogPath string
	Config       *rest.Config
	Client       kubernetes.Interface
	// BinDir is where the component binaries were found.
	BinDir string
	// APIServerURL is https://127.0.0.1:<port>.
	APIServerURL string

	opts     Options
	logf     func(format string, args ...any)
	mu       sync.Mutex
	procs    map[string]*process
	order    []string
	stopOnce sync.Once
	rmDir    bool
	saKey    string
	caFile   string
	// apiArgs are kube-apiserver's flags, kept for RestartAPIServer.
	apiArgs []string
}

// BinDir returns where the rig's binaries are expected: $DAEMONCHECK_RIG_BIN,
// or <user cache dir>/daemoncheck/rig/k8s-<ver>-kwok-<ver>/bin.
func BinDir() (string, error) {
	if d := os.Getenv("DAEMONCHECK_RIG_BIN"); d != "" {
		return d, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("rig: no user cache dir (set DAEMONCHECK_RIG_BIN): %w", err)
	}
	return filepath.Join(cache, "daemoncheck", "rig", "k8s-"+KubernetesVersion+"-kwok-"+KwokVersion, "bin"), nil
}

var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// CheckBinaries returns the binary directory, or an error that says how to
// build what is missing.
func CheckBinaries() (string, error) {
	dir, err := BinDir()
	if err != nil {
		return "", err
	}
	var missing []string
	for _, b := range binaries {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "kwok-stages")); err != nil {
		missing = append(missing, "kwok-stages/")
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("rig: missing %s in %s: run `make e2e-deps` first (the first build takes ~7-10 minutes; later runs are instant)", strings.Join(missing, ", "), dir)
	}
	return dir, nil
}

// Start brings up the whole control plane and returns when the API server is
// ready, the controllers run and kwok manages nodes. With a non-nil tb the
// rig is stopped by tb.Cleanup, and component logs are printed if tb failed;
// without one the caller must call Stop.
func Start(tb testing.TB, opts Options) (_ *Rig, err error) {
	if tb != nil {
		tb.Helper()
	}
	bin, err := CheckBinaries()
	if err != nil {
		return nil, err
	}
	r := &Rig{BinDir: bin, opts: opts, procs: map[string]*process{}}
	r.logf = opts.Logf
	if r.logf == nil {
		if tb != nil {
			r.logf = tb.Logf
		} else {
			r.logf = func(string, ...any) {}
		}
	}
	if opts.Dir != "" {
		r.Dir = opts.Dir
		if err := os.MkdirAll(r.Dir, 0o755); err != nil {
			return nil, err
		}
	} else {
		d, err := os.MkdirTemp("", "daemoncheck-rig-")
		if err != nil {
			return nil, err
		}
		r.Dir = d
		r.rmDir = !opts.KeepDir
	}
	if tb != nil {
		tb.Cleanup(func() {
			if tb.Failed() {
				r.DumpLogs(tb.Logf, 40)
			}
			r.Stop()
		})
	}
	defer func() {
		if err != nil && tb == nil {
			r.DumpLogs(func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }, 40)
			r.Stop()
		}
	}()

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if err := r.startEtcd(ctx); err != nil {
		return r, err
	}
	if err := r.startAPIServer(ctx); err != nil {
		return r, err
	}
	if err := r.startControllerManager(ctx); err != nil {
		return r, err
	}
	if err := r.startScheduler(); err != nil {
		return r, err
	}
	if err := r.startKwok(); err != nil {
		return r, err
	}
	// A bad flag or config makes these exit at once.
	time.Sleep(300 * time.Millisecond)
	for _, name := range []string{"kube-controller-manager", "kube-scheduler", "kwok"} {
		if err := r.exited(name); err != nil {
			return r, err
		}
	}
	r.logf("rig: control plane up in %s (dir %s)", time.Since(start).Round(time.Millisecond), r.Dir)
	return r, nil
}

// Stop kills every component (process group, SIGTERM then SIGKILL) and removes
// the working directory unless it was given or KeepDir is set. It is safe to
// call more than once.
func (r *Rig) Stop() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		names := append([]string(nil), r.order...)
		r.mu.Unlock()
		// Clients first (in parallel: nothing here needs a graceful
		// shutdown), etcd last.
		var wg sync.WaitGroup
		var etcd *process
		for _, name := range names {
			r.mu.Lock()
			p := r.procs[name]
			r.mu.Unlock()
			if p == nil {
				continue
			}
			if name == "etcd" {
				etcd = p
				continue
			}
			wg.Add(1)
			go func() { defer wg.Done(); p.stop() }()
		}
		wg.Wait()
		if etcd != nil {
			etcd.stop()
		}
		if r.rmDir {
			_ = os.RemoveAll(r.Dir)
		}
	})
}

// StopControllerManager stops kube-controller-manager (the DaemonSet
// controller stops acting) until RestartControllerManager.
func (r *Rig) StopControllerManager() {
	r.mu.Lock()
	p := r.procs["kube-controller-manager"]
	r.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

// RestartControllerManager starts kube-controller-manager again (with the
// same options), stopping it first if it runs.
func (r *Rig) RestartControllerManager() error {
	r.StopControllerManager()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return r.startControllerManager(ctx)
}

// LogPath returns the log file of a component (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok).
func (r *Rig) LogPath(component string) string {
	return filepath.Join(r.Dir, "logs", component+".log")
}

// DumpLogs prints the last n lines of every component's log.
func (r *Rig) DumpLogs(logf func(format string, args ...any), n int) {
	for _, name := range binaries {
		data, err := os.ReadFile(r.LogPath(name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		logf("---- %s (last %d lines of %s) ----\n%s", name, len(lines), r.LogPath(name), strings.Join(lines, "\n"))
	}
}

func (r *Rig) path(elem ...string) string {
	return filepath.Join(append([]string{r.Dir}, elem...)...)
}

func (r *Rig) run(name string, args []string, env []string) error {
	if err := os.MkdirAll(r.path("logs"), 0o755); err != nil {
		return err
	}
	p, err := startProcess(filepath.Join(r.BinDir, name), args, env, r.LogPath(name))
	if err != nil {
		return fmt.Errorf("rig: start %s: %w", name, err)
	}
	r.mu.Lock()
	if _, ok := r.procs[name]; !ok {
		r.order = append(r.order, name)
	}
	r.procs[name] = p
	r.mu.Unlock()
	return nil
}

func (r *Rig) exited(name string) error {
	r.mu.Lock()
	p := r.procs[name]
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("rig: %s exited (%v); see %s:\n%s", name, p.err, r.LogPath(name), tail(r.LogPath(name), 30))
	default:
		return nil
	}
}

func (r *Rig) startEtcd(ctx context.Context) error {
	client, peer, err := freePorts2()
	if err != nil {
		return err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", client)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peer)
	args := []string{
		"--name=rig",
		"--data-dir=" + r.path("etcd"),
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=rig=" + peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}
	if err := r.run("etcd", args, nil); err != nil {
		return err
	}
	r.opts.ExtraAPIServerArgs = append([]string{"--etcd-servers=" + clientURL}, r.opts.ExtraAPIServerArgs...)
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		if err := r.exited("etcd"); err != nil {
			return false, err
		}
		resp, err := http.Get(clientURL + "/health")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

func (r *Rig) startAPIServer(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	certDir := r.path("pki")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	r.saKey = r.path("pki", "sa.key")
	if err := writeRSAKey(r.saKey); err != nil {
		return err
	}
	tokens := r.path("pki", "tokens.csv")
	if err := os.WriteFile(tokens, []byte(AdminToken+`,admin,admin,"system:masters"`+"\n"+ViewerToken+","+ViewerUser+","+ViewerUser+"\n"), 0o600); err != nil {
		return err
	}
	args := []string{
		"--advertise-address=127.0.0.1",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--endpoint-reconciler-type=none",
		"--cert-dir=" + certDir,
		"--token-auth-file=" + tokens,
		"--service-account-key-file=" + r.saKey,
		"--service-account-signing-key-file=" + r.saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC",
		"--profiling=false",
		"--storage-media-type=application/vnd.kubernetes.protobuf",
	}
	if r.opts.AuditLog {
		policy := r.path("audit-policy.yaml")
		if err := os.WriteFile(policy, []byte(auditPolicy), 0o644); err != nil {
			return err
		}
		r.AuditLogPath = r.path("audit.log")
		args = append(args,
			"--audit-policy-file="+policy,
			"--audit-log-path="+r.AuditLogPath,
			"--audit-log-format=json",
			"--audit-log-mode=blocking",
		)
	}
	args = append(args, r.opts.ExtraAPIServerArgs...)
	r.apiArgs = args
	if err := r.run("kube-apiserver", args, nil); err != nil {
		return err
	}
	r.APIServerURL = fmt.Sprintf("https://127.0.0.1:%d", port)
	r.caFile = filepath.Join(certDir, "apiserver.crt")
	// The serving certificate is generated at startup.
	if err := r.waitAPIServerReady(ctx); err != nil {
		return err
	}
	ca, err := os.ReadFile(r.caFile)
	if err != nil {
		return fmt.Errorf("rig: read serving certificate: %w", err)
	}
	r.Config = &rest.Config{
		Host:            r.APIServerURL,
		BearerToken:     AdminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             200,
		Burst:           400,
	}
	r.Client, err = kubernetes.NewForConfig(r.Config)
	if err != nil {
		return err
	}
	r.KubeconfigPath = r.path("kubeconfig")
	if err := os.WriteFile(r.KubeconfigPath, []byte(r.kubeconfig()), 0o600); err != nil {
		return err
	}
	// A request through the verified client proves the kubeconfig works.
	if _, err := r.Client.Discovery().ServerVersion(); err != nil {
		return fmt.Errorf("rig: kube-apiserver certificate check: %w", err)
	}
	return nil
}

// waitAPIServerReady waits for /readyz with the admin token (without
// checking the serving certificate, which may not exist yet).
func (r *Rig) waitAPIServerReady(ctx context.Context) error {
	insecure := &rest.Config{Host: r.APIServerURL, BearerToken: AdminToken, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 5 * time.Second}
	hc, err := rest.HTTPClientFor(insecure)
	if err != nil {
		return err
	}
	err = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(context.Context) (bool, error) {
		if err := r.exited("kube-apiserver"); err != nil {
			return false, err
		}
		req, _ := http.NewRequest(http.MethodGet, r.APIServerURL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+AdminToken)
		resp, err := hc.Do(req)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("rig: kube-apiserver not ready: %w\n%s", err, tail(r.LogPath("kube-apiserver"), 30))
	}
	return nil
}

// RestartAPIServer stops kube-apiserver (SIGTERM, as an upgrade does) and
// starts it again with the same flags: the same port, certificates, tokens
// and etcd, so clients reconnect to the same URL. It returns once the new
// process is ready. Stopping the API server of the shared e2e rig would
// break every test running beside: use a rig of your own.
func (r *Rig) RestartAPIServer() error {
	r.mu.Lock()
	p := r.procs["kube-apiserver"]
	r.mu.Unlock()
	if p != nil {
		p.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.run("kube-apiserver", r.apiArgs, nil); err != nil {
		return err
	}
	return r.waitAPIServerReady(ctx)
}

// KubeconfigForToken writes a kubeconfig for the rig's API server that
// authenticates with token (e.g. ViewerToken) and returns its path.
func (r *Rig) KubeconfigForToken(name, token string) (string, error) {
	path := r.path("kubeconfig-" + name)
	return path, os.WriteFile(path, []byte(r.kubeconfigWith(token)), 0o600)
}

func (r *Rig) kubeconfig() string { return r.kubeconfigWith(AdminToken) }

func (r *Rig) kubeconfigWith(token string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: rig
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: admin
  user:
    token: %s
contexts:
- name: rig
  context:
    cluster: rig
    user: admin
current-context: rig
`, r.APIServerURL, r.caFile, token)
}

func (r *Rig) startControllerManager(ctx context.Context) error {
	controllers := r.opts.Controllers
	if len(controllers) == 0 {
		controllers = DefaultControllers
	}
	args := []string{
		"--kubeconfig=" + r.KubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0",
		"--controllers=" + strings.Join(controllers, ","),
		"--service-account-private-key-file=" + r.saKey,
		"--root-ca-file=" + r.caFile,
		"--use-service-account-credentials=false",
		"--concurrent-daemonset-syncs=5",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
	}
	args = append(args, r.opts.ExtraControllerManagerArgs...)
	if err := r.run("kube-controller-manager", args, nil); err != nil {
		return err
	}
	// Ready when it runs for a moment and (if the serviceaccount controller
	// runs) the default ServiceAccount exists.
	wantSA := false
	for _, c := range controllers {
		if c == "serviceaccount-controller" {
			wantSA = true
		}
	}
	return wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := r.exited("kube-controller-manager"); err != nil {
			return false, err
		}
		if !wantSA {
			return true, nil
		}
		_, err := r.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

func (r *Rig) startScheduler() error {
	args := []string{
		"--kubeconfig=" + r.KubeconfigPath,
		"--leader-elect=false",
		"--secure-port=0",
		"--kube-api-qps=200",
		"--kube-api-burst=400",
	}
	args = append(args, r.opts.ExtraSchedulerArgs...)
	return r.run("kube-scheduler", args, nil)
}

func (r *Rig) startKwok() error {
	cfg, err := r.kwokConfig()
	if err != nil {
		return err
	}
	path := r.path("kwok.yaml")
	if err := os.WriteFile(path, cfg, 0o644); err != nil {
		return err
	}
	home := r.path("kwok-home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	args := []string{
		"--kubeconfig=" + r.KubeconfigPath,
		"--config=" + path,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=" + FakeNodeAnnotationValue,
		"--node-ip=10.0.0.1",
		"--cidr=10.200.0.0/16",
	}
	args = append(args, r.opts.ExtraKwokArgs...)
	// HOME points into the rig dir so a user's ~/.kwok config is not merged in.
	return r.run("kwok", args, []string{"HOME=" + home})
}

// kwokConfig concatenates kwok's own node/pod Stage objects (copied from the
// kwok module by build.sh) with the rig's crash-loop stage.
func (r *Rig) kwokConfig() ([]byte, error) {
	dir := filepath.Join(r.BinDir, "kwok-stages")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("rig: no kwok stages in %s: run `make e2e-deps`", dir)
	}
	var buf bytes.Buffer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if base := filepath.Base(f); base == "node-initialize.yaml" || base == "node-heartbeat.yaml" {
			data, err = addFrozenNodeSelector(data)
			if err != nil {
				return nil, fmt.Errorf("rig: %s: %w", f, err)
			}
		}
		buf.WriteString("---\n")
		buf.Write(bytes.TrimSpace(data))
		buf.WriteString("\n")
	}
	buf.WriteString("---\n")
	buf.WriteString(crashLoopStage)
	buf.WriteString("---\n")
	buf.WriteString(imagePullErrorStage)
	return buf.Bytes(), nil
}

// addFrozenNodeSelector makes a node Stage skip nodes annotated with
// FrozenNodeAnnotation.
func addFrozenNodeSelector(stage []byte) ([]byte, error) {
	const anchor = "  selector:\n    matchExpressions:\n"
	if !bytes.Contains(stage, []byte(anchor)) {
		return nil, errors.New("no selector.matchExpressions to extend")
	}
	extra := anchor + "    - key: '.metadata.annotations[\"" + FrozenNodeAnnotation + "\"]'\n      operator: 'DoesNotExist'\n"
	return bytes.Replace(stage, []byte(anchor), []byte(extra), 1), nil
}

// crashLoopStage is the rig's own kwok Stage: a Pending Pod labelled
// CrashLoopLabel=true becomes Running with every container waiting in
// CrashLoopBackOff. Its positive weight makes kwok choose it over the
// (weightless) pod-ready stage.
const crashLoopStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: daemoncheck-pod-crashloop
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.labels["` + CrashLoopLabel + `"]'
      operator: 'In'
      values: ['true']
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.spec.nodeName'
      operator: 'Exists'
  weight: 1000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 7
        lastState:
          terminated:
            exitCode: 1
            reason: Error
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
        state:
          waiting:
            reason: CrashLoopBackOff
            message: back-off 5m0s restarting failed container
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
`

// imagePullErrorStage is the rig's own kwok Stage for ImagePullErrorLabel.
// The Pod stays Pending, so the stage keeps matching (and keeps winning over
// pod-ready by weight); its timestamps come from the Pod itself, so applying
// it again changes nothing and causes no update loop.
const imagePullErrorStage = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: daemoncheck-pod-image-pull-error
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.labels["` + ImagePullErrorLabel + `"]'
      operator: 'In'
      values: ['true']
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.spec.nodeName'
      operator: 'Exists'
  weight: 1000
  next:
    statusTemplate: |
      {{ $now := .metadata.creationTimestamp }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "False"
        reason: ContainersNotReady
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: false
        restartCount: 0
        state:
          waiting:
            reason: ImagePullBackOff
            message: {{ printf "Back-off pulling image %s" .image | Quote }}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      phase: Pending
      startTime: {{ $now | Quote }}
`

// auditPolicy logs every request at Metadata level.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Metadata
`

// CreateNamespace creates a namespace (if needed) and waits for its default
// ServiceAccount (Pods are rejected until it exists).
func (r *Rig) CreateNamespace(ctx context.Context, name string, labels map[string]string) error {
	_, err := r.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := r.Client.CoreV1().ServiceAccounts(name).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

func writeRSAKey(path string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return os.WriteFile(path, data, 0o600)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func freePorts2() (int, int, error) {
	a, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer b.Close()
	return a.Addr().(*net.TCPAddr).Port, b.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

package cli

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/watcher"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/serve"
	"github.com/daemoncheck/daemoncheck/internal/serverurl"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

var serveExample = `  # In the cluster (a Deployment with plugins/rbac.yaml): metrics on :8080
  kubectl daemoncheck serve

  # From a workstation, against the kubeconfig's cluster, on another port
  kubectl daemoncheck serve --listen-address 127.0.0.1:9808

  # Coverage rules from a ConfigMap mount (reloaded on change); warnings fail
  kubectl daemoncheck serve --policy /etc/daemoncheck/policy.yaml \
    --fail-on warning

  # HTTPS with a mounted certificate (re-read when renewed)
  kubectl daemoncheck serve --tls-cert-file /tls/tls.crt \
    --tls-private-key-file /tls/tls.key`

// ServeOptions are the flags of `kubectl daemoncheck serve`.
type ServeOptions struct {
	*deps
	sourceFlags
	gateFlags
	ListenAddress string
	TLSCertFile   string
	TLSKeyFile    string
	MaxNodeSeries int
	// interval is serve's own: the root command's --interval has another
	// default.
	interval time.Duration

	cfg serve.Config
}

// NewCmdServe builds `kubectl daemoncheck serve`: the audit kept current by
// watches, served as Prometheus metrics, probes and a page.
func NewCmdServe(d *deps) *cobra.Command {
	o := &ServeOptions{deps: d, sourceFlags: newSourceFlags(), gateFlags: newGateFlags(), ListenAddress: ":8080", MaxNodeSeries: serve.DefaultMaxNodeSeries, interval: serve.DefaultInterval}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Keep auditing; serve the result as Prometheus metrics and a page",
		Long: `Read every DaemonSet, Node and daemon Pod, then watch them, analyse again on
every change and every --interval, and serve the last complete analysis:

  /metrics   Prometheus metrics (README, "Monitoring")
  /healthz   200 while the process runs
  /readyz    200 once the first analysis is complete
  /          the report as a page

It only reads (the ClusterRole of plugins/rbac.yaml); in a Pod it uses its
ServiceAccount unless a kubeconfig is given. A --policy file is read again when
it changes. SIGTERM stops it.

Exit codes: 0 stopped by SIGTERM or Ctrl-C, 2 usage error, 3 cannot listen or
no cluster configuration.`,
		Example: serveExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("serve takes no arguments, got %s; select DaemonSets with -l or -n", strings.Join(args, " "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.ListenAddress, "listen-address", o.ListenAddress, "Address (host:port) to serve on.")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", "", "Serve HTTPS with this certificate (PEM), re-read on change.")
	fs.StringVar(&o.TLSKeyFile, "tls-private-key-file", "", "The private key of --tls-cert-file (PEM).")
	fs.DurationVar(&o.interval, "interval", o.interval, fmt.Sprintf("Analyse again after this long without a change (at least %s).", MinInterval))
	fs.IntVar(&o.MaxNodeSeries, "max-node-series", o.MaxNodeSeries, "At most this many per-node finding series; 0: no limit.")
	o.addSelectFlags(fs, "DaemonSets")
	o.addReadFlags(fs)
	o.addPolicyFlags(fs)
	o.addGateFlags(fs)
	fs.Lookup("fail-on").Usage = "Findings the failing-findings metric counts."
	d.addVerbosityFlag(fs)
	d.addConnectionFlags(cmd)
	registerGateCompletion(cmd)
	comp := completer(d, &o.sourceFlags)
	_ = cmd.RegisterFlagCompletionFunc("namespace", comp.Namespaces)
	_ = cmd.RegisterFlagCompletionFunc("require", comp.Require)
	hideUnusedFlags(fs)
	return cmd
}

// Complete checks the flags and resolves them into the server's
// configuration.
func (o *ServeOptions) Complete(cmd *cobra.Command) error {
	configureLogging(o.Verbosity, o.ErrOut)
	switch {
	case o.interval < MinInterval:
		return usageErrorf("--interval must be at least %s, got %s", MinInterval, o.interval)
	case o.ChunkSize < 0:
		return usageErrorf("--chunk-size must be 0 or more, got %d", o.ChunkSize)
	case o.MaxNodeSeries < 0:
		return usageErrorf("--max-node-series must be 0 or more, got %d", o.MaxNodeSeries)
	case (o.TLSCertFile == "") != (o.TLSKeyFile == ""):
		return usageErrorf("--tls-cert-file and --tls-private-key-file go together: give both or neither")
	}
	if _, _, err := net.SplitHostPort(o.ListenAddress); err != nil {
		return usageErrorf("--listen-address %q: %v; write e.g. :8080 or 127.0.0.1:8080", o.ListenAddress, err)
	}
	if o.Selector != "" {
		if _, err := labels.Parse(o.Selector); err != nil {
			return usageErrorf("invalid --selector %q: %v", o.Selector, err)
		}
	}
	// A policy that does not parse at start is a usage error; later, a
	// reload that fails keeps the rules in force.
	if _, err := o.completePolicy(); err != nil {
		return err
	}
	gate, err := o.completeGate()
	if err != nil {
		return err
	}
	read := collect.Options{LabelSelector: o.Selector, ChunkSize: o.ChunkSize}
	if cmd.Flags().Changed("namespace") && !o.AllNamespaces {
		read.Namespace = o.ConfigFlags.Namespace()
	}
	src, err := o.source(cmd, read)
	if err != nil {
		return err
	}
	var files []string
	if o.PolicyFile != "" {
		files = []string{o.PolicyFile}
	}
	o.cfg = serve.Config{
		ListenAddress: o.ListenAddress,
		TLSCertFile:   o.TLSCertFile,
		TLSKeyFile:    o.TLSKeyFile,
		Source:        src,
		ReadTimeout:   o.Timeout,
		Interval:      o.interval,
		Gate:          gate,
		ServerVersion: o.ServerVersion,
		Selection:     selection(read),
		LoadPolicy:    func() (*policy.Policy, error) { return o.completePolicy() },
		PolicyFiles:   files,
		MaxNodeSeries: o.MaxNodeSeries,
		Page:          o.page,
		Log:           log.New(o.ErrOut, "", log.LstdFlags),
	}
	return nil
}

// source builds the reads and watches from the connection flags: the
// kubeconfig, or in a Pod without one, the ServiceAccount (clientcmd's
// in-cluster fallback, as kubectl has it).
func (o *ServeOptions) source(cmd *cobra.Command, read collect.Options) (serve.Source, error) {
	client, watchClient, host := o.client, o.client, "https://test"
	requestTimeout := DefaultRequestTimeout
	if client == nil {
		cfg, err := o.ConfigFlags.ToRESTConfig()
		if err != nil {
			return serve.Source{}, inputErrorf("loading kubeconfig: %v (use --kubeconfig, or run in a Pod with a ServiceAccount)", err)
		}
		host = serverurl.Redact(cfg.Host)
		given := cmd.Flags().Changed("request-timeout")
		if client, err = newClient(cfg, given); err != nil {
			return serve.Source{}, inputErrorf("creating a client for %s: %v", host, err)
		}
		if watchClient, requestTimeout, err = newWatchClient(cfg, given); err != nil {
			return serve.Source{}, inputErrorf("creating a client for %s: %v", host, err)
		}
	}
	return serve.Source{
		Read: func(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error) {
			opts := read
			opts.Cursor = cur
			return collect.Live(ctx, client, host, opts)
		},
		Watch: func(ctx context.Context, snap *model.Snapshot, cur *collect.Cursor, status func(error)) (*watcher.Watcher, error) {
			return watcher.Start(ctx, watchClient, snap, cur, watcher.Options{Read: read, RequestTimeout: requestTimeout, Status: status})
		},
	}, nil
}

// Run serves until SIGTERM or Ctrl-C (exit 0).
func (o *ServeOptions) Run(parent context.Context) error {
	if parent == nil {
		parent = context.Background()
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	serveGC()
	srv, err := serve.New(o.cfg)
	if err != nil {
		return usageErrorf("%v", err)
	}
	if err := srv.Run(ctx); err != nil {
		return inputErrorf("%v", err)
	}
	return nil
}

// page renders / as the -o html report, reloading itself at the
// analysis interval so a screen left open stays current.
func (o *ServeOptions) page(w io.Writer, rep *report.Report) error {
	return render.HTMLPage(w, rep, render.HTMLOptions{Title: "daemoncheck serve", Refresh: o.interval})
}

// serveGCPercent is serve's garbage collection target when GOGC is not
// set. Go's default (100) lets the heap grow to twice what is live before
// collecting; a one-shot audit exits before that matters, but serve lives
// as long as its Pod, and its memory limit must hold the high-water mark.
// At 5,000 nodes (make bench, serve phase) serve's RSS was 1.74x the
// one-shot audit's peak with the default; the target is 1.5x. The cost is
// more frequent collections between changes, when serve is idle anyway.
const serveGCPercent = 50

// serveGC sets serve's GC target unless the user chose one with GOGC.
func serveGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}

// Package serve is `kubectl daemoncheck serve`: a long-running audit that
// reads the cluster once, keeps the snapshot current with watches (the
// machinery of -w: watcher.Start, audit.Memo), analyses again on every
// change and as time passes, and serves the last complete analysis on one
// port: Prometheus metrics (/metrics), liveness (/healthz), readiness
// (/readyz) and a page (/). It only ever reads from the cluster.
package serve

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/collect/watcher"
	"github.com/daemoncheck/daemoncheck/internal/model"
	"github.com/daemoncheck/daemoncheck/internal/policy"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// Source is where snapshots come from: the command builds it from the
// cluster's clients, tests from whatever they like.
type Source struct {
	// Read is a full read (collect.Live), bounded by ctx; it records in
	// cur, when set, where the lists stood, for Watch to carry on from.
	Read func(ctx context.Context, cur *collect.Cursor) (*model.Snapshot, error)
	// Watch carries the read that produced snap forward (watcher.Start);
	// status is told when the watches are interrupted (an error) and back
	// (nil). Nil Watch: poll with Read every Interval.
	Watch func(ctx context.Context, snap *model.Snapshot, cur *collect.Cursor, status func(error)) (*watcher.Watcher, error)
}

// Config is what serve runs with, resolved by the command: typed values, no
// flag names.
type Config struct {
	// ListenAddress is host:port (":8080").
	ListenAddress string
	// TLSCertFile and TLSKeyFile, both set, serve HTTPS; the pair is
	// read again when either file changes (cert-manager renewals).
	TLSCertFile, TLSKeyFile string

	Source Source
	// ReadTimeout bounds each full read (the first, and each poll).
	ReadTimeout time.Duration
	// Interval: how often the analysis is redone without a change (ages,
	// --grace and minReadySeconds move with time), and the poll period
	// when watches are refused.
	Interval time.Duration
	// ReloadInterval: how often the policy files are checked for a change
	// (a ConfigMap mount swaps a symlink; its mtime says nothing).
	ReloadInterval time.Duration

	// Gate judges the findings (--fail-on, --ignore, --grace).
	Gate report.Gate
	// ServerVersion, when set, overrides the version the rules follow.
	ServerVersion string
	// Selection says how the DaemonSets read were narrowed (-n, -l).
	Selection string
	// LoadPolicy reads the coverage rules (--require, --policy); it is
	// called again when one of PolicyFiles changes.
	LoadPolicy  func() (*policy.Policy, error)
	PolicyFiles []string
	// MaxNodeSeries bounds daemoncheck_node_findings (0: unbounded).
	MaxNodeSeries int

	// Page renders the report at /; nil: no page.
	Page func(io.Writer, *report.Report) error
	// Log receives one line per event worth an operator's attention.
	Log *log.Logger
}

// Defaults for the zero Config fields.
const (
	DefaultInterval       = 30 * time.Second
	DefaultReloadInterval = 5 * time.Second
	DefaultReadTimeout    = 5 * time.Minute
	DefaultMaxNodeSeries  = 1000
	// shutdownGrace is how long in-flight requests get after SIGTERM; the
	// kubelet's default termination grace is 30 s.
	shutdownGrace = 10 * time.Second
)

// Server is a running serve.
type Server struct {
	cfg      Config
	st       *state
	registry *prometheus.Registry
	handler  http.Handler
	log      *log.Logger
}

// New checks cfg and builds the server; Run starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Source.Read == nil {
		return nil, errors.New("serve: no source to read")
	}
	if cfg.LoadPolicy == nil {
		cfg.LoadPolicy = func() (*policy.Policy, error) { return &policy.Policy{}, nil }
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ReloadInterval <= 0 {
		cfg.ReloadInterval = DefaultReloadInterval
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("a TLS certificate and its private key go together: give both or neither")
	}
	if cfg.Gate.FailOn.IsZero() {
		cfg.Gate.FailOn = report.DefaultGate().FailOn
	}
	s := &Server{cfg: cfg, st: &state{failOn: strings.Join(cfg.Gate.FailOn.Values(), ",")}, log: cfg.Log}
	s.registry = newRegistry(s.st)
	s.handler = s.routes()
	return s, nil
}

// newRegistry holds what /metrics serves: the analysis and the process'
// state, and the Go runtime's and the process' own series (memory, CPU,
// file descriptors), which say whether serve stays within its limits.
func newRegistry(st *state) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collector{st}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler is the server's HTTP handler (for tests).
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Errors in a scrape are the collector's own (it only copies series):
	// answer with what could be gathered rather than nothing.
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError, MaxRequestsInFlight: 4, Timeout: 30 * time.Second,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, why := s.st.ready(); !ok {
			plain(w, http.StatusServiceUnavailable, "not ready: "+why)
			return
		}
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /{$}", s.page)
	return mux
}

// page renders the last complete report; into a buffer first, so that a
// failed render is a clean 500 rather than half a page.
func (s *Server) page(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Page == nil {
		http.NotFound(w, nil)
		return
	}
	p := s.st.latest.Load()
	if p == nil {
		_, why := s.st.ready()
		plain(w, http.StatusServiceUnavailable, "not ready: "+why)
		return
	}
	var buf bytes.Buffer
	if err := s.cfg.Page(&buf, p.report); err != nil {
		s.log.Printf("rendering the page: %v", err)
		plain(w, http.StatusInternalServerError, "rendering the page failed")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(buf.Bytes())
}

func plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

// Run listens, follows the cluster and serves until ctx ends (SIGTERM),
// then stops accepting, lets in-flight requests finish (shutdownGrace) and
// stops the watches. It returns an error only when it cannot listen.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.ListenAddress)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.ListenAddress, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller made.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          s.log,
	}
	if s.cfg.TLSCertFile != "" {
		certs, err := newCertReloader(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			_ = ln.Close()
			return err
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: certs.get}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	scheme := "http"
	if srv.TLSConfig != nil {
		scheme = "https"
	}
	s.log.Printf("serving %s://%s (/metrics, /healthz, /readyz, /)", scheme, ln.Addr())

	followCtx, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		s.follow(followCtx)
	}()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
		// The listener failed under us: stop following too.
	}
	stopFollow()
	shut, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if serr := srv.Shutdown(shut); serr != nil && err == nil {
		err = serr
	}
	<-followed
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	s.log.Printf("stopped")
	return err
}

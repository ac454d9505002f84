// Package fleet audits several clusters (kubeconfig contexts) in one run:
// each with a client of its own, in parallel, each judged by the same gate
// as a single run, gathered into one report.FleetReport. A cluster that
// cannot be read is reported with its error and never hides the others.
package fleet

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/kubeflags"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/serverurl"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// DefaultMaxParallelClusters bounds how many clusters are read at once: each
// read runs 4 lists in parallel and holds the cluster's objects until its
// analysis is done (~300 MB at 5,000 nodes), so more than a few at once buys
// little on a laptop or a CI runner and costs memory.
const DefaultMaxParallelClusters = 4

// Cluster is one context of the fleet, resolved.
type Cluster struct {
	Context string
	Host    string
	Client  collect.Client
	// Namespace is where a NAME given without -n is looked for: the
	// context's own namespace, as kubectl does.
	Namespace string
	// Err says why the context could not be made into a client (it is
	// reported as the cluster's error; the others still run).
	Err error
}

// maxListedContexts bounds the contexts an error lists.
const maxListedContexts = 20

// Select resolves --contexts (names and shell patterns) against the
// kubeconfig's contexts, in natural order, each once. A name or pattern
// that selects nothing is an error naming the contexts there are.
func Select(available, patterns []string) ([]string, error) {
	names.Sort(available)
	exists := map[string]bool{}
	for _, a := range available {
		exists[a] = true
	}
	picked := map[string]bool{}
	for _, p := range patterns {
		if exists[p] {
			// A name is a name even if it holds a pattern character.
			picked[p] = true
			continue
		}
		if !strings.ContainsAny(p, `*?[\`) {
			return nil, fmt.Errorf("--contexts: no context %q in the kubeconfig; it has %s", p, listContexts(available))
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("--contexts %q is not a valid pattern (shell patterns: * ? [a-z])", p)
		}
		matched := false
		for _, a := range available {
			if globMatch(p, a) {
				picked[a], matched = true, true
			}
		}
		if !matched {
			return nil, fmt.Errorf("--contexts: no context matches %q in the kubeconfig; it has %s", p, listContexts(available))
		}
	}
	var out []string
	for _, a := range available {
		if picked[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

// globMatch is shell pattern matching over a whole context name. path.Match
// stops * and ? at "/", which context names contain (EKS names them
// arn:aws:eks:REGION:ACCOUNT:cluster/NAME); matching with "/" replaced by a
// byte no name holds lets them match it too.
func globMatch(pattern, name string) bool {
	ok, _ := path.Match(strings.ReplaceAll(pattern, "/", "\x00"), strings.ReplaceAll(name, "/", "\x00"))
	return ok
}

func listContexts(available []string) string {
	if len(available) <= maxListedContexts {
		return strings.Join(available, ", ")
	}
	return fmt.Sprintf("%s and %d more (kubectl config get-contexts)", strings.Join(available[:maxListedContexts], ", "), len(available)-maxListedContexts)
}

// Connect builds one context's client from a configuration of its own:
// flags are every connection flag (--kubeconfig, --as, --request-timeout,
// -n, ...) with that context (kubeflags.ConfigFlags.ForContext: a fresh
// loader, no cached config), and the client gets an http transport of its
// own and its own discovery, so no credential, connection or server
// information crosses between clusters. contextNamespace: a NAME without -n
// is looked for in the context's namespace.
func Connect(name string, flags *kubeflags.ConfigFlags, contextNamespace bool, newClient func(*rest.Config) (collect.Client, error)) Cluster {
	c := Cluster{Context: name}
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		c.Err = fmt.Errorf("loading the context from the kubeconfig: %s", text.OneLine(err.Error()))
		return c
	}
	c.Host = serverurl.Redact(cfg.Host)
	if contextNamespace {
		if c.Namespace, _, err = flags.ToRawKubeConfigLoader().Namespace(); err != nil {
			c.Err = fmt.Errorf("reading the context's namespace: %s", text.OneLine(err.Error()))
			return c
		}
	}
	isolateTransport(cfg)
	if c.Client, err = newClient(cfg); err != nil {
		c.Err = fmt.Errorf("creating a client for %s: %s", c.Host, text.OneLine(err.Error()))
	}
	return c
}

// isolateTransport gives the cluster's client an http transport of its own.
// client-go shares one transport between configurations with equal TLS
// settings (its TLS cache: two clusters with the same CA, or both
// insecure) and uses http.DefaultTransport for plain http. A proxy function
// cannot be compared, so a configuration with one is never shared; it is
// the function the transport uses when none is set, so nothing else changes.
func isolateTransport(cfg *rest.Config) {
	if cfg.Proxy == nil {
		cfg.Proxy = http.ProxyFromEnvironment
	}
}

// Options say how a fleet is audited.
type Options struct {
	// Parallel is how many clusters are read at once.
	Parallel int
	// Start is the fleet report's time.
	Start time.Time
	// Timeout is the run's --timeout, which ctx's deadline is (it words
	// the error of a cluster that never had its turn).
	Timeout time.Duration
	// Progress, when set, is told how many clusters are done (a terminal).
	Progress io.Writer
}

// Audit is one cluster's audit: its report, and failure, when set, why the
// cluster counts as not audited (the report, if any, is still shown).
type Audit func(ctx context.Context, c *Cluster) (rep *report.Report, failure string)

// Run audits every cluster, at most opts.Parallel at once and in name
// order, all within ctx's deadline, and gathers the fleet report.
func Run(ctx context.Context, clusters []Cluster, opts Options, audit Audit) *report.FleetReport {
	results := make([]report.ClusterReport, len(clusters))
	// Workers take the clusters in order, so which ones wait for a turn
	// does not depend on goroutine scheduling.
	next := make(chan int, len(clusters))
	for i := range clusters {
		next <- i
	}
	close(next)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(opts.Parallel, len(clusters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = auditOne(ctx, &clusters[i], opts, audit)
				if opts.Progress != nil {
					mu.Lock()
					done++
					fmt.Fprintf(opts.Progress, "\r\033[Kaudited %d of %d clusters", done, len(clusters))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if opts.Progress != nil {
		fmt.Fprint(opts.Progress, "\r\033[K")
	}
	return report.NewFleet(opts.Start, results)
}

// auditOne audits a cluster that has a client and still has time.
func auditOne(ctx context.Context, c *Cluster, opts Options, audit Audit) report.ClusterReport {
	res := report.ClusterReport{Context: c.Context, Server: c.Host}
	switch {
	case c.Err != nil:
		res.Error = c.Err.Error()
	case ctx.Err() != nil:
		res.Error = fmt.Sprintf("not read: --timeout %s passed before its turn (--max-parallel-clusters %d)", opts.Timeout, opts.Parallel)
	default:
		res.Report, res.Error = audit(ctx, c)
	}
	return res
}

// Warn writes each cluster's warnings and error to w, naming its context.
func Warn(w io.Writer, fr *report.FleetReport) {
	for _, c := range fr.Clusters {
		if c.Report != nil {
			for _, msg := range c.Report.Warnings {
				fmt.Fprintf(w, "Warning: context %s: %s\n", text.Terminal(c.Context), text.Terminal(msg))
			}
		}
		if c.Error != "" {
			fmt.Fprintf(w, "error: context %s: %s\n", text.Terminal(c.Context), text.Terminal(c.Error))
		}
	}
}

// Verdict is the fleet's: failing, the clusters with failing findings;
// incomplete, whether any could not be audited or is partial.
func Verdict(fr *report.FleetReport) (failing int, incomplete bool) {
	return fr.Summary.Failed, fr.Summary.Partial+fr.Summary.Errors > 0
}

package cli

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/names"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/serverurl"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// A fleet audit reads several clusters (kubeconfig contexts) in one run:
// each with a client of its own, in parallel, each judged by the same gate as
// a single run, and printed together (report.FleetReport). A cluster that
// cannot be read is reported with its error and never hides the others.

// DefaultMaxParallelClusters bounds how many clusters are read at once: each
// read runs 4 lists in parallel and holds the cluster's objects until its
// analysis is done (~300 MB at 5,000 nodes), so more than a few at once buys
// little on a laptop or a CI runner and costs memory.
const DefaultMaxParallelClusters = 4

// fleetFlags are the flags of a fleet audit.
type fleetFlags struct {
	Contexts            []string
	AllContexts         bool
	MaxParallelClusters int
}

func newFleetFlags() fleetFlags { return fleetFlags{MaxParallelClusters: DefaultMaxParallelClusters} }

// fleetRun is the resolved fleet: Run reads nothing else.
type fleetRun struct {
	clusters []fleetCluster
	parallel int
}

// fleetCluster is one context of the fleet, resolved.
type fleetCluster struct {
	context string
	host    string
	client  collect.Client
	// namespace is where a NAME given without -n is looked for: the
	// context's own namespace, as kubectl does.
	namespace string
	// err says why the context could not be made into a client (it is
	// reported as the cluster's error; the others still run).
	err error
}

func (o *fleetFlags) addFlags(cmd *cobra.Command, d *deps) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Contexts, "contexts", nil, "Audit these kubeconfig contexts (names or 'prod-*').")
	fs.BoolVar(&o.AllContexts, "all-contexts", false, "Audit every kubeconfig context.")
	fs.IntVar(&o.MaxParallelClusters, "max-parallel-clusters", o.MaxParallelClusters, "Clusters read at once.")
	_ = cmd.RegisterFlagCompletionFunc("contexts", completer{deps: d}.completeContextList)
}

// flagChanged says whether the command has the flag and it was given.
func flagChanged(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Changed
}

// fleetFlagged says whether the command line asks for several clusters.
func fleetFlagged(cmd *cobra.Command) bool {
	return flagChanged(cmd, "contexts") || flagChanged(cmd, "all-contexts")
}

// fleetRequested says whether the run is a fleet audit, and refuses the
// flags that cannot go with one.
func (o *fleetFlags) requested(cmd *cobra.Command, wait bool) (bool, error) {
	if !fleetFlagged(cmd) {
		if flagChanged(cmd, "max-parallel-clusters") {
			return false, usageErrorf("--max-parallel-clusters goes with --contexts or --all-contexts")
		}
		return false, nil
	}
	flag := "--contexts"
	if o.AllContexts {
		flag = "--all-contexts"
	}
	switch {
	case flagChanged(cmd, "contexts") && o.AllContexts:
		return true, usageErrorf("--contexts and --all-contexts cannot be combined: give one (--contexts 'prod-*' selects contexts by name)")
	case flagChanged(cmd, "context"):
		return true, usageErrorf("--context names one cluster and %s several: give one", flag)
	case flagChanged(cmd, "cluster") || flagChanged(cmd, "server"):
		return true, usageErrorf("%s reads each context's own cluster; --cluster and --server would send every context to one: drop them", flag)
	case flagChanged(cmd, "filename"):
		return true, usageErrorf("%s reads clusters and -f reads files: give one", flag)
	case wait:
		return true, usageErrorf("--wait follows one cluster and cannot be used with %s: run one --wait per cluster (--context NAME)", flag)
	case flagChanged(cmd, "watch"):
		return true, usageErrorf("--watch follows one cluster and cannot be used with %s: run one per cluster (--context NAME)", flag)
	case o.MaxParallelClusters < 1:
		return true, usageErrorf("--max-parallel-clusters must be at least 1, got %d", o.MaxParallelClusters)
	}
	if !o.AllContexts && len(o.Contexts) == 0 {
		// --contexts "$UNSET" in CI must not silently audit nothing.
		return true, usageErrorf("--contexts must not be empty; name contexts or patterns, e.g. --contexts 'prod-*'")
	}
	for _, c := range o.Contexts {
		if c == "" {
			return true, usageErrorf("--contexts has an empty name; name contexts or patterns, e.g. --contexts 'prod-*'")
		}
	}
	return true, nil
}

// printerFor resolves -o for one cluster or for a fleet.
func printerFor(output string, view render.View, pf *render.PrintFlags, fleet bool) (*render.Printer, error) {
	if fleet {
		return render.ForFleetOutput(output, view, pf)
	}
	return render.ForOutput(output, view, pf)
}

// completeFleet resolves the selected contexts into one client each.
// name is the DaemonSet NAME (detail view) or ""; without -n it is looked
// for in each context's namespace.
func (o *runner) completeFleet(cmd *cobra.Command, fl *fleetFlags, name string, explicitNS bool) error {
	loader := o.ConfigFlags.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return inputErrorf("loading kubeconfig: %s", text.OneLine(err.Error()))
	}
	available := make([]string, 0, len(raw.Contexts))
	for c := range raw.Contexts {
		available = append(available, c)
	}
	if len(available) == 0 {
		where := "the kubeconfig"
		if files := loader.ConfigAccess().GetLoadingPrecedence(); len(files) > 0 {
			where += " (" + strings.Join(files, ", ") + ")"
		}
		return inputErrorf("%s has no contexts to audit", where)
	}
	patterns := fl.Contexts
	if fl.AllContexts {
		patterns = []string{"*"}
	}
	selected, err := selectContexts(available, patterns)
	if err != nil {
		return err
	}
	run := &fleetRun{parallel: fl.MaxParallelClusters}
	timeoutGiven := cmd.Flags().Changed("request-timeout")
	for _, c := range selected {
		run.clusters = append(run.clusters, o.newFleetCluster(c, name != "" && !explicitNS, timeoutGiven))
	}
	o.run.fleet = run
	return nil
}

// maxListedContexts bounds the contexts an error lists.
const maxListedContexts = 20

// selectContexts resolves --contexts (names and shell patterns) against the
// kubeconfig's contexts, in natural order, each once. A name or pattern
// that selects nothing is a usage error naming the contexts there are.
func selectContexts(available, patterns []string) ([]string, error) {
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
			return nil, usageErrorf("--contexts: no context %q in the kubeconfig; it has %s", p, listContexts(available))
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, usageErrorf("--contexts %q is not a valid pattern (shell patterns: * ? [a-z])", p)
		}
		matched := false
		for _, a := range available {
			if globMatch(p, a) {
				picked[a], matched = true, true
			}
		}
		if !matched {
			return nil, usageErrorf("--contexts: no context matches %q in the kubeconfig; it has %s", p, listContexts(available))
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

// newFleetCluster builds one context's client from a configuration of its
// own: clientcmd with that context and every other connection flag
// (--kubeconfig, --as, --request-timeout, -n, ...), a fresh loader (no
// cached config), an http transport of its own and its own discovery, so no
// credential, connection or server information crosses between clusters.
func (o *runner) newFleetCluster(name string, contextNamespace, requestTimeoutGiven bool) fleetCluster {
	c := fleetCluster{context: name}
	flags := o.ConfigFlags.ForContext(name)
	cfg, err := flags.ToRESTConfig()
	if err != nil {
		c.err = fmt.Errorf("loading the context from the kubeconfig: %s", text.OneLine(err.Error()))
		return c
	}
	c.host = serverurl.Redact(cfg.Host)
	if contextNamespace {
		if c.namespace, _, err = flags.ToRawKubeConfigLoader().Namespace(); err != nil {
			c.err = fmt.Errorf("reading the context's namespace: %s", text.OneLine(err.Error()))
			return c
		}
	}
	isolateTransport(cfg)
	if o.clusterClient != nil {
		c.client, err = o.clusterClient(name, cfg)
	} else {
		c.client, err = newClient(cfg, requestTimeoutGiven)
	}
	if err != nil {
		c.err = fmt.Errorf("creating a client for %s: %s", c.host, text.OneLine(err.Error()))
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

// runFleet reads and analyses every cluster, at most parallel at once and
// in name order, all within the run's deadline (ctx), prints the fleet report and returns its
// exit code: 1 if any cluster has failing findings, else 3 if any could not
// be audited or is partial.
func (o *runner) runFleet(ctx context.Context) error {
	run := o.run.fleet
	start := o.run.now
	if o.run.liveClock {
		start = time.Now()
	}
	results := make([]report.ClusterReport, len(run.clusters))
	// Workers take the clusters in order, so which ones wait for a turn
	// does not depend on goroutine scheduling.
	next := make(chan int, len(run.clusters))
	for i := range run.clusters {
		next <- i
	}
	close(next)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	for range min(run.parallel, len(run.clusters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = o.auditCluster(ctx, &run.clusters[i])
				if o.run.progress {
					mu.Lock()
					done++
					fmt.Fprintf(o.ErrOut, "\r\033[Kaudited %d of %d clusters", done, len(run.clusters))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if o.run.progress {
		fmt.Fprint(o.ErrOut, "\r\033[K")
	}
	fr := report.NewFleet(start, results)
	for _, c := range fr.Clusters {
		if c.Report != nil {
			for _, w := range c.Report.Warnings {
				fmt.Fprintf(o.ErrOut, "Warning: context %s: %s\n", text.Terminal(c.Context), text.Terminal(w))
			}
		}
		if c.Error != "" {
			fmt.Fprintf(o.ErrOut, "error: context %s: %s\n", text.Terminal(c.Context), text.Terminal(c.Error))
		}
	}
	if err := o.printFleet(fr); err != nil {
		return err
	}
	switch {
	case fr.Summary.Failed > 0:
		return ErrFindings
	case fr.Summary.Partial+fr.Summary.Errors > 0:
		return ErrPartial
	}
	return nil
}

// auditCluster audits one cluster with a copy of the run's options that
// reads this cluster only.
func (o *runner) auditCluster(ctx context.Context, fc *fleetCluster) report.ClusterReport {
	res := report.ClusterReport{Context: fc.context, Server: fc.host}
	switch {
	case fc.err != nil:
		res.Error = fc.err.Error()
		return res
	case ctx.Err() != nil:
		res.Error = fmt.Sprintf("not read: --timeout %s passed before its turn (--max-parallel-clusters %d)", o.run.timeout, o.run.fleet.parallel)
		return res
	}
	c := *o
	c.run.client, c.run.host, c.run.progress = fc.client, fc.host, false
	if fc.namespace != "" {
		c.run.read.Namespace = fc.namespace
	}
	rep, err := c.audit(ctx, false)
	if err != nil {
		res.Error = text.OneLine(err.Error())
		return res
	}
	if rep, err = view.Project(rep, view.Projection{KubeContext: fc.context, SortBy: o.run.sortBy}); err != nil {
		res.Error = text.OneLine(err.Error())
		return res
	}
	res.Report = rep
	// The single run's verdict beyond the findings: -l that matched no
	// DaemonSet has audited nothing.
	if ee, ok := c.exitFor(rep).(*ExitError); ok && !ee.Silent {
		res.Error = ee.Error()
	}
	return res
}

// printFleet renders the fleet report, then its --output-file copies.
func (o *runner) printFleet(fr *report.FleetReport) error {
	return o.printWith(fr.GeneratedAt, func(p *render.Printer, w *bufio.Writer, po render.Options) error {
		return p.PrintFleet(w, fr, po)
	})
}

// completeContextList completes --contexts: context names from the
// kubeconfig (no cluster access), after the comma-separated ones typed.
func (o completer) completeContextList(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return commaCompletions(toComplete, o.kubeconfigContexts())
}

package cli

import (
	"bufio"
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/fleet"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/text"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

// The fleet flags (--contexts, --all-contexts, --max-parallel-clusters) and
// their resolution into one client per context; package fleet audits them.

// fleetFlags are the flags of a fleet audit.
type fleetFlags struct {
	Contexts            []string
	AllContexts         bool
	MaxParallelClusters int
}

func newFleetFlags() fleetFlags {
	return fleetFlags{MaxParallelClusters: fleet.DefaultMaxParallelClusters}
}

// fleetRun is the resolved fleet: Run reads nothing else.
type fleetRun struct {
	clusters []fleet.Cluster
	parallel int
}

func (o *fleetFlags) addFlags(cmd *cobra.Command, d *deps) {
	fs := cmd.Flags()
	fs.StringSliceVar(&o.Contexts, "contexts", nil, "Audit these kubeconfig contexts (names or 'prod-*').")
	fs.BoolVar(&o.AllContexts, "all-contexts", false, "Audit every kubeconfig context.")
	fs.IntVar(&o.MaxParallelClusters, "max-parallel-clusters", o.MaxParallelClusters, "Clusters read at once.")
	_ = cmd.RegisterFlagCompletionFunc("contexts", completer(d, nil).ContextList)
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
	selected, err := fleet.Select(available, patterns)
	if err != nil {
		return usageErrorf("%v", err)
	}
	run := &fleetRun{parallel: fl.MaxParallelClusters}
	timeoutGiven := cmd.Flags().Changed("request-timeout")
	for _, c := range selected {
		run.clusters = append(run.clusters, o.newFleetCluster(c, name != "" && !explicitNS, timeoutGiven))
	}
	o.run.fleet = run
	return nil
}

// newFleetCluster builds one context's client (fleet.Connect) with the
// connection flags set to that context.
func (o *runner) newFleetCluster(name string, contextNamespace, requestTimeoutGiven bool) fleet.Cluster {
	return fleet.Connect(name, o.ConfigFlags.ForContext(name), contextNamespace, func(cfg *rest.Config) (collect.Client, error) {
		if o.clusterClient != nil {
			return o.clusterClient(name, cfg)
		}
		return newClient(cfg, requestTimeoutGiven)
	})
}

// runFleet reads and analyses every cluster (fleet.Run) within the run's
// deadline (ctx), prints the fleet report and returns its exit code: 1 if
// any cluster has failing findings, else 3 if any could not be audited or
// is partial.
func (o *runner) runFleet(ctx context.Context) error {
	opts := fleet.Options{Parallel: o.run.fleet.parallel, Start: o.run.judge.now, Timeout: o.run.timeout}
	if o.run.judge.liveClock {
		opts.Start = time.Now()
	}
	if o.run.out.progress {
		opts.Progress = o.ErrOut
	}
	fr := fleet.Run(ctx, o.run.fleet.clusters, opts, o.auditCluster)
	fleet.Warn(o.ErrOut, fr)
	if err := o.printFleet(fr); err != nil {
		return err
	}
	return verdictExit(fleet.Verdict(fr))
}

// auditCluster audits one cluster with a copy of the run's options that
// reads this cluster only, projected for its context; failure is the error
// that makes the cluster count as not audited.
func (o *runner) auditCluster(ctx context.Context, fc *fleet.Cluster) (*report.Report, string) {
	c := *o
	c.run.src.client, c.run.src.host, c.run.out.progress = fc.Client, fc.Host, false
	if fc.Namespace != "" {
		c.run.src.read.Namespace = fc.Namespace
	}
	rep, err := c.audit(ctx, false)
	if err != nil {
		return nil, text.OneLine(err.Error())
	}
	if rep, err = view.Project(rep, view.Projection{KubeContext: fc.Context, SortBy: o.run.out.sortBy}); err != nil {
		return nil, text.OneLine(err.Error())
	}
	// The single run's verdict beyond the findings: -l that matched no
	// DaemonSet has audited nothing.
	if ee, ok := c.exitFor(rep).(*ExitError); ok && !ee.Silent {
		return rep, ee.Error()
	}
	return rep, ""
}

// printFleet renders the fleet report, then its --output-file copies.
func (o *runner) printFleet(fr *report.FleetReport) error {
	return o.printWith(fr.GeneratedAt, func(p *render.Printer, w *bufio.Writer, po render.Options) error {
		return p.PrintFleet(w, fr, po)
	})
}

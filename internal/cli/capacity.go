package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/daemoncheck/daemoncheck/internal/collect"
	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

var capacityExample = `  # What the daemons take of each node pool, and where they do not all fit
  kubectl daemoncheck capacity

  # Per node: daemons' requests against allocatable, headroom, who is left out
  kubectl daemoncheck capacity -o wide

  # Also count every other Pod (reads all Pods) for Pending daemon Pods' fit
  kubectl daemoncheck capacity --workloads

  # Offline, from a dump that includes PriorityClasses
  kubectl get ds,nodes,pods,controllerrevisions,priorityclasses -A -o yaml \
    > dump.yaml
  kubectl daemoncheck capacity -f dump.yaml`

// CapacityOptions are the flags of `kubectl daemoncheck capacity`.
type CapacityOptions struct {
	*deps
	sourceFlags
	gateFlags
	outputFlags
	runner
}

// NewCmdCapacity builds `kubectl daemoncheck capacity`: the daemons'
// overhead per node pool, with the input, policy and gate flags of every
// audit command.
func NewCmdCapacity(d *deps) *cobra.Command {
	o := &CapacityOptions{deps: d, sourceFlags: newSourceFlags(), gateFlags: newGateFlags(), outputFlags: newOutputFlags(), runner: runner{deps: d}}
	cmd := &cobra.Command{
		Use:   "capacity",
		Short: "Show the daemons' requests per node pool and which do not fit",
		Long: `Show, per node pool, what the DaemonSets that should run on its nodes request
(as the scheduler counts a Pod) against the nodes' allocatable, the node with
the least room left, and the nodes where the daemons alone do not all fit,
naming the daemon left out and why. -o wide shows every node; --workloads also
counts the other Pods.

Exit codes: 0 no finding about fit fails the gate (--fail-on), 1 one does, 3
nodes could not be read.`,
		Example: capacityExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("capacity takes no arguments, got %s; select DaemonSets with -l or -n", strings.Join(args, " "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(cmd); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	o.addSelectFlags(fs, "DaemonSets")
	o.addInputFlags(fs)
	o.addPolicyFlags(fs)
	o.addGateFlags(fs)
	o.addOutputFlag(cmd, " Wide: a row per node.", render.ViewCapacity)
	o.addTableFlags(fs)
	o.addOutputFileFlag(cmd, render.ViewCapacity)
	d.addVerbosityFlag(fs)
	d.addConnectionFlags(cmd)
	registerGateCompletion(cmd)
	hideUnusedFlags(fs)
	comp := completer(d, &o.sourceFlags)
	_ = cmd.RegisterFlagCompletionFunc("namespace", comp.Namespaces)
	_ = cmd.RegisterFlagCompletionFunc("require", comp.Require)
	return cmd
}

// Complete resolves the shared flags for the capacity view.
func (o *CapacityOptions) Complete(cmd *cobra.Command) error {
	if err := o.resolve(cmd, flagGroups{src: &o.sourceFlags, gate: &o.gateFlags, out: &o.outputFlags}, "", render.ViewCapacity); err != nil {
		return err
	}
	o.run.judge.capacityNodes = true
	return nil
}

// Run reads, analyses and prints the capacity view.
func (o *CapacityOptions) Run(ctx context.Context) error { return o.runView(ctx, o.project) }

// project is the part of the report the capacity view shows: the findings
// about fit (view.IsFit), with the summary, problems and verdict rebuilt
// from them, so that the exit code speaks of what the view shows.
func (o *CapacityOptions) project(rep *report.Report) (*report.Report, error) {
	if err := needNodes(rep, "capacity"); err != nil {
		return nil, err
	}
	return view.Project(rep, view.Projection{Fit: true})
}

// selection says how the DaemonSets read were narrowed, "" when all were.
func selection(r collect.Options) string {
	var parts []string
	switch {
	case r.Name != "":
		parts = append(parts, "DaemonSet "+strings.TrimPrefix(r.Namespace+"/", "/")+r.Name)
	case r.Namespace != "":
		parts = append(parts, "namespace "+r.Namespace)
	}
	if r.LabelSelector != "" {
		parts = append(parts, "selector "+r.LabelSelector)
	}
	return strings.Join(parts, ", ")
}

// needNodes fails a view of nodes (coverage, capacity) that has none: it
// would verify nothing, and must not pass a CI gate.
func needNodes(rep *report.Report, view string) error {
	if len(rep.Nodes) == 0 && rep.Partial {
		return inputErrorf("the %s view needs nodes, which could not be read: %s", view, strings.Join(rep.Warnings, "; "))
	}
	if len(rep.Nodes) == 0 {
		return inputErrorf("no nodes found: the %s view has nothing to show", view)
	}
	return nil
}

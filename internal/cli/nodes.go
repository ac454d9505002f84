package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/daemoncheck/daemoncheck/internal/render"
	"github.com/daemoncheck/daemoncheck/internal/view"
	"github.com/daemoncheck/daemoncheck/pkg/report"
)

var nodesExample = `  # Which daemons run on which node: nodes as rows, DaemonSets as columns
  kubectl daemoncheck nodes

  # Only the GPU pool and two agents, with the reason behind each gap
  kubectl daemoncheck nodes --node-selector accelerator=nvidia \
    --daemonsets security/falco,node-exporter -o wide

  # Only the DaemonSets labelled part-of=observability
  kubectl daemoncheck nodes -l app.kubernetes.io/part-of=observability

  # What runs on this node, and what should
  kubectl daemoncheck nodes worker-7`

// NodesOptions are the flags of `kubectl daemoncheck nodes`.
type NodesOptions struct {
	*deps
	sourceFlags
	gateFlags
	outputFlags
	NodeSelector string
	DaemonSets   []string
	Transpose    bool
	LabelColumns []string
	runner

	node      string
	nodeSel   labels.Selector
	nodesRead int
}

// NewCmdNodes builds `kubectl daemoncheck nodes [NODE]`: the coverage view.
// Its input, policy and gate flags are the groups every audit command has.
func NewCmdNodes(d *deps) *cobra.Command {
	o := &NodesOptions{deps: d, sourceFlags: newSourceFlags(), gateFlags: newGateFlags(), outputFlags: newOutputFlags(), runner: runner{deps: d}}
	comp := completer(d, &o.sourceFlags)
	cmd := &cobra.Command{
		Use:   "nodes [NODE]",
		Short: "Show which DaemonSets cover which nodes, and why not",
		Long: `Show the coverage matrix: a row per node, a column per DaemonSet. A cell says
Running (or the Pod's state), Pending, Missing, Misscheduled, Uncovered (a
coverage policy requires it, the controller does not target the node) or "-"
(not targeted); -o wide adds the reason to each "-". With a NODE: every
DaemonSet that does and does not cover it, and why.

-l selects DaemonSets (columns), --node-selector nodes (rows). No node left is
exit 3: a coverage audit that saw no node has verified nothing.`,
		Example: nodesExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("at most one NODE may be given, got %d", len(args))
			}
			return nil
		},
		ValidArgsFunction: comp.Nodes,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.node = args[0]
			}
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
	fs.StringVar(&o.NodeSelector, "node-selector", "", "Label selector of the nodes (rows), e.g. accelerator=nvidia.")
	fs.StringSliceVar(&o.DaemonSets, "daemonsets", nil, "DaemonSets to show (columns): NAME or NAMESPACE/NAME, comma-separated.")
	fs.BoolVar(&o.Transpose, "transpose", false, "DaemonSets as rows and nodes as columns.")
	fs.StringSliceVarP(&o.LabelColumns, "label-columns", "L", nil, "Node labels to show as columns, as kubectl get -L.")
	o.addSelectFlags(fs, "DaemonSets (columns)")
	o.addInputFlags(fs)
	o.addPolicyFlags(fs)
	o.addGateFlags(fs)
	o.addOutputFlag(cmd, "", render.ViewNodes, render.ViewNode)
	o.addTableFlags(fs)
	o.addOutputFileFlag(cmd, render.ViewNodes)
	d.addVerbosityFlag(fs)
	d.addConnectionFlags(cmd)
	registerGateCompletion(cmd)
	hideUnusedFlags(fs)
	_ = cmd.RegisterFlagCompletionFunc("namespace", comp.Namespaces)
	_ = cmd.RegisterFlagCompletionFunc("require", comp.Require)
	_ = cmd.RegisterFlagCompletionFunc("daemonsets", comp.DaemonSetList)
	return cmd
}

// Complete resolves the shared flags for the nodes view, then the node
// filters; Run projects the report onto them before it is printed.
func (o *NodesOptions) Complete(cmd *cobra.Command) error {
	view := render.ViewNodes
	if o.node != "" {
		view = render.ViewNode
	}
	if err := o.resolve(cmd, flagGroups{src: &o.sourceFlags, gate: &o.gateFlags, out: &o.outputFlags}, "", view); err != nil {
		return err
	}
	if o.NodeSelector != "" {
		sel, err := labels.Parse(o.NodeSelector)
		if err != nil {
			return usageErrorf("invalid --node-selector %q: %v", o.NodeSelector, err)
		}
		o.nodeSel = sel
	}
	if len(o.LabelColumns) > 0 && (o.Transpose || o.node != "") {
		return usageErrorf("-L/--label-columns adds columns to the node rows of the matrix; it cannot be used with --transpose or a NODE")
	}
	o.run.out.opts.Node, o.run.out.opts.Transpose, o.run.out.opts.LabelColumns = o.node, o.Transpose, o.LabelColumns
	return nil
}

// Run reads, analyses and prints the coverage view.
func (o *NodesOptions) Run(ctx context.Context) error { return o.runView(ctx, o.project) }

// project is the part of the report the nodes view shows: the chosen
// DaemonSets and nodes, the findings about them, and every finding about a
// shown DaemonSet as a whole (view.Project rebuilds the summary, the
// problems and the verdict from them).
func (o *NodesOptions) project(rep *report.Report) (*report.Report, error) {
	if err := needNodes(rep, "coverage"); err != nil {
		return nil, err
	}
	if len(rep.DaemonSets) == 0 && (o.Selector != "" || o.run.src.nsGiven) {
		// Before printing: a matrix without columns would look like an answer.
		return nil, o.exitFor(rep)
	}
	p := view.Projection{DaemonSets: o.DaemonSets, Node: o.node}
	if o.nodeSel != nil {
		p.NodeSelector = func(l map[string]string) bool { return o.nodeSel.Matches(labels.Set(l)) }
	}
	out, err := view.Project(rep, p)
	if err != nil {
		return nil, usageErrorf("--daemonsets: %v", err)
	}
	if p.Node == "" && p.NodeSelector == nil {
		return out, nil
	}
	o.nodesRead = len(rep.Nodes)
	if o.node != "" && len(out.Nodes) == 0 {
		if o.nodeSel != nil {
			return nil, inputErrorf("node %q not found (or not selected by --node-selector)", o.node)
		}
		return nil, inputErrorf("node %q not found", o.node)
	}
	if len(out.Nodes) == 0 {
		// Exit 3, not 0: an audit that saw no node verified nothing, and a
		// CI gate must not pass on it (a typo'd selector looks like this).
		return nil, &ExitError{Code: ExitInput, Err: fmt.Errorf("no nodes matched --node-selector %q (of %d nodes read)", o.NodeSelector, o.nodesRead)}
	}
	return out, nil
}
